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

Most pairs are far apart and cannot count: their distance exceeds every radius it is compared with. When the sets
hold at least ``PRUNE_FROM`` points, distances along the top ``PROJECTION`` principal directions (an orthonormal
projection: never more than the true distance) are computed first, in one small product per chunk; a point is
computed in full for a chunk only when its bound could count for some row of it (with a margin far above float
rounding), so every decision is the one the full computation makes. On MNIST features (128-d, where 16 directions
hold 98% of the variance) about a tenth of the pairs are left, and the k-NN radii are pruned alike
(:func:`squared_knn_radii_of`). Wider features (Inception's 2048) take the full computation: the bounds were not
measured there.

    >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    >>> precision_recall(real, real + 10, k=1)
    (0.0, 0.0)
"""

from collections.abc import Sequence
from typing import Optional

import torch
from torch import Tensor

CHUNK = 128  # rows of a distance matrix computed and reduced at once (128 x 10k floats: 5 MB, near the CPU's cache)
PROJECTION = 16  # principal directions of the lower bounds
PRUNE_FROM = 2048  # fewest points (on each side) for which the bounds are used: below, every pair is computed
MARGIN = 1e-4  # of the squared norms: the bounds' allowance for float rounding, far above it
MAX_DIMS = 512  # widest features the bounds are used for
AROUND = 2  # chunks on each side whose distances bound a chunk's k-th nearest from above (5 chunks: fastest here)


class _Bounds:
    """Lower bounds of squared distances from the top principal directions of a reference set: the projection on
    orthonormal directions never lengthens a difference, ``|P(x - y)| <= |x - y|``. ``rows(x, offset)`` and
    ``columns(y)`` are augmented so that one product gives ``|P(x_i - y_j)|^2 - offset_i`` for a whole block."""

    def __init__(self, reference: Tensor) -> None:
        self.mean = reference.mean(0)
        centred = (reference - self.mean).double()
        directions = torch.linalg.eigh(centred.T @ centred).eigenvectors[:, -PROJECTION:].flip(1)
        self.directions = directions.to(reference.dtype)

    def project(self, features: Tensor) -> Tensor:
        return (features - self.mean) @ self.directions

    @staticmethod
    def rows(projected: Tensor, offset: Tensor) -> Tensor:
        norms = projected.square().sum(1, keepdim=True)
        return torch.cat([projected, norms - offset[:, None], torch.ones_like(norms)], dim=1)

    @staticmethod
    def columns(projected: Tensor) -> Tensor:
        norms = projected.square().sum(1, keepdim=True)
        return torch.cat([-2 * projected, torch.ones_like(norms), norms], dim=1)

    @staticmethod
    def usable(*sets: Tensor) -> bool:
        return all(len(s) >= PRUNE_FROM for s in sets) and 2 * PROJECTION < sets[0].shape[1] <= MAX_DIMS


def _margin(a_norms: Tensor, b_norms: Tensor) -> Tensor:
    return MARGIN * (a_norms.max() + b_norms.max())


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
    if not _Bounds.usable(features):
        nearest = torch.cat([_squared_distances(chunk, features, norms).topk(most + 1, dim=1, largest=False).values
                             for chunk in features.split(CHUNK)])  # the 0 to itself comes first
        return {k: nearest[:, k].contiguous() for k in ks}
    # Pruned: the points in order along the first principal direction, a chunk of rows at a time. The distances to
    # the points of the chunks around it bound each row's (k+1)-th smallest from above; only the points whose lower
    # bound is below that are computed in full, and they hold the k+1 nearest.
    bounds = _Bounds(features)
    order = bounds.project(features)[:, 0].argsort()
    features, norms = features[order], norms[order]
    projected = bounds.project(features)
    columns_bound = bounds.columns(projected)
    nearest = torch.empty(len(features), most + 1, dtype=features.dtype, device=features.device)
    for start in range(0, len(features), CHUNK):
        rows = slice(start, start + CHUNK)
        around = slice(max(0, start - AROUND * CHUNK), start + (AROUND + 1) * CHUNK)
        upper = _squared_distances(features[rows], features[around], norms[around]).topk(
            most + 1, dim=1, largest=False).values[:, -1]
        reach = upper + _margin(norms[rows], norms)
        below = (bounds.rows(projected[rows], reach) @ columns_bound.T).amin(dim=0) <= 0
        columns = below.nonzero().squeeze(1)
        nearest[rows] = _squared_distances(features[rows], features[columns], norms[columns]).topk(
            most + 1, dim=1, largest=False).values
    in_place = torch.empty_like(nearest)
    in_place[order] = nearest
    return {k: in_place[:, k].contiguous() for k in ks}


def knn_radii(features: Tensor, k: int) -> Tensor:
    """Distance of each point to its ``k``-th nearest neighbour in the same set (itself not counted)."""
    return squared_knn_radii(features, k).sqrt()


def neighbour_scores(real: Tensor, fake: Tensor, pr_k: Optional[int] = 3, dc_k: Optional[int] = 5,
                     real_radii: Optional[dict[int, Tensor]] = None) -> dict[str, float]:
    """Precision and recall (``pr_k`` neighbours) and density and coverage (``dc_k``) of ``fake`` against ``real``
    features (N, d), from one pass over their distances; a k of None leaves its pair out. ``real_radii`` maps k to
    ``squared_knn_radii(real, k)`` when known (they depend on the reference alone)."""
    radii = dict(real_radii or {})
    bounds = _Bounds(real) if _Bounds.usable(real, fake) else None
    missing = [k for k in (pr_k, dc_k) if k is not None and k not in radii]
    if missing:
        radii.update(squared_knn_radii_of(real, missing))
    fake_radii = None if pr_k is None else squared_knn_radii(fake, pr_k)
    # The squared distance |r|^2 + |f|^2 - 2 r.f is compared with radii without ever being formed: |f|^2 - 2 r.f
    # comes out of the matrix product and |r|^2 moves to the other side of each comparison.
    fake_norms, real_norms = fake.square().sum(1), real.square().sum(1)
    fake_inside = torch.zeros(len(fake), dtype=torch.bool, device=fake.device)
    real_inside = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    balls = torch.zeros(len(fake), dtype=torch.int32, device=fake.device)
    covered = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    if bounds is None:
        chunks = [slice(start, start + CHUNK) for start in range(0, len(real), CHUNK)]
    else:  # a pair can count only when its distance is within the real radius or the fake radius it is tested with
        real_projected = bounds.project(real)
        fake_columns = bounds.columns(bounds.project(fake))
        real_reach = torch.stack([radii[k] for k in (pr_k, dc_k) if k is not None]).amax(dim=0)
        fake_reach = torch.zeros_like(fake_norms) if fake_radii is None else fake_radii
        chunks = real_projected[:, 0].argsort().split(CHUNK)
    for rows in chunks:
        columns = None  # all of them
        if bounds is not None:
            # beyond[i, j] = bound_ij - real_reach_i - margin: a column counts for a row when beyond <= 0 (the real
            # ball) or bound_ij <= fake_reach_j + margin, which implies beyond_ij <= fake_reach_j - min real_reach
            margin = _margin(real_norms[rows], fake_norms)
            beyond = (bounds.rows(real_projected[rows], real_reach[rows] + margin) @ fake_columns.T).amin(dim=0)
            fake_limit = (fake_reach - real_reach[rows].min()).clamp_min(0)
            columns = (beyond <= fake_limit).nonzero().squeeze(1)
            if len(columns) == 0:
                continue  # no pair of these rows counts: every flag stays False, every count 0
        on = slice(None) if columns is None else columns
        partial = torch.addmm(fake_norms[on][None, :], real[rows], fake[on].T, alpha=-2)  # distance^2 - |r|^2
        if pr_k is not None:
            fake_inside[on] |= (partial + (real_norms[rows] - radii[pr_k][rows])[:, None]).amin(dim=0) <= 0
            real_inside[rows] = (partial - fake_radii[on][None, :]).amin(dim=1) <= -real_norms[rows]
        if dc_k is not None:
            limit = radii[dc_k][rows] - real_norms[rows]
            balls[on] += (partial < limit[:, None]).view(torch.uint8).sum(dim=0, dtype=torch.int32)
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


def mode_count_scores(fake_logits: Tensor) -> dict[str, float]:
    """``mode_count``: the classes drawn at least once; ``mode_kl``: KL(generated class shares || uniform) in nats, 0
    when every class is drawn equally often: Stacked MNIST's protocol (Metz et al. 2017; PacGAN, VEEGAN, R3GAN),
    1000 classes in the ``stacked_mnist`` backbone."""
    num_classes = fake_logits.shape[1]
    shares = class_shares(fake_logits, num_classes)
    present = shares > 0
    kl = (shares[present] * (shares[present] * num_classes).log()).sum()
    return {"mode_count": float(present.sum()), "mode_kl": float(kl)}
