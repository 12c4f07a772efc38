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
# # 1. GAN の基本：競い合う2つのネットワーク
#
# 敵対的生成ネットワーク（GAN）は、互いに競い合いながら学習する2つのニューラルネットワークでできています。
#
# - **生成器**（generator, G）は、ランダムなノイズから画像を作ります。
# - **識別器**（discriminator, D）は、画像を見て、それが本物である確率を答えます。
#
# D は本物の数字と G が作った偽物を見分けられるように学習し、G は D をだませるように学習します。うまくいけば、最後には G が MNIST のような数字を描けるようになります。
#
# このノートブックでは、まず2つのネットワークと損失関数を確認し、学習の1ステップを手で書いてみます。そのあと `gan_lightning` で学習させ、結果（サンプルのグリッドと損失のグラフ）を読み解きます。最後に、わざと学習を失敗させて、失敗がどのように見えるかを確かめます。
#
# ここで使うものはすべて `gan_lightning` パッケージのもので、ノートブックの中で作り直しているものはありません。下の既定の設定なら、CPU でも5分ほどで最後まで実行できます（もっと早く終わらせたいときは `EPOCHS` を小さくしてください）。

# %% [markdown]
# ## 0. 学習済みの GAN が描くもの
#
# 何かを学習させる前に、gan-lightning に同梱されている2つの生成器が描く数字を見てみましょう。左は、このノートブックで学習させるチュートリアルの GAN を10エポック学習させたものです。右は README で最も良いレシピ `fast_cdcgan` で、1行に1つの数字を描くように指定しています。どちらも、このプロジェクトの CPU で `make reproduce` によって学習させました（数値は README の結果の表にあります。FID はノートブック3で説明する指標で、小さいほど良い値です）。`pretrained(name)` は1秒ほどで生成器を読み込み、何もダウンロードしません。
#
# そのあとの2つのセルは準備です。1つ目のセルで設定を決めます。`EPOCHS` は学習用の60,000枚の画像を何周するか、`BATCHES` は1エポックのバッチ数（バッチの数か、エポックのうちの割合。1.0 なら937バッチすべて）、`BAD_BATCHES` は6節でわざと失敗させる2つの学習の長さ、`LOG_EVERY` は損失を何バッチごとに記録するかです。`FAST` と `DATA_DIR` はテストのための変数で、テストではこの2つを設定して、小さな合成データでノートブックを数秒で実行します。MNIST は `DATA_DIR` の `MNIST/raw/` に置かれ、なければそこにダウンロードされます。2つ目のセルは、必要なモジュールを読み込むだけです。

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

EPOCHS = 1 if FAST else 5  # passes over the 60,000 training images
BATCHES = 3 if FAST else 1.0  # batches per epoch: a number, or a fraction of the epoch (1.0 = all 937)
BAD_BATCHES = 3 if FAST else 200  # length of the two deliberately bad runs in section 6
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
from torchvision.utils import make_grid

from gan_lightning import GAN, LossProgressBar, MLPDiscriminator, MLPGenerator, MNISTDataModule, SampleGrid
from gan_lightning.objective.losses import bce_d_loss, minimax_g_loss, nonsaturating_g_loss
from gan_lightning.logs import read_metrics
from gan_lightning.sampling import show_images

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # quiet: no GPU check lines, no tips
warnings.filterwarnings("ignore", message=".*treespec")  # a note from torch to Lightning's developers


# %% [markdown]
# ## 1. データ
#
# MNIST は、グレースケールで大きさ 28x28 の手書き数字の画像を70,000枚集めたデータセットです（うち60,000枚が学習用です）。`MNISTDataModule` はこれを読み込み、画素の値を 0〜255 から **-1〜1** に変換します。-1〜1 は生成器の最後の層（`tanh`）が出力する範囲なので、こうしておくと本物の画像と偽物の画像が同じ種類の数値になります。各バッチは（画像, ラベル）の組ですが、普通の GAN はラベルを使いません。
#
# 下のセルは、`DATA_DIR` に MNIST がなければダウンロードし、最初のバッチを1つ取り出して、その形、画素の値の範囲、最初の16個のラベル、32枚の画像を表示します。

# %%
data = MNISTDataModule(DATA_DIR, batch_size=64)
data.prepare_data()  # downloads MNIST into DATA_DIR when it is not there yet
data.setup("fit")
real, labels = next(iter(data.train_dataloader()))
print("batch:", tuple(real.shape), "pixel range:", real.min().item(), "to", real.max().item())
print("labels:", labels[:16].tolist())
show_images(real[:32], "real MNIST digits")

