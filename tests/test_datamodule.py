import numpy as np
import pytest
import torch

from gan_lightning import GANLightningError, MNISTDataModule
from gan_lightning.data.idx import write_idx


def first_batch(dm: MNISTDataModule):
    dm.prepare_data()
    dm.setup("fit")
    return next(iter(dm.train_dataloader()))


@pytest.mark.parametrize("in_memory", [True, False])
def test_batches_are_scaled_images_with_labels(fake_mnist, in_memory):
    dm = MNISTDataModule(fake_mnist, batch_size=32, download=False, in_memory=in_memory)
    images, labels = first_batch(dm)
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (32,) and labels.dtype == torch.int64
    assert images.min() >= -1 and images.max() <= 1
    assert images.min() == -1 and images.max() == 1  # 0 and 255 both occur in the synthetic data
    assert len(dm.train_dataloader()) == 320 // 32


def test_in_memory_and_torchvision_paths_scale_identically(fake_mnist):
    dm = MNISTDataModule(fake_mnist, download=False)
    dm.setup("fit")
    raw, _ = dm.split("train")
    from gan_lightning.data.memory import scale_to_unit_range
    torchvision_image = dm._torchvision_split(train=True)[5][0]
    torch.testing.assert_close(scale_to_unit_range(raw[5]), torchvision_image, rtol=0, atol=1e-6)


def test_splits_and_class_counts(fake_mnist):
    dm = MNISTDataModule(fake_mnist, download=False)
    dm.setup("fit")
    assert dm.split("train")[0].shape == (320, 1, 28, 28)
    assert dm.split("test")[0].dtype == torch.uint8 and len(dm.split("test")[1]) == 300
    assert dm.class_counts == [32] * 10


def test_missing_data_names_the_directory_and_the_files(tmp_path):
    dm = MNISTDataModule(tmp_path / "nowhere", download=False)
    with pytest.raises(GANLightningError) as err:
        dm.setup("fit")
    message = str(err.value)
    assert str((tmp_path / "nowhere" / "MNIST" / "raw").resolve()) in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert name in message


def _copy_fake(src, dst):
    raw = dst / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (src / "MNIST" / "raw").iterdir():
        (raw / f.name).write_bytes(f.read_bytes())
    return raw


def test_wrong_magic_number_is_explained(fake_mnist, tmp_path):
    raw = _copy_fake(fake_mnist, tmp_path)
    data = bytearray((raw / "train-images-idx3-ubyte").read_bytes())
    data[3] = 0x01
    (raw / "train-images-idx3-ubyte").write_bytes(bytes(data))
    with pytest.raises(GANLightningError, match="is not an MNIST images file"):
        MNISTDataModule(tmp_path, download=False).setup("fit")


def test_truncated_file_is_explained(fake_mnist, tmp_path):
    raw = _copy_fake(fake_mnist, tmp_path)
    data = (raw / "t10k-labels-idx1-ubyte").read_bytes()
    (raw / "t10k-labels-idx1-ubyte").write_bytes(data[:-7])
    with pytest.raises(GANLightningError, match="truncated"):
        MNISTDataModule(tmp_path, download=False).setup("fit")


def test_mismatched_image_and_label_counts(fake_mnist, tmp_path):
    raw = _copy_fake(fake_mnist, tmp_path)
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    with pytest.raises(GANLightningError, match="320 images but 7 labels"):
        MNISTDataModule(tmp_path, download=False).setup("fit")


def test_bad_batch_size():
    with pytest.raises(GANLightningError, match="batch_size=0"):
        MNISTDataModule(batch_size=0)


@pytest.mark.real_data
def test_real_mnist(real_mnist):
    dm = MNISTDataModule(real_mnist, download=False)
    dm.setup("fit")
    assert dm.class_counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_images, test_labels = dm.split("test")
    assert torch.bincount(test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (64, 1, 28, 28)
    assert images.min() == -1.0 and images.max() == 1.0
    # MNIST digits are white on black: most pixels are background
    assert (images == -1).float().mean() > 0.7
