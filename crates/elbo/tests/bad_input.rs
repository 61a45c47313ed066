//! Issue 13, "bad input gets a clear answer, every time", for `plot`, `table`, `check`,
//! `gaussian`, `info`, `estimators`, `kl_fit`, `evidence` and `data`'s data sets: one test per failure class the issue found (hang,
//! panic, silently wrong value, misleading error, memory), then property tests over the public
//! constructors and entry points. Every property asserts "Ok with a finite or documented value,
//! or a typed error" and runs the call under `catch_unwind`, so a panic fails the property with
//! its input. Inputs that used to hang must now return: the work is bounded, not timed.

use elbo::check;
use elbo::data::{Dataset, DatasetError, binarize};
use elbo::estimators::{
    self, Estimator, EstimatorError, Gaussian as G1, Sampling, Square, log_log_slope, log_mean_exp,
    log_spaced,
};
use elbo::evidence::{IsotropicModel, error_summary, importance_relative_variance};
use elbo::gaussian::{DiagGaussian, Gaussian, GaussianError, normal_pdf};
use elbo::info::{self, Pmf, PmfError, Unit};
use elbo::kl_fit::Mixture;
use elbo::ndarray::{Array1, Array2};
use elbo::plot::{Chart, PlotError, image_grid};
use elbo::polars::prelude::*;
use elbo::table::Table;
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, failing the test (with the input in the message) if it panics.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{what} panicked: {msg}")
        }
    }
}

fn line() -> Chart {
    Chart::new("t").line("s", &[1.0, 2.0, 3.0], &[1.0, 4.0, 9.0])
}

// ---------------------------------------------------------------- hang

#[test]
fn hang_infinite_or_overflowing_axis_ranges_are_errors() {
    for chart in [
        line().x_range(0.0, f64::INFINITY),
        line().y_range(f64::NEG_INFINITY, 1.0),
        line().x_range(-1e308, 1e308),
        line().log_x().x_range(1e-300, 1e300),
        Chart::new("t").line("s", &[-1e308, 1e308], &[1.0, 2.0]),
        Chart::new("t").line("s", &[1.0, 2.0], &[-1e308, 1e308]),
        Chart::new("t")
            .log_y()
            .line("s", &[1.0, 2.0], &[1e-300, 1e300]),
        Chart::new("t")
            .log_y()
            .line("s", &[1.0, 2.0], &[1.0, 1e308]),
    ] {
        let e = chart.render().unwrap_err();
        assert!(matches!(e, PlotError::Range { .. }), "{e}");
    }
}

#[test]
fn hang_huge_requests_are_refused_before_any_work() {
    assert!(log_spaced(2, u64::MAX, usize::MAX).is_err());
    let settings = estimators::Descent {
        iterations: usize::MAX,
        ..Default::default()
    };
    assert!(matches!(
        estimators::descend(Estimator::Pathwise, &Square, &settings, 0),
        Err(EstimatorError::Invalid {
            what: "iterations",
            ..
        })
    ));
}

// ---------------------------------------------------------------- panic

#[test]
fn panic_class_labels_shorter_than_points_is_an_error() {
    let e = Chart::new("t")
        .classes(&[1.0, 2.0], &[1.0, 2.0], &[1])
        .render()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "classes: 1 class labels for 2 points; one label per point is expected"
    );
    let e = Chart::new("t")
        .classes(&[1.0, 2.0], &[1.0], &[1, 2])
        .render()
        .unwrap_err();
    assert!(matches!(
        e,
        PlotError::Length {
            what: "y",
            got: 1,
            expected: 2,
            ..
        }
    ));
}

#[test]
fn panic_nan_axis_range_is_an_error() {
    let e = line().x_range(f64::NAN, 1.0).render().unwrap_err();
    assert_eq!(
        e.to_string(),
        "x axis range [NaN, 1.0] (given by x_range): both ends must be finite numbers"
    );
}

