"""DCGAN generator and discriminator (Radford et al. 2016) for small square images (28x28, 32x32, 64x64, ...).

Generator: ``z -> Linear -> (w0, s, s) -> [ConvTranspose2d(4, stride 2) -> BatchNorm -> ReLU] ... -> Tanh``,
doubling the size and halving the width at each step. Discriminator: the mirror image, ``[Conv2d(4, stride 2)
-> LeakyReLU(0.2)] ... -> Linear -> one logit``, without batch norm by default, so it works with WGAN-GP and
R1 and with the module's single forward of real and fake together; ``batch_norm=True`` adds it after every
convolution but the first, as in the DCGAN paper (the module then feeds real and fake as separate batches).
The first feature map is ``s x s`` with ``s`` the image side halved while it stays even and at least 4:
7x7 for 28x28 (two steps), 4x4 for 32x32 (three steps) and 64x64 (four steps). Widths are
``base_channels * 2**k``: 128 -> 64 for 28x28 at the default 64.

Conditioning (``n_classes > 0``):

- generator: the one-hot label is concatenated to z (equivalent to a learned per-class embedding added to
  the first layer's output, before its batch norm);
- discriminator, ``conditioning="concat"``: the one-hot label is broadcast to ``n_classes`` constant maps
  concatenated to the image as extra input channels, so the label meets the pixels before any nonlinearity;
- discriminator, ``conditioning="projection"`` (Miyato and Koyama 2018): ``D(x, y) = psi(phi(x)) +
  <embed(y), phi(x)>`` with ``phi(x)`` the flattened last feature map and ``psi`` the final linear layer.
"""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gan_lightning.errors import GANLightningError
from gan_lightning.networks._checks import check_images, check_labels, check_latent, shape_str
from gan_lightning.networks._layers import (
    Conditioning,
    add_spectral_norm,
    discriminator_conditioning,
    generator_settings,
    with_aux,
)
from gan_lightning.networks.base import Discriminator, Generator

