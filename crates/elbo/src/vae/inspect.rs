//! Looking inside a trained model (question 3): where its codes lie ([`moment_match`],
//! [`latent_scatter`]), which latent dimensions it uses ([`Vae::latent_usage`]), and how varied
//! and how new its images are ([`variety`], [`nearest_sq_dist`]).

use super::eval::Encoding;
use super::{Vae, VaeError};
use crate::info::kl_to_standard_normal;
use crate::linear_gaussian::{FullGaussian, LinearGaussianError};
use crate::plot::{Chart, Figure, PlotError};
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// The Gaussian N(m, S) with the mean and covariance of the aggregate posterior
/// q̄(z) = (1/N) Σᵢ N(μᵢ, diag σᵢ²) of `codes`: m = mean of the μᵢ,
/// S = Cov(μ) + mean of diag σᵢ² (for an autoencoder's codes, σ = 0: S = Cov(z)). Covariances
/// divide by N (the mixture's own moments). Fails for no codes or a non-finite entry.
pub fn moment_match(codes: &Encoding<f32>) -> Result<FullGaussian, LinearGaussianError> {
    let m: Array2<f64> = codes.mu.mapv(f64::from);
    let Some(mean) = m.mean_axis(Axis(0)) else {
        return Err(LinearGaussianError::Empty { what: "the codes" });
    };
    let centred = &m - &mean;
    let mut cov = centred.t().dot(&centred) / m.nrows() as f64;
    if let Some(lv) = &codes.log_var {
        let var = lv.mapv(|v| f64::from(v).exp());
        if let Some(mean_var) = var.mean_axis(Axis(0)) {
            cov.diag_mut().zip_mut_with(&mean_var, |c, v| *c += v);
        }
    }
    FullGaussian::new(mean, cov)
}

/// How much each latent dimension d of a VAE is used on a data set x₁ … x_N.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentUsage {
    /// The KL term per dimension, (1/N) Σᵢ D_KL(q_φ(z_d|xᵢ) ‖ N(0, 1)) in nats; they sum to the
    /// mean KL term of the ELBO (the rate).
    pub kl: Vec<f64>,
    /// The activity A_d = Var_x(μ_d(x)) (Burda et al. 2016): how much the code's mean moves
    /// with the input. A dimension with A_d ≈ 0 is ignored: q_φ(z_d|x) ≈ p(z_d) for every x
    /// (posterior collapse).
    pub activity: Vec<f64>,
}

/// Burda et al.'s threshold: a dimension with activity above 10⁻² is *active*.
pub const ACTIVE_THRESHOLD: f64 = 1e-2;

impl LatentUsage {
    /// How many dimensions have activity above `threshold` (use [`ACTIVE_THRESHOLD`]).
    pub fn active(&self, threshold: f64) -> usize {
        self.activity.iter().filter(|&&a| a > threshold).count()
    }
}

impl Vae<f32> {
    /// The per-dimension KL term and activity of the encoder on the rows of `x` (see
    /// [`LatentUsage`]). Fails for a plain autoencoder (no q_φ), an empty `x` or a wrong shape.
    pub fn latent_usage(&self, x: ArrayView2<'_, f32>) -> Result<LatentUsage, VaeError> {
        let codes = self.encode(x)?;
        let log_var = codes
            .log_var
            .as_ref()
            .ok_or(VaeError::NotProbabilistic("latent_usage"))?;
        if x.nrows() == 0 {
            return Err(VaeError::TooFew {
                what: "rows of x",
                found: 0,
                min: 1,
            });
        }
        let n = x.nrows() as f64;
        let mut kl = vec![0.0; self.latent_dim()];
        for (mu_row, lv_row) in codes.mu.rows().into_iter().zip(log_var.rows()) {
            for (d, (&m, &lv)) in mu_row.iter().zip(lv_row).enumerate() {
                // one formula for the Gaussian KL, `info`'s careful one
                kl[d] += kl_to_standard_normal(&[f64::from(m)], &[f64::from(lv)])
                    .unwrap_or(f64::INFINITY)
                    / n;
            }
        }
        let mu = codes.mu.mapv(f64::from);
        let activity = mu.var_axis(Axis(0), 0.0).to_vec();
        Ok(LatentUsage { kl, activity })
    }
}

