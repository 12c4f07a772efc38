"""The metric building blocks: torchmetrics scores against independent maths, backbones, the feature cache."""

import math
import subprocess
import sys
import urllib.error
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics import (
    METRICS,
    Counts,
    MetricSettings,
    SmallClassifier,
    frechet_distance,
    generated_features,
    get_backbone,
    inception_score,
    kernel_distance,
    reference_features,
)
from gan_lightning.metrics import features as features_module
from gan_lightning.metrics.backbones import InceptionBackbone
from gan_lightning.metrics.cache import CACHE
from gan_lightning.metrics.evaluation import score_features
from gan_lightning.metrics.features import Features, eval_mode, extract
from gan_lightning.pixels import to_uint8

from dist_helpers import cli_env
from helpers import tiny_gan
from synthetic import save_random_inception_weights


def digits(n: int, seed: int) -> torch.Tensor:
    """uint8 (n, 1, 28, 28) images: noise plus a bright stroke, like the synthetic MNIST of the tests."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8)
    columns = 10 + torch.arange(n) % 8
    images[torch.arange(n), 0, 4:24, columns] = 255
    return images


@pytest.fixture(autouse=True)
def empty_memory_cache():
    """Each test starts like a fresh process: reference features only on disk, if anywhere."""
    CACHE.references.clear()


@pytest.fixture(scope="module")
def mnist_features():
    backbone = get_backbone("mnist")
    # Two different distributions (the second darker), so the FIDs checked below are far from 0.
    return extract(backbone, digits(400, seed=1)).features, extract(backbone, digits(300, seed=2) // 2).features


def numpy_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """FID from its definition, with numpy and scipy only (as in the original TTUR code)."""
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU features make the covariances singular; sqrtm copes
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def numpy_kid(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased squared MMD with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3."""
    d, m = real.shape[1], len(real)
    k_xx, k_yy, k_xy = [(a @ b.T / d + 1) ** 3 for a, b in ((real, real), (fake, fake), (real, fake))]
    off = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(off - 2 * k_xy.mean())


# ---------------------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------------------

def test_fid_of_a_set_against_itself_is_zero(mnist_features):
    real, _ = mnist_features
    assert abs(frechet_distance(real, real)) < 1e-6 * real.var(0).sum().item()


def test_fid_matches_numpy_and_scipy_on_the_same_features(mnist_features):
    real, fake = mnist_features
    expected = numpy_fid(real.double().numpy(), fake.double().numpy())
    assert expected > 10.0  # two different image sets: the check is not 0 == 0
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6)


def test_kid_matches_numpy_on_the_same_features(mnist_features):
    real, fake = mnist_features
    fake = fake[:300]
    real = real[:300]
    # One subset holding every image: the random subset is then a permutation, which MMD does not see.
    mean, _ = kernel_distance(real, fake, subsets=1, subset_size=300)
    assert mean == pytest.approx(numpy_kid(real.double().numpy(), fake.double().numpy()), rel=1e-6)


def test_is_of_confident_uniformly_spread_predictions_equals_the_number_of_classes():
    logits = 100.0 * torch.nn.functional.one_hot(torch.arange(1000) % 10, 10).float()
    mean, _ = inception_score(logits, splits=1)
    assert mean == pytest.approx(10.0, rel=1e-6)
    one_class, _ = inception_score(logits[::10], splits=1)  # every image the same class: no variety
    assert one_class == pytest.approx(1.0, rel=1e-6)


def test_is_and_kid_are_seeded(mnist_features):
    real, fake = mnist_features
    logits = torch.randn(500, 10, generator=torch.Generator().manual_seed(0))
    assert inception_score(logits, splits=5, seed=3) == inception_score(logits, splits=5, seed=3)
    assert kernel_distance(real, fake, 10, 100, seed=3) == kernel_distance(real, fake, 10, 100, seed=3)


