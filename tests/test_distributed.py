"""DDP: gradient averaging per network, every recipe under 2 processes, the metric callbacks' values with 1 and
2 processes, multi-process and multi-node fits through the CLI (gloo, CPU)."""

import json
import math
import subprocess
import sys
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gan_lightning.callbacks import SampleQuality
from gan_lightning.checkpoints import load_datamodule, load_model, read_checkpoint
from gan_lightning.errors import GANLightningError
from gan_lightning.models._distributed import average_gradients

from conftest import CONFIGS, ROOT
from dist_helpers import TESTS, ScoreBeforeTraining, assert_ranks_agree, cli_env, ddp_args, free_port, run_cli
from helpers import quiet_trainer
from synthetic import write_synthetic_folder


def _average_worker(rank: int, world: int, port: int, out, unused: bool) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    x = torch.randn(8, 4)
    model = net[0] if unused else net
    model(x[rank * 4:(rank + 1) * 4]).pow(2).mean().backward()
    try:
        average_gradients(net, "test network")
        torch.save([p.grad for p in net.parameters()], out / f"rank{rank}.pt")
    except GANLightningError as err:
        (out / f"rank{rank}.err").write_text(str(err))
    dist.destroy_process_group()


def test_averaged_gradients_equal_the_full_batch_gradient(tmp_path):
    mp.spawn(_average_worker, args=(2, free_port(), tmp_path, False), nprocs=2)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    net(torch.randn(8, 4)).pow(2).mean().backward()
    for rank in (0, 1):
        for got, want in zip(torch.load(tmp_path / f"rank{rank}.pt"), [p.grad for p in net.parameters()]):
            torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_a_parameter_without_gradient_is_reported(tmp_path):
    mp.spawn(_average_worker, args=(2, free_port(), tmp_path, True), nprocs=2)
    message = (tmp_path / "rank0.err").read_text()
    assert "got no gradient" in message and "1.weight" in message


@pytest.fixture(scope="module")
def ddp_recipes(mnist_300, tmp_path_factory) -> list[dict]:
    """Every shipped recipe (configs/*.yaml) trained for 2 batches of 8 per process under 2-process gloo DDP,
    all in one torchrun launch (tests/ddp_recipes_worker.py); what each rank reported, by recipe."""
    workdir = tmp_path_factory.mktemp("ddp_recipes")
    # 10 classes of 28x28 images, more than 128 (FID on the 128-d mnist features) and scored against the training
    # images, for the image-folder recipes
    folder = write_synthetic_folder(workdir / "folder", classes=10, per_class=16, size=28)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()), str(TESTS / "ddp_recipes_worker.py"),
           str(mnist_300), str(folder), "out", *map(str, CONFIGS)]
    result = subprocess.run(cmd, cwd=workdir, env=cli_env(GAN_LIGHTNING_CACHE=str(workdir / "cache")),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads((workdir / "out" / f"rank{rank}.json").read_text()) for rank in (0, 1)]


@pytest.mark.slow
@pytest.mark.ddp
def test_every_recipe_trains_under_two_process_ddp(ddp_recipes):
    rank0, rank1 = ddp_recipes
    assert sorted(rank0) == sorted(config.stem for config in CONFIGS)
    for name, run in rank0.items():
        assert run["strategy"] == "DDPStrategy" and run["world_size"] == 2, name
        assert not run["find_unused_parameters"], name  # Lightning's plain ddp
        assert run["global_step"] == run["expected_steps"], name  # every D and G step of both batches
        assert all(math.isfinite(run["logged"][key]) for key in ("train/d_loss", "train/g_loss")), name
        assert set(run["scores"]) == set(run["metric_keys"]) and "val/fid" in run["scores"], name  # all scored
        assert ("val/cond_acc" in run["scores"]) == run["conditional"], name
        # weights and buffers (batch norm, spectral norm, EMA) byte for byte, and the scores, on both ranks
        assert rank1[name]["weights"] == run["weights"], f"{name}: the ranks' models differ"
        assert rank1[name]["scores"] == run["scores"], name


