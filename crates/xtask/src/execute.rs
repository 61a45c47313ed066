//! Executes one notebook in a fresh kernel through `py/run_notebook.py` and reads its report.

use crate::setup::Env;
use crate::util::{fail, spawn_error, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// How a notebook run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub code_cells: u64,
    pub executed: u64,
    pub seconds: f64,
    pub failure: Option<CellFailure>,
}

/// The first failing cell of a notebook.
#[derive(Debug, Clone)]
pub struct CellFailure {
    /// 1-based position among all cells (what Jupyter shows), and among code cells.
    pub cell: u64,
    pub code_cell: u64,
    pub first_line: String,
    pub message: String,
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

/// Executes `nb` (its working directory is the notebook's own, as in Jupyter) and writes the
/// executed notebook to `output`. `fast` sets `ELBO_FAST=1`. Prints a progress line.
pub fn execute(
    env: &Env,
    nb: &Notebook,
    output: &Path,
    fast: bool,
    label: &str,
) -> Result<Outcome> {
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
        .env("ELBO_FAST", if fast { "1" } else { "0" })
        // A panic's backtrace would bury its message in the report.
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        // The kernel's own chatter (cargo compiling dependencies) goes to a log, not the screen.
        .stderr(std::fs::File::create(&log)?);
    let mut child = cmd.spawn().map_err(|e| spawn_error(&cmd, e))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = Outcome {
        name: nb.name.clone(),
        code_cells: 0,
        executed: 0,
        seconds: 0.0,
        failure: None,
    };
    print!("{label} {} ", nb.name);
    flush();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(ev) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match ev["event"].as_str() {
            Some("start") => out.code_cells = ev["code_cells"].as_u64().unwrap_or(0),
            Some("cell") => {
                out.executed += 1;
                if let Some(msg) = ev["failure"].as_str() {
                    out.failure = Some(CellFailure {
                        cell: ev["cell"].as_u64().unwrap_or(0),
                        code_cell: ev["code_cell"].as_u64().unwrap_or(0),
                        first_line: ev["first_line"].as_str().unwrap_or("").to_string(),
                        message: msg.to_string(),
                    });
                } else {
                    print!(".");
                    flush();
                }
            }
            Some("end") => out.seconds = ev["seconds"].as_f64().unwrap_or(0.0),
            _ => {}
        }
    }
    let status = child.wait()?;
    if out.failure.is_none() && !status.success() {
        out.failure = Some(CellFailure {
            cell: 0,
            code_cell: 0,
            first_line: String::new(),
            message: format!("the notebook runner exited with {status}"),
        });
    }
    match &out.failure {
        None => println!(
            " {} code cells, {} ✓",
            out.code_cells,
            crate::util::secs(out.seconds)
        ),
        Some(f) => {
            println!(" FAILED");
            println!(
                "  {}: cell {} (code cell {} of {}): {}",
                nb.name, f.cell, f.code_cell, out.code_cells, f.first_line
            );
            for l in f.message.lines() {
                println!("    {l}");
            }
            println!("  (kernel log: {})", log.display());
        }
    }
    Ok(out)
}

fn flush() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
