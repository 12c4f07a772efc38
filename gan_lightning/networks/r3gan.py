"""The R3GAN networks (Huang et al. 2024, "The GAN is dead; long live the GAN! A Modern GAN Baseline"), written
here from the paper: a plain modern ConvNet with no normalization and no tricks.

Both networks are stages of residual blocks, one stage per resolution. A block is an inverted bottleneck:
``x + conv1x1(act(grouped conv3x3(act(conv1x1(x)))))``, the middle layer ``expansion`` times wider than the block
and grouped (ResNeXt's cardinality: ``group_channels`` channels per group); ``act`` is a learned bias then
LeakyReLU(0.2). Initialization is fix-up style: weights drawn with He's variance, scaled down by
``L ** -0.25`` for ``L`` blocks in the network, and the last layer of every residual branch starts at zero, so each
block starts as the identity. Resampling is bilinear (the ``[1, 3, 3, 1]`` filter), before the 1x1 convolution that
changes the width when the discriminator shrinks and after it when the generator grows; beyond the border the edge
pixels repeat (the paper's code pads with zeros).

- Generator: ``z`` (with a class embedding concatenated for conditional models) times a learned basis of
  ``s x s`` maps at the lowest resolution, blocks, then per stage upsampling and blocks, and a 1x1 convolution to
  the image channels. No Tanh: the output is linear, as in the paper (``GAN.sample`` clamps it to [-1, 1]).
- Discriminator: a 1x1 convolution from the image, per stage blocks and downsampling, and at the lowest resolution
  blocks then a depthwise ``s x s`` convolution (a learned basis) and a linear layer to one logit; conditional
  models project: the linear layer gives a vector whose dot product with the class embedding is the logit.

Resolutions: the image side is halved while it stays even and at least 4, and the lowest must be 4 to 7 pixels:
any side 2**k from 8 up (4 -> 8 -> ... -> 2**k), and 28 for MNIST (7 -> 14 -> 28).
"""

import math
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.networks._checks import check_images, check_labels, check_latent, shape_str
from gan_lightning.networks._layers import discriminator_settings, generator_settings, with_aux
from gan_lightning.networks.base import Discriminator, Generator

ACTIVATION_GAIN = math.sqrt(2 / (1 + 0.2**2))  # He's gain for LeakyReLU(0.2)

# ---------------------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------------------


def he_init(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    """Weights ~ N(0, (gain / sqrt(fan_in))^2), bias 0: the output keeps the input's scale times ``gain``."""
    fan_in = layer.weight[0].numel()
    with torch.no_grad():
        layer.weight.normal_(0.0, gain / math.sqrt(fan_in))
        if getattr(layer, "bias", None) is not None:
            layer.bias.zero_()
    return layer


def embedding(n_classes: int, dim: int, gain: float = 1.0) -> nn.Embedding:
    """A class embedding initialized as the linear map of a one-hot vector would be (fan-in: the class count)."""
    layer = nn.Embedding(n_classes, dim)
    with torch.no_grad():
        layer.weight.normal_(0.0, gain / math.sqrt(n_classes))
    return layer


def conv(c_in: int, c_out: int, kernel: int = 1, groups: int = 1, gain: float = 1.0, bias: bool = False) -> nn.Conv2d:
    return he_init(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups, bias=bias), gain)


