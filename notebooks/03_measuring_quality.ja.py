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
# # 3. 質を測る：FID と IS
#
# ノートブック1と2では、サンプルを目で見て判断しました。しかし目で見る判断は時間がかかり、人によって分かれ、見落とす失敗もあります（64個の数字のグリッドは、十分に多様でしょうか？）。損失も役に立ちません。損失が測っているのは2つのネットワークの間の力関係で、本物と比べた画像の良さではないからです。そこで代わりに、次の2つの数値が広く使われています。
#
# - **FID**（Fréchet Inception Distance）：生成した画像の集まりが、本物の画像の集まりからどれだけ離れているか。小さいほど良い値です。
# - **IS**（Inception Score）：1枚1枚の画像がどれだけはっきり1つのクラスに見えるか、そしてクラスがどれだけ多様か。大きいほど良い値です。
#
# このノートブックでは、この2つを説明し、生成器が望みうる最良の値（*本物のデータの下限*）を計算し、学習中の FID の変化を追って、一番良いチェックポイントを残します。既定の設定なら、CPU で5分ほどで実行できます。
#
# 指標は `gan_lightning.callbacks` と `gan_lightning.metrics` から読み込みます。その名前が出てくるのは、`# The metrics API of gan_lightning` というコメントで始まるコードセルだけです。

# %% [markdown]
# ## 0. 2つの生成器とその FID
#
# gan-lightning に同梱されている2つの生成器と、`make reproduce` がそれぞれについて測った FID です（このノートブックで説明する数値で、小さいほど良い値です）。2つのグリッドに見える違いが、FID が数える違いです。
#
# そのあとの3つのセルは準備です。1つ目のセルで設定を決めます。`EPOCHS` は学習用の60,000枚の画像を何周するか（FID はエポックが終わるたびに測ります）、`BATCHES` は1エポックのバッチ数（バッチの数か、エポックのうちの割合。1.0 なら937バッチすべて）、`NUM_SAMPLES` は FID と IS を1回測るのに使う画像の枚数（ふつうは10,000枚）、`LOG_EVERY` は損失を何バッチごとに記録するかです（`FAST` と `DATA_DIR` はノートブック1と同じくテストのための変数です）。2つ目のセルは必要なモジュールを読み込みます。3つ目のセルは `gan_lightning` の指標の API を読み込む唯一のセルで、バックボーン（次の節で説明します）を選びます。`BACKBONE = "mnist"` は gan_lightning に同梱された MNIST 分類器で、`"inception"` にすると論文の値と比べられる FID になります。

# %%
from gan_lightning import pretrained
from gan_lightning.hub import describe
from gan_lightning.sampling import show_grids

names = ["gan", "fast_cdcgan"]  # weights shipped inside the package: no training, no download
show_grids({f'pretrained("{name}"), FID {describe(name)["scores"]["fid"]:.2f}': pretrained(name) for name in names})

# %%
import os

# The tests set these two variables to run the notebook in seconds on tiny synthetic data.
FAST = os.environ.get("GAN_NOTEBOOK_FAST") == "1"
DATA_DIR = os.environ.get("GAN_NOTEBOOK_DATA", "../data")  # holds MNIST/raw/; downloaded there when missing

EPOCHS = 2 if FAST else 5  # passes over the 60,000 training images; FID is measured after each
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
NUM_SAMPLES = 200 if FAST else 10000  # images per FID / IS evaluation (10,000 is the usual choice)
LOG_EVERY = 1 if FAST else 20  # log the losses every this many batches
SEED = 0

# %%
import logging
import warnings

import matplotlib.pyplot as plt
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from matplotlib.ticker import MaxNLocator

from gan_lightning import GAN, LossProgressBar, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.checkpoints import load_model
from gan_lightning.logs import read_metrics
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers

# %%
# The metrics API of gan_lightning: the only cell that names it.
from gan_lightning.callbacks import SampleQuality
from gan_lightning.metrics import (
    frechet_distance,
    generated_features,
    get_backbone,
    inception_score,
    reference_features,
)
from gan_lightning.metrics.neighbours import knn_radii, precision_recall

