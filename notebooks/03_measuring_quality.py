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
# # 3. Measuring quality: FID and IS
#
# In notebooks 1 and 2 we judged the samples by eye. That is slow, subjective, and blind to some failures
# (is a grid of 64 digits varied enough?). The losses do not help either: they measure the two networks
# against each other, not the images against real ones. Two numbers are used everywhere instead:
#
# - **FID** (Fréchet Inception Distance): how far the generated images are, as a set, from real images.
#   Lower is better.
# - **IS** (Inception Score): how clearly each image shows one class, and how varied the classes are.
#   Higher is better.
#
# This notebook explains both, computes the best values a generator could hope for (the *real-data floor*),
# follows FID over a training run and keeps the best checkpoint. With the default settings it runs on a CPU in
# about five minutes.
#
# The metrics come from `gan_lightning.callbacks` and `gan_lightning.metrics`; the code cell that begins
# with the comment `# The metrics API of gan_lightning` is the only place that names them.

# %% [markdown]
# ## 0. Two generators and their FID
#
# Two generators shipped with gan-lightning, with the FID `make reproduce` measured for them (the number this
# notebook explains: lower is better). The difference you see between the grids is the difference FID counts.

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

EPOCHS = 2 if FAST else 5  # passes over the 60,000 training images; FID is measured after each
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
NUM_SAMPLES = 200 if FAST else 10000  # images per FID / IS evaluation (10,000 is the usual choice)
LOG_EVERY = 1 if FAST else 20  # log the losses every this many batches
SEED = 0

# %%
import logging
import warnings

import matplotlib.pyplot as plt
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from matplotlib.ticker import MaxNLocator

from gan_lightning import GAN, LossProgressBar, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.checkpoints import load_model
from gan_lightning.logs import read_metrics
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers

# %%
# The metrics API of gan_lightning: the only cell that names it.
from gan_lightning.callbacks import SampleQuality
from gan_lightning.metrics import (
    frechet_distance,
    generated_features,
    get_backbone,
    inception_score,
    reference_features,
)
from gan_lightning.metrics.neighbours import knn_radii, precision_recall

BACKBONE = "mnist"  # the MNIST classifier shipped with gan_lightning; "inception" gives FIDs comparable to papers
backbone = get_backbone(BACKBONE)
print(f"{BACKBONE} backbone: {backbone.num_features} features, {backbone.num_classes} classes")

# %% [markdown]
# ## 1. What FID and IS measure
#
# Both look at images through a trained classifier, the **backbone**. Papers use InceptionV3, trained on
# ImageNet photographs; it is slow on a CPU (every run prints what one evaluation will cost on your machine) and
# knows little about digits.
# `gan_lightning` also ships a small MNIST classifier: fast and meaningful for digits, but its numbers can
# only be compared with numbers from the same backbone, never with FIDs from papers.
#
# **FID** (Heusel et al., 2017) uses the backbone's *features*, the vector of numbers just before its
# classification layer (128 numbers for the MNIST classifier, 2048 for Inception). Compute them for many real
# and many generated images, describe each set by its mean $\mu$ and covariance $\Sigma$, and measure the
# distance between the two Gaussians:
#
# $$\mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2
#   + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)$$
#
# Badly drawn digits move the mean; a lack of variety (mode collapse) shrinks the covariance: FID punishes
# both. It needs more images than features (else the covariance cannot be estimated), and 10,000 is usual.
#
# **IS** (Salimans et al., 2016) uses the backbone's *class probabilities* $p(y \mid x)$. A good sample is
# classified with confidence (a peaked $p(y \mid x)$), and good samples together cover all classes (a flat
# average $p(y)$):
#
# $$\mathrm{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\Vert\, p(y))\big)$$
#
# It lies between 1 and the number of classes (10 for digits). IS never looks at real images: a generator
# that draws one perfect example of each digit, always the same, scores the maximum.
#
# ## 2. The real-data floor
#
# Even a perfect generator would not score FID 0: two different sets of real digits already differ a little,
# and FID computed from a finite number of images is biased upwards. The fair reference is the score of real
# images under the *same protocol*: `NUM_SAMPLES` real training images against the test set, same backbone.
# No generator can be expected to do better; report it next to every model's number. In the same way, the IS
# of real digits is the practical ceiling.

