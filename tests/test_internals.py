"""gan_lightning._internals: each private detail of Lightning, jsonargparse and torch that the package relies on,
checked against the installed versions, so that an upgrade that changes one fails here first."""

from fractions import Fraction

import pytest
import torch
from jsonargparse import ArgumentError
from lightning.pytorch import Callback

from gan_lightning import GAN, GANLightningError, MNISTDataModule, _internals, errors
from gan_lightning.cli import build_cli

from helpers import quiet_trainer, tiny_gan


def test_lightning_says_when_the_cli_gives_a_module_its_hyperparameters(fake_mnist, monkeypatch):
    import gan_lightning.models.gan as gan_module

    seen = []
    monkeypatch.setattr(gan_module, "hparams_given_by_cli",
                        lambda: seen.append(_internals.hparams_given_by_cli()) or seen[-1])
    cli = build_cli(["--data.data_dir", str(fake_mnist), "--model", "GAN", "--model.generator", "MLPGenerator",
                     "--model.discriminator", "MLPDiscriminator"], run=False)
    model = tiny_gan()
    assert seen == [True, False]  # LightningCLI's instantiation, then a module built in Python
    assert cli.model.hparams["generator"]["class_path"].endswith("MLPGenerator")  # configs, fit for checkpoints
    assert "generator" not in model.hparams  # objects are not hyperparameters outside the CLI


def test_lightning_says_on_which_batches_the_loggers_write(fake_mnist):
    class Record(Callback):
        def __init__(self):
            self.writes = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            self.writes.append(self.flag)

    record = Record()
    model = tiny_gan()
    original = model.training_step

    def step(batch, batch_idx):
        record.flag = _internals.logger_writes_this_batch(model.trainer)
        return original(batch, batch_idx)

    model.training_step = step
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=7, log_every_n_steps=3, callbacks=[record])
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert record.writes == [False, False, True, False, False, True, False]  # batches 3 and 6


def test_jsonargparse_errors_name_the_nested_key_and_reason(fake_mnist):
    with pytest.raises(GANLightningError) as info:
        build_cli(["--data.data_dir", str(fake_mnist), "--model", "GAN", "--model.generator", "MLPGenerator",
                   "--model.generator.init_args.hiden_dims", "[8]", "--model.discriminator", "MLPDiscriminator"],
                  run=False)
    jsonargparse_error = info.value.__cause__
    assert isinstance(jsonargparse_error, ArgumentError)
    chain, reason = _internals.nested_error(str(jsonargparse_error))
    assert chain == [("model", "gan_lightning.GAN"), ("generator", "gan_lightning.MLPGenerator")]
    assert reason == "Option 'hiden_dims' is not accepted" == _internals.deepest_cause(str(jsonargparse_error))


def test_argparse_lists_the_flags_of_a_subcommand():
    cli_flags = _internals.option_flags(build_parser_only(), "fit")
    assert {"--data.batch_size", "--trainer.max_epochs", "--quality.num_samples", "--ckpt_path"} <= set(cli_flags)


def build_parser_only():
    """The CLI's main parser, built as `gan-lightning --help` builds it."""
    from gan_lightning.cli import GANLightningCLI

    parsers = {}

    class Probe(GANLightningCLI):
        def parse_arguments(self, parser, args):
            parsers["main"] = parser
            raise SystemExit(0)

    with pytest.raises(SystemExit):
        Probe(GAN, MNISTDataModule, subclass_mode_model=True, auto_configure_optimizers=False, args=["fit"])
    return parsers["main"]


def test_torch_names_what_a_safe_load_refuses(tmp_path):
    torch.save({"x": Fraction(1, 3)}, tmp_path / "f.pt")
    with pytest.raises(Exception) as info:
        torch.load(tmp_path / "f.pt", weights_only=True)
    assert _internals.refused_by_safe_load(str(info.value)) == "Unsupported global: GLOBAL fractions.Fraction"
    assert _internals.refused_by_safe_load("some other error") is None


def test_the_csv_logger_keeps_its_writer_where_lightning_does(tmp_path):
    from gan_lightning.logs import CSVLogger, _ResumableWriter

    logger = CSVLogger(tmp_path / "runs", name="x")
    assert logger._experiment is None
    writer = logger.experiment
    assert isinstance(writer, _ResumableWriter) and logger.experiment is writer
    assert (tmp_path / "runs" / "x" / "version_0").is_dir()


def test_torch_folds_a_worker_exception_into_its_message(tmp_path):
    from torch.utils.data import DataLoader, Dataset

    class Broken(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            raise GANLightningError("x.png is not a readable image (truncated): remove it.")

    with pytest.raises(GANLightningError) as info:
        next(iter(DataLoader(Broken(), num_workers=1)))
    assert "Original Traceback" in str(info.value)  # what torch does
    assert errors.worker_error(str(info.value)) == "x.png is not a readable image (truncated): remove it."
    assert errors.worker_error("plain message") == "plain message"
