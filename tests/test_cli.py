import inspect
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.callbacks import LossProgressBar
from gan_lightning.cli import build_cli, main

from conftest import CONFIGS, ROOT, data_args, make_fake_mnist, tiny_fit

GAN_CONFIG = str(ROOT / "configs" / "gan.yaml")


def fit_args(data_dir, *extra, config=GAN_CONFIG):
    return ["fit", "--config", config, "--data.data_dir", str(data_dir), "--data.download", "false", *extra]


def error_line(capsys, args) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gan-lightning: error: ")
    assert not any("Traceback" in line for line in err)
    return err[-1]


def test_fit_fast_dev_run_writes_nothing_into_the_working_folder(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(fit_args(fake_mnist, "--trainer.fast_dev_run", "2"))
    assert list(tmp_path.iterdir()) == []  # no grids in ./samples/, where `predict` writes by default


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_instantiates_and_trains(config, fake_mnist, pet_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli = build_cli(["fit", "--config", str(config), *data_args(config, fake_mnist, pet_folder),
                     "--trainer.fast_dev_run", "1"])
    assert isinstance(cli.model, GAN)
    assert cli.trainer.global_step == cli.model.hparams.n_critic + 1


def test_loss_progress_bar_redrawn_every_20_batches_unless_configured(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    def trainer(*extra):  # without running, LightningCLI takes no subcommand
        return build_cli(fit_args(fake_mnist, *extra)[1:], run=False).trainer

    default = trainer().progress_bar_callback
    assert isinstance(default, LossProgressBar) and default.refresh_rate == 20
    own = trainer("--trainer.callbacks+=TQDMProgressBar", "--trainer.callbacks.refresh_rate", "1")
    assert own.progress_bar_callback.refresh_rate == 1
    off = trainer("--trainer.enable_progress_bar", "false")
    assert off.progress_bar_callback is None


def test_debug_preset_stacks_on_a_recipe_and_logs_the_losses(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli = build_cli(fit_args(fake_mnist, "--config", str(ROOT / "configs" / "presets" / "debug.yaml"),
                             "--quality.num_samples", "200"))
    assert cli.trainer.current_epoch == 2 and cli.trainer.log_every_n_steps == 5
    rows = (tmp_path / "runs" / "gan" / "version_0" / "metrics.csv").read_text().splitlines()
    logged = [dict(zip(rows[0].split(","), row.split(","))) for row in rows[1:]]
    assert [r["step"] for r in logged if r["train/d_loss"]] == ["4", "9"]  # 5 batches of 64 per epoch


def test_checkpoint_reloads_in_a_plain_python_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mnist = make_fake_mnist(tmp_path / "mnist", n_test=300)  # FID on 128-d features needs > 128 test images
    cli = build_cli(fit_args(mnist, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
                             "--quality.num_samples", "200"))
    ckpt = tmp_path / "runs" / "gan" / "version_0" / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    torch.save(z, tmp_path / "z.pt")
    code = (
        "import torch; from gan_lightning import GAN;"
        f"m = GAN.load_from_checkpoint(r'{ckpt}');"
        f"torch.save(m.sample(4, z=torch.load(r'{tmp_path / 'z.pt'}')), r'{tmp_path / 'x.pt'}')"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    torch.testing.assert_close(torch.load(tmp_path / "x.pt"), cli.model.sample(4, z=z), rtol=0, atol=0)


def test_missing_data_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(tmp_path / "nowhere", "--trainer.fast_dev_run", "1"))
    assert "MNIST is not in" in line and "train-images-idx3-ubyte" in line


def test_wrong_img_shape_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1",
                                       "--model.generator.init_args.img_shape", "[1, 32, 32]"))
    assert "img_shape [1, 32, 32] disagrees with the data's 1x28x28 images" in line


def test_latent_size_mismatch_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.latent_dim", "64"))
    assert "latent_dim=64 does not match the generator's latent_dim=100" in line


def test_unknown_loss_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.loss", "bse"))
    assert "Unknown loss 'bse'" in line


def test_help_documents_every_flag(capsys):
    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        assert exit_info.value.code == 0
        return capsys.readouterr().out

    out = help_of("--help")
    assert "\n  gan-lightning fit --config gan --data.data_dir data" in out  # the example on its own line
    assert "--data.data_dir data" in out and "(default: data/) and downloaded there when missing" in out
    fit = help_of("fit", "--help")
    assert "--quality.num_samples" in fit and "--grid.num_samples" in fit and "../" not in fit
    # Subclasses declare their own arguments and forward the rest: every GAN argument is a flag of each model.
    gan_flags = {f"--model.{name}" for name in inspect.signature(GAN.__init__).parameters if name != "self"}
    for model in ("GAN", "ConditionalGAN", "InfoGAN", "ProgressiveGAN"):
        flags = set(re.findall(r"--model\.\w+", help_of("fit", "--model.help", model)))
        assert gan_flags <= flags, (model, gan_flags - flags)
    assert "Discriminator steps per generator step" in help_of("fit", "--model.help", "ConditionalGAN")
    assert "default: wasserstein" in help_of("fit", "--model.help", "ProgressiveGAN")  # its own default


@pytest.mark.parametrize("flag, says", [
    (["--model.n_criticc", "2"], "--model.n_criticc is not an option: did you mean --model.n_critic?"),
    (["--data.batchsize", "2"], "--data.batchsize is not an option: did you mean --data.batch_size?"),
    (["--model.generator.init_args.hiden_dims", "[8]"],
     "--model.generator.init_args.hiden_dims is not an option: did you mean --model.generator.init_args.hidden_dims?"),
    (["--model.n_critic", "two"], "--model.n_critic: Expected a <class 'int'>. Got value: two"),
], ids=["model", "data", "network", "type"])
def test_a_mistyped_flag_is_one_line_naming_the_nearest_one(flag, says, capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert error_line(capsys, fit_args(fake_mnist, *flag)) == f"gan-lightning: error: {says}"


def test_module_entry_point_in_a_fresh_process(fake_mnist, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gan_lightning", *fit_args(tmp_path / "nowhere", "--trainer.fast_dev_run", "1")],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("gan-lightning: error: MNIST is not in")
    assert "Traceback" not in result.stderr


CGAN_CONFIG = str(ROOT / "configs" / "cgan.yaml")


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--model.optimizer_g.init_args.lr", "-0.001"], "optimizer_g: Invalid learning rate: -0.001"),
        (["--data.batch_size", "-4"], "batch_size=-4 must be a positive number"),
        (["--model.n_critic", "0"], "n_critic=0 must be at least 1"),
    ],
    ids=["negative-lr", "negative-batch", "zero-n-critic"],
)
def test_bad_numbers_are_one_line(capsys, fake_mnist, tmp_path, monkeypatch, extra, expected):
    monkeypatch.chdir(tmp_path)
    assert expected in error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", *extra))


def test_class_count_mismatch_between_networks_and_module(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.num_classes", "5",
                                       config=CGAN_CONFIG))
    assert "n_classes=10 but the model has num_classes=5" in line


def test_class_count_mismatch_between_model_and_data(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.num_classes", "12",
                                       "--model.generator.init_args.n_classes", "12",
                                       "--model.discriminator.init_args.n_classes", "12", config=CGAN_CONFIG))
    assert "The data has 10 classes but the model has num_classes=12" in line


