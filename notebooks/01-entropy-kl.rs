// -*- coding: utf-8 -*-
// %% [markdown]
// # Question 1 — Entropy, cross-entropy and KL divergence
//
// **The question** (part 1 of the problem set). Entropy measures expected surprise. For a
// discrete random variable $Y$, the surprise of observing $Y = k$ is
//
// $$\log \frac{1}{p(Y = k)} = -\log p(Y = k),$$
//
// which tends to $\infty$ as $p(Y = k) \to 0$ and to $0$ as $p(Y = k) \to 1$. The **entropy**
// of $Y$ is the expected surprise
//
// $$H(Y) = \mathbb{E}_Y\left[-\log p(Y)\right] = -\sum_k p(Y = k) \log p(Y = k).$$
//
// The **cross-entropy** of $q$ relative to $p$ is the expected surprise when outcomes come from
// $p$ but are scored with $q$ (the problem set's first line reads $1/\log q(x)$, a typo for
// $\log\frac{1}{q(x)}$, as its second line shows):
//
// $$H(p, q) = \mathbb{E}_{p(x)}\left[\log \frac{1}{q(x)}\right] = \sum_x p(x) \log \frac{1}{q(x)}.$$
//
// The **relative entropy** or **Kullback–Leibler divergence** measures how much $q$ diverges
// from $p$:
//
// $$D_{KL}(p\|q) = \sum_x p(x) \log \frac{p(x)}{q(x)}.$$
//
// **(a)** Let $p(1) = p(-1) = 0.5$ and $q(1) = 0.1$, $q(-1) = 0.9$. Show that the KL divergence
// is not symmetric, and hence does not satisfy some intuitive attributes of distances.
//
// **(b)** Rewrite $D_{KL}(p\|q)$ in terms of the entropy $H(p)$ and the cross-entropy $H(p,q)$.

// %% [markdown]
// ## Conventions and the functions behind the equations
//
// Logarithms are natural, so amounts are in **nats**; with $\log_2$ they are in **bits**, and
// $x$ nats $= x/\ln 2$ bits. Two limits make every formula defined on any pair of distributions
// over the same outcomes:
//
// * $0 \log 0 = 0$ (the limit of $t \log t$ as $t \to 0$): outcomes that $p$ never produces
//   contribute nothing to $H(p)$, $H(p,q)$ or $D_{KL}(p\|q)$;
// * $D_{KL}(p\|q) = H(p,q) = +\infty$ when $q(x) = 0 < p(x)$ for some $x$: $q$ calls impossible
//   something that $p$ does.
//
// Everything below is computed by the support crate's module `elbo::info`:
//
// | maths | `elbo::info` |
// |---|---|
// | a distribution $p$ (validated: non-negative, sums to 1) | `Pmf::new([0.5, 0.5])?`, `Pmf::normalize(weights)?` |
// | nats or bits | `Unit::Nats`, `Unit::Bits` |
// | $H(p)$ | `entropy(&p, unit)` |
// | $H(p,q)$ | `cross_entropy(&p, &q, unit)?` |
// | $D_{KL}(p\|q)$ | `kl_divergence(&p, &q, unit)?` |
// | $JS(p,q)$, $\sqrt{JS(p,q)}$ | `js_divergence(&p, &q, unit)?`, `js_distance(&p, &q, unit)?` |
// | $TV(p,q) = \frac12\sum_x \lvert p(x) - q(x)\rvert$ | `total_variation(&p, &q)?` |
// | $[H(p), H(q), H(p,q), H(q,p), D_{KL}(p\|q), D_{KL}(q\|p)]$ | `pair_quantities(&p, &q, unit)?` |
// | $D_{KL}$ between diagonal Gaussians, in closed form | `kl_diag_gaussians`, `kl_to_standard_normal` |
//
// and, for the last section, `elbo::kl_fit` (a Gaussian mixture $p$, its moment-matched Gaussian,
// the forward and reverse divergences to a Gaussian $q$, and the reverse fit).
//
// The first cell loads the crate.

// %%
// :dep elbo = { path = "../crates/elbo" }
use elbo::prelude::*;
use elbo::info::*;
use elbo::plotters::prelude::SeriesLabelPosition;
use elbo::rand::{rngs::StdRng, SeedableRng};
use std::f64::consts::LN_2;

// %% [markdown]
// ## (a) $D_{KL}$ is not symmetric
//
// The two distributions of the question, with the outcomes listed in the order $x = 1$, $x = -1$:

// %%
let p: Pmf = Pmf::new([0.5, 0.5])?;
let q: Pmf = Pmf::new([0.1, 0.9])?;
println!("p = {p}\nq = {q}");

// %% tags=["solution"]
// Hint: D_KL(p‖q) = Σₓ p(x) ln(p(x)/q(x)); compute it both ways round (kl_divergence does the sum).
let kl_pq: f64 = kl_divergence(&p, &q, Unit::Nats)?;
let kl_qp: f64 = kl_divergence(&q, &p, Unit::Nats)?;
println!("D_KL(p‖q) = {kl_pq:.6} nats");
println!("D_KL(q‖p) = {kl_qp:.6} nats");

// %% [markdown] tags=["solution"]
// **Exact values.** Summing over the two outcomes,
//
// $$
// \begin{aligned}
// D_{KL}(p\|q) &= \tfrac12 \ln\frac{0.5}{0.1} + \tfrac12 \ln\frac{0.5}{0.9}
//   = \tfrac12 \ln\frac{0.25}{0.09} = \tfrac12 \ln\frac{25}{9} = \ln\frac53 \approx 0.510826 \text{ nats},\\
// D_{KL}(q\|p) &= 0.1 \ln\frac{0.1}{0.5} + 0.9 \ln\frac{0.9}{0.5}
//   = -0.1 \ln 5 + 0.9\,(2\ln 3 - \ln 5) = 1.8 \ln 3 - \ln 5 \approx 0.368064 \text{ nats}.
// \end{aligned}
// $$
//
// **Why they differ.** Both average the same log-ratio $\ln\frac{p(x)}{q(x)}$, but under
// different distributions: $D_{KL}(p\|q) = \mathbb{E}_p\left[\ln\frac{p}{q}\right]$ while
// $D_{KL}(q\|p) = \mathbb{E}_q\left[\ln\frac{q}{p}\right] = -\mathbb{E}_q\left[\ln\frac{p}{q}\right]$.
// Subtracting,
//
// $$
// D_{KL}(p\|q) - D_{KL}(q\|p) = \sum_x \big(p(x) + q(x)\big) \ln\frac{p(x)}{q(x)}
//   = 0.6 \ln 5 + 1.4 \ln\frac59 = 2\ln 5 - 2.8 \ln 3 \approx 0.142761 \neq 0 .
// $$
//
// The outcome $x = 1$ is where $q$ is most wrong: $p$ produces it half of the time and $q$ calls
// it a one-in-ten event. Scored with $q$ its surprise is $\ln\frac{1}{0.1}$ instead of
// $\ln\frac{1}{0.5}$: an *excess* surprise $\ln\frac{p(1)}{q(1)} = \ln 5$ each time it occurs.
// $D_{KL}(p\|q)$ weighs that log-ratio with $p(1) = 0.5$; $D_{KL}(q\|p)$ weighs it (with the
// opposite sign) with $q(1) = 0.1$, because under $q$ the outcome is rare. Which distribution does the averaging matters, so swapping the arguments changes the
// answer.
//
// **Hence not a distance.** A distance $d$ satisfies $d(p,q) \ge 0$ with equality only if $p = q$,
// symmetry $d(p,q) = d(q,p)$, and the triangle inequality $d(p,r) \le d(p,q) + d(q,r)$.
// $D_{KL}$ has the first property (Gibbs' inequality), but this pair breaks symmetry, and a
// search further down finds a triple that breaks the triangle inequality.

