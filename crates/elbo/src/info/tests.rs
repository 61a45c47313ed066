//! Tests of [`crate::info`](super).

use super::gaussian_kl::{exp_minus_one_minus, ratio_minus_one_minus_ln};
use super::*;
use crate::rand::rngs::StdRng;
// Named explicitly: proptest's prelude exports a `Rng` of its own (a newer rand).
use crate::rand::{Rng, SeedableRng};
use crate::rand_distr::StandardNormal;
use proptest::prelude::*;

type Build = fn(Vec<f64>) -> Result<Pmf, PmfError>;

fn pmf(v: &[f64]) -> Pmf {
    Pmf::new(v.to_vec()).unwrap()
}

// ---- construction and errors ----

#[test]
fn empty_vector_is_rejected() {
    assert_eq!(Pmf::new(Vec::<f64>::new()), Err(PmfError::Empty));
    assert_eq!(Pmf::normalize(Vec::<f64>::new()), Err(PmfError::Empty));
    assert_eq!(Pmf::uniform(0), Err(PmfError::Empty));
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(Pmf::sample_uniform(0, &mut rng), Err(PmfError::Empty));
    assert!(PmfError::Empty.to_string().contains("at least one outcome"));
}

#[test]
fn negative_entry_is_rejected_with_its_index_and_value() {
    let err = Pmf::new([0.6, -0.1, 0.5]).unwrap_err();
    assert_eq!(
        err,
        PmfError::InvalidEntry {
            index: 1,
            value: -0.1
        }
    );
    assert_eq!(
        err.to_string(),
        "entry 1 is -0.1: probabilities and weights must be finite and ≥ 0"
    );
    assert!(Pmf::normalize([1.0, -2.0]).is_err());
}

#[test]
fn nan_and_infinite_entries_are_rejected() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let builders: [Build; 2] = [|v| Pmf::new(v), |v| Pmf::normalize(v)];
        for build in builders {
            let err = build(vec![0.5, bad]).unwrap_err();
            assert!(
                matches!(err, PmfError::InvalidEntry { index: 1, .. }),
                "{bad}: {err}"
            );
        }
    }
}

#[test]
fn sum_off_one_beyond_tolerance_is_rejected() {
    let err = Pmf::new([0.5, 0.6]).unwrap_err();
    assert!(matches!(err, PmfError::NotNormalized { sum, .. } if (sum - 1.1).abs() < 1e-15));
    let msg = err.to_string();
    assert!(
        msg.contains("sum to 1.1") && msg.contains("Pmf::normalize"),
        "{msg}"
    );
    assert!(Pmf::new([0.3333, 0.3333, 0.3333]).is_err());
    assert!(Pmf::new([0.5, 0.5 + 2.0 * SUM_TOLERANCE]).is_err());
}

#[test]
fn sum_within_tolerance_is_accepted_and_rescaled_to_one() {
    let p = Pmf::new([0.5, 0.5 + 0.5 * SUM_TOLERANCE]).unwrap();
    assert!((p.probs().iter().sum::<f64>() - 1.0).abs() < 1e-15);
    let p = Pmf::new([0.1, 0.2, 0.7]).unwrap(); // sums to 0.9999999999999999
    assert!((p.probs()[2] - 0.7).abs() < 1e-15);
    // Exactly normalized input is stored bit for bit.
    assert_eq!(pmf(&[0.1, 0.9]).into_vec(), vec![0.1, 0.9]);
}

#[test]
fn normalize_divides_by_the_total() {
    assert_eq!(
        Pmf::normalize([1.0, 1.0, 2.0]).unwrap().probs(),
        &[0.25, 0.25, 0.5]
    );
    assert_eq!(
        Pmf::normalize([5.0, 6.0]).unwrap(),
        pmf(&[5.0 / 11.0, 6.0 / 11.0])
    );
}

#[test]
fn normalize_rejects_all_zero_weights() {
    let err = Pmf::normalize([0.0, 0.0, 0.0]).unwrap_err();
    assert_eq!(err, PmfError::ZeroMass { len: 3 });
    assert!(err.to_string().contains("all 3 weights are zero"));
}

