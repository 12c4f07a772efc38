"""Training speed of gan-lightning against a plain PyTorch loop and the tutorial's loop, side by side.

    python scripts/benchmark.py --data-dir data                # CPU: MLP and DCGAN recipes
    python scripts/benchmark.py --data-dir data --device cuda  # adds torch.compile and Inception timing
    python scripts/benchmark.py --recipes mlp --compile        # torch.compile on the CPU too

Variants, all at the same batch size on the same machine:
  (a) lightning: the project's ``GAN`` through the Lightning ``Trainer`` (in-memory data, progress bar and CSV
      logging on, as `gan-lightning fit` runs it: the bar redrawn every 20 batches, the CSV written every 50);
  (b) plain: a hand-written PyTorch loop with the same networks, losses, data path and step structure;
  (c) tutorial: the tutorial's loop: torchvision DataLoader with ToTensor and Normalize, Sigmoid + BCELoss,
      the generator run twice per iteration, the DataLoader iterated properly.
Each measurement runs in its own process (so its peak memory is its own) and the rounds interleave the
variants, so a noisy machine slows them alike; the table gives the median steps/s over the rounds, and each
ratio is also given round by round (the variants of a round ran back to back).
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gan_lightning.errors import one_line_errors

from runs import machine

# ---------------------------------------------------------------------------------------------------------
# The three training loops (run inside a worker process)
# ---------------------------------------------------------------------------------------------------------


def networks(recipe: str):
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

    if recipe == "mlp":
        return MLPGenerator(), MLPDiscriminator()
    return DCGANGenerator(), DCGANDiscriminator(batch_norm=True)  # as configs/dcgan.yaml


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class StepClock:
    """Wall time of ``measure`` steps after ``warmup`` steps."""

    def __init__(self, warmup: int, measure: int, device: torch.device) -> None:
        self.warmup, self.measure, self.device = warmup, measure, device
        self.steps, self.start, self.seconds = 0, None, None

    def tick(self) -> bool:
        """Call after every step; returns True when the measurement is complete."""
        self.steps += 1
        if self.steps == self.warmup:
            sync(self.device)
            self.start = time.perf_counter()
        elif self.steps == self.warmup + self.measure:
            sync(self.device)
            self.seconds = time.perf_counter() - self.start
            return True
        return False


def run_lightning(recipe, device, args, clock: StepClock, compile_networks: bool = False) -> None:
    from lightning.pytorch import Callback, Trainer
    from lightning.pytorch.loggers import CSVLogger

    from gan_lightning import GAN, MNISTDataModule
    from gan_lightning.callbacks import LossProgressBar

    class Clock(Callback):
        def on_train_batch_end(self, trainer, *_):
            if clock.tick():
                trainer.should_stop = True

    g, d = networks(recipe)
    model = GAN(g, d, compile=compile_networks)
    data = MNISTDataModule(args.data_dir, batch_size=args.batch_size, download=False)
    trainer = Trainer(accelerator=device.type, devices=1, max_epochs=-1, logger=CSVLogger(tempfile.mkdtemp()),
                      enable_checkpointing=False, enable_model_summary=False,
                      callbacks=[Clock(), LossProgressBar(refresh_rate=20)])  # as gan-lightning fit
    trainer.fit(model, data)


def run_plain(recipe, device, args, clock: StepClock) -> None:
    from gan_lightning import MNISTDataModule
    from gan_lightning.data import InMemoryLoader
    from gan_lightning.models.gan import tutorial_adam
    from gan_lightning.objective import get_loss

    g, d = (net.to(device) for net in networks(recipe))
    opt_g, opt_d = tutorial_adam(g.parameters()), tutorial_adam(d.parameters())
    loss = get_loss("bce")
    dm = MNISTDataModule(args.data_dir, download=False)
    images, labels = dm.split("train")
    loader = InMemoryLoader(images.to(device), labels.to(device), args.batch_size)
    epoch = 0
    while True:
        loader.sampler.set_epoch(epoch)
        for real, _ in loader:
            n = real.shape[0]
            fake = g(torch.randn(n, g.latent_dim, device=device))
            g.requires_grad_(False)  # as Lightning's toggled_optimizer: no gradients for the other network
            if recipe == "mlp":  # one D forward for both; batch norm (the DCGAN's D) needs two, as in GAN
                real_logits, fake_logits = d(torch.cat([real, fake.detach()]))[0].split(n)
            else:
                real_logits, fake_logits = d(real)[0], d(fake.detach())[0]
            d_loss = loss.d(real_logits, fake_logits)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            g.requires_grad_(True)
            d.requires_grad_(False)
            g_loss = loss.g(None, d(fake)[0])
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            d.requires_grad_(True)
            if clock.tick():
                return
        epoch += 1


def run_tutorial(recipe, device, args, clock: StepClock) -> None:
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision import transforms
    from torchvision.datasets import MNIST

    g, d = (net.to(device) for net in networks(recipe))
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(MNIST(args.data_dir, train=True, transform=transform), batch_size=args.batch_size,
                        shuffle=True, drop_last=True)
    criterion = nn.BCELoss()
    d_losses, g_losses = [], []
    while True:
        for real, _ in loader:
            real = real.to(device)
            n = real.size(0)
            ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
            z = torch.randn(n, g.latent_dim, device=device)
            fake = g(z)
            d_loss = (criterion(torch.sigmoid(d(real)[0]), ones)
                      + criterion(torch.sigmoid(d(fake.detach())[0]), zeros)) / 2
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            z = torch.randn(n, g.latent_dim, device=device)  # the tutorial runs the generator again
            g_loss = criterion(torch.sigmoid(d(g(z))[0]), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            d_losses.append(d_loss.item())  # the tutorial keeps the losses for its plots
            g_losses.append(g_loss.item())
            if clock.tick():
                return


def worker(args) -> None:
    torch.manual_seed(0)
    device = torch.device(args.device)
    clock = StepClock(args.warmup, args.batches, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    variant = args.worker
    if variant.startswith("lightning"):
        run_lightning(args.recipe, device, args, clock, compile_networks=variant.endswith("compiled"))
    elif variant == "plain":
        run_plain(args.recipe, device, args, clock)
    else:
        run_tutorial(args.recipe, device, args, clock)
    result = {"steps_per_s": args.batches / clock.seconds,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        result["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------------------
# The driver: interleaved rounds of worker processes, then the table
# ---------------------------------------------------------------------------------------------------------


def measure(variant: str, recipe: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", variant, "--recipe", recipe, "--device", args.device,
           "--data-dir", args.data_dir, "--batch-size", str(args.batch_size), "--batches", str(args.batches),
           "--warmup", str(args.warmup)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"benchmark: {variant}/{recipe} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


@one_line_errors("benchmark.py")
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/, downloaded there when missing "
                                                          "(default: data)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--recipes", default="mlp,dcgan", help="comma-separated: mlp (the tutorial's), dcgan")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=300, help="measured steps per run")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured steps first")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; the median is shown")
    parser.add_argument("--skip-metrics", action="store_true", help="do not time the metric backbone")
    parser.add_argument("--compile", action="store_true",
                        help="also time (a) with torch.compile'd networks (always on with --device cuda)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--recipe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    from gan_lightning import MNISTDataModule

    MNISTDataModule(args.data_dir).prepare_data()  # downloads MNIST into --data-dir when missing, before any timing

    compiled = args.compile or args.device == "cuda"
    variants = ["lightning", "plain", "tutorial"] + (["lightning-compiled"] if compiled else [])
    print(f"machine: {machine()}; batch {args.batch_size}; {args.batches} steps after {args.warmup} warm-up, "
          f"median of {args.rounds} interleaved rounds")
    for recipe in args.recipes.split(","):
        runs = {v: [] for v in variants}
        for _ in range(args.rounds):
            for variant in variants:
                runs[variant].append(measure(variant, recipe, args))
        print(f"\n{recipe} GAN")
        print(f"  {'variant':<20} {'steps/s':>9} {'min':>8} {'max':>8} {'peak RSS MB':>12}"
              + (f" {'peak CUDA MB':>13}" if args.device == "cuda" else ""))
        median = {}
        for variant, results in runs.items():
            speeds = [r["steps_per_s"] for r in results]
            median[variant] = statistics.median(speeds)
            line = (f"  {variant:<20} {median[variant]:9.1f} {min(speeds):8.1f} {max(speeds):8.1f} "
                    f"{max(r['peak_rss_mb'] for r in results):12.0f}")
            if args.device == "cuda":
                line += f" {max(r['peak_cuda_mb'] for r in results):13.0f}"
            print(line)
        for label, other, target in (("a/b (lightning / plain)   ", "plain", 0.95),
                                     ("a/c (lightning / tutorial)", "tutorial", 1.5)):
            # each round's variants ran back to back, so the per-round ratios cancel slow drifts of the load
            paired = [a["steps_per_s"] / o["steps_per_s"] for a, o in zip(runs["lightning"], runs[other])]
            print(f"  {label} = {median['lightning'] / median[other]:.3f}   target >= {target}   "
                  f"(per round: median {statistics.median(paired):.3f}, {min(paired):.3f} to {max(paired):.3f})")
        if "lightning-compiled" in median:
            print(f"  compiled / eager           = {median['lightning-compiled'] / median['lightning']:.3f}")
    if not args.skip_metrics:
        metric_timing(args)


def metric_timing(args) -> None:
    """Seconds to score 10k generated samples with the metric backbone, cold and warm real-feature cache, and
    on a GPU the Inception features of 10k images."""
    script = Path(__file__).with_name("benchmark_metrics.py")
    if not script.exists():
        print("\nmetric timing: scripts/benchmark_metrics.py not found")
        return
    cmd = [sys.executable, str(script), "--data-dir", args.data_dir, "--device", args.device]
    if args.device == "cuda":  # Inception features of 10k images (random weights unless given): GPU only
        cmd += ["--inception-samples", "10000"]
    print("\n" + subprocess.run(cmd, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