BACKBONE = "mnist"  # the MNIST classifier shipped with gan_lightning; "inception" gives FIDs comparable to papers
backbone = get_backbone(BACKBONE)
print(f"{BACKBONE} backbone: {backbone.num_features} features, {backbone.num_classes} classes")

# %% [markdown]
# ## 1. FID と IS は何を測っているのか
#
# どちらも、学習済みの分類器（**バックボーン**）を通して画像を見ます。論文では、ImageNet の写真で学習した InceptionV3 を使います。ただし CPU では遅く（1回の評価にかかる時間は、どの実行も始めに自分のマシンで測って表示します）、数字についてはあまり知りません。`gan_lightning` には小さな MNIST 分類器も同梱されています。速くて、数字について意味のある値が出ますが、その値は同じバックボーンで測った値としか比べられず、論文の FID とは決して比べられません。
#
# Heusel ら（2017）の **FID** は、バックボーンの *特徴量*、つまり最後の分類層の直前にある数値のベクトル（MNIST 分類器では128個、Inception では2048個）を使います。たくさんの本物の画像と生成した画像について特徴量を計算し、それぞれの集まりを平均 $\mu$ と共分散 $\Sigma$ で表して、2つのガウス分布の間の距離を測ります。
#
# $$\mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2
#   + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)$$
#
# 下手な数字は平均をずらし、多様性の不足（モード崩壊）は共分散を小さくします。FID はそのどちらにも罰を与えます。共分散を推定するには特徴量の数より多くの画像が必要で、ふつうは10,000枚を使います。
#
# Salimans ら（2016）の **IS** は、バックボーンの *クラス確率* $p(y \mid x)$ を使います。良いサンプルは自信をもって1つのクラスに分類され（$p(y \mid x)$ がとがっている）、良いサンプル全体ではすべてのクラスがそろっています（平均の $p(y)$ が平ら）。
#
# $$\mathrm{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\Vert\, p(y))\big)$$
#
# IS は 1 からクラスの数（数字なら 10）までの値をとります。IS は本物の画像をまったく見ません。各数字の完璧なお手本を1つずつ、いつも同じものだけ描く生成器でも、最高点が取れてしまいます。
#
# ## 2. 本物のデータの下限
#
# 完璧な生成器でも、FID は 0 になりません。本物の数字どうしでも、2つの異なる集まりは少しずつ違いますし、有限の枚数の画像から計算した FID は大きめに出る偏り（バイアス）を持つからです。公平な基準は、*同じ手順（プロトコル）* で測った本物の画像の値です。つまり、本物の学習画像 `NUM_SAMPLES` 枚をテスト画像と比べ、バックボーンも同じものを使います。どんな生成器にも、これより良い値は期待できません。モデルの値を報告するときは、必ずこの値も並べて書きましょう。同じように、本物の数字の IS が実際上の上限になります。
#
# 下のセルでは、テスト画像の特徴量（初回のあとはディスクにキャッシュされます）と、学習画像から無作為に選んだ `NUM_SAMPLES` 枚の特徴量を計算し、その2つの間の FID と、選んだ学習画像の IS を、プロトコルと一緒に表示します。

# %%
seed_everything(SEED)
data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet
test_images, _ = data.split("test")
train_images, _ = data.split("train")

real_test = reference_features(backbone, test_images, "mnist", "test")  # cached on disk after the first time
pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(SEED))[:NUM_SAMPLES]
real_train = reference_features(backbone, train_images[pick], "mnist", "train")
floor_fid = frechet_distance(real_test.features, real_train.features)
floor_is, _ = inception_score(real_train.logits)
protocol = f"{NUM_SAMPLES} images vs {len(test_images)} MNIST test images, {BACKBONE} backbone"
print(f"real-data floor ({protocol}): FID {floor_fid:.2f}, IS {floor_is:.2f}")

# %% [markdown]
# 比較のために、ノイズしか描かない学習前の生成器の値も見てみましょう。

