"""Sampling as Lightning's predict loop: what ``gan-lightning predict`` runs.

    gan-lightning predict --ckpt_path runs/fast_cdcgan/version_0/checkpoints/last.ckpt --samples.num 100
    gan-lightning predict --pretrained fast_cdcgan --samples.num 10000 --output.formats [png,npz]

``SampleRequests`` is the data of the predict loop: ``num`` latent points drawn from ``seed`` (all of them on the
CPU, in one sequence, so that the images do not depend on the device, the batch size or the number of processes;
the first of them are the noise of ``gan_lightning.sampling.sample_grid`` with the same seed), with the class or
InfoGAN code of each. The model's ``predict_step`` draws the batch's images, and ``SampleWriter`` writes them: a
grid, one PNG per image, and/or one array file. Under DDP Lightning gives each process a disjoint share of the
indices (no padding in predict), each writes its PNGs, and process 0 gathers the shares into the grid and arrays.
"""

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.utils import make_grid, save_image

from gan_lightning._io import atomic_write
from gan_lightning.data.images import write_png
from gan_lightning.errors import GANLightningError
from gan_lightning.sampling import grid_layout

FORMATS = ("grid", "png", "pt", "npz")
PART_TIMEOUT_S = 1800.0  # how long process 0 waits for the others' samples, as torch.distributed's default


class _Requests(Dataset):
    def __init__(self, z: Tensor, labels: Optional[Tensor], truncation: float, columns: int) -> None:
        self.z, self.labels, self.truncation = z, labels, truncation
        self.columns = columns  # of a grid with one row per class or code; 0: any

    def __len__(self) -> int:
        return len(self.z)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = {"index": i, "z": self.z[i], "truncation": self.truncation}
        if self.labels is not None:
            item["labels"] = self.labels[i]
        return item


class SampleRequests(LightningDataModule):
    """What ``gan-lightning predict`` draws: ``num`` images from seeded noise.

    Args:
        num: Number of images.
        seed: Seed of the noise: the same seed gives the same images.
        label: Class of every image, for conditional models; None: every class in turn, in equal blocks (the
            first ``num / classes`` images are class 0, ...), one row per class in the grid.
        code: InfoGAN code of every image; None: each noise vector's own code, or equal blocks (one row per code)
            when ``num`` is a multiple of the number of codes.
        truncation: Truncation psi (``GAN.sample``): the noise is scaled by it; 1 draws it as it is.
        batch_size: Images generated at once.
    """

    def __init__(self, num: int = 64, seed: int = 0, label: Optional[int] = None, code: Optional[int] = None,
                 truncation: float = 1.0, batch_size: int = 500) -> None:
        super().__init__()
        if num < 1 or batch_size < 1:
            raise GANLightningError(f"--samples.num {num} and --samples.batch_size {batch_size}: ask for at least "
                                    "one image, in batches of at least one.")
        if not truncation > 0:
            raise GANLightningError(f"--samples.truncation {truncation} must be > 0 (1 turns it off; 0.7 is common).")
        self.num, self.seed, self.label, self.code = num, seed, label, code
        self.truncation, self.batch_size = truncation, batch_size
        self.dataset: Optional[_Requests] = None

    def requests(self, model: LightningModule) -> tuple[Tensor, Optional[Tensor], int]:
        """The noise (num, latent_dim) and the labels (num,) or None that ``model`` is asked to draw, and the
        columns of a grid with one row per class or code (0 when the images are not in such rows)."""
        num_classes, rows = model.num_classes, model.grid_rows  # an InfoGAN: codes in rows, no classes
        if self.label is not None:
            if not num_classes:
                raise GANLightningError(f"--samples.label needs a conditional model; this is an unconditional "
                                        f"{type(model).__name__}" + (" (choose its codes with --samples.code)."
                                                                     if rows else "."))
            if not 0 <= self.label < num_classes:
                raise GANLightningError(f"--samples.label {self.label}: the model knows classes 0 to "
                                        f"{num_classes - 1}.")
        if self.code is not None:
            if num_classes or not rows:
                raise GANLightningError(f"--samples.code needs an InfoGAN; this is a {type(model).__name__}"
                                        + (" (choose its classes with --samples.label)." if num_classes else "."))
            if not 0 <= self.code < rows:
                raise GANLightningError(f"--samples.code {self.code}: the model has codes 0 to {rows - 1}.")
        z = torch.randn(self.num, model.latent_dim, generator=torch.Generator().manual_seed(self.seed))
        chosen = self.label if self.label is not None else self.code
        if chosen is not None:
            classes, columns = torch.full((self.num,), chosen, dtype=torch.long), 0
        else:
            classes, columns = grid_layout(model, self.num, 0)  # as the sample grids: one row per class or code
        z, labels = model.grid_inputs(z, classes)
        return z, (None if labels is None else labels.cpu()), columns

    def setup(self, stage: str) -> None:
        if self.dataset is None:
            model = self.trainer.lightning_module if self.trainer is not None else None
            if model is None:
                raise GANLightningError("SampleRequests draws for a model: pass it to Trainer.predict with the model.")
            z, labels, columns = self.requests(model)
            self.dataset = _Requests(z, labels, self.truncation, columns)

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(self.dataset, batch_size=self.batch_size, shuffle=False)


