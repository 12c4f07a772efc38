"""Stacked MNIST: three MNIST digits as R, G and B, 1000 kinds of image; the stacked_mnist backbone and the
mode_count metric that counts the kinds a generator draws."""

import math

import pytest
import torch

from gan_lightning import GANLightningError, StackedMNISTDataModule
from gan_lightning.data import MNISTDataModule
from gan_lightning.metrics import get_backbone
from gan_lightning.metrics.neighbours import mode_count_scores

from conftest import ROOT


def test_each_channel_is_an_mnist_digit_and_the_label_reads_the_three(fake_mnist):
    data = StackedMNISTDataModule(fake_mnist, download=False, train_size=200, test_size=50)
    images, labels = data.split("train")
    assert images.shape == (200, 3, 28, 28) and images.dtype == torch.uint8
    assert data.img_shape == (3, 28, 28) and data.num_classes == 1000 and len(data.split("test")[0]) == 50
    digits, digit_labels = MNISTDataModule(fake_mnist, download=False).split("train")
    flat = digits.flatten(1)
    for image, label in zip(images[:20], labels[:20]):
        found = [int(digit_labels[(flat == channel.flatten()).all(dim=1)][0]) for channel in image]
        assert int(label) == 100 * found[0] + 10 * found[1] + found[2]
    # the same seed gives the same data; another seed other data; the test split comes from the test digits
    again = StackedMNISTDataModule(fake_mnist, download=False, train_size=200, test_size=50).split("train")[0]
    other = StackedMNISTDataModule(fake_mnist, download=False, train_size=200, test_size=50, seed=1).split("train")[0]
    assert torch.equal(again, images) and not torch.equal(other, images)


def test_32x32_resizes_every_digit(fake_mnist):
    data = StackedMNISTDataModule(fake_mnist, download=False, train_size=10, test_size=10, image_size=32)
    assert data.img_shape == (3, 32, 32) and data.split("train")[0].shape == (10, 3, 32, 32)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"train_size": 0}, "train_size=0"),
    ({"image_size": 64}, "28 .*or 32"),
])
def test_bad_settings_are_one_sentence(fake_mnist, kwargs, match):
    with pytest.raises(GANLightningError, match=match):
        StackedMNISTDataModule(fake_mnist, download=False, **kwargs)


def test_without_mnist_on_disk_the_cli_says_where_to_put_it(tmp_path, capsys):
    from gan_lightning.cli import main as cli_main

    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--config", str(ROOT / "configs" / "dcgan.yaml"), "--data", "StackedMNISTDataModule",
                  "--data.data_dir", str(tmp_path), "--data.download", "false", "--quality.metrics", "[]"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "MNIST is not in" in err and "--data.data_dir" in err


def test_the_backbone_classifies_each_channel_and_joins_the_three():
    backbone = get_backbone("stacked_mnist")
    images = torch.randint(0, 256, (6, 3, 28, 28), dtype=torch.uint8)
    features, logits = backbone(images)
    assert features.shape == (6, 384) and logits.shape == (6, 1000)
    digits = get_backbone("mnist")
    per_channel = digits(images.view(18, 1, 28, 28))[1].argmax(dim=1).view(6, 3)
    assert logits.argmax(dim=1).tolist() == (per_channel * torch.tensor([100, 10, 1])).sum(dim=1).tolist()
    assert torch.allclose(logits.exp().sum(dim=1), torch.ones(6), atol=1e-4)  # a joint distribution
    resized = backbone(torch.nn.functional.interpolate(images.float(), size=32).round().to(torch.uint8))
    assert resized[1].shape == (6, 1000)  # 32x32 Stacked MNIST is read at the classifier's 28x28
    with pytest.raises(GANLightningError, match="takes uint8 \\(N, 3, H, W\\)"):
        backbone(images[:, :1])


def test_mode_count_counts_classes_drawn_and_their_kl_to_uniform():
    logits = torch.nn.functional.one_hot(torch.tensor([0, 0, 1, 3, 3]), 4).float()
    scores = mode_count_scores(logits)
    assert scores["mode_count"] == 3
    expected = 2 * 0.4 * math.log(0.4 * 4) + 0.2 * math.log(0.2 * 4)
    assert scores["mode_kl"] == pytest.approx(expected)
    assert mode_count_scores(torch.eye(4))["mode_kl"] == pytest.approx(0.0)


@pytest.mark.slow
@pytest.mark.real_data
def test_real_stacked_images_cover_every_mode(real_mnist):
    """The floor of the metric: 10,000 real Stacked MNIST images, classified channel by channel."""
    images, labels = StackedMNISTDataModule(real_mnist, download=False, train_size=10_000).split("train")
    logits = get_backbone("stacked_mnist")(images)[1]
    assert (logits.argmax(dim=1) == labels).float().mean() > 0.97  # about 99.3% per digit, cubed
    scores = mode_count_scores(logits)
    assert scores["mode_count"] == 1000 and scores["mode_kl"] < 0.08
