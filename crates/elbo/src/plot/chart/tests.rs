//! Tests of [`crate::plot::chart`](super).

use super::*;

#[test]
fn renders_lines_bands_and_reference_lines() {
    let x = [1.0, 2.0, 3.0];
    let fig = Chart::new("t")
        .line("est", &x, &[1.0, 2.0, 1.5])
        .band("±2se", &x, &[0.5, 1.5, 1.0], &[1.5, 2.5, 2.0])
        .hline("exact", 1.7)
        .render()
        .unwrap();
    assert!(fig.svg().contains("<svg"));
    assert!(fig.svg().contains("est"));
    assert!(fig.svg().contains("polygon") || fig.svg().contains("<path"));
}

#[test]
fn log_axes_reject_non_positive_values() {
    let err = Chart::new("t")
        .log_y()
        .line("s", &[1.0, 2.0], &[1.0, 0.0])
        .render();
    assert!(
        matches!(err, Err(PlotError::BadValue { index: 1, .. })),
        "{err:?}"
    );
}

#[test]
fn mismatched_lengths_are_an_error() {
    let err = Chart::new("t").line("s", &[1.0, 2.0], &[1.0]).render();
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("y has 1 values but x has 2")
    );
}

#[test]
fn nan_is_an_error_not_a_gap() {
    let err = Chart::new("t")
        .points("s", &[1.0, 2.0], &[f64::NAN, 1.0])
        .render();
    assert!(matches!(err, Err(PlotError::BadValue { index: 0, .. })));
}

#[test]
fn classes_get_one_legend_entry_each() {
    let fig = Chart::new("latent")
        .classes(&[0.0, 1.0, 2.0], &[0.0, 1.0, 0.5], &[3, 7, 3])
        .render()
        .unwrap();
    let texts: Vec<&str> = fig
        .svg()
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .map(str::trim)
        .collect();
    assert!(texts.contains(&"3") && texts.contains(&"7"), "{texts:?}");
}

#[test]
fn tick_labels_are_short() {
    assert_eq!(tick(1000.0), "1000");
    assert_eq!(tick(100000.0), "1e5");
    assert_eq!(tick(0.25), "0.25");
    assert_eq!(tick(2.5e-5), "2.5e-5");
    assert_eq!(tick(3.0), "3");
    assert_eq!(tick(0.0), "0");
}

#[test]
fn constant_data_still_gets_a_range() {
    assert_eq!(padded([2.0, 2.0].into_iter(), false, 0.05), (1.8, 2.2));
    let (lo, hi) = padded([10.0, 1000.0].into_iter(), true, 0.0);
    assert!((lo - 10.0).abs() < 1e-9 && (hi - 1000.0).abs() < 1e-6);
}
