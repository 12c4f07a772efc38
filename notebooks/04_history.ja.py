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
# 元のチュートリアルは、GAN の短い歴史で終わります。最初の GAN のあと、4つの節目がそれぞれ1つのことを変えました。2024年の5つ目の節目 R3GAN は、基本に立ち返って、ひとめぐりを閉じます。
#
# | 年 | 節目 | 何を変えたか |
# |---|---|---|
# | 2014 | **GAN**：Goodfellow ら（2014） | 2つのネットワークのゲーム：D は本物と偽物を見分け、G は D をだますことを学ぶ |
# | 2014 | **cGAN**：Mirza と Osindero（2014） | 両方のネットワークにクラスのラベルを渡すので、G が描くものを選べる |
# | 2016 | **DCGAN**：Radford ら（2016） | 全結合層の代わりに畳み込みとバッチ正規化を使う、安定して学習できるレシピ |
# | 2017 | **WGAN-GP**：Arjovsky ら（2017）、Gulrajani ら（2017） | D が画像に点数をつける *クリティック* になる（下の説明を参照） |
# | 2018 | **PGGAN**：Karras ら（2018） | ネットワークが *大きくなる*：まず 7x7、次に 14x14、最後に 28x28 の画像を学び、新しい解像度はそのたびになめらかに混ぜ込む |
# | 2024 | **R3GAN**：Huang ら（2024） | 基本に立ち返る：収束することが証明された損失と、素直で現代的なネットワーク |
#
# *クリティック*（critic）とは、出力が確率ではなく、画像の本物らしさを表す点数になっている識別器のことです（WGAN や hinge 損失で使われます）。
#
# **WGAN のクリティックのしくみ。** 最初の GAN の D は確率で答えるので、D が勝つと答えが飽和し、G の勾配が消えてしまいます（ノートブック1）。Wasserstein GAN（Arjovsky ら（2017））は、D に確率ではなく *点数* を出させ、これをクリティックと呼びます。偽物の画像の確率を土の山、本物の画像の確率を穴だと思ってください。*earth mover's distance*（土を運ぶ距離）は、山の土で穴を埋めるのに必要な最小の仕事（土の量 × 運ぶ距離）です。この距離は、偽物が本物に近づくにつれてなめらかに小さくなり、2つの集合がまったく重なっていなくてもそうなので、G にいつも進む方向を示します。ある定理によって、この距離はネットワークで見積もれる形になります。傾きがどこでも1以下の関数（1-*リプシッツ*、つまり `|f(x) - f(y)| <= ||x - y||` を満たす関数）`f` のうちで、差 `E[f(real)] - E[f(fake)]` が最も大きくなるときの値が、この距離に等しいのです。クリティックはこの `f` になるように `mean(D(real)) - mean(D(fake))` を大きくする方向に学習するので、その値が距離の見積もりになり、G は自分の画像を本物に近づけてこの値を下げます。難しいのは傾きの制限です。最初の WGAN はクリティックのすべての重みを [-0.01, 0.01] に *クリッピング* しましたが、これは傾きを大ざっぱにしか抑えられません（クリティックが単純になりすぎるか、学習がとても遅くなります）。WGAN-GP（Gulrajani ら（2017））は、代わりに *勾配ペナルティ* を加えます。本物と偽物の画像の間のランダムな点で `(||D の勾配|| - 1)^2` を重み10で加え、大事なところで傾きを1に近く保ちます。
#
# このノートブックでは、`gan_lightning` が `configs/` に用意しているレシピで、それぞれを手元のマシンで **同じ時間（`MINUTES` 分）ずつ** 学習させ、描いたものと FID（ノートブック3）が時間とともにどう変わるかを比べます。数分はどのモデルにとっても短い学習で、数分後の順位は数時間後の順位とは違います。それぞれが *最初に* 何を学ぶかに注目してください。
#
# 既定の設定では、`6 x MINUTES` に1分ほどを足した時間、つまり約13分かかります。