class BiasedActivation(nn.Module):
    """A learned bias per channel, then LeakyReLU(0.2) (the networks' only nonlinearity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x + self.bias.to(x.dtype).view(1, -1, 1, 1), 0.2)


class ResidualBlock(nn.Module):
    """``x + conv1x1(act(grouped conv(act(conv1x1(x)))))``, the inner layers ``expansion`` times wider; the branch's
    last layer starts at zero."""

    def __init__(self, channels: int, expansion: int, group_channels: int, kernel: int, total_blocks: int) -> None:
        super().__init__()
        wide = channels * expansion
        if wide % group_channels:
            raise GANLightningError(f"An R3GAN block of width {channels} x expansion {expansion} = {wide} does not "
                                    f"split into groups of group_channels={group_channels}: choose widths whose "
                                    f"expanded width is a multiple of it.")
        gain = ACTIVATION_GAIN * total_blocks ** -0.25  # fix-up: three layers, L blocks
        self.expand = conv(channels, wide, 1, gain=gain)
        self.act1 = BiasedActivation(wide)
        self.grouped = conv(wide, wide, kernel, groups=wide // group_channels, gain=gain)
        self.act2 = BiasedActivation(wide)
        self.project = conv(wide, channels, 1, gain=0.0)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.project(self.act2(self.grouped(self.act1(self.expand(x)))))


def _bilinear_kernel() -> Tensor:
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = taps[:, None] * taps[None, :]
    return kernel / kernel.sum()


def _up_along(x: Tensor, dim: int) -> Tensor:
    """Twice as many samples along ``dim``: ``3/4`` of each sample plus ``1/4`` of its neighbour (edges repeated)."""
    n = x.shape[dim]
    before = torch.cat([x.narrow(dim, 0, 1), x.narrow(dim, 0, n - 1)], dim)
    after = torch.cat([x.narrow(dim, 1, n - 1), x.narrow(dim, n - 1, 1)], dim)
    return torch.stack([0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after], dim + 1).flatten(dim, dim + 1)


def _down_along(x: Tensor, dim: int) -> Tensor:
    """Half as many samples along ``dim``: the ``[1, 3, 3, 1] / 8`` filter at every second sample (edges repeated)."""
    even, odd = x.unflatten(dim, (x.shape[dim] // 2, 2)).unbind(dim + 1)
    m = even.shape[dim]
    before = torch.cat([even.narrow(dim, 0, 1), odd.narrow(dim, 0, m - 1)], dim)
    after = torch.cat([even.narrow(dim, 1, m - 1), odd.narrow(dim, m - 1, 1)], dim)
    return (before + 3 * (even + odd) + after) * 0.125


class Resample(nn.Module):
    """Bilinear resampling by 2 (``up=True``: 2x larger, else 2x smaller): the separable ``[1, 3, 3, 1]`` filter, with
    the edge pixels repeated beyond the border (as ``F.interpolate(mode="bilinear")`` upsamples).

    Two implementations of the same numbers: a depthwise convolution in float32, and sums of shifted slices in other
    dtypes, where oneDNN's depthwise convolution is several times slower on CPUs (measured with bfloat16 autocast:
    upsampling 128x16x28x28 takes 59 ms forward and backward as a convolution, 27 ms as slices; in float32, 28 ms and
    44 ms).
    """

    def __init__(self, up: bool) -> None:
        super().__init__()
        self.up = up
        self.register_buffer("kernel", _bilinear_kernel()[None, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype != torch.float32:
            along = _up_along if self.up else _down_along
            return along(along(x, 2), 3)
        channels = x.shape[1]
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")
        if self.up:
            weight = (4 * self.kernel).expand(channels, 1, 4, 4)
            return F.conv_transpose2d(x, weight, stride=2, padding=3, groups=channels)
        return F.conv2d(x, self.kernel.expand(channels, 1, 4, 4), stride=2, groups=channels)


# ---------------------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------------------


def resolutions(img_shape: tuple[int, ...], who: str) -> list[int]:
    """The image side at each stage, lowest first: [7, 14, 28] for 28x28, [4, 8, 16, 32] for 32x32."""
    sizes = [img_shape[1]] if len(img_shape) == 3 and img_shape[1] == img_shape[2] else []
    while sizes and sizes[0] % 2 == 0 and sizes[0] // 2 >= 4:
        sizes.insert(0, sizes[0] // 2)
    if len(sizes) < 2 or sizes[0] > 7:
        raise GANLightningError(
            f"The {who} makes square images whose side halves down to 4-7 pixels (8, 16, 28, 32, 64, 128, 256, ...), "
            f"not {shape_str(img_shape)}: set the data's image_size (--data.image_size) to e.g. 32 or 64.")
    return sizes


def stage_settings(sizes: list[int], widths: Optional[list[int]], blocks: Union[int, list[int]], who: str,
                   base_width: int = 32, max_width: int = 256) -> tuple[list[int], list[int]]:
    """Widths and blocks per stage, lowest resolution first; default widths: ``base_width`` at the image's side,
    doubling at each lower resolution, at most ``max_width``."""
    n = len(sizes)
    if widths is None and not 1 <= base_width <= max_width:
        raise GANLightningError(f"The {who}'s base_width must be >= 1 and at most max_width, not {base_width} and "
                                f"{max_width}.")
    widths = list(widths) if widths is not None else [min(max_width, base_width * 2 ** (n - 1 - i))
                                                      for i in range(n)]
    blocks = [blocks] * n if isinstance(blocks, int) else list(blocks)
    if len(widths) != n or len(blocks) != n:
        raise GANLightningError(f"The {who} has {n} resolutions ({', '.join(map(str, sizes))}): give widths and "
                                f"blocks one value each, lowest resolution first (got {len(widths)} widths and "
                                f"{len(blocks)} blocks).")
    if min(widths) < 1 or min(blocks) < 0:
        raise GANLightningError(f"The {who}'s widths must be >= 1 and blocks >= 0, not {widths} and {blocks}.")
    return widths, blocks


# ---------------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------------


class R3GANGenerator(Generator):
    """Noise (and label) -> image by residual stages from a learned low-resolution basis; linear output.

    Args:
        latent_dim: Size of the noise vector z.
        img_shape: Shape (C, S, S) of the generated images, S halving down to 4-7 (8, 16, 28, 32, 64, ..., 256);
            None: MNIST's 1x28x28 (``gan-lightning fit`` sets the data's).
        widths: Channels of each resolution's blocks, lowest resolution first; None: ``base_width`` at the
            image's side, doubling at each lower resolution, at most ``max_width`` (28x28: 128, 64, 32).
        base_width: Channels at the image's side when ``widths`` is None (one setting for any image size).
        max_width: Most channels of a resolution when ``widths`` is None.
        blocks: Residual blocks per resolution: one number for all, or one per resolution (lowest first).
        expansion: How much wider a block's inner layers are than the block (an inverted bottleneck).
        group_channels: Channels per group of the blocks' grouped 3x3 convolution (its cardinality is the inner
            width divided by this).
        n_classes: Number of classes to condition on (a class embedding of ``latent_dim`` values concatenated to
            z); 0 for unconditional; null in a config: the data's class count.
        output_bias: A learned bias per image channel after the last layer (not in the paper, starting at 0): one
            number to learn the colour of a flat background, such as MNIST's black.

    >>> g = R3GANGenerator(latent_dim=32, img_shape=(1, 28, 28), widths=[64, 32, 16], blocks=1)
    >>> g(torch.randn(2, 32)).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        latent_dim: int = 64,
        img_shape: Optional[tuple[int, int, int]] = None,
        widths: Optional[list[int]] = None,
        base_width: int = 32,
        max_width: int = 256,
        blocks: Union[int, list[int]] = 2,
        expansion: int = 2,
        group_channels: int = 16,
        n_classes: Optional[int] = 0,
        output_bias: bool = False,
    ) -> None:
        super().__init__()
        generator_settings(self, latent_dim, img_shape, n_classes)
        self.sizes = resolutions(self.img_shape, "R3GAN generator")
        widths, blocks = stage_settings(self.sizes, widths, blocks, "R3GAN generator", base_width, max_width)
        total = max(1, sum(blocks))
        self.embed = embedding(self.n_classes, latent_dim) if self.n_classes else None
        side = self.sizes[0]
        self.basis = nn.Parameter(torch.randn(widths[0], side, side))
        self.to_basis = he_init(nn.Linear(latent_dim * (2 if self.n_classes else 1), widths[0], bias=False))
        stages: list[nn.Module] = []
        for i, (width, count) in enumerate(zip(widths, blocks)):
            layers: list[nn.Module] = []
            if i > 0:
                if widths[i - 1] != width:
                    layers.append(conv(widths[i - 1], width))
                layers.append(Resample(up=True))
            layers += [ResidualBlock(width, expansion, group_channels, 3, total) for _ in range(count)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.to_image = conv(widths[-1], self.img_shape[0], bias=output_bias)

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        check_latent(z, self.latent_dim)
        check_labels(labels, z.shape[0], self.n_classes, "generator")
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels.long())], dim=1)
        x = self.basis[None].to(z.dtype) * self.to_basis(z)[:, :, None, None]
        return self.to_image(self.stages(x))