# %% [markdown]
# ## 2. 2つのネットワーク
#
# どちらも元のチュートリアルと同じ、小さな全結合ネットワーク（多層パーセプトロン）です。
#
# - **生成器**：100個の乱数 z ~ N(0, 1) → 256 → 512 → 1024 → 784画素。最後に 1x28x28 の形に並べ直します。層と層の間には LeakyReLU(0.2) を入れ、最後の `Tanh` で値を [-1, 1] に収めます。
# - **識別器**：784画素 → 512 → 256 → **画像1枚につき1つの数値**。層の間には LeakyReLU(0.2) を入れます。
#
# 識別器の出力は *ロジット*（logit）と呼ばれる任意の実数です。大きな正の値は「本物」、大きな負の値は「偽物」を意味し、`sigmoid(logit)` で「本物」である確率に変換できます。最後に `Sigmoid` 層がないのはわざとです。シグモイドは損失関数の中で計算したほうが安全だからです（3節で説明します）。
#
# 下の2つのセルでは、まず2つのネットワークを既定の大きさ（コメントにある `latent_dim=100` などの値）で作り、構造とパラメータ数を表示します。次に16個のノイズから画像を作り、D のロジットと、それをシグモイドで変換した「本物」である確率を表示します。

# %%
torch.manual_seed(SEED)
G = MLPGenerator()  # latent_dim=100, img_shape=(1, 28, 28), hidden_dims=(256, 512, 1024)
D = MLPDiscriminator()  # img_shape=(1, 28, 28), hidden_dims=(512, 256)
print(G)
print(D)
print(f"generator: {sum(p.numel() for p in G.parameters()):,} parameters")
print(f"discriminator: {sum(p.numel() for p in D.parameters()):,} parameters")

# %%
z = torch.randn(16, G.latent_dim)
fake = G(z)
logits, _ = D(fake)  # D's logits, and the logits of a class head (None here: D has none)
print("noise:", tuple(z.shape), "-> images:", tuple(fake.shape))
print("D's logits:", logits[:4].detach().numpy().round(3))
print("P(real) = sigmoid(logit):", torch.sigmoid(logits[:4]).detach().numpy().round(3))
show_images(fake, "the untrained generator draws noise")

# %% [markdown]
# 学習前の生成器が描くのはノイズだけです。学習前の識別器は、まだ何も知らないので、どの画像にも 0.5 くらいの確率を答えます。`D` は2つの値の組を返します。1つ目は D のロジット、2つ目はクラス分類ヘッドのロジットです（AC-GAN や InfoGAN で使うもので、この識別器にはないので None です）。以下では `D(x)[0]` でロジットだけを取り出します。
#
# ## 3. 損失関数
#
# 識別器は2クラスの分類器です。本物の画像にはラベル 1、偽物にはラベル 0 を付けたいので、損失は両方に対する二値交差エントロピー（BCE）になります。
#
# $$L_D = \tfrac12\big[\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)\big]
#       = -\tfrac12\big[\log D(x) + \log(1 - D(G(z)))\big]$$
#
# 生成器は、自分の作った偽物に D が 1 と答えることを目指します。元の論文の *minimax* 損失は $\log(1 - D(G(z)))$ を最小化しますが、元のチュートリアルは、ほとんどの実装と同じく *non-saturating*（飽和しない）損失 $L_G = \mathrm{BCE}(D(G(z)), 1) = -\log D(G(z))$ を使います。その理由は、このあと確かめます。
#
# **なぜ softplus を使うのでしょうか？** ロジット $l$ に対して $D(x) = \sigma(l)$ とすると、次のようになります。
#
# $$\mathrm{BCE}(\sigma(l), 1) = -\log\sigma(l) = \log(1 + e^{-l}) = \mathrm{softplus}(-l), \qquad
#   \mathrm{BCE}(\sigma(l), 0) = -\log(1 - \sigma(l)) = \mathrm{softplus}(l)$$
#
# そこで `gan_lightning.objective.losses` は、BCE をロジットの `softplus` として計算します。`Sigmoid` のあとに `BCELoss` を使うのと同じ値になりますが、その組み合わせの弱点はありません。D がとても強く確信しているとき、float32 では $\sigma(l)$ がちょうど 0 や 1 に丸められ、対数が計算できなくなります（PyTorch の `BCELoss` は 100 で打ち切ります）。softplus なら正確なままです。`F.binary_cross_entropy_with_logits` も同じ計算をしていて、混合精度（mixed precision）でも安全に使えます。
#
# 下のセルでは、まずいくつかのロジットで BCE と softplus が同じ値になることを確かめます。次に、D が（正しいかどうかは別として）偽物だと強く確信している場合、つまりロジットが -120 の場合を計算します。

