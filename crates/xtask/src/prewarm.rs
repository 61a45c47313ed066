//! Pre-building the kernels' build directories (`setup --prewarm`, and before `test` and
//! `grade` start their kernels), and copying one build directory to seed another.
//!
//! A pre-build is skipped when every build directory of the pool carries a stamp of exactly what
//! it was built from (the support crate's files, the pinned versions, the kernels' build settings,
//! the set-up cell, the toolchain and evcxr): cargo would find nothing to do, and a kernel started
//! only to learn that costs 20 s. The stamp only ever skips work; what a kernel runs is still
//! decided by cargo's own fingerprints.

use crate::setup::Env;
use crate::util::{Result, fail, output, run};
use std::path::Path;
use std::process::Command;

/// The pre-build's second cell: it names an undefined value, so evcxr, unable to infer its type,
/// runs `cargo check`, which builds every dependency a second time in check mode (metadata
/// only). Without it, the first cell of a kernel's life that does not compile — in a handout, the
/// check right after an unfinished stub — waited 40 s for that, and a grader's 30 s limit called
/// it a hang.
const CHECK_CELL: &str = "let evcxr_prewarm_check = evcxr_prewarm_undefined;";

/// Builds the support crate and its dependencies for the kernels: executes a notebook made of the
/// notebooks' first cell and [`CHECK_CELL`] in as many build directories of the kernel pool as
/// `test` runs kernels at once, so the next kernels find everything compiled, for building and
/// for checking.
pub fn prewarm(env: &Env) -> Result<()> {
    let nb_dir = env.root.join("notebooks");
    crate::util::say(&format!(
        "setup: pre-building the support crate and its dependencies for the kernels ({} build directories, as many as `test` runs kernels at once)\n",
        crate::lanes::jobs()
    ));
    prewarm_pool(env, &nb_dir, &[], crate::lanes::jobs())
}

/// [`prewarm`] of `jobs` build directories for the kernels started in `cwd` with `env_vars`
/// (e.g. the grader's own pool, as many as it runs kernels at once).
pub fn prewarm_pool(
    env: &Env,
    cwd: &Path,
    env_vars: &[(String, String)],
    jobs: usize,
) -> Result<()> {
    let first = crate::execute::first_code_cell(&env.root.join("notebooks/00-tour.ipynb"))?;
    let dir = env.root.join("target/xtask");
    std::fs::create_dir_all(&dir)?;
    let scratch = dir.join("prewarm.ipynb");
    crate::execute::write_scratch_notebook(&scratch, &[first.as_str(), CHECK_CELL])?;
    let pool = env_vars
        .iter()
        .find(|(k, _)| k == "ELBO_KERNEL_POOL")
        .map_or("kernel", |(_, v)| v.as_str());
    let base = env.root.join("target/evcxr");
    let jobs = jobs.max(1);
    if pool != "kernel" {
        seed_pool(env, pool, jobs)?;
    }
    let stamp = stamp(env, cwd, &format!("{first}\n{CHECK_CELL}"))?;
    let stamp_file = |i: usize| base.join(format!("{pool}-{i}/.prewarm-stamp"));
    let current = |i: usize| {
        base.join(format!("{pool}-{i}/target")).is_dir()
            && std::fs::read_to_string(stamp_file(i)).ok().as_deref() == Some(stamp.as_str())
    };
    if (0..jobs).all(current) {
        crate::util::say(&format!(
            "  build: the {jobs} build directories are up to date (nothing they were built from changed)\n"
        ));
        return Ok(());
    }
    let kernel = |i: usize| -> Result<bool> {
        let run = crate::execute::Run {
            cwd: Some(cwd.to_path_buf()),
            env: env_vars.to_vec(),
            // The second cell fails by design.
            expect_failure: true,
            ..Default::default()
        };
        let book = crate::execute::Notebook {
            name: format!(
                "prewarm {} (build, then check: its cell 2 fails on purpose)",
                i + 1
            ),
            ipynb: scratch.clone(),
        };
        let out = dir.join(format!("prewarm-executed-{i}.ipynb"));
        let out = crate::execute::execute(env, &book, &out, &run, "  build:")?;
        Ok(out.cells.first().is_some_and(|c| c.failure.is_none())
            && out.failure.as_ref().is_some_and(|f| {
                f.code_cell == 2 && f.message().contains("evcxr_prewarm_undefined")
            }))
    };
    // One kernel builds first, alone, and its slot seeds the others: one build of polars and the
    // rest instead of one per slot, side by side on the same cores.
    if !base.join(format!("{pool}-0/target")).is_dir() && !kernel(0)? {
        fail!("pre-building for the kernels failed (see above)");
    }
    for i in 1..jobs {
        copy_slot(&base, &format!("{pool}-0"), &format!("{pool}-{i}"))?;
    }
    // Then all at once, so that each kernel holds its own slot: each brings its slot up to date
    // (the support crate, if it changed). A second attempt covers a transient failure.
    for attempt in 1..=2 {
        let tasks: Vec<crate::lanes::Task<'_, Result<bool>>> = (0..jobs)
            .map(|i| -> crate::lanes::Task<'_, Result<bool>> {
                let kernel = &kernel;
                Box::new(move || kernel(i))
            })
            .collect();
        let mut all = true;
        for ok in crate::lanes::run(tasks) {
            all &= ok?;
        }
        if all {
            for i in 0..jobs {
                std::fs::write(stamp_file(i), &stamp)?;
            }
            return Ok(());
        }
        if attempt == 1 {
            crate::util::say("  build: retrying once (see above)\n");
        }
    }
    fail!("pre-building for the kernels failed (see above)");
}

