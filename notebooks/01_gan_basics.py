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
# # 1. GAN basics: two networks that learn from each other
#
# A generative adversarial network (GAN) is two neural networks trained against each other:
#
# - the **generator** G turns random noise into images;
# - the **discriminator** D looks at an image and says how likely it is to be a real one.
#
# D learns to tell real digits from G's fakes, and G learns to fool D. If all goes well, G ends up drawing
# digits that look like MNIST's.
#
# In this notebook we look at the two networks, the losses, one training step written out by hand, and then
# train with `gan_lightning` and read the results: sample grids and loss curves. At the end we break training
# on purpose, to see what failure looks like.
#
# Everything here comes from the `gan_lightning` package; nothing of it is rewritten in the notebook. With the
# default settings below it runs on a CPU in about five minutes (set `EPOCHS` lower to go faster).

# %% [markdown]
# ## 0. What a trained GAN draws
#
# Before training anything, here is what two generators shipped with gan-lightning draw. On the left, the
# tutorial's GAN that this notebook trains, after 10 epochs; on the right, `fast_cdcgan`, the best recipe of the
# README, asked for one digit per row. Both were trained by `make reproduce` on this project's CPU (the README's
# results table gives their numbers; FID is explained in notebook 3, lower is better). `pretrained(name)` loads
# one in a second and downloads nothing.

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["gan", "fast_cdcgan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

EPOCHS = 1 if FAST else 5  # passes over the 60,000 training images
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
BAD_BATCHES = 3 if FAST else 200  # length of the two deliberately bad runs in section 6
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
from torchvision.utils import make_grid

from gan_lightning import GAN, LossProgressBar, MLPDiscriminator, MLPGenerator, MNISTDataModule, SampleGrid
from gan_lightning.objective.losses import bce_d_loss, minimax_g_loss, nonsaturating_g_loss
from gan_lightning.logs import read_metrics
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers


# %% [markdown]
# ## 1. The data
#
# MNIST holds 70,000 handwritten digits of 28x28 gray pixels (60,000 for training). `MNISTDataModule` reads
# them and scales the pixels from 0...255 to **-1...1**, the range of the generator's last layer (`tanh`), so
# that real and fake images are numbers of the same kind. Each batch is a pair (images, labels); the plain
# GAN ignores the labels.

# %%
data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet
data.setup("fit")
real, labels = next(iter(data.train_dataloader()))
print("batch:", tuple(real.shape), "pixel range:", real.min().item(), "to", real.max().item())
print("labels:", labels[:16].tolist())
show_images(real[:32], "real MNIST digits")

# %% [markdown]
# ## 2. The two networks
#
# Both are the tutorial's small fully connected networks (multi-layer perceptrons):
#
# - **Generator**: 100 random numbers z ~ N(0, 1) -> 256 -> 512 -> 1024 -> 784 pixels, reshaped to 1x28x28.
#   LeakyReLU(0.2) between the layers, `Tanh` at the end to land in [-1, 1].
# - **Discriminator**: 784 pixels -> 512 -> 256 -> **one number per image**, with LeakyReLU(0.2).
#
# The discriminator's output is a *logit*, any real number: large and positive means "real", large and
# negative means "fake". `sigmoid(logit)` turns it into the probability of "real". There is no `Sigmoid`
# layer at the end on purpose: the loss applies it, which is safer (section 3).

# %%
torch.manual_seed(SEED)
G = MLPGenerator()  # latent_dim=100, img_shape=(1, 28, 28), hidden_dims=(256, 512, 1024)
D = MLPDiscriminator()  # img_shape=(1, 28, 28), hidden_dims=(512, 256)
print(G)
print(D)
print(f"generator: {sum(p.numel() for p in G.parameters()):,} parameters")
print(f"discriminator: {sum(p.numel() for p in D.parameters()):,} parameters")

# %%
z = torch.randn(16, G.latent_dim)
fake = G(z)
logits, _ = D(fake)  # D's logits, and the logits of a class head (None here: D has none)
print("noise:", tuple(z.shape), "-> images:", tuple(fake.shape))
print("D's logits:", logits[:4].detach().numpy().round(3))
print("P(real) = sigmoid(logit):", torch.sigmoid(logits[:4]).detach().numpy().round(3))
show_images(fake, "the untrained generator draws noise")

# %% [markdown]
# The untrained generator draws noise, and the untrained discriminator answers about 0.5 for everything: it
# knows nothing yet. `D` returns a pair: its logits, and the logits of a class head that AC-GAN and InfoGAN
# use (None for this discriminator, which has none). Below, `D(x)[0]` takes the logits.
#
# ## 3. The losses
#
# The discriminator is a binary classifier: real images should get label 1, fakes label 0. Its loss is the
# binary cross-entropy (BCE) on both:
#
# $$L_D = \tfrac12\big[\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)\big]
#       = -\tfrac12\big[\log D(x) + \log(1 - D(G(z)))\big]$$
#
# The generator wants D to answer 1 for its fakes. The original paper's *minimax* loss minimizes
# $\log(1 - D(G(z)))$; the tutorial, like almost everyone, uses the *non-saturating* loss
# $L_G = \mathrm{BCE}(D(G(z)), 1) = -\log D(G(z))$. We will see why below.
#
# **Why softplus?** With $D(x) = \sigma(l)$ for a logit $l$:
#
# $$\mathrm{BCE}(\sigma(l), 1) = -\log\sigma(l) = \log(1 + e^{-l}) = \mathrm{softplus}(-l), \qquad
#   \mathrm{BCE}(\sigma(l), 0) = -\log(1 - \sigma(l)) = \mathrm{softplus}(l)$$
#
# So `gan_lightning.objective.losses` computes BCE as `softplus` of the logits: the same numbers as `Sigmoid` followed
# by `BCELoss`, without their weakness. When D is very sure, $\sigma(l)$ rounds to exactly 0 or 1 in float32
# and the logarithm breaks (PyTorch's `BCELoss` clamps it at 100); softplus stays exact. It is also what
# `F.binary_cross_entropy_with_logits` does, and it is safe under mixed precision.

# %%
logit = torch.tensor([-3.0, 0.0, 2.0])
print("BCE(sigmoid(l), 1):", F.binary_cross_entropy(torch.sigmoid(logit), torch.ones(3), reduction="none").numpy())
print("softplus(-l):      ", F.softplus(-logit).numpy())
print("BCE(sigmoid(l), 0):", F.binary_cross_entropy(torch.sigmoid(logit), torch.zeros(3), reduction="none").numpy())
print("softplus(l):       ", F.softplus(logit).numpy())

very_sure = torch.tensor([-120.0])  # D is (rightly or wrongly) certain this image is fake
print("sigmoid(-120) in float32:", torch.sigmoid(very_sure).item())
print("BCE(sigmoid(-120), 1) =", F.binary_cross_entropy(torch.sigmoid(very_sure), torch.ones(1)).item(),
      "but softplus(120) =", F.softplus(-very_sure).item())

# %% [markdown]
# The library's loss functions give the same numbers as BCE written with PyTorch's own functions:

# %%
real_logits, fake_logits = D(real)[0], D(G(torch.randn(real.shape[0], G.latent_dim)))[0]
ones, zeros = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
d_by_hand = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, ones)
                   + F.binary_cross_entropy_with_logits(fake_logits, zeros))
