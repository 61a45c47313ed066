//! [`History`]: what each epoch of training achieved, as a `DataFrame` and as printed lines.

use super::config::Mode;
use super::terms::ElboTerms;
use crate::plot::{Chart, Figure, PlotError, SeriesLabelPosition};
use polars::prelude::{DataFrame, df};

/// What one epoch achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// Epoch number, counting from 1 over the trainer's life.
    pub epoch: usize,
    /// Wall-clock seconds since the start of this `fit` call, at the end of the epoch.
    pub seconds: f64,
    /// Training throughput of the epoch (examples per second, evaluation excluded).
    pub samples_per_sec: f64,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// KL weight β of the epoch's last step.
    pub beta: f64,
    /// Training terms, averaged over the epoch's mini-batches as they were trained on (β = 1
    /// terms, whatever the warm-up weight).
    pub train: ElboTerms<f64>,
    /// Test terms after the epoch, if a test set was given.
    pub test: Option<ElboTerms<f64>>,
}

/// The per-epoch record of training.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// One entry per epoch.
    pub epochs: Vec<EpochStats>,
}

impl History {
    /// The history as a polars `DataFrame`, one row per epoch, columns `epoch`, `seconds`,
    /// `samples_per_s`, `lr`, `beta`, `train_elbo`, `train_rec`, `train_kl`, `test_elbo`,
    /// `test_rec`, `test_kl` (nats; test columns null without a test set).
    pub fn to_frame(&self) -> DataFrame {
        let e = &self.epochs;
        let col = |f: fn(&EpochStats) -> f64| e.iter().map(f).collect::<Vec<f64>>();
        let test = |f: fn(&ElboTerms<f64>) -> f64| {
            e.iter()
                .map(|s| s.test.as_ref().map(f))
                .collect::<Vec<Option<f64>>>()
        };
        df!(
            "epoch" => e.iter().map(|s| s.epoch as u32).collect::<Vec<u32>>(),
            "seconds" => col(|s| s.seconds),
            "samples_per_s" => col(|s| s.samples_per_sec),
            "lr" => col(|s| s.lr),
            "beta" => col(|s| s.beta),
            "train_elbo" => col(|s| s.train.elbo),
            "train_rec" => col(|s| s.train.rec),
            "train_kl" => col(|s| s.train.kl),
            "test_elbo" => test(|t| t.elbo),
            "test_rec" => test(|t| t.rec),
            "test_kl" => test(|t| t.kl),
        )
        .expect("columns of equal length")
    }

    /// The last epoch, if any.
    pub fn last(&self) -> Option<&EpochStats> {
        self.epochs.last()
    }

    /// One number per epoch from its training terms, e.g. `h.train_series(|t| t.elbo)`.
    pub fn train_series(&self, f: impl Fn(&ElboTerms<f64>) -> f64) -> Vec<f64> {
        self.epochs.iter().map(|s| f(&s.train)).collect()
    }

    /// One number per epoch from its test terms; NaN for an epoch without a test set.
    pub fn test_series(&self, f: impl Fn(&ElboTerms<f64>) -> f64) -> Vec<f64> {
        self.epochs
            .iter()
            .map(|s| s.test.as_ref().map_or(f64::NAN, &f))
            .collect()
    }

    /// A 330 × 330 chart of one number per epoch against the epoch, for training and (where
    /// evaluated) test, e.g. `h.chart("ELBO (nats)", |t| t.elbo)`.
    pub fn chart(
        &self,
        title: &str,
        f: impl Fn(&ElboTerms<f64>) -> f64,
    ) -> Result<Figure, PlotError> {
        let ep = self.epoch_numbers();
        let mut c = Chart::new(title)
            .size(330, 330)
            .x_label("epoch")
            .legend(SeriesLabelPosition::LowerRight)
            .line("train", &ep, self.train_series(&f));
        if self.epochs.iter().all(|s| s.test.is_some()) {
            c = c.line("test", &ep, self.test_series(&f));
        }
        c.render()
    }

    /// Epoch numbers as `f64`, for plotting against.
    pub fn epoch_numbers(&self) -> Vec<f64> {
        self.epochs.iter().map(|s| s.epoch as f64).collect()
    }
}

/// The line printed after an epoch when training is verbose.
pub(crate) fn epoch_line(s: &EpochStats, mode: Mode) -> String {
    let name = if mode == Mode::Vae {
        "ELBO"
    } else {
        "log p(x|z)"
    };
    let test = match &s.test {
        Some(t) => format!(
            "  test {name} {:8.2} (rec {:8.2}, KL {:6.2})",
            t.elbo, t.rec, t.kl
        ),
        None => String::new(),
    };
    format!(
        "epoch {:3}  train {name} {:8.2} (rec {:8.2}, KL {:6.2}){test}  β {:.2}  lr {:.2e}  {:6.1} s  {:6.0} samples/s",
        s.epoch, s.train.elbo, s.train.rec, s.train.kl, s.beta, s.lr, s.seconds, s.samples_per_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(epoch: usize, test: bool) -> EpochStats {
        let t = ElboTerms::new(-100.0 + epoch as f64, 5.0);
        EpochStats {
            epoch,
            seconds: 1.0,
            samples_per_sec: 1.0,
            lr: 1e-3,
            beta: 1.0,
            train: t,
            test: test.then_some(ElboTerms::new(-110.0 + epoch as f64, 6.0)),
        }
    }

    #[test]
    fn series_and_charts_follow_the_epochs() {
        let h = History {
            epochs: vec![stats(1, true), stats(2, true)],
        };
        assert_eq!(h.train_series(|t| t.rec), vec![-99.0, -98.0]);
        assert_eq!(h.test_series(|t| t.kl), vec![6.0, 6.0]);
        assert_eq!(h.train_series(|t| t.elbo), vec![-104.0, -103.0]);
        let svg = h.chart("ELBO", |t| t.elbo).unwrap().svg().to_string();
        assert!(svg.contains("train") && svg.contains("test"));
        let no_test = History {
            epochs: vec![stats(1, false)],
        };
        assert!(no_test.test_series(|t| t.elbo)[0].is_nan());
        let svg = no_test.chart("ELBO", |t| t.elbo).unwrap().svg().to_string();
        assert!(svg.contains("train") && !svg.contains(">test<"));
        assert!(History::default().chart("empty", |t| t.elbo).is_err());
    }
}
