"""D's augmentation: DiffAugment's operations with a fixed, ramped or adaptive probability p, applied to every image
D sees, differentiable, saved and restored with p, the same on every DDP process."""

import pytest
import torch

from gan_lightning import GANLightningError, MNISTDataModule
from gan_lightning.objective import Augment, Augmentation, Ramp
from gan_lightning.objective.augment import as_augmentation, color, cutout, translation

from dist_helpers import assert_ranks_agree, ddp_args, run_cli
from helpers import quiet_trainer, tiny_gan


def images(n: int = 8, side: int = 16) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("settings", [Augmentation(p=0.0), Augmentation(p=0.0, target=0.6),
                                      Augmentation(p=Ramp(0.0, 0.5, 100))])
def test_p_zero_leaves_the_images_bit_for_bit(settings):
    x = images()
    assert torch.equal(Augment(settings)(x, step=0, rng=torch.Generator().manual_seed(1)), x)


def test_each_operation_at_p_one():
    x, rng = images(), torch.Generator().manual_seed(1)
    changed = color(x, rng)
    assert not torch.allclose(changed, x) and changed.shape == x.shape
    # translation: a single bright pixel moves by at most 1/8 of the side, zeros come in from the border
    dot = torch.zeros(64, 1, 16, 16)
    dot[:, :, 8, 8] = 1.0
    moved = translation(dot, rng, 0.125)
    where = moved.flatten(1).argmax(dim=1)
    rows, cols = where // 16, where % 16
    assert moved.sum(dim=(1, 2, 3)).eq(1).all() and (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5  # each image its own shift
    # cutout: a square of half the side (less where it crosses the border) set to zero
    ones = torch.ones(64, 1, 16, 16)
    zeros = (cutout(ones, rng, 0.5) == 0).sum(dim=(1, 2, 3))
    assert zeros.max() == 64 and zeros.min() > 0


def test_augmentation_is_differentiable_and_reproducible():
    x = images().requires_grad_()
    augment = Augment(Augmentation())
    out = augment(x, rng=torch.Generator().manual_seed(3))
    out.pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # G's gradient passes through
    again = augment(x.detach(), rng=torch.Generator().manual_seed(3))
    assert torch.equal(out.detach(), again)


def test_ada_raises_p_while_d_is_sure_of_the_reals_and_lowers_it_otherwise():
    augment = Augment(Augmentation(p=0.0, target=0.6, speed=640, interval=4))
    for d_step in range(8):  # D says "real" to all 16 real images: r_t = 1 > 0.6
        augment.observe(torch.ones(16), d_step)
    assert augment.p.item() == pytest.approx(2 * 64 / 640)  # two adjustments of 64 images each
    for d_step in range(8, 16):  # r_t = -1 < 0.6
        augment.observe(-torch.ones(16), d_step)
    assert augment.p.item() == 0.0  # clamped at 0
    fixed = Augment(Augmentation(p=0.3))
    fixed.observe(torch.ones(16), 3)
    assert fixed.probability(0).item() == pytest.approx(0.3)
    assert Augment(Augmentation(p=Ramp(0.0, 0.5, 100))).probability(50).item() == pytest.approx(0.25)


def test_the_model_logs_p_and_a_checkpoint_restores_it(fake_mnist, tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    from gan_lightning.checkpoints import load_model

    model = tiny_gan(augment={"p": 0.5, "target": 0.6, "speed": 64, "interval": 1})  # p moves by 0.25 a step
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, log_every_n_steps=1,
                            callbacks=[ModelCheckpoint(dirpath=tmp_path, save_last=True)])
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    p = model.objective.view.p.item()
    assert p in (0.0, 0.25, 0.75, 1.0) and trainer.logged_metrics["train/aug_p"].item() == pytest.approx(p)
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=True)  # plain settings: a safe load reads them
    assert checkpoint["state_dict"]["objective.view.p"].item() == p
    from gan_lightning import GAN, MLPDiscriminator, MLPGenerator

    reloaded = GAN.load_from_checkpoint(tmp_path / "last.ckpt", generator=MLPGenerator(latent_dim=8, hidden_dims=(32,)),
                                        discriminator=MLPDiscriminator(hidden_dims=(32,)))
    assert reloaded.objective.view.p.item() == p
    assert load_model(tmp_path / "last.ckpt", generator=MLPGenerator(latent_dim=8, hidden_dims=(32,)),
                      discriminator=MLPDiscriminator(hidden_dims=(32,))).objective.view.p.item() == p


@pytest.mark.parametrize(("value", "match"), [
    ("daug", "Unknown augmentation 'daug': choose diffaugment, ada"),
    ({"policy": ["colour"]}, "choose any of color, translation, cutout"),
    ({"p": 1.5}, "p=1.5 must lie in \\[0, 1\\]"),
    ({"target": 1.0}, "target=1.0 must lie in \\(0, 1\\)"),
    ({"translation": 0.6}, "translation=0.6 must lie in \\[0, 0.5\\)"),
    ({"strength": 2}, "unexpected keyword argument 'strength'"),
])
def test_bad_settings_are_one_sentence(value, match):
    with pytest.raises(GANLightningError, match=match):
        as_augmentation(value)


def test_the_cli_takes_a_preset_name_and_refuses_bad_settings_in_one_line(fake_mnist, tmp_path, capsys):
    from gan_lightning.cli import build_cli, main

    from conftest import ROOT

    args = ["--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(fake_mnist),
            "--data.download", "false",
            "--quality.metrics", "[]", "--trainer.logger", "false"]
    cli = build_cli([*args, "--model.augment", "ada"], run=False)  # run=False: no subcommand
    assert cli.model.objective.view.settings.target == 0.6
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *args, "--model.augment", "{p: 2.0}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "augment p=2.0 must lie in [0, 1]" in err


@pytest.mark.slow
@pytest.mark.ddp
def test_two_processes_keep_the_same_adaptive_p(fake_mnist, tmp_path):
    settings = "{p: 0.0, target: 0.6, speed: 320, interval: 2}"
    done = run_cli(ddp_args(fake_mnist, "gan", "--model.augment", settings, "--trainer.devices", "2",
                            "--trainer.strategy", "ddp", "--quality.metrics", "[]"), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_ranks_agree(tmp_path / "weights", world=2)
    p = torch.load(tmp_path / "weights" / "rank0.pt")["objective.view.p"].item()
    assert p > 0  # it moved, the same on both ranks