// %%
check::close("D_KL(p‖q) = ln(5/3)", kl_pq, (5.0_f64 / 3.0).ln(), 1e-12);
check::close("D_KL(q‖p) = 1.8 ln 3 − ln 5", kl_qp, 1.8 * 3.0_f64.ln() - 5.0_f64.ln(), 1e-12);
check::close("D_KL(p‖q) ≈ 0.510826 (6 decimals)", kl_pq, 0.510826, 5e-7);
check::close("D_KL(q‖p) ≈ 0.368064 (6 decimals)", kl_qp, 0.368064, 5e-7);
let by_definition: f64 = p.probs().iter().zip(q.probs()).map(|(a, b)| a * (a / b).ln()).sum();
check::close("kl_divergence agrees with Σ p ln(p/q) summed here", kl_pq, by_definition, 1e-15);
check::close(
    "D_KL(p‖q) − D_KL(q‖p) = 2 ln 5 − 2.8 ln 3",
    kl_pq - kl_qp,
    2.0 * 5.0_f64.ln() - 2.8 * 3.0_f64.ln(),
    1e-12,
);
check::close("… ≈ 0.142761", kl_pq - kl_qp, 0.142761, 5e-7);
check::that("so D_KL(p‖q) ≠ D_KL(q‖p): KL is not symmetric", (kl_pq - kl_qp).abs() > 0.1);

// %% [markdown]
// ## Beyond one pair: sweeping $q_t$
//
// Keep $p = (\frac12, \frac12)$ and let $q_t = (t, 1 - t)$ for $t \in (0, 1)$; part (a) is
// $t = 0.1$. Both divergences have closed forms:
//
// $$
// \begin{aligned}
// D_{KL}(p\|q_t) &= \tfrac12 \ln\frac{1/2}{t} + \tfrac12 \ln\frac{1/2}{1 - t}
//   = -\ln 2 - \tfrac12 \ln\big(t(1 - t)\big),\\
// D_{KL}(q_t\|p) &= t \ln(2t) + (1 - t)\ln\big(2(1 - t)\big) = \ln 2 - H(q_t).
// \end{aligned}
// $$
//
// They behave very differently at the ends. As $t \to 0$ the forward divergence grows without
// bound (like $-\frac12 \ln t$): $q_t$ gives almost no mass to an outcome that $p$ produces half
// of the time. The reverse divergence stays below $\ln 2$ (since $H(q_t) \ge 0$) and tends to it:
// $p$ never gives an outcome small mass, so nothing $q_t$ does is very surprising under $p$. Both
// vanish only at $t = \frac12$, where $q_t = p$, and on the whole grid the forward divergence is
// never below the reverse one. On the right, two true metrics on the same pairs: the
// Jensen–Shannon distance $\sqrt{JS}$ and the total variation $TV$, symmetric by construction
// and bounded by 1 (with $JS$ in bits).

// %%
let ts: Vec<f64> = (1..200).map(|i| f64::from(i) / 200.0).collect();
let sweep: Vec<Pmf> = ts.iter().map(|&t| Pmf::new([t, 1.0 - t])).collect::<Result<_, _>>()?;
let mut forward: Vec<f64> = Vec::new();
let mut reverse: Vec<f64> = Vec::new();
let mut js_sweep: Vec<f64> = Vec::new();
let mut js_swapped: Vec<f64> = Vec::new();
let mut tv_sweep: Vec<f64> = Vec::new();
for qt in &sweep {
    forward.push(kl_divergence(&p, qt, Unit::Nats)?);
    reverse.push(kl_divergence(qt, &p, Unit::Nats)?);
    js_sweep.push(js_distance(&p, qt, Unit::Bits)?);
    js_swapped.push(js_distance(qt, &p, Unit::Bits)?);
    tv_sweep.push(total_variation(&p, qt)?);
}

let forward_closed: Vec<f64> = ts.iter().map(|t| -LN_2 - 0.5 * (t * (1.0 - t)).ln()).collect();
let reverse_closed: Vec<f64> =
    ts.iter().map(|t| LN_2 + t * t.ln() + (1.0 - t) * (1.0 - t).ln()).collect();