@pytest.mark.slow
@pytest.mark.ddp
def test_metric_callbacks_give_the_two_process_value_in_one_process(ddp_recipes, mnist_300):
    """val/fid, val/is and val/cond_acc that the quality callback logged at the epoch end under 2 processes equal
    what it gives for that epoch's checkpoint in 1 process."""
    for name, run in ddp_recipes[0].items():
        model = load_model(run["checkpoint"]).train()  # as the module was when its callbacks scored it
        data = load_datamodule(read_checkpoint(run["checkpoint"]))  # the run's data, as it was configured
        metrics = [SampleQuality(num_samples=200, reference_split=run["reference_split"])]
        probe = ScoreBeforeTraining(metrics)
        trainer = quiet_trainer(max_epochs=1, callbacks=[*metrics, probe])
        trainer.fit(model, data)
        assert trainer.global_step == 0  # scored, not trained
        assert probe.scores == pytest.approx(run["scores"], rel=1e-6, abs=0), name


def metric_names(run_dir) -> set[str]:
    return set((run_dir / "metrics.csv").read_text().splitlines()[0].split(","))


@pytest.mark.slow
@pytest.mark.ddp
def test_two_process_ddp_fit_through_the_cli_matches_one_process(fake_mnist, tmp_path):
    """`--trainer.devices 2 --trainer.strategy ddp` as the README has it, through Lightning's own launcher (every
    recipe trains under DDP in test_every_recipe_trains_under_two_process_ddp)."""
    config = "gan"
    long_grid = ("--grid.min_seconds", "600")  # epochs this short: the first and the last grid only
    single = run_cli(ddp_args(fake_mnist, config, "--trainer.devices", "1", *long_grid), tmp_path / "one")
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = run_cli(ddp_args(fake_mnist, config, "--trainer.devices", "2", "--trainer.strategy", "ddp", *long_grid),
                  tmp_path / "two")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert "find_unused_parameters" not in ddp.stderr
    assert_ranks_agree(tmp_path / "two" / "weights", world=2)
    one_run, two_run = (tmp_path / d / "runs" / config / "version_0" for d in ("one", "two"))
    assert metric_names(two_run) == metric_names(one_run) >= {"train/d_loss", "train/g_loss", "val/fid"}
    # rank 0 alone writes grids and checkpoints, each once; which grids is decided by rank 0's clock for both
    grids = sorted(p.name for p in (two_run / "samples").iterdir())
    assert grids == ["epoch_000.png", "epoch_002.png"]
    assert (two_run / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
@pytest.mark.ddp
def test_two_nodes_on_localhost_with_torchrun(fake_mnist, tmp_path):
    port = str(free_port())
    nodes = []
    for node_rank in (0, 1):
        workdir = tmp_path / f"node{node_rank}"
        workdir.mkdir()
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
               "--node-rank", str(node_rank), "--master-addr", "127.0.0.1", "--master-port", port,
               "-m", "gan_lightning", *ddp_args(fake_mnist, "gan", "--trainer.num_nodes", "2",
                                                "--trainer.devices", "1", "--trainer.strategy", "ddp")]
        nodes.append(subprocess.Popen(cmd, cwd=workdir, env=cli_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
        time.sleep(0.5)
    outputs = [node.communicate(timeout=300)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in outputs[1]
    weights = tmp_path / "weights"
    weights.mkdir()
    for rank in (0, 1):
        (weights / f"rank{rank}.pt").write_bytes((tmp_path / f"node{rank}" / "weights" / f"rank{rank}.pt").read_bytes())
    assert_ranks_agree(weights, world=2)
    assert (tmp_path / "node0" / "runs" / "gan" / "version_0" / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
@pytest.mark.ddp
@pytest.mark.parametrize("in_memory", ["true", "false"])
def test_two_processes_read_disjoint_shards_of_an_image_folder(in_memory, pet_folder, tmp_path):
    """Every image of an epoch goes to exactly one of the two processes, from memory or streamed by workers."""
    args = ["fit", "--config", str(ROOT / "configs" / "folder_dcgan.yaml"), "--data.data_dir", str(pet_folder),
            "--data.image_size", "8", "--data.channels", "1", "--data.batch_size", "8", "--data.in_memory", in_memory,
            "--data.num_workers", "0" if in_memory == "true" else "1", "--trainer.accelerator", "cpu",
            "--trainer.devices", "2", "--trainer.strategy", "ddp", "--trainer.max_epochs", "1",
            "--trainer.enable_progress_bar", "false", "--quality.metrics", "[]",
            "--trainer.callbacks+=dist_helpers.RecordBatches"]
    result = run_cli(args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / "batches" / f"batches{rank}.json").read_text()) for rank in (0, 1)]
    images = [{h for batch in batches for h in batch} for batches in ranks]
    assert [len(batches) for batches in ranks] == [4, 4]  # 65 training images (7 held out): 32 each in batches of 8
    assert not images[0] & images[1] and len(images[0]) + len(images[1]) == 64
