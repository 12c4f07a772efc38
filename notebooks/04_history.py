# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. A short history of GANs, run side by side
#
# The tutorial ends with a short history: after the first GAN, four milestones each changed one thing. A fifth,
# from 2024, closes the circle: R3GAN goes back to basics.
#
# | year | milestone | what it changed |
# |---|---|---|
# | 2014 | **GAN** (Goodfellow et al.) | two networks in a game: D tells real from fake, G learns to fool D |
# | 2014 | **cGAN** (Mirza and Osindero) | both networks get the class label, so you choose what G draws |
# | 2016 | **DCGAN** (Radford et al.) | convolutions instead of fully connected layers, batch norm: a reliable recipe |
# | 2017 | **WGAN-GP** (Arjovsky et al.; Gulrajani et al.) | D becomes a *critic* that scores images (see below) |
# | 2018 | **PGGAN** (Karras et al.) | the networks *grow*: 7x7 images, then 14x14, then 28x28, each faded in smoothly |
# | 2024 | **R3GAN** (Huang et al.) | back to basics: a loss that provably converges, a plain modern network |
#
# **How a WGAN's critic works.** The first GAN's D answers with a probability, and when D wins its answers
# saturate and G's gradient vanishes (notebook 1). The Wasserstein GAN (Arjovsky et al., 2017) asks D for a
# *score* instead and calls it a *critic*. Picture the fake images' probability as piles of earth and the real
# images' as holes: the *earth mover's distance* is the least work (mass times distance) that fills the holes
# with the piles. It shrinks smoothly as the fakes come closer, even while the two sets do not overlap at all,
# so it always shows G a direction. A theorem turns it into something a network can estimate: it is the largest
# gap `E[f(real)] - E[f(fake)]` over all functions `f` whose slope is at most 1 everywhere (1-*Lipschitz*:
# `|f(x) - f(y)| <= ||x - y||`). The critic is trained to be that `f`, maximizing
# `mean(D(real)) - mean(D(fake))`, so its value estimates the distance, and G lowers it by moving its images
# towards the real ones. The hard part is the slope limit. The first WGAN *clipped* every weight of the critic to
# [-0.01, 0.01], which bounds the slope crudely (the critic becomes too simple, or training crawls). WGAN-GP
# (Gulrajani et al., 2017) adds a *gradient penalty* instead: at random points between real and fake images,
# `(||gradient of D|| - 1)^2`, weighted by 10, keeps the slope near 1 where it matters.
#
# This notebook trains each of them **for the same number of minutes** on your machine, with the recipes that
# `gan_lightning` ships in `configs/`, and compares what they draw and their FID (notebook 3) over time.
# A few minutes are a short training for all of them, and the ranking after a few minutes is not the ranking
# after a few hours: watch what each one learns *first*.
#
# With the default settings it takes about `6 x MINUTES` plus a minute: about 13 minutes.