check::all_close("D_KL(p‖q_t) = −ln 2 − ½ ln(t(1 − t))", &forward, &forward_closed, 1e-12);
check::all_close("D_KL(q_t‖p) = ln 2 − H(q_t)", &reverse, &reverse_closed, 1e-12);
check::close(
    "t = 0.1 is part (a): the closed form at t = 0.1 gives ln(5/3)",
    -LN_2 - 0.5 * (0.1_f64 * 0.9).ln(),
    kl_pq,
    1e-12,
);
check::that(
    "D_KL(p‖q_t) increases as t falls from ½ towards 0",
    forward[..100].windows(2).all(|w| w[0] > w[1]),
);
let tiny: Pmf = Pmf::new([1e-9, 1.0 - 1e-9])?;
check::close(
    "… without bound: D_KL(p‖q_t) at t = 1e-9 is −ln 2 − ½ ln(t(1 − t))",
    kl_divergence(&p, &tiny, Unit::Nats)?,
    -LN_2 - 0.5 * (1e-9_f64 * (1.0 - 1e-9)).ln(),
    1e-9,
);
check::le("D_KL(q_t‖p) ≤ ln 2 on the whole grid", reverse.iter().cloned().fold(0.0, f64::max), LN_2, 0.0);
check::close("D_KL(q_t‖p) → ln 2: at t = 1e-9", kl_divergence(&tiny, &p, Unit::Nats)?, LN_2, 1e-7);
check::that(
    "both vanish at t = ½ (where q_t = p) and nowhere else on the grid",
    (0..ts.len()).all(|i| (forward[i] == 0.0 && reverse[i] == 0.0) == (ts[i] == 0.5)),
);
check::that(
    "D_KL(p‖q_t) ≥ D_KL(q_t‖p) on the whole grid",
    forward.iter().zip(&reverse).all(|(f, r)| f >= r),
);
// The metrics in closed form on two outcomes, with h the binary entropy in bits:
// JS(p, q_t) = h((½ + t)/2) − ½ h(½) − ½ h(t) (entropy of the mixture minus the mean entropy),
// and TV(p, q_t) = |t − ½|.
let js_closed: Vec<f64> = {
    let h2 = |t: f64| -(t * t.log2() + (1.0 - t) * (1.0 - t).log2());
    ts.iter().map(|&t| (h2((0.5 + t) / 2.0) - 0.5 * h2(0.5) - 0.5 * h2(t)).max(0.0).sqrt()).collect()
};
check::all_close("√JS(p, q_t) = √(h((½ + t)/2) − ½ h(½) − ½ h(t)) bits", &js_sweep, &js_closed, 1e-12);
check::all_close("… and √JS(q_t, p) is the same: symmetric", &js_swapped, &js_closed, 1e-12);
let tv_closed: Vec<f64> = ts.iter().map(|&t| (t - 0.5).abs()).collect();
check::all_close("TV(p, q_t) = |t − ½|", &tv_sweep, &tv_closed, 1e-15);

Figure::hstack(&[
    Chart::new("KL between p = (½, ½) and q_t = (t, 1 − t)")
        .x_label("t = q_t(x = 1)")
        .y_label("nats")
        .size(560, 400)
        .legend(SeriesLabelPosition::UpperMiddle)
        .line("D_KL(p‖q_t)", &ts, &forward)
        .line("D_KL(q_t‖p)", &ts, &reverse)
        .hline("ln 2", LN_2)
        .points("part (a), t = 0.1", &[0.1, 0.1], &[kl_pq, kl_qp])
        .render()?,
    Chart::new("True metrics on the same pairs")
        .x_label("t = q_t(x = 1)")
        .y_label("distance")
        .size(560, 400)
        .legend(SeriesLabelPosition::UpperMiddle)
        .line("√JS(p, q_t), bits", &ts, &js_sweep)
        .line("TV(p, q_t)", &ts, &tv_sweep)
        .render()?,
])

// %% [markdown]
// ## KL breaks the triangle inequality
//
// A distance obeys $d(p,r) \le d(p,q) + d(q,r)$: a detour through $q$ is never shorter. To test
// $D_{KL}$, search all ordered triples of binary distributions $(a, 1 - a)$ with
// $a \in \{0.02, 0.04, \dots, 0.98\}$ for the largest violation
// $D_{KL}(p\|r) - D_{KL}(p\|q) - D_{KL}(q\|r)$.

// %% tags=["solution"]
// Hint: tabulate D_KL between all grid distributions (a, 1 − a) once, then scan every triple for the largest D(p‖r) − D(p‖q) − D(q‖r).
let grid: Vec<f64> = (1..50).map(|i| f64::from(i) / 50.0).collect();
let binary: Vec<Pmf> = grid.iter().map(|&a| Pmf::new([a, 1.0 - a])).collect::<Result<_, _>>()?;
let m: usize = binary.len();
let mut kl_table: Vec<Vec<f64>> = vec![vec![0.0; m]; m];
for i in 0..m {
    for j in 0..m {
        kl_table[i][j] = kl_divergence(&binary[i], &binary[j], Unit::Nats)?;
    }
}
// (i, j, k, gap): p = binary[i], q = binary[j], r = binary[k] and gap = D(p‖r) − D(p‖q) − D(q‖r).
let mut worst: (usize, usize, usize, f64) = (0, 0, 0, f64::NEG_INFINITY);
let mut kl_violations: usize = 0;
for i in 0..m {
    for j in 0..m {
        for k in 0..m {
            let gap = kl_table[i][k] - kl_table[i][j] - kl_table[j][k];
            if gap > 1e-12 {
                kl_violations += 1;
            }
            if gap > worst.3 {
                worst = (i, j, k, gap);
            }
        }
    }
}
let (tp, tq, tr): (Pmf, Pmf, Pmf) =
    (binary[worst.0].clone(), binary[worst.1].clone(), binary[worst.2].clone());
println!("largest violation: p = {tp}, q = {tq}, r = {tr}, by {:.4} nats", worst.3);
println!("{kl_violations} of {} ordered triples on the grid violate the triangle inequality", m * m * m);

// %% [markdown]
// **Why it fails.** Near $q$, a second-order Taylor expansion of $p \ln\frac{p}{q} - p + q$
// (whose sum over $x$ is $D_{KL}(p\|q)$, since $\sum_x p = \sum_x q = 1$) gives
//
// $$D_{KL}(p\|q) \approx \frac12 \sum_x \frac{\big(p(x) - q(x)\big)^2}{q(x)}:$$
//
// for nearby distributions KL behaves like a *squared* distance. Squared lengths do not add
// along a path: going half-way twice costs $2 \cdot (\frac12)^2 = \frac12$ of the direct route,
// so for nearby $p$ and $r$ with $q$ half-way between them
// $D_{KL}(p\|r) \approx 2\,\big[D_{KL}(p\|q) + D_{KL}(q\|r)\big]$, and the detour looks shorter.
// Taking a square root, as $\sqrt{JS}$ does, restores a metric, and $TV$ (half the $\ell_1$
// distance) is one outright: on two outcomes $TV\big((a, 1 - a), (c, 1 - c)\big) = \lvert a - c\rvert$
// is the distance on a line, so with $q$ between $p$ and $r$ it even holds with equality.
//
// **Exactly where it fails.** For any three distributions the difference telescopes:
// $D_{KL}(p\|r) - D_{KL}(p\|q) = \sum_x p \ln\frac{q}{r}$, so
//
// $$D_{KL}(p\|r) - D_{KL}(p\|q) - D_{KL}(q\|r) = \sum_x \big(p(x) - q(x)\big) \ln\frac{q(x)}{r(x)} .$$
//
// On two outcomes, with $a_p, a_q, a_r$ the probabilities of the first outcome and
// $\operatorname{logit} a = \ln\frac{a}{1 - a}$, this is $(a_p - a_q)(\operatorname{logit} a_q - \operatorname{logit} a_r)$:
// positive exactly when $q$ lies strictly between $p$ and $r$ (logit is increasing). On the grid
// that is $2\binom{49}{3} = 36{,}848$ of the $49^3$ ordered triples, and no others.
//
// The next cell recomputes the triple the search found from the definition of KL (not from the
// search's table), checks these claims, and compares KL with $\sqrt{JS}$ and $TV$ on the **same**
// triple and, to be sure the metrics do not pass by luck, on every one of the grid's triples. A
// check that √JS obeys the inequality means something only if a plausible wrong answer fails it:
// $JS$ without the square root is locally quadratic like KL, and the grid shows it breaking the
// inequality too.

