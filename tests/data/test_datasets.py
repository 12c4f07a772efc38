"""TorchvisionDataModule: Fashion-MNIST, KMNIST, CIFAR-10 and CIFAR-100 read from files in torchvision's layouts,
written by the fixtures (nothing can be downloaded here); sizes and channels converted; bad names and missing
files in one sentence; a conditional recipe takes its class count from the data."""

import pickle

import pytest
import torch

from gan_lightning import GANLightningError
from gan_lightning.cli import build_cli
from gan_lightning.data import DATASETS, TorchvisionDataModule

from images import write_cifar, write_mnist_format


@pytest.mark.parametrize("dataset, folder", [("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_mnist_format_datasets(tmp_path, dataset, folder):
    dm = TorchvisionDataModule(dataset, write_mnist_format(tmp_path, folder), download=False)
    dm.setup("fit")
    images, labels = dm.split("train")
    assert images.shape == (64, 1, 28, 28) and dm.num_classes == 10 and dm.img_shape == (1, 28, 28)
    assert dm.class_counts == torch.bincount(labels, minlength=10).tolist() and dm.name == dataset


@pytest.mark.parametrize("classes", [10, 100])
def test_cifar_is_rgb_and_converts_to_any_size_and_channels(tmp_path, no_md5, classes):
    root = write_cifar(tmp_path, classes)
    dm = TorchvisionDataModule(f"cifar{classes}", root, download=False)
    images, labels = dm.split("train")
    per_split = 100 if classes == 10 else 20
    assert images.shape == (per_split, 3, 32, 32) and dm.num_classes == classes and len(dm.split("test")[0]) == 20
    raw = pickle.loads((root / ("cifar-10-batches-py/data_batch_1" if classes == 10 else "cifar-100-python/train"))
                       .read_bytes())["data"][0].reshape(3, 32, 32)
    assert torch.equal(images[0], torch.from_numpy(raw))  # CHW, as the pickles store the planes
    small = TorchvisionDataModule(f"cifar{classes}", root, download=False, image_size=16, channels=1)
    assert small.img_shape == (1, 16, 16) and small.split("test")[0].shape == (20, 1, 16, 16)


def test_unknown_dataset_and_missing_files_are_one_sentence(tmp_path):
    with pytest.raises(GANLightningError, match="Unknown dataset 'cifar': choose one of " + ", ".join(DATASETS)):
        TorchvisionDataModule("cifar")
    with pytest.raises(GANLightningError, match="CIFAR-10 is not in .*cifar-10-batches-py \\(they are missing\\)"):
        TorchvisionDataModule("cifar10", tmp_path, download=False).split("train")
    with pytest.raises(GANLightningError, match="Fashion-MNIST is not in .*FashionMNIST/raw"):
        TorchvisionDataModule("fashion_mnist", tmp_path, download=False).setup("fit")


def test_a_conditional_recipe_takes_the_class_count_of_cifar100(tmp_path, no_md5, monkeypatch):
    from conftest import ROOT

    monkeypatch.chdir(tmp_path)
    root = write_cifar(tmp_path / "data", classes=100)
    cli = build_cli(["fit", "--config", str(ROOT / "configs" / "fast_cdcgan.yaml"), "--data", "TorchvisionDataModule",
                     "--data.dataset", "cifar100", "--data.data_dir", str(root), "--data.download", "false",
                     "--data.batch_size", "4", "--trainer.fast_dev_run", "1"])
    model = cli.model
    assert model.num_classes == model.generator.n_classes == model.discriminator.aux_classes == 100
    assert model.generator.img_shape == model.discriminator.img_shape == (3, 32, 32)  # from the data
    assert cli.trainer.global_step == 2 and not (tmp_path / "samples").exists()  # fast_dev_run: no grids


def test_the_progressive_gan_grows_to_cifars_resolution(tmp_path, no_md5, monkeypatch):
    from conftest import ROOT

    monkeypatch.chdir(tmp_path)
    root = write_cifar(tmp_path / "data", classes=10)
    cli = build_cli(["fit", "--config", str(ROOT / "configs" / "pggan.yaml"), "--data", "TorchvisionDataModule",
                     "--data.dataset", "cifar10", "--data.data_dir", str(root), "--data.batch_size", "4",
                     "--trainer.fast_dev_run", "1"])
    assert cli.model.generator.sizes == cli.model.discriminator.sizes == [4, 8, 16, 32]
    assert cli.model.sample(2).shape == (2, 3, 32, 32)
