"""gan_lightning.pretrained and the shipped generators: shipped from a checkpoint they sample what it samples (every
kind of module), each bad file is one sentence, and the generators in the package score what the README's table
says they score."""

import json
import re

import pytest
import torch
from safetensors.torch import load_file

from gan_lightning import GANLightningError, pretrained
from gan_lightning.checkpoints import load_model
from gan_lightning.hub import DIR, available, describe, ship, within_tolerance

from conftest import ROOT

ROW = {"recipe": "tiny", "seed": 0, "fid": 1.5, "is": 2.0, "checkpoint": "x.ckpt", "torch": "2"}


@pytest.fixture(scope="module")
def shipped(tiny_runs, recipe_runs, tmp_path_factory):
    """Shipped copies of the tiny runs (float32) and of the recipe runs (float16), in a temporary folder."""
    directory = tmp_path_factory.mktemp("shipped")
    checkpoints = {"gan": tiny_runs["gan"] / "checkpoints" / "last.ckpt",
                   "cgan": tiny_runs["cgan"] / "checkpoints" / "last.ckpt", **recipe_runs}
    for name, checkpoint in checkpoints.items():
        ship(checkpoint, name, ROW, directory, torch.float32 if name in ("gan", "cgan") else torch.float16)
    return directory, checkpoints


def test_a_shipped_generator_samples_what_its_checkpoint_samples(shipped):
    directory, checkpoints = shipped
    assert available(directory) == sorted(checkpoints)
    for name, checkpoint in checkpoints.items():
        original, loaded = load_model(checkpoint), pretrained(name, directory=directory)
        assert type(loaded) is type(original) and not loaded.training
        assert loaded.sampling_protocol == original.sampling_protocol  # the EMA generator, a PGGAN's stage
        z = torch.randn(6, original.latent_dim, generator=torch.Generator().manual_seed(0))
        labels = torch.arange(6) % original.num_classes if original.num_classes else None
        expected = original.sample(6, labels=labels, z=z)
        if describe(name, directory)["weights"]["dtype"] == "float16":  # the checkpoint's weights rounded alike
            generator = original.sampling_generator
            generator.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                                       for k, v in generator.state_dict().items()})
            expected = original.sample(6, labels=labels, z=z)
        torch.testing.assert_close(loaded.sample(6, labels=labels, z=z), expected, rtol=0, atol=1e-6)


def test_a_conditional_generator_ships_its_training_label_distribution(tiny_runs, tmp_path):
    """sample() without labels draws them from the training label shares (MNIST's are not uniform), which live in
    the module, not the generator: shipped without them, a cGAN's FID moved from 0.087 to 0.118."""
    raw = torch.load(tiny_runs["cgan"] / "checkpoints" / "last.ckpt", weights_only=False)
    skewed = torch.arange(1.0, 11.0) / 55  # 1/55, 2/55, ..., 10/55
    raw["state_dict"]["label_probs"] = skewed
    torch.save(raw, tmp_path / "skewed.ckpt")
    ship(tmp_path / "skewed.ckpt", "skewed", ROW, tmp_path / "shipped", torch.float16)
    loaded, original = pretrained("skewed", directory=tmp_path / "shipped"), load_model(tmp_path / "skewed.ckpt")
    assert torch.equal(loaded.label_probs, skewed)
    draw = [m.sample_labels(1000, generator=torch.Generator().manual_seed(0)) for m in (loaded, original)]
    assert torch.equal(draw[0], draw[1])


def test_the_description_records_how_to_rebuild_it_and_where_it_came_from(shipped):
    directory, checkpoints = shipped
    info = describe("fast_infogan", directory)
    assert info["class_path"] == "gan_lightning.models.infogan.InfoGAN"
    assert info["hyper_parameters"]["num_codes"] == 20 and "_instantiator" not in info["hyper_parameters"]
    assert info["weights"]["dtype"] == "float16" and info["weights"]["generator"] == "EMA generator"
    assert info["source"]["checkpoint"] == str(checkpoints["fast_infogan"]) and info["results_row"] == ROW
    weights = load_file(directory / "fast_infogan.safetensors")
    assert all(t.dtype == torch.float16 for t in weights.values() if t.is_floating_point())
    assert sum(t.numel() for k, t in weights.items() if not k.startswith("_module.")) == info["weights"]["parameters"]
    assert describe("pggan", directory)["module_state"]["progressive_growing"]["images_seen"] > 0
    # a shipped module's own checkpoints reload: its hyperparameters are those of the CLI
    assert pretrained("cgan", directory=directory).hparams["generator"]["class_path"].endswith("MLPGenerator")