// %%
// The triple's sides recomputed without the search's table: binary KL from its definition.
let [a_p, a_q, a_r]: [f64; 3] = [&tp, &tq, &tr].map(|d| d.probs()[0]);
let (kl_direct, kl_detour): (f64, f64) = {
    let kl2 = |a: f64, c: f64| a * (a / c).ln() + (1.0 - a) * ((1.0 - a) / (1.0 - c)).ln();
    (kl2(a_p, a_r), kl2(a_p, a_q) + kl2(a_q, a_r))
};
check::that(
    &format!("KL breaks it: D(p‖r) = {kl_direct:.4} > D(p‖q) + D(q‖r) = {kl_detour:.4} nats"),
    kl_direct > kl_detour,
);
check::close("the gap found by the search, recomputed from the definition", kl_direct - kl_detour, worst.3, 1e-12);
let logit_gap: f64 = (a_p - a_q) * ((a_q / (1.0 - a_q)).ln() - (a_r / (1.0 - a_r)).ln());
check::close("… = (a_p − a_q)(logit a_q − logit a_r)", worst.3, logit_gap, 1e-12);

// √JS and TV on every pair of grid distributions, and their sides on the same triple.
let js_table: Vec<Vec<f64>> = binary
    .iter()
    .map(|a| binary.iter().map(|b| js_distance(a, b, Unit::Bits)).collect::<Result<_, _>>())
    .collect::<Result<_, _>>()?;
let tv_table: Vec<Vec<f64>> = binary
    .iter()
    .map(|a| binary.iter().map(|b| total_variation(a, b)).collect::<Result<_, _>>())
    .collect::<Result<_, _>>()?;
let (i, j, k) = (worst.0, worst.1, worst.2);
let (js_direct, js_detour) = (js_table[i][k], js_table[i][j] + js_table[j][k]);
let (tv_direct, tv_detour) = (tv_table[i][k], tv_table[i][j] + tv_table[j][k]);
check::le("√JS obeys it on the same triple: √JS(p,r) ≤ √JS(p,q) + √JS(q,r)", js_direct, js_detour, 1e-12);
check::close("TV obeys it with equality, as q lies between p and r", tv_direct, tv_detour, 1e-12);
check::close("on two outcomes TV(p, r) = |a_p − a_r|", tv_direct, (a_p - a_r).abs(), 1e-15);

// Nearby distributions on a line: p, the half-way point q, and r.
let eps: f64 = 1e-3;
let near_p: Pmf = Pmf::new([0.5 - eps, 0.5 + eps])?;
let near_q: Pmf = Pmf::new([0.5, 0.5])?;
let near_r: Pmf = Pmf::new([0.5 + eps, 0.5 - eps])?;
let quadratic: f64 =
    near_p.probs().iter().zip(near_q.probs()).map(|(a, b)| 0.5 * (a - b).powi(2) / b).sum();
// Exactly, D_KL(p‖q) = 2ε² + (4/3)ε⁴ + …: the quadratic form is off by a relative (2/3)ε² ≈ 7e-7.
check::close_rel("nearby: D_KL(p‖q) ≈ ½ Σ (p − q)²/q", kl_divergence(&near_p, &near_q, Unit::Nats)?, quadratic, 1e-5);
let near_direct: f64 = kl_divergence(&near_p, &near_r, Unit::Nats)?;
let near_detour: f64 = kl_divergence(&near_p, &near_q, Unit::Nats)? + kl_divergence(&near_q, &near_r, Unit::Nats)?;
check::close_rel("half-way twice: D_KL(p‖r) ≈ 2 [D_KL(p‖q) + D_KL(q‖r)]", near_direct / near_detour, 2.0, 1e-4);

// Every ordered triple of the grid. JS itself (no square root) is the plausible wrong metric:
// like KL it is locally quadratic, so it must break the inequality where √JS does not.
let (mut js_violations, mut js_squared_violations, mut tv_violations): (usize, usize, usize) = (0, 0, 0);
for i in 0..m {
    for j in 0..m {
        for k in 0..m {
            js_violations += usize::from(js_table[i][k] > js_table[i][j] + js_table[j][k] + 1e-12);
            let (jik, jij, jjk) = (js_table[i][k].powi(2), js_table[i][j].powi(2), js_table[j][k].powi(2));
            js_squared_violations += usize::from(jik > jij + jjk + 1e-12);
            tv_violations += usize::from(tv_table[i][k] > tv_table[i][j] + tv_table[j][k] + 1e-12);
        }
    }
}
let triples: usize = m * m * m;
let between: usize = m * (m - 1) * (m - 2) / 3; // 2·C(m, 3) ordered triples with q strictly between p and r
check::that(&format!("KL breaks it on {kl_violations} of the {triples} grid triples: exactly the {between} with q strictly between p and r"), kl_violations == between);
check::that(&format!("JS without the square root breaks it too, on {js_squared_violations} triples"), js_squared_violations > 0);
check::that(&format!("√JS obeys it on all {triples} grid triples"), js_violations == 0);
check::that(&format!("TV obeys it on all {triples} grid triples"), tv_violations == 0);

let verdicts: Vec<&str> = [(kl_direct, kl_detour), (js_direct, js_detour), (tv_direct, tv_detour)]
    .iter()
    .map(|(direct, detour)| if *direct <= detour + 1e-12 { "holds" } else { "violated" })
    .collect();
Table::new(df!(
    "d" => ["D_KL (nats)", "√JS (bits)", "TV"],
    "d(p, r)" => [kl_direct, js_direct, tv_direct],
    "d(p, q) + d(q, r)" => [kl_detour, js_detour, tv_detour],
    "triangle inequality" => verdicts,
)?)
.caption(format!("The triangle inequality on p = {tp}, q = {tq}, r = {tr}"))
.show();

