"""What each code of an InfoGAN draws, according to the backbone's classifier: to see which codes hold one kind of
image and which move between two (the ambiguous samples that hold an unconditional model's IS down).

    python scripts/infogan_codes.py --pretrained fast_infogan
    python scripts/infogan_codes.py runs/fast_infogan/version_0/checkpoints/last.ckpt --per-code 1000

For each code, ``--per-code`` samples (noise seeded by ``--seed``, the code's entry made the largest as in
``InfoGAN.with_codes``) are classified; one row per code, purest first: its two most frequent classes and their
shares, the mean entropy of the classifier's answer in nats (real MNIST digits: about 0.03) and the share of samples
classified with a confidence below 0.9. The backbone must be a classifier (``mnist`` or a classifier weights file of
``scripts/train_classifier.py``).
"""

import argparse
from typing import Optional

import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.hub import pretrained
from gan_lightning.metrics import get_backbone
from gan_lightning.metrics.backbones import ClassifierBackbone
from gan_lightning.metrics.features import extract
from gan_lightning.models import InfoGAN
from gan_lightning.pixels import to_uint8


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a .ckpt of an InfoGAN written by `gan-lightning fit`")
    parser.add_argument("--pretrained", help="instead of a checkpoint: a shipped InfoGAN, e.g. fast_infogan")
    parser.add_argument("--per-code", type=int, default=500, help="samples per code (default: 500)")
    parser.add_argument("--backbone", default="mnist", help="classifier: mnist or a classifier weights file "
                                                            "(default: mnist)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples' noise (default: 0)")
    parser.add_argument("--device", default="cpu", help="where to run the networks (default: cpu)")
    return parser


def code_table(model: InfoGAN, backbone, per_code: int, seed: int) -> list[dict]:
    """One row per code: ``code``, ``classes`` and ``shares`` (the two most frequent), ``entropy`` (nats) and
    ``unsure`` (share classified with confidence < 0.9), purest (lowest entropy) first."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    rows = []
    for code in range(model.num_codes):
        z = model.with_codes(model.noise(per_code, generator=generator), torch.full((per_code,), code))
        logits = extract(backbone, to_uint8(model.sample(per_code, z=z))).logits
        probs = logits.softmax(dim=1)
        shares = torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1]).double() / per_code
        top = shares.topk(2)
        rows.append({"code": code, "classes": top.indices.tolist(), "shares": top.values.tolist(),
                     "entropy": float(-(probs * probs.clamp_min(1e-12).log()).sum(dim=1).mean()),
                     "unsure": float((probs.max(dim=1).values < 0.9).double().mean())})
    return sorted(rows, key=lambda row: row["entropy"])


@one_line_errors("infogan_codes.py")
def main(argv: Optional[list[str]] = None) -> list[dict]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.checkpoint is None) == (args.pretrained is None):
        parser.error("give a CHECKPOINT or --pretrained NAME, not both")
    if args.per_code < 1:
        parser.error(f"--per-code {args.per_code} must be at least 1.")
    model = (pretrained(args.pretrained, device=args.device) if args.pretrained
             else load_model(args.checkpoint, map_location=args.device))
    if not isinstance(model, InfoGAN):
        raise GANLightningError(f"{args.pretrained or args.checkpoint} holds a {type(model).__name__}, not an "
                                "InfoGAN: only InfoGAN draws by code.")
    backbone = get_backbone(args.backbone).to(args.device)
    if not isinstance(backbone, ClassifierBackbone):
        raise GANLightningError(f"The {args.backbone} backbone does not classify the data's own classes: use "
                                "mnist or a classifier weights file (scripts/train_classifier.py).")
    rows = code_table(model, backbone, args.per_code, args.seed)
    print(f"{args.per_code} samples per code of {args.pretrained or args.checkpoint}, {args.backbone} backbone "
          "(purest first)")
    print("code | top classes (share) | entropy (nats) | confidence < 0.9")
    for row in rows:
        top = ", ".join(f"{c} ({s:.2f})" for c, s in zip(row["classes"], row["shares"]))
        print(f"{row['code']:4d} | {top:19s} | {row['entropy']:14.3f} | {row['unsure']:.3f}")
    entropy = sum(row["entropy"] for row in rows) / len(rows)
    print(f"mean entropy over the codes: {entropy:.3f} nats")
    return rows


if __name__ == "__main__":
    main()
