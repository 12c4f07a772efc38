"""The adversarial objective: what D sees, which loss gets which logits, penalties with weights, lazy intervals and
ramps, and the models that train through it."""

import math

import pytest
import torch
from torch import nn

from gan_lightning import GANLightningError, MNISTDataModule
from gan_lightning.objective import AdversarialObjective, Penalty, Ramp
from gan_lightning.objective.losses import LOSSES
from gan_lightning.objective.penalties import as_penalties

from helpers import quiet_trainer, tiny_gan


class LinearCritic(nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere, so R1 = R2 = ||w||^2."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)
        self.calls: list[torch.Tensor] = []

    def forward(self, x, labels=None):
        self.calls.append(x.detach())
        return (x.flatten(1) * self.w).sum(1) + 0.3, None


class Shift(nn.Module):
    """A view that adds a constant to every image, so that the test can tell viewed images from raw ones."""

    def forward(self, x, step=0, rng=None):
        return x + 100.0

    def observe(self, real_logits, d_step):
        pass


def no_aux(*_):
    return None


def test_rpgan_pairs_each_real_image_with_the_fake_of_its_index():
    real, fake = torch.tensor([2.0, -0.5, 1.0]), torch.tensor([-1.0, 0.3, 1.5])
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    d = sum(softplus(-(r - f)) for r, f in zip(real.tolist(), fake.tolist())) / 3
    g = sum(softplus(-(f - r)) for r, f in zip(real.tolist(), fake.tolist())) / 3
    assert LOSSES["rpgan"].d(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert LOSSES["rpgan"].g(real, fake).item() == pytest.approx(g, rel=1e-6)
    assert LOSSES["rpgan"].relativistic and not LOSSES["hinge"].relativistic
    # pairs, not all pairs: reversing the fakes changes the loss
    assert LOSSES["rpgan"].d(real, fake.flip(0)).item() != pytest.approx(d, rel=1e-3)


def test_every_image_d_sees_passes_through_the_view_in_both_phases_and_penalties_see_the_view():
    critic = LinearCritic(torch.tensor([1.0, 2.0, 2.0, 0.0]))
    objective = AdversarialObjective("rpgan", [Penalty("r1", 1.0), Penalty("r2", 1.0), Penalty("gp", 1.0),
                                               Penalty("drift", 1.0)], view=Shift())
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    phase = objective.discriminator_phase(critic, real, fake, None, no_aux, step=0, d_step=0)
    loss = objective.generator_phase(critic, fake.requires_grad_(), real, None, no_aux)
    assert len(critic.calls) >= 6 and all(x.min() > 50 for x in critic.calls)  # D never saw a raw image
    assert set(phase.penalties) == {"r1", "r2", "gp", "drift"}
    assert phase.penalties["r1"].item() == pytest.approx(9.0) and phase.penalties["r2"].item() == pytest.approx(9.0)
    shifted = (real + 100).flatten(1) @ critic.w.detach() + 0.3
    assert phase.penalties["drift"].item() == pytest.approx(shifted.pow(2).mean().item(), rel=1e-5)
    loss.backward()
    assert critic.w.grad is None or critic.w.grad.abs().sum() > 0  # the generator phase backpropagates to G's images
    assert fake.grad is not None


def test_the_generator_phase_asks_d_about_real_images_only_for_a_relativistic_loss():
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    for loss, forwards in (("hinge", 1), ("rpgan", 2)):
        critic = LinearCritic(torch.ones(4))
        AdversarialObjective(loss).generator_phase(critic, fake, real, None, no_aux).backward()
        assert len(critic.calls) == forwards
        assert critic.w.grad.abs().sum() > 0


def test_penalty_weights_factors_and_lazy_intervals():
    critic = LinearCritic(torch.tensor([3.0, 4.0, 0.0, 0.0]))  # ||w||^2 = 25
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    plain = AdversarialObjective("wasserstein").discriminator_phase(critic, real, fake, None, no_aux, 0, 0).loss
    r1 = AdversarialObjective("wasserstein", [Penalty("r1", 2.0, every=4)])
    added = []
    for d_step in range(8):
        phase = r1.discriminator_phase(critic, real, fake, None, no_aux, step=0, d_step=d_step)
        added.append((phase.loss - plain).item())
        assert set(phase.penalties) == ({"r1"} if d_step % 4 == 0 else set())
    # gamma / 2 * 25, times 4 on the steps where the lazy penalty runs: the same weight on average
    assert added == pytest.approx([100.0, 0, 0, 0, 100.0, 0, 0, 0])


def test_a_ramped_weight_follows_its_cosine_over_generator_steps():
    critic = LinearCritic(torch.tensor([3.0, 4.0, 0.0, 0.0]))
    objective = AdversarialObjective("wasserstein", [Penalty("r1", Ramp(start=2.0, end=0.2, steps=100))])
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    base = AdversarialObjective("wasserstein").discriminator_phase(critic, real, fake, None, no_aux, 0, 0).loss
    added = [(objective.discriminator_phase(critic, real, fake, None, no_aux, step, step).loss - base).item()
             for step in (0, 50, 100, 1000)]
    assert added == pytest.approx([25.0, 12.5 * 1.1, 2.5, 2.5])
    assert Ramp(0.9, 0.99, 10).at(5) == pytest.approx(0.945)


@pytest.mark.parametrize(("entry", "match"), [
    ({"name": "r3", "weight": 1.0}, "Unknown penalty 'r3' in penalties: choose one of r1, r2, gp, drift"),
    ({"name": "r1", "weight": -1.0}, "weight must be >= 0"),
    ({"name": "r1", "weight": 1.0, "every": 0}, "every=0 must be at least 1"),
    ({"name": "r1", "weight": {"start": 1.0, "end": 0.1, "steps": 0}}, "steps=0 must be at least 1"),
    ({"name": "r1", "gamma": 1.0}, "A penalty is {name, weight, every}"),
])
def test_bad_penalties_are_one_sentence(entry, match):
    with pytest.raises(GANLightningError, match=match):
        as_penalties([entry])


def test_a_penalty_twice_and_per_image_penalties_with_batch_norm_are_refused():
    from gan_lightning import GAN, DCGANDiscriminator, DCGANGenerator

    with pytest.raises(GANLightningError, match="each penalty at most once"):
        tiny_gan(penalties=[{"name": "r1", "weight": 1.0}, {"name": "r1", "weight": 2.0}])
    with pytest.raises(GANLightningError, match="r1 and r2 penalties are per image and batch norm mixes"):
        GAN(DCGANGenerator(base_channels=8), DCGANDiscriminator(base_channels=8, batch_norm=True),
            penalties=[Penalty("r1", 1.0), Penalty("r2", 1.0)])


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_rpgan_with_r1_and_r2_trains_and_logs_each_term(fake_mnist, precision):
    model = tiny_gan(loss="rpgan", penalties=[Penalty("r1", 0.5), Penalty("r2", 0.5, every=2)])
    # D's last bias cancels in D(real) - D(fake): a relativistic loss gives it no gradient (its weights do)
    weights = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    before = [p.detach().clone() for p in weights]
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, precision=precision, log_every_n_steps=1)
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    logged = trainer.logged_metrics
    assert {"train/r1", "train/r2", "train/d_loss", "train/g_loss"} <= set(logged)
    assert all(torch.isfinite(logged[key]) for key in ("train/r1", "train/r2", "train/d_loss", "train/g_loss"))
    assert all(not torch.equal(p, q) for p, q in zip(weights, before))


def test_lr_and_beta2_ramps_set_both_optimizers(fake_mnist):
    model = tiny_gan(lr_ramp={"start": 2e-4, "end": 5e-5, "steps": 4}, beta2_ramp=Ramp(0.9, 0.99, 4))
    quiet_trainer(max_epochs=1, limit_train_batches=3).fit(model, MNISTDataModule(fake_mnist, batch_size=16,
                                                                                  download=False))
    ramp_lr, ramp_b2 = Ramp(2e-4, 5e-5, 4), Ramp(0.9, 0.99, 4)
    for opt in model.optimizers():
        group = opt.optimizer.param_groups[0]
        assert group["lr"] == pytest.approx(ramp_lr.at(2)) and group["betas"][1] == pytest.approx(ramp_b2.at(2))
    with pytest.raises(GANLightningError, match="lr_ramp and a learning-rate scheduler"):
        from functools import partial

        tiny_gan(lr_ramp=ramp_lr, scheduler_g=partial(torch.optim.lr_scheduler.StepLR, step_size=1))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_penalties_differentiate_twice_in_float32_under_autocast(dtype):
    """Lightning's 16-mixed needs a GPU; the objective under float16 autocast is what it runs there."""
    from gan_lightning import R3GANDiscriminator

    d = R3GANDiscriminator(img_shape=(1, 8, 8), widths=[16, 16], blocks=1, group_channels=8)
    objective = AdversarialObjective("rpgan", [Penalty("r1", 0.05), Penalty("r2", 0.05)])
    real, fake = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8)
    with torch.autocast("cpu", dtype=dtype):
        phase = objective.discriminator_phase(d, real, fake, None, no_aux, step=0, d_step=0)
    assert phase.real_logits.dtype == dtype  # the adversarial loss in half precision ...
    assert all(value.dtype == torch.float32 and torch.isfinite(value) for value in phase.penalties.values())  # ...
    phase.loss.backward()  # ... the penalties in float32
    assert all(torch.isfinite(p.grad).all() for p in d.parameters() if p.grad is not None)
