//! The notebook toolchain, run as `cargo xtask <command>` (see `.cargo/config.toml`).

mod bench;
mod browser;
mod execute;
mod handout;
mod render;
mod setup;
mod sync;
mod test;
mod util;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command>

  setup                 install what the notebooks need (idempotent): evcxr_jupyter, a project-local
                        Python environment (.venv) with pinned Jupyter tooling, the Rust kernel
  render [--only NAME]  execute every notebook in a fresh kernel and write the rendered solutions
                        to site/ (executed .ipynb, HTML pages, index.html); runs setup if needed
  test [--only NAME] [--skip-cargo] [--skip-notebooks]
                        cargo tests, notebook hygiene, the runner's self-tests and every notebook
                        executed in fast mode; ends with `N passed, N failed`
  lab                   open JupyterLab on notebooks/ with the Rust kernel
  sync [--from ipynb]   regenerate notebooks/*.ipynb from their .rs scripts (or the reverse)
  bench NAME            benchmark ours against the Python peer (NAME: estimators, vae)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let value = |f: &str| {
        args.iter()
            .position(|a| a == f)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run_setup(&setup::Env::new()).map(|_| true),
        Some("render") => render::run_render(value("--only").as_deref()).map(|_| true),
        Some("test") => test::run_test(&test::Options {
            only: value("--only"),
            skip_cargo: flag("--skip-cargo"),
            skip_notebooks: flag("--skip-notebooks"),
        }),
        Some("lab") => lab(),
        Some("sync") => sync::run_sync(value("--from").as_deref() == Some("ipynb")).map(|_| true),
        Some("bench") => match args.get(1) {
            Some(name) => bench::run_bench(name).map(|_| true),
            None => Err(util::Error(
                "usage: cargo xtask bench NAME (estimators, vae)".into(),
            )),
        },
        Some("help" | "-h" | "--help") | None => {
            print!("{HELP}");
            Ok(true)
        }
        Some(other) => Err(util::Error(format!("unknown command `{other}`\n\n{HELP}"))),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn lab() -> util::Result<bool> {
    let env = setup::ensure()?;
    println!("lab: JupyterLab on notebooks/ (Ctrl-C to stop)");
    let mut cmd = env.tool("jupyter");
    cmd.args(["lab", "--MappingKernelManager.default_kernel_name=rust"])
        .arg(format!(
            "--ServerApp.root_dir={}",
            env.root.join("notebooks").display()
        ));
    // Without a display there is no browser to open: print the URL only.
    let display = |v: &str| std::env::var_os(v).is_some_and(|d| !d.is_empty());
    if !display("DISPLAY") && !display("WAYLAND_DISPLAY") {
        cmd.arg("--no-browser");
    }
    // Jupyter refuses to run as root (containers, CI machines) unless told.
    if util::is_root() {
        cmd.arg("--allow-root");
    }
    util::run(&mut cmd)?;
    Ok(true)
}
