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
# # 2. 条件付き GAN：頼んだ数字を描く
#
# ノートブック1の GAN は *何かしらの* 数字を描きます。どの数字になるかはノイズ次第で、こちらからは選べません。Mirza と Osindero（2014）の **条件付き GAN**（conditional GAN）は、クラスのラベルを両方のネットワークに渡します。
#
# - 生成器 `G(z, y)` は、数字 `y` の画像を描きます。
# - 識別器 `D(x, y)` は、`x` が *数字 `y` の* 本物の画像かどうかを判定します。
#
# 上手に描けた 3 でも、7 として差し出されれば D にとっては偽物です。そのため G は、頼まれた数字を描かなければなりません。これは元のチュートリアルの条件付き GAN（チュートリアルの第 V 節）です。学習のステップはノートブック1と同じで、新しいのはラベルだけです。
#
# 既定の設定なら、このノートブックは CPU で5分ほどで実行できます。

# %% [markdown]
# ## 0. 学習済みの条件付き GAN が描くもの
#
# gan-lightning に同梱されている2つの条件付き生成器に、1行に1つの数字を描かせます（一番上の行が 0）。左は、このノートブックで学習させる `cgan` を10エポック学習させたもの、右は README で最も良いレシピ `fast_cdcgan`（畳み込み、projection 識別器、クラス分類ヘッド）です。どちらも `make reproduce` で学習させました。`pretrained(name)` は1秒ほどで生成器を読み込みます。
#
# そのあとの2つのセルは準備です。1つ目のセルで設定を決めます。`EPOCHS` は学習用の60,000枚の画像を何周するか、`BATCHES` は1エポックのバッチ数（バッチの数か、エポックのうちの割合。1.0 なら937バッチすべて）、`LOG_EVERY` は損失を何バッチごとに記録するかです（`FAST` と `DATA_DIR` はノートブック1と同じくテストのための変数です）。2つ目のセルは必要なモジュールを読み込み、`DATA_DIR` に MNIST がなければダウンロードします。

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["cgan", "fast_cdcgan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

EPOCHS = 1 if FAST else 5  # passes over the 60,000 training images
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
LOG_EVERY = 1 if FAST else 20  # log the losses every this many batches
SEED = 0

# %%
import logging
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import (ConditionalGAN, GANLightningError, LossProgressBar, MLPDiscriminator, MLPGenerator,
                           MNISTDataModule, SampleGrid)
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers

data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet

# %% [markdown]
# ## 1. 両方のネットワークにラベルを渡す
#
# ラベルは **one-hot** ベクトルとしてネットワークに入ります。たとえば数字の 3 は10個の数になり、位置 3 だけが 1 で、残りはすべて 0 です（位置は 0 から数えます）。元のチュートリアルと同じく、ネットワークはこれを入力に連結（concatenate）するだけです。
#
# - `MLPGenerator(n_classes=10)`：ノイズ（100）＋ one-hot ラベル（10）＝ 110個の入力
# - `MLPDiscriminator(n_classes=10)`：画素（784）＋ one-hot ラベル（10）＝ 794個の入力
#
# それ以外はノートブック1のネットワークと同じです。
#
# 下のセルでは、ラベル 3 と 7 の one-hot ベクトルを表示し、2つのネットワークの最初の層を確かめてから、ラベル 0〜3 の画像を4枚作って D に通します。

# %%
print(F.one_hot(torch.tensor([3, 7]), num_classes=10))

torch.manual_seed(SEED)
G = MLPGenerator(n_classes=10)
D = MLPDiscriminator(n_classes=10)
print("generator's first layer:    ", G.net[0])
print("discriminator's first layer:", D.net[0])

z = torch.randn(4, G.latent_dim)
y = torch.tensor([0, 1, 2, 3])
fake = G(z, y)
print("G(z, y):", tuple(fake.shape), " D(G(z, y), y):", tuple(D(fake, y)[0].shape))

# %% [markdown]
# 条件付きのネットワークは、ラベルがないと動きません。そのときは、何が足りないかを1文で説明するエラー（`GANLightningError`）を出します。

# %%
try:
    D(fake)
except GANLightningError as err:
    print("GANLightningError:", err)

# %% [markdown]
# ## 2. 学習
#
# `ConditionalGAN` は、ノートブック1と同じ学習ステップを実行します。本物の画像とそのラベルのバッチごとに、*同じラベルの* 偽物を作ります。そのため D は、どの数字についても本物と偽物を同じ割合で見ることになり、見た目だけで両者を見分けるしかありません。
#
# 条件付きモデルでは、`SampleGrid` は1行に1つの数字を並べます。100枚のサンプルなら10行で、一番上の行が 0 です。
#
# 下の2つのセルで学習させ、1エポック後と最後のエポックのグリッドを並べて表示します。

# %%
seed_everything(SEED)
model = ConditionalGAN(MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10), num_classes=10)
logger = CSVLogger("runs", name="cgan")
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY,
                  logger=logger, callbacks=[SampleGrid(num_samples=100), LossProgressBar()], enable_checkpointing=False)