def test_gpu_request_without_gpu_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.accelerator", "gpu", "--trainer.devices", "2"))
    assert "asks for a GPU but none is visible" in line


def test_more_gpus_than_exist_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.accelerator", "gpu", "--trainer.devices", "4"))
    assert "--trainer.devices 4 asks for more GPUs than the 1 this machine has" in line


def test_conditional_model_on_data_without_labels(fake_mnist):
    from lightning.pytorch import LightningDataModule

    from gan_lightning import GANLightningError, MLPDiscriminator, MLPGenerator

    from helpers import quiet_trainer

    class ImagesOnly(LightningDataModule):
        def train_dataloader(self):
            return torch.utils.data.DataLoader(torch.rand(32, 1, 28, 28) * 2 - 1, batch_size=8)

    model = ConditionalGAN(MLPGenerator(hidden_dims=(16,), n_classes=10),
                           MLPDiscriminator(hidden_dims=(16,), n_classes=10))
    with pytest.raises(GANLightningError, match="needs \\(images, labels\\) batches but the data gives images only"):
        quiet_trainer(max_epochs=1, limit_train_batches=1).fit(model, ImagesOnly())


# ---------------------------------------------------------------------------------------------------------
# Where MNIST goes: data/ inside the checkout, downloaded when missing (the offline copy only through DATA or
# $GAN_LIGHTNING_MNIST, which .ci/run sets)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_recipe_reads_its_data_inside_the_checkout(config, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--config", str(config), "--print_config"])  # the whole configuration, nothing built
    data = yaml.safe_load(capsys.readouterr().out)["data"]
    if data["class_path"].endswith("ImageFolderDataModule"):
        assert data["init_args"]["data_dir"] == "data/images"  # in the checkout, where the README says
    else:
        assert data["init_args"]["data_dir"] == "data" and data["init_args"]["download"]


