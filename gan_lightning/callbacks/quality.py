"""Sample-quality callbacks: ``SampleQuality`` scores several metrics on one set of generated samples per
evaluation; ``FID``, ``KID``, ``InceptionScore``, ``ConditionalAccuracy``, ``PrecisionRecall``,
``DensityCoverage`` and ``ClassModes`` are the same callback with one metric.

Each evaluates at the end of every ``every_n_epochs``-th training epoch (there is no validation loop) and logs
``val/<value>`` (``val/fid``, ``val/is``, ...). Lightning runs ModelCheckpoint and EarlyStopping after the other
callbacks' ``on_train_epoch_end``, so ``ModelCheckpoint(monitor="val/fid", mode="min")`` sees this epoch's value.
The metrics themselves are defined in :mod:`gan_lightning.metrics.registry`.
"""

import time
from typing import Any, Optional

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from gan_lightning.callbacks._epochs import is_last_epoch
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.backbones import Backbone, check_backbone, get_backbone
from gan_lightning.metrics.features import dataset_name, generated_features, reference_features
from gan_lightning.metrics.protocol import Protocol
from gan_lightning.metrics.registry import Counts, Metric, MetricSettings, get_metrics, score

DEFAULT_METRICS = ("fid", "is", "precision_recall", "density_coverage", "modes", "cond_acc")