/// The first `n` build directories of a pool of its own (the grader's) start as copies of the
/// project's kernel slots, where missing. Call it while no kernel runs: a copy taken while
/// cargo writes would be torn.
pub fn seed_pool(env: &Env, pool: &str, n: usize) -> Result<()> {
    let base = env.root.join("target/evcxr");
    for i in 0..n {
        copy_slot(&base, &format!("kernel-{i}"), &format!("{pool}-{i}"))?;
    }
    Ok(())
}

/// Copies the kernel slot `base/from` to `base/to` if `from` has been built and `to` does not
/// exist: the same crates built with the same settings, so cargo in the copy rebuilds only what
/// differs (the support crate's copy, for the grader), not polars and the rest. The copies are
/// independent afterwards: nothing built in one reaches the other.
fn copy_slot(base: &Path, from: &str, to: &str) -> Result<()> {
    copy_build_dir(&base.join(from), &base.join(to))
}

/// [`copy_slot`] between any two kernel build directories.
pub fn copy_build_dir(from: &Path, to: &Path) -> Result<()> {
    if !from.join("target").is_dir() || to.exists() {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = to.with_extension("copying");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    run(Command::new("cp").arg("-a").arg(from).arg(&tmp))?;
    std::fs::rename(&tmp, to)?;
    Ok(())
}

/// What the build directories of a pool are built from, as one line per input: every file of
/// the support crate the kernels load (`cwd/../crates/elbo`: path, size, modification time, as
/// cargo judges freshness), the pinned versions, the kernels' build settings and launcher, the
/// set-up cell, the compiler's and evcxr's versions.
fn stamp(env: &Env, cwd: &Path, first_cell: &str) -> Result<String> {
    let mut lines = vec![format!("set-up cell: {first_cell:?}")];
    let crate_dir = cwd.join("../crates/elbo");
    let mut files = Vec::new();
    list_files(&crate_dir, &mut files)?;
    files.sort();
    let py = env.root.join("crates/xtask/py");
    files.extend([
        env.root.join("Cargo.lock"),
        py.join("kernel-cargo-config.toml"),
        py.join("kernel.py"),
    ]);
    if let Some(evcxr) = crate::setup::evcxr_path() {
        files.push(evcxr);
    }
    for f in &files {
        let meta = std::fs::metadata(f)?;
        let mtime = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        lines.push(format!("{} {} {mtime}", f.display(), meta.len()));
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    lines.push(output(Command::new(rustc).arg("-vV"))?.trim().to_string());
    Ok(lines.join("\n") + "\n")
}

/// Every file under `dir` but its build output (`target/`) and hidden files (`cargo package`'s
/// `.cargo_vcs_info.json` names the commit, which changes what no build reads).
fn list_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if e.file_name() != "target" {
                list_files(&path, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}