// %% [markdown]
// ## All six quantities of part (a), in nats and bits
//
// Closed forms: $H(p) = \ln 2$ (one bit, a fair coin), $H(q) = -0.1 \ln 0.1 - 0.9 \ln 0.9$,
// $H(p,q) = -\frac12(\ln 0.1 + \ln 0.9) = \ln\frac{10}{3}$, and $H(q,p) = -\sum_x q(x) \ln\frac12 = \ln 2$:
// because $p$ is uniform, every $q$ has the same cross-entropy against it. Each cross-entropy
// exceeds the entropy of its first argument by exactly the KL divergence, which part (b) proves.

// %%
// [H(p), H(q), H(p,q), H(q,p), D_KL(p‖q), D_KL(q‖p)]
let nats: [f64; 6] = pair_quantities(&p, &q, Unit::Nats)?;
let bits: [f64; 6] = pair_quantities(&p, &q, Unit::Bits)?;
let closed_forms: [f64; 6] = [
    LN_2,
    -(0.1 * 0.1_f64.ln() + 0.9 * 0.9_f64.ln()),
    (10.0_f64 / 3.0).ln(),
    LN_2,
    (5.0_f64 / 3.0).ln(),
    1.8 * 3.0_f64.ln() - 5.0_f64.ln(),
];
check::all_close("each quantity equals its closed form (nats)", &nats, &closed_forms, 1e-12);
let closed_forms_bits: [f64; 6] = [
    1.0,
    -(0.1 * 0.1_f64.log2() + 0.9 * 0.9_f64.log2()),
    (10.0_f64 / 3.0).log2(),
    1.0,
    (5.0_f64 / 3.0).log2(),
    1.8 * 3.0_f64.log2() - 5.0_f64.log2(),
];
check::all_close("each quantity equals its closed form in bits (with log₂)", &bits, &closed_forms_bits, 1e-12);
check::close("H(p) = 1 bit", bits[0], 1.0, 1e-15);
check::close("H(p, q) = H(p) + D_KL(p‖q)", nats[2], nats[0] + nats[4], 1e-12);
check::close("H(q, p) = H(q) + D_KL(q‖p)", nats[3], nats[1] + nats[5], 1e-12);
Table::new(df!(
    "quantity" => ["H(p)", "H(q)", "H(p, q)", "H(q, p)", "D_KL(p‖q)", "D_KL(q‖p)"],
    "closed form (nats)" => ["ln 2", "−0.1 ln 0.1 − 0.9 ln 0.9", "ln(10/3)", "ln 2", "ln(5/3)", "1.8 ln 3 − ln 5"],
    "nats" => nats,
    "bits" => bits,
)?)
.caption("Part (a) in numbers: p = (0.5, 0.5), q = (0.1, 0.9)")
.decimals(6)

// %% [markdown]
// ## (b) $D_{KL}$ in terms of entropy and cross-entropy

// %% [markdown] tags=["solution"]
// Split the logarithm of the ratio and distribute the sum:
//
// $$
// \begin{aligned}
// D_{KL}(p\|q) &= \sum_x p(x) \log\frac{p(x)}{q(x)} \\
//   &= \sum_x p(x) \big[\log p(x) - \log q(x)\big] \\
//   &= \sum_x p(x) \log p(x) \;-\; \sum_x p(x) \log q(x) \\
//   &= \underbrace{-H(p)}_{\sum_x p \log p} \;+\; \underbrace{H(p,q)}_{-\sum_x p \log q},
// \end{aligned}
// $$
//
// so
//
// $$\boxed{D_{KL}(p\|q) = H(p,q) - H(p)}.$$
//
// Splitting the sum is allowed because $H(p)$ is finite (finitely many outcomes, each term
// between $0$ and $1/e$). Outcomes with $p(x) = 0$ contribute nothing to any of the three sums
// ($0 \log 0 = 0$). If $q(x) = 0 < p(x)$ for some $x$, both $H(p,q)$ and $D_{KL}(p\|q)$ are
// $+\infty$ and the identity still holds.
//
// **Reading it.** The KL divergence is the *extra* surprise paid for scoring outcomes of $p$ with
// $q$: the cross-entropy minus the surprise that is unavoidable, $H(p)$. Since $D_{KL} \ge 0$
// (Gibbs), $H(p,q) \ge H(p)$ with equality only at $q = p$. And since $H(p)$ does not depend on
// $q$, minimizing the cross-entropy loss over a model $q$ is the same as minimizing
// $D_{KL}(p\|q)$: this is why classifiers are trained with cross-entropy, and why **maximum
// likelihood** is a KL minimization. With $\hat p$ the empirical distribution of data
// $x_1, \dots, x_N$, the average log-likelihood of a model $p_\theta$ is
// $\frac1N \sum_i \log p_\theta(x_i) = -H(\hat p, p_\theta) = -H(\hat p) - D_{KL}(\hat p\|p_\theta)$,
// so maximizing it minimizes the *forward* divergence $D_{KL}(\hat p\|p_\theta)$. In question 3
// this link is the VAE's **reconstruction term**: $-\mathbb E_{q}[\log p_\theta(x \mid z)]$ is a
// cross-entropy (the binary cross-entropy of the decoder's outputs), and the ELBO is a lower bound
// on the log-likelihood that maximum likelihood would maximize. The VAE's explicit **KL term**,
// $D_{KL}(q_\phi(z \mid x)\|p(z))$, is a different divergence: between the encoder's distribution
// and the prior over the latent code, in the *reverse* direction (averaged under $q_\phi$); the
// last section below shows what that direction does.

// %% tags=["solution"]
// Hint: write D_KL as the cross-entropy minus the entropy, with cross_entropy(p, q, unit) and entropy(p, unit).
fn kl_from_entropies(p: &Pmf, q: &Pmf, unit: Unit) -> Result<f64, PmfError> {
    Ok(cross_entropy(p, q, unit)? - entropy(p, unit))
}
println!("H(p,q) − H(p) = {:.6} nats for part (a)", kl_from_entropies(&p, &q, Unit::Nats)?);

// %% [markdown]
// **Check on many pairs.** Draw random pairs $(p, q)$ uniformly from the probability simplex
// (supports of 2 to 20 outcomes, a fixed seed), compute $D_{KL}(p\|q)$ directly and as
// $H(p,q) - H(p)$, and report the largest disagreement. The scatter plot shows the same pairs:
// every point lies on or above the diagonal $H(p,q) = H(p)$, at a height $D_{KL}(p\|q)$ above it.

