//! Tests of the estimators against their closed forms, quadrature and finite differences.
//!
//! Monte Carlo tolerances are stated in standard errors and can fail: a mean must lie within
//! 5 standard errors of the exact gradient, an empirical variance within 5 standard errors of the
//! closed form, where the standard error of a sample variance is $\sqrt{(\mu_4 - \sigma^4)/n}$ with
//! $\mu_4$ computed exactly by quadrature. Under the normal approximation a correct formula fails
//! one such comparison with probability about 6·10⁻⁷; a wrong one is caught (see
//! `the_variance_tolerance_rejects_a_wrong_formula`). Seeds are fixed, so runs are reproducible.

use super::*;

const K: f64 = 5.0;

fn gaussians() -> Vec<Gaussian> {
    let mut v = Vec::new();
    for theta in [0.0, 0.7, -1.5, 3.0] {
        for sigma in [0.5, 1.0, 2.0] {
            v.push(Gaussian::new(theta, sigma).unwrap());
        }
    }
    v
}

fn all_estimators(p: Gaussian) -> [Estimator; 5] {
    [
        Estimator::Pathwise,
        Estimator::Score,
        Estimator::ScoreBaseline(1.25),
        Estimator::ScoreBaseline(Square::expectation(p)),
        Estimator::ScoreOptimalBaseline,
    ]
}

#[test]
fn closed_form_moments_match_quadrature_exactly() {
    // g is a cubic polynomial in ε, so an 8-point rule (exact to degree 15) integrates g² exactly.
    let rule = GaussHermite::new(8).unwrap();
    for p in gaussians() {
        for est in all_estimators(p) {
            let r = reference(est, &Square, p, &rule).unwrap();
            let v = Square::variance(est, p);
            assert!(
                (r.mean - Square::gradient(p)).abs() < 1e-11,
                "{est} at {p:?}: mean {}",
                r.mean
            );
            assert!(
                (r.variance - v).abs() < 1e-10 * v.max(1.0),
                "{est} at {p:?}: {} vs {v}",
                r.variance
            );
        }
    }
}

#[test]
fn closed_form_variances_hold_against_simulation() {
    let rule = GaussHermite::new(16).unwrap();
    let n = 400_000;
    for (i, p) in gaussians().into_iter().enumerate() {
        for est in all_estimators(p) {
            let e = estimate(
                est,
                &Square,
                p,
                Sampling::new(n, 1000 + i as u64).threads(2),
            )
            .unwrap();
            let r = reference(est, &Square, p, &rule).unwrap();
            let want = Square::variance(est, p);
            let tol = K * r.variance_std_error(n);
            assert!(
                (e.variance - want).abs() <= tol,
                "{est} at {p:?}: sample variance {} vs closed form {want} (tolerance {tol})",
                e.variance
            );
            let grad = Square::gradient(p);
            assert!(
                (e.mean - grad).abs() <= K * e.std_error,
                "{est} at {p:?}: {e} is not within {K} SE of 2θ = {grad}"
            );
        }
    }
}

#[test]
fn the_variance_tolerance_rejects_a_wrong_formula() {
    // Had we derived 12θ² instead of 14θ² (dropping the cross term 2·θ²·E[ε⁴]), a 7% error at
    // θ = 1, the same 5-standard-error tolerance would reject it at n = 4·10⁶ (where one standard
    // error of the sample variance is about 0.1).
    let (p, n) = (Gaussian::new(1.0, 1.0).unwrap(), 4_000_000);
    let e = estimate(
        Estimator::Score,
        &Square,
        p,
        Sampling::new(n, 77).threads(2),
    )
    .unwrap();
    let r = reference(
        Estimator::Score,
        &Square,
        p,
        &GaussHermite::new(16).unwrap(),
    )
    .unwrap();
    let wrong = 1.0 + 12.0 + 15.0;
    assert!(
        (e.variance - wrong).abs() > K * r.variance_std_error(n),
        "{e}"
    );
    assert!(
        (e.variance - Square::variance(Estimator::Score, p)).abs() <= K * r.variance_std_error(n)
    );
}

