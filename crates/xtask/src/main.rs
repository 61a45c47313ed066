//! The notebook toolchain, run as `cargo xtask <command>` (see `.cargo/config.toml`).

mod args;
mod bench;
mod browser;
mod bundle;
mod execute;
mod grade;
mod grade_check;
mod grade_report;
mod handout;
mod lanes;
mod prewarm;
mod render;
mod selftest;
mod setup;
mod startup;
mod sync;
mod test;
mod util;

use std::process::ExitCode;

/// One subcommand: its name, its usage line and description, and what it accepts.
struct Command {
    name: &'static str,
    usage: &'static str,
    about: &'static str,
    spec: args::Spec,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "setup",
        usage: "setup [--prewarm]",
        about: "install what the notebooks need (idempotent): evcxr_jupyter, a project-local Python\n\
                environment (.venv) with pinned Jupyter tooling, the Rust kernel; --prewarm also\n\
                builds the support crate and its dependencies for the kernels, so that a notebook's\n\
                first cell runs in seconds",
        spec: args::Spec {
            flags: &["--prewarm"],
            options: &[],
            positionals: 0,
        },
    },
    Command {
        name: "render",
        usage: "render [--only NAME]",
        about: "execute every notebook in a fresh kernel and write the rendered solutions to site/\n\
                (executed .ipynb, HTML pages, PDFs, handouts, index.html); runs setup if needed",
        spec: args::Spec {
            flags: &[],
            options: &["--only"],
            positionals: 0,
        },
    },
    Command {
        name: "test",
        usage: "test [--only NAME] [--skip-cargo] [--skip-notebooks]",
        about: "cargo tests, notebook hygiene, the runner's self-tests and every notebook executed\n\
                in fast mode; ends with `N passed, N failed`",
        spec: args::Spec {
            flags: &["--skip-cargo", "--skip-notebooks"],
            options: &["--only"],
            positionals: 0,
        },
    },
    Command {
        name: "selftest",
        usage: "selftest [--repeat N]",
        about: "the runner's failure detection under repetition: a notebook of N rounds of passing\n\
                cells, panics, `?` errors and failed checks (default 50), each failure caught at its\n\
                own cell and no passing cell flagged",
        spec: args::Spec {
            flags: &[],
            options: &["--repeat"],
            positionals: 0,
        },
    },
    Command {
        name: "grade",
        usage: "grade SUBMISSIONS [--out DIR] [--timeout SECONDS]",
        about: "grade students' filled-in handouts: SUBMISSIONS holds a folder per student with any\n\
                of the handouts under their own names; each runs in a fresh kernel in a scratch copy,\n\
                with a time limit per cell (default 120 s); writes DIR/grades.csv (student, notebook,\n\
                part, passed, total, status, first_failure) and DIR/grades.html (default DIR:\n\
                target/grades)",
        spec: args::Spec {
            flags: &[],
            options: &["--out", "--timeout"],
            positionals: 1,
        },
    },
    Command {
        name: "lab",
        usage: "lab",
        about: "open JupyterLab on notebooks/ with the Rust kernel",
        spec: args::Spec {
            flags: &[],
            options: &[],
            positionals: 0,
        },
    },
    Command {
        name: "sync",
        usage: "sync [--from ipynb]",
        about: "regenerate notebooks/*.ipynb from their .rs scripts (or the reverse)",
        spec: args::Spec {
            flags: &[],
            options: &["--from"],
            positionals: 0,
        },
    },
    Command {
        name: "bench",
        usage: "bench NAME",
        about: "benchmark ours against its peer in one run (NAME: estimators, vae, startup)",
        spec: args::Spec {
            flags: &[],
            options: &[],
            positionals: 1,
        },
    },
];

fn help() -> String {
    let mut s = String::from("cargo xtask <command>\n\n");
    for c in COMMANDS {
        s.push_str(&format!("  {}\n", c.usage));
        for line in c.about.lines() {
            s.push_str(&format!("        {}\n", line.trim()));
        }
    }
    s
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match argv.first().map(String::as_str) {
        Some("help" | "-h" | "--help") | None => {
            print!("{}", help());
            Ok(true)
        }
        Some(name) => match COMMANDS.iter().find(|c| c.name == name) {
            None => Err(util::Error(format!(
                "unknown command `{name}`\n\n{}",
                help()
            ))),
            Some(cmd) => match args::Args::parse(&argv[1..], &cmd.spec) {
                Err(e) => Err(util::Error(format!(
                    "{e}\nusage: cargo xtask {}\n(`cargo xtask {name} --help` for more)",
                    cmd.usage
                ))),
                Ok(a) if a.help => {
                    println!("usage: cargo xtask {}\n", cmd.usage);
                    for line in cmd.about.lines() {
                        println!("  {}", line.trim());
                    }
                    Ok(true)
                }
                Ok(a) => dispatch(name, &a),
            },
        },
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

fn dispatch(name: &str, a: &args::Args) -> util::Result<bool> {
    match name {
        "setup" => setup::run_setup(&setup::Env::new(), a.flag("--prewarm")).map(|_| true),
        "render" => render::run_render(a.value("--only").as_deref()).map(|_| true),
        "test" => test::run_test(&test::Options {
            only: a.value("--only"),
            skip_cargo: a.flag("--skip-cargo"),
            skip_notebooks: a.flag("--skip-notebooks"),
        }),
        "selftest" => selftest::run(a.number("--repeat")?.unwrap_or(50)),
        "grade" => match a.positionals.first() {
            Some(dir) => grade::run(
                std::path::Path::new(dir),
                &a.value("--out")
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| util::root().join("target/grades")),
                a.number("--timeout")?.unwrap_or(120),
            ),
            None => Err(util::Error(
                "usage: cargo xtask grade SUBMISSIONS [--out DIR] [--timeout SECONDS]".into(),
            )),
        },
        "lab" => lab(),
        "sync" => match a.value("--from").as_deref() {
            None => sync::run_sync(false).map(|_| true),
            Some("ipynb") => sync::run_sync(true).map(|_| true),
            Some(other) => Err(util::Error(format!(
                "`--from` takes `ipynb` (regenerate the .rs scripts from the notebooks), not `{other}`"
            ))),
        },
        "bench" => match a.positionals.first() {
            Some(name) => bench::run_bench(name).map(|_| true),
            None => Err(util::Error(
                "usage: cargo xtask bench NAME (estimators, vae, startup)".into(),
            )),
        },
        other => unreachable!("command `{other}` is listed but not dispatched"),
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
