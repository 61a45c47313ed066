//! Convergence runs (running estimates, root-mean-square error against n, the fitted rate),
//! gradient descent driven by an estimator, and two small numerical helpers.

use super::stream::{
    RunningMean, accumulate, fold_block, for_each_block, for_each_chunk, stream_rng,
};
use super::{Estimate, Estimator, EstimatorError, Gaussian, Objective};

/// A running estimate: the estimate and its standard error after each checkpoint $n_k$ samples
/// of one stream, for convergence plots ($\bar g_n \pm 2\,s_n/\sqrt n$ against n).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The checkpoints $n_1 < n_2 < \dots$
    pub n: Vec<u64>,
    /// $\bar g_{n_k}$, the estimate after $n_k$ samples.
    pub mean: Vec<f64>,
    /// $s_{n_k}/\sqrt{n_k}$, its standard error.
    pub std_error: Vec<f64>,
}

impl Trace {
    /// The checkpoints as `f64`, for plotting.
    pub fn n_f64(&self) -> Vec<f64> {
        self.n.iter().map(|&n| n as f64).collect()
    }

    /// The band $\bar g_n \pm k\, s_n/\sqrt n$ as (lower, upper), one entry per checkpoint.
    /// (A trace from [`running`] has equal-length fields; if they were edited to different
    /// lengths, the band covers the shorter of `mean` and `std_error`.)
    pub fn band(&self, k: f64) -> (Vec<f64>, Vec<f64>) {
        self.mean
            .iter()
            .zip(&self.std_error)
            .map(|(m, s)| (m - k * s, m + k * s))
            .unzip()
    }

    /// The final estimate, or `None` for an empty trace (or one whose fields were edited to
    /// different lengths).
    pub fn last(&self) -> Option<(u64, f64, f64)> {
        let i = self.n.len().checked_sub(1)?;
        Some((self.n[i], *self.mean.get(i)?, *self.std_error.get(i)?))
    }
}

fn check_checkpoints(checkpoints: &[u64]) -> Result<(), EstimatorError> {
    if checkpoints.is_empty() {
        return Err(EstimatorError::Checkpoints("the list is empty"));
    }
    if checkpoints[0] < 2 {
        return Err(EstimatorError::Checkpoints("the first is below 2"));
    }
    if checkpoints.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EstimatorError::Checkpoints(
            "they are not strictly increasing",
        ));
    }
    Ok(())
}

/// Most checkpoints [`log_spaced`] makes: far more than a plot can show.
pub const MAX_CHECKPOINTS: usize = 1 << 16;

/// About `count` sample counts spaced evenly in $\ln n$ from `lo` to `hi` (rounded, duplicates
/// removed, always including both ends): the checkpoints of a log-log convergence plot.
/// `lo == hi` gives `[lo]`.
///
/// ```
/// use elbo::estimators::log_spaced;
/// assert_eq!(log_spaced(10, 1000, 3)?, vec![10, 100, 1000]);
/// assert!(log_spaced(1, 1000, 3).is_err()); // a sample variance needs n ≥ 2
/// # Ok::<(), elbo::estimators::EstimatorError>(())
/// ```
///
/// # Errors
/// [`EstimatorError::Invalid`] naming `lo` if it is below 2, `hi` if it is below `lo`, and
/// `count` if it is below 2 (with lo < hi) or above [`MAX_CHECKPOINTS`].
pub fn log_spaced(lo: u64, hi: u64, count: usize) -> Result<Vec<u64>, EstimatorError> {
    let invalid = |what, why| Err(EstimatorError::Invalid { what, why });
    if lo < 2 {
        return invalid(
            "lo",
            "checkpoints start at n ≥ 2 (a sample variance needs two samples)",
        );
    }
    if hi < lo {
        return invalid("hi", "expected hi ≥ lo");
    }
    if hi == lo {
        return Ok(vec![lo]);
    }
    if count < 2 {
        return invalid("count", "both ends lo < hi need count ≥ 2");
    }
    if count > MAX_CHECKPOINTS {
        return invalid("count", "at most MAX_CHECKPOINTS = 65536 checkpoints");
    }
    let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
    let mut v: Vec<u64> = (0..count)
        .map(|i| (a + (b - a) * i as f64 / (count - 1) as f64).exp().round() as u64)
        .map(|n| n.clamp(lo, hi))
        .collect();
    v[0] = lo;
    v[count - 1] = hi;
    v.dedup();
    Ok(v)
}

