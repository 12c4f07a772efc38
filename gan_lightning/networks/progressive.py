"""Progressive growing of GANs (Karras et al. 2018): a generator and a discriminator that grow by resolution.

Resolution plan: the image side is halved while it stays even and at least 4, so 28x28 MNIST trains at
**7x7 -> 14x14 -> 28x28** (three stages, no padding: 28 = 7 * 2**2; padding to 32 for the paper's 4x4 start
would add a stage and spend a quarter of every image on a blank border), and 32x32 at 4 -> 8 -> 16 -> 32.

As in the paper's official code, both networks always speak the full resolution, whatever the stage: the
generator draws at its current resolution and upsamples to ``img_shape`` (nearest neighbour), the
discriminator average-pools its input down to the current resolution. So ``G(z)`` is always ``img_shape``,
sampling, grids and metrics work at every stage, and ``fade_in_reals`` prepares real images to match.
While a new resolution fades in (``alpha`` from 0 to 1), G blends the new block's image with the upsampled
image of the previous one, and D blends the new block's features with those of the pooled image.

Paper features: pixel normalization after every convolution of G (and on z), minibatch standard deviation
before the last block of D, equalized learning rate (weights drawn from N(0, 1) and scaled at run time by
He's constant, through ``torch.nn.utils.parametrize``), LeakyReLU(0.2), nearest upsampling and average
pooling. Unlike the paper, G ends in a Tanh, keeping the library's contract of images in [-1, 1].
Widths halve as the resolution doubles: ``base_channels`` at full resolution, at most ``max_channels``.
"""

from collections.abc import Iterator
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.networks._checks import check_images, check_labels, check_latent, shape_str
from gan_lightning.networks._layers import (
    MinibatchStdDev,
    PixelNorm,
    discriminator_settings,
    equalized,
    generator_settings,
)
from gan_lightning.networks.base import Discriminator, Generator

# ---------------------------------------------------------------------------------------------------------
# Convolutions and resampling (the layers themselves are in _layers.py)
# ---------------------------------------------------------------------------------------------------------


def _conv(c_in: int, c_out: int, kernel: int = 3) -> nn.Module:
    return equalized(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2))


def _up(x: Tensor, factor: int) -> Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def _down(x: Tensor, factor: int) -> Tensor:
    return x if factor == 1 else F.avg_pool2d(x, factor)


# ---------------------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------------------