print("bce_d_loss:", bce_d_loss(real_logits, fake_logits).item(), " by hand:", d_by_hand.item())
print("nonsaturating_g_loss:", nonsaturating_g_loss(fake_logits).item(),
      " by hand:", F.binary_cross_entropy_with_logits(fake_logits, ones).item())

# %% [markdown]
# **Why the non-saturating loss?** Early in training D easily spots the fakes: their logits are very
# negative. Look at the gradient each generator loss sends back through such a logit (this gradient is all
# G learns from):

# %%
fake_logits = torch.tensor([-8.0, 0.0, 8.0], requires_grad=True)
print("D(G(z)) = P(real):", torch.sigmoid(fake_logits).detach().numpy().round(4))
for name, g_loss in (("minimax", minimax_g_loss), ("non-saturating", nonsaturating_g_loss)):
    # The losses average over the batch; multiply by its size to see each image's own gradient.
    (grad,) = torch.autograd.grad(g_loss(fake_logits) * len(fake_logits), fake_logits)
    print(f"{name:>15} loss, gradient per logit:", grad.numpy().round(4))

# %% [markdown]
# Where D is sure the image is fake (logit -8), the minimax loss gives G almost no gradient (-0.0003): it
# *saturates*, and G cannot learn exactly when it most needs to. The non-saturating loss gives a strong
# gradient there (-0.9997). Both push in the same direction (make the logit larger).
#
# ## 4. One training step by hand
#
# One step of GAN training, for one batch of real images:
#
# 1. draw noise z and generate fakes `G(z)`;
# 2. **discriminator step**: loss on the real images (label 1) and on the fakes (label 0), then update D.
#    The fakes are `detach()`ed: this step must not reach into G;
# 3. **generator step**: loss of D's answer on the fakes with label 1, gradient through D into G, update G
#    only.
#
# Each network has its own optimizer; these are the tutorial's settings (Adam, learning rate 0.0002,
# betas (0.5, 0.999)).