#[test]
fn the_optimal_baseline_minimises_the_variance() {
    let sq = objective(|x: f64| x * x, |x: f64| 2.0 * x);
    for p in gaussians() {
        let b = Square.optimal_baseline(p);
        // the quadrature default agrees with the closed form θ² + 3σ²
        assert!((sq.optimal_baseline(p) - b).abs() < 1e-10 * b.max(1.0));
        let v = |b| Square::variance(Estimator::ScoreBaseline(b), p);
        assert!(
            (v(b) - Square::variance(Estimator::ScoreOptimalBaseline, p)).abs()
                < 1e-9 * v(b).max(1.0)
        );
        assert!(v(b) < v(b + 0.1) && v(b) < v(b - 0.1));
        assert!(v(b) <= Square::variance(Estimator::Score, p));
    }
}

#[test]
fn estimators_agree_with_a_finite_difference_of_the_quadrature_expectation() {
    // f(x) = sin x + x³/10: ∇θ E[f] by a central difference of the Gauss–Hermite expectation,
    // checked first against the closed form cos θ e^{−σ²/2} + 3(θ² + σ²)/10, then against every
    // estimator within 5 standard errors.
    let f = objective(
        |x: f64| x.sin() + x.powi(3) / 10.0,
        |x: f64| x.cos() + 0.3 * x * x,
    );
    let rule = GaussHermite::new(48).unwrap();
    for (i, (theta, sigma)) in [(0.3, 1.0), (-1.2, 0.4), (2.0, 1.5)]
        .into_iter()
        .enumerate()
    {
        let j = |t: [f64; 1]| rule.expectation(Gaussian::new(t[0], sigma).unwrap(), |x| f.value(x));
        let [fd] = central_difference(j, [theta], 1e-5);
        let exact =
            theta.cos() * (-0.5 * sigma * sigma).exp() + 0.3 * (theta * theta + sigma * sigma);
        assert!(
            (fd - exact).abs() < 1e-8,
            "finite difference {fd} vs {exact}"
        );
        let p = Gaussian::new(theta, sigma).unwrap();
        for est in [
            Estimator::Pathwise,
            Estimator::Score,
            Estimator::ScoreOptimalBaseline,
        ] {
            let e = estimate(est, &f, p, Sampling::new(300_000, 50 + i as u64)).unwrap();
            assert!(
                (e.mean - fd).abs() <= K * e.std_error,
                "{est} at θ = {theta}: {e} vs {fd}"
            );
            let r = reference(est, &f, p, &rule).unwrap();
            assert!(
                (r.mean - fd).abs() < 1e-8,
                "{est}: quadrature mean {} vs {fd}",
                r.mean
            );
        }
    }
}

#[test]
fn reparameterized_gradient_of_a_nonlinear_sampler_matches_quadrature_and_finite_differences() {
    // Question 2(d): x = f_θ(u, v) = tanh(a u + b) + exp(c u + d)·v, L(x) = ln(1 + x²).
    let u = 0.7;
    let theta = [0.8, -0.3, 0.4, -0.6];
    let sample = |t: [f64; 4], v: f64| (t[0] * u + t[1]).tanh() + (t[2] * u + t[3]).exp() * v;
    let loss = |x: f64| (1.0 + x * x).ln();
    let dloss = |x: f64| 2.0 * x / (1.0 + x * x);
    let rule = GaussHermite::new(200).unwrap();
    let j = |t: [f64; 4]| rule.standard_expectation(|v| loss(sample(t, v)));
    let fd = central_difference(j, theta, 1e-5);
    let grads = monte_carlo(
        |v| {
            let m = (theta[0] * u + theta[1]).tanh();
            let s = (theta[2] * u + theta[3]).exp();
            let dl = dloss(m + s * v);
            let dm = 1.0 - m * m;
            [dl * dm * u, dl * dm, dl * s * v * u, dl * s * v]
        },
        Sampling::new(1_000_000, 8).threads(2),
    )
    .unwrap();
    for (i, (g, want)) in grads.iter().zip(fd).enumerate() {
        assert!(
            (g.mean - want).abs() <= K * g.std_error,
            "∂/∂θ{i}: {g} vs {want}"
        );
    }
}

