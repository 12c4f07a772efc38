"""k-nearest-neighbour metrics in feature space: improved precision and recall (Kynkaanniemi et al. 2019, k = 3) and
density and coverage (Naeem et al. 2020, k = 5), and the class shares of a generator (modes).

Each real image's feature is the centre of a ball reaching its k-th nearest real neighbour (the real "manifold");
likewise for the generated ones.

- **precision**: the share of generated images inside some real ball (how many samples look real);
- **recall**: the share of real images inside some generated ball (how much of the data the generator covers);
- **density**: how many real balls hold a generated image, on average, divided by k (about 1 for real data;
  above 1 where samples crowd into dense regions);
- **coverage**: the share of real images whose ball holds a generated image (robust to outlying samples).

Precision and recall count a point on a ball's edge as inside (``<=``), as torch-fidelity does; density and coverage
count it as outside (``<``), as the authors' ``prdc`` package does (the tests check both against them). The balls of
the reference set depend on it alone, so their radii are computed once and cached with its features.
:func:`neighbour_scores` gives all four from one pass over the real-by-generated distances, a chunk of rows at a time
(compared squared, computed by a matrix product as ``torch.cdist`` does), so that each chunk is reduced while it is
near the CPU's cache: 10k x 10k distances never exist at once.

    >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    >>> precision_recall(real, real + 10, k=1)
    (0.0, 0.0)
"""

from collections.abc import Sequence
from typing import Optional

import torch
from torch import Tensor

CHUNK = 128  # rows of a distance matrix computed and reduced at once (128 x 10k floats: 5 MB, near the CPU's cache)


def _squared_distances(a: Tensor, b: Tensor, b_norms: Tensor) -> Tensor:
    """(len(a), len(b)) squared Euclidean distances by one matrix product, as ``torch.cdist`` computes them."""
    out = torch.addmm(b_norms[None, :], a, b.T, alpha=-2)
    return out.add_(a.square().sum(1, keepdim=True)).clamp_min_(0)


def squared_knn_radii(features: Tensor, k: int) -> Tensor:
    """Squared distance of each point to its ``k``-th nearest neighbour in the same set (itself not counted)."""
    return squared_knn_radii_of(features, (k,))[k]


def squared_knn_radii_of(features: Tensor, ks: Sequence[int]) -> dict[int, Tensor]:
    """:func:`squared_knn_radii` for each k of ``ks``, from one pass over the distances."""
    most = max(ks)
    if len(features) <= most:
        raise ValueError(f"k={most} nearest neighbours need more than {most} points, got {len(features)}")
    norms = features.square().sum(1)
    nearest = torch.cat([_squared_distances(chunk, features, norms).topk(most + 1, dim=1, largest=False).values
                         for chunk in features.split(CHUNK)])  # the 0 to itself comes first
    return {k: nearest[:, k].contiguous() for k in ks}


def knn_radii(features: Tensor, k: int) -> Tensor:
    """Distance of each point to its ``k``-th nearest neighbour in the same set (itself not counted)."""
    return squared_knn_radii(features, k).sqrt()


def neighbour_scores(real: Tensor, fake: Tensor, pr_k: Optional[int] = 3, dc_k: Optional[int] = 5,
                     real_radii: Optional[dict[int, Tensor]] = None) -> dict[str, float]:
    """Precision and recall (``pr_k`` neighbours) and density and coverage (``dc_k``) of ``fake`` against ``real``
    features (N, d), from one pass over their distances; a k of None leaves its pair out. ``real_radii`` maps k to
    ``squared_knn_radii(real, k)`` when known (they depend on the reference alone)."""
    radii = dict(real_radii or {})
    missing = [k for k in (pr_k, dc_k) if k is not None and k not in radii]
    if missing:
        radii.update(squared_knn_radii_of(real, missing))
    fake_radii = None if pr_k is None else squared_knn_radii(fake, pr_k)
    # The squared distance |r|^2 + |f|^2 - 2 r.f is compared with radii without ever being formed: |f|^2 - 2 r.f
    # comes out of the matrix product and |r|^2 moves to the other side of each comparison.
    fake_norms, real_norms = fake.square().sum(1), real.square().sum(1)
    fake_inside = torch.zeros(len(fake), dtype=torch.bool, device=fake.device)
    real_inside = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    balls = torch.zeros(len(fake), dtype=torch.long, device=fake.device)
    covered = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for start in range(0, len(real), CHUNK):
        rows = slice(start, start + CHUNK)
        partial = torch.addmm(fake_norms[None, :], real[rows], fake.T, alpha=-2)  # distance^2 - |r|^2
        if pr_k is not None:
            fake_inside |= (partial + (real_norms[rows] - radii[pr_k][rows])[:, None]).amin(dim=0) <= 0
            real_inside[rows] = (partial - fake_radii[None, :]).amin(dim=1) <= -real_norms[rows]
        if dc_k is not None:
            limit = radii[dc_k][rows] - real_norms[rows]
            balls += (partial < limit[:, None]).view(torch.uint8).sum(dim=0, dtype=torch.int32)
            covered[rows] = partial.amin(dim=1) < limit
    scores = {}
    if pr_k is not None:
        scores.update(precision=fake_inside.double().mean().item(), recall=real_inside.double().mean().item())
    if dc_k is not None:
        scores.update(density=(balls.double().mean() / dc_k).item(), coverage=covered.double().mean().item())
    return scores


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of ``fake`` against ``real`` features (N, d)."""
    scores = neighbour_scores(real, fake, pr_k=k, dc_k=None)
    return scores["precision"], scores["recall"]


def density_coverage(real: Tensor, fake: Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage of ``fake`` against ``real`` features (N, d)."""
    scores = neighbour_scores(real, fake, pr_k=None, dc_k=k)
    return scores["density"], scores["coverage"]


def class_shares(logits: Tensor, num_classes: int) -> Tensor:
    """The share of each class among images, by the classifier's most likely class: (num_classes,) summing to 1."""
    return torch.bincount(logits.argmax(dim=1), minlength=num_classes).double() / len(logits)


def mode_scores(fake_logits: Tensor, real_logits: Tensor, covered_at: float = 0.1) -> dict[str, float]:
    """``modes``: the classes drawn at least ``covered_at`` times as often as in the real data; ``class_kl``: the
    KL divergence KL(generated shares || real shares) in nats (0 when the generator draws each class as often as the
    data has it; finite when it drops a class, large when it draws classes the data hardly has). Classes are the
    backbone classifier's verdicts on both sides, so its mistakes count alike."""
    num_classes = real_logits.shape[1]
    fake_shares, real_shares = class_shares(fake_logits, num_classes), class_shares(real_logits, num_classes)
    present = fake_shares > 0
    kl = (fake_shares[present] * (fake_shares[present] / real_shares[present].clamp_min(1e-12)).log()).sum()
    modes = ((fake_shares >= covered_at * real_shares) & (real_shares > 0)).sum()
    return {"modes": float(modes), "class_kl": float(kl)}
