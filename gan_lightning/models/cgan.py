"""The conditional GAN: the same training step as :class:`GAN`, with class labels given to both networks.

Fake images are generated for the labels of the real batch, so D sees both with the data's label
distribution. ``sample()`` draws labels from the training distribution unless told which digits to draw.
"""

from typing import Literal, Optional

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from gan_lightning.errors import GANLightningError
from gan_lightning.models.gan import GAN
from gan_lightning.networks.base import Discriminator, Generator


class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both take the class label: ``G(z, y)``, ``D(x, y)``.

    Args:
        generator: Network ``G(z, labels) -> images in [-1, 1]`` with ``n_classes == num_classes``.
        discriminator: Network ``D(x, labels) -> logits`` with ``n_classes == num_classes``.
        num_classes: Number of classes (10 for MNIST).
        latent_dim: Size of the noise vector; by default the generator's ``latent_dim``.
        loss: Adversarial loss: ``bce``, ``minimax``, ``lsgan``, ``hinge`` or ``wasserstein``.
        n_critic: Discriminator steps per generator step.
        gp_weight: Weight of the WGAN-GP gradient penalty; 0 turns it off.
        r1_gamma: Weight gamma of the R1 penalty; 0 turns it off.
        ema_decay: Decay of the generator's EMA used for sampling; None turns it off.
        optimizer_g: Optimizer of the generator; None means Adam(lr=2e-4, betas=(0.5, 0.999)).
        optimizer_d: Optimizer of the discriminator; None means Adam(lr=2e-4, betas=(0.5, 0.999)).
        scheduler_g: Learning-rate scheduler of the generator, stepped once per epoch; None for none.
        scheduler_d: Learning-rate scheduler of the discriminator, stepped once per epoch; None for none.
        on_nonfinite: What a non-finite loss does: ``stop`` ends training with a message naming the step;
            ``skip`` skips that optimizer step and counts it in ``train/skipped_steps``.
        compile: Compile the generator and discriminator with ``torch.compile`` when fitting.
        aux_weight: Weight of the AC-GAN auxiliary classification loss (Odena et al. 2017): D's classifier head
            learns the class of real and fake images, and G is rewarded when its images are classified as the
            label asked for; it raises conditional accuracy. Needs a discriminator with ``aux_classes = num_classes``;
            0 turns it off.
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        num_classes: int = 10,
        latent_dim: Optional[int] = None,
        loss: str = "bce",
        n_critic: int = 1,
        gp_weight: float = 0.0,
        r1_gamma: float = 0.0,
        ema_decay: Optional[float] = None,
        optimizer_g: Optional[OptimizerCallable] = None,
        optimizer_d: Optional[OptimizerCallable] = None,
        scheduler_g: Optional[LRSchedulerCallable] = None,
        scheduler_d: Optional[LRSchedulerCallable] = None,
        on_nonfinite: Literal["stop", "skip"] = "stop",
        compile: bool = False,
        aux_weight: float = 0.0,
    ) -> None:
        super().__init__(generator, discriminator, latent_dim, loss, n_critic, gp_weight, r1_gamma, ema_decay,
                         optimizer_g, optimizer_d, scheduler_g, scheduler_d, on_nonfinite, compile)
        head = getattr(discriminator, "aux_classes", 0)
        if aux_weight < 0 or (aux_weight > 0 and head != num_classes) or (aux_weight == 0 and head):
            raise GANLightningError(
                f"aux_weight={aux_weight} with a discriminator class head of aux_classes={head}: the AC-GAN loss "
                f"needs both aux_weight > 0 and the discriminator's aux_classes={num_classes} (or neither)."
            )
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            declared = getattr(net, "n_classes", num_classes)
            if declared != num_classes:
                raise GANLightningError(
                    f"The {name} has n_classes={declared} but the module has num_classes={num_classes}: "
                    "give both networks n_classes equal to the number of classes in the data."
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
                    "set num_classes and the networks' n_classes to the data's class count."
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

    def _d_loss(self, real: Tensor, fake: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if not self.hparams.aux_weight:
            return super()._d_loss(real, fake, labels)
        (real_logits, real_classes), (fake_logits, fake_classes) = self._d_logits(
            real, fake, labels, return_class_logits=True)
        # AC-GAN: D learns to name the class of real and of fake images (Odena et al. 2017).
        aux = F.cross_entropy(real_classes, labels) + F.cross_entropy(fake_classes, labels)
        loss = self.loss_fn.d(real_logits, fake_logits) + self.hparams.aux_weight * aux
        return loss, real_logits, fake_logits

    def _g_loss(self, fake: Tensor, labels: Tensor) -> Tensor:
        if not self.hparams.aux_weight:
            return super()._g_loss(fake, labels)
        logits, classes = self._discriminate(fake, labels, return_class_logits=True)
        return self.loss_fn.g(logits) + self.hparams.aux_weight * F.cross_entropy(classes, labels)

    def _unpack(self, batch) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise GANLightningError(
                "ConditionalGAN needs (images, labels) batches but the data gives images only: "
                "use a datamodule that returns labels, or the unconditional GAN."
            )
        return batch[0], batch[1]
