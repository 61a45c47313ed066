//! `cargo xtask bench startup`: how long a user waits on the compiler, measured in one run.
//!
//! - The first code cell of each notebook in a fresh kernel (the set-up cell: `:dep elbo`, the
//!   prelude), through the project's kernel, which keeps its build directory between kernels
//!   (`py/kernel.py`); beside it, the same cell in a fresh kernel with evcxr's own new temporary
//!   directory and its compile cache (`:cache`), which is what every kernel did before (the
//!   dependencies taken from the cache, the support crate recompiled each time).
//! - The kernel's start-up before that cell (what a restart costs on top of it).
//! - The median time of a code cell (compile, link and run), over all cells of all notebooks.
//! - The total of a warm `cargo xtask test` (run right after, so everything is built).
//!
//! Times depend on the machine and on what else runs; they are reported, never checked.

use crate::execute::{Notebook, Run, execute, first_code_cell, notebooks};
use crate::setup::ensure;
use crate::util::{Result, fail, secs};
use std::process::Command;
use std::time::Instant;

/// The goals of the toolchain issue, in seconds.
const GOAL_FIRST_CELL: f64 = 3.0;
const GOAL_WARM_TEST: f64 = 240.0;

pub fn run() -> Result<()> {
    let env = ensure()?;
    let nb_dir = env.root.join("notebooks");
    let out_dir = env.root.join("target/xtask/bench-startup");
    std::fs::create_dir_all(&out_dir)?;
    let nbs = notebooks(&nb_dir, None)?;

    println!("bench startup: warming the kernels' build directory (one run of the set-up cell)");
    crate::prewarm::prewarm(&env)?;

    println!("bench startup: every notebook in a fresh kernel (fast mode)");
    let mut firsts = Vec::new();
    let mut starts = Vec::new();
    let mut all_cells = Vec::new();
    for nb in &nbs {
        let run = Run {
            fast: true,
            ..Run::default()
        };
        let out = execute(
            &env,
            nb,
            &out_dir.join(format!("{}.ipynb", nb.name)),
            &run,
            "  ",
        )?;
        if !out.passed() {
            fail!("bench startup: {} failed; fix it first", nb.name);
        }
        let first = out.cells.first().map_or(f64::NAN, |c| c.seconds);
        firsts.push((nb.name.clone(), first));
        // What the runner waited before the first cell: the kernel's own start-up.
        starts.push(out.seconds - out.cells.iter().map(|c| c.seconds).sum::<f64>());
        all_cells.extend(out.cells.iter().skip(1).map(|c| c.seconds));
    }

    println!(
        "bench startup: the set-up cell in a fresh kernel with a new temporary build directory and evcxr's compile cache (the notebooks' set-up before)"
    );
    let scratch = out_dir.join("first-cell.ipynb");
    // The notebooks no longer turn the cache on (the kernels' build directories replace it), so
    // the baseline does, as the notebooks did; its first run on a machine fills the cache.
    let cell = format!(":cache 4096\n{}", first_code_cell(&nbs[0].ipynb)?);
    crate::execute::write_scratch_notebook(&scratch, &[&cell])?;
    let mut fresh = Vec::new();
    for i in 0..2 {
        let run = Run {
            cwd: Some(nb_dir.clone()),
            env: vec![("ELBO_KERNEL_FRESH".into(), "1".into())],
            ..Run::default()
        };
        let nb = Notebook {
            name: format!("set-up cell, new directory #{}", i + 1),
            ipynb: scratch.clone(),
        };
        let out = execute(
            &env,
            &nb,
            &out_dir.join("first-cell-fresh.ipynb"),
            &run,
            "  ",
        )?;
        if !out.passed() {
            fail!("bench startup: the set-up cell failed in a fresh directory");
        }
        fresh.push(out.cells.first().map_or(f64::NAN, |c| c.seconds));
    }
    // The baseline's build directories are of no further use.
    for entry in std::fs::read_dir(env.root.join("target/evcxr"))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with("fresh-") {
            std::fs::remove_dir_all(entry.path())?;
        }
    }

    println!("bench startup: warm `cargo xtask test`");
    let t0 = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["xtask", "test"])
        .current_dir(&env.root)
        .stdout(std::fs::File::create(out_dir.join("warm-test.log"))?)
        .status()?;
    let warm_test = t0.elapsed().as_secs_f64();
    if !status.success() {
        fail!(
            "bench startup: `cargo xtask test` failed (see {})",
            out_dir.join("warm-test.log").display()
        );
    }

    let fresh_median = median(&mut fresh);
    println!();
    println!(
        "{:<46} {:>10} {:>12} {:>8}",
        "measure", "ours", "goal", "ratio"
    );
    for (name, s) in &firsts {
        println!(
            "{:<46} {:>10} {:>12} {:>7.1}×",
            format!("first cell, fresh kernel: {name}"),
            secs(*s),
            format!("≤ {}", secs(GOAL_FIRST_CELL)),
            fresh_median / s
        );
    }
    println!(
        "{:<46} {:>10} {:>12}",
        "first cell, fresh kernel, new build directory",
        secs(fresh_median),
        "(before)"
    );
    println!(
        "{:<46} {:>10} {:>12}",
        "kernel start-up before the first cell, median",
        secs(median(&mut starts)),
        "—"
    );
    println!(
        "{:<46} {:>10} {:>12}",
        format!("median code cell ({} cells)", all_cells.len()),
        secs(median(&mut all_cells)),
        "—"
    );
    println!(
        "{:<46} {:>10} {:>12}",
        "warm `cargo xtask test`",
        secs(warm_test),
        format!("≤ {}", secs(GOAL_WARM_TEST))
    );
    println!(
        "(ratio: the first cell with a new build directory, as every kernel had before, over ours)"
    );
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