#[test]
fn panic_points_far_outside_a_fixed_range_are_drawn() {
    // Used to overflow the drawing library's i32 pixel arithmetic.
    let fig = line().x_range(0.3, 0.300_000_001).render().unwrap();
    assert!(fig.svg().contains("<svg"));
    let fig = Chart::new("t")
        .log_y()
        .points("p", &[1.0, 2.0], &[1e-300, 1e300])
        .y_range(1.0, 10.0)
        .render()
        .unwrap();
    assert!(fig.svg().contains("<svg"));
}

#[test]
fn panic_overflowing_image_grid_is_a_shape_error() {
    let a = Array2::<f32>::zeros((2, 0));
    let e = image_grid("t", a.view(), 0, usize::MAX, 2).unwrap_err();
    assert!(e.to_string().contains("must be ≥ 1"), "{e}");
    let a = Array2::<f32>::zeros((1, 4));
    let e = image_grid("t", a.view(), usize::MAX, 2, 1).unwrap_err();
    assert!(e.to_string().contains("overflows"), "{e}");
}

#[test]
fn panic_oversized_samples_are_typed_errors() {
    let q = DiagGaussian::standard(3).unwrap();
    assert_eq!(
        q.sample(usize::MAX, 0).unwrap_err(),
        GaussianError::TooLarge {
            n: usize::MAX,
            dim: 3
        }
    );
    assert!(Gaussian::standard().sample(usize::MAX, 0).is_err());
    assert!(matches!(
        Pmf::uniform(usize::MAX),
        Err(PmfError::TooLarge { .. })
    ));
}

// ---------------------------------------------------------------- silently wrong

#[test]
fn panic_an_inconsistent_dataset_cannot_be_built() {
    // Fields were public: shortened labels made `select` and batching index past the end.
    let x = Array2::<f32>::zeros((3, 4));
    let e = Dataset::new(x.clone(), vec![1, 2], 2, 2).unwrap_err();
    assert_eq!(
        e,
        DatasetError::Labels {
            images: 3,
            labels: 2
        }
    );
    assert!(e.to_string().contains("2 labels for 3 images"), "{e}");
    let e = Dataset::new(x.clone(), vec![0; 3], 3, 2).unwrap_err();
    assert_eq!(
        e,
        DatasetError::Size {
            height: 3,
            width: 2,
            columns: 4
        }
    );
    // height · width overflowing usize is a size error, not a wrap-around that happens to match
    let e = Dataset::new(x.clone(), vec![0; 3], usize::MAX, 2).unwrap_err();
    assert!(matches!(e, DatasetError::Size { .. }), "{e}");
    let d = Dataset::new(x, vec![7, 8, 9], 2, 2).unwrap();
    assert_eq!((d.len(), d.pixels(), d.labels()), (3, 4, &[7u8, 8, 9][..]));
    assert_eq!(d.select(&[3]).unwrap_err().len, 3);
}

#[test]
fn silently_wrong_nan_or_out_of_range_pixels_are_rejected() {
    // binarize used to map NaN to 0; a data set of grey levels outside [0, 1] gave positive
    // "log-likelihoods".
    for bad in [f32::NAN, f32::INFINITY, -0.1, 1.5] {
        let mut x = Array2::<f32>::from_elem((2, 3), 0.5);
        x[[1, 2]] = bad;
        let before = x.clone();
        let e = binarize(x.view_mut(), 1).unwrap_err();
        assert!(
            matches!(e, DatasetError::Pixel { row: 1, col: 2, .. }),
            "{e}"
        );
        assert!(
            x.iter()
                .zip(&before)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "changed on error"
        );
        let e = Dataset::new(before, vec![0, 0], 1, 3).unwrap_err();
        assert!(e.to_string().contains("pixel [1, 2]"), "{e}");
    }
}