# %% [markdown]
# ## 0. Where the history leads
#
# Two generators shipped with gan-lightning, trained by `make reproduce`: the `pggan` recipe this notebook also
# trains, after 12 minutes, and `fast_infogan`, the best unconditional recipe of the README (a DCGAN with hinge
# loss, spectral norm and an InfoGAN code: one row per code). The title gives each one's FID (notebook 3).

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["pggan", "fast_infogan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

MINUTES = 2.0  # wall-clock training time of each model (FID evaluations included)
MAX_EPOCHS = 5 if FAST else None  # the tests stop after a few short epochs instead of a time budget
NUM_SAMPLES = 200 if FAST else 2000  # images per FID evaluation
PHASE_IMAGES = 64 if FAST else 12800  # PGGAN: images per fade-in and per stable phase (one epoch)
SEED = 0

# %%
import logging
import time
import warnings
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import (GAN, ConditionalGAN, DCGANDiscriminator, DCGANGenerator, LossProgressBar,
                           MLPDiscriminator, MLPGenerator, MNISTDataModule, Penalty, ProgressiveDiscriminator,
                           ProgressiveGAN, ProgressiveGenerator, R3GANDiscriminator, R3GANGenerator, SampleGrid)
from gan_lightning.callbacks import FID

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers
MNISTDataModule(DATA_DIR).prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet

# %% [markdown]
# ## 1. The six recipes
#
# Each line builds one model as its config in `configs/` does (`gan.yaml`, `cgan.yaml`, `dcgan.yaml`,
# `wgan_gp.yaml`, `pggan.yaml`, `r3gan.yaml`), with that config's batch size. Read them as a diff from the line
# above:
#
# - **cGAN**: the same networks as GAN, with `n_classes=10`: the one-hot label is concatenated to the noise
#   and to the image.
# - **DCGAN**: new networks (transposed convolutions with batch norm in G, strided convolutions in D); same
#   loss and optimizer as the tutorial.
# - **WGAN-GP**: the DCGAN networks without batch norm in D, the Wasserstein loss, a gradient penalty of
#   weight 10, 5 critic steps per generator step, and Adam with a smaller learning rate.
# - **PGGAN**: growing networks and WGAN-GP with one critic step, with three tricks of its own. *Pixel norm*:
#   after every convolution of G, each pixel's vector of features is scaled to unit length, which keeps G's
#   signals from escalating in its contest with D (in place of batch norm). *Minibatch standard deviation*:
#   near its end, D measures how much the images of a small group differ from each other and gets that as an
#   extra feature, so a G whose samples are all alike is easy to spot and is pushed to vary. *Equalized
#   learning rate*: every weight is stored at scale 1 and multiplied at run time by its layer's He constant, so
#   that Adam, which moves every weight by steps of a similar size, changes every layer at the same relative
#   pace. Its schedule here is short: 400 batches per phase, so that it reaches 28x28
#   within the budget. The config's schedule is 60,000 images per phase, and it samples with an average of
#   recent generator weights (EMA); with phases this short that average would lag behind, so it is off here.
# - **R3GAN**: back to basics. The loss is *relativistic*: D compares each real image with a fake one,
#   `softplus(-(D(real) - D(fake)))`, and G the other way round; two penalties keep D smooth around the real
#   images (R1) and around the fakes (R2), and together they make the game converge. That stable loss lets the
#   networks drop every trick above (batch norm, minibatch standard deviation, progressive growing, equalized
#   learning rate): both are plain stacks of residual blocks (a 1x1 convolution that widens, a grouped 3x3
#   convolution, a 1x1 convolution that narrows, added to the input), with no normalization. The networks here
#   are small for a CPU; the penalties run every 8th step (`every=8`), weighted by 8.
#
# The last number of each line is the epoch length in batches: FID is measured after every epoch, and the
# lengths are chosen so that every model gets several points within the budget on a CPU (1.0 = all of MNIST).

# %%
def adam(lr, betas):
    return partial(torch.optim.Adam, lr=lr, betas=betas)


RECIPES = {  # name: (year, batch size, batches per epoch, model)
    "GAN": (2014, 64, 1.0, lambda: GAN(MLPGenerator(), MLPDiscriminator())),
    "cGAN": (2014, 64, 1.0, lambda: ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10))),
    "DCGAN": (2016, 128, 100, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(batch_norm=True))),
    "WGAN-GP": (2017, 64, 15, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(), loss="wasserstein",
                                          penalties=[Penalty("gp", 10.0)],
                                          n_critic=5, optimizer_g=adam(1e-4, (0.0, 0.9)),
                                          optimizer_d=adam(1e-4, (0.0, 0.9)))),
    "PGGAN": (2018, 32, 400, lambda: ProgressiveGAN(ProgressiveGenerator(base_channels=8),
                                                    ProgressiveDiscriminator(base_channels=8),
                                                    stable_images=PHASE_IMAGES, fade_images=PHASE_IMAGES)),
    "R3GAN": (2024, 64, 400, lambda: GAN(R3GANGenerator(widths=[64, 32, 16], blocks=1, output_bias=True),
                                         R3GANDiscriminator(widths=[64, 32, 16], blocks=1), loss="rpgan",
                                         penalties=[Penalty("r1", 0.05, every=8), Penalty("r2", 0.05, every=8)],
                                         optimizer_g=adam(1e-3, (0.0, 0.99)), optimizer_d=adam(1e-3, (0.0, 0.99)))),
}

# %% [markdown]
# ## 2. The same minutes for each
#
# `Trainer(max_time=...)` stops training when the time is up, in the middle of an epoch if need be. The
# `FID` callback scores `NUM_SAMPLES` samples after every epoch (with the small MNIST classifier of notebook 3,
# so these FIDs compare with each other but not with papers). `Clock` notes the minutes at every epoch end,
# for the x axis of the curves below.

# %%
class Clock(Callback):
    """Minutes since the start of training at the end of every epoch (before that epoch's FID)."""

    def on_train_start(self, trainer, pl_module):
        self.start, self.minutes = time.monotonic(), []

    def on_train_epoch_end(self, trainer, pl_module):
        self.minutes.append((time.monotonic() - self.start) / 60)


results = {}
for name, (year, batch_size, batches, build) in RECIPES.items():
    seed_everything(SEED)
    model, clock, fid = build(), Clock(), FID(num_samples=NUM_SAMPLES)
    logger = CSVLogger("runs", name=f"history_{name}")
    trainer = Trainer(max_time=None if FAST else {"seconds": 60 * MINUTES}, max_epochs=MAX_EPOCHS or -1,
                      limit_train_batches=2 if FAST else batches, logger=logger, enable_checkpointing=False,
                      enable_model_summary=False, log_every_n_steps=50,
                      callbacks=[clock, SampleGrid(num_samples=100 if model.num_classes else 64), fid,
                                 LossProgressBar()])
    trainer.fit(model, MNISTDataModule(DATA_DIR, batch_size=batch_size))
    results[name] = {"year": year, "model": model, "run_dir": Path(logger.log_dir), "batches": model.generator_steps,
                     "fids": [entry["val/fid"] for entry in fid.history],
                     "minutes": [clock.minutes[entry["epoch"]] for entry in fid.history]}
    print(f"{name}: {model.generator_steps} batches of {batch_size} in {clock.minutes[-1]:.1f} min, "
          f"last val/fid {results[name]['fids'][-1]:.1f}")