# %%
logit = torch.tensor([-3.0, 0.0, 2.0])
print("BCE(sigmoid(l), 1):", F.binary_cross_entropy(torch.sigmoid(logit), torch.ones(3), reduction="none").numpy())
print("softplus(-l):      ", F.softplus(-logit).numpy())
print("BCE(sigmoid(l), 0):", F.binary_cross_entropy(torch.sigmoid(logit), torch.zeros(3), reduction="none").numpy())
print("softplus(l):       ", F.softplus(logit).numpy())

very_sure = torch.tensor([-120.0])  # D is (rightly or wrongly) certain this image is fake
print("sigmoid(-120) in float32:", torch.sigmoid(very_sure).item())
print("BCE(sigmoid(-120), 1) =", F.binary_cross_entropy(torch.sigmoid(very_sure), torch.ones(1)).item(),
      "but softplus(120) =", F.softplus(-very_sure).item())

# %% [markdown]
# ライブラリの損失関数は、PyTorch 自身の関数で書いた BCE と同じ値を返します。下のセルでは、識別器の損失 `bce_d_loss` と生成器の損失 `nonsaturating_g_loss` を、`F.binary_cross_entropy_with_logits` で手で計算した値と比べます。

# %%
real_logits, fake_logits = D(real)[0], D(G(torch.randn(real.shape[0], G.latent_dim)))[0]
ones, zeros = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
d_by_hand = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, ones)
                   + F.binary_cross_entropy_with_logits(fake_logits, zeros))
print("bce_d_loss:", bce_d_loss(real_logits, fake_logits).item(), " by hand:", d_by_hand.item())
print("nonsaturating_g_loss:", nonsaturating_g_loss(fake_logits).item(),
      " by hand:", F.binary_cross_entropy_with_logits(fake_logits, ones).item())

# %% [markdown]
# **なぜ non-saturating 損失を使うのでしょうか？** 学習の初めのうちは、D は偽物を簡単に見破ります。このとき偽物のロジットは大きな負の値になります。このようなロジットに対して、2種類の生成器の損失がそれぞれどれだけの勾配を返すかを見てみましょう（G が学習に使える手がかりは、この勾配だけです）。
#
# 損失はバッチについて平均をとるので、下のコードでは損失にバッチの大きさを掛けて、画像1枚ごとの勾配を表示しています。

# %%
fake_logits = torch.tensor([-8.0, 0.0, 8.0], requires_grad=True)
print("D(G(z)) = P(real):", torch.sigmoid(fake_logits).detach().numpy().round(4))
for name, g_loss in (("minimax", minimax_g_loss), ("non-saturating", nonsaturating_g_loss)):
    # The losses average over the batch; multiply by its size to see each image's own gradient.
    (grad,) = torch.autograd.grad(g_loss(fake_logits) * len(fake_logits), fake_logits)
    print(f"{name:>15} loss, gradient per logit:", grad.numpy().round(4))

# %% [markdown]
# D が偽物だと確信している画像（ロジット -8）では、minimax 損失は G にほとんど勾配を返しません（-0.0003）。これが *飽和*（saturation）で、G は学習が一番必要なときに限って学習できなくなります。一方、non-saturating 損失はそこで大きな勾配（-0.9997）を返します。どちらも押す向きは同じ（ロジットを大きくする方向）です。
#
# ## 4. 学習の1ステップを手で書く
#
# 本物の画像1バッチに対する GAN の学習の1ステップは、次のとおりです。
#
# 1. ノイズ z を引いて、偽物 `G(z)` を作ります。
# 2. **識別器のステップ**：本物の画像（ラベル 1）と偽物（ラベル 0）に対する損失を計算して、D を更新します。偽物には `detach()` を付けておきます。このステップが G にまで届いてはいけないからです。
# 3. **生成器のステップ**：偽物に対する D の答えとラベル 1 から損失を計算し、D を通して G まで勾配を流して、G だけを更新します。
#
# 2つのネットワークは、それぞれ自分のオプティマイザを持ちます。設定は元のチュートリアルと同じです（Adam、学習率 0.0002、betas (0.5, 0.999)）。
#
# 下のセルは、この手順をそのまま書いたものです。コメントの `Discriminator step` と `Generator step` が、それぞれ手順2と3の始まりです。最後の `torch.no_grad()` のブロックでは、同じバッチと同じノイズで損失をもう一度測り、更新の前と後を比べます。

