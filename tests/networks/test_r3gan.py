"""The R3GAN networks: every side they can make, fix-up initialization, no normalization, grouped inverted
bottlenecks, bilinear resampling, conditioning by embedding and projection, and clear errors."""

import pytest
import torch
from torch import nn

from gan_lightning import GANLightningError, R3GANDiscriminator, R3GANGenerator
from gan_lightning.networks.r3gan import Resample, ResidualBlock
from gan_lightning.objective.penalties import r1_penalty

TINY = {"widths": None, "blocks": 1, "group_channels": 8}


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (1, 28, 28), (3, 32, 32), (3, 64, 64), (3, 256, 256)])
def test_every_side_halving_to_4_to_7_pixels(shape):
    sizes = {8: [4, 8], 16: [4, 8, 16], 28: [7, 14, 28], 32: [4, 8, 16, 32], 64: [4, 8, 16, 32, 64]}
    n = len(sizes.get(shape[1], range(7)))
    widths = [8] * n if shape[1] == 256 else None  # 256x256 at 8 channels: a shape check, not a useful network
    g = R3GANGenerator(latent_dim=16, img_shape=shape, widths=widths, blocks=1, group_channels=8)
    d = R3GANDiscriminator(img_shape=shape, widths=widths, blocks=1, group_channels=8)
    assert g.sizes == d.sizes and g.sizes[-1] == shape[1] and 4 <= g.sizes[0] <= 7
    if shape[1] in sizes:
        assert g.sizes == sizes[shape[1]]
    images = g(torch.randn(2, 16))
    assert images.shape == (2, *shape)
    logits, aux = d(images)
    assert logits.shape == (2,) and aux is None


def test_default_widths_halve_from_the_lowest_resolution_to_32():
    g = R3GANGenerator(img_shape=(1, 28, 28))
    blocks = [m for m in g.modules() if isinstance(m, ResidualBlock)]
    assert [b.expand.in_channels for b in blocks] == [128, 128, 64, 64, 32, 32]  # 2 blocks per resolution


def test_base_and_max_width_give_one_setting_for_any_image_size():
    for side, widths in ((32, [64, 64, 32, 16]), (64, [64, 64, 64, 32, 16])):
        d = R3GANDiscriminator(img_shape=(3, side, side), base_width=16, max_width=64, blocks=1)
        assert [b.expand.in_channels for b in d.modules() if isinstance(b, ResidualBlock)] == widths[::-1]


def test_blocks_are_grouped_inverted_bottlenecks_without_normalization():
    for net in (R3GANGenerator(widths=[64, 32, 32], blocks=[2, 1, 0], expansion=2, group_channels=16),
                R3GANDiscriminator(widths=[64, 32, 32], blocks=[2, 1, 0], expansion=2, group_channels=16)):
        assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d))
                       for m in net.modules())
        blocks = [m for m in net.modules() if isinstance(m, ResidualBlock)]
        assert len(blocks) == 3
        for block in blocks:
            width = block.expand.in_channels
            assert block.expand.out_channels == 2 * width and block.grouped.kernel_size == (3, 3)
            assert block.grouped.groups == 2 * width // 16


def test_every_residual_branch_starts_at_zero_so_blocks_start_as_the_identity():
    block = ResidualBlock(32, 2, 16, 3, total_blocks=6)
    x = torch.randn(4, 32, 7, 7)
    assert torch.equal(block(x), x) and not block.project.weight.any()
    # the branch's other layers are He-initialized, scaled down by L ** -0.25 for L blocks (fix-up)
    std = block.expand.weight.std().item()
    assert std == pytest.approx((2 / 1.04) ** 0.5 * 6 ** -0.25 / 32**0.5, rel=0.15)


def test_bilinear_resampling_keeps_smooth_images_in_every_dtype():
    import torch.nn.functional as F

    ramp = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 3, 8, 8).contiguous()
    up, down = Resample(up=True)(ramp), Resample(up=False)(ramp)
    assert up.shape == (1, 3, 16, 16) and down.shape == (1, 3, 4, 4)
    # away from the border, bilinear interpolation of a linear ramp is a linear ramp
    inner = up[0, 0, 8, 2:-2]
    assert torch.allclose(inner[1:] - inner[:-1], torch.full_like(inner[1:], 0.5), atol=1e-5)
    assert torch.allclose(down[0, 0, 2, 1:3], torch.tensor([2.5, 4.5]), atol=1e-5)
    # upsampling is torch's bilinear interpolation (edges repeated); the float32 convolutions and the slices of other
    # dtypes give the same numbers
    x = torch.randn(2, 5, 14, 14)
    torch.testing.assert_close(Resample(up=True)(x), F.interpolate(x, scale_factor=2, mode="bilinear"))
    for resample in (Resample(up=True), Resample(up=False)):
        torch.testing.assert_close(resample(x.double()).float(), resample(x), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(resample(x.bfloat16()).float(), resample(x), rtol=0.02, atol=0.05)


def test_conditioning_by_embedding_and_projection_with_an_optional_class_head():
    torch.manual_seed(0)
    g = R3GANGenerator(latent_dim=16, widths=[32, 16, 16], blocks=1, group_channels=8, n_classes=10)
    d = R3GANDiscriminator(widths=[32, 16, 16], blocks=1, group_channels=8, n_classes=10, aux_classes=10)
    z = torch.randn(3, 16).repeat(2, 1)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    images = g(z, labels)
    assert not torch.allclose(images[:3], images[3:])
    logits, aux = d(images[:3].repeat(2, 1, 1, 1), labels)
    assert not torch.allclose(logits[:3], logits[3:])  # the same images, other classes: other logits
    assert aux.shape == (6, 10)


def test_penalties_differentiate_through_the_networks_twice():
    d = R3GANDiscriminator(widths=[32, 16, 16], blocks=1, group_channels=8)
    penalty = r1_penalty(d, torch.randn(4, 1, 28, 28))
    penalty.backward()
    assert torch.isfinite(penalty) and all(p.grad is not None for p in d.parameters() if p.requires_grad)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: R3GANGenerator(img_shape=(1, 30, 30)), "halves down to 4-7 pixels.*not 1x30x30"),
    (lambda: R3GANDiscriminator(img_shape=(3, 32, 16)), "not 3x32x16"),
    (lambda: R3GANGenerator(widths=[64, 32]), "3 resolutions \\(7, 14, 28\\).*2 widths"),
    (lambda: R3GANDiscriminator(widths=[48, 24, 12], group_channels=16), "does not split into groups"),
    (lambda: R3GANGenerator(blocks=[1, -1, 1]), "blocks >= 0"),
    (lambda: R3GANGenerator(base_width=64, max_width=32), "base_width must be >= 1 and at most max_width"),
])
def test_settings_the_networks_cannot_make_are_one_sentence(build, match):
    with pytest.raises(GANLightningError, match=match):
        build()


def test_an_output_bias_only_when_asked():
    assert R3GANGenerator().to_image.bias is None  # the paper's last layer has none
    biased = R3GANGenerator(output_bias=True)
    assert biased.to_image.bias.shape == (1,) and not biased.to_image.bias.any()
