"""gan_lightning.logs: reading metrics.csv back, and a resumed run that keeps its earlier rows."""

import pytest

from gan_lightning import GANLightningError
from gan_lightning.logs import read_metrics, smooth


def test_read_metrics_skips_empty_cells(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,step,train/d_loss,val/fid\n0,0,0.5,\n0,1,0.25,\n0,1,,12.5\n")
    logs = read_metrics(tmp_path)
    assert logs["train/d_loss"].steps == [0, 1] and logs["train/d_loss"].values == [0.5, 0.25]
    assert logs["val/fid"].steps == [1] and logs["val/fid"].epochs == [0] and logs["val/fid"].values == [12.5]
    with pytest.raises(GANLightningError, match="No metrics.csv"):
        read_metrics(tmp_path / "nowhere")


def test_smooth_is_an_unbiased_moving_average():
    assert smooth([1.0, 2.0, 3.0], 0.0) == [1.0, 2.0, 3.0]
    assert smooth([4.0, 4.0, 4.0], 0.9) == pytest.approx([4.0, 4.0, 4.0])  # no pull towards 0 at the start
    assert smooth([0.0, 1.0], 0.5) == pytest.approx([0.0, 2 / 3])
    with pytest.raises(GANLightningError):
        smooth([1.0], 1.0)




def test_a_resumed_run_keeps_its_earlier_rows_and_replaces_the_epochs_it_trains_again(tmp_path):
    from gan_lightning.logs import CSVLogger

    run = tmp_path / "runs" / "gan" / "version_0"
    run.mkdir(parents=True)
    # Two finished epochs, then a job killed in epoch 2 after one logged row; last.ckpt holds epoch 1's end.
    (run / "metrics.csv").write_text("epoch,step,train/d_loss,val/fid\n0,4,0.5,\n0,4,,30.0\n1,9,0.4,\n1,9,,20.0\n"
                                     "2,14,0.3,\n")
    logger = CSVLogger(tmp_path / "runs", name="gan", version="version_0")
    logger.log_metrics({"train/d_loss": 0.35, "train/g_loss": 1.0, "epoch": 2}, step=14)
    logger.log_metrics({"val/fid": 15.0, "epoch": 2}, step=14)
    logger.save()
    logs = read_metrics(run)
    assert logs["val/fid"].values == [30.0, 20.0, 15.0] and logs["val/fid"].epochs == [0, 1, 2]
    assert logs["train/d_loss"].values == [0.5, 0.4, 0.35]  # epoch 2's row of the killed job is replaced
    assert logs["train/g_loss"].values == [1.0]  # a new column keeps the earlier rows
    assert sorted(p.name for p in run.iterdir()) == ["metrics.csv"]


def test_a_resumed_cli_run_has_one_curve_without_a_gap(tiny_runs, fake_mnist, tmp_path):
    from conftest import tiny_fit

    first = read_metrics(tiny_runs["gan"])["train/d_loss"]
    resumed = tiny_fit(tmp_path, fake_mnist, "gan", epochs=3, resume_from=tiny_runs["gan"])
    logs = read_metrics(resumed)["train/d_loss"]
    assert sorted(set(logs.epochs)) == [0, 1, 2] and logs.values[:len(first.values)] == first.values