// %%
let trials: usize = if fast_mode() { 2_000 } else { 20_000 };
let mut rng = StdRng::seed_from_u64(2024);
let mut direct: Vec<f64> = Vec::with_capacity(trials);
let mut via_entropies: Vec<f64> = Vec::with_capacity(trials);
let mut h_p: Vec<f64> = Vec::with_capacity(trials);
let mut h_pq: Vec<f64> = Vec::with_capacity(trials);
for i in 0..trials {
    let n = 2 + i % 19;
    let a = Pmf::sample_uniform(n, &mut rng)?;
    let b = Pmf::sample_uniform(n, &mut rng)?;
    direct.push(kl_divergence(&a, &b, Unit::Nats)?);
    via_entropies.push(kl_from_entropies(&a, &b, Unit::Nats)?);
    h_p.push(entropy(&a, Unit::Nats));
    h_pq.push(cross_entropy(&a, &b, Unit::Nats)?);
}
let max_error: f64 =
    direct.iter().zip(&via_entropies).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
println!("max |D_KL(p‖q) − (H(p,q) − H(p))| over {trials} random pairs: {max_error:.2e} nats");
check::all_close("D_KL(p‖q) = H(p,q) − H(p) on random pairs (nats)", &via_entropies, &direct, 1e-12);
check::close(
    "… and in bits, for part (a)",
    kl_from_entropies(&p, &q, Unit::Bits)?,
    kl_divergence(&p, &q, Unit::Bits)?,
    1e-15,
);
let certain: Pmf = Pmf::new([1.0, 0.0])?;
println!(
    "where q(x) = 0 < p(x), both sides are infinite: H(p,q) − H(p) = {}, D_KL(p‖q) = {} nats",
    kl_from_entropies(&p, &certain, Unit::Nats)?,
    kl_divergence(&p, &certain, Unit::Nats)?,
);
let worst_gap: f64 =
    h_p.iter().zip(&h_pq).map(|(h, c)| h - c).fold(f64::NEG_INFINITY, f64::max);
check::le("H(p) ≤ H(p,q) for every pair (the largest H(p) − H(p,q) is ≤ 0)", worst_gap, 0.0, 0.0);

let shown: usize = trials.min(2_000);
let top: f64 = h_p[..shown].iter().cloned().fold(0.0, f64::max);
Chart::new("Cross-entropy never falls below entropy")
    .x_label("H(p) (nats)")
    .y_label("H(p, q) (nats)")
    .legend(SeriesLabelPosition::UpperLeft)
    .points("random pairs (p, q)", &h_p[..shown], &h_pq[..shown])
    .dashed("H(p, q) = H(p)", &[0.0, top], &[0.0, top])
    .render()?

// %% [markdown]
// ## Invalid input is an error, not a wrong number
//
// `Pmf::new` rejects vectors that are not distributions: empty, a negative, NaN or infinite
// entry, or entries that do not sum to 1 within $10^{-9}$. Comparing distributions over
// different numbers of outcomes is an error too. `Pmf::normalize` is the explicit way to turn
// weights into probabilities.

// %%
check::fails("p = [0.5, 0.6]", Pmf::new([0.5, 0.6]));
check::fails("a negative probability", Pmf::new([1.2, -0.2]));
check::fails(
    "D_KL between distributions over 2 and 3 outcomes",
    kl_divergence(&p, &Pmf::uniform(3)?, Unit::Nats),
);
let rescaled: Pmf = Pmf::normalize([0.5, 0.6])?;
check::all_close(
    "Pmf::normalize([0.5, 0.6]) = (5/11, 6/11)",
    rescaled.probs(),
    &[5.0 / 11.0, 6.0 / 11.0],
    1e-15,
);
// The convention, not a large finite number from a clipped logarithm (ln 1e-12 would give 13.5 nats):
let ruled_out: f64 = kl_divergence(&p, &certain, Unit::Nats)?;
check::that(&format!("D_KL(p‖(1, 0)) = {ruled_out}: q rules out an outcome p produces"), ruled_out == f64::INFINITY);
check::close(
    "D_KL((1, 0)‖p) = ln 2: the other way round is finite",
    kl_divergence(&certain, &p, Unit::Nats)?,
    LN_2,
    1e-15,
);

// %% [markdown]
// ## Looking ahead: the same divergence between Gaussians
//
// Question 3's VAE regularizes its encoder $q(z \mid x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$
// towards the prior $p(z) = \mathcal{N}(0, I)$ with the continuous analogue of
// $\sum_x p \log\frac{p}{q}$, an integral instead of a sum:
// $D_{KL}(q\|p) = \mathbb{E}_{z \sim q}[\ln q(z) - \ln p(z)]$. For Gaussians it has a closed form,
// because the log-density of a Gaussian is a *quadratic* in $z$, and the expectation of a
// quadratic needs only the first two moments of $q$. In three lines, per coordinate $i$:
//
// $$
// \begin{aligned}
// \ln q(z) - \ln p(z) &= \sum_i \Big[-\tfrac12 \ln \sigma_i^2 - \frac{(z_i - \mu_i)^2}{2\sigma_i^2} + \frac{z_i^2}{2}\Big]
//   \qquad (\text{the } \ln 2\pi \text{ terms cancel}),\\
// \mathbb{E}_q\big[(z_i - \mu_i)^2\big] &= \sigma_i^2, \qquad \mathbb{E}_q\big[z_i^2\big] = \mu_i^2 + \sigma_i^2,\\
// D_{KL}\big(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal{N}(0, I)\big)
//   &= \tfrac12 \sum_i \big(\mu_i^2 + \sigma_i^2 - 1 - \ln \sigma_i^2\big).
// \end{aligned}
// $$
//
// Each term is $\ge 0$ ($\mu_i^2 \ge 0$ and $t - 1 - \ln t \ge 0$ for $t = \sigma_i^2 > 0$) and vanishes
// only at $\mu_i = 0$, $\sigma_i = 1$. Two independent routes check the formula: Gauss–Hermite
// quadrature of the expectation (exact here, since the integrand is a polynomial of degree 2 in
// the noise), and a seeded Monte Carlo average of $\ln q(z) - \ln p(z)$ over $z \sim q$, within
// its standard error.

// %%
use elbo::estimators::{Estimate, GaussHermite, RunningMean};
use elbo::gaussian::{DiagGaussian, Gaussian};

