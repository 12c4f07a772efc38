import math

import pytest
import torch
from torch import nn

from gan_lightning.errors import GANLightningError
from gan_lightning.objective.losses import LOSSES, bce_d_loss, get_loss, minimax_g_loss, nonsaturating_g_loss
from gan_lightning.objective.penalties import gradient_penalty, r1_penalty


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


REAL = torch.tensor([2.0, -0.5])
FAKE = torch.tensor([-1.0, 0.3])


def test_bce_discriminator_loss_by_hand():
    # real -> 1: -log(sigmoid(r)) = softplus(-r); fake -> 0: -log(1 - sigmoid(f)) = softplus(f); averaged
    expected = 0.5 * ((softplus(-2.0) + softplus(0.5)) / 2 + (softplus(-1.0) + softplus(0.3)) / 2)
    assert bce_d_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_bce_losses_equal_sigmoid_plus_bceloss():
    bce = nn.BCELoss()
    sig_r, sig_f = torch.sigmoid(REAL), torch.sigmoid(FAKE)
    tutorial_d = (bce(sig_r, torch.ones(2)) + bce(sig_f, torch.zeros(2))) / 2
    assert bce_d_loss(REAL, FAKE).item() == pytest.approx(tutorial_d.item(), rel=1e-6)
    assert nonsaturating_g_loss(FAKE).item() == pytest.approx(bce(sig_f, torch.ones(2)).item(), rel=1e-6)


def test_minimax_generator_loss_by_hand():
    # minimise log(1 - D(G(z))) = -softplus(f)
    expected = (math.log(1 - 1 / (1 + math.exp(1.0))) + math.log(1 - 1 / (1 + math.exp(-0.3)))) / 2
    assert minimax_g_loss(FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_bce_is_safe_on_huge_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(bce_d_loss(big, -big)) and torch.isfinite(nonsaturating_g_loss(big))


def test_unknown_loss_names_the_choices():
    with pytest.raises(GANLightningError, match="choose one of bce, minimax"):
        get_loss("bse")
    assert set(LOSSES) == {"bce", "minimax", "lsgan", "hinge", "wasserstein", "rpgan"}


def test_lsgan_hinge_and_wasserstein_by_hand():
    r, f = REAL.tolist(), FAKE.tolist()
    lsgan_d = 0.5 * (sum((x - 1) ** 2 for x in r) / 2 + sum(x**2 for x in f) / 2)
    hinge_d = sum(max(0.0, 1 - x) for x in r) / 2 + sum(max(0.0, 1 + x) for x in f) / 2
    assert LOSSES["lsgan"].d(REAL, FAKE).item() == pytest.approx(lsgan_d, rel=1e-6)
    assert LOSSES["lsgan"].g(None, FAKE).item() == pytest.approx(0.5 * sum((x - 1) ** 2 for x in f) / 2, rel=1e-6)
    assert LOSSES["hinge"].d(REAL, FAKE).item() == pytest.approx(hinge_d, rel=1e-6)
    assert LOSSES["hinge"].g(None, FAKE).item() == pytest.approx(-sum(f) / 2, rel=1e-6)
    assert LOSSES["wasserstein"].d(REAL, FAKE).item() == pytest.approx(sum(f) / 2 - sum(r) / 2, rel=1e-6)
    assert LOSSES["wasserstein"].g(None, FAKE).item() == pytest.approx(-sum(f) / 2, rel=1e-6)


class LinearCritic(nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere, so the penalties have closed forms."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, labels=None):
        return (x.flatten(1) * self.w).sum(1) + 0.3, None


def test_gradient_penalty_on_a_linear_critic():
    w = torch.tensor([3.0, 4.0, 0.0, 0.0])  # ||w|| = 5
    critic = LinearCritic(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    penalty = gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx((5.0 - 1.0) ** 2, rel=1e-6)
    penalty.backward()  # differentiable w.r.t. the critic: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(critic.w.grad, 2 * 4.0 * w / 5.0)


def test_r1_penalty_on_a_linear_critic():
    critic = LinearCritic(torch.tensor([1.0, 2.0, 2.0, 0.0]))  # ||w||^2 = 9
    assert r1_penalty(critic, torch.randn(5, 1, 2, 2)).item() == pytest.approx(9.0, rel=1e-6)


def test_penalties_are_fp32_under_autocast():
    critic = LinearCritic(torch.tensor([3.0, 4.0, 0.0, 0.0]))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = gradient_penalty(critic, torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    assert penalty.dtype == torch.float32 and penalty.item() == pytest.approx(16.0, rel=1e-6)