class R3GANDiscriminator(Discriminator):
    """Image (and label) -> one logit by residual stages and bilinear downsampling, a learned basis at the lowest
    resolution, and (conditional models) a projection on a class embedding. Returns ``(logits, aux or None)``.

    Args:
        img_shape: Shape (C, S, S) of the input images, S halving down to 4-7 (8, 16, 28, 32, 64, ..., 256); None:
            MNIST's 1x28x28 (``gan-lightning fit`` sets the data's).
        widths: Channels of each resolution's blocks, lowest resolution first (as the generator's); None:
            ``base_width`` at the image's side, doubling at each lower resolution, at most ``max_width``.
        base_width: Channels at the image's side when ``widths`` is None.
        max_width: Most channels of a resolution when ``widths`` is None.
        blocks: Residual blocks per resolution: one number for all, or one per resolution (lowest first).
        expansion: How much wider a block's inner layers are than the block.
        group_channels: Channels per group of the blocks' grouped 3x3 convolution.
        n_classes: Number of classes to condition on (projection: the logit is the dot product of the features'
            linear map with a class embedding); 0 for unconditional; null in a config: the data's class count.
        aux_classes: Size of a class head on the last features (0: none): the AC-GAN classifier of
            ``ConditionalGAN(aux_weight > 0)`` or the code predictor of ``InfoGAN``; null: the data's class count.

    >>> d = R3GANDiscriminator(img_shape=(3, 32, 32), widths=[64, 64, 32, 16], blocks=1, n_classes=10)
    >>> logits, aux = d(torch.randn(2, 3, 32, 32), torch.tensor([3, 7]))
    >>> logits.shape, aux
    (torch.Size([2]), None)
    """

    def __init__(
        self,
        img_shape: Optional[tuple[int, int, int]] = None,
        widths: Optional[list[int]] = None,
        base_width: int = 32,
        max_width: int = 256,
        blocks: Union[int, list[int]] = 2,
        expansion: int = 2,
        group_channels: int = 16,
        n_classes: Optional[int] = 0,
        aux_classes: Optional[int] = 0,
    ) -> None:
        super().__init__()
        discriminator_settings(self, img_shape, n_classes, aux_classes)
        self.sizes = resolutions(self.img_shape, "R3GAN discriminator")
        widths, blocks = stage_settings(self.sizes, widths, blocks, "R3GAN discriminator", base_width, max_width)
        total = max(1, sum(blocks))
        self.from_image = conv(self.img_shape[0], widths[-1])
        stages: list[nn.Module] = []
        for i in range(len(widths) - 1, -1, -1):  # highest resolution first
            layers: list[nn.Module] = [ResidualBlock(widths[i], expansion, group_channels, 3, total)
                                       for _ in range(blocks[i])]
            if i > 0:
                layers.append(Resample(up=False))
                if widths[i - 1] != widths[i]:
                    layers.append(conv(widths[i], widths[i - 1]))
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        side, width = self.sizes[0], widths[0]
        self.basis = he_init(nn.Conv2d(width, width, side, groups=width, bias=False))  # s x s -> 1 x 1 per channel
        out = width if self.n_classes else 1
        self.head = he_init(nn.Linear(width, out, bias=False))
        self.embed = embedding(self.n_classes, out, 1 / math.sqrt(out)) if self.n_classes else None
        self.classifier = nn.Linear(width, aux_classes) if aux_classes else None

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
        check_images(x, self.img_shape)
        check_labels(labels, x.shape[0], self.n_classes, "discriminator")
        features = self.basis(self.stages(self.from_image(x))).flatten(1)
        out = self.head(features)
        logits = (out * self.embed(labels.long())).sum(dim=1) if self.embed is not None else out.squeeze(1)
        return with_aux(logits, features, self.classifier)
