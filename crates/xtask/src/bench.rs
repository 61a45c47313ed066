//! `cargo xtask bench NAME`: ours against a Python peer, side by side, in one run.
//!
//! A benchmark NAME has two sides that each print one JSON line per measurement,
//! `{"metric": "...", "value": 1.0, "better": "higher" | "lower"}` (other lines are log):
//! - ours: `crates/elbo/examples/bench_NAME.rs`, run with `cargo run --release`;
//! - the peer: `bench/NAME/peer.py`, run in its own environment `target/bench-venv/NAME`
//!   built from `bench/NAME/requirements.txt` (never part of set-up or tests).

use crate::util::{Result, fail, spawn_error};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

struct Metric {
    name: String,
    value: f64,
    higher_is_better: bool,
}

pub fn run_bench(name: &str) -> Result<()> {
    if name == "startup" {
        return crate::startup::run();
    }
    let root = crate::util::root();
    let dir = root.join("bench").join(name);
    if !dir.join("peer.py").is_file() {
        let known: Vec<String> = std::fs::read_dir(root.join("bench"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        fail!(
            "no benchmark `{name}` (known: {}, startup)",
            known.join(", ")
        );
    }
    let python = peer_env(&root, name, &dir)?;
    println!("bench {name}: ours (cargo run --release -p elbo --example bench_{name})");
    let mut ours = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    ours.args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "elbo",
        "--example",
        &format!("bench_{name}"),
    ])
    .current_dir(&root);
    let ours = metrics(&mut ours)?;
    println!("bench {name}: peer (bench/{name}/peer.py)");
    let mut peer = Command::new(python);
    peer.arg(dir.join("peer.py")).current_dir(&root);
    let peer = metrics(&mut peer)?;

    println!();
    println!(
        "{:<34} {:>14} {:>14} {:>10}",
        "metric", "ours", "peer", "ratio"
    );
    for m in &ours {
        match peer.iter().find(|p| p.name == m.name) {
            Some(p) => {
                // The ratio is oriented so that > 1 means ours is better.
                let ratio = if m.higher_is_better {
                    m.value / p.value
                } else {
                    p.value / m.value
                };
                println!(
                    "{:<34} {:>14} {:>14} {:>9.2}×",
                    m.name,
                    fmt(m.value),
                    fmt(p.value),
                    ratio
                );
            }
            None => println!("{:<34} {:>14} {:>14} {:>10}", m.name, fmt(m.value), "—", ""),
        }
    }
    for p in peer
        .iter()
        .filter(|p| !ours.iter().any(|m| m.name == p.name))
    {
        println!("{:<34} {:>14} {:>14} {:>10}", p.name, "—", fmt(p.value), "");
    }
    println!(
        "(ratio > 1 means ours is better: ours/peer where higher is better, peer/ours where lower is better)"
    );
    Ok(())
}

fn fmt(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{v:.3e}")
    } else {
        format!("{v:.2}")
    }
}

/// The peer's virtual environment, (re)built when its requirements change. Bench requirements
/// list every package pinned, so pip installs exactly them (`--no-deps`): the PyTorch peer needs
/// that to leave out the GPU-only packages torch's wheel would pull in.
fn peer_env(root: &Path, name: &str, dir: &Path) -> Result<std::path::PathBuf> {
    let venv = root.join("target/bench-venv").join(name);
    let what = format!("the {name} peer's packages");
    crate::setup::python_env(&venv, &dir.join("requirements.txt"), &["--no-deps"], &what)?;
    Ok(venv.join("bin/python"))
}

/// Runs a side, echoing its log lines and collecting its metric lines.
fn metrics(cmd: &mut Command) -> Result<Vec<Metric>> {
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| spawn_error(cmd, e))?;
    let mut v = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        match serde_json::from_str::<Value>(&line) {
            Ok(j) if j["metric"].is_string() && j["value"].is_number() => {
                let m = Metric {
                    name: j["metric"].as_str().unwrap_or_default().to_string(),
                    value: j["value"].as_f64().unwrap_or(f64::NAN),
                    higher_is_better: j["better"].as_str() != Some("lower"),
                };
                println!("  {:<34} {}", m.name, fmt(m.value));
                v.push(m);
            }
            _ => println!("  | {line}"),
        }
    }
    let status = child.wait()?;
    if !status.success() {
        fail!("`{}` failed ({status})", crate::util::describe(cmd));
    }
    Ok(v)
}
