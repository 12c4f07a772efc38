"""Progressive growing of GANs (Karras et al. 2018): the GAN training step, with a resolution schedule.

The schedule counts real images shown (batches x batch size x processes), as the paper counts kimg: the
first resolution trains for ``stable_images``; then each next one fades in over ``fade_images`` (alpha
rises linearly from 0 to 1, batch by batch) and trains for ``stable_images``; the last one trains on until
the end. The count is saved in checkpoints, so a run resumed mid-stage or mid-fade continues exactly, and a
reloaded checkpoint samples at the resolution it was trained at. Real images are average-pooled to the
current resolution on the fly (and blended with the half resolution during a fade, as in the paper): the
fast in-memory data path is unchanged. ``sample()`` returns full-size images at every stage, upsampled
(nearest) from the current resolution, so grids and metrics work throughout; the metric callbacks print
the resolution with each value.

Loss: WGAN-GP (lambda 10, one critic step per generator step) plus the paper's drift term
``0.001 * E[D(x)^2]`` that keeps the critic's outputs near 0 (the default ``penalties``); Adam lr 1e-3, betas
(0, 0.99), eps 1e-8.

Under DDP only the parameters of the active stages are trainable (the others get no gradient, so they are
frozen with ``requires_grad``), which keeps the per-network gradient averaging and its check.
"""

from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.models._logging import logs_this_batch
from gan_lightning.models.gan import GAN
from gan_lightning.networks.progressive import ProgressiveDiscriminator, ProgressiveGenerator, fade_in_reals
from gan_lightning.objective import Penalty


def paper_adam(params) -> torch.optim.Optimizer:
    """The paper's optimizer: Adam, lr 1e-3, betas (0, 0.99), eps 1e-8; fused."""
    return torch.optim.Adam(params, lr=1e-3, betas=(0.0, 0.99), eps=1e-8, fused=True)


def progress_at(images: int, num_stages: int, stable_images: int, fade_images: int) -> tuple[int, float]:
    """``(stage, alpha)`` after ``images`` real images: stage 0 for ``stable_images``, then for each next stage
    a fade-in of ``fade_images`` (alpha from 0 to 1) and ``stable_images`` at alpha 1.

    >>> [progress_at(n, 3, 100, 50) for n in (0, 99, 100, 125, 150, 249, 250, 10**6)]
    [(0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (1, 1.0), (2, 0.0), (2, 1.0)]
    """
    remaining, stage = images - stable_images, 0
    while remaining >= 0 and stage < num_stages - 1:
        stage += 1
        if remaining < fade_images:
            return stage, remaining / fade_images
        remaining -= fade_images + stable_images
    return stage, 1.0


