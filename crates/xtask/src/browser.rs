//! Headless Chromium: the rendered-page checks and the PDFs.

use crate::setup::Env;
use crate::util::{Result, fail, spawn_error};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium (or Chrome) on PATH.
pub fn chromium() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
}

/// Chromium, installing Debian's package when it is missing and we may (root with apt-get);
/// `None` with a message saying why otherwise.
pub fn ensure_chromium() -> Option<PathBuf> {
    if let Some(c) = chromium() {
        return Some(c);
    }
    let root = crate::util::is_root();
    let apt = Path::new("/usr/bin/apt-get").exists();
    if root && apt {
        println!(
            "setup: installing Chromium (Debian package `chromium`) for the PDFs and browser checks"
        );
        let ok = Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null"])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return chromium();
        }
    }
    println!(
        "note: Chromium is not installed{}; PDFs and browser checks are skipped. Install it \
         (Debian/Ubuntu: `apt-get install chromium`) to get them.",
        if root && apt {
            " and could not be installed"
        } else {
            ""
        }
    );
    None
}

/// Opens each page with the network off and checks maths, figures, tables and errors
/// (`py/browser_check.py`); screenshots go to `shots`. Returns the problems found.
pub fn check_pages(
    env: &Env,
    chromium: &Path,
    pages: &[PathBuf],
    shots: &Path,
) -> Result<Vec<String>> {
    let mut cmd = env.py();
    cmd.arg(env.root.join("crates/xtask/py/browser_check.py"))
        .arg("--chromium")
        .arg(chromium)
        .arg("--screenshots")
        .arg(shots)
        .args(pages);
    let out = cmd.output().map_err(|e| spawn_error(&cmd, e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut problems = Vec::new();
    for line in text.lines() {
        println!("{line}");
        if let Some(p) = line.strip_prefix("  ") {
            problems.push(p.to_string());
        }
    }
    if !out.status.success() && problems.is_empty() {
        problems.push(format!(
            "the browser check failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(problems)
}

/// Prints `html` to `pdf` with Chromium, after its scripts (MathJax) have run.
pub fn print_pdf(chromium: &Path, html: &Path, pdf: &Path) -> Result<()> {
    let profile = std::env::temp_dir().join(format!("elbo-chromium-{}", std::process::id()));
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",
        "--no-pdf-header-footer",
        "--virtual-time-budget=30000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--print-to-pdf={}", pdf.display()))
    .arg(format!("file://{}", html.canonicalize()?.display()));
    let out = cmd.output().map_err(|e| spawn_error(&cmd, e))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() || !pdf.is_file() {
        fail!(
            "Chromium could not print {}: {}",
            html.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
