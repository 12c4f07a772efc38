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
# # 2. Conditional GAN: drawing the digit you ask for
#
# The GAN of notebook 1 draws *some* digit: which one depends on the noise, and we cannot choose. A
# **conditional GAN** (Mirza and Osindero, 2014) gives the class label to both networks:
#
# - the generator `G(z, y)` draws an image of digit `y`;
# - the discriminator `D(x, y)` judges whether `x` is a real image *of digit `y`*.
#
# A well-drawn 3 offered as a 7 is now a fake in D's eyes, so G has to draw the digit it is asked for. This is
# the tutorial's conditional GAN (its section V). The training step is the same as in notebook 1; only the
# labels are new.
#
# With the default settings this notebook runs on a CPU in about five minutes.

# %% [markdown]
# ## 0. What a trained conditional GAN draws
#
# Two conditional generators shipped with gan-lightning, each asked for one digit per row (0 at the top): on the
# left the `cgan` this notebook trains, after 10 epochs; on the right `fast_cdcgan`, the best recipe of the
# README (convolutions, a projection discriminator, a class head). Both were trained by `make reproduce`;
# `pretrained(name)` loads one in a second.

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["cgan", "fast_cdcgan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

EPOCHS = 1 if FAST else 5  # passes over the 60,000 training images
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
LOG_EVERY = 1 if FAST else 20  # log the losses every this many batches
SEED = 0

# %%
import logging
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import (ConditionalGAN, GANLightningError, LossProgressBar, MLPDiscriminator, MLPGenerator,
                           MNISTDataModule, SampleGrid)
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers

data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet

# %% [markdown]
# ## 1. Labels in both networks
#
# A label enters a network as a **one-hot** vector: digit 3 becomes ten numbers, all 0 except a 1 in
# position 3. Following the tutorial, the networks simply concatenate it to their input:
#
# - `MLPGenerator(n_classes=10)`: noise (100) + one-hot label (10) = 110 inputs;
# - `MLPDiscriminator(n_classes=10)`: pixels (784) + one-hot label (10) = 794 inputs.
#
# Everything else is the network of notebook 1.

# %%
print(F.one_hot(torch.tensor([3, 7]), num_classes=10))

torch.manual_seed(SEED)
G = MLPGenerator(n_classes=10)
D = MLPDiscriminator(n_classes=10)
print("generator's first layer:    ", G.net[0])
print("discriminator's first layer:", D.net[0])

z = torch.randn(4, G.latent_dim)
y = torch.tensor([0, 1, 2, 3])
fake = G(z, y)
print("G(z, y):", tuple(fake.shape), " D(G(z, y), y):", tuple(D(fake, y)[0].shape))

# %% [markdown]
# A conditional network refuses to work without its labels, with a sentence that says so:

# %%
try:
    D(fake)
except GANLightningError as err:
    print("GANLightningError:", err)

# %% [markdown]
# ## 2. Training
#
# `ConditionalGAN` runs the training step of notebook 1. For every batch of real images and their labels it
# generates fakes *for the same labels*, so D sees real and fake images of every digit in the same
# proportions and can only tell them apart by how they look.
#
# With a conditional model, `SampleGrid` puts one digit per row: 100 samples are ten rows, 0 at the top.

# %%
seed_everything(SEED)
model = ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10), num_classes=10)
logger = CSVLogger("runs", name="cgan")
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY,
                  logger=logger, callbacks=[SampleGrid(num_samples=100), LossProgressBar()], enable_checkpointing=False)
trainer.fit(model, data)
run_dir = Path(logger.log_dir)
print("results in", run_dir)

# %%
grids = sorted((run_dir / "samples").glob("epoch_*.png"))
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
for ax, path in zip(axes, (grids[1], grids[-1])):
    ax.imshow(plt.imread(path))
    ax.set_title(path.stem)
    ax.axis("off")
plt.show()

# %% [markdown]
# After one epoch the label has hardly any effect yet: every row shows the same few shapes. The generator
# first learns what digits look like in general, then to follow the label. After five epochs most rows show
# their digit, some clearly (0, 1 and 7 in our run), others still weakly or mixed with a look-alike (4 and 9,
# 5 and 6). More epochs help: `configs/cgan.yaml` trains for 30.
#
# ## 3. One row per digit, with `model.sample`
#
# `model.sample(num_samples, labels=...)` is the one way to draw from a trained model (the grids, the scripts
# and these notebooks all use it). It returns images in [-1, 1]. For a conditional model, `labels` says
# which digit each image should be:

# %%
rows = torch.arange(10).repeat_interleave(10)  # 0 ten times, then 1 ten times, ..., 9
per_digit = model.sample(100, labels=rows)
show_images(per_digit, "model.sample(100, labels=rows): one row per digit", nrow=10)

# %% [markdown]
# ## 4. Choosing the digit
#
# A single label is used for all images. Change `DIGIT` and run the cell again:

# %%
DIGIT = 7
chosen = model.sample(16, labels=DIGIT)
show_images(chosen, f"model.sample(16, labels={DIGIT})")

# %% [markdown]
# Without `labels`, the model draws them itself, in the proportions of the training data (MNIST has a few
# more 1s than 5s, for example):

# %%
drawn = model.sample_labels(10000)
print("share of each digit in 10,000 drawn labels:", (torch.bincount(drawn, minlength=10) / 10000).numpy().round(3))
show_images(model.sample(16), "model.sample(16): labels drawn by the model")

# %% [markdown]
# ## 5. Noise is the style, the label is the digit
#
# What does the noise do, now that the label decides the digit? Keep one noise vector per row and change
# only the label along the row (`model.sample` takes the noise as `z`):

# %%
torch.manual_seed(SEED)
styles = 5
z = model.noise(styles).repeat_interleave(10, dim=0)  # each noise vector ten times
same_style = model.sample(styles * 10, labels=torch.arange(10).repeat(styles), z=z)
show_images(same_style, "one noise vector per row, labels 0 to 9 along it", nrow=10)

# %% [markdown]
# The label is meant to decide the digit and the noise everything else, the *style*: stroke thickness,
# slant, size. The network was never told about style; it can only use the noise for whatever the label does
# not fix. After a short training the separation is rough. Along a row, the digits the model has learned
# well tend to keep the row's thickness and size; but the noise can also overrule the label (in our run one
# row drew 5- and 9-like shapes for most labels). With longer training the rows become more consistent.
#
# ## What next
#
# - Notebook 3 measures sample quality, and for a conditional model how often it draws the digit it was
#   asked for.
# - The same model from the command line, with checkpoints:
#   `gan-lightning fit --config configs/cgan.yaml --data.data_dir data`; then
#   `gan-lightning predict --ckpt_path runs/cgan/version_0/checkpoints/last.ckpt --samples.label 7 --output.dir sevens`
#   or `python scripts/interpolate.py runs/cgan/version_0/checkpoints/last.ckpt --out walk.gif --steps 30`.