#[test]
fn normalize_does_not_overflow_on_huge_weights() {
    let p = Pmf::normalize([f64::MAX, f64::MAX, 0.0]).unwrap();
    assert_eq!(p.probs(), &[0.5, 0.5, 0.0]);
    let tiny = Pmf::normalize([f64::MIN_POSITIVE, 3.0 * f64::MIN_POSITIVE]).unwrap();
    assert_eq!(tiny.probs(), &[0.25, 0.75]);
}

#[test]
fn try_from_and_display_round_trip() {
    let p = Pmf::try_from(vec![0.25, 0.75]).unwrap();
    assert_eq!(p.to_string(), "[0.25, 0.75]");
    assert!(Pmf::try_from(vec![0.5]).is_err());
}

#[test]
fn different_support_sizes_are_an_error_not_a_panic() {
    let p = pmf(&[0.5, 0.5]);
    let q = Pmf::uniform(3).unwrap();
    let want = PmfError::SupportMismatch {
        first: 2,
        second: 3,
    };
    assert_eq!(cross_entropy(&p, &q, Unit::Nats), Err(want.clone()));
    assert_eq!(kl_divergence(&p, &q, Unit::Nats), Err(want.clone()));
    assert_eq!(js_divergence(&p, &q, Unit::Nats), Err(want.clone()));
    assert_eq!(js_distance(&p, &q, Unit::Nats), Err(want.clone()));
    assert_eq!(total_variation(&p, &q), Err(want.clone()));
    assert!(
        want.to_string()
            .contains("first has 2 outcomes, the second 3")
    );
}

// ---- conventions: zeros and infinities ----

#[test]
fn zero_probability_outcomes_contribute_nothing() {
    // 0 · log 0 = 0: padding with impossible outcomes changes nothing.
    let p = pmf(&[0.2, 0.8]);
    let q = pmf(&[0.6, 0.4]);
    let p0 = pmf(&[0.2, 0.0, 0.8]);
    let q0 = pmf(&[0.6, 0.0, 0.4]);
    assert_eq!(entropy(&p0, Unit::Nats), entropy(&p, Unit::Nats));
    assert_eq!(
        cross_entropy(&p0, &q0, Unit::Nats).unwrap(),
        cross_entropy(&p, &q, Unit::Nats).unwrap()
    );
    assert_eq!(
        kl_divergence(&p0, &q0, Unit::Nats).unwrap(),
        kl_divergence(&p, &q, Unit::Nats).unwrap()
    );
    assert_eq!(entropy(&pmf(&[1.0, 0.0, 0.0]), Unit::Bits), 0.0);
}

#[test]
fn kl_is_infinite_where_q_vanishes_but_p_does_not() {
    let p = pmf(&[0.5, 0.5]);
    let q = pmf(&[1.0, 0.0]);
    assert_eq!(kl_divergence(&p, &q, Unit::Nats).unwrap(), f64::INFINITY);
    assert_eq!(kl_divergence(&p, &q, Unit::Bits).unwrap(), f64::INFINITY);
    assert_eq!(cross_entropy(&p, &q, Unit::Nats).unwrap(), f64::INFINITY);
    // The other direction is finite: q puts no mass where p has none.
    assert_eq!(kl_divergence(&q, &p, Unit::Nats).unwrap(), LN_2);
    // JS and TV stay finite and reach their maxima on disjoint supports.
    let r = pmf(&[0.0, 1.0]);
    assert!((js_divergence(&q, &r, Unit::Nats).unwrap() - LN_2).abs() < 1e-15);
    assert_eq!(total_variation(&q, &r).unwrap(), 1.0);
}

#[test]
fn kl_is_finite_for_subnormal_q() {
    // ln(p/q) would overflow p/q; the split ln p − ln q does not.
    let q = Pmf::normalize([1.0, 1e-320]).unwrap();
    let p = pmf(&[0.5, 0.5]);
    let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
    let want = 0.5 * (0.5f64 / q.probs()[0]).ln() + 0.5 * (0.5f64.ln() - q.probs()[1].ln());
    assert!(
        kl.is_finite() && (kl - want).abs() < 1e-12 * want,
        "{kl} vs {want}"
    );
}

