// -*- coding: utf-8 -*-
// %% [markdown]
// # A tour of the notebooks
//
// Every notebook in this collection follows the same pattern, shown here on a small example:
// the **question**, the **derivation** in LaTeX, **code** that computes the answer with the
// support crate `elbo`, an **executable check** that fails if the maths is wrong, and a **plot**
// or **table** that shows it.
//
// The first code cell of every notebook loads the support crate by relative path (its compiled
// form is kept between kernels, so only the first run on a machine builds it).

// %%
// :dep elbo = { path = "../crates/elbo" }
use elbo::prelude::*;

// %% [markdown]
// ## The pattern on one identity
//
// **Question.** For $x \sim \mathcal{N}(\theta, 1)$, what is $\mathbb{E}[x^2]$?
//
// **Derivation.** Write $x = \theta + \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, 1)$. Then
//
// $$
// \mathbb{E}[x^2] = \mathbb{E}[\theta^2 + 2\theta\varepsilon + \varepsilon^2]
//   = \theta^2 + 2\theta\,\mathbb{E}[\varepsilon] + \mathbb{E}[\varepsilon^2] = \theta^2 + 1 .
// $$
//
// **Code.** A Monte Carlo average over $n$ draws estimates it, with standard error
// $\hat\sigma/\sqrt{n}$. The seed is explicit, so every run prints the same numbers.

// %%
use elbo::rand::{rngs::SmallRng, SeedableRng};
use elbo::rand_distr::{Distribution, StandardNormal};

let theta = 1.5_f64;
let n: usize = if fast_mode() { 20_000 } else { 200_000 };
let mut rng = SmallRng::seed_from_u64(7);
let draws: Vec<f64> = (0..n)
    .map(|_| {
        let eps: f64 = StandardNormal.sample(&mut rng);
        (theta + eps).powi(2)
    })
    .collect();
let mean = draws.iter().sum::<f64>() / n as f64;
let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
let se = (var / n as f64).sqrt();
println!("E[x²] ≈ {mean:.4} ± {se:.4} from {n} draws (exact θ² + 1 = {})", theta * theta + 1.0);

// %% [markdown]
// **Check.** The estimate must agree with $\theta^2 + 1$ within four standard errors; if the
// derivation were wrong (say $\theta^2$ alone), this cell would fail and so would the test command.

// %%
check::within_se("E[x²] = θ² + 1", mean, se, theta * theta + 1.0, 4.0);

// %% [markdown]
// **Plot.** The running estimate settles on the exact value as $n$ grows, inside its
// $\pm 2$ standard-error band.

// %%
let mut xs: Vec<f64> = Vec::new();
let mut est: Vec<f64> = Vec::new();
let mut lo: Vec<f64> = Vec::new();
let mut hi: Vec<f64> = Vec::new();
let mut s: f64 = 0.0;
let mut s2: f64 = 0.0;
for (i, d) in draws.iter().enumerate() {
    s += d;
    s2 += d * d;
    let k = (i + 1) as f64;
    if i >= 9 && (i + 1) % (n / 200) == 0 {
        let m = s / k;
        let se = ((s2 / k - m * m).max(0.0) / k).sqrt();
        xs.push(k);
        est.push(m);
        lo.push(m - 2.0 * se);
        hi.push(m + 2.0 * se);
    }
}
Chart::new("Running Monte Carlo estimate of E[x²]")
    .x_label("draws n")
    .y_label("estimate")
    .log_x()
    .line("running mean", &xs, &est)
    .band("± 2 standard errors", &xs, &lo, &hi)
    .hline("exact θ² + 1", theta * theta + 1.0)
    .render()?
    .show();

// %% [markdown]
// **Table.** polars frames show as HTML tables. A cell can also simply end with a figure or a
// table; `.show()` displays it wherever it is called.

// %%
let thetas = [0.0, 0.5, 1.0, 1.5, 2.0];
let exact: Vec<f64> = thetas.iter().map(|t| t * t + 1.0).collect();
let df = df!(
    "θ" => &thetas,
    "E[x²] exact" => &exact,
    "E[x] exact" => &thetas,
)?;
Table::new(df).caption("Moments of x ~ N(θ, 1)").decimals(2).show();