def test_too_few_samples_for_the_feature_size_is_one_sentence(mnist_features):
    real, fake = mnist_features
    backbone = get_backbone("mnist")
    with pytest.raises(GANLightningError, match="needs more than 128 images") as info:
        score_features(Features(fake[:100]), Features(real), backbone, ["fid"])
    assert "\n" not in str(info.value) and str(info.value).endswith(".")
    with pytest.raises(GANLightningError, match="FID on 2048-d inception features needs more than 2048 images"):
        METRICS["fid"].check(Counts(fake=1000, real=10000, num_features=2048, backbone="inception"), MetricSettings())
    with pytest.raises(GANLightningError, match="lower kid_subset_size"):
        score_features(Features(fake[:50]), Features(real), backbone, ["kid"], MetricSettings(kid_subset_size=100))
    with pytest.raises(GANLightningError, match="Inception Score with 10 splits needs at least 10 samples"):
        score_features(Features(fake[:5], logits=torch.randn(5, 10)), Features(real), backbone, ["is"])


def test_every_metric_is_defined_once_and_used_by_callbacks_and_scripts():
    from gan_lightning.callbacks import (
        FID,
        KID,
        ClassModes,
        ConditionalAccuracy,
        DensityCoverage,
        InceptionScore,
        PrecisionRecall,
    )
    from gan_lightning.metrics.evaluation import ALL

    assert tuple(METRICS) == ALL  # evaluate.py and reproduce.py score the registry's metrics
    for callback, name in ((FID, "fid"), (KID, "kid"), (InceptionScore, "is"), (ConditionalAccuracy, "cond_acc"),
                           (PrecisionRecall, "precision_recall"), (DensityCoverage, "density_coverage"),
                           (ClassModes, "modes")):
        assert [m.name for m in callback().metrics] == [name]  # each callback is the registry's metric
    assert [k for m in METRICS.values() for k in m.keys] == ["fid", "is", "is_std", "kid", "kid_std", "cond_acc",
                                                             "precision", "recall", "density", "coverage", "modes",
                                                             "class_kl", "mode_count", "mode_kl"]
    assert {m.name: m.mode for m in METRICS.values()} == {"fid": "min", "is": "max", "kid": "min", "cond_acc": "max",
                                                          "precision_recall": "max", "density_coverage": "max",
                                                          "modes": "max", "mode_count": "max"}
    assert PrecisionRecall(k=4).settings.pr_k == 4 and DensityCoverage(k=7).settings.dc_k == 7


def test_unknown_backbone_is_one_sentence():
    with pytest.raises(GANLightningError, match=r"Unknown backbone 'resnet': use one of mnist, stacked_mnist") as info:
        get_backbone("resnet")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------------------
# Backbones and sampling
# ---------------------------------------------------------------------------------------------------------