let mu: [f64; 2] = [0.8_f64, -0.3];
let log_var: [f64; 2] = [-1.0_f64, 0.5];
let exact: f64 = kl_to_standard_normal(&mu, &log_var)?;
let var: Vec<f64> = log_var.iter().map(|l| l.exp()).collect();
check::close("log-variance form = general diagonal-Gaussian form", exact, kl_diag_gaussians(&mu, &var, &[0.0, 0.0], &[1.0, 1.0])?, 1e-14);
// Quadrature, coordinate by coordinate: E_{ε~N(0,1)}[ln N(μ + σε; μ, σ²) − ln N(μ + σε; 0, 1)].
let rule: GaussHermite = GaussHermite::new(4)?;
let mut by_quadrature: f64 = 0.0;
for i in 0..2 {
    let (qi, pi) = (Gaussian::new(mu[i], (0.5 * log_var[i]).exp())?, Gaussian::standard());
    by_quadrature += rule.expectation(qi, |z| qi.log_density(z) - pi.log_density(z));
}
check::close("closed form = Gauss–Hermite quadrature of E_q[ln q − ln p]", exact, by_quadrature, 1e-12);
// Monte Carlo: draws z ~ q, the average of ln q(z) − ln p(z) and its standard error.
let q_enc: DiagGaussian = DiagGaussian::from_log_var(Array1::from(mu.to_vec()), ArrayView1::from(&log_var))?;
let z: Array2<f64> = q_enc.sample(if fast_mode() { 20_000 } else { 200_000 }, 3)?;
let log_ratio: Array1<f64> = q_enc.log_density_rows(z.view())? - DiagGaussian::standard(2)?.log_density_rows(z.view())?;
let mut mc = RunningMean::new();
mc.extend_from_slice(&log_ratio.to_vec());
let mc: Estimate = mc.estimate();
check::within_se("Monte Carlo E_q[ln q − ln p] = closed-form D_KL", mc.mean, mc.std_error, exact, 4.0);

// %% [markdown]
// ## Forward against reverse KL: fitting one Gaussian to two modes
//
// Asymmetry is not a curiosity: which direction is minimized decides what an approximation looks
// like. Take a bimodal target, the mixture
// $p(x) = 0.6\,\mathcal N(x; -3, 0.5^2) + 0.4\,\mathcal N(x; 3, 0.8^2)$, and ask for the single
// Gaussian $q = \mathcal N(\mu, \sigma^2)$ closest to it in each direction.
//
// **Forward, $\min_q D_{KL}(p\|q)$: moment matching.** $D_{KL}(p\|q) = -H(p) - \mathbb E_p[\ln q]$,
// and $H(p)$ does not depend on $q$. With $\ln q(x) = -\frac12\ln(2\pi\sigma^2) - \frac{(x - \mu)^2}{2\sigma^2}$,
//
// $$-\mathbb E_p[\ln q] = \tfrac12\ln(2\pi\sigma^2) + \frac{\operatorname{Var}_p[x] + (\mathbb E_p[x] - \mu)^2}{2\sigma^2},$$
//
// minimized by $\mu = \mathbb E_p[x]$, and then (derivative in $\sigma^2$:
// $\frac{1}{2\sigma^2} - \frac{\operatorname{Var}_p[x]}{2\sigma^4} = 0$) by $\sigma^2 = \operatorname{Var}_p[x]$.
// For the mixture, $\mathbb E_p[x] = \sum_k w_k m_k = -0.6$ and, by the law of total variance,
// $\operatorname{Var}_p[x] = \sum_k w_k\big(s_k^2 + (m_k - \mathbb E_p x)^2\big) = 9.046$. The average is
// under $p$, so wherever $p$ has mass and $q$ has almost none, $\ln\frac{p}{q}$ is huge: $q$ must
// **cover** every mode, and puts its peak in the valley between them, where $p$ has almost no mass.
//
// **Reverse, $\min_q D_{KL}(q\|p)$: mode seeking.** $D_{KL}(q\|p) = -H(q) - \mathbb E_q[\ln p]$ with
// $H(q) = \frac12\ln(2\pi e\sigma^2)$, but $\mathbb E_q[\ln p]$ is the expectation of the log of a
// *sum* and has no closed form, so we minimize numerically over $(\mu, \ln\sigma)$, with the
// expectation by quadrature and its exact gradient by the reparameterization of question 2,
// $\nabla_\mu D = -\mathbb E_\varepsilon[(\ln p)'(\mu + \sigma\varepsilon)]$. Now the average is under
// $q$: wherever $q$ has mass and $p$ has almost none, $-\ln p$ is huge, so $q$ avoids the valley
// and **sits on one mode**. Each mode is a local minimum; if $q$ matches component $k$, then
// $p \approx w_k\,\mathcal N(m_k, s_k^2) = w_k q$ wherever $q$ has mass and
// $D_{KL}(q\|p) \approx \ln\frac{1}{w_k}$: the heavier mode wins, with $\ln\frac{1}{0.6} = 0.511$ nats.
//
// The module `elbo::kl_fit` computes both: `Mixture::moment_match`, `Mixture::fit_reverse_kl_from_modes`
// (Newton's method started on each mode, local minima sorted by divergence), and the two
// divergences `forward_kl`, `reverse_kl`.

// %%
use elbo::kl_fit::{KlDirection, KlFit, Mixture};
let target: Mixture = Mixture::new(&[0.6, 0.4], &[-3.0, 3.0], &[0.5, 0.8])?;
let covering: Gaussian = target.moment_match()?;
let fits: Vec<KlFit> = target.fit_reverse_kl_from_modes()?;
let seeking: Gaussian = fits[0].q;
for (name, q) in [("argmin D(p‖q), moment matching", covering), ("argmin D(q‖p), best local minimum", seeking), ("the other local minimum of D(q‖p)", fits[1].q)] {
    println!("{name:34}: μ = {:7.4}, σ = {:.4};  D(p‖q) = {:.4}, D(q‖p) = {:.4} nats",
        q.mean(), q.std_dev(), target.forward_kl(q), target.reverse_kl(q));
}

// %% [markdown]
// **Checks.** The moment-matched $q$ must have the mixture's mean and variance computed by an
// independent route (a seeded sample of $10^6$ draws from $p$, within standard errors), and be a
// stationary point of $D_{KL}(p\|q)$ (a finite-difference gradient, which never sees the formula,
// is zero). The reverse fit must sit on the heavier mode with $D_{KL}(q\|p) \approx \ln\frac1{0.6}$,
// be a stationary point by finite differences, and beat moment matching in its own direction,
// while losing in the other. Both divergences, computed by quadrature, must agree with seeded
// Monte Carlo averages of the log-ratio.