#[test]
fn silently_wrong_normal_pdf_rejects_a_non_positive_sigma() {
    for s in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                normal_pdf(0.0, 0.0, s),
                Err(GaussianError::BadStdDev { .. })
            ),
            "σ = {s}"
        );
    }
    assert!(normal_pdf(f64::NAN, 0.0, 1.0).is_err());
    assert_eq!(normal_pdf(f64::INFINITY, 0.0, 1.0), Ok(0.0));
}

#[test]
fn silently_wrong_charts_are_errors_not_pictures() {
    // Each of these used to render an SVG that showed nothing meaningful.
    assert!(matches!(
        line().x_range(2.0, 1.0).render(),
        Err(PlotError::Range { .. })
    ));
    assert!(matches!(
        line().log_x().x_range(-1.0, 10.0).render(),
        Err(PlotError::Range { .. })
    ));
    assert!(matches!(
        line().size(0, 0).render(),
        Err(PlotError::Size { .. })
    ));
}

#[test]
fn silently_wrong_tiny_sigma_cannot_make_a_zero_variance() {
    // σ = 1e-200 would give σ² = 0 and a score of 0/0.
    assert!(Gaussian::new(0.0, 1e-200).is_err());
    let p = Gaussian::new(0.0, 1e-150).unwrap();
    assert!(p.variance() > 0.0 && p.score_mean(0.0) == 0.0);
    assert!(log_mean_exp(&[f64::INFINITY, f64::NAN]).is_nan());
}

#[test]
fn silently_wrong_nan_points_and_noise_are_rejected() {
    let q = DiagGaussian::standard(2).unwrap();
    let nan = Array1::from(vec![0.0, f64::NAN]);
    assert!(matches!(
        q.log_density(nan.view()),
        Err(GaussianError::BadPoint {
            what: "x",
            index: 1,
            ..
        })
    ));
    assert!(q.reparameterize(nan.view()).is_err());
    let inf = Array1::from(vec![f64::INFINITY, 0.0]);
    assert_eq!(q.log_density(inf.view()), Ok(f64::NEG_INFINITY));
}

// ---------------------------------------------------------------- misleading error

#[test]
fn misleading_error_log_variance_length_names_the_log_variance() {
    let e = DiagGaussian::from_log_var(Array1::zeros(2), Array1::zeros(3).view()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "μ has 2 components but ln σ² has 3; they must have the same length"
    );
}

#[test]
fn misleading_error_reference_line_alone_names_the_chart() {
    let e = Chart::new("only a line")
        .hline("h", 1.0)
        .render()
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("chart `only a line` has nothing to draw")
    );
}

#[test]
fn misleading_error_checks_blame_the_tolerance_not_the_maths() {
    let r = catch_unwind(|| check::close("x", 1.0, 1.0, -1.0));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.starts_with("check misused: x: tolerance tol = -1"),
        "{msg}"
    );
}

// ---------------------------------------------------------------- property tests

/// Any f64, with the awkward values often.
fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -10.0..10.0f64,
        1 => any::<f64>(),
        1 => prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(1e-200),
            Just(1e200),
        ],
    ]
}

