"""gan_lightning.metrics.neighbours: precision, recall, density, coverage and modes against the answers known by
construction, by hand, and from the reference implementations (torch-fidelity's precision and recall, the authors'
prdc package for density and coverage)."""

import math

import numpy as np
import pytest
import torch
from prdc import compute_prdc
from torch_fidelity.metric_prc import calculate_precision_recall_full

from gan_lightning.metrics.neighbours import density_coverage, knn_radii, mode_scores, precision_recall


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