// ---- the homework's numbers ----

#[test]
fn homework_forward_kl_is_ln_five_thirds() {
    let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
    let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
    assert!((kl - (5.0f64 / 3.0).ln()).abs() < 1e-15);
    assert!((kl - 0.510826).abs() < 5e-7);
}

#[test]
fn homework_reverse_kl_is_1_8_ln_3_minus_ln_5() {
    let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
    let kl = kl_divergence(&q, &p, Unit::Nats).unwrap();
    assert!((kl - (1.8 * 3.0f64.ln() - 5.0f64.ln())).abs() < 1e-15);
    assert!((kl - 0.368064).abs() < 5e-7);
}

#[test]
fn homework_entropies_and_cross_entropies() {
    let (p, q) = (pmf(&[0.5, 0.5]), pmf(&[0.1, 0.9]));
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    assert!(close(entropy(&p, Unit::Nats), LN_2));
    assert!(close(entropy(&p, Unit::Bits), 1.0));
    let hq = -(0.1 * 0.1f64.ln() + 0.9 * 0.9f64.ln());
    assert!(close(entropy(&q, Unit::Nats), hq));
    assert!(close(
        cross_entropy(&p, &q, Unit::Nats).unwrap(),
        (10.0f64 / 3.0).ln()
    ));
    assert!(close(cross_entropy(&q, &p, Unit::Nats).unwrap(), LN_2));
    assert!(close(total_variation(&p, &q).unwrap(), 0.4));
}

// ---- accuracy ----

#[test]
fn kl_keeps_relative_accuracy_when_p_is_close_to_q() {
    // q = (a, b) = (3/8, 5/8) and p = (a + δ, b − δ) with δ = 3·2⁻ᵏ are exact in f64, so the
    // reference D_KL(p‖q) = Σ_{j≥2} (−1)ʲ δʲ/(j(j − 1)) · (a^{1−j} + (−1)ʲ b^{1−j}) (from
    // the series of φ, summed by powers of δ) is exact to rounding. Summing p ln(p/q)
    // directly cancels two terms of size δ down to one of size δ²: at k = 32 it has no
    // correct digit left (its relative error is about 27).
    let (a, b) = (0.375_f64, 0.625_f64);
    let q = pmf(&[a, b]);
    for k in [12, 22, 32] {
        let delta = 3.0 * 2f64.powi(-k);
        let p = pmf(&[a + delta, b - delta]);
        let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
        let want: f64 = (2..12)
            .map(|j| {
                let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                let jf = f64::from(j);
                sign * delta.powi(j) / (jf * (jf - 1.0)) * (a.powi(1 - j) + sign * b.powi(1 - j))
            })
            .sum();
        assert!(
            (kl - want).abs() <= 1e-14 * want,
            "δ = {delta:e}: {kl:e} vs {want:e}"
        );
    }
}

#[test]
fn series_and_direct_branches_agree_at_the_switch() {
    for d in [-0.1 + 1e-12, 0.1 - 1e-12] {
        let series = phi_near_one(d);
        let direct = (1.0 + d) * (1.0 + d).ln() - d;
        assert!(
            (series - direct).abs() < 1e-14 * direct,
            "{series} vs {direct}"
        );
        let a = 1.0 + d;
        let series = ratio_minus_one_minus_ln(a, 1.0);
        let direct = a - 1.0 - a.ln();
        assert!((series - direct).abs() < 1e-13 * direct);
    }
    for l in [-1.0f64, 1.0] {
        let direct = l.exp_m1() - l;
        assert!((exp_minus_one_minus(l) - direct).abs() < 1e-15 * direct);
    }
}

// ---- Gaussians ----

/// ln N(x; μ, diag σ²).
fn log_density(x: &[f64], mu: &[f64], var: &[f64]) -> f64 {
    -0.5 * (0..x.len())
        .map(|i| {
            let z = x[i] - mu[i];
            (2.0 * std::f64::consts::PI * var[i]).ln() + z * z / var[i]
        })
        .sum::<f64>()
}

