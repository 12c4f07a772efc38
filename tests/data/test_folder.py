"""ImageFolderDataModule and gan_lightning.data.images: every image format, mode and size; labels from sub-folders;
the validation split; the in-memory and streaming paths; each bad input in one sentence."""

from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning import GANLightningError, _io
from gan_lightning.data import ImageFolderDataModule
from gan_lightning.data.images import read_image

from conftest import ROOT
from images import image_folder, save, stripes

CPU = torch.device("cpu")


def batches(dm: ImageFolderDataModule) -> list:
    dm.prepare_data()
    dm.setup("fit")
    loader = dm.train_dataloader()
    loader.sampler.set_epoch(0)
    return list(loader)


# ---------------------------------------------------------------------------------------------------------
# Reading one image
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mode", [("gray.png", "L"), ("rgb.png", "RGB"), ("rgba.png", "RGBA"),
                                        ("palette.png", "P"), ("deep.png", "I;16"), ("photo.jpg", "RGB"),
                                        ("photo.webp", "RGB"), ("bitmap.bmp", "RGB")])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_format_and_mode_reads_as_uint8_of_the_asked_shape(tmp_path, name, mode, channels):
    path = save(stripes(30, 40, label=1, seed=0), tmp_path / name, mode)
    image = read_image(path, channels, image_size=16)
    assert image.dtype == torch.uint8 and image.shape == (channels, 16, 16)
    assert image.max() >= 200  # the bright stripe survives every mode and the resize


def test_sixteen_bit_values_are_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 128, 65535, 65535]], dtype=np.uint16).repeat(4, axis=0)
    Image.fromarray(values).save(tmp_path / "deep.png")  # uint16: a 16-bit PNG
    assert read_image(tmp_path / "deep.png", 1, 4)[0, 0].tolist() == [0, 128, 255, 255]


