"""The callbacks in training: sample quality (logging, checkpointing on val/fid, one generation for every metric,
modes, DDP), sample grids."""

import time

import pytest
import torch
import torch.multiprocessing as mp
import torchmetrics
import yaml
from ddp_metrics_worker import scores
from lightning.pytorch import Callback
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from gan_lightning import ConditionalGAN, GANLightningError, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.callbacks import FID, ConditionalAccuracy, InceptionScore, SampleQuality
from gan_lightning.callbacks import quality as quality_module
from gan_lightning.callbacks.quality import DEFAULT_METRICS
from gan_lightning.metrics import get_backbone
from gan_lightning.metrics.features import generated_features
from gan_lightning.metrics.registry import get_metrics

from dist_helpers import free_port
from helpers import quiet_trainer, tiny_gan


def small(cls, tmp_path, **kwargs):
    defaults = dict(num_samples=200, batch_size=100, cache_dir=str(tmp_path / "cache"))
    if cls in (InceptionScore, ConditionalAccuracy):  # no reference images
        defaults.pop("cache_dir")
    return cls(**{**defaults, **kwargs})


def data(root) -> MNISTDataModule:
    return MNISTDataModule(str(root), batch_size=32, download=False)


class ModeSpy(Callback):
    """Records the modules' train/eval modes right after the metric callbacks' epoch end."""

    def __init__(self):
        self.seen = []

    def on_train_epoch_end(self, trainer, pl_module):
        self.seen.append((pl_module.training, pl_module.generator.training, pl_module.discriminator.training))


def test_val_fid_is_monitored_by_model_checkpoint_and_one_generation_serves_every_metric(mnist_300, tmp_path,
                                                                                        monkeypatch, capsys):
    calls = []
    real_generated = quality_module.generated_features
    monkeypatch.setattr(quality_module, "generated_features",
                        lambda *a, **k: calls.append(1) or real_generated(*a, **k))
    quality = small(SampleQuality, tmp_path, metrics=["fid", "kid", "is"], kid_subset_size=100)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val/fid", mode="min", save_top_k=1,
                                 save_last=True, filename="epoch={epoch}-fid={val/fid:.2f}",
                                 auto_insert_metric_name=False)
    spy = ModeSpy()
    trainer = quiet_trainer(max_epochs=3, limit_train_batches=2, enable_checkpointing=True,
                            callbacks=[checkpoint, quality, spy])
    torch.manual_seed(0)
    trainer.fit(tiny_gan(), data(mnist_300))

    assert len(calls) == 3  # one generation per epoch, shared by FID, KID and IS
    fids = [entry["val/fid"] for entry in quality.history]
    assert [entry["epoch"] for entry in quality.history] == [0, 1, 2] and len(set(fids)) == 3
    minutes = [entry["minutes"] for entry in quality.history]  # training time when each number was known
    assert 0 < minutes[0] <= minutes[1] <= minutes[2] < 5
    best = min(range(3), key=fids.__getitem__)
    assert checkpoint.best_model_score.item() == pytest.approx(fids[best])
    assert checkpoint.best_model_path.endswith(f"epoch={best}-fid={fids[best]:.2f}.ckpt")
    assert {"val/fid", "val/kid", "val/kid_std", "val/is", "val/is_std"} <= set(trainer.callback_metrics)
    assert 1.0 <= quality.history[-1]["val/is"] <= 10.0
    assert spy.seen == [(True, True, True)] * 3  # evaluation left the modules training
    out = capsys.readouterr().out
    assert ("SampleQuality (200 samples vs 300 mnist test images at 1x28x28, mnist backbone; live generator) "
            "epoch=2: val/fid") in out and f"best val/fid = {fids[best]:.4g} at epoch={best}" in out