def stage_sizes(img_shape: tuple[int, ...]) -> list[int]:
    """Image side at each stage, smallest first: [7, 14, 28] for 1x28x28, [4, 8, 16, 32] for 3x32x32."""
    sizes = [img_shape[1]] if len(img_shape) == 3 and img_shape[1] == img_shape[2] else []
    while sizes and sizes[0] % 2 == 0 and sizes[0] // 2 >= 4:
        sizes.insert(0, sizes[0] // 2)
    if len(sizes) < 2:
        raise GANLightningError(
            f"Progressive networks need square images whose side halves at least once to 4 or more, but the images "
            f"are {shape_str(img_shape)}: set the data's image_size (--data.image_size) to e.g. 28 (7 -> 14 -> 28), "
            "32 or 64 (4 -> 8 -> ... -> 64), or img_shape when building the networks in Python.")
    return sizes


def fade_in_reals(images: Tensor, size: int, alpha: float = 1.0) -> Tensor:
    """Real images as the generator at resolution ``size`` can draw them, at their own full size.

    Average-pooled to ``size``; while that resolution fades in (``alpha`` < 1), blended with the upsampled
    half-resolution image as in the paper; upsampled back (nearest), which the discriminator pools again.
    """
    factor = images.shape[-1] // size
    if factor == 1 and alpha >= 1:
        return images
    low = _down(images, factor)
    if alpha < 1:
        low = torch.lerp(_up(_down(low, 2), 2), low, alpha)
    return _up(low, factor)


class _Progressive:
    """Stage and fade state shared by both networks; the training module sets it with ``set_progress``."""

    sizes: list[int]
    stage: int
    alpha: float

    @property
    def num_stages(self) -> int:
        return len(self.sizes)

    @property
    def resolution(self) -> int:
        """Side of the images the network works at now (before upsampling or after pooling)."""
        return self.sizes[self.stage]

    def set_progress(self, stage: int, alpha: float = 1.0) -> None:
        """Work at ``sizes[stage]``, the new block weighted by ``alpha`` in [0, 1] (1 once faded in)."""
        if not 0 <= stage < len(self.sizes) or not 0.0 <= alpha <= 1.0:
            raise GANLightningError(f"set_progress({stage}, {alpha}): the stage must be in [0, "
                                    f"{len(self.sizes) - 1}] and alpha in [0, 1].")
        self.stage, self.alpha = stage, 1.0 if stage == 0 else float(alpha)

    @property
    def fading(self) -> bool:
        return self.stage > 0 and self.alpha < 1.0

    def parameters_in_use(self) -> Iterator[nn.Parameter]:
        """The parameters the forward uses at the current stage and fade (the others get no gradient)."""
        for module in self._modules_in_use():
            yield from module.parameters()

    def _modules_in_use(self) -> list[nn.Module]:
        raise NotImplementedError


def _widths(sizes: list[int], base_channels: int, max_channels: int) -> list[int]:
    return [min(base_channels * 2 ** (len(sizes) - 1 - k), max_channels) for k in range(len(sizes))]


# ---------------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------------


class ProgressiveGenerator(_Progressive, Generator):
    """Noise -> image in [-1, 1] of ``img_shape``, drawn at the current stage's resolution and upsampled.

    Stage 0: pixel-normalized z -> dense -> (C, s, s) -> 3x3 conv; each later stage: upsample x2 -> two 3x3
    convs; every conv followed by LeakyReLU(0.2) and pixel norm. Each stage has its own 1x1 ``to_rgb``.
    Built at its last stage (full resolution, no fade); ``ProgressiveGAN`` starts it at stage 0.

    Args:
        latent_dim: Size of the noise vector z.
        img_shape: Shape (C, S, S) of the images at full resolution, S halving to 4 or more (28, 32, 64, ...);
            None: MNIST's 1x28x28 (``gan-lightning fit`` sets the data's).
        base_channels: Width of the full-resolution block; each coarser block is twice as wide.
        max_channels: Upper limit of the block widths.

    >>> g = ProgressiveGenerator(latent_dim=32, base_channels=8)
    >>> g.set_progress(stage=1, alpha=0.5)  # 14x14, fading in over 7x7
    >>> g(torch.randn(2, 32)).shape, g.resolution
    (torch.Size([2, 1, 28, 28]), 14)
    """

    def __init__(self, latent_dim: int = 128, img_shape: Optional[tuple[int, int, int]] = None,
                 base_channels: int = 32, max_channels: int = 256) -> None:
        super().__init__()
        generator_settings(self, latent_dim, img_shape, 0)
        self.sizes = stage_sizes(self.img_shape)
        widths = _widths(self.sizes, base_channels, max_channels)
        s0 = self.sizes[0]
        first = nn.Sequential(PixelNorm(), equalized(nn.Linear(latent_dim, widths[0] * s0 * s0)),
                              nn.Unflatten(1, (widths[0], s0, s0)), nn.LeakyReLU(0.2), PixelNorm(),
                              _conv(widths[0], widths[0]), nn.LeakyReLU(0.2), PixelNorm())
        self.blocks = nn.ModuleList([first])
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            self.blocks.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             _conv(w_in, w_out), nn.LeakyReLU(0.2), PixelNorm(),
                                             _conv(w_out, w_out), nn.LeakyReLU(0.2), PixelNorm()))
        self.to_rgb = nn.ModuleList(equalized(nn.Conv2d(w, self.img_shape[0], 1), gain=1.0) for w in widths)
        self.set_progress(len(self.sizes) - 1)

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        check_latent(z, self.latent_dim)
        check_labels(labels, z.shape[0], self.n_classes, "generator")
        h = previous = self.blocks[0](z)
        for block in self.blocks[1:self.stage + 1]:
            previous, h = h, block(h)
        image = torch.tanh(self.to_rgb[self.stage](h))
        if self.fading:
            coarse = torch.tanh(self.to_rgb[self.stage - 1](previous))
            image = torch.lerp(_up(coarse, 2), image, self.alpha)
        return _up(image, self.img_shape[1] // self.resolution)

    def _modules_in_use(self) -> list[nn.Module]:
        used = [*self.blocks[:self.stage + 1], self.to_rgb[self.stage]]
        return used + [self.to_rgb[self.stage - 1]] if self.fading else used


class ProgressiveDiscriminator(_Progressive, Discriminator):
    """Image of ``img_shape`` -> one logit, looking at it average-pooled to the current stage's resolution.

    Each stage's 1x1 ``from_rgb`` and, above stage 0, two 3x3 convs then average pooling x2; the last block
    (stage 0) appends the minibatch standard deviation, then a 3x3 conv, a dense layer and the logit.
    Returns ``(logits, None)`` (no sigmoid, no class head); no batch norm, so it suits WGAN-GP.

    Args:
        img_shape: Shape (C, S, S) of the input images at full resolution; None: MNIST's 1x28x28
            (``gan-lightning fit`` sets the data's).
        base_channels: Width of the full-resolution block; each coarser block is twice as wide.
        max_channels: Upper limit of the block widths.
        mbstd_group: Images per minibatch-standard-deviation group (4 in the paper); 0 turns it off.

    >>> d = ProgressiveDiscriminator(base_channels=8)
    >>> d.set_progress(stage=0)  # 7x7
    >>> d(torch.randn(4, 1, 28, 28))[0].shape
    torch.Size([4])
    """

    def __init__(self, img_shape: Optional[tuple[int, int, int]] = None, base_channels: int = 32,
                 max_channels: int = 256, mbstd_group: int = 4) -> None:
        super().__init__()
        if mbstd_group < 0:
            raise GANLightningError(f"mbstd_group={mbstd_group} must be >= 0 (0 turns it off; the paper uses 4).")
        discriminator_settings(self, img_shape, 0, 0)
        self.sizes = stage_sizes(self.img_shape)
        widths = _widths(self.sizes, base_channels, max_channels)
        self.from_rgb = nn.ModuleList(nn.Sequential(_conv(self.img_shape[0], w, 1), nn.LeakyReLU(0.2))
                                      for w in widths)
        s0, extra = self.sizes[0], 1 if mbstd_group else 0
        self.head = nn.Sequential(*([MinibatchStdDev(mbstd_group)] if mbstd_group else []),
                                  _conv(widths[0] + extra, widths[0]), nn.LeakyReLU(0.2), nn.Flatten(),
                                  equalized(nn.Linear(widths[0] * s0 * s0, widths[0])), nn.LeakyReLU(0.2),
                                  equalized(nn.Linear(widths[0], 1), gain=1.0))
        # blocks[k] takes stage k's features down to stage k - 1 (blocks[0] is unused: the head ends stage 0)
        self.blocks = nn.ModuleList([nn.Identity()])
        for w_out, w_in in zip(widths[:-1], widths[1:]):
            self.blocks.append(nn.Sequential(_conv(w_in, w_in), nn.LeakyReLU(0.2), _conv(w_in, w_out),
                                             nn.LeakyReLU(0.2), nn.AvgPool2d(2)))
        self.set_progress(len(self.sizes) - 1)

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> tuple[Tensor, None]:
        check_images(x, self.img_shape)
        check_labels(labels, x.shape[0], self.n_classes, "discriminator")
        x = _down(x, self.img_shape[1] // self.resolution)
        h = self.from_rgb[self.stage](x)
        if self.stage > 0:
            h = self.blocks[self.stage](h)
            if self.fading:
                h = torch.lerp(self.from_rgb[self.stage - 1](_down(x, 2)), h, self.alpha)
        for block in reversed(self.blocks[1:self.stage]):
            h = block(h)
        return self.head(h).squeeze(1), None

    def _modules_in_use(self) -> list[nn.Module]:
        used = [self.from_rgb[self.stage], *self.blocks[1:self.stage + 1], self.head]
        return used + [self.from_rgb[self.stage - 1]] if self.fading else used