# %%
seed_everything(SEED)
data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet
test_images, _ = data.split("test")
train_images, _ = data.split("train")

real_test = reference_features(backbone, test_images, "mnist", "test")  # cached on disk after the first time
pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(SEED))[:NUM_SAMPLES]
real_train = reference_features(backbone, train_images[pick], "mnist", "train")
floor_fid = frechet_distance(real_test.features, real_train.features)
floor_is, _ = inception_score(real_train.logits)
protocol = f"{NUM_SAMPLES} images vs {len(test_images)} MNIST test images, {BACKBONE} backbone"
print(f"real-data floor ({protocol}): FID {floor_fid:.2f}, IS {floor_is:.2f}")

# %% [markdown]
# For contrast, an untrained generator, which draws noise:

# %%
untrained = GAN(MLPGenerator(), MLPDiscriminator())
noise = generated_features(untrained, backbone, NUM_SAMPLES)
print(f"untrained generator ({protocol}): FID {frechet_distance(real_test.features, noise.features):.2f}, "
      f"IS {inception_score(noise.logits)[0]:.2f}")

# %% [markdown]
# ## 3. FID over training, and the best checkpoint
#
# The callback `SampleQuality` scores `NUM_SAMPLES` samples after every epoch with the metrics it is given
# and logs `val/fid` and `val/is`; one set of samples serves both. It draws the samples from the same fixed
# noise each time, so the numbers of two epochs differ only because the generator changed.
# `ModelCheckpoint(monitor="val/fid", mode="min")` keeps the checkpoint with the lowest FID: GAN training does
# not always improve to the end, and the last epoch is not necessarily the best one.

# %%
seed_everything(SEED)
model = GAN(MLPGenerator(), MLPDiscriminator())
logger = CSVLogger("runs", name="quality")
keep_best = ModelCheckpoint(monitor="val/fid", mode="min", filename="epoch={epoch}-fid={val/fid:.2f}",
                            auto_insert_metric_name=False)
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY, logger=logger,
                  callbacks=[SampleQuality(metrics=["fid", "is"], backbone=BACKBONE, num_samples=NUM_SAMPLES),
                             keep_best, LossProgressBar()])
trainer.fit(model, data)