# %%
torch.manual_seed(SEED)
G, D = MLPGenerator(), MLPDiscriminator()
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

z = torch.randn(real.shape[0], G.latent_dim)
fake = G(z)

# Discriminator step: real -> 1, fake -> 0.
d_loss = bce_d_loss(D(real)[0], D(fake.detach())[0])
opt_d.zero_grad()
d_loss.backward()
opt_d.step()

# Generator step: make D answer 1 for the fakes. Only G's optimizer steps.
g_loss = nonsaturating_g_loss(D(fake)[0])
opt_g.zero_grad()
g_loss.backward()
opt_g.step()

with torch.no_grad():  # the same batch and noise, measured again after the updates
    d_after = bce_d_loss(D(real)[0], D(fake)[0])
    g_after = nonsaturating_g_loss(D(G(z))[0])
print(f"D loss {d_loss.item():.4f} -> {d_after.item():.4f} after D's step")
print(f"G loss {g_loss.item():.4f} -> {g_after.item():.4f} after G's step")

# %% [markdown]
# このバッチについて、どちらのネットワークも自分の仕事が少しうまくなりました。学習とは、このステップを何千ものバッチで繰り返すことにほかなりません。
#
# `gan_lightning.GAN` も、`training_step` でまさにこれをしています（`gan_lightning/models/gan.py` を見てください）。そこに加わっているのは次の点です。Lightning の手動最適化（`manual_backward` と `toggled_optimizer`。`toggled_optimizer` は G のステップの間 D を凍結するので、上のコードのように D の勾配を計算してから捨てる必要がありません）、指定されたときに G の1ステップごとに D を `n_critic` 回更新すること、そしてログの記録です。
#
# ## 5. gan_lightning で学習する
#
# 今度は同じことをライブラリで行います。`GAN` モジュールが2つのネットワークとその損失関数、オプティマイザをまとめて持ち、Lightning の `Trainer` が学習のループを回します。学習の様子は、次の2つの道具で記録します。
#
# - `CSVLogger` は、記録した値を `runs/gan_basics/version_N/metrics.csv` に書き出します。
# - `SampleGrid` は、エポックが終わるたびに64枚のサンプルのグリッドを `runs/gan_basics/version_N/samples/` に保存します。いつも *同じ* 固定のノイズから描くので、同じ64個の点が数字に変わっていく様子を見ることができます。`epoch_000.png` は学習前の生成器です。
#
# 下のセルのように `GAN(MLPGenerator(), MLPDiscriminator())` とだけ書くと、元のチュートリアルと同じ設定（BCE 損失、Adam、学習率 2e-4、betas (0.5, 0.999)）になります。

# %%
seed_everything(SEED)
model = GAN(MLPGenerator(), MLPDiscriminator())  # the tutorial's setup: BCE loss, Adam 2e-4, betas (0.5, 0.999)
logger = CSVLogger("runs", name="gan_basics")
trainer = Trainer(max_epochs=EPOCHS, limit_train_batches=BATCHES, log_every_n_steps=LOG_EVERY,
                  logger=logger, callbacks=[SampleGrid(num_samples=64, nrow=8), LossProgressBar()],
                  enable_checkpointing=False)
trainer.fit(model, data)
run_dir = Path(logger.log_dir)
print("results in", run_dir)

# %% [markdown]
# ### エポックごとのサンプルのグリッド

# %%
grids = sorted((run_dir / "samples").glob("epoch_*.png"))
shown = grids if len(grids) <= 4 else [grids[0], grids[1], grids[len(grids) // 2], grids[-1]]
fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 4), squeeze=False)
for ax, path in zip(axes[0], shown):
    ax.imshow(plt.imread(path))
    ax.set_title(path.stem)
    ax.axis("off")
plt.show()