class SampleQuality(Callback):
    """Scores ``num_samples`` generated images with every metric in ``metrics``, from one generation and one
    backbone pass per evaluation, and logs ``val/<value>`` for each (``val/fid``, ``val/is``, ``val/is_std``, ...).

    Samples come from ``model.sample()`` (the EMA generator when enabled) with noise (and labels) drawn from
    ``seed``, so every evaluation scores the same latent points. Reference features are computed once and
    cached on disk. Under DDP each process scores its share and the values equal the single-process ones.

    Args:
        metrics: Metrics to compute, of ``fid``, ``is``, ``kid``, ``cond_acc``, ``precision_recall``,
            ``density_coverage``, ``modes`` and ``mode_count`` (Stacked MNIST's: classes drawn at least once, KL to
            uniform); the first is the headline (the best value printed at the end). None: all but ``kid`` and
            ``mode_count`` where they apply (IS and modes need a backbone with class logits, cond_acc a conditional
            model).
        backbone: Feature network: ``mnist`` (shipped MNIST classifier: 128-d features, 10 class logits),
            ``stacked_mnist`` (that classifier on each channel of Stacked MNIST: 384-d, 1000 class logits),
            ``inception`` (InceptionV3, 2048-d, the network of FID papers; use a GPU), ``inception-64``/``-192``/
            ``-768`` (earlier Inception layers, no logits, for quick checks), or the path of a classifier weights
            file written by ``scripts/train_classifier.py`` for other labeled data.
        num_samples: Generated images per evaluation (over all processes); FID needs more than the feature size.
        batch_size: Images per generator and backbone batch.
        every_n_epochs: Evaluate after every this many training epochs (give a ModelCheckpoint that monitors
            one of the values the same ``every_n_epochs``: in between, Lightning keeps showing it the last value).
            None: after the epochs where the training since the last evaluation took at least four times what one
            evaluation costs (measured; before the first, estimated from the backbone's speed at the start), so
            that about a fifth of the time goes to evaluating, and after the last epoch.
        reference_split: Datamodule split of real images to compare with; None: the data's reference split (the
            test split of MNIST and torchvision datasets, the ``val`` split of a folder).
        weights_path: Backbone weights file; None uses the shipped MNIST classifier or the standard Inception
            weights (downloaded once into the torch hub cache).
        cache_dir: Folder for cached reference features; None uses ``$GAN_LIGHTNING_CACHE`` or
            ``~/.cache/gan_lightning``.
        seed: Seed of the evaluation noise and labels, of KID's subsets and of IS's splits.
        kid_subsets: KID's random subsets; mean and std are over them.
        kid_subset_size: Images per KID subset, from each side; at most ``num_samples`` and the reference size.
        is_splits: Parts the Inception Score is computed on; mean and std are over them.
        truncation: Truncation psi of the samples (``GAN.sample``): 1 scores the generator as it is.
        pr_k: Neighbours of improved precision and recall (3 in the paper).
        dc_k: Neighbours of density and coverage (5 in the paper).
    """

    fixed_metrics: Optional[tuple[str, ...]] = None  # the one-metric subclasses set theirs

    def __init__(self, metrics: Optional[list[str]] = None, backbone: str = "mnist", num_samples: int = 10000,
                 batch_size: int = 500, every_n_epochs: Optional[int] = 1, reference_split: Optional[str] = None,
                 weights_path: Optional[str] = None, cache_dir: Optional[str] = None, seed: int = 0,
                 kid_subsets: int = 100, kid_subset_size: int = 1000, is_splits: int = 10,
                 truncation: float = 1.0, pr_k: int = 3, dc_k: int = 5) -> None:
        for name, value in (("num_samples", num_samples), ("batch_size", batch_size),
                            ("every_n_epochs", every_n_epochs or 1), ("kid_subsets", kid_subsets),
                            ("kid_subset_size", kid_subset_size), ("is_splits", is_splits),
                            ("pr_k", pr_k), ("dc_k", dc_k)):
            if value < 1:
                raise GANLightningError(f"{type(self).__name__}: {name}={value} must be at least 1.")
        check_backbone(backbone)
        self.requested = None if metrics is None else get_metrics(metrics)
        self.backbone, self.num_samples, self.batch_size = backbone, num_samples, batch_size
        self.every_n_epochs, self.reference_split = every_n_epochs, reference_split
        self.weights_path, self.cache_dir, self.truncation = weights_path, cache_dir, truncation
        if not truncation > 0:
            raise GANLightningError(f"{type(self).__name__}: truncation={truncation} must be > 0 (1 turns it off).")
        self.settings = MetricSettings(kid_subsets, kid_subset_size, is_splits, seed, pr_k, dc_k)
        self.metrics: list[Metric] = self.requested or []  # what is computed: set by setup()
        self.history: list[dict[str, float]] = []
        self.protocol = f"{num_samples} samples, {backbone} backbone"
        self.record: Optional[Protocol] = None  # the full protocol, known at setup
        self._backbone: Optional[Backbone] = None
        self._skip = True
        self._started = time.monotonic()
        self._cost: Optional[float] = None  # seconds of one evaluation: estimated at setup, then measured
        self._trained_since = 0.0  # when the training since the last evaluation began (time.monotonic)
        # The real images' data module when the trainer has none: `gan-lightning validate` and `test` run the
        # trainer on one placeholder batch per process and set this to the configured data.
        self.data: Optional[Any] = None

    @property
    def state_key(self) -> str:
        metrics = {} if self.fixed_metrics else {"metrics": [m.name for m in self.requested or []] or None}
        return self._generate_state_key(backbone=self.backbone, num_samples=self.num_samples, **metrics)

    @property
    def keys(self) -> list[str]:
        """The logged names, ``val/fid`` first when FID is the headline."""
        return [f"val/{key}" for metric in self.metrics for key in metric.keys]

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        # fast_dev_run is a smoke test of the training loop: a 10k-sample evaluation would dominate it.
        self._skip = stage not in ("fit", "validate", "test") or bool(trainer.fast_dev_run) or self.requested == []
        if self._skip:
            return
        self._backbone = backbone = get_backbone(self.backbone, self.weights_path)
        has_logits, conditional = bool(backbone.num_classes), bool(pl_module.num_classes)
        if self.requested is None:
            self.metrics = [m for m in get_metrics(DEFAULT_METRICS) if m.applies(has_logits, conditional)]
        for metric in self.metrics:
            if metric.needs_labels and not conditional:
                raise GANLightningError(f"{type(self).__name__}: {metric.name} needs a conditional model: use "
                                        "ConditionalGAN or leave the metric out.")
            if metric.needs_logits and not has_logits:
                raise GANLightningError(f"{type(self).__name__}: {metric.name} needs class logits, which the "
                                        f"{self.backbone} backbone does not give: use a classifier or inception.")
            if metric.needs_labels and pl_module.num_classes != backbone.num_classes:
                raise GANLightningError(f"The model has {pl_module.num_classes} classes but the {self.backbone} "
                                        f"classifier {backbone.num_classes}: give --quality.backbone a classifier of "
                                        "this data (scripts/train_classifier.py), or leave cond_acc out.")
        n_real = len(self._reference_images(trainer)) if any(m.needs_reference for m in self.metrics) else 0
        shape = "x".join(map(str, getattr(self._data(trainer), "img_shape", ()))) or "?"
        real = f"{dataset_name(self._data(trainer))} {self._split(trainer)}"
        truncated = f", truncation {self.truncation}" if self.truncation != 1.0 else ""
        self.protocol = f"{self.num_samples} samples" + (f" vs {n_real} {real} images" if n_real else "") + \
            f" at {shape}, {backbone.name} backbone{truncated}"
        counts = Counts(self.num_samples, n_real, backbone.num_features, self.backbone)
        for metric in self.metrics:
            metric.check(counts, self.settings)
        sampling = f"{pl_module.sampling_protocol}, truncation {self.truncation}, noise seed {self.settings.seed}"
        self.record = Protocol(backbone.name, backbone.weights_hash[:16], backbone.resize, self.num_samples, n_real,
                               real, shape, sampling)
        for logger in trainer.loggers:  # beside the model's hyperparameters (hparams.yaml of the CSV logger)
            logger.log_hyperparams({f"{type(self).__name__}/{k}": v for k, v in self.record.as_dict().items()})
        if trainer.is_global_zero:
            print(f"{type(self).__name__}: {', '.join(m.name for m in self.metrics)} of {self.record.line()}")
        if stage != "fit":
            return
        self._cost = self.estimated_cost(trainer, pl_module)
        if trainer.is_global_zero:
            cadence = (f"every {self.every_n_epochs} epoch(s)" if self.every_n_epochs else
                       "after the epochs that keep evaluating to about a fifth of the time")
            print(f"{type(self).__name__}: one evaluation draws {self.num_samples} samples through the "
                  f"{backbone.name} backbone (at {self.num_samples / self._cost:.0f} images/s here): about "
                  f"{_duration(self._cost)}, {cadence}; --quality.metrics [] turns the metrics off, "
                  "--quality.num_samples and --quality.every_n_epochs make them cheaper")

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # The clock of the history's `minutes`, from the start of training as the Trainer's max_time counts;
        # a resumed run goes on from its last evaluation.
        before = self.history[-1].get("minutes", 0.0) if self.history else 0.0
        self._started = time.monotonic() - 60 * before
        self._trained_since = time.monotonic()

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._skip or not self.metrics or not self._due(trainer):
            return
        start = time.monotonic()
        scores = self.evaluate(trainer, pl_module)
        self._cost, self._trained_since = time.monotonic() - start, time.monotonic()
        # Every rank computed the same numbers (torchmetrics gathered the states); sync_dist averages equal
        # values, which changes nothing but tells Lightning that every rank holds the global number.
        pl_module.log_dict(scores, on_step=False, on_epoch=True, sync_dist=True)
        # `minutes`: training time (this evaluation included) when the numbers were known, to compare recipes by
        # their curves over the same wall-clock budget (scripts/reproduce.py plots them).
        minutes = (time.monotonic() - self._started) / 60
        self.history.append({"epoch": trainer.current_epoch, "minutes": round(minutes, 6), **scores})
        values = ", ".join(f"{k} = {v:.4g}" for k, v in scores.items())
        pl_module.print(f"{type(self).__name__} ({self.protocol}; {pl_module.sampling_protocol}) "
                        f"epoch={trainer.current_epoch}: {values}")

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "validate":
            self._score_once(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._score_once(trainer, pl_module, "test")

    def _score_once(self, trainer: Trainer, pl_module: LightningModule, prefix: str) -> None:
        """``gan-lightning validate`` / ``test``: score the loaded generator once; Lightning prints the values."""
        if self._skip or not self.metrics:
            return
        scores = {f"{prefix}/{key.split('/', 1)[1]}": value for key, value in self.evaluate(trainer, pl_module).items()}
        pl_module.log_dict(scores, sync_dist=True)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        best = self.best
        if best is None:
            return
        headline, where = self.keys[0], ""
        for checkpoint in trainer.checkpoint_callbacks:
            if getattr(checkpoint, "monitor", None) == headline:
                where = f"; best checkpoint: {checkpoint.best_model_path or 'none saved'}"
        if trainer.is_global_zero:  # plain print: the progress bar that pl_module.print writes through is closed
            print(f"{type(self).__name__} ({self.protocol}): best {headline} = {best[headline]:.4g} "
                  f"at epoch={best['epoch']}{where}")

    # -----------------------------------------------------------------------------------------------------
    # Evaluation
    # -----------------------------------------------------------------------------------------------------

    def _due(self, trainer: Trainer) -> bool:
        """Whether to evaluate after this epoch (the same answer on every process: rank 0's clock decides)."""
        epoch = trainer.current_epoch + 1
        if self.every_n_epochs is not None:
            return epoch % self.every_n_epochs == 0
        last = is_last_epoch(trainer, epoch)
        trained = time.monotonic() - self._trained_since
        return bool(trainer.strategy.broadcast(last or trained >= 4 * (self._cost or 0.0), src=0))

    def estimated_cost(self, trainer: Trainer, pl_module: LightningModule) -> float:
        """Seconds one evaluation will take, from the backbone's speed on one batch of reference images (generating
        the samples and scoring them cost much less on a CPU)."""
        backbone = self._backbone or get_backbone(self.backbone, self.weights_path)
        shape = tuple(self._data(trainer).img_shape)  # what the samples will be; their values do not matter
        images = torch.zeros(min(self.batch_size, 64), *shape, dtype=torch.uint8, device=pl_module.device)
        backbone.to(pl_module.device)
        start = time.monotonic()
        with torch.no_grad():
            backbone(images)
        return max(time.monotonic() - start, 1e-6) * self.num_samples / len(images)

    def evaluate(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, float]:
        """Sample, extract features and score every metric: ``{"val/fid": ..., ...}``; every rank must call."""
        backbone = self._backbone or get_backbone(self.backbone, self.weights_path)
        generated = generated_features(pl_module, backbone, self.num_samples, self.batch_size, self.settings.seed,
                                       trainer.global_rank, trainer.world_size, self.truncation)
        real = None
        if any(m.needs_reference for m in self.metrics):
            full = reference_features(backbone, self._reference_images(trainer), dataset_name(self._data(trainer)),
                                      self._split(trainer), self.cache_dir, self.batch_size)
            real = full.shard(trainer.global_rank, trainer.world_size).to(pl_module.device)
        return {f"val/{key}": value for key, value in score(self.metrics, generated, real, self.settings).items()}

    @property
    def best(self) -> Optional[dict[str, float]]:
        """The history entry with the best headline value, or None before the first evaluation."""
        if not self.history or not self.metrics:
            return None
        pick = min if self.metrics[0].mode == "min" else max
        return pick(self.history, key=lambda entry: entry[self.keys[0]])

    def _reference_images(self, trainer: Trainer) -> Tensor:
        datamodule = self._data(trainer)
        if datamodule is None or not hasattr(datamodule, "split"):
            raise GANLightningError(
                f"{type(self).__name__} compares with real images from the datamodule's split(name) method: "
                "fit with a datamodule that has one, such as MNISTDataModule."
            )
        return datamodule.split(self._split(trainer))[0]

    def _split(self, trainer: Trainer) -> str:
        """The reference split: as configured, else the data module's own (``test``, or ``val`` of a folder)."""
        return self.reference_split or getattr(self._data(trainer), "reference_split", "test")

    def _data(self, trainer: Trainer) -> Any:
        return trainer.datamodule if trainer.datamodule is not None else self.data

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "protocol": None if self.record is None else self.record.as_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict.get("history", []))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 else \
        f"{seconds / 3600:.1f} h"


