import subprocess
import sys

import pytest
import torch
from conftest import CONFIGS, ROOT, make_fake_mnist

from gan_lightning import GAN
from gan_lightning.cli import build_cli, main

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


def test_fit_fast_dev_run_writes_a_sample_grid(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(fit_args(fake_mnist, "--trainer.fast_dev_run", "2"))
    assert (tmp_path / "samples" / "epoch_001.png").is_file()


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_instantiates_and_trains(config, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli = build_cli(fit_args(fake_mnist, "--trainer.fast_dev_run", "1", config=str(config)))
    assert isinstance(cli.model, GAN)
    assert cli.trainer.global_step == cli.model.hparams.n_critic + 1


def test_checkpoint_reloads_in_a_plain_python_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mnist = make_fake_mnist(tmp_path / "mnist", n_test=300)  # FID on 128-d features needs > 128 test images
    cli = build_cli(fit_args(mnist, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
                             "--trainer.callbacks.num_samples", "200"))
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
    assert "1x28x28" in line and "1x32x32" in line and "img_shape" in line


def test_latent_size_mismatch_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.latent_dim", "64"))
    assert "latent_dim=64 does not match the generator's latent_dim=100" in line


def test_unknown_loss_is_one_line(capsys, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, fit_args(fake_mnist, "--trainer.fast_dev_run", "1", "--model.loss", "bse"))
    assert "Unknown loss 'bse'" in line


def test_model_help_documents_the_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--model.help", "GAN"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Discriminator steps per generator step" in out and "--model.optimizer_g" in out


def test_module_entry_point_in_a_fresh_process(fake_mnist, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gan_lightning", *fit_args(tmp_path / "nowhere", "--trainer.fast_dev_run", "1")],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("gan-lightning: error: MNIST is not in")
    assert "Traceback" not in result.stderr