# %% [markdown]
# `epoch_000` は学習前の生成器で、灰色のノイズです。1エポック後には、ぼんやりした塊や線が現れますが、似たような画像がたくさん並びます。学習の初めに一時的に多様性が失われるのは、よくあることです。数エポック後には、いろいろな数字の形が描かれ、読める数字も多くなりますが、まだ白い点がぽつぽつと散らばっています。全結合ネットワークには「隣り合う画素」という考え方がないこと、そして数エポックでは学習が短いことが理由です（エポックを増やすと良くなります。`configs/dcgan.yaml` の畳み込みネットワーク DCGAN は、ずっときれいな数字を描きます）。グリッドのそれぞれの位置のノイズは変わらないので、各画像はエポックごとに少しずつ変化していきます。
#
# ### 損失のグラフ
#
# `read_metrics` は、この学習の `metrics.csv` を読み込みます。その `step` 列は学習したバッチの数、つまり生成器を更新した回数です。

# %%
logs = read_metrics(run_dir)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
for key in ("train/d_loss", "train/g_loss"):
    ax1.plot(logs[key].steps, logs[key].values, label=key)
ax1.axhline(0.693, color="gray", linestyle=":", label="ln 2 (D answers 0.5)")
ax1.set_xlabel("batches")
ax1.legend()
for key in ("train/d_real", "train/d_fake"):
    ax2.plot(logs[key].steps, logs[key].values, label=key)
ax2.set_ylim(0, 1)
ax2.set_xlabel("batches")
ax2.set_title("D's mean P(real) on real and on fake images")
ax2.legend()
plt.show()

# %% [markdown]
# このグラフは、分類器の学習曲線とは違って見えます。損失は 0 に向かって下がっていきません。一方のネットワークが上達するともう一方の仕事が難しくなるので、2つの損失はある水準のまわりを行ったり来たりします。もし D が本物と偽物をまったく見分けられなければ、どの画像にも 0.5 と答え、2つの損失はどちらも ln 2 = 0.693 になります。
#
# この学習のような健全な学習では、D がいくらか優勢（`d_real` が `d_fake` より上）ですが、どちらも 1 や 0 に張り付くことはなく、2つの損失も一定の範囲に収まっています。損失の値は画像の質についてほとんど何も教えてくれません。質はグリッドで、そしてノートブック3の指標で判断してください。
#
# ## 6. 学習がうまくいかないとき
#
# GAN の学習は壊れやすいことで有名です。典型的な2つの失敗を、`BAD_BATCHES` バッチだけの短い学習でわざと起こしてみましょう。下の関数 `short_run` はモデルを学習させ、D の答えと64枚のサンプルを並べて表示します。どの学習も同じシードから始めるので、違うのは変更した設定だけです。