# ---------------------------------------------------------------------------------------------------------
# Initialization and layout
# ---------------------------------------------------------------------------------------------------------


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialization of one layer; use it as ``net.apply(dcgan_init)``.

    Conv, ConvTranspose, Linear and Embedding weights ~ N(0, 0.02); BatchNorm weights ~ N(1, 0.02); biases 0.
    A spectrally normalized layer has its stored (unnormalized) weight initialized.
    """

    def weight(m: nn.Module) -> Tensor:
        return m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight

    with torch.no_grad():
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear, nn.Embedding)):
            nn.init.normal_(weight(module), 0.0, 0.02)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            nn.init.normal_(weight(module), 1.0, 0.02)
        else:
            return
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)


def _layout(img_shape: tuple[int, ...]) -> tuple[int, int]:
    """(number of stride-2 steps, side of the first feature map) for a (C, S, S) image shape."""
    side = steps = 0
    if len(img_shape) == 3 and img_shape[1] == img_shape[2]:
        side = img_shape[1]
        while side % 2 == 0 and side // 2 >= 4:
            side, steps = side // 2, steps + 1
    if steps == 0:
        raise GANLightningError(
            f"DCGAN networks need square images with an even side of at least 8 but the images are "
            f"{shape_str(img_shape)}: set the data's image_size (--data.image_size) to e.g. 28, 32 or 64 (img_shape "
            "when building the networks in Python), or use the MLP networks."
        )
    return steps, side


def _widths(base_channels: int, steps: int) -> list[int]:
    """Widths of the feature maps from the largest image-side one inwards: 64, 128, 256, ..."""
    return [base_channels * 2**k for k in range(steps)]


# ---------------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------------


class DCGANGenerator(Generator):
    """Noise (and label) -> image in [-1, 1] by transposed convolutions with batch norm and ReLU, Tanh output.

    Args:
        latent_dim: Size of the noise vector z.
        img_shape: Shape (C, S, S) of the generated images, S even and at least 8 (28, 32, 64, ...); None: MNIST's
            1x28x28 (``gan-lightning fit`` sets the data's).
        base_channels: Width of the last hidden feature map; each earlier map is twice as wide.
        n_classes: Number of classes to condition on (one-hot concatenated to z); 0 for unconditional; null in
            a config: the data's class count.

    >>> g = DCGANGenerator(latent_dim=100, img_shape=(1, 28, 28), base_channels=64)
    >>> g(torch.randn(2, 100)).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        latent_dim: int = 100,
        img_shape: Optional[tuple[int, int, int]] = None,
        base_channels: int = 64,
        n_classes: Optional[int] = 0,
    ) -> None:
        super().__init__()
        generator_settings(self, latent_dim, img_shape, n_classes)
        steps, side = _layout(self.img_shape)
        widths = _widths(base_channels, steps)[::-1]  # e.g. 128, 64 for 28x28
        # Linear (no bias: batch norm follows) then reshape: "project and reshape" of the DCGAN paper.
        layers: list[nn.Module] = [
            nn.Linear(latent_dim + n_classes, widths[0] * side * side, bias=False),
            nn.Unflatten(1, (widths[0], side, side)),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[-1], self.img_shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        check_latent(z, self.latent_dim)
        check_labels(labels, z.shape[0], self.n_classes, "generator")
        if self.n_classes:
            z = torch.cat([z, F.one_hot(labels.long(), self.n_classes).to(z.dtype)], dim=1)
        return self.net(z)


class DCGANDiscriminator(Discriminator):
    """Image (and label) -> one logit per image by strided convolutions with LeakyReLU(0.2); no batch norm.

    Returns ``(logits, aux logits or None)``; the loss applies the sigmoid (safe under AMP).

    Args:
        img_shape: Shape (C, S, S) of the input images, S even and at least 8 (28, 32, 64, ...); None: MNIST's
            1x28x28 (``gan-lightning fit`` sets the data's).
        base_channels: Width of the first convolution; each later one is twice as wide.
        n_classes: Number of classes to condition on; 0 for an unconditional discriminator; null in a config: the
            data's class count.
        conditioning: How the label enters when ``n_classes > 0``: ``concat`` (one-hot maps as extra input
            channels) or ``projection`` (Miyato and Koyama 2018: ``psi(phi(x)) + <embed(y), phi(x)>``).
        spectral_norm: Spectrally normalize every convolution, the final linear layer and the projection
            embedding (Miyato et al. 2018).
        batch_norm: Batch norm after every convolution but the first, as in the DCGAN paper. Leave it off
            for WGAN-GP and R1 (their penalties are per image) and with spectral norm.
        aux_classes: Size of a class head on the same features (0: none), the second output of ``forward``:
            the AC-GAN classifier of ``ConditionalGAN(aux_weight > 0)`` (``n_classes``) or the code predictor of
            ``InfoGAN`` (``num_codes``); null in a config: the data's class count.

    >>> d = DCGANDiscriminator(img_shape=(1, 28, 28), n_classes=10, conditioning="projection")
    >>> logits, aux = d(torch.randn(2, 1, 28, 28), torch.tensor([3, 7]))
    >>> logits.shape, aux
    (torch.Size([2]), None)
    """

    def __init__(
        self,
        img_shape: Optional[tuple[int, int, int]] = None,
        base_channels: int = 64,
        n_classes: Optional[int] = 0,
        conditioning: Conditioning = "concat",
        spectral_norm: bool = False,
        batch_norm: bool = False,
        aux_classes: Optional[int] = 0,
    ) -> None:
        super().__init__()
        self._label_maps = discriminator_conditioning(self, img_shape, n_classes, conditioning, aux_classes)
        steps, side = _layout(self.img_shape)
        widths = _widths(base_channels, steps)
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(zip([self.img_shape[0] + self._label_maps, *widths[:-1]], widths)):
            norm = [nn.BatchNorm2d(w_out)] if batch_norm and i > 0 else []
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=not norm), *norm, nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers, nn.Flatten())
        feature_dim = widths[-1] * side * side
        self.head = nn.Linear(feature_dim, 1)
        use_embed = self.n_classes > 0 and conditioning == "projection"
        self.embed = nn.Embedding(self.n_classes, feature_dim) if use_embed else None
        self.classifier = nn.Linear(feature_dim, self.aux_classes) if self.aux_classes else None
        self.apply(dcgan_init)
        if spectral_norm:
            add_spectral_norm(self)

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
        check_images(x, self.img_shape)
        check_labels(labels, x.shape[0], self.n_classes, "discriminator")
        if self._label_maps:
            maps = F.one_hot(labels.long(), self.n_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, maps.expand(-1, -1, *x.shape[2:])], dim=1)
        phi = self.features(x)
        logits = self.head(phi).squeeze(1)
        if self.embed is not None:
            logits = logits + (self.embed(labels) * phi).sum(dim=1)
        return with_aux(logits, phi, self.classifier)
