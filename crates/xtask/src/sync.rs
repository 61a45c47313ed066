//! `cargo xtask sync`: regenerate each notebook's `.ipynb` from its `.rs` script (or back).

use crate::setup::{Env, ensure};
use crate::util::{Result, fail, run, spawn_status};

fn script(env: &Env) -> std::path::PathBuf {
    env.root.join("crates/xtask/py/notebook_sync.py")
}

pub fn run_sync(from_ipynb: bool) -> Result<()> {
    let env = ensure()?;
    let mut cmd = env.py();
    cmd.arg(script(&env))
        .arg("write")
        .arg(env.root.join("notebooks"));
    if from_ipynb {
        cmd.args(["--from", "ipynb"]);
    }
    run(&mut cmd)
}

/// Fails if a committed notebook carries outputs or a `.rs`/`.ipynb` pair has drifted.
pub fn check(env: &Env, only: Option<&str>) -> Result<()> {
    let mut cmd = env.py();
    cmd.arg(script(env))
        .arg("check")
        .arg(env.root.join("notebooks"));
    if let Some(o) = only {
        cmd.args(["--only", o]);
    }
    let status = spawn_status(&mut cmd)?;
    if !status.success() {
        fail!("notebooks are out of step (see above)");
    }
    Ok(())
}