/// The running estimate of `estimator` along one stream of samples, recorded at each checkpoint.
///
/// The samples are those [`estimate`](super::estimate) draws for the same seed, so the last
/// point equals `estimate(…, Sampling::new(n_last, seed))` (up to rounding). Per sample this is the
/// same allocation-free accumulation; only the output vectors are allocated, once.
///
/// # Errors
/// [`EstimatorError::Checkpoints`] unless the checkpoints are non-empty, strictly increasing
/// and ≥ 2; [`EstimatorError::BadBaseline`].
pub fn running<F: Objective + ?Sized>(
    estimator: Estimator,
    f: &F,
    p: Gaussian,
    checkpoints: &[u64],
    seed: u64,
) -> Result<Trace, EstimatorError> {
    check_checkpoints(checkpoints)?;
    let g = estimator.integrand(f, p)?;
    let mut acc = [RunningMean::new()];
    let mut trace = Trace {
        n: checkpoints.to_vec(),
        mean: Vec::with_capacity(checkpoints.len()),
        std_error: Vec::with_capacity(checkpoints.len()),
    };
    let eval = |e| [g.eval(e)];
    let (mut done, mut next) = (0_u64, 0_usize);
    let last = checkpoints[checkpoints.len() - 1];
    // Walk the same chunks and blocks as `estimate`, cutting each block at the checkpoints.
    let mut visit = |eps: &[f64]| {
        let mut rest = eps;
        while let Some(&checkpoint) = checkpoints.get(next) {
            let take = (rest.len() as u64).min(checkpoint - done) as usize;
            fold_block(&rest[..take], &eval, &mut acc);
            done += take as u64;
            rest = &rest[take..];
            if done < checkpoint {
                break;
            }
            let e: Estimate = acc[0].estimate();
            trace.mean.push(e.mean);
            trace.std_error.push(e.std_error);
            next += 1;
        }
    };
    for_each_chunk(seed, last, |_, rng, len| {
        for_each_block(rng, len, &mut visit)
    });
    Ok(trace)
}

/// Root-mean-square error $\sqrt{\frac1R\sum_r (\bar g^{(r)}_n - \text{exact})^2}$ of
/// `estimator` at each checkpoint n, over R = `repetitions` independent running estimates
/// (repetition r uses seed `seed + r`). For an unbiased estimator this is
/// $\sqrt{\operatorname{Var}(g)/n}$: a line of slope −1/2 on log-log axes.
///
/// The repetitions are spread over the available cores; the result does not depend on how many.
///
/// # Errors
/// As [`running`], and [`EstimatorError::Invalid`] for zero repetitions or a non-finite
/// `exact`.
pub fn rms_error<F: Objective + ?Sized>(
    estimator: Estimator,
    f: &F,
    p: Gaussian,
    exact: f64,
    checkpoints: &[u64],
    repetitions: usize,
    seed: u64,
) -> Result<Vec<f64>, EstimatorError> {
    if repetitions == 0 {
        return Err(EstimatorError::Invalid {
            what: "repetitions",
            why: "at least one is needed",
        });
    }
    if !exact.is_finite() {
        return Err(EstimatorError::Invalid {
            what: "exact",
            why: "the exact value must be a finite number",
        });
    }
    check_checkpoints(checkpoints)?;
    estimator.integrand(f, p)?;
    let cores = std::thread::available_parallelism().map_or(1, |k| k.get());
    let workers = cores.min(repetitions);
    let squared_errors = |w: usize| -> Result<Vec<f64>, EstimatorError> {
        let mut sum = vec![0.0; checkpoints.len()];
        for r in (w..repetitions).step_by(workers) {
            let t = running(estimator, f, p, checkpoints, seed.wrapping_add(r as u64))?;
            for (s, m) in sum.iter_mut().zip(&t.mean) {
                *s += (m - exact) * (m - exact);
            }
        }
        Ok(sum)
    };
    let parts: Vec<Result<Vec<f64>, EstimatorError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers)
            .map(|w| scope.spawn(move || squared_errors(w)))
            .collect();
        let mut parts = vec![squared_errors(0)];
        parts.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        parts
    });
    let mut total = vec![0.0; checkpoints.len()];
    for part in parts {
        for (t, s) in total.iter_mut().zip(part?) {
            *t += s;
        }
    }
    Ok(total
        .into_iter()
        .map(|s| (s / repetitions as f64).sqrt())
        .collect())
}

