//! Tests that span the VAE's files: gradient check, f32 against f64, KL against Monte Carlo,
//! IWAE against exact quadrature, training.

use super::ops::kl::gaussian_kl;
use super::*;
use crate::rand::rngs::SmallRng;
use crate::rand::{Rng, SeedableRng};
use crate::rand_distr::{Distribution, StandardNormal};
use ndarray::{Array2, s};

/// Finite-difference tolerance of the gradient check: |g_fd − g_bp| ≤ TOL · max(1, |g_bp|).
///
/// In f64 with a central difference of step H = 1e-5, truncation error is ≈ H² · |f‴| ≈ 1e-9
/// and rounding error ≈ 1e-16 · |loss| / H ≈ 1e-9 for a loss of tens of nats, so 1e-6 leaves
/// three orders of magnitude of margin while still catching any real mistake (a wrong factor,
/// a missing term, a transposed index all give relative errors ≫ 1e-6).
const TOL: f64 = 1e-6;
const H: f64 = 1e-5;

fn tiny(activation: Activation, mode: Mode, seed: u64) -> Vae<f64> {
    Vae::new(VaeConfig {
        input_dim: 12,
        hidden: vec![7, 5],
        latent: 3,
        activation,
        mode,
        seed,
    })
    .unwrap()
}

fn batch(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    // grey levels, with some exact 0s and 1s as in MNIST
    Array2::from_shape_simple_fn((rows, cols), || match rng.random_range(0..4) {
        0 => 0.0,
        1 => 1.0,
        _ => rng.random::<f64>(),
    })
}

/// −Σᵢ [log p(xᵢ|zᵢ) − β KLᵢ] for fixed ε.
fn loss(vae: &Vae<f64>, x: &Array2<f64>, eps: &Array2<f64>, beta: f64) -> f64 {
    let (t, _) = vae.loss_and_grad(x.view(), eps.view(), beta).unwrap();
    -(t.rec.sum() - beta * t.kl.sum())
}

/// Compares the backward pass with central differences for every parameter; returns the worst
/// violation ratio |g_fd − g_bp| / (TOL · max(1, |g_bp|)) (≤ 1 passes) and where it happened.
fn gradient_check(
    vae: &Vae<f64>,
    x: &Array2<f64>,
    eps: &Array2<f64>,
    beta: f64,
    analytic: &[f64],
) -> (f64, usize) {
    let mut probe = vae.clone();
    let mut worst = (0.0, 0);
    let mut k = 0;
    let n_tensors = probe.parameter_slices_mut().len();
    for t in 0..n_tensors {
        let len = probe.parameter_slices_mut()[t].len();
        for i in 0..len {
            let orig = probe.parameter_slices_mut()[t][i];
            probe.parameter_slices_mut()[t][i] = orig + H;
            let up = loss(&probe, x, eps, beta);
            probe.parameter_slices_mut()[t][i] = orig - H;
            let down = loss(&probe, x, eps, beta);
            probe.parameter_slices_mut()[t][i] = orig;
            let fd = (up - down) / (2.0 * H);
            let ratio = (fd - analytic[k]).abs() / (TOL * analytic[k].abs().max(1.0));
            if ratio > worst.0 || ratio.is_nan() {
                worst = (ratio, k);
            }
            k += 1;
        }
    }
    assert_eq!(k, analytic.len());
    worst
}

#[test]
fn backprop_matches_finite_differences_for_every_parameter() {
    for mode in [Mode::Vae, Mode::Autoencoder] {
        for (i, act) in [Activation::Relu, Activation::Elu, Activation::Tanh]
            .into_iter()
            .enumerate()
        {
            let vae = tiny(act, mode, 10 + i as u64);
            let x = batch(4, 12, 1);
            let eps = crate::vae::standard_normal::<f64>(4, 3, 2);
            let beta = 0.7; // exercises the warm-up weight too
            // both forms of the first layer: dense, and visiting only the nonzeros of x
            for (path, density) in [("dense", 0.0), ("sparse", 1.0)] {
                let (_, g) = vae
                    .loss_and_grad_with(x.view(), eps.view(), beta, Some(density))
                    .unwrap();
                let analytic: Vec<f64> = g.slices().concat();
                assert_eq!(analytic.len(), vae.num_parameters());
                let (worst, at) = gradient_check(&vae, &x, &eps, beta, &analytic);
                assert!(
                    worst <= 1.0,
                    "{mode:?}/{act:?}/{path}: parameter {at} of {} off by {worst:.1}× the tolerance",
                    analytic.len()
                );
            }
        }
    }
}

