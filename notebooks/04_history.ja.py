# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. GAN の歴史を並べて動かす
#
# 元のチュートリアルは、GAN の短い歴史で終わります。最初の GAN のあと、4つの節目がそれぞれ1つのことを変えました。
#
# | 年 | 節目 | 何を変えたか |
# |---|---|---|
# | 2014 | **GAN**（Goodfellow ら） | 2つのネットワークのゲーム：D は本物と偽物を見分け、G は D をだますことを学ぶ |
# | 2014 | **cGAN**（Mirza と Osindero） | 両方のネットワークにクラスのラベルを渡すので、G が描くものを選べる |
# | 2016 | **DCGAN**（Radford ら） | 全結合層の代わりに畳み込み、バッチ正規化、安定して学習できるレシピ |
# | 2017 | **WGAN-GP**（Arjovsky ら、Gulrajani ら） | D は画像に点数をつける *critic* になる（下を見てください） |
# | 2018 | **PGGAN**（Karras ら） | ネットワークが *大きくなる*：まず 7x7、次に 14x14、最後に 28x28 の画像を学び、新しい解像度は少しずつ混ぜ込む |
#
# Wasserstein GAN の critic の損失は、本物と偽物の分布の距離を見積もります。この距離は、2つの分布が遠く離れていても G に役立つ方向を示し続けます。WGAN-GP は勾配ペナルティでその見積もりの意味を保ちます。
#
# このノートブックでは、`gan_lightning` が `configs/` に用意しているレシピで、それぞれを手元のマシンで **同じ分数だけ** 学習させ、描いたものと FID（ノートブック3）の変化を比べます。数分はどのモデルにとっても短い学習で、数分後の順位は数時間後の順位とは違います。それぞれが *最初に* 何を学ぶかに注目してください。
#
# 既定の設定では、`5 x MINUTES` に1分ほどを足した時間、つまり 11 分ほどかかります。

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

MINUTES = 2.0  # wall-clock training time of each model (FID evaluations included)
MAX_EPOCHS = 5 if FAST else None  # the tests stop after a few short epochs instead of a time budget
NUM_SAMPLES = 200 if FAST else 2000  # images per FID evaluation
PHASE_IMAGES = 64 if FAST else 12800  # PGGAN: images per fade-in and per stable phase (one epoch)
SEED = 0

# %%
import time
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import (GAN, ConditionalGAN, DCGANDiscriminator, DCGANGenerator, LossProgressBar,
                           MLPDiscriminator, MLPGenerator, MNISTDataModule, ProgressiveDiscriminator, ProgressiveGAN,
                           ProgressiveGenerator, SampleGrid)
from gan_lightning.callbacks import FID

MNISTDataModule(DATA_DIR).prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet

# %% [markdown]
# ## 1. 5つのレシピ
#
# どの行も、`configs/` の設定ファイル（`gan.yaml`、`cgan.yaml`、`dcgan.yaml`、`wgan_gp.yaml`、`pggan.yaml`）と同じモデルを、その設定のバッチサイズで作ります。1つ上の行からの差分として読んでください。
#
# - **cGAN**：GAN と同じネットワークに `n_classes=10` を付けたもの。one-hot のラベルをノイズと画像に連結します。
# - **DCGAN**：新しいネットワーク（G はバッチ正規化付きの転置畳み込み、D はストライド付きの畳み込み）。損失と最適化手法はチュートリアルと同じです。
# - **WGAN-GP**：D にバッチ正規化のない DCGAN のネットワーク、Wasserstein 損失、重み 10 の勾配ペナルティ、生成器1ステップごとに critic を5ステップ、学習率を小さくした Adam。
# - **PGGAN**：大きくなるネットワーク（pixel norm、minibatch standard deviation、equalized learning rate）と、critic 1ステップの WGAN-GP。ここでは予算のうちに 28x28 に届くよう、スケジュールを短くしています（1つの段階が 400 バッチ）。設定ファイルのスケジュールは1段階 60,000 枚で、最近の生成器の重みの平均（EMA）でサンプルを描きます。段階がこれほど短いとその平均が遅れてしまうので、ここでは使いません。
#
# 各行の最後の数は、1エポックのバッチ数です。FID は毎エポックの後に測ります。どのモデルも CPU の予算のうちに何点か測れるように長さを選びました（1.0 は MNIST 全体）。