# %% [markdown]
# ## 3. FID over the same minutes

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
for name, r in results.items():
    ax.plot(r["minutes"], r["fids"], "o-", label=f"{name} ({r['year']})")
ax.set_xlabel("minutes of training (FID evaluations included)")
ax.set_ylabel("val/fid (lower is better)")
ax.set_yscale("log")
ax.set_title(f"FID of {NUM_SAMPLES} samples vs the MNIST test images, mnist backbone", fontsize=10)
ax.legend()
plt.show()

# %% [markdown]
# ## 4. What each one draws at the end
#
# The last grid of each run (`runs/history_<name>/version_N/samples/`), from the same fixed noise every epoch;
# the cGAN draws one row per digit.

# %%
fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4.4))
for ax, (name, r) in zip(axes, results.items()):
    last = sorted((r["run_dir"] / "samples").glob("epoch_*.png"))[-1]
    ax.imshow(plt.imread(last))
    ax.set_title(f"{name}: {r['batches']} batches\nval/fid {r['fids'][-1]:.1f}")
    ax.axis("off")
plt.show()

# %% [markdown]
# In three runs on this project's 2-core CPU, two minutes each (your numbers will differ with the machine and its
# load; the order much less):
#
# - the tutorial's **GAN** made the most updates (12,000 to 13,000 batches) and reached a val/fid of 8 to 9.5, with
#   speckled digits: a fully connected network has no notion of neighbouring pixels;
# - the **cGAN** (about 12,000 batches) came out best, 5.6 to 6.4: it is told which digit to draw, which makes its
#   task easier; the images of a row still look much alike: the variety within a class comes later;
# - **DCGAN** did only about 1,000 batches (of 128) and reached about 11: far fewer updates than the MLPs, but each
#   taught it more, and its convolutions draw smooth strokes;
# - **WGAN-GP** is the slow starter: five critic steps and a gradient penalty per batch left it about 300 generator
#   updates, and its digits are still blurry (21 to 22). Its merit is a steadier game over long runs, which two
#   minutes cannot show;
# - **PGGAN** (about 2,000 batches of 32) reached 15 to 18: it learned the coarse shape of the digits at 7x7, where
#   a step is cheap, then added detail at 14x14 and 28x28, but two minutes leave it only its last phase at 28x28.
#   Given the time, growing pays: the shipped `pggan` above trained for 12 minutes.
#
# ## 5. PGGAN grows
#
# PGGAN's grids, epoch by epoch: every epoch here is one phase of its schedule (400 batches of 32 images =
# `PHASE_IMAGES`), so the grids show the end of each phase. Every grid is 28x28: at the lower resolutions the
# generator's images are upsampled, which gives the blocks of 4x4 and 2x2 pixels.

# %%
pggan = results["PGGAN"]
grids = sorted((pggan["run_dir"] / "samples").glob("epoch_*.png"))[1:6]
phases = ["7x7", "14x14 fading in", "14x14", "28x28 fading in", "28x28"]
fig, axes = plt.subplots(1, len(grids), figsize=(4 * len(grids), 4.4), squeeze=False)
for ax, path, phase in zip(axes[0], grids, phases):
    ax.imshow(plt.imread(path))
    ax.set_title(f"after {path.stem}: {phase}")
    ax.axis("off")
plt.show()
print(f"PGGAN ended at {pggan['model'].resolution}x{pggan['model'].resolution}; model.sample():",
      pggan["model"].sampling_protocol)

# %% [markdown]
# ## What the history teaches
#
# - Every milestone kept the game of the first GAN and changed one part of it: the inputs (cGAN), the networks
#   (DCGAN), the loss (WGAN-GP), the training schedule (PGGAN).
# - Speed per batch and progress per batch pull apart: the MLP GAN does the most batches, DCGAN learns the most
#   per batch, WGAN-GP pays a lot per batch for a steadier game. Compare GANs by their curves over the same
#   time, not by one number after an arbitrary number of epochs.
# - PGGAN's idea, to learn the coarse structure first and the details later, made the first convincing
#   1024x1024 faces; at 28x28 it mostly saves time early on. Its successors (StyleGAN and others) grew from it.
#
# To go further, train any of them with its config, for as long as you like:
# `gan-lightning fit --config configs/pggan.yaml --data.data_dir data`; the README shows PGGAN's grids at the
# end of each stage.