def test_make_train_and_test_use_data_in_the_checkout():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # What a user's shell holds: none of the CI's settings, nor a calling make's command-line variables.
    ci = ("DATA", "GAN_LIGHTNING_MNIST", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in ci}
    dry_run = subprocess.run(["make", "-n", "train", "test"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert dry_run.returncode == 0, dry_run.stderr
    assert "gan-lightning fit --config configs/gan.yaml --data.data_dir data " in dry_run.stdout
    assert f'GAN_LIGHTNING_MNIST="${{GAN_LIGHTNING_MNIST:-{ROOT / "data"}}}"' in dry_run.stdout


# ---------------------------------------------------------------------------------------------------------
# --ckpt_path: a file that is not a checkpoint, or a checkpoint of another model, is one line
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, says", [(b"hello\n", "is not a checkpoint"), (None, "is truncated")],
                         ids=["text", "truncated"])
def test_ckpt_path_that_is_not_a_checkpoint_is_one_line(content, says, capsys, fake_mnist, tiny_runs, tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    whole = (tiny_runs["gan"] / "checkpoints" / "last.ckpt").read_bytes()
    (tmp_path / "junk.ckpt").write_bytes(whole[:1000] if content is None else content)
    line = error_line(capsys, fit_args(fake_mnist, "--ckpt_path", "junk.ckpt"))
    assert line.startswith(f"gan-lightning: error: junk.ckpt {says}")


@pytest.mark.parametrize("config, says", [
    ("dcgan", "model.discriminator: MLPDiscriminator in the checkpoint, DCGANDiscriminator in the configuration; "
              "model.generator: MLPGenerator in the checkpoint, DCGANGenerator in the configuration"),
    ("cgan", "model: GAN in the checkpoint, ConditionalGAN in the configuration."),
])
def test_ckpt_path_of_another_model_is_refused_before_training(config, says, capsys, fake_mnist, tiny_runs, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tiny_runs["gan"]  # an MLP GAN: LightningCLI alone would train it, whatever the config says
    line = error_line(capsys, fit_args(fake_mnist, "--ckpt_path", str(run / "checkpoints" / "last.ckpt"),
                                       config=str(ROOT / "configs" / f"{config}.yaml")))
    assert all(difference in line for difference in says.split("; "))  # among the differences listed
    assert f"resume it with --config {run / 'config.yaml'}, or leave out --ckpt_path" in line
    assert not (tmp_path / "runs").exists()


def test_ckpt_path_of_a_python_checkpoint_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    from gan_lightning import MNISTDataModule

    from helpers import quiet_trainer, tiny_gan

    monkeypatch.chdir(tmp_path)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, default_root_dir=tmp_path)
    trainer.fit(tiny_gan(), MNISTDataModule(str(fake_mnist), batch_size=16, download=False))
    trainer.save_checkpoint(tmp_path / "python.ckpt")
    line = error_line(capsys, fit_args(fake_mnist, "--ckpt_path", "python.ckpt"))
    assert "python.ckpt was written by Trainer.fit in Python and does not say how to build its networks" in line


def test_ckpt_path_last_resumes_the_same_model_and_refuses_a_changed_one(capsys, fake_mnist, tmp_path):
    run = tiny_fit(tmp_path, fake_mnist, "gan", epochs=1)
    args = ["fit", "--config", str(tmp_path / "gan.yaml"), "--ckpt_path", "last"]
    main([*args, "--trainer.max_epochs", "2"])
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1  # continued, in version_0
    assert not (run.parent / "version_1").exists()
    line = error_line(capsys, [*args, "--trainer.max_epochs", "3", "--model.generator.init_args.hidden_dims", "[64]"])
    assert f"--ckpt_path {run / 'checkpoints' / 'last.ckpt'} holds another model" in line
    assert "model.generator.init_args.hidden_dims: [32] in the checkpoint, [64] in the configuration" in line
    line = error_line(capsys, [*args, "--trainer.max_epochs", "3", "--model.loss", "hinge"])
    assert "model.loss: bce in the checkpoint, hinge in the configuration" in line


def test_ckpt_path_with_settings_this_version_cannot_read_is_one_line(capsys, fake_mnist, tiny_runs, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    checkpoint = torch.load(tiny_runs["gan"] / "checkpoints" / "last.ckpt", weights_only=True)
    checkpoint["hyper_parameters"]["generator"]["init_args"]["depth"] = 3  # as a newer or older version might save
    torch.save(checkpoint, tmp_path / "other_version.ckpt")
    line = error_line(capsys, ["fit", "--config", str(tiny_runs["gan"] / "config.yaml"),
                               "--ckpt_path", "other_version.ckpt"])
    assert line == ("gan-lightning: error: other_version.ckpt holds model settings that this version of "
                    "gan-lightning cannot read (Option 'depth' is not accepted): load it with the version that "
                    "wrote it.")


@pytest.mark.parametrize("flags, says", [
    (["--data.data_dir", "{tmp}/nowhere"], "No folder .*nowhere: set --data.data_dir to a folder of images."),
    (["--data.data_dir", "{tmp}"], "No images in .*: gan-lightning reads .png, .jpg"),
    (["--data.data_dir", "{pets}", "--data.channels", "2"], "channels=2: images are read as 1 .* or 3 .* channels."),
    (["--data.data_dir", "{pets}", "--data.image_size", "27"], "even side of at least 8 but the images are 3x27x27: "
                                                                 "set the data's image_size \\(--data.image_size\\)"),
    (["--data.data_dir", "{one}", "--data.labels", "true"], "at least two, but .* has 1 \\(only\\)"),
    (["--data", "TorchvisionDataModule", "--data.dataset", "cifar"], "Unknown dataset 'cifar': choose one of mnist"),
], ids=["missing", "no-images", "channels", "image-size", "one-class", "dataset"])
def test_bad_data_is_one_line_exit_2_and_writes_nothing(flags, says, capsys, pet_folder, tmp_path, monkeypatch):
    from images import image_folder

    monkeypatch.chdir(tmp_path)
    one = image_folder(tmp_path / "one", classes=("only",), per_class=3)
    flags = [f.format(tmp=tmp_path / "empty", pets=pet_folder, one=one) for f in flags]
    (tmp_path / "empty").mkdir()
    line = error_line(capsys, ["fit", "--config", str(ROOT / "configs" / "folder_cdcgan.yaml"), *flags,
                               "--trainer.fast_dev_run", "1"])
    assert re.search(says, line), line
    assert not (tmp_path / "runs").exists() and not (tmp_path / "samples").exists()


def test_a_logger_whose_package_is_missing_says_what_to_install(fake_mnist, capsys):
    try:  # the test needs tensorboard to be absent
        import tensorboard  # noqa: F401
        pytest.skip("tensorboard is installed here")
    except ImportError:
        pass
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.logger", "TensorBoardLogger",
                                       "--trainer.fast_dev_run", "1"))
    assert 'TensorBoardLogger needs the tensorboard package: pip install "gan-lightning[tensorboard]"' in line


def test_a_recipe_name_finds_the_shipped_recipe_from_any_folder(fake_mnist, tmp_path, monkeypatch, capsys):
    from gan_lightning.configuration import RECIPES, recipes

    monkeypatch.chdir(tmp_path)  # no configs/ here: the recipes come with the package
    assert (ROOT / "configs").resolve() == RECIPES and recipes() == sorted(p.stem for p in CONFIGS)
    for config in ("cgan", "cgan.yaml", "configs/cgan.yaml"):
        cli = build_cli(fit_args(fake_mnist, "--trainer.fast_dev_run", "1", config=config))
        assert type(cli.model).__name__ == "ConditionalGAN"
    cli = build_cli(fit_args(fake_mnist, "--config", "presets/debug", "--trainer.fast_dev_run", "1", config="gan"))
    assert cli.config.fit.trainer.log_every_n_steps == yaml.safe_load((RECIPES / "presets" / "debug.yaml").read_text(
    ))["trainer"]["log_every_n_steps"]
    assert error_line(capsys, fit_args(fake_mnist, config="fast_cdgan")) == (
        "gan-lightning: error: --config fast_cdgan: no such file, and no shipped recipe of that name: did you mean "
        "fast_cdcgan?")
    assert "Recipes: cdcgan, cgan, cr3gan," in subprocess.run(
        [sys.executable, "-c", "from gan_lightning.cli import main; main(['--help'])"], capture_output=True,
        text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