# %%
torch.manual_seed(SEED)
G, D = MLPGenerator(), MLPDiscriminator()
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

z = torch.randn(real.shape[0], G.latent_dim)
fake = G(z)

# Discriminator step: real -> 1, fake -> 0.
d_loss = bce_d_loss(D(real)[0], D(fake.detach())[0])
opt_d.zero_grad()
d_loss.backward()
opt_d.step()

# Generator step: make D answer 1 for the fakes. Only G's optimizer steps.
g_loss = nonsaturating_g_loss(D(fake)[0])
opt_g.zero_grad()
g_loss.backward()
opt_g.step()

with torch.no_grad():  # the same batch and noise, measured again after the updates
    d_after = bce_d_loss(D(real)[0], D(fake)[0])
    g_after = nonsaturating_g_loss(D(G(z))[0])
print(f"D loss {d_loss.item():.4f} -> {d_after.item():.4f} after D's step")
print(f"G loss {g_loss.item():.4f} -> {g_after.item():.4f} after G's step")

# %% [markdown]
# Each network got a little better at its own job on this batch. Training is nothing more than this step,
# repeated over thousands of batches.
#
# `gan_lightning.GAN` does exactly this in its `training_step` (see `gan_lightning/models/gan.py`), with a
# few things added: Lightning's manual optimization (`manual_backward`, and `toggled_optimizer`, which
# freezes D during the G step instead of computing gradients for D and throwing them away as we did above),
# `n_critic` D steps per G step when asked, and logging.
#
# ## 5. Training with gan_lightning
#
# Now the same thing with the library: the `GAN` module holds the two networks, their losses and optimizers;
# Lightning's `Trainer` runs the loop. Two helpers record what happens:
#
# - `CSVLogger` writes the logged values to `runs/gan_basics/version_N/metrics.csv`;
# - `SampleGrid` saves a grid of 64 samples after every epoch to `runs/gan_basics/version_N/samples/`,
#   always from the *same* fixed noise, so you can watch the same 64 points turn into digits.
#   `epoch_000.png` is the untrained generator.

# %%
seed_everything(SEED)
model = GAN(MLPGenerator(), MLPDiscriminator())  # the tutorial's setup: BCE loss, Adam 2e-4, betas (0.5, 0.999)
logger = CSVLogger("runs", name="gan_basics")
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY,
                  logger=logger, callbacks=[SampleGrid(num_samples=64, nrow=8), LossProgressBar()],
                  enable_checkpointing=False)
