"""Helpers for the multi-process tests: a free port, a CLI launcher and its arguments for a short DDP fit,
a callback that dumps weights to compare the ranks, and one that scores a loaded model without training it."""

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from lightning.pytorch import Callback

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess that can import the tests' helpers."""
    path = os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


def run_cli(args: list[str], cwd: Path, timeout: int = 300, **env: str) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "gan_lightning", *args], cwd=cwd, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def ddp_args(data_dir, config: str, *extra: str) -> list[str]:
    """``gan-lightning fit`` of ``configs/<config>.yaml``: 2 epochs of 4 batches of 16 on CPU, FID of 200
    samples, every rank's final weights dumped by :class:`DumpWeights`."""
    return ["fit", "--config", str(ROOT / "configs" / f"{config}.yaml"), "--data.data_dir", str(data_dir),
            "--data.download", "false", "--data.batch_size", "16", "--trainer.accelerator", "cpu",
            "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "4", "--trainer.log_every_n_steps", "1",
            "--trainer.enable_progress_bar", "false", "--quality.num_samples", "200",
            "--trainer.callbacks+=dist_helpers.DumpWeights", *extra]


def assert_ranks_agree(weights_dir: Path, world: int) -> None:
    states = [torch.load(weights_dir / f"rank{r}.pt") for r in range(world)]
    for key, value in states[0].items():
        for other in states[1:]:
            assert torch.equal(value, other[key]), f"{key} differs between ranks"


class DumpWeights(Callback):
    """Saves every rank's final weights to ``<dirpath>/rank<R>.pt``, to compare ranks after DDP training."""

    def __init__(self, dirpath: str = "weights") -> None:
        self.dirpath = dirpath

    def on_train_end(self, trainer, pl_module) -> None:
        Path(self.dirpath).mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        torch.save(state, Path(self.dirpath) / f"rank{trainer.global_rank}.pt")


class ScoreBeforeTraining(Callback):
    """Runs the given metric callbacks' evaluation (what they log at an epoch end) on the weights the module
    starts with, then stops before the first training step: a checkpoint scored exactly as in training."""

    def __init__(self, metrics: list) -> None:
        self.metrics, self.scores = metrics, {}

    def on_train_start(self, trainer, pl_module) -> None:
        for metric in self.metrics:
            self.scores.update(metric.evaluate(trainer, pl_module))
        trainer.should_stop = True


class RecordBatches(Callback):
    """Saves, per rank, a hash of every training image each batch held: ``<dirpath>/batches<R>.json``."""

    def __init__(self, dirpath: str = "batches") -> None:
        self.dirpath, self.seen = dirpath, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        images = batch[0] if isinstance(batch, (list, tuple)) else batch
        self.seen.append([hashlib.sha256(image.cpu().numpy().tobytes()).hexdigest()[:16] for image in images])

    def on_train_end(self, trainer, pl_module) -> None:
        Path(self.dirpath).mkdir(parents=True, exist_ok=True)
        (Path(self.dirpath) / f"batches{trainer.global_rank}.json").write_text(json.dumps(self.seen))