/// The mean squared Euclidean distance between the pairs of rows of `x` (how varied a set of
/// images is), by the identity (1/C(n,2)) Σ_{i<j} ‖xᵢ − xⱼ‖² = 2n/(n − 1) · (mean ‖xᵢ‖² − ‖x̄‖²)
/// in f64. Fails for fewer than two rows.
pub fn variety(x: ArrayView2<'_, f32>) -> Result<f64, VaeError> {
    let n = x.nrows();
    if n < 2 {
        return Err(VaeError::TooFew {
            what: "rows",
            found: n,
            min: 2,
        });
    }
    let x = x.mapv(f64::from);
    let mean_sq = x.rows().into_iter().map(|r| r.dot(&r)).sum::<f64>() / n as f64;
    let centre: Array1<f64> = x.mean_axis(Axis(0)).unwrap_or_default();
    let nf = n as f64;
    Ok((2.0 * nf / (nf - 1.0) * (mean_sq - centre.dot(&centre))).max(0.0))
}

/// The squared Euclidean distance from each row of `a` to its nearest row of `b`, in f64
/// (‖a‖² + ‖b‖² − 2 a·b, clamped at 0 against rounding). Fails unless the rows have the same
/// length and `b` has at least one.
pub fn nearest_sq_dist(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
) -> Result<Vec<f64>, VaeError> {
    super::error::check_len("columns of b", a.ncols(), b.ncols())?;
    if b.nrows() == 0 {
        return Err(VaeError::TooFew {
            what: "rows of b",
            found: 0,
            min: 1,
        });
    }
    let (a, b) = (a.mapv(f64::from), b.mapv(f64::from));
    let norm = |m: &Array2<f64>| m.map_axis(Axis(1), |r| r.dot(&r));
    let (na, nb) = (norm(&a), norm(&b));
    let ab = a.dot(&b.t());
    Ok((0..a.nrows())
        .map(|i| {
            let best = (0..b.nrows())
                .map(|j| na[i] + nb[j] - 2.0 * ab[[i, j]])
                .fold(f64::INFINITY, f64::min);
            best.max(0.0)
        })
        .collect())
}

