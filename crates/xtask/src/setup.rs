//! `cargo xtask setup`: evcxr_jupyter, the project's Python environment and the Rust kernel.
//!
//! Idempotent: each step checks what is there and does only what is missing or out of date.

use crate::util::{Result, fail, output, root, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The evcxr_jupyter version the notebooks are tested with.
pub const EVCXR_VERSION: &str = "0.22.0";

/// Where the toolchain lives once set up.
#[derive(Debug, Clone)]
pub struct Env {
    pub root: PathBuf,
    pub venv: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let root = root();
        let venv = root.join(".venv");
        Env { root, venv }
    }

    pub fn python(&self) -> PathBuf {
        self.venv.join("bin/python")
    }

    /// A command for a program installed in the project's environment (`jupyter`, `jupytext`),
    /// with Jupyter looking in the project's environment for kernels before the user's own.
    pub fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(self.venv.join("bin").join(name));
        self.jupyter_env(&mut c);
        c
    }

    /// The project's Python with the same Jupyter environment as [`Env::tool`].
    pub fn py(&self) -> Command {
        let mut c = Command::new(self.python());
        self.jupyter_env(&mut c);
        c
    }

    fn jupyter_env(&self, c: &mut Command) {
        // JUPYTER_PATH is searched before the user's data directory, so our `rust` kernel
        // (pointing at the pinned evcxr) wins without touching the user's own kernels.
        c.env("JUPYTER_PATH", self.venv.join("share/jupyter"))
            .env("PYDEVD_DISABLE_FILE_VALIDATION", "1")
            .current_dir(&self.root);
    }

    fn requirements(&self) -> PathBuf {
        self.root.join("crates/xtask/requirements.txt")
    }

    /// True when everything `setup` installs is present and current (no network, no installs).
    pub fn is_ready(&self) -> bool {
        let Some(evcxr) = evcxr_path() else {
            return false;
        };
        // The registered spec must be today's (an older checkout may have written another).
        let spec_current = serde_json::to_string_pretty(&kernel_spec(self, &evcxr))
            .is_ok_and(|want| std::fs::read_to_string(self.kernel_json()).ok() == Some(want));
        installed_evcxr_version().as_deref() == Some(EVCXR_VERSION)
            && std::fs::read_to_string(self.venv.join(".elbo-requirements")).ok()
                == std::fs::read_to_string(self.requirements()).ok()
            && spec_current
    }

    fn kernel_json(&self) -> PathBuf {
        self.venv.join("share/jupyter/kernels/rust/kernel.json")
    }
}

/// Runs setup if anything is missing; quiet when all is in place.
pub fn ensure() -> Result<Env> {
    let env = Env::new();
    if !env.is_ready() {
        run_setup(&env, false)?;
    }
    Ok(env)
}

pub fn run_setup(env: &Env, prewarm_kernels: bool) -> Result<()> {
    println!("setup: project at {}", env.root.display());
    ensure_evcxr()?;
    ensure_venv(env)?;
    ensure_kernel(env)?;
    if prewarm_kernels {
        crate::prewarm::prewarm(env)?;
    }
    println!(
        "setup: done — `cargo xtask render` executes and exports the notebooks, `cargo xtask lab` opens them"
    );
    Ok(())
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// The evcxr_jupyter binary: on PATH, or in cargo's bin directory.
pub fn evcxr_path() -> Option<PathBuf> {
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("evcxr_jupyter"))
            .find(|p| p.is_file())
    });
    in_path.or_else(|| Some(cargo_bin().join("evcxr_jupyter")).filter(|p| p.is_file()))
}

