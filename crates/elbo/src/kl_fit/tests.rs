//! Tests of [`crate::kl_fit`](super).

use super::*;
use crate::estimators::{GaussHermite, RunningMean, central_difference};

fn bimodal() -> Mixture {
    Mixture::new(&[0.6, 0.4], &[-3.0, 3.0], &[0.5, 0.8]).unwrap()
}

/// ∫ f on [lo, hi] by composite Simpson with n (even) intervals: an independent route.
fn simpson(f: impl Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
    let h = (hi - lo) / n as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..n {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(lo + h * i as f64);
    }
    s * h / 3.0
}

#[test]
fn bad_input_is_a_typed_error() {
    assert_eq!(Mixture::new(&[], &[], &[]), Err(KlFitError::Empty));
    assert!(matches!(
        Mixture::new(&[0.5, 0.5], &[0.0], &[1.0, 1.0]),
        Err(KlFitError::Length { what: "means", .. })
    ));
    assert!(matches!(
        Mixture::new(&[1.5, -0.5], &[0.0, 1.0], &[1.0, 1.0]),
        Err(KlFitError::BadWeight { index: 1, .. })
    ));
    assert!(matches!(
        Mixture::new(&[0.5, 0.6], &[0.0, 1.0], &[1.0, 1.0]),
        Err(KlFitError::NotNormalized { .. })
    ));
    assert!(matches!(
        Mixture::new(&[1.0], &[0.0], &[0.0]),
        Err(KlFitError::Gaussian(_))
    ));
    assert!(matches!(
        Mixture::new(&[1.0], &[f64::NAN], &[1.0]),
        Err(KlFitError::Gaussian(_))
    ));
    let p = bimodal();
    let bad = FitSettings {
        tolerance: 0.0,
        ..FitSettings::default()
    };
    assert!(matches!(
        p.fit_reverse_kl(Gaussian::standard(), bad),
        Err(KlFitError::Invalid { .. })
    ));
    let one = FitSettings {
        tolerance: 1e-9,
        max_iterations: 1,
    };
    assert!(matches!(
        p.fit_reverse_kl(Gaussian::new(0.0, 3.0).unwrap(), one),
        Err(KlFitError::NoConvergence { .. })
    ));
}

#[test]
fn log_density_is_the_log_of_the_sum_and_finite_in_the_tails() {
    let p = bimodal();
    for x in [-3.0, -0.4, 0.0, 1.7, 4.0] {
        let direct = 0.6 * crate::gaussian::normal_pdf(x, -3.0, 0.5).unwrap()
            + 0.4 * crate::gaussian::normal_pdf(x, 3.0, 0.8).unwrap();
        assert!((p.log_density(x) - direct.ln()).abs() < 1e-13, "x = {x}");
    }
    // far right the wider component dominates: ln p ≈ ln 0.4 + ln N(x; 2, 0.64)
    let far = 60.0;
    let want = 0.4_f64.ln() + Gaussian::new(3.0, 0.8).unwrap().log_density(far);
    assert!(p.density(far) == 0.0 && (p.log_density(far) - want).abs() < 1e-9);
    assert!(p.log_density(f64::NAN).is_nan());
}

#[test]
fn score_matches_a_finite_difference_of_log_density() {
    let p = bimodal();
    for x in [-3.0, -1.0, 0.1, 0.5, 2.5, 30.0] {
        let h = 1e-6;
        let fd = (p.log_density(x + h) - p.log_density(x - h)) / (2.0 * h);
        assert!((p.score(x) - fd).abs() < 1e-5 * (1.0 + fd.abs()), "x = {x}");
    }
}

#[test]
fn moment_matching_gives_the_mixture_mean_and_variance_by_integration() {
    let p = bimodal();
    let q = p.moment_match().unwrap();
    let mean = simpson(|x| x * p.density(x), -15.0, 15.0, 20_000);
    let var = simpson(|x| (x - mean).powi(2) * p.density(x), -15.0, 15.0, 20_000);
    assert!((q.mean() - mean).abs() < 1e-10 && (mean + 0.6).abs() < 1e-10);
    assert!((q.variance() - var).abs() < 1e-10);
    // 0.6·0.25 + 0.4·0.64 + 0.6·2.4² + 0.4·3.6² (total variance)
    assert!((q.variance() - (0.15 + 0.256 + 3.456 + 5.184)).abs() < 1e-12);
}

#[test]
fn quadrature_agrees_with_gauss_hermite_and_simpson() {
    let p = bimodal();
    let gh = GaussHermite::new(200).unwrap();
    for q in [
        Gaussian::new(-3.0, 0.5).unwrap(),
        Gaussian::new(0.3, 1.1).unwrap(),
        p.moment_match().unwrap(),
    ] {
        let by_gh = -0.5 * (2.0 * PI * std::f64::consts::E * q.variance()).ln()
            - gh.expectation(q, |x| p.log_density(x));
        let by_simpson = simpson(
            |x| {
                let lq = q.log_density(x);
                lq.exp() * (lq - p.log_density(x))
            },
            q.mean() - 14.0 * q.std_dev(),
            q.mean() + 14.0 * q.std_dev(),
            40_000,
        );
        let kl = p.reverse_kl(q);
        assert!(
            (kl - by_simpson).abs() < 1e-9,
            "{kl} vs Simpson {by_simpson}"
        );
        // Gauss–Hermite converges slowly here: ln p bends sharply between the modes (why the
        // module uses a fine trapezoid grid instead): 200 nodes are off by up to 0.03 nats.
        assert!((kl - by_gh).abs() < 0.03, "{kl} vs Gauss–Hermite {by_gh}");
        let forward = simpson(
            |x| {
                let lp = p.log_density(x);
                lp.exp() * (lp - q.log_density(x))
            },
            -20.0,
            20.0,
            40_000,
        );
        assert!((p.forward_kl(q) - forward).abs() < 1e-9);
    }
}

