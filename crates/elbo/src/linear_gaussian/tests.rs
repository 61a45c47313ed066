//! Tests of [`crate::linear_gaussian`](super).

use super::*;
use ndarray::{Axis, array};

/// A model with D = 5, d = 3 and one observation drawn from it.
fn model_and_x() -> (LinearGaussian, Array1<f64>) {
    let m = LinearGaussian::random(5, 3, 0.7, 11).unwrap();
    let (_, x) = m.sample(1, 12);
    (m, x.row(0).to_owned())
}

/// A Gaussian on ℝᵈ with a random mean and a random well-conditioned covariance A Aᵀ + 0.1 I.
fn random_q(d: usize, seed: u64) -> FullGaussian {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut draw = || rng.sample::<f64, _>(StandardNormal);
    let mean = Array1::from_shape_simple_fn(d, &mut draw);
    let a = Array2::from_shape_simple_fn((d, d), &mut draw);
    let cov = a.dot(&a.t()) * 0.5 + Array2::<f64>::eye(d) * 0.1;
    FullGaussian::new(mean, cov).unwrap()
}

#[test]
fn posterior_and_evidence_satisfy_bayes_rule() {
    // log p(z|x) = log p(x, z) − log p(x) at any z: checks the two closed forms against
    // each other and against the model's definition.
    let (m, x) = model_and_x();
    let post = m.posterior(x.view()).unwrap();
    let log_px = m.log_evidence(x.view()).unwrap();
    for z in [
        array![0.0, 0.0, 0.0],
        array![1.0, -2.0, 0.5],
        array![-0.3, 0.1, 3.0],
    ] {
        let lhs = post.log_density(z.view()).unwrap();
        let rhs = m.log_joint(x.view(), z.view()).unwrap() - log_px;
        assert!((lhs - rhs).abs() < 1e-10, "{lhs} vs {rhs}");
    }
}

#[test]
fn elbo_plus_kl_to_the_posterior_is_the_evidence_for_any_q() {
    let (m, x) = model_and_x();
    let post = m.posterior(x.view()).unwrap();
    let log_px = m.log_evidence(x.view()).unwrap();
    for seed in 0..20 {
        let q = random_q(3, seed);
        let e = m.elbo(x.view(), &q).unwrap();
        let gap = q.kl(&post).unwrap();
        assert!(gap > 0.0);
        assert!(e.elbo < log_px);
        assert!((e.elbo + gap - log_px).abs() < 1e-10, "seed {seed}");
    }
}

#[test]
fn the_bound_is_tight_at_the_posterior() {
    let (m, x) = model_and_x();
    let post = m.posterior(x.view()).unwrap();
    let e = m.elbo(x.view(), &post).unwrap();
    assert!((e.elbo - m.log_evidence(x.view()).unwrap()).abs() < 1e-10);
    assert!(post.kl(&post).unwrap() < 1e-12);
}

#[test]
fn importance_weights_are_constant_under_the_posterior() {
    // log p(x, z) − log p(z|x) = log p(x) for every z: the zero-variance proposal.
    let (m, x) = model_and_x();
    let post = m.posterior(x.view()).unwrap();
    let log_px = m.log_evidence(x.view()).unwrap();
    for z in post.sample(50, 3).rows() {
        let w = m.log_joint(x.view(), z).unwrap() - post.log_density(z).unwrap();
        assert!((w - log_px).abs() < 1e-10);
    }
}

#[test]
fn closed_form_elbo_matches_monte_carlo() {
    // ELBO(q) = E_q[log p(x, z) − log q(z)], estimated from 100 000 draws of q; and the
    // reconstruction term E_q[log p(x|z)] on its own.
    let (m, x) = model_and_x();
    let q = random_q(3, 5);
    let e = m.elbo(x.view(), &q).unwrap();
    let z = q.sample(100_000, 6);
    let (mut w, mut r) = (Vec::new(), Vec::new());
    for zi in z.rows() {
        let ll = m.log_likelihood(x.view(), zi).unwrap();
        r.push(ll);
        w.push(ll + m.prior().log_density(zi).unwrap() - q.log_density(zi).unwrap());
    }
    for (samples, want) in [(&w, e.elbo), (&r, e.rec)] {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let se = (var / n).sqrt();
        assert!((mean - want).abs() < 4.0 * se, "{mean} ± {se} vs {want}");
    }
}

