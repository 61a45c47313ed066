//! A standard-normal sampler inlined into the estimators' sampling loop: the ziggurat method of
//! Marsaglia & Tsang (2000, "The Ziggurat Method for Generating Random Variables", J. Stat.
//! Softw. 5(8)) with 256 layers.
//!
//! `rand_distr::StandardNormal` implements the same method, but behind a function call per
//! sample; here the fast path (one 64-bit draw, a table lookup, a multiply and a compare, taken
//! about 99% of the time) is inlined into the loop that fills a block of noise, which roughly
//! halves the cost per sample.
//!
//! **The construction.** Cover the right half of $f(x) = e^{-x^2/2}$ by 256 horizontal layers of
//! equal area v: a base layer made of the rectangle $[0, r] \times [0, f(r)]$ plus the tail
//! beyond r, and 255 rectangles stacked on it. With $x_1 = r$ and
//! $x_{i+1} = f^{-1}\!\big(f(x_i) + v/x_i\big)$ the top rectangle closes at $x_{256} = 0$ exactly
//! when $r = 3.6541528853610088$ (the constant of the paper). Layer i is sampled as
//! $x = u\,x_i$, u uniform on (−1, 1); it is accepted at once if $|x| < x_{i+1}$ (inside the part
//! of the rectangle under the curve), otherwise by comparing a uniform height with f(x) in the
//! wedge, or, in the base layer, by sampling the tail with Marsaglia's exponential method.

use crate::rand::RngCore;
use crate::rand::rngs::SmallRng;
use std::sync::OnceLock;

/// Number of layers.
const LAYERS: usize = 256;

/// Right end of the base rectangle (Marsaglia & Tsang 2000, table for 256 layers).
const R: f64 = 3.654_152_885_361_009;

/// The layer boundaries $x_0 > x_1 = r > \dots > x_{256} = 0$ (with $x_0 = v/f(r)$, the width of
/// a rectangle of the base layer's area) and their heights $f_i = f(x_i)$.
pub(crate) struct Tables {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

/// $\int_r^\infty e^{-t^2/2}\,dt = e^{-r^2/2}\, M(r)$ with Mills' ratio M evaluated by its
/// continued fraction $M(r) = 1/(r + 1/(r + 2/(r + 3/(r + \dots))))$ (backwards, 200 terms:
/// converged to rounding for r > 3).
fn tail_area(r: f64) -> f64 {
    let mut c = r;
    for k in (1..=200).rev() {
        c = r + k as f64 / c;
    }
    density(r) / c
}

impl Tables {
    fn build() -> Tables {
        let v = R * density(R) + tail_area(R);
        let mut x = [0.0; LAYERS + 1];
        x[0] = v / density(R);
        x[1] = R;
        for i in 1..LAYERS - 1 {
            let y = density(x[i]) + v / x[i];
            x[i + 1] = (-2.0 * y.ln()).sqrt();
        }
        x[LAYERS] = 0.0;
        let f = x.map(density);
        Tables { x, f }
    }

    /// The tables, built on first use.
    pub(crate) fn get() -> &'static Tables {
        static T: OnceLock<Tables> = OnceLock::new();
        T.get_or_init(Tables::build)
    }

    /// Fills `out` with independent draws from N(0, 1).
    ///
    /// Two passes per block of 256: the first takes the fast path for every slot and only notes
    /// the (about 1%) attempts that fell outside their rectangle; the second resolves those with
    /// the wedge or tail test, continuing the same attempt, so every slot still has exactly the
    /// ziggurat's distribution. The first loop makes no calls, so the generator's state stays in
    /// registers.
    #[inline]
    pub(crate) fn fill(&self, rng: &mut SmallRng, out: &mut [f64]) {
        const BLOCK: usize = 256;
        let mut pending = [(0u16, 0u8); BLOCK];
        for chunk in out.chunks_mut(BLOCK) {
            let mut local = rng.clone();
            let mut misses = 0;
            for (k, slot) in chunk.iter_mut().enumerate() {
                let bits = local.next_u64();
                let i = (bits & 0xff) as usize;
                // The top 52 bits as a mantissa: [2, 4) − 3 = [−1, 1); disjoint from i's 8 bits.
                let u = f64::from_bits(0x4000_0000_0000_0000 | (bits >> 12)) - 3.0;
                let x = u * self.x[i];
                *slot = x;
                // Branch-free bookkeeping: always write, advance only on a miss.
                pending[misses] = (k as u16, i as u8);
                misses += usize::from(x.abs() >= self.x[i + 1]); // x is never NaN
            }
            *rng = local;
            for &(k, i) in &pending[..misses] {
                let slot = &mut chunk[usize::from(k)];
                *slot = self.resolve(rng, usize::from(i), *slot);
            }
        }
    }

    /// Finishes an attempt x = u·x_i that missed its rectangle: the tail (i = 0) or the wedge
    /// test; a rejected attempt is followed by fresh attempts until one is accepted.
    #[cold]
    #[inline(never)]
    fn resolve(&self, rng: &mut SmallRng, i: usize, x: f64) -> f64 {
        if i == 0 {
            // Tail beyond r: x = −ln(U₁)/r, accepted if −2 ln U₂ > x² (Marsaglia 1964).
            loop {
                let a = -open01(rng).ln() / R;
                let b = -open01(rng).ln();
                if 2.0 * b > a * a {
                    return if x < 0.0 { -(R + a) } else { R + a };
                }
            }
        }
        let height = self.f[i] + (self.f[i + 1] - self.f[i]) * open01(rng);
        if height < density(x) {
            return x;
        }
        loop {
            let bits = rng.next_u64();
            let i = (bits & 0xff) as usize;
            let u = f64::from_bits(0x4000_0000_0000_0000 | (bits >> 12)) - 3.0;
            let x = u * self.x[i];
            if x.abs() < self.x[i + 1] {
                return x;
            }
            if i == 0 {
                return self.resolve(rng, 0, x);
            }
            let height = self.f[i] + (self.f[i + 1] - self.f[i]) * open01(rng);
            if height < density(x) {
                return x;
            }
        }
    }
}

