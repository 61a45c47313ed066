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
//
// The first cell loads the crate (the `:cache` line lets later kernels reuse its compiled
// dependencies).

// %%
// :cache 4096
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
// it a one-in-ten event, a surprise of $\ln 5$ each time. $D_{KL}(p\|q)$ weighs that surprise
// with $p(1) = 0.5$; $D_{KL}(q\|p)$ weighs it with $q(1) = 0.1$, because under $q$ the outcome is
// rare. Which distribution does the averaging matters, so swapping the arguments changes the
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
check::all_close("√JS is symmetric: √JS(p, q_t) = √JS(q_t, p)", &js_sweep, &js_swapped, 1e-15);
check::le("√JS ≤ 1 (bits)", js_sweep.iter().cloned().fold(0.0, f64::max), 1.0, 0.0);
check::le("TV ≤ 1", tv_sweep.iter().cloned().fold(0.0, f64::max), 1.0, 0.0);

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
// The next cell recomputes the triple the search found from scratch, checks these claims, and
// compares KL with $\sqrt{JS}$ and $TV$ on the **same** triple and, to be sure the metrics do not
// pass by luck, on every one of the grid's triples.

// %%
fn sides(
    d: impl Fn(&Pmf, &Pmf) -> Result<f64, PmfError>,
    p: &Pmf,
    q: &Pmf,
    r: &Pmf,
) -> Result<(f64, f64), PmfError> {
    // (d(p, r), d(p, q) + d(q, r)): the direct route and the detour through q.
    Ok((d(p, r)?, d(p, q)? + d(q, r)?))
}
let (kl_direct, kl_detour) = sides(|a, b| kl_divergence(a, b, Unit::Nats), &tp, &tq, &tr)?;
let (js_direct, js_detour) = sides(|a, b| js_distance(a, b, Unit::Bits), &tp, &tq, &tr)?;
let (tv_direct, tv_detour) = sides(|a, b| total_variation(a, b), &tp, &tq, &tr)?;
check::that(
    &format!("KL breaks it: D(p‖r) = {kl_direct:.4} > D(p‖q) + D(q‖r) = {kl_detour:.4} nats"),
    kl_direct > kl_detour,
);
check::close("the gap found by the search, recomputed", kl_direct - kl_detour, worst.3, 1e-12);
check::le("√JS obeys it on the same triple: √JS(p,r) ≤ √JS(p,q) + √JS(q,r)", js_direct, js_detour, 1e-12);
check::le("TV obeys it on the same triple: TV(p,r) ≤ TV(p,q) + TV(q,r)", tv_direct, tv_detour, 1e-12);
check::close("… with equality, as q lies between p and r", tv_direct, tv_detour, 1e-12);
check::close("on two outcomes TV(p, r) = |a_p − a_r|", tv_direct, (tp.probs()[0] - tr.probs()[0]).abs(), 1e-15);

// Nearby distributions on a line: p, the half-way point q, and r.
let eps: f64 = 1e-3;
let near_p: Pmf = Pmf::new([0.5 - eps, 0.5 + eps])?;
let near_q: Pmf = Pmf::new([0.5, 0.5])?;
let near_r: Pmf = Pmf::new([0.5 + eps, 0.5 - eps])?;
let quadratic: f64 =
    near_p.probs().iter().zip(near_q.probs()).map(|(a, b)| 0.5 * (a - b).powi(2) / b).sum();
check::close_rel(
    "nearby: D_KL(p‖q) ≈ ½ Σ (p − q)²/q",
    kl_divergence(&near_p, &near_q, Unit::Nats)?,
    quadratic,
    1e-3,
);
let (near_direct, near_detour) =
    sides(|a, b| kl_divergence(a, b, Unit::Nats), &near_p, &near_q, &near_r)?;
check::close_rel(
    "half-way twice: D_KL(p‖r) ≈ 2 [D_KL(p‖q) + D_KL(q‖r)]",
    near_direct / near_detour,
    2.0,
    1e-2,
);

let js_table: Vec<Vec<f64>> = binary
    .iter()
    .map(|a| binary.iter().map(|b| js_distance(a, b, Unit::Bits)).collect::<Result<_, _>>())
    .collect::<Result<_, _>>()?;