#[test]
fn gradient_check_catches_a_wrong_gradient() {
    let vae = tiny(Activation::Elu, Mode::Vae, 3);
    let x = batch(4, 12, 4);
    let eps = crate::vae::standard_normal::<f64>(4, 3, 5);
    let (_, g) = vae.loss_and_grad(x.view(), eps.view(), 1.0).unwrap();
    let mut analytic: Vec<f64> = g.slices().concat();
    // a gradient computed with the wrong KL weight is caught (encoder parameters feel β) …
    let (_, g_wrong_beta) = vae.loss_and_grad(x.view(), eps.view(), 0.99).unwrap();
    let (worst, _) = gradient_check(&vae, &x, &eps, 1.0, &g_wrong_beta.slices().concat());
    assert!(worst > 1.0, "a 1% error in β went unnoticed");
    // … and so is a single entry off by one part in 10⁴
    let i = analytic.len() / 2;
    analytic[i] = analytic[i] * (1.0 + 1e-4) + 1e-4;
    let (worst, at) = gradient_check(&vae, &x, &eps, 1.0, &analytic);
    assert!(
        worst > 1.0 && at == i,
        "corrupted entry {i} not flagged (worst {worst} at {at})"
    );
}

#[test]
fn f32_training_path_agrees_with_the_f64_reference() {
    let vae64 = Vae::<f64>::new(VaeConfig {
        hidden: vec![64, 32],
        latent: 8,
        activation: Activation::Elu,
        ..VaeConfig::default()
    })
    .unwrap();
    let vae32: Vae<f32> = vae64.cast();
    let x64 = batch(16, 784, 6);
    let eps64 = crate::vae::standard_normal::<f64>(16, 8, 7);
    let (t64, g64) = vae64.loss_and_grad(x64.view(), eps64.view(), 1.0).unwrap();
    let x32 = x64.mapv(|v| v as f32);
    let eps32 = eps64.mapv(|v| v as f32);
    let (t32, g32) = vae32.loss_and_grad(x32.view(), eps32.view(), 1.0).unwrap();
    for (a, b) in t32.elbo.iter().zip(&t64.elbo) {
        assert!(
            (a - b).abs() < 1e-3 * b.abs(),
            "ELBO {a} (f32) vs {b} (f64)"
        );
    }
    for (a, b) in g32.slices().iter().zip(g64.slices()) {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b) {
            assert!(
                (f64::from(*x) - y).abs() <= 1e-3 * scale,
                "gradient {x} (f32) vs {y} (f64)"
            );
        }
    }
}

#[test]
fn analytic_kl_matches_a_monte_carlo_estimate() {
    let mu = ndarray::array![[0.5f64, -1.0, 0.0], [2.0, 0.1, -0.3]];
    let log_var = ndarray::array![[0.0f64, -1.0, 0.7], [-2.0, 0.3, 0.0]];
    let mut exact = Vec::new();
    gaussian_kl(mu.view(), log_var.view(), &mut exact);
    let mut rng = SmallRng::seed_from_u64(9);
    let n = 200_000;
    for row in 0..2 {
        // KL = E_q[log q(z) − log p(z)], with z = μ + σε: log q − log p = Σⱼ −½ε² − ½ log σ² + ½z²
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..n {
            let mut v = 0.0;
            for j in 0..3 {
                let e: f64 = StandardNormal.sample(&mut rng);
                let (m, lv) = (mu[[row, j]], log_var[[row, j]]);
                let z = m + (0.5 * lv).exp() * e;
                v += -0.5 * e * e - 0.5 * lv + 0.5 * z * z;
            }
            sum += v;
            sum2 += v * v;
        }
        let mean = sum / n as f64;
        let se = ((sum2 / n as f64 - mean * mean) / n as f64).sqrt();
        assert!(
            (mean - exact[row]).abs() < 4.0 * se,
            "row {row}: Monte Carlo {mean} ± {se}, closed form {}",
            exact[row]
        );
    }
}