# %%
logs = read_metrics(logger.log_dir)
fids, scores = logs["val/fid"], logs["val/is"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
ax1.plot(fids.epochs, fids.values, "o-", label="model")
ax1.axhline(floor_fid, color="gray", linestyle=":", label="real-data floor")
ax1.set_title(f"val/fid (lower is better)\n{protocol}", fontsize=9)
ax2.plot(scores.epochs, scores.values, "o-", label="model")
ax2.axhline(floor_is, color="gray", linestyle=":", label="real data")
ax2.set_title(f"val/is (higher is better)\n{NUM_SAMPLES} images, {BACKBONE} backbone", fontsize=9)
for ax in (ax1, ax2):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
plt.show()
for epoch, fid, score in zip(fids.epochs, fids.values, scores.values):
    print(f"epoch {epoch}: FID {fid:.2f}, IS {score:.2f}")

# %% [markdown]
# FID falls quickly in the first epochs, then more slowly, and stays well above the real-data floor for this
# small fully connected GAN. The IS rises as the digits become recognizable, but after a few epochs it is
# still far below the value of real digits: the classifier is much less sure about these speckled digits than
# about real ones (a low IS can also mean that the samples cover few classes). A run can also get worse for a
# while; that is what the best checkpoint is for:

# %%
best_path = keep_best.best_model_path
print(f"best checkpoint: {best_path} (val/fid {keep_best.best_model_score.item():.2f})")
# Saved from Python, the checkpoint holds the weights but not how to build the networks: pass them.
best = load_model(best_path, generator=MLPGenerator(), discriminator=MLPDiscriminator())
show_images(best.sample(64), "samples of the best checkpoint")

# %% [markdown]
# ## 4. Precision and recall: fidelity and diversity apart
#
# FID puts two different failures into one number: samples that do not look like real digits (low
# *fidelity*), and samples that miss kinds of real digits (low *diversity*: mode collapse). **Precision and
# recall** (Kynkäänniemi et al., 2019) measure them apart, in the backbone's feature space. Around every real
# image, draw a ball that reaches its 3rd-nearest real neighbour; together the balls approximate where real
# images live, their *manifold*. **Precision** is the share of generated images that fall inside some real
# ball: are the samples realistic? **Recall** does the same the other way round, with balls around the
# generated images: the share of real images inside the generated manifold, does the generator cover the
# variety of the data? The picture shows the two failures with points in two dimensions: a generator
# collapsed onto one kind has a high precision and a low recall; one that spreads its samples where no real
# image lies has the opposite.

# %%
gen = torch.Generator().manual_seed(SEED)
centres = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])  # three kinds of "digit"
real_2d = centres[torch.randint(3, (300,), generator=gen)] + 0.5 * torch.randn(300, 2, generator=gen)
fakes = {"collapsed onto one kind": centres[0] + 0.3 * torch.randn(300, 2, generator=gen),
         "spread off the data": 1.7 * torch.randn(300, 2, generator=gen)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (title, fake_2d) in zip(axes, fakes.items()):
    p, r = precision_recall(real_2d, fake_2d, k=3)
    for point, radius in zip(real_2d, knn_radii(real_2d, 3)):  # the real "manifold": a ball around each point
        ax.add_patch(plt.Circle(point.tolist(), radius.item(), color="C0", alpha=0.06))
    ax.scatter(*real_2d.T, s=5, color="C0", label="real")
    ax.scatter(*fake_2d.T, s=5, color="C1", label="generated")
    ax.set_title(f"{title}: precision {p:.2f}, recall {r:.2f}")
    ax.set(xlim=(-5, 5), ylim=(-4, 5.5), aspect="equal")
    ax.legend(loc="lower right")
plt.show()

# %%
best_features = generated_features(best, backbone, NUM_SAMPLES)
p, r = precision_recall(real_test.features, best_features.features)
floor_p, floor_r = precision_recall(real_test.features, real_train.features)
print(f"best checkpoint: precision {p:.3f}, recall {r:.3f}; real training images: {floor_p:.3f}, {floor_r:.3f}")

# %% [markdown]
# Both numbers lie between 0 and 1, higher is better, and real images against real images score the
# practical maximum (not 1: the balls are estimates too). Density and coverage (Naeem et al., 2020) are two
# variants that outliers sway less; the recipes' table reports all four next to FID.

# %% [markdown]
# ## Reading the numbers honestly
#
# - A number means nothing without its **protocol**: backbone, number of samples, reference images. The
#   callbacks print it with every value; always report it, and the real-data floor next to it.
# - FIDs with the MNIST backbone are not comparable with FIDs in papers, which use Inception. With Inception
#   features, the best MNIST FIDs in a large study (Lucic et al., 2018) were around 7 for the standard GAN.
# - FID and IS are estimates from samples: a difference of a few tenths between two runs can be noise. Compare
#   runs with the same `NUM_SAMPLES` and, better, several seeds.
# - For a conditional GAN, the `ConditionalAccuracy` callback measures how often the classifier recognizes
#   the digit the generator was asked for.
#
# From the command line, `configs/gan.yaml` already tracks FID and keeps the best checkpoint;
# `python scripts/plot_metrics.py runs/gan/version_0 --out gan.png` plots `val/fid` next to the losses, and
# `python scripts/evaluate.py CHECKPOINT --real-floor` scores a checkpoint with its real-data floor.
