"""numpy peer of `cargo xtask bench estimators`.

The same Monte Carlo gradient estimators of d/dθ E[x²], x ~ N(θ, σ²), written as a numpy user
would: vectorized over chunks of 10⁶ samples, accumulating Σg and Σ(g − g₀)² chunk by chunk, so
memory stays bounded for any n. numpy runs these element-wise operations on one core.

Prints one JSON line per estimator, e.g.
    {"metric": "pathwise samples/s", "value": 1.23e8, "better": "higher"}
and log lines otherwise. Same n, θ, σ and protocol (best of 3 after a warm-up) as
crates/elbo/examples/bench_estimators.rs; ELBO_BENCH_N overrides n.
"""

import json
import math
import os
import time

import numpy as np

THETA = 1.5
SIGMA = 1.0
REPEATS = 3
CHUNK = 1_000_000


def pathwise(eps):
    # g = f'(θ + σε) = 2(θ + σε)
    return 2.0 * (THETA + SIGMA * eps)


def score(eps):
    # g = f(x) · (x − θ)/σ² with x = θ + σε
    x = THETA + SIGMA * eps
    return x * x * (eps / SIGMA)


B_STAR = THETA**2 + 3.0 * SIGMA**2  # the variance-optimal constant baseline


def score_baseline(eps):
    x = THETA + SIGMA * eps
    return (x * x - B_STAR) * (eps / SIGMA)


def estimate(g, n, seed):
    """Mean, sample variance and standard error of g(ε) over n draws, in chunks."""
    rng = np.random.default_rng(seed)
    total, total_sq, done = 0.0, 0.0, 0
    shift = None
    while done < n:
        m = min(CHUNK, n - done)
        v = g(rng.standard_normal(m))
        if shift is None:
            shift = float(v[0])  # shifted sums avoid the cancellation of Σg² − n ḡ²
        d = v - shift
        total += float(d.sum())
        total_sq += float(np.dot(d, d))
        done += m
    mean_d = total / n
    var = (total_sq - n * mean_d * mean_d) / (n - 1)
    return shift + mean_d, var, math.sqrt(var / n)


def main():
    n = int(os.environ.get("ELBO_BENCH_N", 50_000_000))
    print(f"numpy {np.__version__}, n = {n}, θ = {THETA}, σ = {SIGMA}, one core, "
          f"chunks of {CHUNK}, best of {REPEATS} after a warm-up")
    for label, g in [("pathwise", pathwise), ("score-function", score),
                     ("score+baseline", score_baseline)]:
        estimate(g, n // 10 + 2, 0)
        best = math.inf
        for r in range(REPEATS):
            start = time.perf_counter()
            mean, var, se = estimate(g, n, 1 + r)
            best = min(best, time.perf_counter() - start)
        print(f"{label}: {mean:.6f} ± {se:.2e} (sample variance {var:.4f})")
        print(json.dumps({"metric": f"{label} samples/s", "value": float(f"{n / best:.4e}"),
                          "better": "higher"}))


if __name__ == "__main__":
    main()
