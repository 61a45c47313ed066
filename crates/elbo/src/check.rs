//! Executable checks: the line in a notebook that fails if the maths is wrong.
//!
//! Each check prints one line saying what it verified (`✓ D_KL(p‖q) = ln(5/3): …`) and panics
//! with a message naming the claim, the value obtained and the value expected when the claim
//! does not hold. A check given a meaningless tolerance (NaN or negative) panics saying so
//! (`check misused: …`) instead of reporting the claim as false; a NaN value never passes. No
//! check loops or allocates beyond its message. The notebook runner (`cargo xtask test`) turns such a panic into a failure that
//! names the notebook and the cell.
//!
//! ```
//! use elbo::check;
//! check::close("ln 2 in bits", std::f64::consts::LN_2 / std::f64::consts::LN_2, 1.0, 1e-12);
//! check::that("KL is asymmetric", 0.51 != 0.37);
//! ```

use std::fmt::Display;

/// Checks `|got − want| ≤ tol` (absolute tolerance).
///
/// Infinities compare equal to themselves (so `D_KL = +∞` can be checked); a NaN never passes.
#[track_caller]
pub fn close(what: &str, got: f64, want: f64, tol: f64) {
    tolerance(what, "tol", tol);
    let diff = abs_diff(got, want);
    if diff <= tol {
        println!("✓ {what}: {got:.10} (expected {want:.10}, |Δ| = {diff:.2e} ≤ {tol:.0e})");
    } else {
        panic!(
            "check failed: {what}: got {got:.12}, expected {want:.12} ± {tol:e} (|Δ| = {diff:e})"
        );
    }
}

/// Checks `|got − want| ≤ rel · max(|want|, tiny)` (relative tolerance).
#[track_caller]
pub fn close_rel(what: &str, got: f64, want: f64, rel: f64) {
    tolerance(what, "rel", rel);
    let diff = abs_diff(got, want);
    let scale = want.abs().max(f64::MIN_POSITIVE);
    let r = diff / scale;
    if r <= rel {
        println!("✓ {what}: {got:.8} (expected {want:.8}, relative error {r:.2e} ≤ {rel:.0e})");
    } else {
        panic!(
            "check failed: {what}: got {got:.10}, expected {want:.10} within relative {rel:e} \
             (relative error {r:e})"
        );
    }
}

/// Checks that a Monte Carlo `estimate` with standard error `se` agrees with the exact value
/// `want` within `k` standard errors: `|estimate − want| ≤ k·se`.
///
/// A NaN, infinite or negative `se` fails with a message saying the standard error is unusable.
#[track_caller]
pub fn within_se(what: &str, estimate: f64, se: f64, want: f64, k: f64) {
    tolerance(what, "k", k);
    if !(se.is_finite() && se >= 0.0) {
        panic!(
            "check failed: {what}: the standard error {se} is not a finite number ≥ 0 \
             (estimate {estimate}), so nothing can be concluded"
        );
    }
    let diff = abs_diff(estimate, want);
    if diff <= k * se {
        let z = if se > 0.0 { diff / se } else { 0.0 };
        println!(
            "✓ {what}: {estimate:.6} ± {se:.2e} (exact {want:.6}, {z:.2} standard errors ≤ {k})"
        );
    } else {
        panic!(
            "check failed: {what}: estimate {estimate:.8} with standard error {se:e} is more than \
             {k} standard errors from the exact value {want:.8} (|Δ| = {diff:e})"
        );
    }
}

/// Checks `a ≤ b + tol`, e.g. a lower bound: `check::le("ELBO ≤ log p(x)", elbo, log_px, 1e-9)`.
#[track_caller]
pub fn le(what: &str, a: f64, b: f64, tol: f64) {
    tolerance(what, "tol", tol);
    if a <= b + tol && !a.is_nan() && !b.is_nan() {
        println!("✓ {what}: {a:.8} ≤ {b:.8}");
    } else {
        panic!("check failed: {what}: expected {a:.10} ≤ {b:.10} (tolerance {tol:e})");
    }
}

/// Checks a boolean claim.
#[track_caller]
pub fn that(what: &str, ok: bool) {
    if ok {
        println!("✓ {what}");
    } else {
        panic!("check failed: {what}");
    }
}