trainer.fit(model, data)
run_dir = Path(logger.log_dir)
print("results in", run_dir)

# %% [markdown]
# ### Sample grids over the epochs

# %%
grids = sorted((run_dir / "samples").glob("epoch_*.png"))
shown = grids if len(grids) <= 4 else [grids[0], grids[1], grids[len(grids) // 2], grids[-1]]
fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 4), squeeze=False)
for ax, path in zip(axes[0], shown):
    ax.imshow(plt.imread(path))
    ax.set_title(path.stem)
    ax.axis("off")
plt.show()

# %% [markdown]
# `epoch_000` is the untrained generator: gray noise. After the first epoch there are blurry blobs and
# strokes, and many cells look alike: an early, passing lack of variety is common. After a few epochs the
# cells hold varied digit shapes, many of them readable, still speckled with isolated white pixels: a fully
# connected network has no notion of neighbouring pixels, and a few epochs are a short training (more epochs
# help; the convolutional DCGAN of `configs/dcgan.yaml` draws much cleaner digits). Each cell changes
# gradually from epoch to epoch because its noise stays the same.
#
# ### Loss curves
#
# `read_metrics` reads the run's `metrics.csv`. Its `step` column counts training batches, that is
# generator updates.

# %%
logs = read_metrics(run_dir)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
for key in ("train/d_loss", "train/g_loss"):
    ax1.plot(logs[key].steps, logs[key].values, label=key)
ax1.axhline(0.693, color="gray", linestyle=":", label="ln 2 (D answers 0.5)")
ax1.set_xlabel("batches")
ax1.legend()
for key in ("train/d_real", "train/d_fake"):
    ax2.plot(logs[key].steps, logs[key].values, label=key)
ax2.set_ylim(0, 1)
ax2.set_xlabel("batches")
ax2.set_title("D's mean P(real) on real and on fake images")
ax2.legend()
plt.show()

# %% [markdown]
# These curves do not look like a classifier's. The losses do not fall to zero: each network's progress
# makes the other's job harder, so both losses wander around a level. If D could not tell real from fake at
# all it would answer 0.5 everywhere, and both losses would be ln 2 = 0.693.
#
# In a healthy run, like this one, D stays somewhat ahead (`d_real` above `d_fake`) but neither is pinned at
# 1 or 0, and both losses stay bounded. The losses say little about image quality: judge by the grids, and
# by the metrics of notebook 3.
#
# ## 6. When training goes wrong
#
# GANs are famously fragile. Two classic failures, provoked on purpose in short runs of `BAD_BATCHES`
# batches. The helper below trains a model and shows D's answers and 64 samples side by side. Each run starts
# from the same seed, so only the setting we change differs.