fn wild_vec(max: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(wild(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn chart_render_never_panics_or_hangs(
        x in wild_vec(6), y in wild_vec(6), lo in wild_vec(6), hi in wild_vec(6),
        labels in prop::collection::vec(0u8..12, 0..6),
        xr in prop::option::of((wild(), wild())), yr in prop::option::of((wild(), wild())),
        logs in (any::<bool>(), any::<bool>()), size in (0u32..20_000, 0u32..20_000),
        h in wild(),
    ) {
        let mut c = Chart::new("p").size(size.0, size.1)
            .line("l", &x, &y).dashed("d", &y, &x).points("p", &x, &x)
            .band("b", &x, &lo, &hi).hline("h", h).classes(&x, &y, &labels);
        if logs.0 { c = c.log_x(); }
        if logs.1 { c = c.log_y(); }
        if let Some((a, b)) = xr { c = c.x_range(a, b); }
        if let Some((a, b)) = yr { c = c.y_range(a, b); }
        if let Ok(fig) = no_panic("render", || c.render()) {
            prop_assert!(fig.svg().starts_with("<svg"));
        }
    }

    #[test]
    fn chart_accepts_every_finite_range_it_validates(
        a in wild(), b in wild(), log in any::<bool>(),
        x in prop::collection::vec(-1e6..1e6f64, 1..5),
    ) {
        // Data anywhere relative to the range: drawn (clipped) or a typed error, never a panic.
        let xs: Vec<f64> = x.iter().map(|v| v.abs() + 1e-3).collect();
        let mut c = Chart::new("p").points("p", &xs, &xs).x_range(a, b);
        if log { c = c.log_x(); }
        let r = no_panic("render", || c.render());
        if let Err(e) = r {
            let range = matches!(e, PlotError::Range { .. });
            prop_assert!(range, "{}", e);
        }
    }

    #[test]
    fn image_grid_never_panics(
        n in 0usize..5, ncols in 0usize..10, h in prop_oneof![0usize..5, Just(usize::MAX)],
        w in prop_oneof![0usize..5, Just(usize::MAX / 2)], cols in prop_oneof![0usize..6, Just(usize::MAX)],
        v in wild(),
    ) {
        let mut a = Array2::<f32>::from_elem((n, ncols), 0.5);
        if n > 0 && ncols > 0 { a[(n - 1, ncols - 1)] = v as f32; }
        if let Ok(fig) = no_panic("image_grid", || image_grid("g", a.view(), h, w, cols)) {
            prop_assert!(fig.svg().contains("base64"));
        }
    }

    #[test]
    fn gaussians_are_valid_or_refused(m in wild(), s in wild(), x in wild(), lv in wild()) {
        if let Ok(p) = Gaussian::new(m, s) {
            prop_assert!(p.variance().is_finite() && p.variance() > 0.0);
            prop_assert!(p.log_density(m).is_finite());
            let lp = p.log_density(x);
            prop_assert!(!lp.is_nan() || x.is_nan());
        }
        if let Ok(d) = normal_pdf(x, m, s) {
            prop_assert!(d.is_finite() && d >= 0.0);
        }
        if let Ok(q) = DiagGaussian::from_log_var(Array1::from(vec![m, 0.0]), Array1::from(vec![lv, 0.0]).view()) {
            prop_assert!(q.variance().iter().all(|v| v.is_finite() && *v > 0.0));
            prop_assert!(q.entropy().is_finite());
        }
    }

    #[test]
    fn diag_gaussian_entry_points_never_panic(
        mean in wild_vec(4), sd in wild_vec(4), x in wild_vec(4),
        n in prop_oneof![0usize..4, Just(usize::MAX), Just(usize::MAX / 16)],
    ) {
        let r = DiagGaussian::new(Array1::from(mean), Array1::from(sd));
        if let Ok(q) = r {
            let x = Array1::from(x);
            if let Ok(lp) = no_panic("log_density", || q.log_density(x.view())) {
                prop_assert!(!lp.is_nan() && lp < f64::INFINITY);
            }
            let _ = no_panic("reparameterize", || q.reparameterize(x.view()));
            if n < 4 {
                let z = q.sample(n, 1).unwrap();
                prop_assert_eq!(z.dim(), (n, q.dim()));
            } else {
                let too_large = matches!(q.sample(n, 1), Err(GaussianError::TooLarge { .. }));
                prop_assert!(too_large);
            }
        }
    }

    #[test]
    fn divergences_are_non_negative_or_refused(
        v in prop::collection::vec(wild(), 0..5), w in prop::collection::vec(wild(), 0..5),
        mu1 in wild_vec(4), var1 in wild_vec(4), mu2 in wild_vec(4), var2 in wild_vec(4),
    ) {
        for unit in [Unit::Nats, Unit::Bits] {
            if let (Ok(p), Ok(q)) = (Pmf::normalize(v.clone()), Pmf::normalize(w.clone())) {
                prop_assert!((p.probs().iter().sum::<f64>() - 1.0).abs() < 1e-9);
                prop_assert!(info::entropy(&p, unit) >= 0.0);
                match info::kl_divergence(&p, &q, unit) {
                    Ok(kl) => prop_assert!(kl >= 0.0, "{kl}"),
                    Err(e) => prop_assert_eq!(e, PmfError::SupportMismatch { first: v.len(), second: w.len() }),
                }
                if let Ok(js) = info::js_divergence(&p, &q, unit) {
                    prop_assert!((0.0..=1.0 + 1e-12).contains(&unit.from_nats(js).min(js)));
                }
            }
        }
        let _ = Pmf::new(v);
        if let Ok(kl) = info::kl_diag_gaussians(&mu1, &var1, &mu2, &var2) {
            prop_assert!(kl >= 0.0, "{kl}");
        }
        if let Ok(kl) = info::kl_to_standard_normal(&mu1, &var1) {
            prop_assert!(kl >= 0.0, "{kl}");
        }
    }

    #[test]
    fn estimators_return_estimates_or_errors(
        theta in wild(), sigma in wild(), b in wild(), n in 0u64..300, threads in 0usize..5000,
    ) {
        if let Ok(p) = G1::new(theta, sigma) {
            for est in [Estimator::Pathwise, Estimator::Score, Estimator::ScoreBaseline(b), Estimator::ScoreOptimalBaseline] {
                let r = no_panic("estimate", || estimators::estimate(est, &Square, p, Sampling::new(n, 3).threads(threads)));
                match r {
                    // f = x² may overflow for huge θ or σ: the estimate is then ±∞ or NaN, as
                    // the objective's own values are (documented); the count is always n.
                    Ok(e) => prop_assert_eq!(e.n, n),
                    Err(e) => {
                        let typed = matches!(e, EstimatorError::TooFewSamples { .. } | EstimatorError::NoThreads | EstimatorError::BadBaseline { .. });
                        prop_assert!(typed, "{}", e);
                    }
                }
            }
        }
    }

    #[test]
    fn helpers_are_bounded_and_honest(
        lo in any::<u64>(), hi in any::<u64>(), count in prop_oneof![0usize..100, Just(usize::MAX)],
        a in wild_vec(5), x in wild_vec(5), y in wild_vec(5),
    ) {
        if let Ok(v) = no_panic("log_spaced", || log_spaced(lo, hi, count)) {
            prop_assert!(v.len() <= count.max(1) && v[0] == lo && *v.last().unwrap() == hi);
            prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
        }
        let m = log_mean_exp(&a);
        prop_assert_eq!(m.is_nan(), a.is_empty() || a.iter().any(|v| v.is_nan()));
        if let Ok(s) = log_log_slope(&x, &y) { prop_assert!(s.is_finite()); }
    }

    #[test]
    fn checks_pass_or_fail_with_a_check_message(got in wild(), want in wild(), tol in wild()) {
        let outcomes = [
            catch_unwind(|| check::close("c", got, want, tol)),
            catch_unwind(|| check::close_rel("c", got, want, tol)),
            catch_unwind(|| check::within_se("c", got, tol, want, 3.0)),
            catch_unwind(|| check::le("c", got, want, tol)),
            catch_unwind(|| check::all_close("c", &[got], &[want], tol)),
        ];
        for r in outcomes {
            if let Err(e) = r {
                let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
                prop_assert!(msg.starts_with("check failed: c") || msg.starts_with("check misused: c"), "{msg}");
            }
        }
    }

    #[test]
    fn tables_show_any_frame(v in wild_vec(4), decimals in any::<u8>()) {
        let n = v.len();
        let s: Vec<String> = (0..n).map(|i| format!("<{i}&>")).collect();
        let df = DataFrame::new(n, vec![
            Column::new("x".into(), v),
            Column::new("s<".into(), s),
        ]).unwrap();
        let html = no_panic("html", || Table::new(df).decimals(decimals).html());
        prop_assert!(html.contains("<th>s&lt;</th>") && !html.contains("<0&>"));
    }

    #[test]
    fn datasets_are_consistent_or_refused(
        rows in 0usize..5, cols in 0usize..7, labels in 0usize..6,
        h in prop_oneof![0usize..8, Just(usize::MAX)], w in 0usize..8,
        pixels in prop::collection::vec(prop_oneof![4 => 0.0f32..=1.0, 1 => any::<f32>()], 35),
    ) {
        let x = Array2::from_shape_fn((rows, cols), |(i, j)| pixels[i * 7 + j]);
        let all_in_range = x.iter().all(|v| (0.0..=1.0).contains(v));
        match no_panic("Dataset::new", || Dataset::new(x.clone(), vec![0; labels], h, w)) {
            Ok(d) => {
                prop_assert!(labels == rows && h.checked_mul(w) == Some(cols) && all_in_range);
                prop_assert_eq!(d.len(), rows);
                let idx: Vec<usize> = (0..rows + 1).collect();
                prop_assert!(no_panic("select", || d.select(&idx)).is_err());
            }
            Err(DatasetError::Labels { .. }) => prop_assert!(labels != rows),
            Err(DatasetError::Size { .. }) => prop_assert!(labels == rows && h.checked_mul(w) != Some(cols)),
            Err(DatasetError::Pixel { value, .. }) => prop_assert!(!(0.0..=1.0).contains(&value)),
        }
    }

    #[test]
    fn mixtures_and_their_fits_are_valid_or_refused(
        w in wild_vec(4), m in wild_vec(4), sd in wild_vec(4), n in 0usize..2_000, seed in any::<u64>(),
    ) {
        if let Ok(mix) = no_panic("Mixture::new", || Mixture::new(&w, &m, &sd)) {
            prop_assert!(mix.weights().iter().all(|w| w.is_finite() && *w >= 0.0));
            if let Ok(q) = no_panic("moment_match", || mix.moment_match()) {
                prop_assert!(q.mean().is_finite() && q.std_dev() > 0.0);
            }
            if let Ok(xs) = no_panic("sample", || mix.sample(n, seed)) {
                prop_assert!(xs.len() == n && xs.iter().all(|x| x.is_finite()));
            }
            if let Ok(fits) = no_panic("fit_reverse_kl_from_modes", || mix.fit_reverse_kl_from_modes()) {
                for f in fits {
                    prop_assert!(f.q.mean().is_finite() && f.q.std_dev() > 0.0);
                }
            }
        }
    }

    #[test]
    fn evidence_models_are_valid_or_refused(
        a in wild(), s in wild(), d in 0usize..64, c in wild(), k in 0usize..100, x in wild_vec(8),
    ) {
        if let Ok(model) = no_panic("IsotropicModel::new", || IsotropicModel::new(a, s)) {
            let x = Array1::from(x.clone());
            if let Ok(l) = no_panic("log_evidence", || model.log_evidence(x.view())) {
                prop_assert!(l.is_finite() || l == f64::NEG_INFINITY, "{l}");
            }
            let _ = no_panic("posterior", || model.posterior(x.view()));
            if let Ok(obs) = no_panic("observation", || model.observation(d, 1)) {
                prop_assert!(obs.len() == d && obs.iter().all(|v| v.is_finite()));
            }
        }
        if let Ok(v) = no_panic("importance_relative_variance", || importance_relative_variance(c, d, k)) {
            prop_assert!(v >= 0.0, "{v}");
        }
        let _ = no_panic("error_summary", || error_summary(x.as_slice(), c));
    }
}
