"""Run by tests/callbacks/test_callbacks.py with torch.multiprocessing.spawn: the metrics on 2 CPU processes."""

import os

import torch
import torch.distributed as dist

from gan_lightning.metrics import (
    frechet_distance,
    generated_features,
    get_backbone,
    inception_score,
    kernel_distance,
    reference_features,
)
from gan_lightning.metrics.features import extract

from helpers import tiny_gan


def scores(model, real_images, fake_images, cache_dir: str, rank: int = 0, world_size: int = 1) -> dict:
    """What the callbacks do at an epoch end, for this rank's share: generate, extract, score."""
    backbone = get_backbone("mnist")
    real = reference_features(backbone, real_images, "digits", "test", cache_dir).shard(rank, world_size)
    fake = extract(backbone, fake_images).shard(rank, world_size)  # given images: the same set in both runs
    generated = generated_features(model, backbone, 150, batch_size=40, seed=1, rank=rank, world_size=world_size)
    return {
        "fid": frechet_distance(real.features, fake.features),
        "is": inception_score(fake.logits, splits=5),
        "kid": kernel_distance(real.features, fake.features, subsets=5, subset_size=100),
        "fid_generated": frechet_distance(real.features, generated.features),
    }


def run(rank: int, world_size: int, port: int, inputs: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        data = torch.load(inputs, weights_only=True)
        model = tiny_gan()
        model.load_state_dict(data["model"])
        result = scores(model, data["real"], data["fake"], data["cache_dir"], rank, world_size)
        if rank == 0:
            tmp = f"{out}.tmp"
            torch.save(result, tmp)
            os.replace(tmp, out)
    finally:
        dist.destroy_process_group()