# %%
untrained = GAN(MLPGenerator(), MLPDiscriminator())
noise = generated_features(untrained, backbone, NUM_SAMPLES)
print(f"untrained generator ({protocol}): FID {frechet_distance(real_test.features, noise.features):.2f}, "
      f"IS {inception_score(noise.logits)[0]:.2f}")

# %% [markdown]
# ## 3. 学習中の FID と、一番良いチェックポイント
#
# コールバック `SampleQuality` は、エポックが終わるたびに `NUM_SAMPLES` 枚のサンプルを、渡された指標で採点し、`val/fid` と `val/is` を記録します。両方の指標に同じ1組のサンプルを使います。サンプルは毎回同じ固定のノイズから描くので、2つのエポックの値の違いは、生成器が変わったことだけによるものです。`ModelCheckpoint(monitor="val/fid", mode="min")` は、FID が一番小さいチェックポイントを残します。GAN の学習は最後まで良くなり続けるとは限らず、最後のエポックが一番良いとは限らないからです。

# %%
seed_everything(SEED)
model = GAN(MLPGenerator(), MLPDiscriminator())
logger = CSVLogger("runs", name="quality")
keep_best = ModelCheckpoint(monitor="val/fid", mode="min", filename="epoch={epoch}-fid={val/fid:.2f}",
                            auto_insert_metric_name=False)
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY, logger=logger,
                  callbacks=[SampleQuality(metrics=["fid", "is"], backbone=BACKBONE, num_samples=NUM_SAMPLES),
                             keep_best, LossProgressBar()])
trainer.fit(model, data)

