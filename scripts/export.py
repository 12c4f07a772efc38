"""Export a generator to ONNX (and TorchScript) for use outside PyTorch: onnxruntime, a browser, a C++ program.

    python scripts/export.py runs/fast_cdcgan/version_0/checkpoints/last.ckpt --out fast_cdcgan.onnx
    python scripts/export.py --pretrained fast_infogan --out fast_infogan.onnx --torchscript fast_infogan.pt

The exported network is the one ``model.sample()`` uses (the EMA generator when the recipe keeps one), in eval
mode and float32: input ``z`` (batch, latent_dim) of standard normal noise and, for conditional models, ``labels``
(batch,) int64 classes; output ``images`` (batch, C, H, W) in [-1, 1]. The batch size is dynamic. An InfoGAN takes
z only (its code is the argmax of z's first entries, computed inside). Truncation is ``z * psi`` before the call.
The file is checked after writing: onnxruntime (when installed) runs it on a batch of 3 and its images must match
PyTorch's within --tolerance.
"""

import argparse
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning._io import atomic_write
from gan_lightning.checkpoints import load_model
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.hub import pretrained


class Sampler(nn.Module):
    """``model.sample()`` as a plain network: ``(z[, labels]) -> images`` in [-1, 1]."""

    def __init__(self, model) -> None:
        super().__init__()
        self.generator = model.sampling_generator.eval()
        self.conditional = bool(model.num_classes)
        self._model = [model]  # asked what each image is drawn as (an InfoGAN's code); not a submodule to export

    def forward(self, z: Tensor, labels: Tensor = None) -> Tensor:
        drawn = self._model[0].drawn_as(z, labels)
        images = self.generator(z) if drawn is None else self.generator(z, drawn)
        return images.float().clamp(-1, 1)


def example_inputs(model, batch: int, seed: int = 0) -> tuple[Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, model.latent_dim, generator=generator)
    if model.num_classes:
        return z, torch.randint(0, model.num_classes, (batch,), generator=generator)
    return (z,)


def export_onnx(model, path: Path, opset: int = 18) -> list[str]:
    """Write ``model``'s sampler to ``path`` (atomically); returns its input names."""
    sampler = Sampler(model).cpu()
    inputs = example_inputs(model, 2)
    names = ["z", "labels"][: len(inputs)]
    batch = torch.export.Dim("batch", min=1)
    with atomic_write(path) as tmp, torch.no_grad():
        program = torch.onnx.export(sampler, inputs, dynamo=True, input_names=names, output_names=["images"],
                                    dynamic_shapes={name: {0: batch} for name in names}, opset_version=opset,
                                    verbose=False)
        program.save(str(tmp))
    return names


def export_torchscript(model, path: Path) -> None:
    sampler = Sampler(model).cpu()
    with atomic_write(path) as tmp, torch.no_grad():
        torch.jit.trace(sampler, example_inputs(model, 2)).save(str(tmp))


def check_onnx(model, path: Path, names: list[str], tolerance: float) -> float:
    """Largest absolute difference between onnxruntime's and PyTorch's images on a batch of 3."""
    import onnxruntime

    inputs = example_inputs(model, 3, seed=1)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ours,) = session.run(["images"], {name: value.numpy() for name, value in zip(names, inputs)})
    with torch.no_grad():
        theirs = Sampler(model).cpu()(*inputs)
    error = float((torch.from_numpy(ours) - theirs).abs().max())
    if error > tolerance:
        raise GANLightningError(f"{path}: onnxruntime's images differ from PyTorch's by up to {error:.2e}, more "
                                f"than --tolerance {tolerance:g}; the file is kept for inspection.")
    return error


@one_line_errors("export.py")
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a .ckpt written by `gan-lightning fit`")
    parser.add_argument("--pretrained", help="a shipped generator instead of a checkpoint (e.g. fast_cdcgan)")
    parser.add_argument("--out", required=True, help="the ONNX file to write")
    parser.add_argument("--torchscript", help="also write a TorchScript file (torch.jit.trace) here")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (default: 18)")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest absolute difference allowed between onnxruntime and PyTorch (default: 1e-4)")
    args = parser.parse_args(argv)
    if (args.checkpoint is None) == (args.pretrained is None):
        parser.error("give a CHECKPOINT or --pretrained NAME, not both")
    model = pretrained(args.pretrained) if args.pretrained else load_model(args.checkpoint)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise GANLightningError(f"{out.parent} is not a folder: create it or choose another --out.")
    names = export_onnx(model, out, args.opset)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): inputs {', '.join(names)} -> images "
          f"(batch, {', '.join(map(str, model.generator.img_shape))})")
    try:
        error = check_onnx(model, out, names, args.tolerance)
        print(f"onnxruntime matches PyTorch: largest difference {error:.2e}")
    except ImportError:
        print("onnxruntime is not installed: the file was not run (pip install onnxruntime)")
    if args.torchscript:
        export_torchscript(model, Path(args.torchscript))
        print(f"wrote {args.torchscript} (TorchScript)")


if __name__ == "__main__":
    main()
