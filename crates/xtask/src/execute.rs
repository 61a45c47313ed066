//! Executes one notebook in a fresh kernel through `py/run_notebook.py` and reads its report.

use crate::setup::Env;
use crate::util::{Result, fail, say, spawn_error};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// How a notebook run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub code_cells: u64,
    pub seconds: f64,
    /// Every executed code cell, in order.
    pub cells: Vec<CellResult>,
    /// The first failure (a cell, or the runner itself).
    pub failure: Option<CellResult>,
}

/// One executed code cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// 1-based position among all cells (what Jupyter shows), and among code cells.
    pub cell: u64,
    pub code_cell: u64,
    pub first_line: String,
    pub failure: Option<String>,
    /// Wall-clock seconds from sending the cell to its reply (compile, link and run).
    pub seconds: f64,
}

impl CellResult {
    pub fn message(&self) -> &str {
        self.failure.as_deref().unwrap_or("")
    }
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// A notebook of the project: its name and its `.ipynb`.
#[derive(Debug, Clone)]
pub struct Notebook {
    pub name: String,
    pub ipynb: PathBuf,
}

/// How to run a notebook.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Sets `ELBO_FAST=1` (the notebooks' fast configuration).
    pub fast: bool,
    /// The kernel's working directory (default: the notebook's own, as in Jupyter).
    pub cwd: Option<PathBuf>,
    /// Executes every cell even after a failure (the first failure is still reported).
    pub keep_going: bool,
    /// The run is expected to fail (a self-test): say so instead of "FAILED".
    pub expect_failure: bool,
    /// Seconds a cell may run before it counts as hung (default: the runner's 30 minutes).
    pub timeout: Option<u64>,
    /// After a hung cell, restart the kernel and replay the cells before it that passed.
    pub replay_after_timeout: bool,
    /// Extra environment for the kernel (e.g. `ELBO_KERNEL_POOL`, read by `py/kernel.py`).
    pub env: Vec<(String, String)>,
}

/// The notebooks in `dir`, by name; `only` keeps those whose name contains it.
pub fn notebooks(dir: &Path, only: Option<&str>) -> Result<Vec<Notebook>> {
    let mut v: Vec<Notebook> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .map(|p| Notebook {
            name: p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            ipynb: p,
        })
        .filter(|n| only.is_none_or(|o| n.name.contains(o)))
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    if v.is_empty() {
        fail!(
            "no notebooks in {}{}",
            dir.display(),
            only.map(|o| format!(" matching `{o}`")).unwrap_or_default()
        );
    }
    Ok(v)
}

/// Executes `nb` in a fresh kernel and writes the executed notebook to `output`; prints a
/// progress line (a dot per cell) and, on failure, the notebook, the cell and the message.
pub fn execute(env: &Env, nb: &Notebook, output: &Path, run: &Run, label: &str) -> Result<Outcome> {
    let logs = env.root.join("target/xtask/logs");
    std::fs::create_dir_all(&logs)?;
    let log = logs.join(format!(
        "{}.log",
        output.file_stem().unwrap_or_default().to_string_lossy()
    ));
    let mut cmd = env.py();
    cmd.arg(env.root.join("crates/xtask/py/run_notebook.py"))
        .arg(&nb.ipynb)
        .arg("--output")
        .arg(output)
        .env("ELBO_FAST", if run.fast { "1" } else { "0" })
        // A panic's backtrace would bury its message in the report.
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        // The kernel's own chatter (cargo compiling dependencies) goes to a log, not the screen.
        .stderr(std::fs::File::create(&log)?);
    if let Some(cwd) = &run.cwd {
        cmd.arg("--cwd").arg(cwd);
    }
    if run.keep_going {
        cmd.arg("--keep-going");
    }
    cmd.envs(run.env.iter().map(|(k, v)| (k, v)));
    if let Some(t) = run.timeout {
        cmd.arg("--timeout").arg(t.to_string());
    }
    if run.replay_after_timeout {
        cmd.arg("--replay-after-timeout");
    }
    let mut child = cmd.spawn().map_err(|e| spawn_error(&cmd, e))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = Outcome {
        name: nb.name.clone(),
        code_cells: 0,
        seconds: 0.0,
        cells: Vec::new(),
        failure: None,
    };
    say(&format!("{label} {} ", nb.name));
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(ev) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match ev["event"].as_str() {
            Some("start") => out.code_cells = ev["code_cells"].as_u64().unwrap_or(0),
            Some("cell") => {
                let cell = CellResult {
                    cell: ev["cell"].as_u64().unwrap_or(0),
                    code_cell: ev["code_cell"].as_u64().unwrap_or(0),
                    first_line: ev["first_line"].as_str().unwrap_or("").to_string(),
                    failure: ev["failure"].as_str().map(str::to_string),
                    seconds: ev["seconds"].as_f64().unwrap_or(0.0),
                };
                say(if cell.failure.is_some() { "x" } else { "." });
                if cell.failure.is_some() && out.failure.is_none() {
                    out.failure = Some(cell.clone());
                }
                out.cells.push(cell);
            }
            Some("end") => out.seconds = ev["seconds"].as_f64().unwrap_or(0.0),
            _ => {}
        }
    }
    let status = child.wait()?;
    if out.failure.is_none() && !status.success() {
        out.failure = Some(CellResult {
            cell: 0,
            code_cell: 0,
            first_line: String::new(),
            seconds: 0.0,
            failure: Some(format!(
                "the notebook runner exited with {status} (see {})",
                log.display()
            )),
        });
    }
    match &out.failure {
        None => say(&format!(
            " {} code cells, {} ✓\n",
            out.code_cells,
            crate::util::secs(out.seconds)
        )),
        Some(f) if run.expect_failure || run.keep_going => say(&format!(
            " first failure at cell {}: {}\n",
            f.cell,
            f.message().lines().next().unwrap_or("")
        )),
        Some(f) => {
            say(" FAILED\n");
            say(&format!(
                "  {}: cell {} (code cell {} of {}): {}\n",
                nb.name, f.cell, f.code_cell, out.code_cells, f.first_line
            ));
            for l in f.message().lines() {
                say(&format!("    {l}\n"));
            }
            say(&format!("  (kernel log: {})\n", log.display()));
        }
    }
    Ok(out)
}

/// Writes a notebook of Rust code cells to `path` (the runner's scratch notebooks).
pub fn write_scratch_notebook<S: AsRef<str>>(path: &Path, cells: &[S]) -> Result<()> {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .enumerate()
        .map(|(i, src)| {
            serde_json::json!({"cell_type": "code", "execution_count": null, "id": format!("c{i}"),
                               "metadata": {}, "outputs": [], "source": src.as_ref()})
        })
        .collect();
    let nb = serde_json::json!({
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"}},
        "nbformat": 4, "nbformat_minor": 5
    });
    std::fs::write(path, serde_json::to_string_pretty(&nb)?)?;
    Ok(())
}

/// The source of the first code cell of a notebook (every notebook's is the same set-up cell).
pub fn first_code_cell(ipynb: &Path) -> Result<String> {
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(ipynb)?)?;
    let cell = nb["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["cell_type"] == "code");
    match cell.map(|c| &c["source"]) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(a)) => Ok(a.iter().filter_map(Value::as_str).collect()),
        _ => fail!("{} has no code cell", ipynb.display()),
    }
}