#[test]
fn estimates_are_reproducible_and_match_the_running_trace() {
    let p = Gaussian::new(1.0, 1.0).unwrap();
    let s = Sampling::new(200_000, 4);
    let a = estimate(Estimator::Score, &Square, p, s).unwrap();
    assert_eq!(a, estimate(Estimator::Score, &Square, p, s).unwrap());
    // the thread count changes the speed, not the result
    assert_eq!(
        a,
        estimate(Estimator::Score, &Square, p, s.threads(2)).unwrap()
    );
    assert_ne!(
        a,
        estimate(Estimator::Score, &Square, p, Sampling::new(200_000, 5)).unwrap()
    );
    // the running trace walks the same samples (200 000 spans four chunks)
    let t = running(
        Estimator::Score,
        &Square,
        p,
        &[10, 1000, 70_000, 200_000],
        4,
    )
    .unwrap();
    let (n, mean, se) = t.last().unwrap();
    assert_eq!(n, 200_000);
    assert!((mean - a.mean).abs() < 1e-12 * a.mean.abs().max(1.0));
    assert!((se / a.std_error - 1.0).abs() < 1e-10);
    let (lo, hi) = t.band(2.0);
    assert!(lo[3] < mean && mean < hi[3]);
}

#[test]
fn rms_error_falls_as_one_over_root_n() {
    let p = Gaussian::new(2.0, 1.0).unwrap();
    let ns = log_spaced(16, 16_384, 11).unwrap();
    for est in Estimator::COMPARED {
        let err = rms_error(est, &Square, p, Square::gradient(p), &ns, 64, 3).unwrap();
        let x: Vec<f64> = ns.iter().map(|&n| n as f64).collect();
        let slope = log_log_slope(&x, &err).unwrap();
        assert!((slope + 0.5).abs() < 0.1, "{est}: slope {slope}");
        // and the level is √(Var/n): within 25% at the largest n (64 repetitions ≈ 9% error)
        let want = (Square::variance(est, p) / 16_384.0).sqrt();
        assert!(
            (err[err.len() - 1] / want - 1.0).abs() < 0.25,
            "{est}: {} vs {want}",
            err[err.len() - 1]
        );
    }
}

