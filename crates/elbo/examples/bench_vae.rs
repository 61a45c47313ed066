//! Benchmark of `cargo xtask bench vae`: the pytorch/examples VAE (784-400-20, ReLU, Bernoulli
//! decoder, summed BCE + analytic KL, Adam 1e-3, batch 128) trained for 10 epochs on
//! `data/mnist-10k`, as `bench/vae/peer.py` trains it with PyTorch.
//!
//! ```text
//! cargo run --release -p elbo --example bench_vae            # the benchmark
//! cargo run --release -p elbo --example bench_vae -- recipe  # the 60-second quality recipe
//! cargo run --release -p elbo --example bench_vae -- iwae    # the recipe, then IWAE k = 1…1000
//! ```
//!
//! Prints one JSON line per measurement (`{"metric": …, "value": …, "better": …}`); every other
//! line is log. `BENCH_EPOCHS` overrides the number of epochs (the benchmark's default is 10),
//! `BENCH_THREADS` the number of worker threads (default: one per core), `BENCH_SECONDS` the
//! recipe's time budget (60), `BENCH_EVAL=1` evaluates the test set after every epoch.

use elbo::vae::{TrainConfig, Trainer, Vae, VaeConfig};
use std::time::Instant;

/// ε draws per test digit for the test −ELBO (as in `peer.py`).
const TEST_DRAWS: usize = 5;

fn emit(metric: &str, value: f64, better: &str) {
    println!("{{\"metric\": \"{metric}\", \"value\": {value:.3}, \"better\": \"{better}\"}}");
}

/// Peak resident set size in MB (VmHWM of /proc/self/status), if the kernel reports it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let iwae = mode == "iwae";
    let recipe = mode == "recipe" || iwae;
    let mnist = elbo::data::mnist_10k()?;
    let (train, test) = (mnist.train.images().view(), mnist.test.images().view());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let epochs: usize = match std::env::var("BENCH_EPOCHS") {
        Ok(v) => v.parse()?,
        Err(_) if recipe => 200,
        Err(_) => 10,
    };
    let (model_cfg, mut train_cfg) = if recipe {
        let budget: f64 = std::env::var("BENCH_SECONDS").map_or(Ok(60.0), |v| v.parse())?;
        let mut t = TrainConfig::recipe(epochs);
        t.time_budget = Some(budget);
        // knobs for studying the recipe
        if let Ok(v) = std::env::var("BENCH_BATCH") {
            t.batch_size = v.parse()?;
        }
        if let Ok(v) = std::env::var("BENCH_LR") {
            t.adam.lr = v.parse()?;
        }
        if let Ok(v) = std::env::var("BENCH_WARMUP") {
            t.kl_warmup_epochs = v.parse()?;
        }
        (
            VaeConfig {
                seed: 1,
                ..VaeConfig::deep_elu()
            },
            t,
        )
    } else {
        (
            VaeConfig {
                seed: 1,
                ..VaeConfig::pytorch_example()
            },
            TrainConfig {
                epochs,
                ..TrainConfig::default()
            },
        )
    };
    train_cfg.seed = 1;
    if let Ok(t) = std::env::var("BENCH_THREADS") {
        train_cfg.threads = t.parse()?;
    }
    let threads = if train_cfg.threads > 0 {
        train_cfg.threads
    } else {
        threads
    };
    let flops = model_cfg.train_flops_per_example();
    println!(
        "elbo VAE {:?} ({}), {} train / {} test digits, batch {}, {threads} threads, {:.2} MFLOP per example per step",
        model_cfg.encoder_sizes(),
        model_cfg.activation.name(),
        train.nrows(),
        test.nrows(),
        train_cfg.batch_size,
        flops / 1e6
    );
    let mut trainer = Trainer::new(Vae::new(model_cfg)?, train_cfg)?;
    let t0 = Instant::now();
    // No test set during training: the timed loop is training only, as on the PyTorch side
    // (`BENCH_EVAL=1` evaluates the test set after every epoch, to study a recipe).
    let eval = std::env::var("BENCH_EVAL").is_ok_and(|v| v != "0");
    let history = trainer.fit(train, eval.then_some(test))?;
    let seconds = t0.elapsed().as_secs_f64();
    let trained: usize = history.epochs.len() * train.nrows();
    let vae = trainer.into_model();
    let test_elbo = vae.elbo(test, TEST_DRAWS, 0)?;
    let done = history_epochs(trained, train.nrows());
    println!(
        "test -ELBO after {done} epochs ({seconds:.1} s): {:.3} nats (rec {:.3}, KL {:.3})",
        -test_elbo.mean_elbo(),
        -test_elbo.mean_rec(),
        test_elbo.mean_kl()
    );
    let samples_per_s = trained as f64 / seconds;
    if iwae {
        // the notebook's k-table: the importance-weighted bound on the whole test set
        for k in [1usize, 10, 100, 1000] {
            let t = Instant::now();
            let b = vae.iwae(test, k, 7)?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "IWAE k = {k:4}: {:.3} nats ({secs:.2} s)",
                b.mean().unwrap_or(f64::NAN)
            );
            emit(&format!("IWAE k={k} seconds"), secs, "lower");
        }
    }
    if recipe {
        emit(
            &format!("test -ELBO, recipe, {seconds:.0} s"),
            -test_elbo.mean_elbo(),
            "lower",
        );
        emit("recipe epochs", done as f64, "higher");
    } else {
        emit("train samples/s", samples_per_s, "higher");
        emit("GFLOP/s", samples_per_s * flops / 1e9, "higher");
        emit(
            &format!("test -ELBO after {done} epochs"),
            -test_elbo.mean_elbo(),
            "lower",
        );
    }
    if let Some(mb) = peak_rss_mb() {
        emit("peak RSS MB", mb, "lower");
    }
    Ok(())
}

fn history_epochs(trained: usize, per_epoch: usize) -> usize {
    trained / per_epoch.max(1)
}
