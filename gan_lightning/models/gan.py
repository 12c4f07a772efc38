"""The GAN LightningModule: alternating discriminator and generator steps with manual optimization.

Steps and epochs: every batch makes ``n_critic`` discriminator steps and then one generator step.
Lightning's ``trainer.global_step`` counts optimizer steps, so it grows by ``n_critic + 1`` per batch, and
``--trainer.max_steps`` and ``ModelCheckpoint(every_n_train_steps=...)`` use that count; ``log_every_n_steps``
counts batches. Train by ``--trainer.max_epochs`` (or ``max_steps = (n_critic + 1) * batches``);
``GAN.generator_steps`` gives the number of generator updates so far.

    >>> from gan_lightning import GAN, MLPDiscriminator, MLPGenerator
    >>> model = GAN(MLPGenerator(), MLPDiscriminator())  # the tutorial's networks, BCE, Adam 2e-4 (0.5, 0.999)
    >>> model.sample(4).shape, model.num_classes
    (torch.Size([4, 1, 28, 28]), 0)
"""

import os
import warnings
from typing import Any, Literal, Optional

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from gan_lightning._internals import hparams_given_by_cli
from gan_lightning.errors import GANLightningError
from gan_lightning.models._distributed import average_gradients, broadcast_buffers, no_reducer_sync
from gan_lightning.models._guard import NonFiniteGuard
from gan_lightning.models._logging import logs_this_batch, losses_on_progress_bar
from gan_lightning.models._settings import (
    check_settings,
    ema_decay_at,
    make_ema,
    resolve_latent_dim,
    tutorial_adam,
    update_ema,
)
from gan_lightning.networks._checks import shape_str
from gan_lightning.networks.base import Discriminator, Generator
from gan_lightning.objective import AdversarialObjective, Augment, DiscriminatorPhase, Penalty, Ramp
from gan_lightning.objective.augment import AugmentSetting, as_augmentation
from gan_lightning.objective.penalties import as_penalties
from gan_lightning.objective.schedules import as_ramp, plain_settings
from gan_lightning.pixels import to_uint8

# fit has no validation loop (SampleQuality evaluates after training epochs): validation_step and test_step are
# there for `gan-lightning validate` and `test`, so Lightning's note that fit skips the loop asks nothing of a user.
warnings.filterwarnings("ignore", "You defined a `validation_step` but have no `val_dataloader`")


