"""InfoGAN with a categorical code (Chen et al. 2016): an unconditional GAN whose generator also takes a
discrete code, which D's code head must recover from the image.

No data labels are used. The Gaussian latent space is connected, so a plain generator maps the space between
two kinds of digit to images between them: ambiguous digits, which FID and IS punish. A categorical code gives
the generator a discrete choice, and the mutual-information term (cross-entropy of D's code head on the fakes)
makes it use the choice, so that different codes draw different kinds of digit (on MNIST, mostly the digit
classes).

The code is read from the noise: the first ``num_codes`` entries of z choose it by their argmax (uniform, and
independent of the other entries), so images stay a function of z alone: ``sample(n, z=z)``, the fixed noise
of the sample grids and the seeded noise of the metrics work as for every GAN.
"""

from typing import Literal, Optional

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.models.gan import GAN
from gan_lightning.networks.base import Discriminator, Generator


class InfoGAN(GAN):
    """An unconditional GAN with a categorical code in the noise and a mutual-information term.

    Args:
        generator: Network ``G(z, code)``: a conditional generator with ``n_classes == num_codes`` (the code
            enters as a label).
        discriminator: Unconditional network (``n_classes`` 0) with a code head, ``aux_classes == num_codes``.
        num_codes: Number of values of the categorical code, chosen by the first ``num_codes`` entries of z.
        info_weight: Weight of the mutual-information term: the cross-entropy of D's code head on the fakes,
            minimised by D (the head) and G; 1 in the paper.
        latent_dim: Size of the noise vector; by default the generator's ``latent_dim``.
        loss: Adversarial loss: ``bce``, ``minimax``, ``lsgan``, ``hinge`` or ``wasserstein``.
        n_critic: Discriminator steps per generator step.
        gp_weight: Weight of the WGAN-GP gradient penalty; 0 turns it off.
        r1_gamma: Weight gamma of the R1 penalty; 0 turns it off.
        ema_decay: Decay of the generator's EMA used for sampling; None turns it off.
        optimizer_g: Optimizer of the generator; None means Adam(lr=2e-4, betas=(0.5, 0.999)).
        optimizer_d: Optimizer of the discriminator (and its code head); None means Adam(lr=2e-4, betas=(0.5, 0.999)).
        scheduler_g: Learning-rate scheduler of the generator, stepped once per epoch; None for none.
        scheduler_d: Learning-rate scheduler of the discriminator, stepped once per epoch; None for none.
        on_nonfinite: What a non-finite loss does: ``stop`` ends training with a message naming the step;
            ``skip`` skips that optimizer step and counts it in ``train/skipped_steps``.
        compile: Compile the generator and discriminator with ``torch.compile`` when fitting.
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        num_codes: int = 10,
        info_weight: float = 1.0,
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
    ) -> None:
        super().__init__(generator, discriminator, latent_dim, loss, n_critic, gp_weight, r1_gamma, ema_decay,
                         optimizer_g, optimizer_d, scheduler_g, scheduler_d, on_nonfinite, compile)
        settings = {"the generator's n_classes": getattr(generator, "n_classes", None),
                    "the discriminator's aux_classes": getattr(discriminator, "aux_classes", 0)}
        for what, value in settings.items():
            if value != num_codes:
                raise GANLightningError(f"InfoGAN with num_codes={num_codes} needs {what} = {num_codes}, not {value}.")
        if getattr(discriminator, "n_classes", 0):
            raise GANLightningError("InfoGAN's discriminator sees no labels: set its n_classes to 0 (the code head "
                                    "is aux_classes).")
        if not 2 <= num_codes <= self.latent_dim or info_weight <= 0:
            raise GANLightningError(f"num_codes={num_codes} must lie in [2, latent_dim={self.latent_dim}] and "
                                    f"info_weight={info_weight} must be > 0.")
        self.num_codes = num_codes
        self._codes: Optional[Tensor] = None  # the codes of the last generated batch, for the losses

    def codes(self, z: Tensor) -> Tensor:
        """The categorical code of each noise vector: the argmax of its first ``num_codes`` entries."""
        return z[:, : self.num_codes].argmax(dim=1)

    def with_codes(self, z: Tensor, codes: Tensor) -> Tensor:
        """A copy of ``z`` whose entries choose ``codes`` (for grids with one row per code): each chosen entry
        is swapped with the largest of its row's first ``num_codes`` entries, so z keeps its values."""
        z = z.clone()
        head = z[:, : self.num_codes]  # a view: swapping in it changes z
        rows = torch.arange(len(z), device=z.device)
        top = head.argmax(dim=1)
        codes = torch.as_tensor(codes, device=z.device)
        head[rows, top], head[rows, codes] = head[rows, codes], head[rows, top].clone()
        return z

    # -----------------------------------------------------------------------------------------------------
    # Hooks of GAN's training step
    # -----------------------------------------------------------------------------------------------------

    def _generate(self, generator: nn.Module, z: Tensor, labels: Optional[Tensor]) -> Tensor:
        self._codes = self.codes(z)
        return generator(z, self._codes)

    def _d_loss(self, real: Tensor, fake: Tensor, labels: None) -> tuple[Tensor, Tensor, Tensor]:
        (real_logits, _), (fake_logits, fake_codes) = self._d_logits(real, fake, None, return_class_logits=True)
        info = F.cross_entropy(fake_codes, self._codes)
        return self.loss_fn.d(real_logits, fake_logits) + self.hparams.info_weight * info, real_logits, fake_logits

    def _g_loss(self, fake: Tensor, labels: None) -> Tensor:
        logits, codes = self._discriminate(fake, None, return_class_logits=True)
        return self.loss_fn.g(logits) + self.hparams.info_weight * F.cross_entropy(codes, self._codes)