/// log p(x) for a 1-D latent by quadrature over z ∈ [−12, 12].
fn exact_log_px(vae: &Vae<f64>, x: &Array2<f64>) -> Vec<f64> {
    let n = 24_001;
    let dz = 24.0 / (n - 1) as f64;
    let z = Array2::from_shape_fn((n, 1), |(i, _)| -12.0 + i as f64 * dz);
    let logits = vae.decode_logits(z.view()).unwrap();
    let mut out = Vec::new();
    for xr in x.rows() {
        let xs = xr.to_vec();
        let terms: Vec<f64> = (0..n)
            .map(|i| {
                let zi = z[[i, 0]];
                let lp = f64::bernoulli_row(logits.row(i).as_slice().unwrap(), &xs, None);
                lp - 0.5 * zi * zi - 0.5 * (2.0 * std::f64::consts::PI).ln() + dz.ln()
            })
            .collect();
        let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        out.push(m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln());
    }
    out
}

#[test]
fn iwae_climbs_from_the_elbo_to_the_exact_log_likelihood() {
    let vae = Vae::<f64>::new(VaeConfig {
        input_dim: 6,
        hidden: vec![5],
        latent: 1,
        activation: Activation::Tanh,
        mode: Mode::Vae,
        seed: 11,
    })
    .unwrap();
    // sharpen the decoder so that the true posterior is far from the Gaussian q: a clear gap
    let mut vae = vae;
    let n_enc = 2 * vae.encoder().layers().len();
    for t in vae.parameter_slices_mut().into_iter().skip(n_enc) {
        t.iter_mut().for_each(|v| *v *= 4.0);
    }
    let x = batch(3, 6, 12).mapv(f64::round);
    let exact = exact_log_px(&vae, &x);
    let elbo = vae.elbo(x.view(), 20_000, 1).unwrap();
    let k1 = vae.iwae(x.view(), 1, 2).unwrap();
    let k10 = vae.iwae(x.view(), 10, 3).unwrap();
    let k20000 = vae.iwae(x.view(), 20_000, 4).unwrap();
    for i in 0..3 {
        assert!(
            elbo.elbo[i] < exact[i] - 0.05,
            "ELBO {} not below log p(x) {}",
            elbo.elbo[i],
            exact[i]
        );
        assert!(
            k10[i] > elbo.elbo[i],
            "IWAE k=10 {} not above the ELBO {}",
            k10[i],
            elbo.elbo[i]
        );
        assert!(
            (k20000[i] - exact[i]).abs() < 0.01,
            "IWAE k=20000 {} vs exact {}",
            k20000[i],
            exact[i]
        );
        assert!(k1[i].is_finite());
    }
}

#[test]
fn iwae_handles_thousands_of_samples_and_rejects_bad_arguments() {
    let vae = Vae::<f32>::new(VaeConfig {
        hidden: vec![16],
        latent: 4,
        ..VaeConfig::default()
    })
    .unwrap();
    let x = batch(3, 784, 13).mapv(|v| v as f32);
    let b = vae.iwae(x.view(), 3000, 0).unwrap();
    let e = vae.elbo(x.view(), 200, 0).unwrap();
    for i in 0..3 {
        assert!(b[i] > e.elbo[i], "IWAE {} ≤ ELBO {}", b[i], e.elbo[i]);
    }
    assert!(vae.iwae(x.view(), 0, 0).is_err());
    let ae = Vae::<f32>::new(VaeConfig {
        mode: Mode::Autoencoder,
        ..vae.config().clone()
    })
    .unwrap();
    assert!(matches!(
        ae.iwae(x.view(), 10, 0),
        Err(VaeError::NotProbabilistic(_))
    ));
}

