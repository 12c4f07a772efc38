"""Draw a PNG grid of new images from a checkpoint written by `gan-lightning fit`.

    python scripts/sample.py runs/gan/version_0/checkpoints/last.ckpt --out samples.png
    python scripts/sample.py runs/cgan/version_0/checkpoints/last.ckpt --out digits.png     # one row per digit
    python scripts/sample.py runs/cgan/version_0/checkpoints/last.ckpt --digit 7 --num 32 --out sevens.png

The grid has the layout of the training grids (samples/epoch_XXX.png): 28x28 images with 2 white pixels
between them. Models trained with an EMA of the generator sample with the EMA weights, as in training.
"""

import argparse
import math
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from gan_lightning import GAN
from gan_lightning.errors import GANLightningError
from gan_lightning.utils import digit_labels, load_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a .ckpt written by `gan-lightning fit`, e.g. "
                                           "runs/gan/version_0/checkpoints/last.ckpt")
    parser.add_argument("--out", default="samples.png", help="PNG file to write (default: samples.png)")
    parser.add_argument("--num", type=int, help="number of images (default: 64; for conditional models 10 per "
                                                "class, and a multiple of the number of classes)")
    parser.add_argument("--nrow", type=int, default=8, help="images per row (default: 8); conditional models "
                                                            "without --digit put one class per row instead")
    parser.add_argument("--digit", type=int, help="conditional models only: draw this class (digit) only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise: the same seed gives the same "
                                                            "images (default: 0)")
    parser.add_argument("--device", default="cpu", help="where to run the generator (default: cpu)")
    return parser


def grid_labels(model: GAN, num: int, digit: Optional[int]) -> tuple[Optional[Tensor], Optional[int]]:
    """The label of every image and, for one row per class, the row length (None: use --nrow)."""
    if digit is not None:
        return digit_labels(model, digit, num), None
    if not model.num_classes:
        return None, None
    if num % model.num_classes:
        raise GANLightningError(f"--num {num}: give a multiple of {model.num_classes} so that every class gets "
                                "a full row.")
    per_class = num // model.num_classes
    return torch.arange(model.num_classes).repeat_interleave(per_class), per_class


def sample_grid(model: GAN, num: int, nrow: int = 8, digit: Optional[int] = None,
                seed: int = 0) -> tuple[Tensor, int]:
    """A (3, H, W) grid in [0, 1] of ``num`` samples drawn from seeded noise, and its images per row."""
    if num < 1 or nrow < 1:
        raise GANLightningError(f"--num {num} --nrow {nrow}: ask for at least one image and one per row.")
    labels, per_class = grid_labels(model, num, digit)
    z = model.noise(num, generator=torch.Generator(device=model.device).manual_seed(seed))
    images = model.sample(num, labels=labels, z=z)
    columns = per_class or nrow
    return make_grid(images.cpu(), nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1.0), columns


def main(argv: Optional[list[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        model = load_model(args.checkpoint, map_location=args.device)
        default = 10 * model.num_classes if model.num_classes and args.digit is None else 64
        num = default if args.num is None else args.num
        grid, columns = sample_grid(model, num, args.nrow, args.digit, args.seed)
    except GANLightningError as err:
        parser.error(str(err))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, out)
    rows = math.ceil(num / columns)
    what = f"digit {args.digit}" if args.digit is not None else (
        "one row per class" if model.num_classes else "unconditional")
    print(f"wrote {out}: {num} images in {rows} rows ({what}), seed {args.seed}")
    return out


if __name__ == "__main__":
    main()