/// The least-squares slope of $\ln y$ against $\ln x$: the exponent a in $y \approx C x^a$.
/// A Monte Carlo error should give $a \approx -1/2$.
///
/// ```
/// use elbo::estimators::log_log_slope;
/// let n = [10.0, 100.0, 1000.0];
/// let err = n.map(|n: f64| 3.0 / n.sqrt());
/// assert!((log_log_slope(&n, &err)? + 0.5).abs() < 1e-12);
/// # Ok::<(), elbo::estimators::EstimatorError>(())
/// ```
///
/// # Errors
/// [`EstimatorError::Invalid`] if the lengths differ, there are fewer than two points, a value
/// is not positive and finite, or all x are equal.
pub fn log_log_slope(x: &[f64], y: &[f64]) -> Result<f64, EstimatorError> {
    let invalid = |why| EstimatorError::Invalid {
        what: "log-log fit",
        why,
    };
    if x.len() != y.len() {
        return Err(invalid("x and y have different lengths"));
    }
    if x.len() < 2 {
        return Err(invalid("at least two points are needed"));
    }
    if x.iter().chain(y).any(|&v| !(v.is_finite() && v > 0.0)) {
        return Err(invalid("every value must be positive and finite"));
    }
    let m = x.len() as f64;
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let (mx, my) = (lx.iter().sum::<f64>() / m, ly.iter().sum::<f64>() / m);
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    if sxx == 0.0 {
        return Err(invalid("all x are equal"));
    }
    Ok(sxy / sxx)
}

/// Settings of [`descend`]: stochastic gradient descent $\theta_{t+1} = \theta_t - \eta\,\hat g_t$
/// on $\mathbb E_{x\sim\mathcal N(\theta,\sigma^2)}[f(x)]$, where $\hat g_t$ averages `samples`
/// draws of the estimator at $\theta_t$.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Descent {
    /// Starting point $\theta_0$.
    pub theta0: f64,
    /// The fixed standard deviation σ of $p_\theta$.
    pub sigma: f64,
    /// Step size η.
    pub step: f64,
    /// Number of steps T.
    pub iterations: usize,
    /// Samples per gradient estimate m.
    pub samples: u64,
}

impl Default for Descent {
    /// θ₀ = 3, σ = 1, η = 0.05, T = 200, m = 16.
    fn default() -> Self {
        Descent {
            theta0: 3.0,
            sigma: 1.0,
            step: 0.05,
            iterations: 200,
            samples: 16,
        }
    }
}

/// Runs stochastic gradient descent driven by `estimator` and returns the trajectory
/// $\theta_0, \theta_1, \dots, \theta_T$ (T + 1 values). One seeded stream feeds every step.
///
/// For $f(x) = x^2$ the expected update is $\theta_{t+1} = (1 - 2\eta)\theta_t$, and near the
/// optimum θ = 0 the iterates fluctuate with stationary variance
/// $\eta\,V/(4m(1-\eta))$, where V is the estimator's per-sample variance at θ = 0
/// ($4\sigma^2$ pathwise, $15\sigma^2$ score, $6\sigma^2$ optimal baseline).
///
/// # Errors
/// [`EstimatorError::Invalid`] for a non-finite step, zero samples, or more iterations than a
/// trajectory in memory can hold; a negative step is gradient ascent (and diverges on x²);
/// [`EstimatorError::Gaussian`] for an invalid θ₀ or σ; [`EstimatorError::Diverged`] if θ
/// leaves the finite numbers.
pub fn descend<F: Objective + ?Sized>(
    estimator: Estimator,
    f: &F,
    settings: &Descent,
    seed: u64,
) -> Result<Vec<f64>, EstimatorError> {
    let invalid = |what, why| EstimatorError::Invalid { what, why };
    if !settings.step.is_finite() {
        return Err(invalid("step", "η must be finite"));
    }
    if settings.samples == 0 {
        return Err(invalid("samples", "each step needs at least one sample"));
    }
    // T + 1 values of 8 bytes must be addressable; the trajectory grows as it goes, so a large
    // T allocates only what the run has reached.
    if settings.iterations >= (isize::MAX as usize) / 8 {
        return Err(invalid("iterations", "the trajectory must fit in memory"));
    }
    let mut rng = stream_rng(seed, 0);
    let mut theta = settings.theta0;
    Gaussian::new(theta, settings.sigma)?;
    let mut path = Vec::with_capacity((settings.iterations + 1).min(1 << 16));
    path.push(theta);
    for t in 1..=settings.iterations {
        let p = Gaussian::new(theta, settings.sigma)?;
        let g = estimator.integrand(f, p)?;
        let mut acc = [RunningMean::new()];
        accumulate(&mut rng, settings.samples, &|e| [g.eval(e)], &mut acc);
        theta -= settings.step * acc[0].mean();
        if !theta.is_finite() {
            return Err(EstimatorError::Diverged {
                iteration: t,
                theta,
            });
        }
        path.push(theta);
    }
    Ok(path)
}