let tv_table: Vec<Vec<f64>> = binary
    .iter()
    .map(|a| binary.iter().map(|b| total_variation(a, b)).collect::<Result<_, _>>())
    .collect::<Result<_, _>>()?;
let (mut js_violations, mut tv_violations): (usize, usize) = (0, 0);
for i in 0..m {
    for j in 0..m {
        for k in 0..m {
            js_violations += usize::from(js_table[i][k] > js_table[i][j] + js_table[j][k] + 1e-12);
            tv_violations += usize::from(tv_table[i][k] > tv_table[i][j] + tv_table[j][k] + 1e-12);
        }
    }
}
let triples: usize = m * m * m;
check::that(&format!("KL breaks it on {kl_violations} of the {triples} grid triples"), kl_violations > 0);
check::that(&format!("√JS obeys it on all {triples} grid triples"), js_violations == 0);
check::that(&format!("TV obeys it on all {triples} grid triples"), tv_violations == 0);

fn verdict(direct: f64, detour: f64) -> &'static str {
    if direct <= detour + 1e-12 { "holds" } else { "violated" }
}
Table::new(df!(
    "d" => ["D_KL (nats)", "√JS (bits)", "TV"],
    "d(p, r)" => [kl_direct, js_direct, tv_direct],
    "d(p, q) + d(q, r)" => [kl_detour, js_detour, tv_detour],
    "triangle inequality" => [
        verdict(kl_direct, kl_detour),
        verdict(js_direct, js_detour),
        verdict(tv_direct, tv_detour),
    ],
)?)
.caption(format!("The triangle inequality on p = {tp}, q = {tq}, r = {tr}"))

// %% [markdown]
// ## All six quantities of part (a), in nats and bits
//
// Closed forms: $H(p) = \ln 2$ (one bit, a fair coin), $H(q) = -0.1 \ln 0.1 - 0.9 \ln 0.9$,
// $H(p,q) = -\frac12(\ln 0.1 + \ln 0.9) = \ln\frac{10}{3}$, and $H(q,p) = -\sum_x q(x) \ln\frac12 = \ln 2$:
// because $p$ is uniform, every $q$ has the same cross-entropy against it. Each cross-entropy
// exceeds the entropy of its first argument by exactly the KL divergence, which part (b) proves.