# %%
def adam(lr, betas):
    return partial(torch.optim.Adam, lr=lr, betas=betas)


RECIPES = {  # name: (year, batch size, batches per epoch, model)
    "GAN": (2014, 64, 1.0, lambda: GAN(MLPGenerator(), MLPDiscriminator())),
    "cGAN": (2014, 64, 1.0, lambda: ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10))),
    "DCGAN": (2016, 128, 100, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(batch_norm=True))),
    "WGAN-GP": (2017, 64, 15, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(), loss="wasserstein", gp_weight=10.0,
                                          n_critic=5, optimizer_g=adam(1e-4, (0.0, 0.9)),
                                          optimizer_d=adam(1e-4, (0.0, 0.9)))),
    "PGGAN": (2018, 32, 400, lambda: ProgressiveGAN(ProgressiveGenerator(base_channels=8),
                                                    ProgressiveDiscriminator(base_channels=8),
                                                    stable_images=PHASE_IMAGES, fade_images=PHASE_IMAGES)),
}

# %% [markdown]
# ## 2. どのモデルにも同じ分数を
#
# `Trainer(max_time=...)` は、時間が来たら学習を止めます（必要ならエポックの途中でも）。`FID` コールバックは毎エポックの後に `NUM_SAMPLES` 枚のサンプルの点数をつけます（ノートブック3の小さな MNIST 分類器を使うので、この FID どうしは比べられますが、論文の値とは比べられません）。`Clock` は毎エポックの終わりの経過分数を記録し、下のグラフの横軸にします。

# %%
class Clock(Callback):
    """Minutes since the start of training at the end of every epoch (before that epoch's FID)."""

    def on_train_start(self, trainer, pl_module):
        self.start, self.minutes = time.monotonic(), []

    def on_train_epoch_end(self, trainer, pl_module):
        self.minutes.append((time.monotonic() - self.start) / 60)


results = {}
for name, (year, batch_size, batches, build) in RECIPES.items():
    seed_everything(SEED)
    model, clock, fid = build(), Clock(), FID(num_samples=NUM_SAMPLES)
    logger = CSVLogger("runs", name=f"history_{name}")
    trainer = Trainer(max_time=None if FAST else {"seconds": 60 * MINUTES}, max_epochs=MAX_EPOCHS or -1,
                      limit_train_batches=2 if FAST else batches, logger=logger, enable_checkpointing=False,
                      enable_model_summary=False, log_every_n_steps=50,
                      callbacks=[clock, SampleGrid(num_samples=100 if model.num_classes else 64), fid,
                                 LossProgressBar()])
    trainer.fit(model, MNISTDataModule(DATA_DIR, batch_size=batch_size))
    results[name] = {"year": year, "model": model, "run_dir": Path(logger.log_dir), "batches": model.generator_steps,
                     "fids": [entry["val/fid"] for entry in fid.history],
                     "minutes": [clock.minutes[entry["epoch"]] for entry in fid.history]}
    print(f"{name}: {model.generator_steps} batches of {batch_size} in {clock.minutes[-1]:.1f} min, "
          f"last val/fid {results[name]['fids'][-1]:.1f}")

# %% [markdown]
# ## 3. 同じ分数での FID の変化

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
for name, r in results.items():
    ax.plot(r["minutes"], r["fids"], "o-", label=f"{name} ({r['year']})")
ax.set_xlabel("minutes of training (FID evaluations included)")
ax.set_ylabel("val/fid (lower is better)")
ax.set_yscale("log")
ax.set_title(f"FID of {NUM_SAMPLES} samples vs the MNIST test images, mnist backbone", fontsize=10)
ax.legend()
plt.show()

# %% [markdown]
# ## 4. 最後に何を描いたか
#
# 各学習の最後のグリッドです（`runs/history_<名前>/version_N/samples/`）。どのエポックでも同じ固定ノイズから描いています。cGAN は1行に1つの数字を描きます。

