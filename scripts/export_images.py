"""Write a data module's splits out as a folder of PNG files, one sub-folder per class: to look at the data, or to
feed it back through ImageFolderDataModule (how this project checks the folder path on real pixels).

    python scripts/export_images.py --data.data_dir data --out mnist_png
    # -> mnist_png/train/0/00001.png ... mnist_png/test/9/09999.png (file names: the index in the split)
    gan-lightning fit --config configs/fast_cdcgan.yaml --data ImageFolderDataModule \\
        --data.data_dir mnist_png/train --data.val_dir mnist_png/test --data.labels true \\
        --data.image_size 28 --data.channels 1
    python scripts/export_images.py --data TorchvisionDataModule --data.dataset cifar10 --out cifar10_png

The data module is given as to `gan-lightning fit`; its images are written as they reach the networks (after
any resizing), losslessly.
"""

import time
from pathlib import Path

from jsonargparse import ArgumentParser

from gan_lightning.cli import data_parser, parse_data_args
from gan_lightning.data import ImageDataModule
from gan_lightning.data.images import write_png
from gan_lightning.errors import one_line_errors


def build_parser() -> ArgumentParser:
    parser = data_parser("export_images.py", __doc__, "the data, as for gan-lightning fit (default: MNIST in data/)")
    parser.add_argument("--out", required=True, help="folder to write <split>/<class>/<index>.png into")
    parser.add_argument("--splits", type=list[str], default=None, help="splits to write (default: all of them)")
    return parser


def export(data: ImageDataModule, out: Path, splits: list[str]) -> int:
    """Write every image of ``splits``; returns how many."""
    written = 0
    for split in splits:
        images, labels = data.split(split)
        width = len(str(len(images)))
        for i, image in enumerate(images):
            folder = out / split / ("" if labels is None else str(int(labels[i])))
            folder.mkdir(parents=True, exist_ok=True)
            write_png(image, folder / f"{i:0{width}d}.png")
        written += len(images)
    return written


@one_line_errors("export_images.py")
def main(argv=None) -> None:
    parser = build_parser()
    args = parse_data_args(parser, argv)
    data: ImageDataModule = args.data
    data.prepare_data()
    start = time.time()
    count = export(data, Path(args.out), args.splits or list(data.split_names))
    print(f"wrote {count} {data.name} images as PNG into {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
