//! `cargo xtask selftest`: the runner's failure detection, repeated.
//!
//! A failure the runner misses is a notebook that passes with a wrong answer, so detection must
//! not depend on timing. This builds one scratch notebook of `rounds` rounds, each a passing cell
//! followed by every kind of failure evcxr reports as "ok" (a bare `todo!()`, a `?` error, a
//! failed check, a bare write to stderr), runs it in one kernel with every cell executed, and
//! requires each failure at exactly its own cell — its message names its round, so output that
//! arrived late, at a neighbour, is caught — and no passing cell flagged.

use crate::execute::{Notebook, Run, execute};
use crate::setup::{Env, ensure};
use crate::util::{Result, secs};
use std::time::Instant;

/// One cell of a round: its source and, for a failing cell, the text its failure must contain.
fn round(r: u64) -> Vec<(String, Option<String>)> {
    vec![
        (
            format!("let value_{r} = {r} * 2;\nprintln!(\"round {r}: {{value_{r}}}\");"),
            None,
        ),
        (
            format!("todo!(\"unfinished in round {r}\");"),
            Some(format!("unfinished in round {r}")),
        ),
        (
            format!("Err::<(), String>(format!(\"a `?` error in round {{}}\", {r}))?;"),
            Some(format!("a `?` error in round {r}")),
        ),
        (format!("println!(\"still fine in round {r}\");"), None),
        (
            format!("elbo::check::close(\"a wrong claim in round {r}\", 2.0, 3.0, 1e-9);"),
            Some(format!("a wrong claim in round {r}")),
        ),
        (
            format!("eprintln!(\"only a line on stderr in round {r}\");"),
            Some(format!("only a line on stderr in round {r}")),
        ),
    ]
}

/// Writes the scratch notebook; returns its path and the expected failure of each cell (by
/// 1-based cell number; `None` for cells that must pass).
fn write_notebook(env: &Env, rounds: u64) -> Result<(Notebook, Vec<Option<String>>)> {
    let dir = env.root.join("target/xtask/selftest");
    std::fs::create_dir_all(&dir)?;
    let setup = format!(
        ":dep elbo = {{ path = {:?} }}",
        env.root.join("crates/elbo").display().to_string()
    );
    let mut cells = vec![(setup, None)];
    for r in 1..=rounds {
        cells.extend(round(r));
    }
    let path = dir.join(format!("stress-{rounds}.ipynb"));
    let sources: Vec<&str> = cells.iter().map(|(src, _)| src.as_str()).collect();
    crate::execute::write_scratch_notebook(&path, &sources)?;
    let expected = cells.into_iter().map(|(_, e)| e).collect();
    Ok((
        Notebook {
            name: format!("stress-{rounds}"),
            ipynb: path,
        },
        expected,
    ))
}

/// Runs the stress notebook of `rounds` rounds; returns what the runner got wrong (empty: every
/// failure caught at its own cell, no passing cell flagged) and how many failures it caught.
pub fn stress(env: &Env, rounds: u64, label: &str) -> Result<(Vec<String>, usize)> {
    let (nb, expected) = write_notebook(env, rounds)?;
    let run = Run {
        fast: true,
        keep_going: true,
        expect_failure: true,
        ..Run::default()
    };
    let out_path = nb.ipynb.with_extension("executed.ipynb");
    let out = execute(env, &nb, &out_path, &run, label)?;
    let mut problems = Vec::new();
    let mut caught = 0;
    if out.cells.len() != expected.len() {
        problems.push(format!(
            "{} of {} cells were executed",
            out.cells.len(),
            expected.len()
        ));
    }
    for (cell, want) in out.cells.iter().zip(&expected) {
        match (want, &cell.failure) {
            (None, None) => {}
            (None, Some(got)) => problems.push(format!(
                "cell {} must pass but was flagged: {}",
                cell.cell,
                got.lines().next().unwrap_or("")
            )),
            (Some(w), None) => {
                problems.push(format!("cell {} must fail (`{w}`) but passed", cell.cell))
            }
            (Some(w), Some(got)) if !got.contains(w.as_str()) => problems.push(format!(
                "cell {} failed with another cell's message: expected `{w}`, got `{}`",
                cell.cell,
                got.lines().next().unwrap_or("")
            )),
            (Some(_), Some(_)) => caught += 1,
        }
    }
    Ok((problems, caught))
}

pub fn run(rounds: u64) -> Result<bool> {
    let env = ensure()?;
    let start = Instant::now();
    println!(
        "selftest: {rounds} rounds of a passing cell, a panic, a `?` error, a passing cell, a failed check and a write to stderr, in one kernel"
    );
    let (problems, caught) = stress(&env, rounds, "selftest:")?;
    for p in &problems {
        println!("  {p}");
    }
    let expected = rounds as usize * 4;
    println!(
        "selftest: {caught} of {expected} failures caught at their own cell, {} wrong, in {}",
        problems.len(),
        secs(start.elapsed().as_secs_f64())
    );
    let ok = problems.is_empty() && caught == expected;
    println!(
        "{} passed, {} failed",
        if ok { 1 } else { 0 },
        if ok { 0 } else { 1 }
    );
    Ok(ok)
}

/// Kernels reuse their build directory, so an edit of a path crate must still reach the next
/// kernel: a scratch crate returns 1, a notebook prints it; the crate is edited to return 2 and
/// the notebook, in a new kernel, must print 2. (cargo's fingerprints decide what to rebuild,
/// for the support crate exactly as for this one.) Returns the problems found.
pub fn picks_up_edits(env: &Env) -> Result<Vec<String>> {
    let dir = env.root.join("target/xtask/stale-probe");
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"stale_probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let nb = Notebook {
        name: "stale-probe".into(),
        ipynb: dir.join("probe.ipynb"),
    };
    let cells = [
        format!(
            ":dep stale_probe = {{ path = {:?} }}",
            dir.display().to_string()
        ),
        "println!(\"probe says {}\", stale_probe::version());".to_string(),
    ];
    crate::execute::write_scratch_notebook(&nb.ipynb, &cells)?;
    let mut problems = Vec::new();
    for version in [1, 2] {
        std::fs::write(
            dir.join("src/lib.rs"),
            format!("pub fn version() -> u32 {{ {version} }}\n"),
        )?;
        let out_path = dir.join(format!("probe-{version}.ipynb"));
        let out = execute(env, &nb, &out_path, &Run::default(), "  edit picked up:")?;
        let printed = stdout_of(&out_path)?;
        let want = format!("probe says {version}");
        if !out.passed() || !printed.contains(&want) {
            problems.push(format!(
                "after setting the scratch crate to {version}, a new kernel printed `{}`",
                printed.trim()
            ));
        }
    }
    Ok(problems)
}

/// Everything an executed notebook printed to stdout.
fn stdout_of(ipynb: &std::path::Path) -> Result<String> {
    let nb: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ipynb)?)?;
    let mut text = String::new();
    for cell in nb["cells"].as_array().into_iter().flatten() {
        for out in cell["outputs"].as_array().into_iter().flatten() {
            if out["name"] == "stdout" {
                match &out["text"] {
                    serde_json::Value::String(s) => text.push_str(s),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .for_each(|s| text.push_str(s)),
                    _ => {}
                }
            }
        }
    }
    Ok(text)
}
