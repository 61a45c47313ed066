//! Training: mini-batch Adam on −ELBO, data-parallel over the cores, with a per-epoch history.
//!
//! Each step draws a mini-batch, splits it into one contiguous shard per worker thread, runs the
//! forward and backward pass of every shard in parallel (each with its own buffers and seeded
//! noise), and lets Adam apply the sum of the shard gradients — the gradient of the summed
//! loss −Σᵢ [log p_θ(xᵢ|zᵢ) − β KLᵢ] over the batch, as in pytorch/examples.
//!
//! ```
//! use elbo::vae::{Trainer, TrainConfig, Vae, VaeConfig};
//! let mnist = elbo::data::mnist_10k().unwrap();
//! let (train, test) = (mnist.train.head(512), mnist.test.head(128));
//! let vae = Vae::new(VaeConfig { hidden: vec![32], latent: 4, ..VaeConfig::default() }).unwrap();
//! let cfg = TrainConfig { epochs: 2, verbose: false, ..TrainConfig::default() };
//! let mut trainer = Trainer::new(vae, cfg).unwrap();
//! let history = trainer.fit(train.images().view(), Some(test.images().view())).unwrap();
//! let df = history.to_frame();                       // one row per epoch
//! assert_eq!(df.height(), 2);
//! assert!(df.column("test_elbo").is_ok());
//! ```

use super::adam::{Adam, AdamConfig};
use super::config::{Mode, VaeConfig};
use super::error::{VaeError, check_at_least, check_len, check_pixels, check_setting};
use super::history::{EpochStats, History, epoch_line};
use super::model::{Gradients, Noise, Vae, Workspace};
use super::noise::{stream, stream_rng};
use super::ops::reshape;
use super::terms::ElboTerms;
use crate::data;
use crate::rand::rngs::SmallRng;
use crate::rand_distr::{Distribution, StandardNormal};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// How the learning rate evolves over a [`Trainer::fit`] call.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LrSchedule {
    /// The Adam learning rate throughout.
    #[default]
    Constant,
    /// Cosine decay from the Adam learning rate to `final_fraction` of it at the end of the run
    /// (the end of the last epoch, or of the time budget if that comes first).
    Cosine {
        /// Final learning rate as a fraction of the initial one.
        final_fraction: f64,
    },
}

impl LrSchedule {
    /// The learning rate at `progress ∈ [0, 1]` of the run, for peak rate `lr`.
    pub fn at(self, lr: f64, progress: f64) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine { final_fraction } => {
                let p = progress.clamp(0.0, 1.0);
                let lo = lr * final_fraction;
                lo + (lr - lo) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
            }
        }
    }
}

/// The KL weight β of a linear warm-up: `min(1, epochs_done / warmup_epochs)`, 1 without warm-up.
///
/// With β < 1 the loss is −(log p_θ(x|z) − β KL): the decoder learns to use z before the KL
/// term pulls q_φ(z|x) towards the prior (which avoids inactive latent dimensions).
pub fn kl_weight(warmup_epochs: f64, epochs_done: f64) -> f64 {
    if warmup_epochs > 0.0 {
        (epochs_done / warmup_epochs).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Training hyperparameters. `Default` is the pytorch/examples recipe (10 epochs, batch 128,
/// Adam 1e-3, constant rate, no warm-up, no binarization).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set per [`Trainer::fit`] call.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Adam's hyperparameters; `adam.lr` is the peak learning rate.
    pub adam: AdamConfig,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Epochs of linear KL warm-up (0: none). See [`kl_weight`].
    pub kl_warmup_epochs: f64,
    /// Dynamic binarization: train on a fresh Bernoulli draw of every image at every pass.
    pub binarize: bool,
    /// Seed of shuffling, noise ε and binarization.
    pub seed: u64,
    /// ε draws per test example when evaluating the test ELBO after each epoch.
    pub eval_draws: usize,
    /// Wall-clock budget of a `fit` call in seconds: training stops once it is spent, and a
    /// cosine schedule decays over whichever ends first, the epochs or the budget.
    pub time_budget: Option<f64>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Print a line after epochs (see `log_every`).
    pub verbose: bool,
    /// When `verbose`, print every `log_every`-th epoch, and always the first and the last of a
    /// `fit` call: a compact record on a rendered page (1: every epoch).
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 128,
            adam: AdamConfig::default(),
            schedule: LrSchedule::Constant,
            kl_warmup_epochs: 0.0,
            binarize: false,
            seed: 0,
            eval_draws: 1,
            time_budget: None,
            threads: 0,
            verbose: true,
            log_every: 1,
        }
    }
}