class SampleWriter(BasePredictionWriter):
    """Writes what ``gan-lightning predict`` draws into ``dir``.

    Args:
        dir: Output folder (created when missing).
        formats: Any of ``grid`` (``grid.png``: one row per class or code when the images allow, else ``nrow`` per
            row), ``png`` (one file per image, ``<index>.png``, in a sub-folder per class for conditional models:
            a folder ImageFolderDataModule reads), ``pt`` (``samples.pt``: uint8 images (N, C, H, W), labels,
            indices and settings) and ``npz`` (``samples.npz``, the same arrays for NumPy).
        nrow: Images per row of the grid when it is not one row per class or code.
    """

    def __init__(self, dir: str = "samples", formats: Sequence[Literal["grid", "png", "pt", "npz"]] = ("grid",),
                 nrow: int = 8) -> None:
        super().__init__(write_interval="batch")
        formats = list(formats)
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats or nrow < 1:
            raise GANLightningError(f"--output.formats {formats} and --output.nrow {nrow}: choose formats among "
                                    f"{', '.join(FORMATS)} and at least one image per row.")
        self.dir, self.formats, self.nrow = Path(dir), formats, nrow
        self._parts: list[dict[str, Tensor]] = []

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage != "predict":
            return
        rank = trainer.global_rank
        try:  # a folder that cannot be written is found before any image is drawn (one test file per process)
            self.dir.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.dir / f".write-test-{rank}") as tmp:
                tmp.write_bytes(b"")
            (self.dir / f".write-test-{rank}").unlink()
            self._part(rank).unlink(missing_ok=True)  # left by an interrupted run; Lightning's post_setup barrier
        except OSError as err:                          # follows, so no process writes its share before this
            raise GANLightningError(f"Cannot write into {self.dir} ({err.strerror or err}): choose another "
                                    "--output.dir.") from err
        self._parts = []

    def _part(self, rank: int) -> Path:
        return self.dir / f".predict-part-{rank}.pt"

    def write_on_batch_end(self, trainer: Trainer, pl_module: LightningModule, prediction: dict[str, Tensor],
                           batch_indices: Optional[Sequence[int]], batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        part = {key: value.detach().cpu() for key, value in prediction.items()}
        self._parts.append(part)
        if "png" in self.formats:
            width = max(6, len(str(len(_requests(trainer)) - 1)))
            labels = part.get("labels")
            for i, (index, image) in enumerate(zip(part["index"].tolist(), part["images"])):
                folder = self.dir / str(int(labels[i])) if labels is not None else self.dir
                folder.mkdir(exist_ok=True)
                with atomic_write(folder / f"{index:0{width}d}.png") as tmp:
                    write_png(image, tmp)

    def on_predict_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        share = _concat(self._parts)
        self._parts = []
        if trainer.world_size > 1:
            # Each process's share goes through a file (written atomically) and process 0 waits for the files,
            # not for a barrier: a process that leaves right after its last gloo collective can cut that
            # collective short for the others ("Connection closed by peer", pytorch/pytorch#61670).
            with atomic_write(self._part(trainer.global_rank)) as tmp:
                torch.save(share, tmp)
            if not trainer.is_global_zero:
                return
            paths = [self._part(rank) for rank in range(trainer.world_size)]
            _wait_for_files(paths, timeout_s=PART_TIMEOUT_S)
            share = _concat([torch.load(path, weights_only=True) for path in paths])
            for path in paths:
                path.unlink()
        if trainer.is_global_zero:
            self._write_all(share, pl_module, _requests(trainer))

    def _write_all(self, samples: dict[str, Tensor], model: LightningModule, requests: _Requests) -> None:
        order = samples["index"].argsort()
        samples = {key: value[order] for key, value in samples.items()}
        settings = {"truncation": float(requests.truncation), "num": len(requests),
                    "model": type(model).__name__, "sampling": getattr(model, "sampling_protocol", "")}
        if "grid" in self.formats:
            grid = make_grid(samples["images"].float() / 255, nrow=requests.columns or self.nrow, pad_value=1.0)
            with atomic_write(self.dir / "grid.png") as tmp:
                save_image(grid, tmp, format="png")
        if "pt" in self.formats:
            with atomic_write(self.dir / "samples.pt") as tmp:
                torch.save({**samples, **settings}, tmp)
        if "npz" in self.formats:
            with atomic_write(self.dir / "samples.npz") as tmp, open(tmp, "wb") as f:
                np.savez(f, **{key: value.numpy() for key, value in samples.items()},
                         **{key: np.asarray(value) for key, value in settings.items()})


def _wait_for_files(paths: list[Path], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while missing := [path for path in paths if not path.exists()]:
        if time.monotonic() > deadline:
            raise GANLightningError(f"{', '.join(p.name for p in missing)} not written within {timeout_s:.0f} s: "
                                    "another process failed (see its error above); run predict again.")
        time.sleep(0.02)


def _concat(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    if not parts:
        return {}
    return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


def _requests(trainer: Trainer) -> _Requests:
    requests = getattr(trainer.datamodule, "dataset", None)
    if not isinstance(requests, _Requests):
        raise GANLightningError("SampleWriter writes what SampleRequests asks for: predict with "
                                "datamodule=SampleRequests(...).")
    return requests