# ---------------------------------------------------------------------------------------------------------
# One metric each (as configs and code before SampleQuality had them); several of them generate apart
# ---------------------------------------------------------------------------------------------------------


class FID(SampleQuality):
    """Fréchet distance between backbone features of generated images and the reference split: ``val/fid``
    (lower is better). Pair it with ``ModelCheckpoint(monitor="val/fid", mode="min")`` to keep the best model.

    Args:
        **kwargs: The arguments of :class:`SampleQuality` (``backbone``, ``num_samples``, ...) but ``metrics``.
    """

    fixed_metrics = ("fid",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), **kwargs)


class KID(SampleQuality):
    """Kernel distance (squared MMD, cubic polynomial kernel) between generated and reference features:
    ``val/kid`` and ``val/kid_std`` over random subsets (seeded); unbiased, so usable with fewer samples than FID.

    Args:
        subsets: Number of random subsets the mean and std are taken over.
        subset_size: Images per subset, from each side; at most ``num_samples`` and the reference size.
        **kwargs: The other arguments of :class:`SampleQuality` (``backbone``, ``num_samples``, ...).
    """

    fixed_metrics = ("kid",)

    def __init__(self, subsets: int = 100, subset_size: int = 1000, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), kid_subsets=subsets, kid_subset_size=subset_size, **kwargs)