impl TrainConfig {
    /// Checks every setting (see [`Trainer::new`] for what is refused), naming the first bad one.
    pub fn validate(&self) -> Result<(), VaeError> {
        check_at_least("batch_size", self.batch_size, 1)?;
        check_at_least("eval_draws", self.eval_draws, 1)?;
        check_at_least("log_every", self.log_every, 1)?;
        self.adam.validate()?;
        check_setting(
            "kl_warmup_epochs",
            self.kl_warmup_epochs,
            "finite and ≥ 0",
            |v| v.is_finite() && v >= 0.0,
        )?;
        if let LrSchedule::Cosine { final_fraction } = self.schedule {
            check_setting("cosine final_fraction", final_fraction, "in [0, 1]", |v| {
                (0.0..=1.0).contains(&v)
            })?;
        }
        if let Some(budget) = self.time_budget {
            check_setting("time_budget (seconds)", budget, "> 0 (and not NaN)", |v| {
                v > 0.0
            })?;
        }
        Ok(())
    }

    /// The pytorch/examples recipe (same as `default()`).
    pub fn pytorch_example() -> Self {
        TrainConfig::default()
    }

    /// A faster-converging recipe for [`VaeConfig::deep_elu`]: Adam 2e-3 with cosine decay to
    /// 2% of it, KL warm-up over 10 epochs, batch 128, `epochs` passes (or `time_budget`).
    pub fn recipe(epochs: usize) -> Self {
        TrainConfig {
            epochs,
            adam: AdamConfig {
                lr: 2e-3,
                ..AdamConfig::default()
            },
            schedule: LrSchedule::Cosine {
                final_fraction: 0.02,
            },
            kl_warmup_epochs: 10.0,
            ..TrainConfig::default()
        }
    }
}

/// One data-parallel worker's buffers.
#[derive(Debug)]
struct Shard {
    ws: Workspace<f32>,
    grads: Gradients<f32>,
}

/// Trains a [`Vae`] with Adam; keeps the optimizer state, so `fit` can be called again to go on.
#[derive(Debug)]
pub struct Trainer {
    model: Vae<f32>,
    adam: Adam,
    config: TrainConfig,
    history: History,
    steps: u64,
    epochs_done: f64,
    shards: Vec<Shard>,
    rng: SmallRng,
    pool: Arc<rayon::ThreadPool>,
}

/// Rows below which a shard is not worth a thread.
const MIN_SHARD_ROWS: usize = 32;

impl Trainer {
    /// A trainer for `model`: checks the configuration, starts the worker threads.
    ///
    /// Fails with [`VaeError::TooFew`] for `batch_size` or `eval_draws` of 0,
    /// [`VaeError::Setting`] for a bad Adam hyperparameter (see [`AdamConfig::validate`]), a
    /// KL warm-up that is NaN, infinite or negative, a cosine schedule whose final fraction is
    /// not in [0, 1], or a time budget that is not a positive number of seconds; and with
    /// [`VaeError::ThreadPool`] if the threads cannot be started.
    pub fn new(model: Vae<f32>, config: TrainConfig) -> Result<Self, VaeError> {
        config.validate()?;
        let adam = Adam::new(config.adam, &model)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .build()
            .map_err(|e| VaeError::ThreadPool {
                threads: config.threads,
                message: e.to_string(),
            })?;
        let n_shards = pool
            .current_num_threads()
            .min(config.batch_size / MIN_SHARD_ROWS)
            .max(1);
        let shards = (0..n_shards)
            .map(|_| Shard {
                ws: Workspace::default(),
                grads: Gradients::zeros_like(&model),
            })
            .collect();
        Ok(Trainer {
            adam,
            rng: stream_rng(config.seed, u64::MAX),
            model,
            config,
            history: History::default(),
            steps: 0,
            epochs_done: 0.0,
            shards,
            pool: Arc::new(pool),
        })
    }

    /// The model being trained.
    pub fn model(&self) -> &Vae<f32> {
        &self.model
    }

    /// The trained model.
    pub fn into_model(self) -> Vae<f32> {
        self.model
    }

    /// The history of every epoch so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The training configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains for `config.epochs` epochs (or until `config.time_budget` is spent) on the rows of
    /// `train`, evaluating on `test` after each epoch; prints one line per epoch when
    /// `config.verbose`. Returns the history of all epochs so far.
    ///
    /// Fails, before any step, with [`VaeError::Shape`] if a data set does not have `input_dim`
    /// columns, [`VaeError::TooFew`] for an empty training set and [`VaeError::Data`] naming the
    /// first entry that is NaN or outside [0, 1].
    pub fn fit(
        &mut self,
        train: ArrayView2<'_, f32>,
        test: Option<ArrayView2<'_, f32>>,
    ) -> Result<&History, VaeError> {
        let d = self.model.config().input_dim;
        check_len("training data columns", d, train.ncols())?;
        check_at_least("training rows", train.nrows(), 1)?;
        check_pixels("training data", train)?;
        if let Some(test) = test {
            check_len("test data columns", d, test.ncols())?;
            check_pixels("test data", test)?;
        }
        let pool = Arc::clone(&self.pool);
        pool.install(|| self.fit_in_pool(train, test))?;
        Ok(&self.history)
    }