/// The version `cargo install` recorded for evcxr_jupyter (the binary has no --version flag).
fn installed_evcxr_version() -> Option<String> {
    let list = Command::new("cargo")
        .args(["install", "--list"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("evcxr_jupyter v"))
        .map(|rest| rest.trim_end_matches(':').to_string())
}

fn ensure_evcxr() -> Result<()> {
    match (evcxr_path(), installed_evcxr_version()) {
        (Some(p), Some(v)) if v == EVCXR_VERSION => {
            println!("setup: evcxr_jupyter {v} present ({})", p.display());
            return Ok(());
        }
        (None, Some(v)) => {
            println!("setup: cargo lists evcxr_jupyter {v}, but its program is missing")
        }
        (_, Some(v)) => {
            println!("setup: evcxr_jupyter {v} is installed; the notebooks need {EVCXR_VERSION}")
        }
        _ => println!("setup: evcxr_jupyter not installed"),
    }
    println!(
        "setup: cargo install evcxr_jupyter --version {EVCXR_VERSION} --locked (about 8 minutes on 2 cores)"
    );
    run(Command::new("cargo").args([
        "install",
        "evcxr_jupyter",
        "--version",
        EVCXR_VERSION,
        "--locked",
    ]))
}

fn ensure_venv(env: &Env) -> Result<()> {
    python_env(
        &env.venv,
        &env.requirements(),
        &[],
        "the pinned Jupyter tooling",
    )
}

/// A Python virtual environment at `venv` with `requirements` installed, (re)built only when the
/// requirements file has changed since the last install; `pip_args` go to `pip install`.
pub fn python_env(venv: &Path, requirements: &Path, pip_args: &[&str], what: &str) -> Result<()> {
    let wanted = std::fs::read_to_string(requirements)
        .map_err(|e| crate::util::Error(format!("cannot read {}: {e}", requirements.display())))?;
    let stamp = venv.join(".elbo-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        println!("setup: Python environment current ({})", venv.display());
        return Ok(());
    }
    let python = venv.join("bin/python");
    if !python.exists() {
        println!("setup: creating the Python environment {}", venv.display());
        match Command::new("python3")
            .args(["-m", "venv", "--help"])
            .output()
        {
            Err(e) => return Err(crate::util::spawn_error(&Command::new("python3"), e)),
            Ok(o) if !o.status.success() => fail!(
                "python3 has no `venv` module. Install it (Debian/Ubuntu: `apt-get install python3-venv`) and try again."
            ),
            Ok(_) => {}
        }
        run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    }
    let pip = Command::new(&python)
        .args(["-m", "pip", "--version"])
        .output();
    if !pip.is_ok_and(|o| o.status.success()) {
        fail!(
            "the environment {} has no pip. Install pip for python3 (Debian/Ubuntu: `apt-get install python3-pip python3-venv`), delete {} and try again.",
            venv.display(),
            venv.display()
        );
    }
    println!("setup: installing {what} ({})", requirements.display());
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(pip_args)
        .arg("-r")
        .arg(requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(())
}

/// The kernel spec: evcxr_jupyter started through `py/kernel.py`, which gives each kernel a
/// persistent, locked build directory and the kernels' one set of build settings
/// (`py/kernel-cargo-config.toml`; see those files).
pub fn kernel_spec(env: &Env, evcxr: &Path) -> serde_json::Value {
    serde_json::json!({
        "argv": [
            env.python(),
            env.root.join("crates/xtask/py/kernel.py"),
            evcxr,
            "--control_file",
            "{connection_file}"
        ],
        "display_name": "Rust",
        "language": "rust",
        "interrupt_mode": "message",
    })
}

fn ensure_kernel(env: &Env) -> Result<()> {
    let Some(evcxr) = evcxr_path() else {
        fail!(
            "evcxr_jupyter is not on PATH nor in {}",
            cargo_bin().display()
        )
    };
    let path = env.kernel_json();
    let dir = path.parent().expect("kernel dir").to_path_buf();
    // evcxr_jupyter, started as a kernel, reinstalls its own kernel spec over ours unless its
    // resources (version.txt, the editor's lint files, logos) are in the kernel directory: let it
    // write them once, then write our spec.
    if !dir.join("version.txt").is_file() {
        let out = Command::new(&evcxr)
            .arg("--install")
            .env("JUPYTER_PATH", env.venv.join("share/jupyter"))
            .output()
            .map_err(|e| crate::util::spawn_error(&Command::new(&evcxr), e))?;
        if !out.status.success() {
            fail!(
                "`{} --install` failed: {}",
                evcxr.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    let text = serde_json::to_string_pretty(&kernel_spec(env, &evcxr))?;
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::create_dir_all(path.parent().expect("kernel dir"))?;
        std::fs::write(&path, text)?;
        println!("setup: registered the Rust kernel in {}", path.display());
    } else {
        println!("setup: Rust kernel registered");
    }
    Ok(())
}

/// The MathJax 3 files shipped by the `django-static-mathjax` package (`es5/tex-svg-full.js`,
/// with its licence beside it).
pub fn mathjax_dir(env: &Env) -> Result<PathBuf> {
    let out = output(env.py().args([
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ]))?;
    let base = PathBuf::from(out.trim()).join("mathjax/static/mathjax");
    let dir = base.join("es5");
    if !dir.join("tex-svg-full.js").is_file() {
        fail!(
            "MathJax not found in {}: run `cargo xtask setup`",
            dir.display()
        );
    }
    // Keep the licence with the script it covers.
    if !dir.join("LICENSE").is_file() {
        std::fs::copy(base.join("LICENSE"), dir.join("LICENSE"))?;
    }
    Ok(dir)
}
