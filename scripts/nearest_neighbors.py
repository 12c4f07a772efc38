"""Generated samples beside their nearest training images in the backbone's feature space: to see that a generator
draws new images rather than copies of its data.

    python scripts/nearest_neighbors.py runs/fast_cdcgan/version_0/checkpoints/last.ckpt --out neighbours.png
    python scripts/nearest_neighbors.py CHECKPOINT --num 10 --k 6 --backbone my_classifier.pt
    python scripts/nearest_neighbors.py --results results/results.csv --recipe fast_cdcgan --out docs/nn.png

Each row of the PNG is one sample (left, after a blank column) and its --k nearest training images, nearest first,
found among all the images of the training split the checkpoint's data module reads (MNIST: 60,000) by Euclidean
distance between backbone features, the distance FID and precision/recall use. The distances are printed, with
the median distance from a training image to its nearest neighbour among 5000 others for scale: a sample much
closer to a training image than that looks copied.
"""

import argparse
from pathlib import Path
from typing import Optional

import torch
from torchvision.utils import make_grid, save_image

from gan_lightning.checkpoints import load_datamodule, load_model, read_checkpoint
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import one_line_errors
from gan_lightning.metrics import get_backbone, reference_features
from gan_lightning.metrics.features import extract
from gan_lightning.metrics.neighbours import knn_radii
from gan_lightning.pixels import to_uint8

from runs import reproduced_checkpoint


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a .ckpt written by `gan-lightning fit`")
    parser.add_argument("--results", help="instead of a checkpoint: a results.csv of scripts/reproduce.py, whose "
                                          "--recipe checkpoint (first seed) to use")
    parser.add_argument("--recipe", default="fast_cdcgan", help="recipe of --results (default: fast_cdcgan)")
    parser.add_argument("--out", default="neighbours.png", help="PNG file to write (default: neighbours.png)")
    parser.add_argument("--num", type=int, default=8, help="generated samples, one per row (default: 8)")
    parser.add_argument("--k", type=int, default=5, help="nearest training images per sample (default: 5)")
    parser.add_argument("--backbone", default="mnist", help="feature network: mnist, inception or a classifier "
                                                            "weights file (default: mnist)")
    parser.add_argument("--data-dir", help="where the data lies (default: data, or the folder the checkpoint's data "
                                           "module read)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples' noise (default: 0)")
    parser.add_argument("--device", default="cpu", help="where to run the networks (default: cpu)")
    return parser


@one_line_errors("nearest_neighbors.py")
def main(argv: Optional[list[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.num < 1 or args.k < 1:
        parser.error(f"--num {args.num} and --k {args.k} must be at least 1.")
    if (args.checkpoint is None) == (args.results is None):
        parser.error("give a CHECKPOINT or --results (with --recipe), not both")
    if args.results:
        args.checkpoint = reproduced_checkpoint(Path(args.results), args.recipe)
    model = load_model(args.checkpoint, map_location=args.device)
    data = load_datamodule(read_checkpoint(args.checkpoint), data_dir=args.data_dir) or MNISTDataModule(
        args.data_dir or "data")
    data.prepare_data()
    backbone = get_backbone(args.backbone).to(args.device)
    train, _ = data.split("train")
    real = reference_features(backbone, train, data.name, "train")
    generator = torch.Generator(device=model.device).manual_seed(args.seed)
    samples = model.sample(args.num, z=model.noise(args.num, generator=generator))
    fake = extract(backbone, to_uint8(samples))
    distances = torch.cdist(fake.features, real.features)
    nearest = distances.topk(args.k, dim=1, largest=False)
    typical = knn_radii(real.features[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:5000]],
                        1).median().item()
    rows = []
    blank = torch.ones_like(samples[0]).cpu()
    for i in range(args.num):
        neighbours = train[nearest.indices[i]].float().div(127.5).sub(1.0)
        rows += [samples[i].cpu(), blank, *neighbours]
        print(f"sample {i}: nearest training images {nearest.indices[i].tolist()} at feature distances "
              + ", ".join(f"{d:.2f}" for d in nearest.values[i].tolist()))
    print(f"for scale: the median distance from a training image to its nearest neighbour among 5000 random training "
          f"images is {typical:.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(make_grid(torch.stack(rows), nrow=args.k + 2, normalize=True, value_range=(-1, 1), pad_value=1.0), out)
    print(f"wrote {out}: {args.num} samples, each beside its {args.k} nearest of {len(train)} {data.name} training "
          f"images in {backbone.name} features")
    return out


if __name__ == "__main__":
    main()