// %%
fn quantities(p: &Pmf, q: &Pmf, unit: Unit) -> Result<Vec<f64>, PmfError> {
    Ok(vec![
        entropy(p, unit),
        entropy(q, unit),
        cross_entropy(p, q, unit)?,
        cross_entropy(q, p, unit)?,
        kl_divergence(p, q, unit)?,
        kl_divergence(q, p, unit)?,
    ])
}
let nats: Vec<f64> = quantities(&p, &q, Unit::Nats)?;
let bits: Vec<f64> = quantities(&p, &q, Unit::Bits)?;
let closed_forms: Vec<f64> = vec![
    LN_2,
    -(0.1 * 0.1_f64.ln() + 0.9 * 0.9_f64.ln()),
    (10.0_f64 / 3.0).ln(),
    LN_2,
    (5.0_f64 / 3.0).ln(),
    1.8 * 3.0_f64.ln() - 5.0_f64.ln(),
];
check::all_close("each quantity equals its closed form (nats)", &nats, &closed_forms, 1e-12);
let nats_over_ln2: Vec<f64> = nats.iter().map(|x| x / LN_2).collect();
check::all_close("bits = nats / ln 2", &bits, &nats_over_ln2, 1e-15);
check::close("H(p) = 1 bit", bits[0], 1.0, 1e-15);
check::close("H(q, p) = ln 2 (p is uniform)", nats[3], LN_2, 1e-15);
check::close("H(p, q) = H(p) + D_KL(p‖q)", nats[2], nats[0] + nats[4], 1e-12);
check::close("H(q, p) = H(q) + D_KL(q‖p)", nats[3], nats[1] + nats[5], 1e-12);
Table::new(df!(
    "quantity" => ["H(p)", "H(q)", "H(p, q)", "H(q, p)", "D_KL(p‖q)", "D_KL(q‖p)"],
    "closed form (nats)" => ["ln 2", "−0.1 ln 0.1 − 0.9 ln 0.9", "ln(10/3)", "ln 2", "ln(5/3)", "1.8 ln 3 − ln 5"],
    "nats" => &nats,
    "bits" => &bits,
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
// $D_{KL}(p\|q)$: this is why classifiers are trained with cross-entropy, and it is the KL term
// of the VAE's objective in question 3.

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
check::close(
    "… and where q(x) = 0 < p(x): both sides are +∞",
    kl_from_entropies(&p, &certain, Unit::Nats)?,
    kl_divergence(&p, &certain, Unit::Nats)?,
    0.0,
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
check::close(
    "D_KL(p‖(1, 0)) = +∞: q rules out an outcome p produces",
    kl_divergence(&p, &certain, Unit::Nats)?,
    f64::INFINITY,
    0.0,
);
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
// towards the prior $\mathcal{N}(0, I)$ with
//
// $$
// D_{KL}\big(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal{N}(0, I)\big)
//   = \tfrac12 \sum_i \big(\mu_i^2 + \sigma_i^2 - 1 - \ln \sigma_i^2\big),
// $$
//
// the continuous analogue of $\sum_x p \log\frac{p}{q}$ (an integral instead of a sum), in closed
// form. Its definition as an expectation, $\mathbb{E}_{z \sim q}[\ln q(z) - \ln p(z)]$, gives a
// Monte Carlo estimate to check it against.

// %%
use elbo::rand_distr::{Distribution, StandardNormal};

let mu: [f64; 2] = [0.8_f64, -0.3];
let log_var: [f64; 2] = [-1.0_f64, 0.5];
let exact: f64 = kl_to_standard_normal(&mu, &log_var)?;
let var: Vec<f64> = log_var.iter().map(|l| l.exp()).collect();
check::close(
    "log-variance form = general diagonal-Gaussian form",
    exact,
    kl_diag_gaussians(&mu, &var, &[0.0, 0.0], &[1.0, 1.0])?,
    1e-14,
);
let draws: usize = if fast_mode() { 20_000 } else { 200_000 };
let mut gauss_rng = StdRng::seed_from_u64(3);
let log_ratios: Vec<f64> = (0..draws)
    .map(|_| {
        // z = μ + σ ε, and ln q(z) − ln N(z; 0, I) = Σᵢ (−½ ln σᵢ² − ½ εᵢ² + ½ zᵢ²).
        (0..2)
            .map(|i| {
                let eps: f64 = StandardNormal.sample(&mut gauss_rng);
                let z = mu[i] + (0.5 * log_var[i]).exp() * eps;
                -0.5 * log_var[i] - 0.5 * eps * eps + 0.5 * z * z
            })
            .sum::<f64>()
    })
    .collect();
let mc_mean: f64 = log_ratios.iter().sum::<f64>() / draws as f64;
let mc_var: f64 = log_ratios.iter().map(|w| (w - mc_mean).powi(2)).sum::<f64>() / (draws as f64 - 1.0);
let mc_se: f64 = (mc_var / draws as f64).sqrt();
check::within_se("Monte Carlo E_q[ln q − ln p] = closed-form D_KL", mc_mean, mc_se, exact, 4.0);

// %% [markdown]
// ## Summary
//
// * (a) $D_{KL}(p\|q) = \ln\frac53 \approx 0.510826$ nats but $D_{KL}(q\|p) = 1.8\ln 3 - \ln 5
//   \approx 0.368064$ nats: the divergence averages the log-ratio under its first argument, so
//   it is not symmetric. Sweeping $q_t$ shows how far apart the two directions can be (one
//   unbounded, the other below $\ln 2$), and a grid search finds triples where it also breaks the
//   triangle inequality, while $\sqrt{JS}$ and $TV$ do not. KL is a divergence, not a distance.
// * (b) $D_{KL}(p\|q) = H(p,q) - H(p)$: the extra surprise of coding $p$ with $q$. Checked on
//   random pairs to rounding error; with Gibbs' inequality it gives $H(p,q) \ge H(p)$.
