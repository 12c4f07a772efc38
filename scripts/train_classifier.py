"""Train the small classifier behind the ``mnist`` backbone, or one like it for any labeled data, and write its
weights with its image shape, data and test accuracy: the file is then a fast backbone for FID, IS and cond_acc.

    python scripts/train_classifier.py --data.data_dir data
    # -> gan_lightning/weights/mnist_classifier.pt (140 KB), the shipped one: these defaults (MNIST, 8 epochs,
    #    seed 0, no label smoothing) on the real MNIST give 99.15% test accuracy
    python scripts/train_classifier.py --data TorchvisionDataModule --data.dataset fashion_mnist --out fashion.pt
    python scripts/train_classifier.py --data ImageFolderDataModule --data.data_dir pets --data.labels true \\
        --data.image_size 64 --out pets_classifier.pt
    gan-lightning fit --config configs/folder_cdcgan.yaml --data.data_dir pets --quality.backbone pets_classifier.pt

Plain PyTorch on the data module's training split (random shifts of up to 2 pixels), scored on its reference
split (the test split, or a folder's validation images); the data module is given as to `gan-lightning fit`.
"""

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from jsonargparse import ArgumentParser
from torch import Tensor

from gan_lightning._io import atomic_write
from gan_lightning.cli import data_parser, parse_data_args
from gan_lightning.data import ImageDataModule
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.metrics.classifier import DEFAULT_WEIGHTS, SmallClassifier
from gan_lightning.pixels import from_uint8


def build_parser() -> ArgumentParser:
    parser = data_parser("train_classifier.py", __doc__,
                         "the labeled data, as for gan-lightning fit (default: MNIST in data/)")
    parser.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="weights file to write (the shipped one by "
                                                                    "default)")
    parser.add_argument("--epochs", type=int, default=8, help="passes over the training split")
    parser.add_argument("--batch_size", type=int, default=128, help="images per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--label_smoothing", type=float, default=0.0,
                        help="cross-entropy label smoothing (0: it would cap the Inception Score, about 7.5 instead "
                             "of 10 at 0.05)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--limit", type=int, help="train on the first N images only (for smoke tests)")
    return parser


def random_shift(x: Tensor, generator: torch.Generator, max_shift: int = 2) -> Tensor:
    """Shift each image by up to ``max_shift`` pixels in x and y (background -1 fills the gap)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator)
    rows, cols = dy + torch.arange(h), dx + torch.arange(w)
    batch = torch.arange(n)[:, None, None, None]
    return padded[batch, torch.arange(c)[None, :, None, None], rows[:, None, :, None], cols[:, None, None, :]]


@torch.no_grad()
def accuracy(model: SmallClassifier, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum((model(from_uint8(images[i:i + batch_size])).argmax(1) == labels[i:i + batch_size]).sum()
                  for i in range(0, len(images), batch_size))
    return float(correct) / len(images)


@one_line_errors("train_classifier.py")
def main(argv=None) -> None:
    parser = build_parser()
    args = parse_data_args(parser, argv)
    data: ImageDataModule = args.data
    data.prepare_data()
    data.setup("fit")
    if not data.num_classes:
        raise GANLightningError(f"{data.name} has no labels: a classifier needs labeled data (for a folder: "
                                "--data.labels true, one sub-folder per class).")
    train_x, train_y = data.split("train")
    test_x, test_y = data.split(data.reference_split)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    model = SmallClassifier(num_classes=data.num_classes, in_channels=data.img_shape[0])
    batch_size = min(args.batch_size, len(train_x))  # a small folder: one batch of all its images
    steps_per_epoch = len(train_x) // batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.epochs * steps_per_epoch)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * batch_size:(step + 1) * batch_size]
            x = random_shift(from_uint8(train_x[index]), generator)
            loss = F.cross_entropy(model(x), train_y[index], label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        test_acc = accuracy(model, test_x, test_y)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, test accuracy {test_acc:.4%} "
              f"({time.time() - start:.0f} s)", flush=True)
    meta = {"test_accuracy": test_acc, "train_images": len(train_x), "epochs": args.epochs, "seed": args.seed,
            "label_smoothing": args.label_smoothing, "img_shape": list(data.img_shape), "data": data.name,
            "test_split": data.reference_split, "trained_by": "scripts/train_classifier.py",
            "torch": str(torch.__version__)}
    config = {"num_classes": data.num_classes, "in_channels": data.img_shape[0]}
    payload = {"state_dict": model.state_dict(), "config": config, "meta": meta}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as tmp:  # never leave a half-written weights file behind
        torch.save(payload, tmp)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB): {data.name} {data.reference_split} accuracy "
          f"{test_acc:.4%} on {len(test_x)} images; use it as --quality.backbone {out}")


if __name__ == "__main__":
    main()
