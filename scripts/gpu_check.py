"""Mixed precision on a CUDA GPU: a few training steps of each recipe in 16-mixed and bf16-mixed, losses finite.

    python scripts/gpu_check.py --data-dir ../shared/data     # about two minutes on one GPU

Uses real MNIST when ``--data-dir`` holds it, else writes synthetic MNIST-shaped files to a temporary folder
(the check is about numerics of the training step, not image quality). Prints one line per (precision,
recipe) with the loss range, the steps/s and the GradScaler's final scale, and exits with status 1 if any
loss was not finite. Under 16-mixed the WGAN-GP penalty is computed in fp32 (see gan_lightning/losses.py).
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from lightning.pytorch import Callback, Trainer, seed_everything

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule, ProgressiveGAN
from gan_lightning.data.idx import write_synthetic_mnist
from gan_lightning.networks import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
)

RECIPES = {
    "gan (MLP, bce)": lambda: GAN(MLPGenerator(), MLPDiscriminator()),
    "cgan (MLP, bce)": lambda: ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10)),
    "dcgan (bce)": lambda: GAN(DCGANGenerator(), DCGANDiscriminator()),
    "wgan_gp (DCGAN, n_critic 5)": lambda: GAN(DCGANGenerator(), DCGANDiscriminator(), loss="wasserstein",
                                               gp_weight=10.0, n_critic=5,
                                               optimizer_d=lambda p: torch.optim.Adam(p, 1e-4, betas=(0.0, 0.9)),
                                               optimizer_g=lambda p: torch.optim.Adam(p, 1e-4, betas=(0.0, 0.9))),
    "dcgan hinge + SN + EMA": lambda: GAN(DCGANGenerator(), DCGANDiscriminator(spectral_norm=True), loss="hinge",
                                          ema_decay=0.999),
    # 10 batches at 7x7, 20 fading in 14x14, 10 at 14x14, 20 fading in 28x28: every stage within 100 batches
    "pggan (7 -> 28, WGAN-GP)": lambda: ProgressiveGAN(ProgressiveGenerator(base_channels=8),
                                                       ProgressiveDiscriminator(base_channels=8),
                                                       stable_images=640, fade_images=1280, ema_decay=0.998),
}


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class LossRecorder(Callback):
    def __init__(self) -> None:
        self.losses: list[tuple[float, float]] = []
        self.start = None

    def on_train_batch_end(self, trainer, pl_module, *_) -> None:
        metrics = trainer.callback_metrics
        self.losses.append((float(metrics["train/d_loss"]), float(metrics["train/g_loss"])))
        if len(self.losses) == 10:
            synchronize()
            self.start = time.perf_counter()


def data_dir(requested: str) -> str:
    if (Path(requested) / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        return requested
    root = write_synthetic_mnist(Path(tempfile.mkdtemp()), n_train=6400, n_test=1000)
    print(f"(no MNIST in {requested}: synthetic MNIST-shaped data in {root})")
    return str(root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data", help="folder holding MNIST/raw/")
    parser.add_argument("--steps", type=int, default=100, help="batches per (precision, recipe)")
    parser.add_argument("--accelerator", default="cuda", choices=["cuda", "cpu"],
                        help="cpu runs bf16-mixed only: a dry run of this script where no GPU is at hand")
    args = parser.parse_args(argv)
    cuda = args.accelerator == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA GPU visible; this check needs one (or --accelerator cpu for a dry run).")
    root = data_dir(args.data_dir)
    device = torch.cuda.get_device_name(0) if cuda else "CPU (dry run)"
    print(f"{device}, torch {torch.__version__}, {args.steps} batches of 64 each")
    all_finite = True
    for precision in ("16-mixed", "bf16-mixed") if cuda else ("bf16-mixed",):
        for name, build in RECIPES.items():
            seed_everything(0, verbose=False)
            recorder = LossRecorder()
            model = build()
            trainer = Trainer(accelerator=args.accelerator, devices=1, precision=precision, max_epochs=-1,
                              max_steps=args.steps * (model.hparams.n_critic + 1),
                              logger=False, log_every_n_steps=1, enable_checkpointing=False,
                              enable_progress_bar=False, enable_model_summary=False, callbacks=[recorder])
            trainer.fit(model, MNISTDataModule(root, batch_size=64, download=False))
            synchronize()
            speed = (len(recorder.losses) - 10) / (time.perf_counter() - recorder.start) if recorder.start else 0.0
            flat = [v for pair in recorder.losses for v in pair]
            finite = all(math.isfinite(v) for v in flat) and len(recorder.losses) == args.steps
            all_finite &= finite
            scaler = getattr(trainer.precision_plugin, "scaler", None)
            scale = f"{scaler.get_scale():.0f}" if scaler is not None else "-"
            print(f"{precision:>10}  {name:<28} losses in [{min(flat):8.3f}, {max(flat):8.3f}]  "
                  f"{'finite' if finite else 'NOT FINITE'}  {speed:7.1f} steps/s  grad scale {scale}")
    print("all losses finite" if all_finite else "SOME LOSSES WERE NOT FINITE")
    sys.exit(0 if all_finite else 1)


if __name__ == "__main__":
    main()