/// The mean of a correlated sequence (the iterates of gradient descent, a Markov chain) with a
/// standard error by **batch means**: split `values` into `batches` consecutive batches of
/// equal length b = ⌊n / batches⌋ (a remainder at the end is dropped), average each, and take
/// the standard error of the overall mean as $s_{\text{batch}}/\sqrt{\text{batches}}$, with
/// $s_{\text{batch}}$ the sample standard deviation of the batch means. Valid when a batch is
/// much longer than the sequence's correlation time, so that batch means are nearly independent;
/// the naive $s/\sqrt n$ would understate the error of a positively correlated sequence.
///
/// The returned [`Estimate`] has `mean` the average of the batch means, `std_error` as above,
/// `n` = batches · b, and `variance` = b · $s_{\text{batch}}^2$ (the asymptotic variance
/// $\lim n\operatorname{Var}\bar y_n$, the variance of one sample times the integrated
/// autocorrelation time).
///
/// ```
/// use elbo::estimators::batch_means;
/// let ys: Vec<f64> = (0..1000).map(|i| if i % 2 == 0 { 1.0 } else { 3.0 }).collect();
/// let e = batch_means(&ys, 10)?;
/// assert_eq!(e.mean, 2.0);
/// assert_eq!(e.std_error, 0.0); // every batch of 100 has mean 2
/// # Ok::<(), elbo::estimators::EstimatorError>(())
/// ```
///
/// # Errors
/// [`EstimatorError::Invalid`] for fewer than 2 batches or fewer than 2 values per batch.
/// NaN or infinite values propagate into the estimate.
pub fn batch_means(values: &[f64], batches: usize) -> Result<Estimate, EstimatorError> {
    let invalid = |what, why| EstimatorError::Invalid { what, why };
    if batches < 2 {
        return Err(invalid("batches", "at least 2 batches are needed"));
    }
    let b = values.len() / batches;
    if b < 2 {
        return Err(invalid("values", "each batch needs at least 2 values"));
    }
    let mut acc = RunningMean::new();
    for chunk in values.chunks_exact(b).take(batches) {
        acc.push(chunk.iter().sum::<f64>() / b as f64);
    }
    let e = acc.estimate();
    Ok(Estimate {
        mean: e.mean,
        variance: e.variance * b as f64,
        std_error: e.std_error,
        n: (b * batches) as u64,
    })
}

/// The central finite difference $\frac{J(\theta + h e_i) - J(\theta - h e_i)}{2h}$ in every
/// coordinate i: a gradient to check other gradients against (error $O(h^2)$ plus rounding
/// $O(\epsilon_{\text{mach}}/h)$; $h \approx 10^{-5}$ balances them for smooth J of size 1).
/// A non-positive or non-finite `h` gives NaN.
///
/// ```
/// use elbo::estimators::central_difference;
/// let g = central_difference(|t: [f64; 2]| t[0] * t[0] + t[0] * t[1], [1.0, 2.0], 1e-5);
/// assert!((g[0] - 4.0).abs() < 1e-8 && (g[1] - 1.0).abs() < 1e-8);
/// ```
pub fn central_difference<const P: usize>(
    j: impl Fn([f64; P]) -> f64,
    theta: [f64; P],
    h: f64,
) -> [f64; P] {
    if !(h.is_finite() && h > 0.0) {
        return [f64::NAN; P];
    }
    std::array::from_fn(|i| {
        let (mut up, mut down) = (theta, theta);
        up[i] += h;
        down[i] -= h;
        (j(up) - j(down)) / (2.0 * h)
    })
}

/// $\ln\big(\frac1K \sum_k e^{a_k}\big)$ computed stably (shifting by $\max_k a_k$): the Monte
/// Carlo estimate of a log-marginal likelihood from log-weights. Empty input gives NaN (the mean
/// of nothing), as does any NaN entry; all $a_k = -\infty$ gives $-\infty$, and any
/// $a_k = +\infty$ (without NaN) gives $+\infty$.
///
/// ```
/// use elbo::estimators::log_mean_exp;
/// // ln((e^{1000} + e^{1000})/2) = 1000, without overflow
/// assert_eq!(log_mean_exp(&[1000.0, 1000.0]), 1000.0);
/// ```
pub fn log_mean_exp(a: &[f64]) -> f64 {
    // `f64::max` skips NaN, so NaN must be caught before taking the maximum.
    if a.is_empty() || a.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || m.is_nan() {
        return m;
    }
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    let s: f64 = a.iter().map(|&v| (v - m).exp()).sum();
    m + (s / a.len() as f64).ln()
}
