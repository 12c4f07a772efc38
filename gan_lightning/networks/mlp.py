"""The tutorial's fully connected generator and discriminator, optionally conditioned on a class label.

Conditioning follows the tutorial's conditional GAN: the one-hot label is concatenated to the noise
(generator) and to the flattened image (discriminator). The discriminator can instead use a projection
(Miyato and Koyama 2018) and spectral normalization (Miyato et al. 2018).
"""

import math
from collections.abc import Sequence
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.networks._checks import check_images, check_labels, check_latent
from gan_lightning.networks._layers import (
    Conditioning,
    add_spectral_norm,
    discriminator_conditioning,
    generator_settings,
    with_aux,
)
from gan_lightning.networks.base import Discriminator, Generator


def _mlp(dims: Sequence[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(d_in, d_out), nn.LeakyReLU(0.2)]
    return layers


def _with_one_hot(x: Tensor, labels: Optional[Tensor], n_classes: int) -> Tensor:
    if n_classes == 0:
        return x
    return torch.cat([x, F.one_hot(labels.long(), n_classes).to(x.dtype)], dim=1)


class MLPGenerator(Generator):
    """Noise (and label) -> image in [-1, 1]: latent -> 256 -> 512 -> 1024 -> C*H*W, LeakyReLU(0.2), Tanh.

    Args:
        latent_dim: Size of the noise vector z.
        img_shape: Shape (C, H, W) of the generated images; None: MNIST's 1x28x28 (``gan-lightning fit`` sets the
            data's).
        hidden_dims: Widths of the hidden layers.
        n_classes: Number of classes to condition on; 0 for an unconditional generator; null in a config: the
            data's class count.

    >>> MLPGenerator()(torch.randn(2, 100)).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        latent_dim: int = 100,
        img_shape: Optional[tuple[int, int, int]] = None,
        hidden_dims: Sequence[int] = (256, 512, 1024),
        n_classes: Optional[int] = 0,
    ) -> None:
        super().__init__()
        generator_settings(self, latent_dim, img_shape, n_classes)
        dims = [latent_dim + n_classes, *hidden_dims]
        self.net = nn.Sequential(*_mlp(dims), nn.Linear(dims[-1], math.prod(self.img_shape)), nn.Tanh())

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        check_latent(z, self.latent_dim)
        check_labels(labels, z.shape[0], self.n_classes, "generator")
        return self.net(_with_one_hot(z, labels, self.n_classes)).view(-1, *self.img_shape)


class MLPDiscriminator(Discriminator):
    """Image (and label) -> one logit per image: C*H*W -> 512 -> 256 -> 1, LeakyReLU(0.2).

    Returns ``(logits, aux logits or None)``; the loss applies the sigmoid (same maths as Sigmoid + BCELoss, but
    safe under AMP).

    Args:
        img_shape: Shape (C, H, W) of the input images; None: MNIST's 1x28x28 (``gan-lightning fit`` sets the
            data's).
        hidden_dims: Widths of the hidden layers.
        n_classes: Number of classes to condition on; 0 for an unconditional discriminator; null in a config: the
            data's class count.
        conditioning: How the label enters when ``n_classes > 0``: ``concat`` (one-hot concatenated to the
            flattened image, the tutorial's) or ``projection`` (``psi(phi(x)) + <embed(y), phi(x)>`` with
            ``phi(x)`` the last hidden layer, Miyato and Koyama 2018).
        spectral_norm: Spectrally normalize every linear layer and the projection embedding
            (Miyato et al. 2018).
        aux_classes: Size of a class head on the last hidden layer (0: none), the second output of ``forward``:
            the AC-GAN classifier of ``ConditionalGAN(aux_weight > 0)`` (``n_classes``) or the code predictor of
            ``InfoGAN`` (``num_codes``); null in a config: the data's class count.
    """

    def __init__(
        self,
        img_shape: Optional[tuple[int, int, int]] = None,
        hidden_dims: Sequence[int] = (512, 256),
        n_classes: Optional[int] = 0,
        conditioning: Conditioning = "concat",
        spectral_norm: bool = False,
        aux_classes: Optional[int] = 0,
    ) -> None:
        super().__init__()
        self._concat_labels = discriminator_conditioning(self, img_shape, n_classes, conditioning, aux_classes)
        dims = [math.prod(self.img_shape) + self._concat_labels, *hidden_dims]
        self.net = nn.Sequential(*_mlp(dims), nn.Linear(dims[-1], 1))
        self.embed = None
        if self.n_classes > 0 and conditioning == "projection":
            self.embed = nn.Embedding(self.n_classes, dims[-1])
            nn.init.xavier_uniform_(self.embed.weight)  # as in Miyato and Koyama's code; N(0, 1) is far too large
        self.classifier = nn.Linear(dims[-1], self.aux_classes) if self.aux_classes else None
        if spectral_norm:
            add_spectral_norm(self)

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
        check_images(x, self.img_shape)
        check_labels(labels, x.shape[0], self.n_classes, "discriminator")
        x = _with_one_hot(x.flatten(1), labels, self._concat_labels)
        *body, head = self.net
        for layer in body:
            x = layer(x)
        logits = head(x).squeeze(1)
        if self.embed is not None:
            logits = logits + (self.embed(labels) * x).sum(dim=1)
        return with_aux(logits, x, self.classifier)
