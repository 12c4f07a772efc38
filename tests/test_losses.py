import math

import pytest
import torch
from torch import nn

from gan_lightning.errors import GANLightningError
from gan_lightning.losses import (
    LOSSES,
    bce_d_loss,
    get_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
)


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
    assert set(LOSSES) == {"bce", "minimax", "lsgan", "hinge", "wasserstein"}