/// A uniform draw on the open interval (0, 1): (k + ½)·2⁻⁵³ for a 53-bit integer k.
#[inline]
fn open01(rng: &mut SmallRng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeedableRng;

    #[test]
    fn the_top_layer_closes_at_zero() {
        // With the paper's r the recursion must land on x₂₅₆ = 0: f(x₂₅₅) + v/x₂₅₅ = f(0) = 1.
        let t = Tables::build();
        let v = R * density(R) + tail_area(R);
        let last = density(t.x[LAYERS - 1]) + v / t.x[LAYERS - 1];
        assert!((last - 1.0).abs() < 1e-9, "{last}");
        assert!(t.x.windows(2).all(|w| w[0] > w[1]));
        // every layer has area v: x_i (f_{i+1} − f_i) = v for i ≥ 1
        for i in 1..LAYERS {
            assert!(
                (t.x[i] * (t.f[i + 1] - t.f[i]) / v - 1.0).abs() < 1e-6,
                "layer {i}"
            );
        }
    }

    #[test]
    fn tail_area_matches_a_known_value() {
        // ∫₃^∞ e^{−t²/2} dt = √(2π)·P(Z > 3) = √(2π)·0.0013498980316300946
        let want = (2.0 * std::f64::consts::PI).sqrt() * 0.001_349_898_031_630_094_6;
        assert!((tail_area(3.0) / want - 1.0).abs() < 1e-12);
    }

    #[test]
    fn samples_have_the_moments_and_tails_of_a_standard_normal() {
        // 4·10⁶ draws. Standard errors: mean 1/√n = 5·10⁻⁴, E[ε²] √2/√n ≈ 7·10⁻⁴,
        // E[ε⁴] √96/√n ≈ 4.9·10⁻³; tail frequencies √(p(1−p)/n). Allow 5 of them.
        let t = Tables::get();
        let mut rng = SmallRng::seed_from_u64(2024);
        let n = 4_000_000;
        let mut eps = vec![0.0; n];
        t.fill(&mut rng, &mut eps);
        let (mut m1, mut m2, mut m4, mut over3, mut over_r) = (0.0, 0.0, 0.0, 0u64, 0u64);
        for &e in &eps {
            m1 += e;
            m2 += e * e;
            m4 += e * e * e * e;
            over3 += u64::from(e.abs() > 3.0);
            over_r += u64::from(e > R);
        }
        let nf = n as f64;
        let (m1, m2, m4) = (m1 / nf, m2 / nf, m4 / nf);
        assert!(m1.abs() < 5.0 / nf.sqrt(), "mean {m1}");
        assert!(
            (m2 - 1.0).abs() < 5.0 * 2f64.sqrt() / nf.sqrt(),
            "E[ε²] = {m2}"
        );
        assert!(
            (m4 - 3.0).abs() < 5.0 * 96f64.sqrt() / nf.sqrt(),
            "E[ε⁴] = {m4}"
        );
        let p3 = 2.0 * 0.001_349_898_031_630_094_6;
        let f3 = over3 as f64 / nf;
        assert!(
            (f3 - p3).abs() < 5.0 * (p3 * (1.0 - p3) / nf).sqrt(),
            "P(|ε| > 3) ≈ {f3}"
        );
        let pr = tail_area(R) / (2.0 * std::f64::consts::PI).sqrt();
        let fr = over_r as f64 / nf;
        assert!(
            (fr - pr).abs() < 5.0 * (pr / nf).sqrt(),
            "P(ε > r) ≈ {fr} vs {pr}"
        );
    }

    #[test]
    fn the_distribution_function_matches_at_many_points() {
        // Empirical CDF against Φ at x = −2.5 … 2.5, via Φ(x) = ½ + ½ sign(x)(1 − tail(|x|)·…):
        // here Φ(x) = 1 − tail_area(x)/√(2π) for x > 0 is only accurate for large x, so use
        // Gauss–Hermite-free midpoint integration of the density instead.
        let t = Tables::get();
        let mut rng = SmallRng::seed_from_u64(7);
        let n = 1_000_000;
        let grid: Vec<f64> = (-10..=10).map(|k| k as f64 * 0.25).collect();
        let mut counts = vec![0u64; grid.len()];
        let mut eps = vec![0.0; n];
        t.fill(&mut rng, &mut eps);
        for &e in &eps {
            for (c, &g) in counts.iter_mut().zip(&grid) {
                *c += u64::from(e <= g);
            }
        }
        for (c, &g) in counts.iter().zip(&grid) {
            // Φ(g) by the midpoint rule on [−12, g] with 200 000 steps
            let m = 200_000;
            let h = (g + 12.0) / m as f64;
            let phi: f64 = (0..m)
                .map(|k| density(-12.0 + (k as f64 + 0.5) * h))
                .sum::<f64>()
                * h
                / (2.0 * std::f64::consts::PI).sqrt();
            let emp = *c as f64 / n as f64;
            assert!(
                (emp - phi).abs() < 5.0 * (phi * (1.0 - phi) / n as f64).sqrt() + 1e-9,
                "Φ({g})"
            );
        }
    }
}
