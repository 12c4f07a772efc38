"""Walk through the latent space of a checkpoint written by `gan-lightning fit`: a PNG strip or an animated GIF.

    python scripts/interpolate.py runs/gan/version_0/checkpoints/last.ckpt --out walk.png     # 8 walks, 10 steps
    python scripts/interpolate.py runs/gan/version_0/checkpoints/last.ckpt --out walk.gif --steps 30 --boomerang
    python scripts/interpolate.py runs/cgan/version_0/checkpoints/last.ckpt --out walk.png    # one row per digit
    python scripts/interpolate.py runs/cgan/version_0/checkpoints/last.ckpt --digit 3 --rows 4 --out threes.png

Each row goes from one random noise vector z0 to another z1 in --steps images, endpoints included. For a
conditional model without --digit, every row is one class and all rows share the same z0 and z1: the label
picks the digit, the noise its style (slant, thickness), so the rows change style together. A GIF has one
frame per step, each frame one image per row side by side (--boomerang appends the way back, for a smooth
loop). Labels are integers, so the walk is in the noise only.

--method slerp (the default) follows the great circle between z0 and z1: Gaussian noise in 100 dimensions
lies near a sphere of radius about 10, so every point of the walk is noise of a typical length. The straight
line (--method lerp) passes inside the sphere, its midpoint about 0.7 times as long, through noise the
generator hardly ever saw in training; how different its middle images look depends on the generator.
"""

import argparse
from pathlib import Path
from typing import Optional

import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid, save_image

from gan_lightning import GAN
from gan_lightning.checkpoints import load_model
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.sampling import class_labels, interpolate_noise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a .ckpt written by `gan-lightning fit`, e.g. "
                                           "runs/gan/version_0/checkpoints/last.ckpt")
    parser.add_argument("--out", default="interpolation.png", help="a .png (one row per walk) or .gif "
                                                                   "(one frame per step); default: interpolation.png")
    parser.add_argument("--steps", type=int, default=10, help="images per walk, both ends included (default: 10)")
    parser.add_argument("--rows", type=int, default=8, help="independent walks (default: 8); conditional models "
                                                            "without --digit draw one row per class instead")
    parser.add_argument("--digit", type=int, help="conditional models only: walk within this class (digit)")
    parser.add_argument("--method", choices=("slerp", "lerp"), default="slerp",
                        help="spherical (default) or straight-line interpolation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the end points (default: 0)")
    parser.add_argument("--fps", type=float, default=10.0, help="GIF frames per second (default: 10)")
    parser.add_argument("--boomerang", action="store_true", help="GIF: go back from z1 to z0, for a smooth loop")
    parser.add_argument("--device", default="cpu", help="where to run the generator (default: cpu)")
    return parser


def walk_labels(model: GAN, rows: int, digit: Optional[int]) -> tuple[Optional[Tensor], int, bool]:
    """Label of each row (None if unconditional), the number of rows, and whether the rows share z0 and z1."""
    if digit is not None:
        return class_labels(model, digit, rows), rows, False
    if model.num_classes:
        return torch.arange(model.num_classes), model.num_classes, True
    return None, rows, False


def interpolation(model: GAN, steps: int, rows: int = 8, digit: Optional[int] = None, method: str = "slerp",
                  seed: int = 0) -> Tensor:
    """Images in [-1, 1] of shape (rows, steps, C, H, W): row r walks from z0[r] to z1[r]."""
    if rows < 1:
        raise GANLightningError(f"--rows {rows}: ask for at least one walk.")
    labels, rows, shared = walk_labels(model, rows, digit)
    g = torch.Generator(device=model.device).manual_seed(seed)
    z0, z1 = model.noise(1 if shared else rows, generator=g), model.noise(1 if shared else rows, generator=g)
    path = interpolate_noise(z0, z1, steps, method).expand(steps, rows, -1)  # (steps, rows, latent_dim)
    z = path.transpose(0, 1).reshape(rows * steps, -1)
    images = model.sample(rows * steps, labels=None if labels is None else labels.repeat_interleave(steps), z=z)
    return images.view(rows, steps, *images.shape[1:])


def to_frames(images: Tensor, boomerang: bool = False) -> list[Image.Image]:
    """One grayscale PIL image per step, the rows side by side; with ``boomerang`` the way back too."""
    frames = []
    for t in range(images.shape[1]):
        grid = make_grid(images[:, t].cpu(), nrow=images.shape[0], normalize=True, value_range=(-1, 1),
                         pad_value=1.0)
        frames.append(Image.fromarray(grid[0].mul(255).add(0.5).clamp(0, 255).to(torch.uint8).numpy(), "L"))
    return frames + frames[-2:0:-1] if boomerang else frames


def save(images: Tensor, out: Path, fps: float, boomerang: bool) -> int:
    """Write a PNG (rows x steps) or a looping GIF; returns the number of frames in the file (1 for a PNG)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        frames = to_frames(images, boomerang)
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
        # Pillow merges consecutive identical frames (a generator that ignores its noise makes them): count
        # what the file holds rather than what was asked for.
        with Image.open(out) as gif:
            return gif.n_frames
    rows, steps = images.shape[:2]
    save_image(make_grid(images.flatten(0, 1).cpu(), nrow=steps, normalize=True, value_range=(-1, 1),
                         pad_value=1.0), out)
    return 1


@one_line_errors("interpolate.py")
def main(argv: Optional[list[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".gif"):
        parser.error(f"--out {out}: give a .png or a .gif file name.")
    if args.fps <= 0:
        parser.error(f"--fps {args.fps} must be positive.")
    model = load_model(args.checkpoint, map_location=args.device)
    images = interpolation(model, args.steps, args.rows, args.digit, args.method, args.seed)
    frames = save(images, out, args.fps, args.boomerang)
    layout = f"{images.shape[0]} rows x {args.steps} steps"
    if out.suffix.lower() == ".gif":
        asked = 2 * args.steps - 2 if args.boomerang else args.steps
        layout = f"{frames} frames of {images.shape[0]} images" + (
            f" ({asked - frames} identical frames merged)" if frames != asked else "")
    print(f"wrote {out}: {layout}, {args.method}, seed {args.seed}")
    return out


if __name__ == "__main__":
    main()