#[test]
fn monte_carlo_agrees_with_both_divergences() {
    let p = bimodal();
    let q = Gaussian::new(0.5, 1.5).unwrap();
    let mut fwd = RunningMean::new();
    for x in p.sample(200_000, 1).unwrap() {
        fwd.push(p.log_density(x) - q.log_density(x));
    }
    let e = fwd.estimate();
    assert!((e.mean - p.forward_kl(q)).abs() < 4.0 * e.std_error);
    let mut rev = RunningMean::new();
    for x in q.sample(200_000, 2).unwrap() {
        rev.push(q.log_density(x) - p.log_density(x));
    }
    let e = rev.estimate();
    assert!((e.mean - p.reverse_kl(q)).abs() < 4.0 * e.std_error);
}

#[test]
fn sampling_follows_the_weights() {
    let p = bimodal();
    let xs = p.sample(100_000, 7).unwrap();
    let left = xs.iter().filter(|&&x| x < 0.0).count() as f64 / xs.len() as f64;
    // P(x < 0) = 0.6 Φ(6) + 0.4 Φ(−3.75) ≈ 0.6 + 0.00004; binomial se ≈ 0.0015
    assert!((left - 0.6).abs() < 0.006, "{left}");
    assert_eq!(xs, p.sample(100_000, 7).unwrap());
}

#[test]
fn moment_matching_is_a_stationary_point_and_the_minimum_of_the_forward_kl() {
    let p = bimodal();
    let q = p.moment_match().unwrap();
    let t = [q.mean(), q.std_dev().ln()];
    let g = central_difference(|t| p.kl_at(KlDirection::Forward, t), t, 1e-5);
    assert!(g[0].abs() < 1e-8 && g[1].abs() < 1e-8, "{g:?}");
    let best = p.forward_kl(q);
    for (dm, ds) in [
        (0.1, 0.0),
        (-0.1, 0.0),
        (0.0, 0.1),
        (0.0, -0.1),
        (0.05, 0.05),
    ] {
        let other = p.kl_at(KlDirection::Forward, [t[0] + dm, t[1] + ds]);
        assert!(other > best);
    }
}

#[test]
fn reverse_gradient_matches_finite_differences() {
    let p = bimodal();
    for q in [
        Gaussian::new(0.3, 1.1).unwrap(),
        Gaussian::new(-1.0, 0.4).unwrap(),
    ] {
        let t = [q.mean(), q.std_dev().ln()];
        let fd = central_difference(|t| p.kl_at(KlDirection::Reverse, t), t, 1e-5);
        let g = p.reverse_kl_gradient(q);
        assert!((g[0] - fd[0]).abs() < 1e-7 && (g[1] - fd[1]).abs() < 1e-7);
    }
}

#[test]
fn the_reverse_fit_seeks_the_heavier_mode_for_separated_modes() {
    let p = bimodal();
    let fits = p.fit_reverse_kl_from_modes().unwrap();
    assert_eq!(fits.len(), 2, "one local minimum per mode");
    let (best, other) = (fits[0], fits[1]);
    // q ≈ the heavier component, and D(q‖p) ≈ −ln w₁ (up to the other component's overlap)
    assert!((best.q.mean() + 3.0).abs() < 1e-4 && (best.q.std_dev() - 0.5).abs() < 1e-4);
    assert!((best.kl + 0.6_f64.ln()).abs() < 1e-4);
    assert!((other.q.mean() - 3.0).abs() < 1e-3 && (other.kl + 0.4_f64.ln()).abs() < 1e-3);
    // started from the moment-matched q (covering both modes) the fit still ends on a mode
    let from_wide = p
        .fit_reverse_kl(p.moment_match().unwrap(), FitSettings::default())
        .unwrap();
    assert!(
        (from_wide.q.mean().abs() - 3.0).abs() < 1e-3,
        "{from_wide:?}"
    );
    // a stationary point by an independent route, and lower than moment matching's reverse KL
    let t = [best.q.mean(), best.q.std_dev().ln()];
    let fd = central_difference(|t| p.kl_at(KlDirection::Reverse, t), t, 1e-5);
    assert!(fd[0].abs() < 1e-7 && fd[1].abs() < 1e-7, "{fd:?}");
    let covering = p.moment_match().unwrap();
    assert!(best.kl < p.reverse_kl(covering) - 1.0);
    // and the other way round: moment matching wins the forward direction
    assert!(p.forward_kl(covering) < p.forward_kl(best.q) - 1.0);
}

#[test]
fn a_gaussian_target_is_recovered_exactly_by_both_directions() {
    let p = Mixture::new(&[1.0], &[0.7], &[1.3]).unwrap();
    let covering = p.moment_match().unwrap();
    assert!((covering.mean() - 0.7).abs() < 1e-15 && (covering.std_dev() - 1.3).abs() < 1e-15);
    assert!(p.forward_kl(covering).abs() < 1e-10);
    let fit = p
        .fit_reverse_kl(Gaussian::new(-1.0, 0.3).unwrap(), FitSettings::default())
        .unwrap();
    assert!((fit.q.mean() - 0.7).abs() < 1e-8 && (fit.q.std_dev() - 1.3).abs() < 1e-8);
    assert!(fit.kl.abs() < 1e-10);
}
