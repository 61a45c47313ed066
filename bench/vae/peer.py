"""Peer for `cargo xtask bench vae`: the pytorch/examples VAE, trained on CPU with PyTorch.

Architecture and recipe as in pytorch/examples `vae/main.py` (written here from its description,
not copied): 784-400-20 encoder (ReLU) with two linear heads for mu and log sigma^2, 20-400-784
decoder (ReLU, sigmoid output = Bernoulli means), loss = summed BCE + analytic KL per mini-batch,
Adam with lr 1e-3, batch 128, 10 epochs, on the same data/mnist-10k split as the Rust side.

The data is held in one tensor and mini-batches are taken with a seeded permutation (no
DataLoader, so no worker or collation overhead is charged to PyTorch). Two threads, CPU only
(`BENCH_THREADS` overrides, `BENCH_EPOCHS` the number of epochs).

Prints one JSON line per measurement (train samples/s, GFLOP/s, test -ELBO after 10 epochs,
peak RSS MB); every other line is log. Run from the repository root:

    target/bench-venv/vae/bin/python bench/vae/peer.py
"""

import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "mnist-10k")
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))  # the benchmark uses 2 (both cores)
BATCH = 128
FLOP_PER_EXAMPLE = 3.28e6  # one training step of 784-400-20-400-784, forward + backward
TEST_DRAWS = 5  # draws of eps per test digit when estimating the test ELBO


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    assert magic == 0x00000803, f"{path}: bad magic {magic:#x}"
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16)
    assert pixels.size == n * rows * cols, f"{path}: length mismatch"
    return torch.from_numpy(pixels.reshape(n, rows * cols).astype(np.float32) / 255.0)


class VAE(nn.Module):
    def __init__(self, hidden=400, latent=20):
        super().__init__()
        self.enc = nn.Linear(784, hidden)
        self.enc_mu = nn.Linear(hidden, latent)
        self.enc_logvar = nn.Linear(hidden, latent)
        self.dec_hidden = nn.Linear(latent, hidden)
        self.dec_out = nn.Linear(hidden, 784)

    def forward(self, x):
        h = F.relu(self.enc(x))
        mu, logvar = self.enc_mu(h), self.enc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        probs = torch.sigmoid(self.dec_out(F.relu(self.dec_hidden(z))))
        return probs, mu, logvar


def neg_elbo_sum(probs, x, mu, logvar):
    """-ELBO summed over the batch: BCE (Bernoulli log-likelihood of grey levels) + KL."""
    bce = F.binary_cross_entropy(probs, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kl


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(1)
    train = read_idx_images(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    test = read_idx_images(os.path.join(DATA, "test-images-idx3-ubyte.gz"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{train.shape[0]} train / {test.shape[0]} test digits")

    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = train.shape[0]
    train_time = 0.0
    for epoch in range(1, EPOCHS + 1):
        model.train()
        t0 = time.perf_counter()
        total = 0.0
        for idx in torch.randperm(n).split(BATCH):
            x = train[idx]
            opt.zero_grad()
            probs, mu, logvar = model(x)
            loss = neg_elbo_sum(probs, x, mu, logvar)
            loss.backward()
            opt.step()
            total += loss.item()
        dt = time.perf_counter() - t0
        train_time += dt
        print(f"epoch {epoch:2}: train -ELBO {total / n:8.3f} nats, {n / dt:8.0f} samples/s")

    model.eval()
    with torch.no_grad():
        test_loss = 0.0
        for _ in range(TEST_DRAWS):
            probs, mu, logvar = model(test)
            test_loss += neg_elbo_sum(probs, test, mu, logvar).item()
    test_nelbo = test_loss / (TEST_DRAWS * test.shape[0])
    print(f"test -ELBO after {EPOCHS} epochs: {test_nelbo:.3f} nats")

    samples_per_s = EPOCHS * n / train_time
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    emit("train samples/s", samples_per_s, "higher")
    emit("GFLOP/s", samples_per_s * FLOP_PER_EXAMPLE / 1e9, "higher")
    emit(f"test -ELBO after {EPOCHS} epochs", test_nelbo, "lower")
    emit("peak RSS MB", peak_mb, "lower")


def emit(metric, value, better):
    print(json.dumps({"metric": metric, "value": round(float(value), 3), "better": better}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