# %%
def short_run(name, model):
    """Train ``model`` for BAD_BATCHES batches, then plot D's answers and 64 samples."""
    logger = CSVLogger("runs", name=name)
    trainer = Trainer(max_epochs=1, limit_train_batches=BAD_BATCHES, log_every_n_steps=LOG_EVERY, logger=logger,
                      enable_checkpointing=False, enable_model_summary=False)
    trainer.fit(model, data)
    logs = read_metrics(logger.log_dir)
    samples = model.sample(64)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("train/d_real", "train/d_fake"):
        ax1.plot(logs[key].steps, logs[key].values, label=key)
    ax1.set_ylim(-0.02, 1.02)
    ax1.set_xlabel("batches")
    ax1.legend()
    grid = make_grid(samples.cpu(), nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
    ax2.imshow(grid.permute(1, 2, 0).numpy())
    ax2.axis("off")
    fig.suptitle(name)
    plt.show()
    for key in ("train/d_loss", "train/g_loss"):
        print(f"last {key}: {logs[key].values[-1]:.4f}")
    return samples


# %% [markdown]
# ### 6.1 A discriminator that is too strong
#
# Give D five steps for every G step (`n_critic=5`) and use the original *minimax* generator loss.

# %%
seed_everything(SEED)
strong_d = short_run("strong_discriminator", GAN(MLPGenerator(), MLPDiscriminator(), loss="minimax", n_critic=5))

# %% [markdown]
# Within a few dozen batches D wins completely: `d_real` goes to 1 and `d_fake` to 0, and D's loss to almost
# 0. The minimax loss then saturates, as computed in section 3: G receives almost no gradient and stops
# learning, and its samples stay gray noise. Note G's loss: it is close to 0, which is its *worst* value (the
# minimax loss `log(1 - D(G(z)))` is never above 0, and G wants it far below). A loss near 0 usually looks good,
# and here G draws nothing. A loss value alone never tells you that a GAN works.
#
# With the non-saturating BCE loss, five D steps per G step were not fatal in our tries (change the cell to
# `loss="bce"` to see): the confident D still sends useful gradients. This is why the tutorial, and
# `gan_lightning` by default, use that loss.
#
# ### 6.2 Mode collapse
#
# Now make the *generator* hasty: ten times the learning rate (0.002 instead of 0.0002).

# %%
seed_everything(SEED)
hasty_g = GAN(MLPGenerator(), MLPDiscriminator(),
              optimizer_g=lambda params: torch.optim.Adam(params, lr=2e-3, betas=(0.5, 0.999)))
collapsed = short_run("mode_collapse", hasty_g)

# %% [markdown]
# All 64 cells show (nearly) the same shape, although each one comes from different noise. This is **mode
# collapse**: G has found one output that fooled D for a moment and sends all noise there, instead of
# covering the variety of digits. D soon learns to reject that one image (`d_fake` drops towards 0); when G
# moves its single image somewhere else it fools D briefly (the spikes of `d_fake`), and so on: the samples
# do not become diverse.
#
# Collapse is easy to measure: how different are the images of a batch from one another? Below is the mean
# distance between two images of a batch, compared as 7x7 thumbnails (averages of 4x4 pixel blocks) so that
# the speckle of single pixels, which differs from image to image even in a collapsed model, does not count
# as variety.

# %%
def spread(images):
    """Mean Euclidean distance between two images of the batch, compared as 7x7 thumbnails."""
    thumbnails = F.avg_pool2d(images, 4).flatten(1)
    return torch.pdist(thumbnails).mean().item()


print(f"real digits:      {spread(real):.2f}")
print(f"healthy model:    {spread(model.sample(64)):.2f}")
print(f"collapsed model:  {spread(collapsed):.2f}")
print(f"too-strong D:     {spread(strong_d):.2f}")

# %% [markdown]
# The collapsed model's samples are nearly identical (a spread close to 0), while real digits are far
# apart, and the healthy model lies in between (short training, less varied than real digits). The gray noise
# of the too-strong-D model has almost no spread either: G learned nothing, so all its outputs are alike.
# Real training runs more often show a *partial* collapse (too many 1s, say) than this total one; the FID of
# notebook 3 notices both.
#
# These two runs are short and use one seed; with other seeds or settings the failures come earlier, later,
# or in another form. GAN training is sensitive to its settings, which is why the tutorial's recipes in
# `configs/` (`gan.yaml`, `cgan.yaml`) keep its values, and the `fast_` recipes change them only where a
# measurement showed a gain (their configs say which).
#
# ## What next
#
# - Notebook 2: a *conditional* GAN, which draws the digit you ask for.
# - Notebook 3: measuring sample quality with FID and IS.
# - The same training from the command line, with checkpoints:
#   `gan-lightning fit --config configs/gan.yaml --data.data_dir data`, then
#   `gan-lightning predict --ckpt_path runs/gan/version_0/checkpoints/last.ckpt` (writes `samples/grid.png`).