trainer.fit(model, data)
run_dir = Path(logger.log_dir)
print("results in", run_dir)

# %%
grids = sorted((run_dir / "samples").glob("epoch_*.png"))
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
for ax, path in zip(axes, (grids[1], grids[-1])):
    ax.imshow(plt.imread(path))
    ax.set_title(path.stem)
    ax.axis("off")
plt.show()

# %% [markdown]
# 1エポック後には、ラベルはまだほとんど効いていません。どの行にも同じような形がいくつか並んでいるだけです。生成器はまず数字一般の見た目を覚え、そのあとでラベルに従うことを覚えます。5エポック後には、ほとんどの行にその行の数字が描かれます。はっきり描けている数字もあれば（私たちの実行では 0、1、7）、まだ弱かったり、形の似た数字と混ざったりしているもの（4 と 9、5 と 6）もあります。エポックを増やすと良くなります。`configs/cgan.yaml` は30エポック学習させます。
#
# ## 3. `model.sample` で1行に1つの数字を描く
#
# 学習させたモデルから画像を描く方法は、`model.sample(num_samples, labels=...)` の1つだけです（グリッドもスクリプトもこのノートブックも、すべてこれを使います）。返ってくる画像の値は [-1, 1] の範囲です。条件付きモデルでは、`labels` で各画像をどの数字にするかを指定します。下の `rows` は、0 を10個、次に 1 を10個、…、最後に 9 を10個並べたラベルです。

# %%
rows = torch.arange(10).repeat_interleave(10)  # 0 ten times, then 1 ten times, ..., 9
per_digit = model.sample(100, labels=rows)
show_images(per_digit, "model.sample(100, labels=rows): one row per digit", nrow=10)

# %% [markdown]
# ## 4. 数字を選ぶ
#
# ラベルを1つだけ渡すと、すべての画像にそのラベルが使われます。`DIGIT` を変えて、セルをもう一度実行してみてください。

# %%
DIGIT = 7
chosen = model.sample(16, labels=DIGIT)
show_images(chosen, f"model.sample(16, labels={DIGIT})")

# %% [markdown]
# `labels` を渡さなければ、モデルが学習データと同じ割合でラベルを自分で選びます（たとえば MNIST では、1 が 5 より少し多く含まれています）。下のセルでは、モデルが選んだ10,000個のラベルに各数字が占める割合を表示してから、ラベルを指定せずに16枚描きます。

# %%
drawn = model.sample_labels(10000)
print("share of each digit in 10,000 drawn labels:", (torch.bincount(drawn, minlength=10) / 10000).numpy().round(3))
show_images(model.sample(16), "model.sample(16): labels drawn by the model")

# %% [markdown]
# ## 5. ノイズはスタイル、ラベルは数字
#
# ラベルで数字が決まるなら、ノイズは何をしているのでしょうか。行ごとに1つのノイズベクトルを固定し、行に沿ってラベルだけを変えてみます（`model.sample` には、ノイズを `z` として渡せます）。下のセルでは、5つのノイズベクトルをそれぞれ10回ずつ繰り返し（`repeat_interleave`）、各行でラベルを 0 から 9 まで変えます。

# %%
torch.manual_seed(SEED)
styles = 5
z = model.noise(styles).repeat_interleave(10, dim=0)  # each noise vector ten times
same_style = model.sample(styles * 10, labels=torch.arange(10).repeat(styles), z=z)
show_images(same_style, "one noise vector per row, labels 0 to 9 along it", nrow=10)

# %% [markdown]
# ラベルは数字を決め、ノイズはそれ以外のすべて、つまり *スタイル*（線の太さ、傾き、大きさ）を決めるはずです。ネットワークはスタイルについて何も教えられていません。ラベルで決まらない部分を表すのに、ノイズを使うしかないのです。学習が短いうちは、この役割分担はまだ大まかです。行に沿って見ると、モデルがよく覚えた数字は、その行の太さや大きさを保つ傾向があります。一方で、ノイズがラベルに勝ってしまうこともあります（私たちの実行では、ほとんどのラベルで 5 や 9 のような形を描いた行がありました）。長く学習させるほど、行は一貫していきます。
#
# ## 次に読むもの
#
# - ノートブック3では、サンプルの質を測ります。条件付きモデルについては、頼まれた数字をどれだけの割合で描けているかも測ります。
# - 同じモデルをコマンドラインから、チェックポイント付きで：`gan-lightning fit --config configs/cgan.yaml --data.data_dir data` を実行したあと、`gan-lightning predict --ckpt_path runs/cgan/version_0/checkpoints/last.ckpt --samples.label 7 --output.dir sevens` または `python scripts/interpolate.py runs/cgan/version_0/checkpoints/last.ckpt --out walk.gif --steps 30`。
