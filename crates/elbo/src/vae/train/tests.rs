//! Tests of [`crate::vae::train`](super).

use super::*;

#[test]
fn cosine_schedule_runs_from_peak_to_floor() {
    let s = LrSchedule::Cosine {
        final_fraction: 0.1,
    };
    assert_eq!(s.at(2e-3, 0.0), 2e-3);
    assert!((s.at(2e-3, 0.5) - 1.1e-3).abs() < 1e-12);
    assert!((s.at(2e-3, 1.0) - 2e-4).abs() < 1e-12);
    assert!((s.at(2e-3, 7.0) - 2e-4).abs() < 1e-12);
    assert_eq!(LrSchedule::Constant.at(1e-3, 0.7), 1e-3);
}

#[test]
fn kl_warmup_is_linear_then_one() {
    assert_eq!(kl_weight(0.0, 0.0), 1.0);
    assert_eq!(kl_weight(10.0, 2.5), 0.25);
    assert_eq!(kl_weight(10.0, 12.0), 1.0);
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let vae = || {
        Vae::new(VaeConfig {
            hidden: vec![4],
            latent: 2,
            input_dim: 6,
            ..VaeConfig::default()
        })
        .unwrap()
    };
    assert!(
        Trainer::new(
            vae(),
            TrainConfig {
                batch_size: 0,
                ..TrainConfig::default()
            }
        )
        .is_err()
    );
    let mut adam = TrainConfig::default();
    adam.adam.lr = -1.0;
    assert!(Trainer::new(vae(), adam).is_err());
    let mut t = Trainer::new(
        vae(),
        TrainConfig {
            verbose: false,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    let wrong = ndarray::Array2::<f32>::zeros((3, 5));
    assert!(matches!(
        t.fit(wrong.view(), None),
        Err(VaeError::Shape { .. })
    ));
    let empty = ndarray::Array2::<f32>::zeros((0, 6));
    assert!(matches!(
        t.fit(empty.view(), None),
        Err(VaeError::TooFew { .. })
    ));
}

/// NaN and out-of-range settings and data are refused where they enter, naming the setting
/// or the entry (before, they trained to NaN parameters or zero epochs without a word).
#[test]
fn nan_settings_and_nan_data_are_typed_errors_at_entry() {
    let vae = || {
        Vae::new(VaeConfig {
            hidden: vec![4],
            latent: 2,
            input_dim: 6,
            ..VaeConfig::default()
        })
        .unwrap()
    };
    let base = || TrainConfig {
        verbose: false,
        epochs: 1,
        ..TrainConfig::default()
    };
    let mut bad = Vec::new();
    for lr in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        let mut c = base();
        c.adam.lr = lr;
        bad.push(("lr", c));
    }
    let mut c = base();
    c.adam.beta2 = f64::NAN;
    bad.push(("β₂", c));
    for w in [f64::NAN, -1.0, f64::INFINITY] {
        bad.push((
            "kl_warmup_epochs",
            TrainConfig {
                kl_warmup_epochs: w,
                ..base()
            },
        ));
    }
    for f in [f64::NAN, 1.5] {
        bad.push((
            "final_fraction",
            TrainConfig {
                schedule: LrSchedule::Cosine { final_fraction: f },
                ..base()
            },
        ));
    }
    for b in [f64::NAN, 0.0, -3.0] {
        bad.push((
            "time_budget",
            TrainConfig {
                time_budget: Some(b),
                ..base()
            },
        ));
    }
    bad.push((
        "eval_draws",
        TrainConfig {
            eval_draws: 0,
            ..base()
        },
    ));
    for (what, c) in bad {
        let e = Trainer::new(vae(), c).expect_err(what);
        assert!(
            matches!(e, VaeError::Setting { .. } | VaeError::TooFew { .. }),
            "{what}: {e}"
        );
    }
    let mut t = Trainer::new(vae(), base()).unwrap();
    let before = t.model().clone();
    for v in [f32::NAN, -0.1, 1.1, f32::INFINITY] {
        let mut x = ndarray::Array2::<f32>::from_elem((10, 6), 0.5);
        x[[7, 2]] = v;
        let e = t.fit(x.view(), None).unwrap_err();
        assert!(
            matches!(e, VaeError::Data { row: 7, col: 2, .. }),
            "{v}: {e}"
        );
        let ok = ndarray::Array2::<f32>::from_elem((10, 6), 0.5);
        let e = t.fit(ok.view(), Some(x.view())).unwrap_err();
        assert!(
            matches!(
                e,
                VaeError::Data {
                    what: "test data",
                    ..
                }
            ),
            "{e}"
        );
    }
    assert_eq!(t.model(), &before, "a refused fit trains nothing");
    assert!(t.history().epochs.is_empty());
}
