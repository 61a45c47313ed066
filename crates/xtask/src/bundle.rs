//! The support crate as a standalone package, and the student bundle built from it.

use crate::setup::Env;
use crate::util::{Result, fail, mirror, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The support crate as a package of its own (`cargo package`: the workspace's shared settings
/// written into its manifest, only the files it ships), unpacked under `target/xtask/`. Used
/// where the crate must build outside this workspace: the grader's scratch area, the bundle.
pub fn standalone_elbo(env: &Env) -> Result<PathBuf> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "package",
        "--quiet",
        "-p",
        "elbo",
        "--no-verify",
        "--allow-dirty",
    ])
    .current_dir(&env.root);
    run(&mut cmd)?;
    let packaged = env.root.join("target/package");
    let file = std::fs::read_dir(&packaged)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().is_some_and(|f| {
                f.to_string_lossy().starts_with("elbo-") && f.to_string_lossy().ends_with(".crate")
            })
        });
    let Some(file) = file else {
        fail!(
            "cargo package wrote no elbo-*.crate in {}",
            packaged.display()
        )
    };
    let dest = env.root.join("target/xtask/elbo-package");
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::create_dir_all(&dest)?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&file)
        .arg("-C")
        .arg(&dest))?;
    let stem = file
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Ok(dest.join(stem))
}

/// Writes the student bundle `out/elbo-student.tar.gz` (and its tree `out/elbo-student/`): the
/// handouts, the support crate as a standalone package, the data, the kernel launcher with its
/// build settings, `setup.sh`, `lab.sh` and a README — no solution notebook and no solution text
/// (a handout keeps only the question, the set-up, the hints and the checks). Returns the archive.
///
/// The tree is brought up to date rather than rewritten (only changed files are written), so a
/// file keeps its modification time, in the tree and in the archive, until its content changes:
/// a kernel that built the unpacked support crate before rebuilds exactly what changed.
pub fn write(env: &Env, out: &Path) -> Result<PathBuf> {
    let tree = out.join("elbo-student");
    let nb_dir = tree.join("notebooks");
    if nb_dir.exists() {
        std::fs::remove_dir_all(&nb_dir)?;
    }
    std::fs::create_dir_all(&nb_dir)?;
    for nb in crate::execute::notebooks(&env.root.join("notebooks"), None)? {
        let handout = nb_dir.join(format!("{}.ipynb", nb.name));
        if crate::handout::make(env, &nb.ipynb, &handout)?.is_empty() {
            std::fs::remove_file(&handout)?;
        }
    }
    mirror(&standalone_elbo(env)?, &tree.join("crates/elbo"))?;
    mirror(&env.root.join("data"), &tree.join("data"))?;
    let tools = tree.join("tools");
    std::fs::create_dir_all(&tools)?;
    let py = env.root.join("crates/xtask/py");
    for f in ["kernel.py", "kernel-cargo-config.toml"] {
        std::fs::copy(py.join(f), tools.join(f))?;
    }
    std::fs::copy(
        env.root.join("crates/xtask/requirements.txt"),
        tools.join("requirements.txt"),
    )?;
    let files = env.root.join("crates/xtask/bundle");
    for f in ["README.md", "setup.sh", "lab.sh"] {
        std::fs::copy(files.join(f), tree.join(f))?;
    }
    let archive = out.join("elbo-student.tar.gz");
    run(Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(out)
        .arg("elbo-student"))?;
    Ok(archive)
}

