"""Run by tests/test_distributed.py under torchrun (2 CPU processes, gloo): every recipe config given on the command
line trains for a few batches under Lightning's plain ``ddp`` strategy, one after the other in the same process
group, and each rank writes what the test checks to ``<out>/rank<R>.json``.

    python -m torch.distributed.run --nproc-per-node 2 tests/ddp_recipes_worker.py MNIST_DIR FOLDER OUT CONFIG...

Recipes for image folders train on FOLDER, shrunk to 1x28x28 so that the mnist backbone scores them.
"""

import hashlib
import json
import sys
from pathlib import Path

import torch.distributed as dist

from gan_lightning.callbacks import SampleQuality
from gan_lightning.cli import build_cli

BATCHES = 2
SAMPLES = 200  # FID on the 128-d mnist features needs more than 128 samples (and as many real test images)


def weights_digest(module) -> str:
    """A hash of every weight and buffer, to compare the ranks' models byte for byte."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def data_args(config: str, mnist: str, folder: str) -> list[str]:
    if "ImageFolderDataModule" in Path(config).read_text():
        return ["--data.data_dir", folder, "--data.image_size", "28", "--data.channels", "1",
                "--quality.backbone", "mnist", "--quality.reference_split", "train"]
    return ["--data.data_dir", mnist, "--data.download", "false"]


def fit_recipe(config: str, mnist: str, folder: str) -> dict:
    cli = build_cli(["--config", config, *data_args(config, mnist, folder), "--data.batch_size", "8",
                     "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp",
                     "--trainer.max_epochs", "1",
                     "--trainer.limit_train_batches", str(BATCHES), "--trainer.log_every_n_steps", "1",
                     "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
                     "--quality.num_samples", str(SAMPLES)], run=False)
    trainer, model = cli.trainer, cli.model
    metrics = [c for c in trainer.callbacks if isinstance(c, SampleQuality)]
    trainer.fit(model, cli.datamodule)
    checkpoint = Path(trainer.log_dir) / "checkpoints" / "last.ckpt"
    return {
        "strategy": type(trainer.strategy).__name__,
        "world_size": trainer.world_size,
        "find_unused_parameters": trainer.strategy._ddp_kwargs.get("find_unused_parameters", False),
        "global_step": trainer.global_step,
        "expected_steps": (model.hparams.n_critic + 1) * BATCHES,
        "conditional": bool(model.num_classes),
        "logged": {k: float(v) for k, v in trainer.callback_metrics.items()},
        "scores": {k: v for m in metrics for k, v in m.history[-1].items() if k.startswith("val/")},
        "reference_split": metrics[0]._split(trainer),
        "metric_keys": sorted(key for m in metrics for key in m.keys),
        "weights": weights_digest(model),
        "checkpoint": str(checkpoint.resolve()),
    }


def main(mnist: str, folder: str, out: str, *configs: str) -> None:
    results = {Path(config).stem: fit_recipe(config, mnist, folder) for config in configs}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / f"rank{dist.get_rank()}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
