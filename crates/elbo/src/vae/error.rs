//! [`VaeError`]: why a VAE operation was refused. Every variant names the argument at fault,
//! what it held and what was expected.

/// Why a VAE operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VaeError {
    /// A layer width of the configuration is zero.
    #[error("invalid VAE configuration: {what} is 0, but every width must be at least 1")]
    ZeroWidth {
        /// Which width (`input_dim`, `latent`, `hidden[i]`).
        what: String,
    },
    /// The configuration asks for more parameters than the engine is meant for.
    #[error("invalid VAE configuration: {parameters} parameters, at most {max} allowed")]
    TooLarge {
        /// Parameters the configuration would need (saturating).
        parameters: usize,
        /// The limit.
        max: usize,
    },
    /// An input matrix has the wrong number of columns (or of rows, where two must agree).
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Size found.
        found: usize,
    },
    /// The operation needs q_φ(z|x), which a plain autoencoder does not have.
    #[error("{0} needs a VAE: the plain autoencoder has no posterior variance and no KL term")]
    NotProbabilistic(&'static str),
    /// A count argument (draws, importance samples, batch size, training rows…) is too small.
    #[error("{what} is {found}, but must be at least {min}")]
    TooFew {
        /// Which argument.
        what: &'static str,
        /// Its value.
        found: usize,
        /// The smallest allowed value.
        min: usize,
    },
    /// A count argument is larger than the operation allows (its result would not fit in memory).
    #[error("{what} is {found}, but must be at most {max}")]
    TooMany {
        /// Which argument.
        what: &'static str,
        /// Its value.
        found: usize,
        /// The largest allowed value.
        max: usize,
    },
    /// A real-valued setting is NaN, infinite or outside its range.
    #[error("{what} is {found}, but must be {expected}")]
    Setting {
        /// Which setting, e.g. `"Adam learning rate"`.
        what: &'static str,
        /// Its value.
        found: f64,
        /// What was expected, e.g. `"finite and > 0"`.
        expected: &'static str,
    },
    /// An entry of a data matrix is NaN or outside the range the likelihood is defined on.
    #[error("{what}[{row}, {col}] is {found}, but must be {expected}")]
    Data {
        /// Which argument, e.g. `"x"`.
        what: &'static str,
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
        /// Its value.
        found: f64,
        /// What was expected, e.g. `"in [0, 1]"`.
        expected: &'static str,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Threads asked for (0: one per core).
        threads: usize,
        /// What the thread pool builder said.
        message: String,
    },
}

/// `Ok` if `found == expected`, else the [`VaeError::Shape`] that names `what`.
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), VaeError> {
    if expected == found {
        Ok(())
    } else {
        Err(VaeError::Shape {
            what,
            expected,
            found,
        })
    }
}

/// `Ok` if `found ≥ min`, else [`VaeError::TooFew`].
pub(crate) fn check_at_least(what: &'static str, found: usize, min: usize) -> Result<(), VaeError> {
    if found >= min {
        Ok(())
    } else {
        Err(VaeError::TooFew { what, found, min })
    }
}

/// `Ok` if `ok(found)`, else [`VaeError::Setting`] (NaN fails every range test written as
/// `ok`, so `ok` is only ever asked about the value as given).
pub(crate) fn check_setting(
    what: &'static str,
    found: f64,
    expected: &'static str,
    ok: impl Fn(f64) -> bool,
) -> Result<(), VaeError> {
    if ok(found) {
        Ok(())
    } else {
        Err(VaeError::Setting {
            what,
            found,
            expected,
        })
    }
}

/// Checks that every entry of `x` is a grey level in [0, 1] (NaN is not), naming the first that
/// is not: the Bernoulli likelihood Σⱼ xⱼ lⱼ − softplus(lⱼ) is a log-probability (≤ 0) only there.
pub(crate) fn check_pixels<T: super::Real>(
    what: &'static str,
    x: ndarray::ArrayView2<'_, T>,
) -> Result<(), VaeError> {
    let (zero, one) = (T::zero(), T::one());
    for (row, r) in x.rows().into_iter().enumerate() {
        // the fast test first (no branch per entry); the position only on failure
        if r.iter().all(|&v| v >= zero && v <= one) {
            continue;
        }
        let col = r
            .iter()
            .position(|&v| !(v >= zero && v <= one))
            .unwrap_or(0);
        return Err(VaeError::Data {
            what,
            row,
            col,
            found: r[col].to_f64(),
            expected: "a grey level in [0, 1]",
        });
    }
    Ok(())
}
