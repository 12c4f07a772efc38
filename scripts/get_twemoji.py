"""Download a real set of colour images that are not digits: the 3,781 Twemoji images of the npm package
``emoji-datasource-twitter`` 16.0.0 (64x64 RGBA PNG, transparent background), sorted into one sub-folder per
Unicode category, ready for the folder recipes:

    python scripts/get_twemoji.py                  # -> data/twemoji/<category>/<name>.png (about 62 MB download)
    gan-lightning fit --config configs/folder_dcgan.yaml --data.data_dir data/twemoji --data.image_size 32
    gan-lightning fit --config configs/folder_cdcgan.yaml --data.data_dir data/twemoji   # labels: the categories

Where the images come from and their license: the graphics are Twemoji (Twitter, Inc. and other contributors,
https://github.com/jdecked/twemoji), licensed under Creative Commons Attribution 4.0 (CC-BY 4.0); the package that
ships them and their metadata is emoji-data by Cal Henderson (https://github.com/iamcal/emoji-data, MIT license).
The folder gets an ``ATTRIBUTION.txt`` that says so: keep it with any image you make from them.

The nine categories (Smileys & Emotion, People & Body, Animals & Nature, Food & Drink, Travel & Places,
Activities, Objects, Symbols, Flags) become the labels; the five skin-tone and hair swatches of "Component" are
left out. Every skin-tone variant is kept, so People & Body holds about half of the images. The archive's SHA-256
is checked before anything is written; the folder is filled in a temporary place and renamed when complete.
"""

import argparse
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

from gan_lightning.errors import GANLightningError, one_line_errors

ROOT = Path(__file__).resolve().parents[1]
URL = "https://registry.npmjs.org/emoji-datasource-twitter/-/emoji-datasource-twitter-16.0.0.tgz"
SHA256 = "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877"
LEFT_OUT = {"Component"}
ATTRIBUTION = """\
Twemoji graphics, Copyright 2019 Twitter, Inc and other contributors (https://github.com/jdecked/twemoji),
licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
Taken from the npm package emoji-datasource-twitter 16.0.0 (emoji-data by Cal Henderson, MIT license,
https://github.com/iamcal/emoji-data), sorted into one folder per Unicode emoji category by
gan-lightning's scripts/get_twemoji.py.
"""


def folder_name(category: str) -> str:
    """``"Smileys & Emotion"`` -> ``"smileys_and_emotion"``."""
    return category.lower().replace(" & ", "_and_").replace(" ", "_")


def read_archive(archive: Path | None) -> bytes:
    """The package archive's bytes, from ``archive`` or downloaded, checked against the known SHA-256."""
    if archive is not None:
        data = archive.read_bytes()
    else:
        print(f"downloading {URL}", file=sys.stderr)
        try:
            with urllib.request.urlopen(URL, timeout=60) as response:
                data = response.read()
        except OSError as err:
            raise GANLightningError(f"Could not download {URL} ({err}): download it by other means and pass it "
                                    "with --archive.") from None
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise GANLightningError("The archive is not emoji-datasource-twitter 16.0.0 (its SHA-256 differs): "
                                "download it again.")
    return data


def extract(data: bytes, out: Path) -> dict[str, int]:
    """Write the images of the archive ``data`` into ``out/<category>/``; return the count per category."""
    counts: dict[str, int] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        emoji = json.load(tar.extractfile("package/emoji.json"))
        for entry in emoji:
            if not entry.get("has_img_twitter") or entry["category"] in LEFT_OUT:
                continue
            images = [entry["image"]] + [v["image"] for v in entry.get("skin_variations", {}).values()
                                         if v.get("has_img_twitter", True)]
            folder = out / folder_name(entry["category"])
            folder.mkdir(parents=True, exist_ok=True)
            for name in images:
                member = tar.extractfile(f"package/img/twitter/64/{name}")
                (folder / name).write_bytes(member.read())
            counts[folder.name] = counts.get(folder.name, 0) + len(images)
    (out / "ATTRIBUTION.txt").write_text(ATTRIBUTION)
    return counts


@one_line_errors("get_twemoji.py")
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "twemoji", help="folder to fill (default: "
                                                                                    "data/twemoji)")
    parser.add_argument("--archive", type=Path, help="the package archive, already downloaded (default: download "
                                                     "it from the npm registry)")
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists already: nothing to do (remove it to fetch the images again)")
        return
    if args.archive is not None and not args.archive.is_file():
        raise GANLightningError(f"--archive {args.archive} is not a file: give the downloaded package archive.")
    data = read_archive(args.archive)
    tmp = args.out.with_name(f".{args.out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    counts = extract(data, tmp)
    tmp.rename(args.out)
    listing = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    print(f"wrote {sum(counts.values())} images into {args.out}: {listing}")


if __name__ == "__main__":
    main()