/// Checks that every pair in `got`/`want` is within `tol`, and reports the largest error.
#[track_caller]
pub fn all_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    tolerance(what, "tol", tol);
    if got.len() != want.len() {
        panic!(
            "check failed: {what}: {} values obtained but {} expected",
            got.len(),
            want.len()
        );
    }
    let (worst, at) = got
        .iter()
        .zip(want)
        .map(|(g, w)| abs_diff(*g, *w))
        .enumerate()
        .fold((0.0_f64, 0), |(m, i), (j, d)| {
            if d > m || d.is_nan() { (d, j) } else { (m, i) }
        });
    if worst <= tol {
        println!(
            "✓ {what}: {} values, max |Δ| = {worst:.2e} ≤ {tol:.0e}",
            got.len()
        );
    } else {
        panic!(
            "check failed: {what}: value {at} is {} but {} was expected (|Δ| = {worst:e} > {tol:e})",
            got[at], want[at]
        );
    }
}

/// Checks that `result` is an error, prints its message (so a notebook can show what a user sees
/// on bad input) and returns the error.
#[track_caller]
pub fn fails<T: std::fmt::Debug, E: Display>(what: &str, result: Result<T, E>) -> E {
    match result {
        Err(e) => {
            println!("✓ {what} is rejected: {e}");
            e
        }
        Ok(v) => panic!("check failed: {what} should have been rejected, but gave {v:?}"),
    }
}

/// Panics (naming the check) unless a tolerance is ≥ 0 and not NaN: with a NaN or negative
/// tolerance every comparison is false, which would blame the mathematics for a typo.
#[track_caller]
fn tolerance(what: &str, name: &str, value: f64) {
    if value.is_nan() || value < 0.0 {
        panic!("check misused: {what}: tolerance {name} = {value} must be a number ≥ 0");
    }
}

/// `|a − b|`, with equal infinities at distance 0 and NaN anywhere giving NaN.
fn abs_diff(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_accepts_within_tolerance_and_equal_infinities() {
        close("near", 1.0 + 1e-13, 1.0, 1e-12);
        close("infinite", f64::INFINITY, f64::INFINITY, 0.0);
    }

    #[test]
    #[should_panic(expected = "check failed: far")]
    fn close_rejects_outside_tolerance() {
        close("far", 1.1, 1.0, 1e-3);
    }

    #[test]
    #[should_panic(expected = "check failed")]
    fn nan_never_passes() {
        close("nan", f64::NAN, 1.0, 1.0);
    }

    #[test]
    #[should_panic(expected = "standard errors")]
    fn within_se_rejects_far_estimates() {
        within_se("mc", 2.5, 0.1, 2.0, 3.0);
    }

    #[test]
    fn within_se_accepts_near_estimates() {
        within_se("mc", 2.05, 0.1, 2.0, 3.0);
    }

    #[test]
    #[should_panic(expected = "value 1 is")]
    fn all_close_names_the_worst_entry() {
        all_close("vec", &[1.0, 2.5], &[1.0, 2.0], 1e-6);
    }

    #[test]
    #[should_panic(expected = "expected")]
    fn le_rejects_violated_bounds() {
        le("bound", 1.0, 0.5, 1e-9);
    }

    #[test]
    #[should_panic(expected = "check misused: t: tolerance tol = NaN")]
    fn a_nan_tolerance_is_reported_as_misuse_not_as_a_false_claim() {
        close("t", 1.0, 1.0, f64::NAN);
    }

    #[test]
    #[should_panic(expected = "tolerance k = -1 must be a number ≥ 0")]
    fn a_negative_tolerance_is_reported_as_misuse() {
        within_se("t", 1.0, 0.1, 1.0, -1.0);
    }

    #[test]
    #[should_panic(expected = "standard error NaN is not a finite number")]
    fn a_nan_standard_error_is_named() {
        within_se("t", 1.0, f64::NAN, 1.0, 3.0);
    }

    #[test]
    fn fails_returns_the_error() {
        let e = fails("bad", "x".parse::<i32>());
        assert!(e.to_string().contains("invalid digit"));
    }

    #[test]
    #[should_panic(expected = "should have been rejected")]
    fn fails_rejects_success() {
        fails("good", "1".parse::<i32>());
    }
}
