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

from torchvision.utils import save_image

from gan_lightning.checkpoints import load_model
from gan_lightning.errors import GANLightningError
from gan_lightning.sampling import default_grid_size, sample_grid


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a .ckpt written by `gan-lightning fit`, e.g. "
                                           "runs/gan/version_0/checkpoints/last.ckpt")
    parser.add_argument("--out", default="samples.png", help="PNG file to write (default: samples.png)")
    parser.add_argument("--num", type=int, help="number of images (default: 64; for conditional models 10 per "
                                                "class, a multiple of the number of classes; for InfoGAN 10 per "
                                                "code, one row each)")
    parser.add_argument("--nrow", type=int, default=8, help="images per row (default: 8); conditional models "
                                                            "without --digit put one class per row instead")
    parser.add_argument("--digit", type=int, help="conditional models only: draw this class (digit) only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise: the same seed gives the same "
                                                            "images (default: 0)")
    parser.add_argument("--device", default="cpu", help="where to run the generator (default: cpu)")
    return parser


def main(argv: Optional[list[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        model = load_model(args.checkpoint, map_location=args.device)
        default = default_grid_size(model) if args.digit is None else 64
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
