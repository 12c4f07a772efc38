"""The conditional GAN: the same training step as :class:`GAN`, with class labels given to both networks.

Fake images are generated for the labels of the real batch, so D sees both with the data's label
distribution. ``sample()`` draws labels from the training distribution unless told which classes to draw.
"""

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.errors import GANLightningError
from gan_lightning.models.gan import GAN
from gan_lightning.networks.base import Discriminator, Generator


class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both take the class label: ``G(z, y)``, ``D(x, y)``.

    Args:
        generator: Network ``G(z, labels) -> images in [-1, 1]`` with ``n_classes`` set.
        discriminator: Network ``D(x, labels) -> (logits, aux)`` with the generator's ``n_classes``.
        num_classes: Number of classes; by default the networks' ``n_classes`` (10 for MNIST).
        aux_weight: Weight of the AC-GAN auxiliary classification loss (Odena et al. 2017): D's classifier head
            learns the class of real and fake images, and G is rewarded when its images are classified as the
            label asked for; it raises conditional accuracy. Needs a discriminator with ``aux_classes = num_classes``;
            0 turns it off.
        **kwargs: The arguments of :class:`GAN` (``latent_dim``, ``loss``, ``n_critic``, the optimizers, ...).
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        num_classes: Optional[int] = None,
        aux_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        declared = {name: getattr(net, "n_classes", 0) for name, net in (("generator", generator),
                                                                         ("discriminator", discriminator))}
        num_classes = declared["generator"] if num_classes is None else num_classes
        if num_classes < 2:
            raise GANLightningError(f"ConditionalGAN needs at least 2 classes but has {num_classes}: give both "
                                    "networks n_classes equal to the number of classes in the data (10 for MNIST).")
        for name, n in declared.items():
            if n != num_classes:
                raise GANLightningError(f"The {name} has n_classes={n} but the model has num_classes={num_classes}: "
                                        "give both networks n_classes equal to the number of classes in the data.")
        head = getattr(discriminator, "aux_classes", 0)
        if aux_weight < 0 or (aux_weight > 0 and head != num_classes) or (aux_weight == 0 and head):
            raise GANLightningError(
                f"aux_weight={aux_weight} with a discriminator class head of aux_classes={head}: the AC-GAN loss "
                f"needs both aux_weight > 0 and the discriminator's aux_classes={num_classes} (or neither)."
            )
        self.num_classes = num_classes
        # The training label distribution; uniform until fit reads the data's class counts.
        self.register_buffer("label_probs", torch.full((num_classes,), 1.0 / num_classes))

    def setup(self, stage: str) -> None:
        super().setup(stage)
        counts = getattr(self.trainer.datamodule, "class_counts", None)
        if counts is not None:
            if len(counts) != self.num_classes:
                raise GANLightningError(
                    f"The data has {len(counts)} classes but the model has num_classes={self.num_classes}: "
                    "set the networks' n_classes to the data's class count."
                )
            counts = torch.as_tensor(counts, dtype=torch.float, device=self.device)
            self.label_probs.copy_(counts / counts.sum())

    def sample_labels(self, num_samples: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """Labels drawn from the training label distribution."""
        return torch.multinomial(self.label_probs, num_samples, replacement=True, generator=generator)

    def _sampling_labels(self, num_samples: int, labels: Optional[Tensor]) -> Tensor:
        if labels is None:
            return self.sample_labels(num_samples)
        labels = torch.as_tensor(labels, device=self.device).long().flatten()
        if labels.numel() == 1:
            labels = labels.expand(num_samples)
        if labels.numel() != num_samples or labels.min() < 0 or labels.max() >= self.num_classes:
            raise GANLightningError(
                f"labels must be {num_samples} integers in [0, {self.num_classes - 1}] (or a single one)."
            )
        return labels

    def _unpack(self, batch) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise GANLightningError(
                "ConditionalGAN needs (images, labels) batches but the data gives images only: "
                "use a datamodule that returns labels, or the unconditional GAN."
            )
        return batch[0], batch[1]

    # AC-GAN: D learns to name the class of real and of fake images, G to draw images of the asked class.

    def _aux_d_loss(self, real_aux: Optional[Tensor], fake_aux: Optional[Tensor], labels: Tensor,
                    fake_labels: Tensor) -> Optional[Tensor]:
        if not self.hparams.aux_weight:
            return None
        return self.hparams.aux_weight * (F.cross_entropy(real_aux, labels) + F.cross_entropy(fake_aux, fake_labels))

    def _aux_g_loss(self, fake_aux: Optional[Tensor], fake_labels: Tensor) -> Optional[Tensor]:
        return self.hparams.aux_weight * F.cross_entropy(fake_aux, fake_labels) if self.hparams.aux_weight else None