def test_bad_names_and_files_are_one_sentence(shipped, tmp_path):
    directory, _ = shipped
    with pytest.raises(GANLightningError, match=r"No pretrained generator 'nope': choose one of cgan, "):
        pretrained("nope", directory=directory)
    broken = tmp_path / "broken"
    broken.mkdir()
    for suffix in (".json", ".safetensors"):
        (broken / f"gan{suffix}").write_bytes((directory / f"gan{suffix}").read_bytes())
    data = bytearray((broken / "gan.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (broken / "gan.safetensors").write_bytes(bytes(data))
    with pytest.raises(GANLightningError, match=r"gan.safetensors is damaged \(its SHA-256 is") as info:
        pretrained("gan", directory=broken)
    assert "\n" not in str(info.value)
    (broken / "gan.safetensors").write_bytes((directory / "gan.safetensors").read_bytes())
    description = json.loads((broken / "gan.json").read_text())
    description["hyper_parameters"]["generator"]["init_args"]["hidden_dims"] = [64]
    (broken / "gan.json").write_text(json.dumps(description))
    with pytest.raises(GANLightningError, match="does not fit the generator gan.json describes"):
        pretrained("gan", directory=broken)
    (broken / "gan.json").write_text("{not json")
    with pytest.raises(GANLightningError, match="gan.json is not valid JSON"):
        pretrained("gan", directory=broken)
    description["format"] = 99
    (broken / "gan.json").write_text(json.dumps(description))
    with pytest.raises(GANLightningError, match="not a gan-lightning generator description of format 1"):
        pretrained("gan", directory=broken)


# ---------------------------------------------------------------------------------------------------------
# The generators in the package against the README's table
# ---------------------------------------------------------------------------------------------------------

SHIPPED = ("cgan", "fast_cdcgan", "fast_infogan", "gan", "pggan")


def test_the_package_ships_the_readme_generators_small_and_safe():
    assert available() == list(SHIPPED)
    sizes = {name: (DIR / f"{name}.safetensors").stat().st_size for name in SHIPPED}
    assert sum(sizes.values()) < 15e6
    readme = (ROOT / "docs" / "recipes.md").read_text()
    for name in SHIPPED:
        info = describe(name)
        assert info["results_row"]["recipe"] == name
        shipped = re.search(rf'`pretrained\("{name}"\)`: seed (\d+), FID ([0-9.]+), ([0-9.]+) MB', readme)
        assert shipped, f"docs/recipes.md's table does not say it ships {name}"
        assert int(shipped.group(1)) == info["results_row"]["seed"]
        assert float(shipped.group(2)) == pytest.approx(info["scores"]["fid"], abs=5e-4)
        assert float(shipped.group(3)) == pytest.approx(sizes[name] / 1e6, abs=5e-3)


@pytest.mark.slow
@pytest.mark.real_data
@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_generator_scores_its_row_of_the_table(name, real_mnist):
    """10,000 samples of the shipped weights against the MNIST test images, as reproduce.py scored them: the scores
    it recorded to 1e-3 (the same computation; threads may round differently), and its checkpoint's row of the
    table within the tolerance it shipped half precision under (FID within 2% or 0.01, IS within 0.02, cond_acc
    within 0.002)."""
    from gan_lightning.data import MNISTDataModule
    from gan_lightning.metrics import MetricSettings, get_backbone, reference_features
    from gan_lightning.metrics.evaluation import score_model

    backbone = get_backbone("mnist")
    real = reference_features(backbone, MNISTDataModule(real_mnist, download=False).split("test")[0], "mnist", "test")
    info = describe(name)
    scores = score_model(pretrained(name), backbone, real, 10000, metrics=["fid", "is", "cond_acc"],
                         settings=MetricSettings())
    for key in scores:
        if key in info["scores"]:
            assert scores[key] == pytest.approx(info["scores"][key], rel=1e-3, abs=1e-4), key
    row = info["results_row"]
    assert within_tolerance(scores, row), (scores, row)