def test_mnist_backbone_gives_features_and_logits_and_is_frozen():
    backbone = get_backbone("mnist")
    features, logits = backbone(digits(8, seed=0))
    assert features.shape == (8, 128) and logits.shape == (8, 10)
    assert not any(p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert not backbone.training  # dropout and batch norm never switch to training


@pytest.mark.real_data
def test_shipped_classifier_reaches_99_percent_on_real_mnist(real_mnist):
    images, labels = MNISTDataModule(str(real_mnist), download=False).split("test")
    backbone = get_backbone("mnist")
    accuracy = (extract(backbone, images).logits.argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.99
    assert accuracy == pytest.approx(backbone.meta["test_accuracy"], abs=1e-4)  # as recorded in the file


def test_to_uint8_round_trips_real_images():
    real = digits(16, seed=0)
    assert torch.equal(to_uint8(real.float() / 127.5 - 1), real)


def test_generated_features_do_not_depend_on_processes_or_batch_size():
    torch.manual_seed(0)
    model = tiny_gan()
    backbone = get_backbone("mnist")
    whole = generated_features(model, backbone, 50, batch_size=50, seed=7)
    parts = [generated_features(model, backbone, 50, batch_size=8, seed=7, rank=r, world_size=2) for r in (0, 1)]
    torch.testing.assert_close(torch.cat([p.features for p in parts]), whole.features, rtol=1e-5, atol=1e-5)
    other_seed = generated_features(model, backbone, 50, batch_size=50, seed=8)
    assert not torch.allclose(other_seed.features, whole.features)


def test_eval_mode_restores_every_submodule():
    model = tiny_gan()
    model.train()
    model.discriminator.eval()
    with eval_mode(model):
        assert not any(m.training for m in model.modules())
    assert model.training and model.generator.training and not model.discriminator.training


# ---------------------------------------------------------------------------------------------------------
# Reference-feature cache
# ---------------------------------------------------------------------------------------------------------

def test_reference_cache_is_reused_and_invalidated_by_its_key(tmp_path, monkeypatch):
    backbone = get_backbone("mnist")
    images = digits(120, seed=3)
    first = reference_features(backbone, images, "mnist", "test", cache_dir=str(tmp_path))
    files = list(tmp_path.glob("*.pt"))
    assert len(files) == 1 and "mnist-test-120-mnist-" in files[0].name

    # A new process (empty memory cache) reads the file instead of running the backbone.
    CACHE.references.clear()
    with mock.patch.object(features_module, "extract", side_effect=AssertionError("recomputed")):
        again = reference_features(backbone, images, "mnist", "test", cache_dir=str(tmp_path))
    torch.testing.assert_close(again.features, first.features, rtol=0, atol=0)
    assert len(list(tmp_path.glob(".*"))) == 0  # no temporary file left behind

    # Other images, another count, another split or other weights: another key, computed afresh.
    calls = []
    real_extract = features_module.extract
    monkeypatch.setattr(features_module, "extract", lambda *a, **k: calls.append(1) or real_extract(*a, **k))
    changed = images.clone()
    changed[0, 0, 0, 0] ^= 1
    reference_features(backbone, changed, "mnist", "test", cache_dir=str(tmp_path))
    reference_features(backbone, images[:100], "mnist", "test", cache_dir=str(tmp_path))
    reference_features(backbone, images, "mnist", "train", cache_dir=str(tmp_path))
    weights = tmp_path / "other_classifier.pt"
    torch.save({"state_dict": SmallClassifier().state_dict(), "config": {}, "meta": {}}, weights)
    other = get_backbone("mnist", str(weights))
    assert other.key != backbone.key
    reference_features(other, images, "mnist", "test", cache_dir=str(tmp_path))
    assert len(calls) == 4 and len(list(tmp_path.glob("*.pt"))) == 6  # 5 feature files and the weights


def test_corrupt_cache_file_is_recomputed(tmp_path):
    backbone = get_backbone("mnist")
    images = digits(50, seed=4)
    first = reference_features(backbone, images, "mnist", "test", cache_dir=str(tmp_path))
    path = next(tmp_path.glob("*.pt"))
    path.write_bytes(b"not a torch file")
    CACHE.references.clear()
    again = reference_features(backbone, images, "mnist", "test", cache_dir=str(tmp_path))
    torch.testing.assert_close(again.features, first.features)
    assert torch.load(path, weights_only=True)["key"].startswith("mnist-test-50-")


def test_reference_knn_radii_are_computed_once_per_machine_in_one_pass(tmp_path, monkeypatch):
    from gan_lightning.metrics import neighbours, registry

    backbone = get_backbone("mnist")
    real = reference_features(backbone, digits(120, seed=6), "mnist", "test", cache_dir=str(tmp_path))
    fake = extract(backbone, digits(100, seed=7) // 2)
    passes = []
    one_pass = neighbours.squared_knn_radii_of
    monkeypatch.setattr(registry, "squared_knn_radii_of", lambda f, ks: passes.append(list(ks)) or one_pass(f, ks))
    CACHE.radii.clear()
    pr = METRICS["precision_recall"].score(fake, real, MetricSettings())
    assert passes == [[3, 5]]  # both radii of the reference from one pass (the fake radii come from neighbours)
    saved = torch.load(next(tmp_path.glob("*.pt")), weights_only=True)
    assert sorted(saved["radii"]) == [3, 5] and torch.equal(saved["features"], real.features)
    expected = {k: neighbours.squared_knn_radii(real.features, k) for k in (3, 5)}
    assert all(torch.equal(saved["radii"][k], expected[k]) for k in (3, 5))

    # A new process: features and radii come from the file, the scores are the same.
    CACHE.references.clear()
    CACHE.radii.clear()
    real = reference_features(backbone, digits(120, seed=6), "mnist", "test", cache_dir=str(tmp_path))
    assert METRICS["precision_recall"].score(fake, real, MetricSettings()) == pr and passes == [[3, 5]]
    # Radii of another k are added to the file; k = 3 and 5 stay.
    CACHE.radii.clear()
    METRICS["density_coverage"].score(fake, real, MetricSettings(dc_k=4))
    assert passes == [[3, 5], [4]]
    assert sorted(torch.load(next(tmp_path.glob("*.pt")), weights_only=True)["radii"]) == [3, 4, 5]


def test_cache_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LIGHTNING_CACHE", str(tmp_path / "from_env"))
    reference_features(get_backbone("mnist"), digits(20, seed=5), "mnist", "test")
    assert len(list((tmp_path / "from_env").glob("*.pt"))) == 1


# ---------------------------------------------------------------------------------------------------------
# Inception: the standard path, run on a weights file of the same architecture with random values
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inception_weights(tmp_path_factory):
    """A state dict of torch-fidelity's InceptionV3 with random weights (the real file cannot be downloaded)."""
    torch.manual_seed(0)
    return save_random_inception_weights(tmp_path_factory.mktemp("inception") / "inception_random.pth")


def test_inception_features_are_torchmetrics_features_of_the_rgb_images(inception_weights):
    from torchmetrics.image.fid import NoTrainInceptionV3

    gray = digits(2, seed=6)
    features, logits = InceptionBackbone("inception", inception_weights)(gray)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    reference = NoTrainInceptionV3("inception-v3-compat", ["2048"], inception_weights, antialias=False)
    with torch.no_grad():
        expected = reference(gray.repeat(1, 3, 1, 1))  # torchmetrics' own input: uint8 RGB
    torch.testing.assert_close(features, expected)
    mean, _ = inception_score(logits, splits=1)
    assert 1.0 - 1e-6 <= mean <= 2.0 + 1e-6  # between 1 and the number of images


@pytest.mark.slow
def test_inception_fid_runs_end_to_end_on_a_local_weights_file(inception_weights, tmp_path):
    backbone = get_backbone("inception-64", inception_weights)
    torch.manual_seed(0)
    fake = generated_features(tiny_gan(), backbone, 66, batch_size=33)
    real = reference_features(backbone, digits(66, seed=7), "digits", "test", cache_dir=str(tmp_path))
    assert fake.features.shape == (66, 64)
    value = frechet_distance(real.features, fake.features)
    assert value == pytest.approx(numpy_fid(real.features.double().numpy(), fake.features.double().numpy()), rel=1e-6)
    with pytest.raises(GANLightningError, match="FID on 64-d inception-64 features needs more than 64 images"):
        score_features(fake, Features(real.features[:60]), backbone, ["fid"])


def test_missing_inception_weights_say_how_to_supply_them(tmp_path, monkeypatch):
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    offline = mock.Mock(side_effect=urllib.error.URLError("no network"))
    monkeypatch.setattr(tf_inception, "load_state_dict_from_url", offline)
    with pytest.raises(GANLightningError, match="could not be downloaded") as info:
        InceptionBackbone("inception")
    message = str(info.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in message and "weights_path" in message
    assert str(tmp_path) in message and "\n" not in message
    with pytest.raises(GANLightningError, match="does not exist"):
        InceptionBackbone("inception", str(tmp_path / "missing.pth"))


def test_features_shard_is_contiguous():
    feats = Features(torch.arange(10.0).unsqueeze(1), None, torch.arange(10))
    parts = [feats.shard(r, 3) for r in range(3)]
    assert torch.equal(torch.cat([p.features for p in parts]), feats.features)
    assert [len(p) for p in parts] == [4, 3, 3]


NO_SCIPY = """
import importlib.metadata as metadata, importlib.util as util, sys

def hide(real):  # scipy is a test dependency only: behave as if it were not installed
    def call(name, *args, **kwargs):
        if name.split(".")[0].lower() == "scipy":
            if real is util.find_spec:
                return None
            raise metadata.PackageNotFoundError(name)
        return real(name, *args, **kwargs)
    return call

metadata.distribution, metadata.version, util.find_spec = map(hide, (metadata.distribution, metadata.version,
                                                                     util.find_spec))
sys.modules["scipy"] = None
import torch
import gan_lightning.cli, gan_lightning.checkpoints, gan_lightning.sampling
from gan_lightning.metrics import frechet_distance, kernel_distance, inception_score
real, fake = torch.randn(300, 128), torch.randn(300, 128) + 0.1
print(frechet_distance(real, fake), kernel_distance(real, fake, 5, 100)[0], inception_score(torch.randn(300, 10), 5)[0])
"""


def test_the_package_and_its_metrics_run_without_scipy():
    result = subprocess.run([sys.executable, "-c", NO_SCIPY], capture_output=True, text=True, env=cli_env(),
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    fid, kid, inception = map(float, result.stdout.split())
    assert fid > 0 and math.isfinite(kid) and inception >= 1


def spread_inception_weights(path, images: torch.Tensor, out) -> str:
    """Random InceptionV3 weights whose numbers are not degenerate: default-initialised layers shrink activations
    until every image gives the same features and logits (IS = 1). He-initialised convolutions keep the images
    apart, and a last layer orthogonal to the mean feature (of ``images``) spreads the logits."""
    state = torch.load(path, weights_only=True)
    generator = torch.Generator().manual_seed(0)
    for name, value in state.items():
        if name.endswith("weight") and value.dim() == 4:
            state[name] = torch.randn(value.shape, generator=generator) * math.sqrt(2 / value[0].numel())
    torch.save(state, out)
    with torch.no_grad():
        features, _ = InceptionBackbone("inception", str(out))(images)
    mean = features.mean(0)
    fc = state["fc.weight"] - (state["fc.weight"] @ mean)[:, None] * mean[None, :] / (mean @ mean)
    state["fc.weight"] = 3 * fc / ((features - mean) @ fc.T).std()
    torch.save(state, out)
    return str(out)


@pytest.mark.slow
def test_inception_path_equals_torch_fidelity_calculate_metrics(inception_weights, tmp_path):
    """FID and KID (on the 64-d layer) and IS (on the logits) of the inception backbone against torch-fidelity's own
    `calculate_metrics` on the same uint8 images, with one KID subset of all images and one IS split so that neither
    side's random subsets matter."""
    from torch_fidelity import calculate_metrics

    class Images(torch.utils.data.Dataset):
        def __init__(self, images):
            self.images = images

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i]

    n = 66  # more than the 64 features
    generator = torch.Generator().manual_seed(8)
    real = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)
    fake = (real.float() * 0.5 + 60 * torch.rand(n, 3, 32, 32, generator=generator)).to(torch.uint8)
    weights = spread_inception_weights(inception_weights, real[:16], tmp_path / "inception_spread.pth")

    def features(name: str, images: torch.Tensor) -> Features:
        backbone = get_backbone(name, weights)
        with torch.no_grad():
            feats, logits = zip(*(backbone(chunk) for chunk in images.split(33)))
        return Features(torch.cat(feats), None if logits[0] is None else torch.cat(logits))

    ours = score_features(features("inception-64", fake), features("inception-64", real),
                          get_backbone("inception-64", weights), ["fid", "kid"],
                          MetricSettings(kid_subsets=1, kid_subset_size=n))
    with_logits = features("inception", fake)  # IS needs no real images
    ours |= score_features(with_logits, with_logits, get_backbone("inception", weights), ["is"],
                           MetricSettings(is_splits=1))
    theirs = calculate_metrics(input1=Images(fake), input2=Images(real), cuda=False, isc=True, fid=True, kid=True,
                               feature_extractor="inception-v3-compat", feature_layer_fid="64",
                               feature_layer_kid="64", feature_extractor_weights_path=str(weights),
                               kid_subsets=1, kid_subset_size=n, isc_splits=1, batch_size=33, cache=False,
                               verbose=False, save_cpu_ram=True)
    assert ours["fid"] > 1 and ours["is"] > 1  # numbers that can disagree
    assert ours["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-3)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-3)
    assert ours["is"] == pytest.approx(theirs["inception_score_mean"], rel=1e-3)