/// Monte Carlo estimate of D_KL(q₁‖q₂) = E_{x~q₁}[ln q₁(x) − ln q₂(x)] and its standard error.
fn kl_monte_carlo(
    (mu1, var1): (&[f64], &[f64]),
    (mu2, var2): (&[f64], &[f64]),
    n: usize,
    seed: u64,
) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    let mut x = vec![0.0; mu1.len()];
    for _ in 0..n {
        for i in 0..x.len() {
            let e: f64 = rng.sample(StandardNormal);
            x[i] = mu1[i] + var1[i].sqrt() * e;
        }
        let w = log_density(&x, mu1, var1) - log_density(&x, mu2, var2);
        sum += w;
        sum_sq += w * w;
    }
    let nf = n as f64;
    let mean = sum / nf;
    let var = (sum_sq / nf - mean * mean) * nf / (nf - 1.0);
    (mean, (var / nf).sqrt())
}

#[test]
fn gaussian_kl_matches_a_seeded_monte_carlo_estimate() {
    let (mu1, var1) = ([0.3, -1.0, 2.0], [0.5, 2.0, 1.2]);
    let (mu2, var2) = ([0.0, 0.5, 1.0], [1.0, 1.5, 0.4]);
    let exact = kl_diag_gaussians(&mu1, &var1, &mu2, &var2).unwrap();
    let (est, se) = kl_monte_carlo((&mu1, &var1), (&mu2, &var2), 200_000, 20240601);
    // Tolerance: 4 standard errors (a correct formula fails this about 1 time in 16,000
    // seeds; the seed is fixed, so the outcome is deterministic).
    assert!(
        (est - exact).abs() <= 4.0 * se,
        "MC {est} ± {se} vs exact {exact}"
    );
    // The check has teeth: the standard error is small against the answer, and plausible
    // mistakes (dropping the ½, swapping the arguments) land far outside 4 standard errors.
    assert!(se < 0.01 * exact, "se {se} too large for exact {exact}");
    let swapped = kl_diag_gaussians(&mu2, &var2, &mu1, &var1).unwrap();
    for wrong in [2.0 * exact, swapped] {
        assert!((est - wrong).abs() > 10.0 * se, "{wrong} not rejected");
    }
}

#[test]
fn standard_normal_kl_matches_monte_carlo_and_the_general_formula() {
    let mu = [0.8, -0.2];
    let log_var = [-1.5f64, 0.7];
    let var: Vec<f64> = log_var.iter().map(|l| l.exp()).collect();
    let exact = kl_to_standard_normal(&mu, &log_var).unwrap();
    let general = kl_diag_gaussians(&mu, &var, &[0.0, 0.0], &[1.0, 1.0]).unwrap();
    assert!((exact - general).abs() < 1e-14);
    let (est, se) = kl_monte_carlo((&mu, &var), (&[0.0, 0.0], &[1.0, 1.0]), 200_000, 7);
    assert!(
        (est - exact).abs() <= 4.0 * se,
        "MC {est} ± {se} vs {exact}"
    );
    assert!(se < 0.01 * exact);
}

#[test]
fn gaussian_kl_of_identical_gaussians_is_zero_and_accurate_nearby() {
    let mu = [1.0, -2.0];
    let var = [0.3, 4.0];
    assert_eq!(kl_diag_gaussians(&mu, &var, &mu, &var).unwrap(), 0.0);
    assert_eq!(kl_to_standard_normal(&[0.0], &[0.0]).unwrap(), 0.0);
    // σ₁² = 1 + δ vs 1: ½(δ − ln(1 + δ)) = δ²/4 − δ³/6 + …
    let delta = 1e-7;
    let kl = kl_diag_gaussians(&[0.0], &[1.0 + delta], &[0.0], &[1.0]).unwrap();
    let want = delta * delta / 4.0 - delta.powi(3) / 6.0;
    assert!((kl - want).abs() < 1e-8 * want, "{kl:e} vs {want:e}");
    let kl = kl_to_standard_normal(&[0.0], &[delta]).unwrap();
    let want = delta * delta / 4.0 + delta.powi(3) / 12.0;
    assert!((kl - want).abs() < 1e-8 * want, "{kl:e} vs {want:e}");
}

