"""gan_lightning.metrics.neighbours: precision, recall, density, coverage and modes against the answers known by
construction, by hand, and from the reference implementations (torch-fidelity's precision and recall, the authors'
prdc package for density and coverage)."""

import math

import numpy as np
import pytest
import torch
from prdc import compute_prdc
from torch_fidelity.metric_prc import calculate_precision_recall_full

from gan_lightning.metrics import neighbours
from gan_lightning.metrics.neighbours import (
    density_coverage,
    knn_radii,
    mode_scores,
    neighbour_scores,
    precision_recall,
)


@pytest.fixture(autouse=True, params=["full", "bounds"])
def path(request, monkeypatch):
    """Every test twice: every pair computed, and pruned by the projected lower bounds (which sets of 2048 points
    and more take), with 4 directions so that the tests' 16- and 32-d points use them."""
    if request.param == "bounds":
        monkeypatch.setattr(neighbours, "PRUNE_FROM", 0)
        monkeypatch.setattr(neighbours, "PROJECTION", 4)
    return request.param


def points(n: int, d: int = 16, seed: int = 0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift


def test_identical_sets_score_one_and_disjoint_sets_zero():
    real = points(300)
    assert precision_recall(real, real.clone()) == (1.0, 1.0)
    density, coverage = density_coverage(real, real.clone())
    assert coverage == 1.0 and density >= 1.0  # each sample lies in its own ball and k others'
    far = points(300, seed=1, shift=100.0)
    assert precision_recall(real, far) == (0.0, 0.0) and density_coverage(real, far) == (0.0, 0.0)


def test_a_collapsed_generator_has_high_precision_and_low_recall():
    real = points(500)
    collapsed = real[:5].repeat(100, 1) + 1e-3 * points(500, seed=2)  # five real images, over and over
    precision, recall = precision_recall(real, collapsed)
    density, coverage = density_coverage(real, collapsed)
    assert precision == 1.0 and recall < 0.05 and coverage < 0.05


def test_by_hand_on_a_line():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])  # 1-NN radius 1 everywhere
    fake = torch.tensor([[0.5], [10.0]])  # one inside the real balls, one far away; 1-NN radius 9.5 each
    assert knn_radii(real, 1).tolist() == [1.0, 1.0, 1.0, 1.0]
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == 0.5  # 0.5 lies in the balls of 0 and 1; 10 in none
    assert recall == 1.0  # every real point is within 9.5 of 0.5
    density, coverage = density_coverage(real, fake, k=1)
    assert density == pytest.approx((2 + 0) / 2)  # the fakes lie in 2 and 0 real balls (strictly), over k = 1
    assert coverage == 0.5  # the balls of 0 and 1 hold a fake, those of 2 and 3 do not


def test_swapping_real_and_fake_swaps_precision_and_recall():
    real, fake = points(400), points(300, seed=3, shift=0.5)
    precision, recall = precision_recall(real, fake)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0 and precision != recall
    assert precision_recall(fake, real) == (recall, precision)


def test_precision_and_recall_equal_torch_fidelitys_both_ways():
    real, fake = points(600, d=32), points(500, d=32, seed=4, shift=0.3)
    for a, b in ((real, fake), (fake, real)):
        # torch-fidelity's convention: features_1 generated, features_2 real
        expected = calculate_precision_recall_full(b, a, neighborhood=3, batch_size=256)
        assert precision_recall(a, b, k=3) == pytest.approx(expected, abs=1e-6)  # its float32 means


def test_density_and_coverage_equal_the_authors_prdc_both_ways(capsys):
    real, fake = points(600, d=32), points(500, d=32, seed=5, shift=0.3)
    for a, b in ((real, fake), (fake, real)):
        expected = compute_prdc(a.numpy().astype(np.float32), b.numpy().astype(np.float32), nearest_k=5)
        density, coverage = density_coverage(a, b, k=5)
        assert density == pytest.approx(expected["density"], rel=1e-6)
        assert coverage == pytest.approx(expected["coverage"], abs=1e-9)
        assert precision_recall(a, b, k=5) == pytest.approx((expected["precision"], expected["recall"]), abs=1e-9)


def test_modes_count_the_classes_drawn_and_their_kl_to_the_data():
    real = torch.nn.functional.one_hot(torch.arange(1000) % 10, 10).float()  # ten equal classes
    assert mode_scores(real, real) == {"modes": 10.0, "class_kl": 0.0}
    one_class = torch.nn.functional.one_hot(torch.zeros(1000, dtype=torch.long), 10).float()
    collapsed = mode_scores(one_class, real)
    assert collapsed["modes"] == 1.0 and collapsed["class_kl"] == pytest.approx(math.log(10))
    nine = torch.nn.functional.one_hot(torch.arange(1000) % 9, 10).float()  # class 9 never drawn
    assert mode_scores(nine, real)["modes"] == 9.0


def clusters(n: int, seed: int, d: int = 64) -> torch.Tensor:
    """Ten tight clusters far apart, like a classifier's features of ten digits."""
    g = torch.Generator().manual_seed(seed)
    centres = 8 * torch.randn(10, d, generator=torch.Generator().manual_seed(0))
    return centres[torch.arange(n) % 10] + torch.randn(n, d, generator=g)


def test_the_bounds_skip_most_pairs_and_change_no_decision(path, monkeypatch):
    real, fake = clusters(3000, seed=1), clusters(2500, seed=2) * 1.05
    monkeypatch.setattr(neighbours, "PROJECTION", 16)
    if path == "full":
        monkeypatch.setattr(neighbours, "PRUNE_FROM", 10**9)
    products = []
    addmm = torch.addmm
    monkeypatch.setattr(torch, "addmm", lambda bias, a, b, **kw: products.append(a.shape[0] * b.shape[1]) or addmm(
        bias, a, b, **kw))
    radii = {k: neighbours.squared_knn_radii(real, k) for k in (3, 5)}
    fake_radii_pairs = len(fake) ** 2
    products.clear()
    scores = neighbour_scores(real, fake, real_radii=radii)
    pairs = sum(products) - fake_radii_pairs  # the real-by-fake products, after the fake radii's
    monkeypatch.setattr(neighbours, "PRUNE_FROM", 10**9)
    assert neighbour_scores(real, fake, real_radii=radii) == scores  # the same decisions as every pair computed
    assert 0 < min(scores.values()) and max(scores["precision"], scores["recall"], scores["coverage"]) < 1
    if path == "bounds":
        assert pairs < 0.3 * len(real) * len(fake)  # ten clusters: about a tenth of the pairs can count
    else:
        assert pairs == len(real) * len(fake)


def test_pruned_knn_radii_are_the_full_computations(monkeypatch):
    points_ = torch.cat([clusters(2500, seed=3), clusters(10, seed=4) * 3])  # a few outliers far from the rest
    monkeypatch.setattr(neighbours, "PROJECTION", 16)
    monkeypatch.setattr(neighbours, "PRUNE_FROM", 0)
    pruned = neighbours.squared_knn_radii_of(points_, (1, 3, 5))
    monkeypatch.setattr(neighbours, "PRUNE_FROM", 10**9)
    full = neighbours.squared_knn_radii_of(points_, (1, 3, 5))
    assert all(torch.equal(pruned[k], full[k]) for k in (1, 3, 5))