# %%
logs = read_metrics(logger.log_dir)
fids, scores = logs["val/fid"], logs["val/is"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
ax1.plot(fids.epochs, fids.values, "o-", label="model")
ax1.axhline(floor_fid, color="gray", linestyle=":", label="real-data floor")
ax1.set_title(f"val/fid (lower is better)\n{protocol}", fontsize=9)
ax2.plot(scores.epochs, scores.values, "o-", label="model")
ax2.axhline(floor_is, color="gray", linestyle=":", label="real data")
ax2.set_title(f"val/is (higher is better)\n{NUM_SAMPLES} images, {BACKBONE} backbone", fontsize=9)
for ax in (ax1, ax2):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
plt.show()
for epoch, fid, score in zip(fids.epochs, fids.values, scores.values):
    print(f"epoch {epoch}: FID {fid:.2f}, IS {score:.2f}")

# %% [markdown]
# FID は最初の数エポックで急に下がり、そのあとはゆっくり下がります。この小さな全結合 GAN では、本物のデータの下限よりずっと上にとどまります。IS は数字が読めるようになるにつれて上がりますが、数エポックではまだ本物の数字の値よりずっと低いままです。分類器は、このざらざらした数字については、本物の数字ほど確信を持てないのです（IS が低いのは、サンプルが少数のクラスしか含んでいないせいのこともあります）。学習が途中でしばらく悪くなることもあります。一番良いチェックポイントを残すのは、そのためです。
#
# 下のセルでは、一番良いチェックポイントを読み込んでサンプルを描きます。Python から保存したチェックポイントには、重みは入っていますが、ネットワークの組み立て方は入っていません。そのため `load_model` に生成器と識別器を渡します。

# %%
best_path = keep_best.best_model_path
print(f"best checkpoint: {best_path} (val/fid {keep_best.best_model_score.item():.2f})")
# Saved from Python, the checkpoint holds the weights but not how to build the networks: pass them.
best = load_model(best_path, generator=MLPGenerator(), discriminator=MLPDiscriminator())
show_images(best.sample(64), "samples of the best checkpoint")

# %% [markdown]
# ## 4. 適合率と再現率：忠実さと多様さを分けて測る
#
# FID は、2つの違う失敗を1つの数値にまとめてしまいます。本物の数字に見えないサンプル（*忠実さ* が低い）と、本物の数字のある種類を描かないサンプル（*多様さ* が低い、つまりモード崩壊）です。**適合率と再現率**（precision と recall、Kynkäänniemi ら（2019））は、この2つをバックボーンの特徴量の空間で分けて測ります。本物の画像のそれぞれのまわりに、3番目に近い本物の画像まで届く球を描きます。球を全部合わせると、本物の画像がある場所、つまり本物の画像の *多様体* をおおまかに表します。**適合率** は、生成した画像のうち、どれかの本物の球の中に入るものの割合です。サンプルは本物らしいか、を測ります。**再現率** は同じことを逆向きに、生成した画像のまわりの球で行います。本物の画像のうち、生成した画像の多様体の中に入るものの割合で、生成器がデータの多様さを覆っているか、を測ります。下の図は、2次元の点でこの2つの失敗を示します。1種類に崩壊した生成器は適合率が高く再現率が低く、本物の画像がないところにまでサンプルを広げる生成器はその逆になります。

# %%
gen = torch.Generator().manual_seed(SEED)
centres = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])  # three kinds of "digit"
real_2d = centres[torch.randint(3, (300,), generator=gen)] + 0.5 * torch.randn(300, 2, generator=gen)
fakes = {"collapsed onto one kind": centres[0] + 0.3 * torch.randn(300, 2, generator=gen),
         "spread off the data": 1.7 * torch.randn(300, 2, generator=gen)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (title, fake_2d) in zip(axes, fakes.items()):
    p, r = precision_recall(real_2d, fake_2d, k=3)
    for point, radius in zip(real_2d, knn_radii(real_2d, 3)):  # the real "manifold": a ball around each point
        ax.add_patch(plt.Circle(point.tolist(), radius.item(), color="C0", alpha=0.06))
    ax.scatter(*real_2d.T, s=5, color="C0", label="real")
    ax.scatter(*fake_2d.T, s=5, color="C1", label="generated")
    ax.set_title(f"{title}: precision {p:.2f}, recall {r:.2f}")
    ax.set(xlim=(-5, 5), ylim=(-4, 5.5), aspect="equal")
    ax.legend(loc="lower right")
plt.show()

# %%
best_features = generated_features(best, backbone, NUM_SAMPLES)
p, r = precision_recall(real_test.features, best_features.features)
floor_p, floor_r = precision_recall(real_test.features, real_train.features)
print(f"best checkpoint: precision {p:.3f}, recall {r:.3f}; real training images: {floor_p:.3f}, {floor_r:.3f}")

# %% [markdown]
# どちらの値も 0 から 1 の間で、高いほど良い値です。本物の画像どうしで測った値が実際の上限になります（1 にはなりません。球も推定だからです）。密度と被覆率（density と coverage、Naeem ら（2020））は、外れ値に左右されにくい2つの変種です。レシピの表では、FID と並べてこの4つを載せています。

# %% [markdown]
# ## 数値を正直に読むために
#
# - 数値は、その **プロトコル**（バックボーン、サンプルの枚数、比べる本物の画像）がなければ意味がありません。コールバックは値を表示するたびにプロトコルも表示します。報告するときは必ずプロトコルを書き、本物のデータの下限も並べましょう。
# - MNIST バックボーンで測った FID は、Inception を使う論文の FID とは比べられません。Inception の特徴量を使った Lucic ら（2018）の大規模な比較では、標準的な GAN の MNIST での最良の FID は 7 前後でした。
# - FID と IS はサンプルから推定した値です。2つの学習の差が 0.2 や 0.3 程度なら、ただのばらつきかもしれません。同じ `NUM_SAMPLES` で比べ、できれば複数のシードで比べましょう。
# - 条件付き GAN では、`ConditionalAccuracy` コールバックが、生成器に頼んだ数字を分類器がどれだけの割合で正しく読み取れるかを測ります。
#
# コマンドラインでは、`configs/gan.yaml` がすでに FID を記録し、一番良いチェックポイントを残すようになっています。`python scripts/plot_metrics.py runs/gan/version_0 --out gan.png` は `val/fid` を損失と並べてグラフにし、`python scripts/evaluate.py CHECKPOINT --real-floor` はチェックポイントを採点して、本物のデータの下限と一緒に表示します。