def test_transparent_pixels_are_white_and_exif_orientation_is_applied(tmp_path):
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)  # fully transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    assert read_image(tmp_path / "clear.png", 3, 8).min() == 255
    wide = np.zeros((8, 16, 3), dtype=np.uint8)
    wide[:, :8] = 255  # left half white
    picture = Image.fromarray(wide)
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    picture.save(tmp_path / "rotated.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "rotated.jpg", 1, 8, upsample=True)  # displayed 8 wide, 16 tall: top is white
    assert shown[0, 0].float().mean() > 200 and shown[0, -1].float().mean() < 50


def test_non_square_images_are_resized_by_the_shorter_side_and_centre_cropped(tmp_path):
    image = np.zeros((20, 60, 3), dtype=np.uint8)
    image[:, 20:40] = 255  # the middle third: what the centre crop keeps
    out = read_image(save(image, tmp_path / "wide.png"), 1, 10)
    assert out.shape == (1, 10, 10) and out.float().mean() > 240


# ---------------------------------------------------------------------------------------------------------
# The data module
# ---------------------------------------------------------------------------------------------------------


def test_labels_come_from_sub_folders_and_the_held_out_split_is_fixed(tmp_path):
    root = image_folder(tmp_path / "pets", classes=("cats", "dogs", "owls"), per_class=20)
    dm = ImageFolderDataModule(root, image_size=16, channels=3, labels=True, val_fraction=0.25)
    assert dm.classes == ["cats", "dogs", "owls"] and dm.num_classes == 3 and dm.img_shape == (3, 16, 16)
    train, val = dm._files()["train"], dm._files()["val"]
    assert len(val[0]) == 15 and torch.bincount(val[1]).tolist() == [5, 5, 5]  # a quarter of every class
    assert not set(train[0]) & set(val[0]) and len(train[0]) + len(val[0]) == 60
    again = ImageFolderDataModule(root, image_size=16, labels=True, val_fraction=0.25)._files()["val"][0]
    assert again == val[0]  # the same files every time (split_seed)
    assert dm.class_counts == [15, 15, 15] and dm.reference_split == "val"
    images, labels = dm.split("val")
    assert images.shape == (15, 3, 16, 16) and labels.tolist() == val[1].tolist()


def test_unlabeled_batches_are_images_only_and_a_val_dir_is_the_reference(tmp_path):
    root = image_folder(tmp_path / "train", per_class=12)
    held = image_folder(tmp_path / "held", classes=("x",), per_class=7)
    dm = ImageFolderDataModule(root, image_size=8, channels=1, val_dir=held, batch_size=8)
    assert dm.num_classes == 0 and dm.class_counts is None and len(dm.split("val")[0]) == 7
    first = batches(dm)[0]
    assert isinstance(first, torch.Tensor) and first.shape == (8, 1, 8, 8) and first.min() >= -1


def test_streaming_and_in_memory_give_the_same_batches_for_the_same_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("PL_GLOBAL_SEED", "3")
    root = image_folder(tmp_path / "pets", per_class=16, size=24)
    memory, streamed = (batches(ImageFolderDataModule(root, image_size=16, labels=True, batch_size=8,
                                                      in_memory=flag, num_workers=workers))
                        for flag, workers in ((True, 0), (False, 2)))
    assert len(memory) == len(streamed) == 5  # 43 training images (10% held out), batches of 8
    for (a, la), (b, lb) in zip(memory, streamed):
        assert torch.equal(a, b) and torch.equal(la, lb)


def test_the_memory_budget_chooses_the_path_and_decoded_images_are_cached(tmp_path):
    root = image_folder(tmp_path / "pets", per_class=10, size=16)
    dm = ImageFolderDataModule(root, image_size=16, max_memory_gb=27 * 3 * 16 * 16 / 1e9)  # 27 training images
    assert dm.memory_bytes() == 27 * 3 * 16 * 16 and dm.uses_memory
    assert not ImageFolderDataModule(root, image_size=16, max_memory_gb=1e-9).uses_memory
    dm.prepare_data()  # decodes into the disk cache
    assert list((_io.cache_dir() / "images").glob("pets-train-*.pt"))
    fresh = ImageFolderDataModule(root, image_size=16)
    with mock.patch("gan_lightning.data.folder.read_image", side_effect=AssertionError("decoded again")):
        assert torch.equal(fresh.split("train")[0], dm.split("train")[0])  # from the cache


@pytest.mark.parametrize("in_memory", [True, False])
def test_ddp_ranks_get_disjoint_shards_of_every_epoch(tmp_path, in_memory):
    root = image_folder(tmp_path / "pets", per_class=16, size=8)
    seen = []
    for rank in (0, 1):
        dm = ImageFolderDataModule(root, image_size=8, labels=True, batch_size=4, in_memory=in_memory)
        # what a 2-process run gives the data module (tests/test_distributed.py runs real processes)
        dm.trainer = SimpleNamespace(global_rank=rank, world_size=2, strategy=SimpleNamespace(root_device=CPU))
        loader = dm.train_dataloader()
        loader.sampler.set_epoch(1)
        seen.append(list(loader.sampler))
    assert not set(seen[0]) & set(seen[1]) and sorted(seen[0] + seen[1]) == list(range(42))  # 48 - 6 held out


# ---------------------------------------------------------------------------------------------------------
# Bad input: one sentence that names the file or setting
# ---------------------------------------------------------------------------------------------------------


def test_unreadable_files_are_named_or_skipped_with_a_count(tmp_path, capsys):
    root = image_folder(tmp_path / "pets", per_class=10, size=8)
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    whole = (root / "b" / "000.png").read_bytes()
    (root / "b" / "cut.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(GANLightningError, match=r"broken\.png is not a readable image .* --data.skip_bad_files true"):
        ImageFolderDataModule(root, image_size=8, val_fraction=0.0, in_memory=True).split("train")
    dm = ImageFolderDataModule(root, image_size=8, val_fraction=0.0, skip_bad_files=True)
    assert len(dm.split("train")[0]) == 30


@pytest.mark.parametrize("make, kwargs, says", [
    (lambda root: None, {}, "No folder .*: set --data.data_dir to a folder of images"),
    (lambda root: root.mkdir(), {}, "No images in .*reads .png, .jpg, .jpeg, .webp, .bmp"),
    (lambda root: (root.mkdir(), (root / "notes.txt").write_text("x")), {}, "No images in"),
    (lambda root: image_folder(root, classes=("only",)), {"labels": True}, "at least two, but .* has 1 \\(only\\)"),
    (lambda root: (image_folder(root), save(stripes(8, 8, 0, 0), root / "loose.png")), {"labels": True},
     "1 images lie directly in .*loose.png"),
    (lambda root: image_folder(root, size=6), {"image_size": 8}, "is 6x6, smaller than image_size 8: .*upsample"),
], ids=["missing", "empty", "no-images", "one-class", "loose-files", "too-small"])
def test_bad_folders_are_one_sentence(tmp_path, make, kwargs, says):
    root = tmp_path / "pets"
    make(root)
    with pytest.raises(GANLightningError, match=says) as info:
        ImageFolderDataModule(root, **{"image_size": 8, "val_fraction": 0.0, **kwargs}).split("train")
    assert "\n" not in str(info.value)


def test_small_images_can_be_upsampled_when_asked(tmp_path):
    root = image_folder(tmp_path / "pets", size=6, per_class=4)
    images, _ = ImageFolderDataModule(root, image_size=8, upsample=True, val_fraction=0.0).split("train")
    assert images.shape == (12, 3, 8, 8)


@pytest.mark.parametrize("kwargs, says", [({"channels": 4}, "channels=4: images are read as 1 .* or 3"),
                                          ({"val_fraction": 1.0}, "val_fraction=1.0 must lie in \\[0, 1\\)"),
                                          ({"image_size": 2}, "image_size=2 must be at least 4")])
def test_bad_settings_are_one_sentence(tmp_path, kwargs, says):
    with pytest.raises(GANLightningError, match=says):
        ImageFolderDataModule(tmp_path, **kwargs)


def test_a_val_dir_with_a_class_the_training_folder_lacks(tmp_path):
    root = image_folder(tmp_path / "train", classes=("a", "b"), per_class=3)
    held = image_folder(tmp_path / "held", classes=("a", "zebra"), per_class=3)
    with pytest.raises(GANLightningError, match="has the class folder 'zebra', which .* lacks"):
        ImageFolderDataModule(root, image_size=8, labels=True, val_dir=held).split("val")


@pytest.mark.real_data
def test_real_mnist_written_as_png_reads_back_pixel_for_pixel(real_mnist, tmp_path):
    from gan_lightning.data import MNISTDataModule

    from helpers import script

    script("export_images.py")["main"](["--data.data_dir", str(real_mnist), "--data.download", "false",
                                        "--splits", "[test]", "--out", str(tmp_path / "png")])
    folder = ImageFolderDataModule(tmp_path / "png" / "test", image_size=28, channels=1, labels=True, val_fraction=0.0)
    images, labels = folder.split("train")
    index = torch.tensor([int(p.stem) for p in folder._files()["train"][0]])
    test_images, test_labels = MNISTDataModule(real_mnist, download=False).split("test")
    assert len(images) == 10000 and torch.equal(images, test_images[index]) and torch.equal(labels, test_labels[index])


def test_an_unreadable_file_met_by_a_streaming_worker_is_one_line_from_the_cli(tmp_path, capsys, monkeypatch):
    from gan_lightning.cli import main

    monkeypatch.chdir(tmp_path)
    root = image_folder(tmp_path / "pets", per_class=4, size=8)
    (root / "a" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs" / "folder_dcgan.yaml"), "--data.data_dir", str(root),
              "--data.image_size", "8", "--data.in_memory", "false", "--data.num_workers", "1",
              "--data.val_fraction", "0", "--data.batch_size", "13", "--trainer.fast_dev_run", "1"])
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("gan-lightning: error: ") and last.endswith("broken.png is not a readable image (cannot "
                                                                      f"identify image file '{root}/a/broken.png'): "
                                                                      "remove it, or set --data.skip_bad_files true "
                                                                      "to skip such files.")
