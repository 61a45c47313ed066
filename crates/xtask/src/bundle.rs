//! The support crate as a standalone package, and the student bundle built from it.

use crate::setup::Env;
use crate::util::{Result, fail, run};
use std::path::PathBuf;
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