#[test]
fn evidence_matches_monte_carlo_over_the_prior() {
    // p(x) = E_{p(z)}[p(x|z)]: in one latent dimension prior sampling is accurate.
    let m = LinearGaussian::random(2, 1, 0.8, 21).unwrap();
    let x = m.sample(1, 22).1.row(0).to_owned();
    let exact = m.log_evidence(x.view()).unwrap().exp();
    let z = m.prior().sample(200_000, 23);
    let p: Vec<f64> = z
        .rows()
        .into_iter()
        .map(|zi| m.log_likelihood(x.view(), zi).unwrap().exp())
        .collect();
    let n = p.len() as f64;
    let mean = p.iter().sum::<f64>() / n;
    let se = (p.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    assert!((mean - exact).abs() < 4.0 * se, "{mean} ± {se} vs {exact}");
}

#[test]
fn joint_samples_have_the_marginal_covariance() {
    let m = LinearGaussian::random(3, 2, 0.5, 31).unwrap();
    let (_, x) = m.sample(200_000, 32);
    let c = m.marginal().unwrap();
    let mean = x.mean_axis(Axis(0)).unwrap();
    let centred = &x - &mean;
    let cov = centred.t().dot(&centred) / (x.nrows() as f64 - 1.0);
    for i in 0..3 {
        let sd = c.cov()[[i, i]].sqrt();
        assert!((mean[i] - m.bias()[i]).abs() < 5.0 * sd / 200_000f64.sqrt());
        for j in 0..3 {
            // standard error of a sample covariance ≤ σᵢσⱼ √(2/n)
            let tol = 5.0 * sd * c.cov()[[j, j]].sqrt() * (2.0 / 200_000f64).sqrt();
            assert!((cov[[i, j]] - c.cov()[[i, j]]).abs() < tol, "({i}, {j})");
        }
    }
}

#[test]
fn full_kl_agrees_with_the_diagonal_formula() {
    let (m1, v1) = (array![0.5, -1.0, 2.0], array![0.3, 1.5, 2.0]);
    let (m2, v2) = (array![0.0, 1.0, -1.0], array![1.0, 0.5, 4.0]);
    let want = crate::info::kl_diag_gaussians(
        m1.as_slice().unwrap(),
        v1.as_slice().unwrap(),
        m2.as_slice().unwrap(),
        v2.as_slice().unwrap(),
    )
    .unwrap();
    let p = FullGaussian::diagonal(m1, v1).unwrap();
    let q = FullGaussian::diagonal(m2, v2).unwrap();
    assert!((p.kl(&q).unwrap() - want).abs() < 1e-13);
    // entropy of N(μ, Σ) = E[−log density]
    let h = p.entropy();
    let z = p.sample(100_000, 1);
    let lp: Vec<f64> = z
        .rows()
        .into_iter()
        .map(|r| -p.log_density(r).unwrap())
        .collect();
    let mean = lp.iter().sum::<f64>() / lp.len() as f64;
    assert!((mean - h).abs() < 0.02, "{mean} vs {h}");
}

#[test]
fn bad_input_is_a_typed_error() {
    use LinearGaussianError as E;
    let w = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    assert!(matches!(
        LinearGaussian::new(w.clone(), array![0.0, 0.0], 1.0),
        Err(E::Shape {
            what: "b",
            got: 2,
            expected: 3
        })
    ));
    assert!(matches!(
        LinearGaussian::new(w.clone(), array![0.0, 0.0, 0.0], 0.0),
        Err(E::BadNoise(_))
    ));
    assert!(matches!(
        LinearGaussian::new(w.clone(), array![0.0, f64::NAN, 0.0], 1.0),
        Err(E::NotFinite {
            what: "b",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        LinearGaussian::new(Array2::zeros((3, 0)), array![0.0, 0.0, 0.0], 1.0),
        Err(E::Empty { .. })
    ));
    let m = LinearGaussian::new(w, array![0.0, 0.0, 0.0], 1.0).unwrap();
    assert!(matches!(
        m.log_evidence(array![1.0, 2.0].view()),
        Err(E::Shape { what: "x", .. })
    ));
    assert!(matches!(
        m.posterior(array![1.0, f64::INFINITY, 0.0].view()),
        Err(E::NotFinite { what: "x", .. })
    ));
    let q3 = FullGaussian::standard(3).unwrap();
    assert!(m.elbo(array![0.0, 0.0, 0.0].view(), &q3).is_err());
    assert!(q3.kl(&FullGaussian::standard(2).unwrap()).is_err());
    assert!(matches!(
        FullGaussian::new(array![0.0, 0.0], array![[1.0, 2.0], [2.0, 1.0]]),
        Err(E::NotPositiveDefinite { index: 1, .. })
    ));
    assert!(matches!(
        FullGaussian::new(array![0.0, 0.0], array![[1.0, 0.2], [0.1, 1.0]]),
        Err(E::NotSymmetric { i: 0, j: 1, .. })
    ));
    assert!(matches!(
        FullGaussian::new(array![0.0], array![[1.0, 0.0]]),
        Err(E::Shape { .. })
    ));
    assert!(matches!(
        FullGaussian::diagonal(array![0.0], array![-1.0]),
        Err(E::NotPositiveDefinite { index: 0, .. })
    ));
    assert!(matches!(FullGaussian::standard(0), Err(E::Empty { .. })));
    let e = FullGaussian::new(array![0.0, 0.0], array![[1.0, 2.0], [2.0, 1.0]]).unwrap_err();
    assert!(e.to_string().contains("not positive definite"), "{e}");
}
