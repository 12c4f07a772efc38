"""scripts/export.py: ONNX files with a dynamic batch (and labels for conditional models) that onnxruntime runs
to PyTorch's images within 1e-4; TorchScript alike."""

import pytest
import torch

from gan_lightning.checkpoints import load_model

from helpers import script

onnxruntime = pytest.importorskip("onnxruntime")  # a test extra: pip install -e ".[test]"


def run_onnx(path, inputs: dict) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(["images"], {k: v.numpy() for k, v in inputs.items()})[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gan", "cgan", "fast_infogan", "fast_cdcgan", "pggan"])
def test_onnx_and_torchscript_match_pytorch_for_any_batch(name, tiny_runs, recipe_runs, tmp_path, capsys):
    checkpoint = tiny_runs[name] / "checkpoints" / "last.ckpt" if name in tiny_runs else recipe_runs[name]
    script("export.py")["main"]([str(checkpoint), "--out", str(tmp_path / "g.onnx"), "--torchscript",
                                 str(tmp_path / "g.pt")])
    assert "onnxruntime matches PyTorch: largest difference" in capsys.readouterr().out
    model = load_model(checkpoint)
    traced = torch.jit.load(str(tmp_path / "g.pt"))
    for batch in (1, 7):
        z = torch.randn(batch, model.latent_dim, generator=torch.Generator().manual_seed(batch))
        labels = torch.arange(batch) % model.num_classes if model.num_classes else None
        expected = model.sample(batch, labels=labels, z=z)
        inputs = {"z": z, **({"labels": labels} if labels is not None else {})}
        assert (run_onnx(tmp_path / "g.onnx", inputs) - expected).abs().max() <= 1e-4
        assert (traced(*inputs.values()) - expected).abs().max() <= 1e-5


def test_bad_requests_are_one_line(tiny_runs, tmp_path, capsys):
    run = script("export.py")["main"]
    checkpoint = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    with pytest.raises(SystemExit) as info:
        run([checkpoint, "--out", str(tmp_path / "missing" / "g.onnx")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("export.py: error: ") and "is not a folder: create it" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        run(["--out", str(tmp_path / "g.onnx")])
    assert "give a CHECKPOINT or --pretrained NAME" in capsys.readouterr().err