# %%
fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4.4))
for ax, (name, r) in zip(axes, results.items()):
    last = sorted((r["run_dir"] / "samples").glob("epoch_*.png"))[-1]
    ax.imshow(plt.imread(last))
    ax.set_title(f"{name}: {r['batches']} batches\nval/fid {r['fids'][-1]:.1f}")
    ax.axis("off")
plt.show()

# %% [markdown]
# ほかの処理と共有している 2 コアの CPU で、それぞれ2分ずつ学習した私たちの結果です（数値はマシンやその負荷で変わりますが、曲線の形はあまり変わりません）。
#
# - チュートリアルの **GAN** は一番多く更新し（4,900 バッチ）、val/fid は 27 になりました。数字には点々のノイズが残ります。全結合ネットワークには「隣どうしの画素」という考えがないからです。
# - **cGAN**（3,900 バッチ、28）は各行にその行の数字を描きますが、同じ行の画像はよく似ています。クラスの中での多様さは、もっと後で身につきます。
# - **DCGAN** は 303 バッチ（1バッチ 128 枚）しか学習しませんでしたが、1バッチあたりに一番多くを学びました（20）。畳み込みのおかげで、なめらかな線を描きます。
# - **WGAN-GP** は出足が遅いモデルです。1バッチごとに critic の5ステップと勾配ペナルティがかかるので、生成器の更新は 169 回だけで、数字はまだぼやけています（51）。長い学習で安定していることが長所ですが、2分ではそれは見えません。
# - **PGGAN**（1バッチ 32 枚で 1,900 バッチ）は、最初の点から一番良い曲線でした。1ステップが安い 7x7 で数字のおおまかな形を学び、14x14、28x28 で細部を足しました（18）。
#
# ## 5. PGGAN が大きくなる
#
# PGGAN のエポックごとのグリッドです。ここでは1エポックがちょうどスケジュールの1段階（32 枚のバッチを 400 回 = `PHASE_IMAGES`）なので、各グリッドは各段階の終わりを示します。グリッドはどれも 28x28 です。解像度が低いあいだは生成器の画像を拡大しているので、4x4 や 2x2 の画素のブロックが見えます。

# %%
pggan = results["PGGAN"]
grids = sorted((pggan["run_dir"] / "samples").glob("epoch_*.png"))[1:6]
phases = ["7x7", "14x14 fading in", "14x14", "28x28 fading in", "28x28"]
fig, axes = plt.subplots(1, len(grids), figsize=(4 * len(grids), 4.4), squeeze=False)
for ax, path, phase in zip(axes[0], grids, phases):
    ax.imshow(plt.imread(path))
    ax.set_title(f"after {path.stem}: {phase}")
    ax.axis("off")
plt.show()
print(f"PGGAN ended at {pggan['model'].resolution}x{pggan['model'].resolution}; model.sample():",
      pggan["model"].sampling_protocol)

# %% [markdown]
# ## 歴史から学べること
#
# - どの節目も最初の GAN のゲームはそのままにして、その一部を変えました。入力（cGAN）、ネットワーク（DCGAN）、損失（WGAN-GP）、学習のスケジュール（PGGAN）です。
# - 1バッチの速さと1バッチで進む量は別物です。MLP の GAN は一番多くのバッチをこなし、DCGAN は1バッチで一番多くを学び、WGAN-GP は安定したゲームのために1バッチに多くを払います。GAN は、適当なエポック数の後の1つの数値ではなく、同じ時間での曲線で比べましょう。
# - 粗い構造を先に、細部を後で学ぶという PGGAN の考えは、初めて説得力のある 1024x1024 の顔画像を生みました。28x28 では主に学習の序盤の時間を節約します。その後継（StyleGAN など）はここから生まれました。
#
# さらに進むには、どれでも設定ファイルで好きなだけ学習させてください：`gan-lightning fit --config configs/pggan.yaml --data.data_dir data`。README に PGGAN の各段階の終わりのグリッドがあります。
