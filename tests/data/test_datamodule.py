import numpy as np
import pytest
import torch

from gan_lightning import GANLightningError, MNISTDataModule

from synthetic import write_idx


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


def test_streaming_and_in_memory_give_the_same_batches_for_the_same_seed(fake_mnist, monkeypatch):
    monkeypatch.setenv("PL_GLOBAL_SEED", "7")
    batches = []
    for in_memory in (True, False):
        dm = MNISTDataModule(fake_mnist, batch_size=32, download=False, in_memory=in_memory)
        dm.setup("fit")
        loader = dm.train_dataloader()
        loader.sampler.set_epoch(1)  # what Lightning does at every epoch start
        batches.append(list(loader))
    assert len(batches[0]) == len(batches[1]) == 10
    for (a, la), (b, lb) in zip(*batches):
        assert torch.equal(a, b) and torch.equal(la, lb)


def test_the_scaling_is_torchvisions_to_tensor_and_normalize(fake_mnist):
    from torchvision import transforms
    from torchvision.datasets import MNIST

    dm = MNISTDataModule(fake_mnist, download=False)
    raw, _ = dm.split("train")
    from gan_lightning.pixels import from_uint8

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    torchvision_image = MNIST(fake_mnist, train=True, transform=transform)[5][0]
    torch.testing.assert_close(from_uint8(raw[5]), torchvision_image, rtol=0, atol=1e-6)


def test_mnist_resized_to_32_rgb_for_dcgan_32_networks(fake_mnist):
    dm = MNISTDataModule(fake_mnist, download=False, image_size=32, channels=3)
    assert dm.img_shape == (3, 32, 32)
    images, labels = first_batch(dm)
    assert images.shape == (64, 3, 32, 32) and torch.equal(images[:, 0], images[:, 2])  # gray in all three
    streamed = MNISTDataModule(fake_mnist, download=False, image_size=32, channels=3, in_memory=False)
    torch.testing.assert_close(streamed.split("test")[0][:5], dm.split("test")[0][:5], rtol=0, atol=0)
    one_by_one = torch.stack([dm._source("test").read(i)[0] for i in range(5)])
    assert torch.equal(one_by_one, dm.split("test")[0][:5])  # batched and per-image resizing agree


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


def test_a_training_subset_is_fixed_by_its_seed_and_leaves_the_reference_whole(fake_mnist):
    full = MNISTDataModule(fake_mnist, download=False)
    images, labels = full.split("train")
    subset = MNISTDataModule(fake_mnist, download=False, train_subset=100, subset_seed=3, batch_size=16)
    sub_images, sub_labels = subset.split("train")
    assert len(sub_images) == 100 and subset.class_counts == torch.bincount(sub_labels, minlength=10).tolist()
    chosen = [int((images == image).flatten(1).all(dim=1).nonzero()[0]) for image in sub_images[:10]]
    assert torch.equal(sub_labels[:10], labels[chosen])  # each image keeps its label
    again = MNISTDataModule(fake_mnist, download=False, train_subset=100, subset_seed=3).split("train")[0]
    other = MNISTDataModule(fake_mnist, download=False, train_subset=100, subset_seed=4).split("train")[0]
    assert torch.equal(again, sub_images) and not torch.equal(other, sub_images)
    assert len(subset.split("test")[0]) == len(full.split("test")[0])  # the metrics' reference stays whole
    streamed = MNISTDataModule(fake_mnist, download=False, train_subset=100, subset_seed=3, batch_size=16,
                               in_memory=False)
    assert len(streamed.train_dataloader().dataset) == 100 and "a subset of 320" in streamed.describe()
    with pytest.raises(GANLightningError, match="train_subset=1000 is more than the 320 training images"):
        MNISTDataModule(fake_mnist, download=False, train_subset=1000).split("train")
    with pytest.raises(GANLightningError, match="smaller than batch_size=64"):
        MNISTDataModule(fake_mnist, download=False, train_subset=10)
