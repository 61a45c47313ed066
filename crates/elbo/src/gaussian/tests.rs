//! Tests of [`crate::gaussian`](super).

use super::*;
use ndarray::array;

#[test]
fn constructors_name_the_bad_parameter() {
    assert!(matches!(
        Gaussian::new(f64::NAN, 1.0),
        Err(GaussianError::BadMean { index: 0, .. })
    ));
    for s in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        assert!(
            matches!(Gaussian::new(0.0, s), Err(GaussianError::BadStdDev { .. })),
            "σ = {s}"
        );
    }
    let e = DiagGaussian::new(array![0.0, f64::INFINITY], array![1.0, 1.0]).unwrap_err();
    assert_eq!(e.to_string(), "mean μ[1] = inf is not finite");
    let e = DiagGaussian::new(array![0.0], array![1.0, 1.0]).unwrap_err();
    assert_eq!(
        e,
        GaussianError::Shape {
            what: "σ",
            mean: 1,
            got: 2
        }
    );
    assert_eq!(DiagGaussian::standard(0).unwrap_err(), GaussianError::Empty);
    let e = DiagGaussian::from_log_var(array![0.0], array![1e4].view()).unwrap_err();
    assert!(matches!(e, GaussianError::BadLogVar { index: 0, .. }));
}

#[test]
fn scalar_and_diagonal_log_densities_agree_with_the_density() {
    let p = Gaussian::new(0.3, 1.7).unwrap();
    for x in [-3.0, 0.0, 0.3, 2.5] {
        assert!((p.log_density(x) - normal_pdf(x, 0.3, 1.7).unwrap().ln()).abs() < 1e-12);
    }
    let q = DiagGaussian::new(array![0.3, -1.0], array![1.7, 0.2]).unwrap();
    let x = array![1.0, -0.9];
    let want = q.marginal(0).unwrap().log_density(1.0) + q.marginal(1).unwrap().log_density(-0.9);
    assert!((q.log_density(x.view()).unwrap() - want).abs() < 1e-12);
    let rows = q
        .log_density_rows(array![[1.0, -0.9], [0.3, -1.0]].view())
        .unwrap();
    assert!((rows[0] - want).abs() < 1e-12);
    assert!(matches!(
        q.log_density(array![1.0].view()),
        Err(GaussianError::Dimension {
            got: 1,
            expected: 2,
            ..
        })
    ));
}

#[test]
fn density_integrates_to_one() {
    // Trapezoid rule on [μ − 12σ, μ + 12σ].
    let p = Gaussian::new(-0.4, 0.7).unwrap();
    let (a, b, m) = (-0.4 - 12.0 * 0.7, -0.4 + 12.0 * 0.7, 20_000);
    let h = (b - a) / m as f64;
    let s: f64 = (0..=m)
        .map(|i| {
            let w = if i == 0 || i == m { 0.5 } else { 1.0 };
            w * p.log_density(a + i as f64 * h).exp()
        })
        .sum();
    assert!((s * h - 1.0).abs() < 1e-10);
}

#[test]
fn sampling_is_the_reparameterization_of_the_noise_and_reproducible() {
    let q = DiagGaussian::new(array![1.0, -2.0, 0.0], array![0.5, 2.0, 1.0]).unwrap();
    let eps = q.noise(50, 11).unwrap();
    let x = q.sample(50, 11).unwrap();
    assert_eq!(x, q.reparameterize_rows(eps.view()).unwrap());
    assert_eq!(x.row(3), q.reparameterize(eps.row(3)).unwrap());
    assert_eq!(x, q.sample(50, 11).unwrap());
    assert_ne!(x, q.sample(50, 12).unwrap());
}

#[test]
fn sample_moments_match_the_parameters() {
    // 200 000 draws: the sample mean has standard error σ/√n ≈ 0.0045 σ; allow 5 of them.
    let q = DiagGaussian::new(array![1.0, -2.0], array![0.5, 2.0]).unwrap();
    let n = 200_000;
    let x = q.sample(n, 3).unwrap();
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
    let var = x.var_axis(ndarray::Axis(0), 1.0);
    for j in 0..2 {
        let s = q.std_dev()[j];
        assert!((mean[j] - q.mean()[j]).abs() < 5.0 * s / (n as f64).sqrt());
        // sample variance: standard error σ²·√(2/n)
        assert!((var[j] - s * s).abs() < 5.0 * s * s * (2.0 / n as f64).sqrt());
    }
}

#[test]
fn score_is_the_derivative_of_the_log_density() {
    let p = Gaussian::new(0.8, 1.3).unwrap();
    let h = 1e-6;
    for x in [-1.0, 0.8, 3.0] {
        let up = Gaussian::new(0.8 + h, 1.3).unwrap().log_density(x);
        let down = Gaussian::new(0.8 - h, 1.3).unwrap().log_density(x);
        assert!(((up - down) / (2.0 * h) - p.score_mean(x)).abs() < 1e-8);
    }
}

#[test]
fn entropy_matches_the_closed_form() {
    let q = DiagGaussian::from_log_var(array![0.0, 5.0], array![0.0, 2.0_f64.ln()].view()).unwrap();
    let want = (2.0 * PI * std::f64::consts::E).ln() + 0.5 * 2.0_f64.ln();
    assert!((q.entropy() - want).abs() < 1e-12);
}