def test_by_default_quality_scores_what_applies_to_the_model_and_backbone(mnist_300, tmp_path):
    def fitted(model):
        quality = small(SampleQuality, tmp_path)
        quiet_trainer(max_epochs=1, limit_train_batches=1, callbacks=[quality]).fit(model, data(mnist_300))
        return quality

    explained = ["val/precision", "val/recall", "val/density", "val/coverage", "val/modes", "val/class_kl"]
    assert fitted(tiny_gan()).keys == ["val/fid", "val/is", "val/is_std", *explained]
    conditional = ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=10),
                                 MLPDiscriminator(hidden_dims=(32,), n_classes=10))
    assert set(fitted(conditional).history[0]) == {"epoch", "minutes", "val/fid", "val/is", "val/is_std",
                                                   "val/cond_acc", *explained}
    without_logits = [m.name for m in get_metrics(DEFAULT_METRICS) if m.applies(has_logits=False, conditional=True)]
    assert without_logits == ["fid", "precision_recall", "density_coverage"]  # e.g. an inception-64 backbone
    with pytest.raises(GANLightningError, match="Unknown metrics \\['fidd'\\]: choose from fid, is, kid, cond_acc"):
        SampleQuality(metrics=["fidd"])


def test_the_protocol_is_logged_with_the_hyperparameters_and_kept_in_the_checkpoint(mnist_300, tmp_path, capsys):
    from lightning.pytorch.loggers import CSVLogger

    quality = small(SampleQuality, tmp_path, truncation=0.8)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt")
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, callbacks=[quality, checkpoint],
                            logger=CSVLogger(tmp_path, name="run"))
    trainer.fit(tiny_gan(), data(mnist_300))
    logged = yaml.safe_load((tmp_path / "run" / "version_0" / "hparams.yaml").read_text())
    protocol = {key.removeprefix("SampleQuality/"): value for key, value in logged.items()
                if key.startswith("SampleQuality/")}
    backbone = get_backbone("mnist")
    assert protocol == {"backbone": "mnist", "backbone_hash": backbone.weights_hash[:16], "resize": backbone.resize,
                        "num_generated": 200, "num_real": 300, "real_split": "mnist test", "resolution": "1x28x28",
                        "sampling": "live generator, truncation 0.8, noise seed 0", "torch": str(torch.__version__),
                        "torchmetrics": torchmetrics.__version__}
    assert "latent_dim" in logged  # beside the model's own hyperparameters
    assert f"SampleQuality: fid, is, precision_recall, density_coverage, modes of 200 samples (live generator, " \
           f"truncation 0.8, noise seed 0) vs 300 mnist test images at 1x28x28, mnist backbone " \
           f"{backbone.weights_hash[:8]}" in capsys.readouterr().out
    saved = torch.load(next((tmp_path / "ckpt").glob("*.ckpt")), weights_only=True)  # plain types only
    assert next(v for k, v in saved["callbacks"].items() if k.startswith("SampleQuality"))["protocol"] == protocol


def test_early_stopping_on_val_fid(mnist_300, tmp_path):
    stop = EarlyStopping(monitor="val/fid", mode="min", patience=0, min_delta=1e9)  # nothing counts as better
    trainer = quiet_trainer(max_epochs=5, limit_train_batches=1, callbacks=[small(FID, tmp_path), stop])
    trainer.fit(tiny_gan(), data(mnist_300))
    assert trainer.current_epoch == 2 and stop.stopped_epoch == 1


def test_evaluation_restores_train_and_eval_modes(mnist_300, tmp_path):
    fid = small(FID, tmp_path)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, callbacks=[fid])
    model = tiny_gan()
    trainer.fit(model, data(mnist_300))
    seen = []
    model.generator.register_forward_hook(lambda module, args, out: seen.append(module.training))
    model.train()
    model.discriminator.eval()  # a mixed state must come back exactly
    value = fid.evaluate(trainer, model)["val/fid"]
    assert seen and not any(seen)  # sampled in eval mode
    assert model.training and model.generator.training and not model.discriminator.training
    model.eval()
    assert fid.evaluate(trainer, model)["val/fid"] == pytest.approx(value)  # same noise, same number
    assert not any(m.training for m in model.modules())


def test_conditional_accuracy_uses_the_asked_labels(mnist_300, tmp_path):
    torch.manual_seed(0)
    model = ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=10),
                           MLPDiscriminator(hidden_dims=(32,), n_classes=10))
    accuracy = small(ConditionalAccuracy, tmp_path, num_samples=100)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, callbacks=[accuracy])
    trainer.fit(model, data(mnist_300))
    logged = trainer.callback_metrics["val/cond_acc"].item()
    # The same numbers by hand: the classifier's argmax on the sampled images against their labels.
    generated = generated_features(model, get_backbone("mnist"), 100, seed=0)
    assert torch.bincount(generated.labels, minlength=10).min() > 0  # labels from the data's distribution
    assert logged == pytest.approx((generated.logits.argmax(1) == generated.labels).float().mean().item())