    fn fit_in_pool(
        &mut self,
        train: ArrayView2<'_, f32>,
        test: Option<ArrayView2<'_, f32>>,
    ) -> Result<(), VaeError> {
        let cfg = self.config.clone();
        let n = train.nrows();
        let steps_per_epoch = n.div_ceil(cfg.batch_size);
        let total_steps = cfg.epochs.saturating_mul(steps_per_epoch).max(1);
        let start = Instant::now();
        let mut fit_steps = 0usize;
        for e in 0..cfg.epochs {
            let epoch_start = Instant::now();
            let (mut rec_sum, mut kl_sum, mut seen) = (0.0, 0.0, 0usize);
            let (mut lr, mut beta) = (cfg.adam.lr, 1.0);
            let mut out_of_time = false;
            for idx in data::shuffled_batches_from(n, cfg.batch_size, &mut self.rng) {
                let mut progress = fit_steps as f64 / total_steps as f64;
                if let Some(budget) = cfg.time_budget {
                    let used = start.elapsed().as_secs_f64() / budget.max(1e-9);
                    progress = progress.max(used);
                    if used >= 1.0 {
                        out_of_time = true;
                        break;
                    }
                }
                lr = cfg.schedule.at(cfg.adam.lr, progress);
                beta = if self.model.config().mode == Mode::Vae {
                    kl_weight(
                        cfg.kl_warmup_epochs,
                        self.epochs_done + 1.0 / steps_per_epoch as f64,
                    )
                } else {
                    0.0
                };
                let (r, k) = self.step(train, &idx, beta, lr)?;
                rec_sum += r;
                kl_sum += k;
                seen += idx.len();
                fit_steps += 1;
                self.epochs_done += 1.0 / steps_per_epoch as f64;
            }
            if seen == 0 {
                break;
            }
            let train_secs = epoch_start.elapsed().as_secs_f64();
            let test_terms = match test {
                Some(t) if t.nrows() > 0 => {
                    let e = self
                        .model
                        .elbo(t, cfg.eval_draws, stream(cfg.seed, 0xE7A1))?;
                    Some(e.mean())
                }
                _ => None,
            };
            let (rec, kl) = (rec_sum / seen as f64, kl_sum / seen as f64);
            let stats = EpochStats {
                epoch: self.history.epochs.len() + 1,
                seconds: start.elapsed().as_secs_f64(),
                samples_per_sec: seen as f64 / train_secs.max(1e-12),
                lr,
                beta,
                train: ElboTerms::new(rec, kl),
                test: test_terms,
            };
            let last = e + 1 == cfg.epochs || out_of_time;
            if cfg.verbose && (e == 0 || last || (e + 1) % cfg.log_every.max(1) == 0) {
                println!("{}", epoch_line(&stats, self.model.config().mode));
            }
            self.history.epochs.push(stats);
            if out_of_time {
                break;
            }
        }
        Ok(())
    }

    /// One Adam step on the rows `idx` of `train`; returns the batch sums of log p(x|z) and KL.
    fn step(
        &mut self,
        train: ArrayView2<'_, f32>,
        idx: &[usize],
        beta: f64,
        lr: f64,
    ) -> Result<(f64, f64), VaeError> {
        let n_shards = self
            .shards
            .len()
            .min(idx.len().div_ceil(MIN_SHARD_ROWS))
            .max(1);
        let per = idx.len().div_ceil(n_shards);
        let parts: Vec<&[usize]> = idx.chunks(per).collect();
        let model = &self.model;
        let cfg = &self.config;
        let step_seed = stream(cfg.seed, self.steps);
        let sums: Vec<(f64, f64)> = self.shards[..parts.len()]
            .par_iter_mut()
            .zip(parts.par_iter())
            .enumerate()
            .map(|(s, (shard, rows))| {
                let mut rng: SmallRng = stream_rng(step_seed, s as u64);
                let ws = &mut shard.ws;
                data::gather_rows(train, rows, &mut ws.x);
                if cfg.binarize {
                    data::binarize_from(ws.x.view_mut(), &mut rng);
                }
                let latent = model.config().latent;
                reshape(&mut ws.eps, rows.len(), latent);
                for e in ws.eps.iter_mut() {
                    *e = StandardNormal.sample(&mut rng);
                }
                let x = std::mem::take(&mut ws.x);
                model.forward_ws(x.view(), Noise::Sample, true, ws);
                model.backward_ws(x.view(), beta as f32, ws, &mut shard.grads);
                ws.x = x;
                (ws.rec.iter().sum(), ws.kl.iter().sum())
            })
            .collect();
        let grads: Vec<&Gradients<f32>> = self.shards[..parts.len()]
            .iter()
            .map(|s| &s.grads)
            .collect();
        self.adam.step(&mut self.model, &grads, lr)?;
        self.steps += 1;
        Ok(sums.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1)))
    }
}

/// Builds a model from `model` and trains it with `config`: the one-call form of [`Trainer`].
pub fn train(
    model: VaeConfig,
    config: TrainConfig,
    train: ArrayView2<'_, f32>,
    test: Option<ArrayView2<'_, f32>>,
) -> Result<(Vae<f32>, History), VaeError> {
    let mut t = Trainer::new(Vae::new(model)?, config)?;
    t.fit(train, test)?;
    let history = t.history.clone();
    Ok((t.into_model(), history))
}

#[cfg(test)]
mod tests;