#[test]
fn forward_trace_shows_every_step_with_consistent_shapes() {
    let vae = Vae::<f32>::new(VaeConfig {
        hidden: vec![32],
        latent: 2,
        ..VaeConfig::default()
    })
    .unwrap();
    let x = batch(5, 784, 14).mapv(|v| v as f32);
    let t = vae.forward_trace(x.view(), 3).unwrap();
    assert_eq!(
        (t.mu.dim(), t.log_var.dim(), t.eps.dim(), t.z.dim()),
        ((5, 2), (5, 2), (5, 2), (5, 2))
    );
    assert_eq!(t.logits.dim(), (5, 784));
    let z = &t.mu + &(&t.sigma * &t.eps);
    assert!(z.iter().zip(t.z.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
    for i in 0..5 {
        assert!((t.elbo[i] - (t.log_px_z[i] - t.kl[i])).abs() < 1e-9);
    }
    let shown = t.to_string();
    assert!(
        shown.contains("z = μ + σ ⊙ ε") && shown.contains("5 × 784"),
        "{shown}"
    );
}

#[test]
fn shape_errors_are_reported_not_panicked() {
    let vae = Vae::<f32>::new(VaeConfig::default()).unwrap();
    let bad = Array2::<f32>::zeros((2, 100));
    assert!(matches!(
        vae.encode(bad.view()),
        Err(VaeError::Shape {
            expected: 784,
            found: 100,
            ..
        })
    ));
    assert!(matches!(
        vae.decode(bad.view()),
        Err(VaeError::Shape { expected: 20, .. })
    ));
    assert!(vae.elbo(bad.view(), 1, 0).is_err());
    assert!(vae.forward_trace(bad.view(), 0).is_err());
    let x = Array2::<f32>::zeros((2, 784));
    let eps = Array2::<f32>::zeros((3, 20));
    assert!(vae.loss_and_grad(x.view(), eps.view(), 1.0).is_err());
    assert!(
        Vae::<f32>::new(VaeConfig {
            latent: 0,
            ..VaeConfig::default()
        })
        .is_err()
    );
    assert!(
        Vae::<f32>::new(VaeConfig {
            hidden: vec![1 << 20, 1 << 20],
            ..VaeConfig::default()
        })
        .is_err()
    );
}

#[test]
fn decoding_gives_images_and_flops_match_the_benchmark_figure() {
    let vae = Vae::<f32>::new(VaeConfig::default()).unwrap();
    let s = vae.sample(7, 1).unwrap();
    assert_eq!(s.dim(), (7, 784));
    assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(vae.num_parameters(), 652_824);
    let f = VaeConfig::default().train_flops_per_example();
    assert!((f / 1e6 - 3.28).abs() < 0.01, "{f}");
}

fn mnist_subset(n_train: usize, n_test: usize) -> (Array2<f32>, Array2<f32>) {
    let m = crate::data::mnist_10k().unwrap();
    (
        m.train.images().slice(s![..n_train, ..]).to_owned(),
        m.test.images().slice(s![..n_test, ..]).to_owned(),
    )
}

#[test]
fn a_short_training_run_raises_the_elbo() {
    let (train, test) = mnist_subset(1500, 200);
    let vae = Vae::new(VaeConfig {
        hidden: vec![64],
        latent: 8,
        ..VaeConfig::default()
    })
    .unwrap();
    let before = vae.elbo(test.view(), 1, 0).unwrap().mean_elbo();
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 64,
        verbose: false,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(vae, cfg).unwrap();
    let h = trainer
        .fit(train.view(), Some(test.view()))
        .unwrap()
        .clone();
    let test_elbo: Vec<f64> = h.epochs.iter().map(|e| e.test.unwrap().elbo).collect();
    assert!(
        test_elbo[0] > before + 100.0,
        "first epoch {} vs untrained {before}",
        test_elbo[0]
    );
    assert!(
        test_elbo[3] > test_elbo[0] + 10.0,
        "test ELBO per epoch {test_elbo:?}"
    );
    assert!(h.epochs[3].train.elbo > h.epochs[0].train.elbo);
    assert!(h.epochs.iter().all(|e| e.train.kl > 0.0));
    let df = h.to_frame();
    assert_eq!(df.shape(), (4, 11));
    // going on with fit continues the same run
    trainer.fit(train.view(), None).unwrap();
    assert_eq!(trainer.history().epochs.len(), 8);
    assert_eq!(trainer.history().epochs[7].epoch, 8);
    assert!(trainer.history().epochs[7].test.is_none());
}

#[test]
fn training_is_reproducible_from_its_seed() {
    let (train, _) = mnist_subset(300, 0);
    let run = |seed| {
        let cfg = TrainConfig {
            epochs: 1,
            batch_size: 64,
            seed,
            binarize: true,
            threads: 2,
            kl_warmup_epochs: 2.0,
            schedule: LrSchedule::Cosine {
                final_fraction: 0.1,
            },
            verbose: false,
            ..TrainConfig::default()
        };
        let c = VaeConfig {
            hidden: vec![16],
            latent: 3,
            activation: Activation::Elu,
            ..VaeConfig::default()
        };
        train::train(c, cfg, train.view(), None).unwrap().0
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn the_plain_autoencoder_trains_without_a_kl_term() {
    let (train, test) = mnist_subset(1000, 100);
    let c = VaeConfig {
        hidden: vec![64],
        latent: 2,
        mode: Mode::Autoencoder,
        ..VaeConfig::default()
    };
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 64,
        verbose: false,
        ..TrainConfig::default()
    };
    let (ae, h) = train::train(c, cfg, train.view(), Some(test.view())).unwrap();
    assert!(h.epochs.iter().all(|e| e.train.kl == 0.0 && e.beta == 0.0));
    assert!(h.epochs[2].test.unwrap().rec > h.epochs[0].test.unwrap().rec);
    let code = ae.encode(test.view()).unwrap();
    assert_eq!(code.mu.dim(), (100, 2));
    assert!(code.log_var.is_none());
    // deterministic: evaluating twice with different seeds gives the same reconstruction term
    assert_eq!(
        ae.elbo(test.view(), 3, 1).unwrap(),
        ae.elbo(test.view(), 3, 2).unwrap()
    );
}

/// Bad input at every entry point of the model gives a typed error naming the argument (issue
/// 13's cases: NaN or out-of-[0, 1] pixels gave a NaN or positive "log-likelihood", β = NaN
/// trained to NaN, mismatched interpolation ends were silently truncated).
#[test]
fn nan_and_out_of_range_inputs_are_typed_errors_at_every_entry_point() {
    let vae = Vae::<f32>::new(VaeConfig {
        hidden: vec![8],
        latent: 2,
        input_dim: 5,
        ..VaeConfig::default()
    })
    .unwrap();
    let eps = Array2::<f32>::zeros((3, 2));
    for bad in [f32::NAN, -0.25, 1.5, f32::NEG_INFINITY] {
        let mut x = Array2::<f32>::from_elem((3, 5), 0.5);
        x[[2, 4]] = bad;
        let data = |e: VaeError| {
            matches!(
                e,
                VaeError::Data {
                    what: "x",
                    row: 2,
                    col: 4,
                    ..
                }
            )
        };
        assert!(data(vae.elbo(x.view(), 1, 0).unwrap_err()), "elbo {bad}");
        assert!(data(vae.iwae(x.view(), 3, 0).unwrap_err()), "iwae {bad}");
        assert!(
            data(vae.forward_trace(x.view(), 0).unwrap_err()),
            "trace {bad}"
        );
        let e = vae.loss_and_grad(x.view(), eps.view(), 1.0).unwrap_err();
        assert!(data(e), "loss_and_grad {bad}");
    }
    let x = Array2::<f32>::from_elem((3, 5), 0.5);
    for beta in [f64::NAN, -1.0, f64::INFINITY] {
        assert!(matches!(
            vae.loss_and_grad(x.view(), eps.view(), beta),
            Err(VaeError::Setting { .. })
        ));
    }
    let mut nan_eps = eps.clone();
    nan_eps[[0, 0]] = f32::NAN;
    assert!(matches!(
        vae.loss_and_grad(x.view(), nan_eps.view(), 1.0),
        Err(VaeError::Setting { .. })
    ));
    assert!(matches!(
        vae.elbo(x.view(), 0, 0),
        Err(VaeError::TooFew { what: "draws", .. })
    ));
    // the valid input still gives log-probabilities
    let t = vae.elbo(x.view(), 2, 0).unwrap();
    assert!(t.rec.iter().all(|&r| r <= 0.0) && t.kl.iter().all(|&k| k >= 0.0));
    let e = interpolate(
        ndarray::array![0.0f32, 1.0].view(),
        ndarray::array![1.0f32].view(),
        3,
    );
    assert!(matches!(e, Err(VaeError::Shape { .. })));
    // configuration errors name the width at fault
    let e = Vae::<f32>::new(VaeConfig {
        hidden: vec![4, 0],
        ..VaeConfig::default()
    })
    .unwrap_err();
    assert_eq!(
        e,
        VaeError::ZeroWidth {
            what: "hidden[1]".into()
        }
    );
}