/// The median of `v` (the mean of the two middle values for an even count); NaN for an empty
/// `v`. NaNs sort last.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// A scatter plot of 2-D codes (one per row of `codes`) coloured by `labels`, with the circle
/// |z| = 2 in which N(0, I) puts 86% of its mass, on equally scaled axes. Fails unless `codes`
/// has two columns and one label per row, or if a code is not finite.
pub fn latent_scatter(
    title: &str,
    codes: ArrayView2<'_, f32>,
    labels: &[u8],
) -> Result<Figure, PlotError> {
    if codes.ncols() != 2 {
        return Err(PlotError::Length {
            series: title.to_string(),
            what: "code columns",
            got: codes.ncols(),
            expected: 2,
        });
    }
    let t: Vec<f64> = (0..=100)
        .map(|i| f64::from(i) * std::f64::consts::TAU / 100.0)
        .collect();
    let (cx, cy): (Vec<f64>, Vec<f64>) = t.iter().map(|t| (2.0 * t.cos(), 2.0 * t.sin())).unzip();
    let x: Vec<f64> = codes.column(0).iter().map(|&v| f64::from(v)).collect();
    let y: Vec<f64> = codes.column(1).iter().map(|&v| f64::from(v)).collect();
    let span = |v: &[f64], c: &[f64]| {
        v.iter()
            .chain(c)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| {
                (a.min(t), b.max(t))
            })
    };
    let ((x0, x1), (y0, y1)) = (span(&x, &cx), span(&y, &cy));
    // the plot area of a 560 × 440 chart is about 1.36 times wider than tall (legend on the right)
    let h = 0.53 * (x1 - x0).max(y1 - y0);
    let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    Chart::new(title)
        .size(560, 440)
        .x_label("z₁")
        .y_label("z₂")
        .x_range(mx - h, mx - h + 2.0 * h * 1.36)
        .y_range(my - h, my + h)
        .classes(&x, &y, labels)
        .dashed("|z| = 2", &cx, &cy)
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vae::{VaeConfig, standard_normal};
    use ndarray::array;

    #[test]
    fn moment_matching_gives_the_mixtures_mean_and_covariance() {
        let codes = Encoding {
            mu: array![[1.0f32, 0.0], [-1.0, 2.0]],
            log_var: Some(array![[0.0f32, 0.0], [(2.0f32).ln(), 0.0]]),
        };
        let g = moment_match(&codes).unwrap();
        assert_eq!(g.mean().to_vec(), vec![0.0, 1.0]);
        // Cov(μ) = [[1, −1], [−1, 1]], mean σ² = [1.5, 1]
        let c = g.cov();
        assert!((c[[0, 0]] - 2.5).abs() < 1e-6 && (c[[1, 1]] - 2.0).abs() < 1e-12);
        assert!((c[[0, 1]] + 1.0).abs() < 1e-12);
        let empty = Encoding {
            mu: Array2::<f32>::zeros((0, 2)),
            log_var: None,
        };
        assert!(moment_match(&empty).is_err());
    }

    #[test]
    fn per_dimension_kl_sums_to_the_elbos_kl_term_and_activity_is_the_variance_of_mu() {
        let vae = Vae::<f32>::new(VaeConfig {
            hidden: vec![16],
            latent: 3,
            input_dim: 10,
            seed: 2,
            ..VaeConfig::default()
        })
        .unwrap();
        let x = standard_normal::<f32>(50, 10, 4).mapv(|v| 1.0 / (1.0 + (-v).exp()));
        let u = vae.latent_usage(x.view()).unwrap();
        let rate = vae.elbo(x.view(), 1, 0).unwrap().mean_kl();
        assert!(
            (u.kl.iter().sum::<f64>() - rate).abs() < 1e-5 * rate.abs().max(1.0),
            "{u:?} vs {rate}"
        );
        let mu = vae.encode(x.view()).unwrap().mu;
        for d in 0..3 {
            let col: Vec<f64> = mu.column(d).iter().map(|&v| f64::from(v)).collect();
            let m = col.iter().sum::<f64>() / 50.0;
            let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / 50.0;
            assert!((u.activity[d] - var).abs() < 1e-12);
        }
        assert_eq!(u.active(-1.0), 3);
        assert_eq!(u.active(f64::INFINITY), 0);
        let ae = Vae::<f32>::new(VaeConfig {
            mode: crate::vae::Mode::Autoencoder,
            hidden: vec![4],
            latent: 2,
            input_dim: 10,
            ..VaeConfig::default()
        })
        .unwrap();
        assert!(matches!(
            ae.latent_usage(x.view()),
            Err(VaeError::NotProbabilistic(_))
        ));
        assert!(vae.latent_usage(x.slice(ndarray::s![..0, ..])).is_err());
    }

    #[test]
    fn fast_variety_and_nearest_distances_agree_with_the_double_loops() {
        let a = standard_normal::<f32>(7, 5, 1);
        let b = standard_normal::<f32>(9, 5, 2);
        let sq = |u: ndarray::ArrayView1<f32>, v: ndarray::ArrayView1<f32>| {
            u.iter()
                .zip(v)
                .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
                .sum::<f64>()
        };
        let mut pairs = Vec::new();
        for i in 0..7 {
            for j in i + 1..7 {
                pairs.push(sq(a.row(i), a.row(j)));
            }
        }
        let plain = pairs.iter().sum::<f64>() / pairs.len() as f64;
        assert!((variety(a.view()).unwrap() - plain).abs() < 1e-9 * plain);
        let near = nearest_sq_dist(a.view(), b.view()).unwrap();
        for (i, got) in near.iter().enumerate() {
            let plain = (0..9)
                .map(|j| sq(a.row(i), b.row(j)))
                .fold(f64::INFINITY, f64::min);
            assert!((got - plain).abs() < 1e-9 * plain.max(1.0));
        }
        assert_eq!(nearest_sq_dist(a.view(), a.view()).unwrap(), vec![0.0; 7]);
        assert!(variety(a.slice(ndarray::s![..1, ..])).is_err());
        assert!(nearest_sq_dist(a.view(), b.slice(ndarray::s![..0, ..])).is_err());
        assert!(nearest_sq_dist(a.view(), b.slice(ndarray::s![.., ..4])).is_err());
    }

    #[test]
    fn medians_and_scatter_plots() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        let codes = array![[0.0f32, 1.0], [2.5, -1.0]];
        assert!(latent_scatter("z", codes.view(), &[1, 2]).is_ok());
        assert!(latent_scatter("z", codes.view(), &[1]).is_err());
        assert!(latent_scatter("z", array![[0.0f32], [1.0]].view(), &[1, 2]).is_err());
    }
}