def test_conditional_accuracy_needs_a_conditional_model(mnist_300, tmp_path):
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, callbacks=[small(ConditionalAccuracy, tmp_path)])
    with pytest.raises(GANLightningError, match="ConditionalAccuracy: cond_acc needs a conditional model"):
        trainer.fit(tiny_gan(), data(mnist_300))


def test_bad_settings_fail_before_training_in_one_sentence(mnist_300, tmp_path):
    with pytest.raises(GANLightningError, match="Unknown backbone 'vgg'"):
        FID(backbone="vgg")
    with pytest.raises(GANLightningError, match="num_samples=0 must be at least 1"):
        FID(num_samples=0)
    trainer = quiet_trainer(max_epochs=1, callbacks=[small(FID, tmp_path, num_samples=100)])
    model = tiny_gan()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(GANLightningError, match="needs more than 128 images on each side") as info:
        trainer.fit(model, data(mnist_300))
    assert "\n" not in str(info.value)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # failed before any step


def test_metrics_are_skipped_under_fast_dev_run(fake_mnist, tmp_path):
    fid = small(FID, tmp_path)  # fake_mnist has 100 test images: FID could not even run
    trainer = quiet_trainer(fast_dev_run=1, callbacks=[fid])
    trainer.fit(tiny_gan(), data(fake_mnist))
    assert fid.history == [] and "val/fid" not in trainer.callback_metrics


def test_a_resumed_run_counts_its_minutes_on_from_the_last_evaluation(tmp_path):
    fid = small(FID, tmp_path)
    fid.load_state_dict({"history": [{"epoch": 4, "minutes": 7.5, "val/fid": 3.0}]})
    fid.on_train_start(None, None)
    assert (time.monotonic() - fid._started) / 60 == pytest.approx(7.5, abs=0.01)


def test_history_is_saved_in_checkpoints(mnist_300, tmp_path):
    fid = small(FID, tmp_path)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, enable_checkpointing=True,
                            default_root_dir=tmp_path, callbacks=[fid])
    trainer.fit(tiny_gan(), data(mnist_300))
    ckpt = torch.load(next(tmp_path.rglob("*.ckpt")), weights_only=False)
    assert ckpt["callbacks"][fid.state_key]["history"] == fid.history