#[test]
fn gradient_descent_reaches_the_optimum_with_the_predicted_spread() {
    let d = Descent {
        iterations: 4000,
        ..Descent::default()
    };
    for (est, v0) in [
        (Estimator::Pathwise, 4.0),
        (Estimator::Score, 15.0),
        (Estimator::ScoreOptimalBaseline, 6.0),
    ] {
        let path = descend(est, &Square, &d, 11).unwrap();
        assert_eq!(path.len(), 4001);
        assert_eq!(path[0], 3.0);
        let tail = &path[200..];
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        let ms = tail.iter().map(|t| t * t).sum::<f64>() / tail.len() as f64;
        let want = d.step * v0 / (4.0 * d.samples as f64 * (1.0 - d.step));
        assert!(mean.abs() < 0.05, "{est}: mean of the tail {mean}");
        // ~3800 correlated steps (correlation time 1/(2η) = 10): ~190 effective samples, so ±30%
        assert!(
            (ms / want - 1.0).abs() < 0.3,
            "{est}: E[θ²] = {ms} vs {want}"
        );
    }
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let p = Gaussian::new(0.0, 1.0).unwrap();
    let e = estimate(
        Estimator::ScoreBaseline(f64::NAN),
        &Square,
        p,
        Sampling::new(10, 0),
    );
    assert!(matches!(e, Err(EstimatorError::BadBaseline { .. })));
    assert!(matches!(
        estimate(Estimator::Pathwise, &Square, p, Sampling::new(1, 0)),
        Err(EstimatorError::TooFewSamples { n: 1 })
    ));
    assert!(matches!(
        running(Estimator::Pathwise, &Square, p, &[10, 5], 0),
        Err(EstimatorError::Checkpoints(_))
    ));
    assert!(matches!(
        running(Estimator::Pathwise, &Square, p, &[], 0),
        Err(EstimatorError::Checkpoints(_))
    ));
    let bad = Descent {
        sigma: 0.0,
        ..Descent::default()
    };
    let err = descend(Estimator::Pathwise, &Square, &bad, 0).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("standard deviation σ[0] = 0 must be > 0"),
        "{err}"
    );
    let wild = Descent {
        step: 5.0,
        iterations: 2000,
        ..Descent::default()
    };
    assert!(matches!(
        descend(Estimator::Score, &Square, &wild, 0),
        Err(EstimatorError::Diverged { .. })
    ));
    assert!(log_log_slope(&[1.0, 2.0], &[1.0, -1.0]).is_err());
    assert!(log_log_slope(&[1.0, 1.0], &[1.0, 2.0]).is_err());
}

#[test]
fn helpers_behave_at_the_edges() {
    assert_eq!(log_spaced(5, 5, 5).unwrap(), vec![5]);
    assert!(log_spaced(1, 1, 5).is_err());
    let v = log_spaced(2, 1_000_000, 40).unwrap();
    assert!(v.windows(2).all(|w| w[0] < w[1]) && v[0] == 2 && *v.last().unwrap() == 1_000_000);
    assert!(log_mean_exp(&[]).is_nan());
    assert_eq!(log_mean_exp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
    assert!((log_mean_exp(&[0.0, 2.0_f64.ln()]) - 1.5_f64.ln()).abs() < 1e-15);
    assert!(central_difference(|t: [f64; 1]| t[0], [0.0], 0.0)[0].is_nan());
}

#[test]
fn batch_means_standard_error_matches_the_truth_for_iid_and_correlated_sequences() {
    use crate::rand::SeedableRng;
    use crate::rand::rngs::SmallRng;
    use crate::rand_distr::{Distribution, StandardNormal};
    let mut rng = SmallRng::seed_from_u64(5);
    let n = 1_000_000;
    let iid: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
    let e = batch_means(&iid, 50).unwrap();
    // se of the mean is 1/√n; with 50 batches the estimate of it is good to about ±10% (1 sd)
    let truth = 1.0 / (n as f64).sqrt();
    assert!((e.std_error / truth - 1.0).abs() < 0.4, "{e:?}");
    assert!(e.mean.abs() < 5.0 * truth);
    // AR(1) y_t = ρ y_{t−1} + ε_t: Var ȳ ≈ (1/n) · (1/(1−ρ²)) · (1+ρ)/(1−ρ) = 1/(n(1−ρ)²)
    let rho = 0.9;
    let mut y = 0.0;
    let ar: Vec<f64> = (0..n)
        .map(|_| {
            let e: f64 = StandardNormal.sample(&mut rng);
            y = rho * y + e;
            y
        })
        .collect();
    let e = batch_means(&ar, 50).unwrap();
    let truth = 1.0 / ((n as f64).sqrt() * (1.0 - rho));
    assert!((e.std_error / truth - 1.0).abs() < 0.4, "{e:?} vs {truth}");
    // the naive s/√n would be about √((1−ρ)/(1+ρ)) ≈ 0.23 of the truth
    let mut all = RunningMean::new();
    all.extend_from_slice(&ar);
    let naive = all.estimate().std_error;
    assert!(naive < 0.4 * truth);
    assert!(batch_means(&ar, 1).is_err());
    assert!(batch_means(&ar[..3], 2).is_err());
}