# %% [markdown]
# ## 0. 歴史の行き着く先
#
# gan-lightning に同梱されている、`make reproduce` で学習させた2つの生成器です。左は、このノートブックでも学習させる `pggan` のレシピを12分学習させたもの、右は README で最も良い条件なしのレシピ `fast_infogan`（hinge 損失、スペクトル正規化、InfoGAN のコードを使う DCGAN。1行に1つのコード）です。タイトルには、それぞれの FID（ノートブック3）を示しています。
#
# そのあとの2つのセルは準備です。1つ目のセルで設定を決めます。`MINUTES` は各モデルを学習させる実際の時間（分。FID を測る時間も含みます）、`NUM_SAMPLES` は FID を1回測るのに使う画像の枚数、`PHASE_IMAGES` は PGGAN の1段階（新しい解像度を混ぜ込む段階と、安定させる段階のそれぞれ）に使う画像の枚数で、これが1エポックになります。`FAST` と `MAX_EPOCHS` はテストのための変数で、テストでは時間で区切る代わりに、短いエポックを数回学習させて止めます（`DATA_DIR` はノートブック1と同じです）。2つ目のセルは必要なモジュールを読み込み、`DATA_DIR` に MNIST がなければダウンロードします。

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["pggan", "fast_infogan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

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
import logging
import time
import warnings
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import (GAN, ConditionalGAN, DCGANDiscriminator, DCGANGenerator, LossProgressBar,
                           MLPDiscriminator, MLPGenerator, MNISTDataModule, Penalty, ProgressiveDiscriminator,
                           ProgressiveGAN, ProgressiveGenerator, R3GANDiscriminator, R3GANGenerator, SampleGrid)
from gan_lightning.callbacks import FID

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers
MNISTDataModule(DATA_DIR).prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet

# %% [markdown]
# ## 1. 6つのレシピ
#
# どの行も、`configs/` の設定ファイル（`gan.yaml`、`cgan.yaml`、`dcgan.yaml`、`wgan_gp.yaml`、`pggan.yaml`、`r3gan.yaml`）と同じモデルを、その設定のバッチサイズで作ります。`RECIPES` の各行は（年, バッチサイズ, 1エポックのバッチ数, モデルを作る関数）の組です。1つ上の行からの差分として読んでください。
#
# - **cGAN**：GAN と同じネットワークに `n_classes=10` を付けたもの。one-hot のラベルをノイズと画像に連結します。
# - **DCGAN**：新しいネットワーク（G はバッチ正規化付きの転置畳み込み、D はストライド付きの畳み込み）。損失とオプティマイザはチュートリアルと同じです。
# - **WGAN-GP**：D からバッチ正規化を除いた DCGAN のネットワーク、Wasserstein 損失、重み 10 の勾配ペナルティ、生成器の1ステップごとにクリティックを5ステップ、そして学習率を小さくした Adam。
# - **PGGAN**：大きくなるネットワークと、クリティックを1ステップにした WGAN-GP に、独自の3つの工夫を加えたもの。*pixel norm* は、G の畳み込みのたびに、画素ごとの特徴量のベクトルを長さ1にそろえ、D との競争の中で G の信号が大きくなりすぎないようにします（バッチ正規化の代わりです）。*minibatch standard deviation* は、D の終わり近くで小さなグループの画像どうしがどれだけ違うかを測り、それを追加の特徴量として D に渡します。すると、サンプルがみな同じような G はすぐに見破られ、変化をつけるよう促されます。*equalized learning rate* は、すべての重みを大きさ1で保存し、実行時に層ごとの He の定数を掛けます。Adam はどの重みもだいたい同じ大きさの歩幅で動かすので、こうするとどの層も同じ割合の速さで変わります。ここでは予算の時間内に 28x28 まで届くよう、スケジュールを短くしています（1段階あたり400バッチ）。設定ファイルのスケジュールは1段階あたり60,000枚で、サンプルは EMA（生成器の重みの指数移動平均）で描きます。段階がこれほど短いと、この平均は生成器の変化に追いつけないので、ここでは使いません。
# - **R3GAN**：基本に立ち返ったモデルです。損失は *相対的*（relativistic）で、D は本物の画像を1枚ずつ偽物の画像と比べ（`softplus(-(D(real) - D(fake)))`）、G はその逆を目指します。2つのペナルティが、本物の画像のまわり（R1）と偽物の画像のまわり（R2）で D をなめらかに保ち、この2つがそろうとゲームが収束します。損失が安定しているので、ネットワークは上の工夫（バッチ正規化、minibatch standard deviation、段階的に大きくすること、equalized learning rate）をすべて捨てられます。G も D も、残差ブロック（幅を広げる 1x1 畳み込み、グループ化した 3x3 畳み込み、幅を戻す 1x1 畳み込みを、入力に足すもの）を積み重ねただけで、正規化はありません。ここでは CPU 向けにネットワークを小さくし、ペナルティは8ステップに1回（`every=8`）、重みを8倍にして計算します。
#
# 各行の最後の数は、1エポックのバッチ数です。FID はエポックが終わるたびに測ります。CPU でも予算の時間内に、どのモデルも何点か測れるように長さを選びました（1.0 は MNIST 全体）。

# %%
def adam(lr, betas):
    return partial(torch.optim.Adam, lr=lr, betas=betas)


RECIPES = {  # name: (year, batch size, batches per epoch, model)
    "GAN": (2014, 64, 1.0, lambda: GAN(MLPGenerator(), MLPDiscriminator())),
    "cGAN": (2014, 64, 1.0, lambda: ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10))),
    "DCGAN": (2016, 128, 100, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(batch_norm=True))),
    "WGAN-GP": (2017, 64, 15, lambda: GAN(DCGANGenerator(), DCGANDiscriminator(), loss="wasserstein",
                                          penalties=[Penalty("gp", 10.0)],
                                          n_critic=5, optimizer_g=adam(1e-4, (0.0, 0.9)),
                                          optimizer_d=adam(1e-4, (0.0, 0.9)))),
    "PGGAN": (2018, 32, 400, lambda: ProgressiveGAN(ProgressiveGenerator(base_channels=8),
                                                    ProgressiveDiscriminator(base_channels=8),
                                                    stable_images=PHASE_IMAGES, fade_images=PHASE_IMAGES)),
    "R3GAN": (2024, 64, 400, lambda: GAN(R3GANGenerator(widths=[64, 32, 16], blocks=1, output_bias=True),
                                         R3GANDiscriminator(widths=[64, 32, 16], blocks=1), loss="rpgan",
                                         penalties=[Penalty("r1", 0.05, every=8), Penalty("r2", 0.05, every=8)],
                                         optimizer_g=adam(1e-3, (0.0, 0.99)), optimizer_d=adam(1e-3, (0.0, 0.99)))),
}