/// The bundle as a student gets it: unpacked into an empty folder, `setup.sh` run, and the
/// handout with the most set-up executed with the bundle's own kernel up to its first stub, which
/// must stop as unfinished (and nothing before it fail). Also: no file of the bundle holds a
/// solution cell, and every handout has its stubs.
/// Returns the problems found.
pub fn check(env: &Env, archive: &Path, scratch: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    // The bundle's kernel build directory outlives the unpacked folder (the same path each time,
    // and files that keep their modification times until they change, see `write`): this test
    // checks what the handouts do, not how long a student's first, cold build takes.
    let slot = scratch.join("elbo-student/target/evcxr/kernel-0");
    let kept = scratch.with_file_name("bundle-kernel-0");
    if slot.join("target").is_dir() {
        if kept.exists() {
            std::fs::remove_dir_all(&kept)?;
        }
        std::fs::rename(&slot, &kept)?;
    }
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)?;
    }
    std::fs::create_dir_all(scratch)?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(archive)
        .arg("-C")
        .arg(scratch))?;
    let root = scratch.join("elbo-student");
    let listing = crate::util::output(Command::new("tar").arg("tzf").arg(archive))?;
    if listing
        .lines()
        .any(|l| l.contains("xtask") || l.ends_with(".rs") && l.contains("notebooks/"))
    {
        problems.push("the bundle holds the toolchain or a notebook script".into());
    }
    let out = Command::new("bash").arg(root.join("setup.sh")).output()?;
    if !out.status.success() {
        problems.push(format!(
            "setup.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
        return Ok(problems);
    }
    // Its first time, the slot starts as a copy of the project's (the same crates built with the
    // same settings), which saves minutes of compiling polars again.
    if kept.join("target").is_dir() {
        std::fs::create_dir_all(slot.parent().expect("slot's parent"))?;
        std::fs::rename(&kept, &slot)?;
    } else {
        crate::prewarm::copy_build_dir(&env.root.join("target/evcxr/kernel-0"), &slot)?;
    }
    // Every handout is checked for stubs; one is run: the one with the most set-up before its
    // first stub (the VAE's: it loads the data). The handouts' behaviour is `cargo xtask test`'s
    // handout check; here what is tested is the bundle — its crate, data, kernel and set-up —
    // and every handout loads the same crate through the same kernel.
    let mut handouts = Vec::new();
    for nb in crate::execute::notebooks(&root.join("notebooks"), None)? {
        let text = std::fs::read_to_string(&nb.ipynb)?;
        if text.contains("\"solution\"") && !text.contains("todo!(") {
            problems.push(format!("{}: a solution cell was not stubbed", nb.name));
        }
        let stub = first_stub(&text);
        if stub.is_none() {
            problems.push(format!("{}: the handout has no stub", nb.name));
        }
        handouts.push((nb, stub));
    }
    handouts.sort_by_key(|(_, stub)| std::cmp::Reverse(*stub));
    for (nb, stub) in handouts.into_iter().take(1) {
        let mut cmd = Command::new(root.join(".venv/bin/python"));
        cmd.arg(env.root.join("crates/xtask/py/run_notebook.py"))
            .arg(&nb.ipynb)
            .arg("--output")
            .arg(scratch.join(format!("{}-executed.ipynb", nb.name)))
            .env("JUPYTER_PATH", root.join(".venv/share/jupyter"))
            .env("ELBO_FAST", "1")
            .stderr(std::process::Stdio::null());
        // The runner exits non-zero when a cell fails, as here it must: read its report anyway.
        let out = cmd
            .output()
            .map_err(|e| crate::util::spawn_error(&cmd, e))?;
        let report = String::from_utf8_lossy(&out.stdout);
        // The runner stops at the first failure: it must be the first stub, unfinished.
        let first_failure = report
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["event"] == "cell" && e["failure"].is_string());
        match first_failure {
            Some(e)
                if Some(e["cell"].as_u64().unwrap_or(0)) == stub
                    && e["failure"]
                        .as_str()
                        .unwrap_or("")
                        .contains("not yet implemented") =>
            {
                crate::util::say(&format!(
                    "  bundle {}: runs up to its first stub (cell {}) ✓\n",
                    nb.name,
                    stub.unwrap_or(0)
                ));
            }
            other => problems.push(format!(
                "bundle {}: expected to stop as unfinished at the first stub (cell {:?}), got {}",
                nb.name,
                stub,
                other.map_or("no failure".into(), |e| format!(
                    "cell {}: {}",
                    e["cell"],
                    e["failure"]
                        .as_str()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                ))
            )),
        }
    }
    Ok(problems)
}

/// The 1-based number of the first stub cell (a code cell ending in `todo!(`) of a notebook.
fn first_stub(ipynb_text: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(ipynb_text).ok()?;
    v["cells"]
        .as_array()?
        .iter()
        .position(|c| {
            c["cell_type"] == "code"
                && match &c["source"] {
                    serde_json::Value::String(s) => s.contains("todo!("),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .any(|x| x.as_str().is_some_and(|s| s.contains("todo!("))),
                    _ => false,
                }
        })
        .map(|i| i as u64 + 1)
}