// %%
use elbo::estimators::central_difference;
// Forward: moment matching, against a sample of p and by finite differences.
let xs: Vec<f64> = target.sample(if fast_mode() { 200_000 } else { 1_000_000 }, 8)?;
let (mut m1, mut m2, mut fwd_mc) = (RunningMean::new(), RunningMean::new(), RunningMean::new());
for &x in &xs {
    m1.push(x);
    m2.push((x + 0.6).powi(2));
    fwd_mc.push(target.log_density(x) - covering.log_density(x));
}
let (m1, m2, fwd_mc): (Estimate, Estimate, Estimate) = (m1.estimate(), m2.estimate(), fwd_mc.estimate());
check::within_se("moment matching: μ = E_p[x] = −0.6 (sample of p)", m1.mean, m1.std_error, covering.mean(), 4.0);
check::within_se("moment matching: σ² = Var_p[x] = 9.046 (sample of p)", m2.mean, m2.std_error, covering.variance(), 4.0);
let fd_forward: [f64; 2] = central_difference(|t| target.kl_at(KlDirection::Forward, t), [covering.mean(), covering.std_dev().ln()], 1e-5);
check::le("moment matching is stationary for D(p‖q): |finite-difference gradient| ≈ 0", fd_forward[0].hypot(fd_forward[1]), 1e-7, 0.0);
check::within_se("D(p‖q_mm) by quadrature = Monte Carlo E_p[ln p − ln q]", fwd_mc.mean, fwd_mc.std_error, target.forward_kl(covering), 4.0);

// %%
// Reverse: the fit sits on a mode, is stationary, and each fit wins its own direction.
check::close("the reverse fit sits on the heavier mode: μ = −3", seeking.mean(), -3.0, 1e-3);
check::close("… with its width: σ = 0.5", seeking.std_dev(), 0.5, 1e-3);
check::close("… and D(q‖p) ≈ ln(1/0.6)", fits[0].kl, (1.0 / 0.6_f64).ln(), 1e-4);
check::close("the other local minimum sits on the lighter mode: μ = 3", fits[1].q.mean(), 3.0, 1e-3);
check::close("… with D(q‖p) ≈ ln(1/0.4)", fits[1].kl, (1.0 / 0.4_f64).ln(), 1e-3);
let fd_reverse: [f64; 2] = central_difference(|t| target.kl_at(KlDirection::Reverse, t), [seeking.mean(), seeking.std_dev().ln()], 1e-5);
check::le("the reverse fit is stationary for D(q‖p): |finite-difference gradient| ≈ 0", fd_reverse[0].hypot(fd_reverse[1]), 1e-7, 0.0);
check::le("mode seeking wins its own direction: D(q_rev‖p) < D(q_mm‖p) − 1", fits[0].kl, target.reverse_kl(covering) - 1.0, 0.0);
check::le("moment matching wins the other: D(p‖q_mm) < D(p‖q_rev) − 1", target.forward_kl(covering), target.forward_kl(seeking) - 1.0, 0.0);
let mut rev_mc = RunningMean::new();
covering.sample(xs.len(), 9)?.iter().for_each(|&x| rev_mc.push(covering.log_density(x) - target.log_density(x)));
let rev_mc: Estimate = rev_mc.estimate();
check::within_se("D(q_mm‖p) by quadrature = Monte Carlo E_q[ln q − ln p]", rev_mc.mean, rev_mc.std_error, target.reverse_kl(covering), 4.0);

// %%
let grid_x: Vec<f64> = (0..=600).map(|i| -8.0 + 16.0 * f64::from(i) / 600.0).collect();
let densities: Vec<Vec<f64>> = [covering, seeking, fits[1].q]
    .iter()
    .map(|q| grid_x.iter().map(|&x| q.log_density(x).exp()).collect())
    .collect();
Chart::new("One Gaussian fitted to two modes, in each direction of KL")
    .x_label("x")
    .y_label("density")
    .size(760, 420)
    .y_range(0.0, 1.3)
    .legend(SeriesLabelPosition::UpperRight)
    .line("target p: 0.6 N(−3, 0.5²) + 0.4 N(3, 0.8²)", &grid_x, grid_x.iter().map(|&x| target.density(x)).collect::<Vec<f64>>())
    .line("argmin D(p‖q): moment matching, mass-covering", &grid_x, &densities[0])
    .line("argmin D(q‖p): mode-seeking", &grid_x, &densities[1])
    .dashed("other local minimum of D(q‖p)", &grid_x, &densities[2])
    .render()?
    .show();

// %% [markdown]
// The moment-matched Gaussian (forward KL) is wide and centred at $-0.6$, in the valley between
// the modes: it gives every draw of $p$ reasonable density, at the price of putting most of its own
// mass where $p$ has almost none. The reverse-KL fit is the heavier component itself: it ignores
// the other mode entirely, and from a start on the lighter mode it stays there (a worse local
// minimum, $\ln\frac1{0.4} = 0.916$ nats).
//
// **Why this matters for the VAE.** The ELBO of question 3 is
// $\log p_\theta(x) - D_{KL}\big(q_\phi(z \mid x)\,\|\,p_\theta(z \mid x)\big)$, so maximizing it over
// the encoder minimizes the **reverse** divergence from $q_\phi$ to the true posterior. With a
// Gaussian $q_\phi$ and a posterior that is multimodal or elongated, the encoder behaves like the
// mode-seeking fit above: it locks onto one mode and is **under-dispersed**, narrower than the
// posterior, rather than spreading over all of it. Its samples look plausible, but it
// underestimates the posterior's uncertainty, and the bound is loose by exactly the divergence
// the mode-seeking fit leaves behind.

// %% [markdown]
// ## Summary
//
// * (a) $D_{KL}(p\|q) = \ln\frac53 \approx 0.510826$ nats but $D_{KL}(q\|p) = 1.8\ln 3 - \ln 5
//   \approx 0.368064$ nats: the divergence averages the log-ratio under its first argument, so
//   it is not symmetric. Sweeping $q_t$ shows how far apart the two directions can be (one
//   unbounded, the other below $\ln 2$), and a grid search finds triples where it also breaks the
//   triangle inequality, while $\sqrt{JS}$ and $TV$ do not. KL is a divergence, not a distance.
// * (b) $D_{KL}(p\|q) = H(p,q) - H(p)$: the extra surprise of coding $p$ with $q$. Checked on
//   random pairs to rounding error; with Gibbs' inequality it gives $H(p,q) \ge H(p)$. Minimizing a
//   cross-entropy, as maximum likelihood does, minimizes the forward divergence from the data.
// * Between Gaussians the divergence has a closed form, because Gaussian log-densities are
//   quadratic; that is the KL term of the VAE.
// * Fitting one Gaussian to two modes: the forward divergence $D_{KL}(p\|q)$ is minimized by
//   moment matching and covers both modes; the reverse divergence $D_{KL}(q\|p)$, the one a VAE's
//   encoder minimizes against the posterior, seeks a single mode.