class ProgressiveGAN(GAN):
    """A GAN whose networks grow from low to full resolution during training (PGGAN).

    Args:
        generator: A ``ProgressiveGenerator``.
        discriminator: A ``ProgressiveDiscriminator`` with the generator's ``img_shape``.
        stable_images: Real images shown at each resolution once it is faded in (the first resolution: all of
            its training; the last one trains on until the end).
        fade_images: Real images over which each new resolution fades in (alpha from 0 to 1); 0 switches at once.
        reset_optimizers: Clear both optimizers' moment estimates when a new resolution starts, as the paper's
            code does.
        loss: Adversarial loss: ``wasserstein`` (the paper's), ``bce``, ``minimax``, ``lsgan``, ``hinge`` or
            ``rpgan``.
        **kwargs: The other arguments of :class:`GAN` (``n_critic``, ``ema_decay``, ``penalties``, which default
            to the paper's drift term (epsilon 0.001) and gradient penalty (lambda 10), the optimizers, which default
            to the paper's Adam(lr=1e-3, betas=(0.0, 0.99), eps=1e-8), ...); not ``compile``: the forward changes
            with every stage and fade step.
    """

    default_optimizer = staticmethod(paper_adam)
    default_penalties = (Penalty("drift", 0.001), Penalty("gp", 10.0))

    def __init__(
        self,
        generator: ProgressiveGenerator,
        discriminator: ProgressiveDiscriminator,
        stable_images: int = 60000,
        fade_images: int = 60000,
        reset_optimizers: bool = True,
        loss: str = "wasserstein",
        **kwargs: Any,
    ) -> None:
        if not (isinstance(generator, ProgressiveGenerator) and isinstance(discriminator, ProgressiveDiscriminator)):
            raise GANLightningError("ProgressiveGAN grows its networks by stages: use ProgressiveGenerator and "
                                    "ProgressiveDiscriminator (gan_lightning.networks).")
        if generator.sizes != discriminator.sizes:
            raise GANLightningError(f"The generator grows through {generator.sizes} but the discriminator through "
                                    f"{discriminator.sizes}: give both networks the same img_shape.")
        if stable_images < 0 or fade_images < 0:
            raise GANLightningError("stable_images and fade_images must be >= 0.")
        if kwargs.get("compile"):
            raise GANLightningError("ProgressiveGAN cannot be compiled (its forward changes with every stage and fade "
                                    "step): leave compile off.")
        super().__init__(generator, discriminator, loss=loss, **kwargs)
        self.images_seen = 0  # real images shown so far, over all processes: the schedule's clock
        self._optimizer_stage = 0  # the stage the optimizers' moments belong to
        self._apply_progress()

    # -----------------------------------------------------------------------------------------------------
    # Progress: stage and alpha from the image count
    # -----------------------------------------------------------------------------------------------------

    @property
    def progress(self) -> tuple[int, float]:
        """``(stage, alpha)`` at the current image count."""
        return progress_at(self.images_seen, self.generator.num_stages, self.hparams.stable_images,
                           self.hparams.fade_images)

    @property
    def resolution(self) -> int:
        """Side of the images the networks work at now (7, 14 or 28 for MNIST)."""
        return self.generator.sizes[self.progress[0]]

    @property
    def sampling_protocol(self) -> str:
        """How ``sample()`` makes its images now: the generator and the resolution it draws at."""
        (stage, alpha), full = self.progress, self.generator.img_shape[1]
        if stage > 0 and alpha == 0:  # a fade about to start: the new block has no weight yet
            stage, alpha = stage - 1, 1.0
        size = self.generator.sizes[stage]
        text = f"{super().sampling_protocol}, generated at {size}x{size}"
        if stage > 0 and alpha < 1:
            text += f" fading in over {size // 2}x{size // 2} (alpha {alpha:.2f})"
        return text + (f", upsampled to {full}x{full}" if size < full else "")

    def _apply_progress(self) -> tuple[int, float]:
        stage, alpha = self.progress
        ema = [self.generator_ema.module] if self.generator_ema is not None else []
        for net in (self.generator, self.discriminator, *ema):
            net.set_progress(stage, alpha)
        return stage, alpha

    # -----------------------------------------------------------------------------------------------------
    # Training
    # -----------------------------------------------------------------------------------------------------

    def training_step(self, batch, batch_idx: int) -> None:
        stage, alpha = self._apply_progress()
        if stage != self._optimizer_stage:
            self._optimizer_stage = stage
            if self.hparams.reset_optimizers:
                for opt in self.optimizers():
                    opt.optimizer.state.clear()
        # Unused stages get no gradient: freeze them, so that DDP's per-network averaging checks the rest.
        for net in (self.generator, self.discriminator):
            net.requires_grad_(False)
            for p in net.parameters_in_use():
                p.requires_grad_(True)
        super().training_step(batch, batch_idx)
        self.images_seen += self._unpack(batch)[0].shape[0] * self.trainer.world_size
        self._apply_progress()  # what sample() draws now, and what a checkpoint of this moment reloads
        if logs_this_batch(self.trainer, batch_idx):
            self.log_dict({"train/resolution": float(self.generator.sizes[stage]), "train/alpha": alpha})

    @staticmethod
    def _compares_images(discriminator: nn.Module) -> bool:
        return True  # minibatch standard deviation: real and fake go through D as separate batches

    def _prepare_real(self, real: Tensor) -> Tensor:
        return fade_in_reals(real, self.generator.resolution, self.generator.alpha)

    # -----------------------------------------------------------------------------------------------------
    # Checkpoints
    # -----------------------------------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["progressive_growing"] = {"images_seen": self.images_seen,
                                             "optimizer_stage": self._optimizer_stage}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get("progressive_growing", {})
        self.images_seen = state.get("images_seen", 0)
        self._optimizer_stage = state.get("optimizer_stage", 0)
        self._apply_progress()