class InceptionScore(SampleQuality):
    """exp(E[KL(p(y|x) || p(y))]) from the backbone's class probabilities: ``val/is`` and ``val/is_std`` (higher
    is better; at most the number of classes, 10 with ``mnist``). Needs no real images.

    Args:
        splits: The samples are split into this many parts; mean and std are over the parts.
        **kwargs: The other arguments of :class:`SampleQuality` (``backbone``, ``num_samples``, ...).
    """

    fixed_metrics = ("is",)

    def __init__(self, splits: int = 10, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), is_splits=splits, **kwargs)


class ConditionalAccuracy(SampleQuality):
    """Conditional accuracy of a cGAN: the share of generated images the backbone's classifier assigns to the
    class they were asked for, ``val/cond_acc`` (the classifier's accuracy on real images is its ceiling).

    Args:
        **kwargs: The arguments of :class:`SampleQuality` (``num_samples``, ``weights_path`` of a classifier, ...)
            but ``metrics``.
    """

    fixed_metrics = ("cond_acc",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), **kwargs)


class PrecisionRecall(SampleQuality):
    """Improved precision and recall (Kynkaanniemi et al. 2019): ``val/precision``, the share of generated images
    inside the real images' k-NN balls in feature space (fidelity), and ``val/recall``, the share of real images
    inside the generated images' balls (diversity). A collapsed generator has high precision and low recall.

    Args:
        k: Neighbours that set each ball's radius (3 in the paper).
        **kwargs: The other arguments of :class:`SampleQuality` (``backbone``, ``num_samples``, ...).
    """

    fixed_metrics = ("precision_recall",)

    def __init__(self, k: int = 3, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), pr_k=k, **kwargs)


class DensityCoverage(SampleQuality):
    """Density and coverage (Naeem et al. 2020): ``val/density``, how many real k-NN balls hold a generated image
    on average, over k (about 1 for real data), and ``val/coverage``, the share of real images whose ball holds a
    generated image. Unlike precision and recall they are robust to outliers.

    Args:
        k: Neighbours that set each real ball's radius (5 in the paper).
        **kwargs: The other arguments of :class:`SampleQuality` (``backbone``, ``num_samples``, ...).
    """

    fixed_metrics = ("density_coverage",)

    def __init__(self, k: int = 5, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), dc_k=k, **kwargs)


class ClassModes(SampleQuality):
    """The generator's classes by the backbone's classifier: ``val/modes``, the classes drawn at least a tenth as
    often as in the real data, and ``val/class_kl``, KL(generated class shares || real ones) (0 when they match).
    Needs a backbone with class logits (``mnist`` or a classifier of ``scripts/train_classifier.py``).

    Args:
        **kwargs: The arguments of :class:`SampleQuality` (``num_samples``, ``weights_path``, ...) but ``metrics``.
    """

    fixed_metrics = ("modes",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metrics=list(self.fixed_metrics), **kwargs)
