"""gan_lightning.sampling: latent walks (sample grids are tested with the scripts that draw them)."""

import pytest
import torch

from gan_lightning import GANLightningError
from gan_lightning.sampling import interpolate_noise


def test_slerp_keeps_the_ends_and_the_noise_radius():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(3, 100, generator=g), torch.randn(3, 100, generator=g)
    slerp, lerp = interpolate_noise(z0, z1, 5), interpolate_noise(z0, z1, 5, method="lerp")
    assert slerp.shape == (5, 3, 100)
    for path in (slerp, lerp):
        torch.testing.assert_close(path[0], z0)
        torch.testing.assert_close(path[-1], z1)
    # Lengths go linearly from |z0| to |z1| along the slerp; the straight line sags to about 1/sqrt(2) mid-way.
    expected = 0.5 * (z0.norm(dim=1) + z1.norm(dim=1))
    torch.testing.assert_close(slerp[2].norm(dim=1), expected)
    assert (lerp[2].norm(dim=1) < 0.8 * expected).all()


def test_slerp_of_parallel_ends_is_finite():
    z = torch.randn(1, 10)
    assert torch.isfinite(interpolate_noise(z, 2 * z, 4)).all()
    with pytest.raises(GANLightningError, match="at least 2 points"):
        interpolate_noise(z, z, 1)




def test_show_grids_draws_each_models_default_grid_side_by_side(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_lightning import GAN, ConditionalGAN, MLPDiscriminator, MLPGenerator
    from gan_lightning.sampling import default_grid_size, sample_grid, show_grids

    torch.manual_seed(0)
    models = {"plain": GAN(MLPGenerator(), MLPDiscriminator()),
              "conditional": ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10))}
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    show_grids(models)
    (figure,) = shown
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == ["plain: GAN", "conditional: ConditionalGAN"]
    for ax, model in zip(axes, models.values()):  # the grid sample_grid draws, one row per class where there are
        grid, _ = sample_grid(model, default_grid_size(model))
        assert ax.get_images()[0].get_array().shape == tuple(grid.permute(1, 2, 0).shape)
    plt.close(figure)