@pytest.mark.ddp
def test_two_process_ddp_gives_the_single_process_scores(mnist_300, tmp_path):
    torch.manual_seed(0)
    model = tiny_gan()
    real, _ = data(mnist_300).split("test")
    fake = torch.randint(0, 256, (250, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    inputs = tmp_path / "inputs.pt"
    torch.save({"model": model.state_dict(), "real": real, "fake": fake, "cache_dir": str(tmp_path / "cache")}, inputs)
    single = scores(model, real, fake, str(tmp_path / "cache"))

    import ddp_metrics_worker

    # fork: the workers inherit the imported modules instead of importing torch and Lightning again (seconds).
    mp.start_processes(ddp_metrics_worker.run, args=(2, free_port(), str(inputs), str(tmp_path / "ddp.pt")),
                       nprocs=2, start_method="fork")
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=False)
    assert ddp["fid"] == pytest.approx(single["fid"], rel=1e-9)
    assert ddp["fid_generated"] == pytest.approx(single["fid_generated"], rel=1e-6)
    # Contiguous shards gathered in rank order give back the same set, and the splits are seeded.
    assert ddp["is"] == pytest.approx(single["is"], rel=1e-9)
    assert ddp["kid"] == pytest.approx(single["kid"], rel=1e-9)


def test_the_sample_grid_says_which_generator_drew_it(fake_mnist, tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    import gan_lightning.callbacks.sample_grid as sample_grid
    from gan_lightning import MNISTDataModule, SampleGrid
    from gan_lightning.sampling import captioned

    from helpers import quiet_trainer, tiny_gan

    captions = []
    monkeypatch.setattr(sample_grid, "captioned", lambda grid, text: captions.append(text) or captioned(grid, text))
    model, grid = tiny_gan(ema_decay=0.9), SampleGrid(num_samples=16, nrow=8)
    quiet_trainer(max_epochs=1, limit_train_batches=2, default_root_dir=tmp_path, callbacks=[grid]).fit(
        model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    image = np.asarray(Image.open(tmp_path / "samples" / "epoch_001.png").convert("L"))
    width, height = 8 * 30 + 2, 2 * 30 + 2  # the grid of 2 rows of 8 images, below its caption
    assert image.shape[1] == width and image.shape[0] > height
    caption = image[: image.shape[0] - height]
    assert caption.min() < 100 and caption.mean() > 200  # dark text on white
    assert captions == ["epoch 0, 0 generator steps: EMA generator", "epoch 1, 2 generator steps: EMA generator"]


def test_the_cost_of_one_evaluation_is_printed_with_how_to_turn_metrics_off(mnist_300, tmp_path, capsys):
    from gan_lightning import MNISTDataModule, SampleQuality

    from helpers import quiet_trainer, tiny_gan

    quality = SampleQuality(metrics=["fid"], num_samples=200, batch_size=100, cache_dir=str(tmp_path))
    quiet_trainer(max_epochs=1, limit_train_batches=1, callbacks=[quality]).fit(
        tiny_gan(), MNISTDataModule(mnist_300, batch_size=16, download=False))
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "one evaluation draws" in line)
    assert "200 samples through the mnist backbone" in line and "images/s here): about" in line
    assert "--quality.metrics [] turns the metrics off" in line and quality._cost > 0


def test_without_every_n_epochs_evaluations_keep_to_a_fifth_of_the_time(monkeypatch):
    import types

    import gan_lightning.callbacks.quality as quality_module
    from gan_lightning import SampleQuality

    now = [1000.0]
    monkeypatch.setattr(quality_module.time, "monotonic", lambda: now[0])
    quality = SampleQuality(every_n_epochs=None)
    quality._cost, quality._trained_since = 10.0, 1000.0
    strategy = types.SimpleNamespace(broadcast=lambda value, src=0: value)
    trainer = types.SimpleNamespace(current_epoch=0, max_epochs=100, strategy=strategy)
    now[0] = 1039.0  # 39 s of training since: less than 4 x 10 s
    assert not quality._due(trainer)
    now[0] = 1040.0
    assert quality._due(trainer)
    now[0], trainer.current_epoch = 1001.0, 99  # the last epoch is always scored
    assert quality._due(trainer)
    assert [SampleQuality(every_n_epochs=3)._due(types.SimpleNamespace(current_epoch=e)) for e in range(6)] == [
        False, False, True, False, False, True]


def test_quality_metrics_empty_trains_without_scoring(fake_mnist, tmp_path, capsys):
    from gan_lightning.cli import main

    from conftest import ROOT

    main(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(fake_mnist),
          "--data.download", "false", "--quality.metrics", "[]", "--trainer.max_epochs", "1",
          "--trainer.limit_train_batches", "2", "--trainer.log_every_n_steps", "1",
          "--trainer.logger.init_args.save_dir", str(tmp_path),
          "--trainer.enable_progress_bar", "false"])
    assert "SampleQuality" not in capsys.readouterr().out
    header = (tmp_path / "gan" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    assert "train/d_loss" in header and "val/" not in header


def test_short_epochs_get_a_grid_every_min_seconds_and_at_the_end(fake_mnist, tmp_path, monkeypatch):
    import gan_lightning.callbacks.sample_grid as sample_grid
    from gan_lightning import MNISTDataModule, SampleGrid
    from gan_lightning.errors import GANLightningError

    from helpers import quiet_trainer, tiny_gan

    clock = iter(range(0, 10_000, 2))  # every reading of the clock is 2 s later: epochs of about 2 s
    monkeypatch.setattr(sample_grid.time, "monotonic", lambda: next(clock))
    grid = SampleGrid(num_samples=8, min_seconds=5)
    quiet_trainer(max_epochs=7, limit_train_batches=1, default_root_dir=tmp_path, callbacks=[grid]).fit(
        tiny_gan(), MNISTDataModule(fake_mnist, batch_size=8, download=False))
    written = sorted(int(p.stem.split("_")[1]) for p in (tmp_path / "samples").glob("*.png"))
    assert written == [0, 3, 6, 7]  # 0 at the start; 6 s after it at the end of epoch 3, again at 6; 7: the last
    with pytest.raises(GANLightningError, match="min_seconds=-1 must be at least 0"):
        SampleGrid(min_seconds=-1)