# %%
def short_run(name, model):
    """Train ``model`` for BAD_BATCHES batches, then plot D's answers and 64 samples."""
    logger = CSVLogger("runs", name=name)
    trainer = Trainer(max_epochs=1, limit_train_batches=BAD_BATCHES, log_every_n_steps=LOG_EVERY, logger=logger,
                      enable_checkpointing=False, enable_model_summary=False)
    trainer.fit(model, data)
    logs = read_metrics(logger.log_dir)
    samples = model.sample(64)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("train/d_real", "train/d_fake"):
        ax1.plot(logs[key].steps, logs[key].values, label=key)
    ax1.set_ylim(-0.02, 1.02)
    ax1.set_xlabel("batches")
    ax1.legend()
    grid = make_grid(samples.cpu(), nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
    ax2.imshow(grid.permute(1, 2, 0).numpy())
    ax2.axis("off")
    fig.suptitle(name)
    plt.show()
    for key in ("train/d_loss", "train/g_loss"):
        print(f"last {key}: {logs[key].values[-1]:.4f}")
    return samples


# %% [markdown]
# ### 6.1 強すぎる識別器
#
# G の1ステップごとに D を5回更新し（`n_critic=5`）、生成器の損失には元の *minimax* 損失を使います。

# %%
seed_everything(SEED)
strong_d = short_run("strong_discriminator", GAN(MLPGenerator(), MLPDiscriminator(), loss="minimax", n_critic=5))

# %% [markdown]
# 数十バッチのうちに D が完全に勝ってしまいます。`d_real` は 1 に、`d_fake` は 0 に、D の損失はほぼ 0 になります。すると3節で計算したとおり minimax 損失が飽和し、G にはほとんど勾配が届かなくなって学習が止まり、サンプルは灰色のノイズのままです。G の損失に注目してください。0 に近い値ですが、これはこの損失の *最悪の* 値です（minimax 損失 `log(1 - D(G(z)))` は 0 を超えることがなく、G はこれを大きく負にしたいのです）。ふつう 0 に近い損失は良さそうに見えますが、ここでは G は何も描けていません。損失の値だけでは、GAN がうまくいっているかどうかは決して分かりません。
#
# non-saturating の BCE 損失なら、G の1ステップごとに D を5回更新しても、私たちが試した範囲では致命的ではありませんでした（セルを `loss="bce"` に変えて確かめてみてください）。確信を持った D からも、役に立つ勾配が返ってくるからです。元のチュートリアルも、`gan_lightning` の既定の設定も、この損失を使うのはそのためです。
#
# ### 6.2 モード崩壊
#
# 今度は *生成器* をせっかちにします。学習率を10倍（0.0002 ではなく 0.002）にします。

# %%
seed_everything(SEED)
hasty_g = GAN(MLPGenerator(), MLPDiscriminator(),
              optimizer_g=lambda params: torch.optim.Adam(params, lr=2e-3, betas=(0.5, 0.999)))
collapsed = short_run("mode_collapse", hasty_g)

# %% [markdown]
# グリッドの64枚の画像はそれぞれ違うノイズから描かれているのに、どれも（ほぼ）同じ形をしています。これが **モード崩壊**（mode collapse）です。G は、一瞬 D をだませた1つの出力を見つけると、さまざまな数字を描き分けるかわりに、すべてのノイズをその出力に送ってしまいます。D はすぐにその画像を見破るようになります（`d_fake` が 0 に向かって下がります）。G がその1つの画像を別の場所に動かすと、D は少しの間だまされます（`d_fake` のとがった山）。これを繰り返すだけなので、サンプルは多様になりません。
#
# モード崩壊は簡単に測れます。1つのバッチの画像どうしがどれだけ違うかを調べればよいのです。下の関数 `spread` は、バッチの中の画像2枚の組それぞれについて距離を求め、その平均を計算します。1画素ずつのざらつきは、崩壊したモデルでも画像ごとに違うので、それを多様さと数えないように、7x7 の縮小画像（4x4 の画素のブロックごとの平均）で比べます。

# %%
def spread(images):
    """Mean Euclidean distance between two images of the batch, compared as 7x7 thumbnails."""
    thumbnails = F.avg_pool2d(images, 4).flatten(1)
    return torch.pdist(thumbnails).mean().item()


print(f"real digits:      {spread(real):.2f}")
print(f"healthy model:    {spread(model.sample(64)):.2f}")
print(f"collapsed model:  {spread(collapsed):.2f}")
print(f"too-strong D:     {spread(strong_d):.2f}")

# %% [markdown]
# 崩壊したモデルのサンプルはほとんど同じ（ばらつきが 0 に近い）で、本物の数字は互いに大きく離れています。健全なモデルはその中間です（学習が短いので、本物の数字ほど多様ではありません）。強すぎる D のモデルが描く灰色のノイズも、ほとんどばらつきがありません。G が何も学んでいないので、出力がみな似ているのです。実際の学習では、このような完全な崩壊よりも、*部分的な* 崩壊（たとえば 1 ばかりが多い）のほうがよく起こります。ノートブック3の FID は、そのどちらにも気づくことができます。
#
# この2つの学習は短く、シードも1つだけです。別のシードや設定では、失敗がもっと早く、もっと遅く、あるいは別の形で現れます。GAN の学習は設定に敏感です。`configs/` のチュートリアルのレシピ（`gan.yaml`、`cgan.yaml`）が元のチュートリアルの値をそのまま使い、`fast_` のレシピが測定で改善が確かめられたところだけ値を変えているのは（どこを変えたかは設定ファイルに書いてあります）、そのためです。
#
# ## 次に読むもの
#
# - ノートブック2：頼んだ数字を描く *条件付き* GAN。
# - ノートブック3：FID と IS でサンプルの質を測る方法。
# - 同じ学習をコマンドラインから、チェックポイント付きで：`gan-lightning fit --config configs/gan.yaml --data.data_dir data` を実行したあと、`gan-lightning predict --ckpt_path runs/gan/version_0/checkpoints/last.ckpt`（`samples/grid.png` に書き出します）。