# %% [markdown]
# ## 2. どのモデルにも同じ時間を
#
# `Trainer(max_time=...)` は、時間が来たら学習を止めます（必要ならエポックの途中でも止めます）。`FID` コールバックは、エポックが終わるたびに `NUM_SAMPLES` 枚のサンプルを採点します（ノートブック3の小さな MNIST 分類器を使うので、この FID どうしは比べられますが、論文の値とは比べられません）。`Clock` は、各エポックの終わりに学習開始から何分たったかを記録し、下のグラフの横軸に使います。
#
# 下のセルは、レシピごとに同じシードから、これらのコールバックとサンプルのグリッドを付けて学習させ、生成器の更新回数、FID、経過時間を `results` にまとめて、モデルごとに1行ずつ表示します。

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
# ## 3. 同じ時間での FID の変化

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
# 各学習の最後のグリッドです（`runs/history_<name>/version_N/samples/`）。どのエポックでも同じ固定のノイズから描いています。cGAN は1行に1つの数字を描きます。

# %%
fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4.4))
for ax, (name, r) in zip(axes, results.items()):
    last = sorted((r["run_dir"] / "samples").glob("epoch_*.png"))[-1]
    ax.imshow(plt.imread(last))
    ax.set_title(f"{name}: {r['batches']} batches\nval/fid {r['fids'][-1]:.1f}")
    ax.axis("off")
plt.show()

# %% [markdown]
# このプロジェクトの2コアの CPU で、それぞれ2分ずつ学習させた3回の結果です（数値はマシンやその負荷で変わりますが、順位はそれほど変わりません）。
#
# - チュートリアルの **GAN** は一番多く更新し（12,000〜13,000バッチ）、val/fid は8〜9.5になりました。数字には点々のノイズが残ります。全結合ネットワークには「隣り合う画素」という考え方がないからです。
# - **cGAN**（約12,000バッチ）が一番良く、5.6〜6.4でした。どの数字を描くかを教えてもらえるので、課題がやさしくなるからです。ただし同じ行の画像はまだよく似ています。クラスの中での多様さは、もっと後で身につきます。
# - **DCGAN** は約1,000バッチ（1バッチ128枚）しか学習せず、約11でした。更新の回数は MLP よりずっと少ないのですが、1回ごとに学ぶ量が多く、畳み込みのおかげでなめらかな線を描きます。
# - **WGAN-GP** は出足の遅いモデルです。1バッチごとにクリティックの5ステップと勾配ペナルティがかかるので、生成器の更新は約300回だけで、数字はまだぼやけています（21〜22）。長所は長い学習でゲームが安定することですが、2分ではそれは見えません。
# - **PGGAN**（約2,000バッチ、1バッチ32枚）は15〜18でした。1ステップが安い 7x7 で数字のおおまかな形を学び、そのあと 14x14 と 28x28 で細部を足しましたが、2分では 28x28 の段階は最後の1段階しかありません。時間をかければ、大きくしていく方法は報われます。上の同梱の `pggan` は12分学習させたものです。
#
# ## 5. PGGAN が大きくなる
#
# PGGAN のエポックごとのグリッドです。ここでは1エポックがちょうどスケジュールの1段階（32枚のバッチ400個分、つまり `PHASE_IMAGES` 枚）なので、グリッドはそれぞれの段階の終わりを示しています。グリッドはどれも 28x28 です。解像度が低い段階では生成器の画像を拡大しているので、4x4 や 2x2 の画素のブロックが見えます。

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
# - どの節目も、最初の GAN のゲームはそのままにして、その一部だけを変えました。入力（cGAN）、ネットワーク（DCGAN）、損失（WGAN-GP）、学習のスケジュール（PGGAN）です。
# - 1バッチの速さと、1バッチで進む量は一致しません。MLP の GAN は一番多くのバッチをこなし、DCGAN は1バッチで一番多くを学び、WGAN-GP はゲームを安定させるために1バッチに多くの計算を払います。GAN は、適当なエポック数の後の1つの数値ではなく、同じ時間での曲線で比べましょう。
# - 粗い構造を先に、細部を後で学ぶという PGGAN の考えは、初めて説得力のある 1024x1024 の顔画像を生みました。28x28 では、主に学習の序盤の時間を節約します。その後継（StyleGAN など）は、ここから生まれました。
#
# さらに進むには、どのモデルでも設定ファイルを使って好きなだけ学習させてください：`gan-lightning fit --config configs/pggan.yaml --data.data_dir data`。README には、PGGAN の各段階の終わりのグリッドがあります。
