"""Reading image files into uint8 tensors of one shape: any mix of PNG, JPEG, WebP and BMP, grayscale, RGB, RGBA,
palette or 16-bit, any size; decoded by PIL, resized and centre-cropped by torchvision with antialiasing.

    >>> import torch
    >>> fit_to_size(torch.zeros(3, 40, 60, dtype=torch.uint8), 32).shape
    torch.Size([3, 32, 32])
"""

from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageOps
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from gan_lightning.errors import GANLightningError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
RESIZE = "shorter side resized to image_size (bilinear, antialiased), centre crop"  # for printed protocols


class UnreadableImage(GANLightningError):
    """An image file that PIL cannot decode (corrupt, truncated, not an image)."""


def list_images(folder: Path) -> list[Path]:
    """Every image file below ``folder`` (by extension, any case; hidden files and folders skipped), sorted."""
    found = []
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if path.suffix.lower() in EXTENSIONS and not any(p.startswith(".") for p in parts) and path.is_file():
            found.append(path)
    return sorted(found)


def _to_mode(image: Image.Image, channels: int) -> Image.Image:
    """PIL image -> ``L`` (1 channel) or ``RGB`` (3): 16-bit values scaled to 8 bits (65535 -> 255), transparent
    pixels composited onto white, palettes expanded."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit grayscale (PNG); "I" is 32-bit int
        values = np.asarray(image, dtype=np.float64)
        scale = 257.0 if values.max() > 255 or image.mode != "I" else 1.0
        image = Image.fromarray(np.clip(np.rint(values / scale), 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L" if channels == 1 else "RGB")


def fit_to_size(image: Tensor, image_size: int) -> Tensor:
    """A uint8 (C, H, W) image as ``image_size`` x ``image_size``: the shorter side resized (antialiased bilinear),
    then the centre cropped; unchanged when it already has that size. Works on (N, C, H, W) batches too."""
    if image.shape[-2:] == (image_size, image_size):
        return image
    if min(image.shape[-2:]) != image_size:
        image = TF.resize(image, [image_size], antialias=True)
    return TF.center_crop(image, [image_size, image_size])


def read_image(path: Union[str, Path], channels: int, image_size: int, upsample: bool = False) -> Tensor:
    """The image at ``path`` as a uint8 tensor (channels, image_size, image_size), EXIF orientation applied.

    Raises ``UnreadableImage`` for a file PIL cannot decode, and a one-sentence error for an image smaller than
    ``image_size`` unless ``upsample``."""
    try:
        with Image.open(path) as opened:
            image = _to_mode(ImageOps.exif_transpose(opened), channels)  # decodes: a corrupt file fails here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        why = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise UnreadableImage(f"{path} is not a readable image ({why}): remove it, or set --data.skip_bad_files true "
                              "to skip such files.") from err
    width, height = image.size
    if min(width, height) < image_size and not upsample:
        raise GANLightningError(f"{path} is {width}x{height}, smaller than image_size {image_size}: use images at "
                                "least that large, lower --data.image_size, or set --data.upsample true to enlarge "
                                "them.")
    return fit_to_size(TF.pil_to_tensor(image), image_size)


def to_channels(images: Tensor, channels: Optional[int]) -> Tensor:
    """uint8 (N, C, H, W) images with ``channels`` channels: gray repeated to RGB, RGB to luma (as PIL's ``L``)."""
    if channels is None or images.shape[1] == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    return TF.rgb_to_grayscale(images, num_output_channels=1)


def check_channels(channels: Optional[int]) -> None:
    if channels is not None and channels not in (1, 3):
        raise GANLightningError(f"channels={channels}: images are read as 1 (grayscale) or 3 (RGB) channels.")


def check_image_size(image_size: Optional[int]) -> None:
    if image_size is not None and image_size < 4:
        raise GANLightningError(f"image_size={image_size} must be at least 4 pixels, e.g. 32 or 64.")


def write_png(image: Tensor, path: Union[str, Path]) -> None:
    """Save a uint8 image (C, H, W), C 1 or 3, as a grayscale or RGB PNG, pixel for pixel (what
    :func:`read_image` reads back)."""
    pixels = image.permute(1, 2, 0).numpy()
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(path, format="png")