#[test]
fn gaussian_parameters_are_validated() {
    let err = kl_diag_gaussians(&[0.0, 1.0], &[1.0], &[0.0, 0.0], &[1.0, 1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "σ₁² has 1 entries but μ₁ has 2: all parameter vectors must have the same dimension"
    );
    let err = kl_diag_gaussians(&[0.0], &[1.0], &[0.0], &[0.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "σ₂²[0] = 0, but σ₂² must be finite and > 0"
    );
    assert!(kl_diag_gaussians(&[f64::NAN], &[1.0], &[0.0], &[1.0]).is_err());
    assert!(kl_to_standard_normal(&[0.0], &[f64::INFINITY]).is_err());
    assert!(kl_to_standard_normal(&[0.0, 1.0], &[0.0]).is_err());
    assert_eq!(kl_diag_gaussians(&[], &[], &[], &[]).unwrap(), 0.0);
}

// ---- properties ----

/// Weights with zeros, ordinary values and tiny values, at least one positive.
fn weights(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![1 => Just(0.0), 6 => 1e-3..1.0f64, 1 => 1e-12..1e-3f64],
        n,
    )
    .prop_map(|mut w| {
        if w.iter().all(|&x| x == 0.0) {
            w[0] = 1.0;
        }
        w
    })
}

fn pmf_of(n: usize) -> impl Strategy<Value = Pmf> {
    weights(n).prop_map(|w| Pmf::normalize(w).unwrap())
}

fn pair() -> impl Strategy<Value = (Pmf, Pmf)> {
    (1usize..=12).prop_flat_map(|n| (pmf_of(n), pmf_of(n)))
}

fn triple() -> impl Strategy<Value = (Pmf, Pmf, Pmf)> {
    (1usize..=8).prop_flat_map(|n| (pmf_of(n), pmf_of(n), pmf_of(n)))
}

fn pair_and_permutation() -> impl Strategy<Value = (Pmf, Pmf, Vec<usize>)> {
    (1usize..=12).prop_flat_map(|n| {
        (
            pmf_of(n),
            pmf_of(n),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        )
    })
}

/// |a − b| ≤ tol · (1 + |b|), with equal infinities equal.
fn near(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * (1.0 + b.abs())
}

fn permuted(p: &Pmf, perm: &[usize]) -> Pmf {
    Pmf::new(perm.iter().map(|&i| p.probs()[i]).collect::<Vec<_>>()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn gibbs_kl_is_nonnegative_and_zero_exactly_when_p_equals_q((p, q) in pair()) {
        let kl = kl_divergence(&p, &q, Unit::Nats).unwrap();
        prop_assert!(kl >= 0.0, "D_KL = {kl}");
        prop_assert_eq!(kl == 0.0, p == q);
        prop_assert_eq!(kl_divergence(&p, &p, Unit::Nats).unwrap(), 0.0);
        prop_assert_eq!(kl_divergence(&q, &q, Unit::Bits).unwrap(), 0.0);
    }

    #[test]
    fn cross_entropy_is_entropy_plus_kl((p, q) in pair()) {
        let h_pq = cross_entropy(&p, &q, Unit::Nats).unwrap();
        let sum = entropy(&p, Unit::Nats) + kl_divergence(&p, &q, Unit::Nats).unwrap();
        prop_assert!(near(h_pq, sum, 1e-12), "H(p,q) = {h_pq}, H(p) + D_KL = {sum}");
        prop_assert_eq!(h_pq.is_infinite(), sum.is_infinite());
    }

    #[test]
    fn bits_are_nats_over_ln_2((p, q) in pair()) {
        let pairs = [
            (entropy(&p, Unit::Bits), entropy(&p, Unit::Nats)),
            (cross_entropy(&p, &q, Unit::Bits).unwrap(), cross_entropy(&p, &q, Unit::Nats).unwrap()),
            (kl_divergence(&p, &q, Unit::Bits).unwrap(), kl_divergence(&p, &q, Unit::Nats).unwrap()),
            (js_divergence(&p, &q, Unit::Bits).unwrap(), js_divergence(&p, &q, Unit::Nats).unwrap()),
        ];
        for (bits, nats) in pairs {
            prop_assert!(near(bits, nats / LN_2, 1e-15), "{bits} bits vs {nats} nats");
        }
    }

    #[test]
    fn a_common_permutation_of_the_support_changes_nothing((p, q, perm) in pair_and_permutation()) {
        let (pp, qp) = (permuted(&p, &perm), permuted(&q, &perm));
        let u = Unit::Nats;
        prop_assert!(near(entropy(&pp, u), entropy(&p, u), 1e-13));
        let before = [
            cross_entropy(&p, &q, u).unwrap(),
            kl_divergence(&p, &q, u).unwrap(),
            js_divergence(&p, &q, u).unwrap(),
            total_variation(&p, &q).unwrap(),
        ];
        let after = [
            cross_entropy(&pp, &qp, u).unwrap(),
            kl_divergence(&pp, &qp, u).unwrap(),
            js_divergence(&pp, &qp, u).unwrap(),
            total_variation(&pp, &qp).unwrap(),
        ];
        for (a, b) in after.iter().zip(&before) {
            prop_assert!(near(*a, *b, 1e-13), "{a} vs {b}");
        }
    }

    #[test]
    fn entropy_is_between_zero_and_log_support_size((p, _q) in pair()) {
        let n = p.support_size() as f64;
        let h = entropy(&p, Unit::Nats);
        prop_assert!(h >= 0.0);
        prop_assert!(h <= n.ln() + 1e-13, "H = {h} > ln {n}");
        prop_assert!(entropy(&p, Unit::Bits) <= n.log2() + 1e-13);
        let u = Pmf::uniform(p.support_size()).unwrap();
        prop_assert!(near(entropy(&u, Unit::Nats), n.ln(), 1e-14));
    }

    #[test]
    fn js_and_tv_are_symmetric_and_bounded((p, q) in pair()) {
        let js = js_divergence(&p, &q, Unit::Bits).unwrap();
        prop_assert!((0.0..=1.0 + 1e-15).contains(&js), "JS = {js} bits");
        prop_assert!(near(js, js_divergence(&q, &p, Unit::Bits).unwrap(), 1e-15));
        let tv = total_variation(&p, &q).unwrap();
        prop_assert!((0.0..=1.0 + 1e-15).contains(&tv), "TV = {tv}");
        prop_assert_eq!(tv, total_variation(&q, &p).unwrap());
    }

    #[test]
    fn sqrt_js_and_tv_obey_the_triangle_inequality((p, q, r) in triple()) {
        let d = |a: &Pmf, b: &Pmf| js_distance(a, b, Unit::Nats).unwrap();
        prop_assert!(d(&p, &r) <= d(&p, &q) + d(&q, &r) + 1e-12);
        let t = |a: &Pmf, b: &Pmf| total_variation(a, b).unwrap();
        prop_assert!(t(&p, &r) <= t(&p, &q) + t(&q, &r) + 1e-12);
    }
}

#[test]
fn pair_quantities_are_the_six_quantities_in_order() {
    let p = Pmf::new([0.5, 0.5]).unwrap();
    let q = Pmf::new([0.1, 0.9]).unwrap();
    let six = pair_quantities(&p, &q, Unit::Bits).unwrap();
    let want = [
        1.0,
        entropy(&q, Unit::Bits),
        (10.0_f64 / 3.0).log2(),
        1.0,
        (5.0_f64 / 3.0).log2(),
        (1.8 * 3.0_f64.ln() - 5.0_f64.ln()) / LN_2,
    ];
    for (got, want) in six.iter().zip(want) {
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    }
    assert!(pair_quantities(&p, &Pmf::uniform(3).unwrap(), Unit::Nats).is_err());
}