class GAN(LightningModule):
    """A generative adversarial network trained by alternating D and G steps.

    Args:
        generator: Network ``G(z) -> images in [-1, 1]``.
        discriminator: Network ``D(x) -> (logits (N,), aux logits or None)``.
        latent_dim: Size of the noise vector; by default the generator's ``latent_dim``.
        loss: Adversarial loss: ``bce`` (the tutorial's non-saturating loss), ``minimax``, ``lsgan``, ``hinge``,
            ``wasserstein`` or ``rpgan`` (R3GAN's relativistic pairing loss).
        n_critic: Discriminator steps per generator step, each on fresh noise and the batch's real images.
        penalties: Regularizers of D, each ``{name, weight, every}``: ``r1`` and ``r2`` (gamma / 2 times the squared
            gradient norm of D on real, resp. fake, images), ``gp`` (WGAN-GP, lambda 10 in the paper), ``drift``
            (PGGAN's, epsilon 0.001); ``every: 16`` makes one lazy (StyleGAN2); a weight may be a ramp
            ``{start, end, steps}``. None: none (a ProgressiveGAN: the paper's drift and gradient penalty).
        augment: Augmentation of every image D sees, real and fake, in both phases (for small image sets):
            ``diffaugment`` (colour, translation and cutout on every image), ``ada`` (the same with a probability p
            adapted to D, ADA's), settings ``{policy, p, target, ...}`` (:class:`~gan_lightning.objective.Augmentation`)
            or null for none. p is logged as ``train/aug_p``.
        ema_decay: Decay of an exponential moving average of the generator, used by ``sample()`` and by the
            metrics; None turns it off. 0.999 is a common choice.
        ema_rampup: Warm-up of the average (StyleGAN2-ADA's ``ema_rampup``): its half-life is at most this share of
            the generator steps taken so far, so that early on it follows the generator instead of holding its
            random initial weights; None: ``ema_decay`` from the first step.
        optimizer_g: Optimizer of the generator; None means the model's default: Adam(lr=2e-4, betas=(0.5, 0.999)),
            for ProgressiveGAN the paper's Adam(lr=1e-3, betas=(0.0, 0.99), eps=1e-8).
        optimizer_d: Optimizer of the discriminator; None means the model's default, as for ``optimizer_g``.
        scheduler_g: Learning-rate scheduler of the generator, stepped once per epoch; None for none.
        scheduler_d: Learning-rate scheduler of the discriminator, stepped once per epoch; None for none.
        lr_ramp: The learning rate of both optimizers as a ramp ``{start, end, steps}`` over generator steps (R3GAN
            decays it from 2e-4 to 5e-5 along a half cosine); None: the optimizers' own.
        beta2_ramp: Adam's beta2 of both optimizers as a ramp (R3GAN: 0.9 to 0.99); None: the optimizers' own.
        on_nonfinite: What a non-finite loss does: ``stop`` ends training with a message naming the step
            (checked without syncing every step on GPUs); ``skip`` skips that optimizer step, counts it in
            ``train/skipped_steps`` and goes on (one host-device sync per step).
        compile: Compile the generator and discriminator with ``torch.compile`` when fitting (pays off on
            GPUs for the convolutional networks; see scripts/benchmark.py).

    Conditioning contract, the same for every subclass: ``num_classes`` is 0 for an unconditional model and the
    class count of a conditional one; ``grid_rows`` and ``grid_inputs`` lay a sample grid out (one row per
    class, or per InfoGAN code); ``sample_labels`` draws labels as in training; ``sample`` draws images.
    """

    num_classes: int = 0  # classes the model can be asked for; 0: unconditional
    default_optimizer = staticmethod(tutorial_adam)  # what optimizer_g and optimizer_d default to
    default_penalties: tuple[Penalty, ...] = ()  # what penalties=None means

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        latent_dim: Optional[int] = None,
        loss: str = "bce",
        n_critic: int = 1,
        penalties: Optional[list[Penalty]] = None,
        augment: AugmentSetting = None,
        ema_decay: Optional[float] = None,
        ema_rampup: Optional[float] = 0.05,
        optimizer_g: Optional[OptimizerCallable] = None,
        optimizer_d: Optional[OptimizerCallable] = None,
        scheduler_g: Optional[LRSchedulerCallable] = None,
        scheduler_d: Optional[LRSchedulerCallable] = None,
        lr_ramp: Optional[Ramp] = None,
        beta2_ramp: Optional[Ramp] = None,
        on_nonfinite: Literal["stop", "skip"] = "stop",
        compile: bool = False,
    ) -> None:
        super().__init__()
        # Under LightningCLI networks and optimizers are saved as their configs and reload with
        # `load_from_checkpoint`; outside it they are objects, which do not belong in a checkpoint's hparams:
        # pass the networks again to load_from_checkpoint.
        objects = ["generator", "discriminator", "optimizer_g", "optimizer_d", "scheduler_g", "scheduler_d"]
        self.save_hyperparameters(ignore=None if hparams_given_by_cli() else objects)
        # Plain values in the hyperparameters, which a safe torch.load reads back.
        for key in ("penalties", "augment", "lr_ramp", "beta2_ramp"):
            if key in self.hparams:  # (a config given to the CLI may leave them out)
                self.hparams[key] = plain_settings(self.hparams[key])
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = resolve_latent_dim(generator, latent_dim)
        check_settings(n_critic=n_critic, ema_decay=ema_decay, ema_rampup=ema_rampup)
        # Batch norm (and networks that compare the images of a batch) needs real and fake in separate batches;
        # otherwise one forward of both is faster.
        augmentation = as_augmentation(augment)
        self.objective = AdversarialObjective(loss, as_penalties(self.default_penalties if penalties is None
                                                                 else penalties),
                                              view=Augment(augmentation) if augmentation is not None else None,
                                              joint_batches=not self._compares_images(discriminator))
        self.objective.check(discriminator)
        self.generator_ema = make_ema(generator, ema_decay) if ema_decay is not None else None
        self._optimizers = {"optimizer_g": optimizer_g or self.default_optimizer,
                            "optimizer_d": optimizer_d or self.default_optimizer}
        self._schedulers = (scheduler_g, scheduler_d)
        self._ramps = {"lr": as_ramp(lr_ramp, "lr_ramp"), "beta2": as_ramp(beta2_ramp, "beta2_ramp")}
        if self._ramps["lr"] is not None and any(self._schedulers):
            raise GANLightningError("lr_ramp and a learning-rate scheduler both set the learning rate: keep one.")
        self._penalty_logs: dict[str, Tensor] = {}  # the last value of each penalty, lazy ones included
        self._noise_seed: Optional[int] = None
        self._noise_rng: Optional[torch.Generator] = None
        self._guard = NonFiniteGuard()
        self.skipped_steps = 0
        self._compiled = False

    # -----------------------------------------------------------------------------------------------------
    # Sampling: the one contract used by callbacks, scripts and notebooks
    # -----------------------------------------------------------------------------------------------------

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator used to sample: its EMA when enabled, else the live one."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    def noise(self, num_samples: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """Standard normal latent vectors of shape (num_samples, latent_dim) on the module's device."""
        return torch.randn(num_samples, self.latent_dim, device=self.device, generator=generator)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """A batch of ``gan-lightning predict`` (:class:`gan_lightning.predict.SampleRequests`): its images as
        uint8, as a PNG stores them, with their indices and labels (or InfoGAN codes)."""
        labels = batch.get("labels")
        truncation = float(batch["truncation"][0]) if "truncation" in batch else 1.0
        images = self.sample(len(batch["z"]), labels=labels, z=batch["z"], truncation=truncation)
        out = {"index": batch["index"], "images": to_uint8(images)}
        drawn = self.drawn_as(batch["z"], labels)
        if drawn is not None:
            out["labels" if self.num_classes else "codes"] = drawn
        return out

    def truncate(self, z: Tensor, psi: float) -> Tensor:
        """The truncation trick on noise ``z``: ``psi * z`` (InfoGAN keeps the entries that choose its code)."""
        return z * psi

    @torch.no_grad()
    def sample(self, num_samples: int, labels: Optional[Tensor] = None, z: Optional[Tensor] = None,
               truncation: float = 1.0) -> Tensor:
        """Generate ``num_samples`` images in [-1, 1] (eval mode, EMA weights when enabled).

        Args:
            num_samples: How many images.
            labels: Class of each image (or one class for all), for conditional models only; drawn from the
                training label distribution when None.
            z: Fixed noise of shape (num_samples, latent_dim); drawn fresh when None.
            truncation: The truncation trick's psi: the noise is scaled by it towards its mean 0 (:meth:`truncate`; as
                StyleGAN scales w, where BigGAN resamples large values instead), trading variety for typical images.
                1 draws ``z`` as it is; 0.7 is a common choice.
        """
        if not truncation > 0:
            raise GANLightningError(f"truncation={truncation} must be > 0 (1 turns it off; 0.7 is common).")
        z = self.noise(num_samples) if z is None else z.to(self.device)
        if truncation != 1.0:
            z = self.truncate(z, truncation)
        labels = self._sampling_labels(num_samples, labels)
        generator = self.sampling_generator
        was_training = generator.training
        generator.eval()
        try:
            images = self._generate(generator, z, self._generator_labels(z, labels))
        finally:
            generator.train(was_training)
        return images.float().clamp(-1, 1)

    def sample_labels(self, num_samples: int, generator: Optional[torch.Generator] = None) -> Optional[Tensor]:
        """Labels drawn as in training (conditional models), None for unconditional ones."""
        return None

    def drawn_as(self, z: Tensor, labels: Optional[Tensor] = None) -> Optional[Tensor]:
        """The class (or InfoGAN code) each image of noise ``z`` (and ``labels``) is drawn as; None when the model
        has neither."""
        return self._generator_labels(z, labels)

    @property
    def grid_rows(self) -> int:
        """Rows of a sample grid with one class (or InfoGAN code) per row; 0 when the layout is free."""
        return self.num_classes

    def grid_inputs(self, z: Tensor, rows: Optional[Tensor]) -> tuple[Tensor, Optional[Tensor]]:
        """The noise and labels for ``sample`` that draw image ``i`` from class (or InfoGAN code) ``rows[i]``
        (:func:`gan_lightning.sampling.grid_layout` gives the rows of a grid). Unconditional models, and ``rows``
        None, return ``z`` unchanged and no labels."""
        return z, rows.to(z.device) if rows is not None and self.grid_rows else None

    @property
    def sampling_protocol(self) -> str:
        """How ``sample()`` makes its images, printed by the metric callbacks next to every value."""
        return "EMA generator" if self.generator_ema is not None else "live generator"

    @property
    def generator_steps(self) -> int:
        """Generator updates so far (``global_step`` counts D and G steps together)."""
        return self.trainer.global_step // (self.hparams.n_critic + 1) if self._trainer else 0

    def _sampling_labels(self, num_samples: int, labels: Optional[Tensor]) -> Optional[Tensor]:
        if labels is not None:
            raise GANLightningError(f"{type(self).__name__} is unconditional: use ConditionalGAN to choose which "
                                    "class to draw.")
        return None

    # -----------------------------------------------------------------------------------------------------
    # Training
    # -----------------------------------------------------------------------------------------------------

    def setup(self, stage: str) -> None:
        data_shape = getattr(self.trainer.datamodule, "img_shape", None)
        for name, net in (("generator", self.generator), ("discriminator", self.discriminator)):
            net_shape = getattr(net, "img_shape", None)
            if data_shape is not None and net_shape is not None and tuple(net_shape) != tuple(data_shape):
                raise GANLightningError(
                    f"The data gives {shape_str(data_shape)} images but the {name} is built for "
                    f"{shape_str(net_shape)}: set the networks' img_shape to {list(data_shape)}."
                )

    def configure_model(self) -> None:
        if self.hparams.compile and not self._compiled:
            self.generator.compile()
            self.discriminator.compile()
            self._compiled = True

    def configure_optimizers(self):
        optimizers = [self._make_optimizer("optimizer_g", self.generator),
                      self._make_optimizer("optimizer_d", self.discriminator)]
        schedulers = [make(opt) for make, opt in zip(self._schedulers, optimizers) if make is not None]
        return (optimizers, schedulers) if schedulers else optimizers

    def on_train_start(self) -> None:
        if self._noise_seed is None:  # a fresh run; a resumed one restored it from the checkpoint
            self._noise_seed = int(os.environ.get("PL_GLOBAL_SEED", torch.initial_seed()))
        if self.trainer.world_size > 1:
            # seed_everything gives every process the same seed; offset the global RNG (dropout, user code)
            # by rank. The weights stay equal: DDP broadcasts rank 0's at start.
            torch.manual_seed(torch.initial_seed() + self.trainer.global_rank)

    def training_step(self, batch, batch_idx: int) -> None:
        with no_reducer_sync(self.trainer.strategy):
            self._train_on_batch(batch, batch_idx)
        broadcast_buffers(self)  # what DDP's forward would do: rank 0's batch-norm and spectral-norm state everywhere

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Nothing per batch: ``gan-lightning validate`` scores the generator's samples in the SampleQuality callback
        (fit has no validation loop: the callback evaluates after training epochs)."""

    def test_step(self, batch: Any, batch_idx: int) -> None:
        """Nothing per batch: ``gan-lightning test`` scores the generator's samples in the SampleQuality callback."""

    def on_train_epoch_end(self) -> None:
        schedulers = self.lr_schedulers()
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()

    def _train_on_batch(self, batch, batch_idx: int) -> None:
        real, labels = self._unpack(batch)
        real = self._prepare_real(real)
        opt_g, opt_d = self.optimizers()
        step, n_critic, g_steps = self.trainer.global_step, self.hparams.n_critic, self.generator_steps
        self._apply_ramps(g_steps, (opt_g, opt_d))
        rng = self._batch_rng(step)
        for i in range(n_critic):
            # Each D step sees fresh noise; the last fake keeps its graph and is reused for the G step,
            # so G runs once per D step and never twice for the same noise.
            z = self.noise(real.shape[0], rng)
            fake_labels = self._generator_labels(z, labels)
            with torch.set_grad_enabled(i == n_critic - 1):
                fake = self._generate(self.generator, z, fake_labels)
            if i == 0 and fake.shape[1:] != real.shape[1:]:
                raise GANLightningError(
                    f"The data gives {shape_str(real.shape[1:])} images but the generator makes "
                    f"{shape_str(fake.shape[1:])}: set the networks' img_shape to {list(real.shape[1:])}."
                )
            d = self._discriminator_step(opt_d, real, fake.detach(), labels, fake_labels, rng,
                                         g_steps, g_steps * n_critic + i)
            self._penalty_logs.update(d.penalties)
        g_loss = self._generator_step(opt_g, fake, real, labels, fake_labels, g_steps, rng)
        logs = logs_this_batch(self.trainer, batch_idx)
        if self.hparams.on_nonfinite == "stop":
            self._guard.record(step, d.loss, g_loss)
            # Reading the flag syncs with a GPU: do it on the batches whose logged values Lightning reads
            # anyway, the epoch's last among them (before its checkpoint), so a diverged state is never saved.
            if logs or self.device.type == "cpu":
                self._guard.check(self.current_epoch)
        if logs:
            out = self.objective.loss.output
            self.log_dict({"train/d_loss": d.loss.detach(), "train/g_loss": g_loss.detach()},
                          prog_bar=losses_on_progress_bar(self.trainer))
            self.log_dict({"train/d_real": out(d.real_logits.detach()).mean(),
                           "train/d_fake": out(d.fake_logits.detach()).mean(),
                           **{f"train/{name}": value for name, value in self._penalty_logs.items()}})
            if self.objective.view is not None:
                self.log("train/aug_p", self.objective.view.probability(g_steps).float())
            if self.hparams.on_nonfinite == "skip":
                self.log("train/skipped_steps", float(self.skipped_steps))

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Optional[Tensor] = None,
                           fake_labels: Optional[Tensor] = None, g_steps: int = 0, d_steps: int = 0,
                           rng: Optional[torch.Generator] = None) -> DiscriminatorPhase:
        """D's loss on a batch (the objective's discriminator phase with this model's aux-head loss): ``real``
        images (with their ``labels`` for conditional models) and ``fake`` ones drawn with ``fake_labels``;
        ``g_steps`` and ``d_steps`` (steps so far) set ramped weights and due lazy penalties."""
        return self.objective.discriminator_phase(
            self.discriminator, real, fake, labels, step=g_steps, d_step=d_steps, rng=rng,
            aux=lambda real_aux, fake_aux: self._aux_d_loss(real_aux, fake_aux, labels, fake_labels))

    def generator_loss(self, fake: Tensor, real: Tensor, labels: Optional[Tensor] = None,
                       fake_labels: Optional[Tensor] = None, g_steps: int = 0,
                       rng: Optional[torch.Generator] = None) -> Tensor:
        """G's loss on ``fake`` images (the objective's generator phase with this model's aux-head loss)."""
        return self.objective.generator_phase(self.discriminator, fake, real, labels,
                                              aux=lambda fake_aux: self._aux_g_loss(fake_aux, fake_labels),
                                              step=g_steps, rng=rng)

    def _discriminator_step(self, opt, real: Tensor, fake: Tensor, labels: Optional[Tensor],
                            fake_labels: Optional[Tensor], rng: torch.Generator, g_steps: int,
                            d_steps: int) -> DiscriminatorPhase:
        with self.toggled_optimizer(opt):
            d = self.discriminator_loss(real, fake, labels, fake_labels, g_steps, d_steps, rng)
            self._backward_and_step(opt, d.loss, self.discriminator, "discriminator")
        return d

    def _generator_step(self, opt, fake: Tensor, real: Tensor, labels: Optional[Tensor],
                        fake_labels: Optional[Tensor], g_steps: int, rng: torch.Generator) -> Tensor:
        with self.toggled_optimizer(opt):
            loss = self.generator_loss(fake, real, labels, fake_labels, g_steps, rng)
            stepped = self._backward_and_step(opt, loss, self.generator, "generator")
        if stepped and self.generator_ema is not None:
            # generator_steps counts this step: the warm-up's clock, restored with global_step on resume
            decay = ema_decay_at(self.hparams.ema_decay, self.hparams.ema_rampup, self.generator_steps)
            update_ema(self.generator_ema, self.generator, decay)
        return loss

    def _backward_and_step(self, opt, loss: Tensor, network: nn.Module, name: str) -> bool:
        opt.zero_grad(set_to_none=True)
        if self.hparams.on_nonfinite == "skip":
            # One sync per step, by choice; all ranks skip together. Inf gradients of a finite loss under
            # 16-mixed stay the GradScaler's business.
            nonfinite = not bool(torch.isfinite(loss.detach()))
            if self.trainer.strategy.reduce_boolean_decision(nonfinite, all=False):
                self.skipped_steps += 1
                return False
        self.manual_backward(loss)
        average_gradients(network, name)
        opt.step()
        return True

    # -----------------------------------------------------------------------------------------------------
    # Checkpoints: what Lightning does not save by itself
    # -----------------------------------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The class path tells loaders which module this is (gan_lightning.checkpoints.load_model), also for
        # checkpoints written outside LightningCLI; generator_steps is what reports count.
        checkpoint["gan_lightning"] = {"class_path": f"{type(self).__module__}.{type(self).__qualname__}",
                                       "generator_steps": self.generator_steps, "noise_seed": self._noise_seed,
                                       "skipped_steps": self.skipped_steps, "torch_rng_state": torch.get_rng_state()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("gan_lightning", {})
        self._noise_seed = state.get("noise_seed")
        self.skipped_steps = state.get("skipped_steps", 0)
        if self._trainer is not None and "torch_rng_state" in state:  # resuming fit, not just loading weights
            torch.set_rng_state(state["torch_rng_state"])

    # -----------------------------------------------------------------------------------------------------
    # Hooks of the training step, for the subclasses: what G is given, how reals are prepared, the aux losses
    # -----------------------------------------------------------------------------------------------------

    def _unpack(self, batch) -> tuple[Tensor, Optional[Tensor]]:
        """The real images of a batch and, for conditional models, their labels (None otherwise)."""
        return (batch[0] if isinstance(batch, (list, tuple)) else batch), None

    def _prepare_real(self, real: Tensor) -> Tensor:
        """The real images as D sees them (a progressive GAN pools them to its current resolution)."""
        return real

    def _generator_labels(self, z: Tensor, labels: Optional[Tensor]) -> Optional[Tensor]:
        """The labels G draws ``z`` with: the real batch's labels (conditional models), InfoGAN's codes of ``z``,
        or None. They are also the targets of D's aux head on the fakes."""
        return labels

    def _aux_d_loss(self, real_aux: Optional[Tensor], fake_aux: Optional[Tensor], labels: Optional[Tensor],
                    fake_labels: Optional[Tensor]) -> Optional[Tensor]:
        """D's weighted loss on its aux head (AC-GAN's classes, InfoGAN's codes); None when there is none."""
        return None

    def _aux_g_loss(self, fake_aux: Optional[Tensor], fake_labels: Optional[Tensor]) -> Optional[Tensor]:
        """G's weighted loss on D's aux head for the fakes; None when there is none."""
        return None

    # -----------------------------------------------------------------------------------------------------
    # Helpers of the training step
    # -----------------------------------------------------------------------------------------------------

    @staticmethod
    def _compares_images(discriminator: nn.Module) -> bool:
        """Whether D's output for an image depends on the other images of its batch (batch norm), so that real and
        fake images must reach it as separate batches."""
        return any(isinstance(m, _BatchNorm) for m in discriminator.modules())

    def _apply_ramps(self, g_steps: int, optimizers) -> None:
        """Set the ramped learning rate and beta2 of both optimizers for this step."""
        lr, beta2 = self._ramps["lr"], self._ramps["beta2"]
        if lr is None and beta2 is None:
            return
        for opt in optimizers:
            for group in opt.optimizer.param_groups:
                if lr is not None:
                    group["lr"] = lr.at(g_steps)
                if beta2 is not None:
                    group["betas"] = (group["betas"][0], beta2.at(g_steps))

    def _batch_rng(self, step: int) -> torch.Generator:
        """A generator seeded from (run seed, step, rank): the noise of a step does not depend on history,
        so a resumed run draws exactly what the uninterrupted one did, and every rank draws its own."""
        if self._noise_rng is None or self._noise_rng.device != self.device:
            self._noise_rng = torch.Generator(device=self.device)
        seed = (self._noise_seed * 1_000_003 + step) * 4099 + self.trainer.global_rank
        return self._noise_rng.manual_seed(seed % 2**63)

    def _make_optimizer(self, name: str, network: nn.Module) -> torch.optim.Optimizer:
        try:
            return self._optimizers[name](network.parameters())
        except ValueError as err:  # torch's "Invalid learning rate: -0.1" and friends
            raise GANLightningError(
                f"{name}: {err}; give it valid settings, e.g. --model.{name}.init_args.lr 0.0002."
            ) from err

    @staticmethod
    def _generate(generator: nn.Module, z: Tensor, labels: Optional[Tensor]) -> Tensor:
        return generator(z) if labels is None else generator(z, labels)
