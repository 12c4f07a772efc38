"""``gan-lightning validate`` and ``test``: Lightning's own subcommands score a checkpoint's generator with the
``--quality`` metrics, the same numbers as fit's evaluation and scripts/evaluate.py."""

import json
import re

import pytest

from gan_lightning import GANLightningError
from gan_lightning.cli import build_cli, main

from conftest import ROOT
from helpers import script


@pytest.fixture(scope="module")
def conditional_run(mnist_300, tmp_path_factory):
    """A one-epoch conditional gan.yaml run on mnist_300, scored with fid and cond_acc on 200 samples."""
    root = tmp_path_factory.mktemp("validate")
    cli = build_cli(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(mnist_300),
                     "--data.download", "false", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
                     "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
                     "--quality.num_samples", "200", "--quality.metrics", "[fid,cond_acc]",
                     "--model.class_path", "gan_lightning.ConditionalGAN",
                     "--model.init_args.generator.init_args.n_classes", "10",
                     "--model.init_args.discriminator.init_args.n_classes", "10",
                     "--trainer.logger.init_args.save_dir", str(root / "runs")])
    quality = next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "SampleQuality")
    return root / "runs" / "gan" / "version_0" / "checkpoints" / "last.ckpt", quality.history[-1]


def printed(out: str, name: str) -> float:
    return float(re.search(rf"{re.escape(name)}\s*│?\s+([0-9.]+)", out).group(1))


@pytest.mark.parametrize("command", ["validate", "test"])
def test_validate_and_test_print_the_numbers_of_fit_and_evaluate(command, conditional_run, mnist_300, tmp_path,
                                                                   monkeypatch, capsys):
    checkpoint, scored_in_fit = conditional_run
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    main([command, "--ckpt_path", str(checkpoint), "--data.data_dir", str(mnist_300), "--data.download", "false",
          "--quality.num_samples", "200", "--quality.metrics", "[fid,cond_acc]", "--json", "scores.json"])
    out = capsys.readouterr().out
    prefix = {"validate": "val", "test": "test"}[command]
    fid, cond_acc = printed(out, f"{prefix}/fid"), printed(out, f"{prefix}/cond_acc")
    assert fid == pytest.approx(scored_in_fit["val/fid"], rel=1e-4)
    assert cond_acc == pytest.approx(scored_in_fit["val/cond_acc"], abs=1e-4)
    written = json.loads((tmp_path / "scores.json").read_text())
    assert written["scores"][f"{prefix}/fid"] == pytest.approx(fid, rel=1e-6)
    assert written["checkpoint"] == str(checkpoint) and written["protocol"]["num_generated"] == 200
    assert "vs 300 mnist test images" in out  # the protocol line
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]  # no logs, config.yaml or checkpoints

    script("evaluate.py")["main"]([str(checkpoint), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--metrics", "fid", "cond_acc"])
    evaluated = capsys.readouterr().out  # evaluate.py is an alias of validate
    assert printed(evaluated, "val/fid") == pytest.approx(fid, rel=1e-6)
    assert printed(evaluated, "val/cond_acc") == pytest.approx(cond_acc, abs=1e-6)


def test_validate_without_a_checkpoint_or_metrics_is_one_line(conditional_run, mnist_300, tmp_path, monkeypatch):
    checkpoint, _ = conditional_run
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GANLightningError, match=r"^gan-lightning validate needs --ckpt_path \(a checkpoint of "
                                                r"gan-lightning fit\)\.$"):
        build_cli(["validate", "--data.data_dir", str(mnist_300)])
    with pytest.raises(GANLightningError, match=r"gan-lightning test prints the --quality metrics: give at least one"):
        build_cli(["test", "--ckpt_path", str(checkpoint), "--data.data_dir", str(mnist_300), "--data.download",
                   "false", "--quality.metrics", "[]"])
