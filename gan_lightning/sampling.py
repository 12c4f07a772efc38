"""Pictures from a model: seeded sample grids laid out by the model's classes or codes, notebook display, and
walks through the latent space.

    >>> interpolate_noise(torch.zeros(1, 2), torch.ones(1, 2), steps=3, method="lerp")[:, 0, 0].tolist()
    [0.0, 0.5, 1.0]
"""

from typing import TYPE_CHECKING, Literal, Optional

import torch
from torch import Tensor
from torchvision.utils import make_grid

from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN

if TYPE_CHECKING:
    import PIL.Image


def class_labels(model: GAN, label: int, count: int) -> Tensor:
    """``count`` labels of class ``label``, after checking that ``model`` is conditional and knows it."""
    if not model.num_classes:
        raise GANLightningError(f"Choosing the class (--digit) needs a conditional model (ConditionalGAN); this "
                                f"checkpoint holds an unconditional {type(model).__name__}, which cannot be told "
                                "which class to draw.")
    if not 0 <= label < model.num_classes:
        raise GANLightningError(f"Class {label}: the model knows classes 0 to {model.num_classes - 1}.")
    return torch.full((count,), label, dtype=torch.long)


def default_grid_size(model: GAN) -> int:
    """Images in a grid by default: 10 per row of a model with one class (or code) per row, else 64."""
    return 10 * model.grid_rows or 64


def grid_layout(model: GAN, num: int, nrow: int = 8) -> tuple[Optional[Tensor], int]:
    """How ``num`` samples of ``model`` are laid out in a grid, the one rule of the sample grids, ``sample_grid`` and
    ``gan-lightning predict``: the class (or InfoGAN code) of each image and the images per row. A model with one
    class or code per row (``grid_rows``) draws one row per class, 0 at the top, when ``num`` is a multiple of them;
    otherwise the classes come in equal blocks, as near as can be, ``nrow`` to a row. Others: no classes, ``nrow``
    to a row.

    >>> from gan_lightning import ConditionalGAN, MLPDiscriminator, MLPGenerator
    >>> cgan = ConditionalGAN(MLPGenerator(n_classes=3), MLPDiscriminator(n_classes=3))
    >>> grid_layout(cgan, 6)[0].tolist(), grid_layout(cgan, 6)[1], grid_layout(cgan, 4, nrow=2)[0].tolist()
    ([0, 0, 1, 1, 2, 2], 2, [0, 0, 1, 2])
    """
    rows = model.grid_rows
    if not rows:
        return None, nrow
    if num % rows == 0:
        return torch.arange(rows).repeat_interleave(num // rows), num // rows
    return torch.arange(num) * rows // num, nrow


def sample_grid(model: GAN, num: int, nrow: int = 8, label: Optional[int] = None, seed: int = 0,
                truncation: float = 1.0) -> tuple[Tensor, int]:
    """A (3, H, W) grid in [0, 1] of ``num`` samples drawn from seeded noise (scaled by ``truncation``), and its
    images per row, laid out by :func:`grid_layout` (one row per class or code) unless ``label`` picks one class."""
    if num < 1 or nrow < 1:
        raise GANLightningError(f"num={num}, nrow={nrow}: ask for at least one image and one per row.")
    z = model.noise(num, generator=torch.Generator(device=model.device).manual_seed(seed))
    if label is not None:
        labels, columns = class_labels(model, label, num), nrow
    else:
        rows, columns = grid_layout(model, num, nrow)
        z, labels = model.grid_inputs(z, rows)
    images = model.sample(num, labels=labels, z=z, truncation=truncation)
    return make_grid(images.cpu(), nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1.0), columns


def captioned(grid: Tensor, text: str) -> "PIL.Image.Image":
    """A (C, H, W) grid in [0, 1] as a PIL image with ``text`` above it, in black on white, wrapped at word
    boundaries to the grid's width.

    >>> captioned(torch.zeros(3, 32, 200), "EMA generator, epoch 3").size[0]
    200
    """
    from PIL import Image, ImageDraw, ImageFont
    from torchvision.transforms.functional import to_pil_image

    image = to_pil_image(grid.clamp(0, 1))
    font = ImageFont.load_default(size=11)
    draw = ImageDraw.Draw(image)
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= image.width - 6:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    line_height = 13
    out = Image.new(image.mode, (image.width, image.height + line_height * len(lines) + 4), "white")
    out.paste(image, (0, line_height * len(lines) + 4))
    writer = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        writer.text((3, 2 + i * line_height), line, fill="black", font=font)
    return out


def show_images(images: Tensor, title: str = "", nrow: int = 8) -> None:
    """Draw images in [-1, 1] of shape (N, C, H, W) as one grid with matplotlib (in a notebook, inline)."""
    import matplotlib.pyplot as plt

    grid = make_grid(images.detach().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    plt.figure(figsize=(nrow * 0.5, grid.shape[1] / grid.shape[2] * nrow * 0.5))
    plt.imshow(grid.permute(1, 2, 0).numpy())
    plt.title(title)
    plt.axis("off")
    plt.show()


def show_grids(models: dict[str, GAN], seed: int = 0) -> None:
    """Draw each model's default sample grid (:func:`sample_grid`, one row per class or code where it has them)
    side by side with matplotlib, titled with its key (in a notebook, inline)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 6), squeeze=False)
    for ax, (title, model) in zip(axes[0], models.items()):
        grid, _ = sample_grid(model, default_grid_size(model), seed=seed)
        ax.imshow(grid.permute(1, 2, 0).numpy())
        ax.set_title(f"{title}: {type(model).__name__}")
        ax.axis("off")
    plt.show()


def interpolate_noise(z0: Tensor, z1: Tensor, steps: int, method: Literal["slerp", "lerp"] = "slerp") -> Tensor:
    """Points from ``z0`` to ``z1`` (both (N, latent_dim)), endpoints included: shape (steps, N, latent_dim).

    ``slerp`` follows the great circle between the two directions and interpolates the lengths linearly:
    Gaussian noise in many dimensions lies near a sphere of radius sqrt(latent_dim), and the straight line
    (``lerp``) cuts inside it (its midpoint is about 1/sqrt(2) as long), through noise of a length the
    generator hardly ever saw in training (White 2016, "Sampling generative networks"). How much that shows
    depends on the generator.
    """
    if steps < 2:
        raise GANLightningError(f"steps={steps}: an interpolation needs at least 2 points (both ends).")
    if method not in ("slerp", "lerp"):
        raise GANLightningError(f"Unknown interpolation {method!r}: use slerp or lerp.")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).view(steps, 1, 1)
    if method == "lerp":
        return (1 - t) * z0 + t * z1
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    u0, u1 = z0 / n0.clamp_min(1e-12), z1 / n1.clamp_min(1e-12)
    omega = torch.arccos((u0 * u1).sum(dim=-1, keepdim=True).clamp(-1, 1))
    # sin(omega) -> 0 for (anti)parallel ends: fall back to the normalized straight line there.
    safe = omega.sin().abs() > 1e-6
    sin = torch.where(safe, omega.sin(), torch.ones_like(omega))
    w0 = torch.where(safe, torch.sin((1 - t) * omega) / sin, 1 - t)
    w1 = torch.where(safe, torch.sin(t * omega) / sin, t)
    direction = w0 * u0 + w1 * u1
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return direction * ((1 - t) * n0 + t * n1)
