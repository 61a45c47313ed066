//! Paths, process helpers and the error type shared by the subcommands.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// A failure that ends the command, with a message for the user.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error(format!("invalid JSON: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error`] from a format string.
macro_rules! fail {
    ($($t:tt)*) => { return Err($crate::util::Error(format!($($t)*))) };
}
pub(crate) use fail;

/// Makes `dst` hold exactly the files of `src`, rewriting only files whose content differs (so a
/// file a student's code changed is restored, and cargo, which judges freshness by modification
/// times, rebuilds exactly what was touched).
pub fn mirror(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(dst)?.flatten() {
        if !src.join(e.file_name()).exists() {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        }
    }
    for e in std::fs::read_dir(src)?.flatten() {
        let (s, d) = (e.path(), dst.join(e.file_name()));
        if s.is_dir() {
            mirror(&s, &d)?;
        } else if std::fs::read(&s).ok() != std::fs::read(&d).ok() {
            std::fs::copy(&s, &d)?;
        }
    }
    Ok(())
}

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives at crates/xtask")
        .to_path_buf()
}

/// Runs `cmd`, inheriting stdio; an error names the command and how it ended.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = spawn_status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        fail!("`{}` failed ({status})", describe(cmd))
    }
}

/// Runs `cmd` and returns its exit status; a missing program is an error that says so.
pub fn spawn_status(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status().map_err(|e| spawn_error(cmd, e))
}

/// Runs `cmd` and returns its stdout; stderr is inherited.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| spawn_error(cmd, e))?;
    if !out.status.success() {
        fail!("`{}` failed ({})", describe(cmd), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn spawn_error(cmd: &Command, e: std::io::Error) -> Error {
    let prog = cmd.get_program().to_string_lossy().into_owned();
    if e.kind() == std::io::ErrorKind::NotFound {
        Error(format!(
            "`{prog}` was not found on PATH. {}",
            install_hint(&prog)
        ))
    } else {
        Error(format!("could not start `{}`: {e}", describe(cmd)))
    }
}

fn install_hint(prog: &str) -> &'static str {
    match Path::new(prog).file_name().and_then(|f| f.to_str()) {
        Some("python3") => {
            "Install Python 3.9 or newer with venv and pip (Debian/Ubuntu: `apt-get install python3 python3-venv python3-pip`)."
        }
        Some("cargo") => "Install Rust with rustup (https://rustup.rs) and open a new shell.",
        _ => "Run `cargo xtask setup` first.",
    }
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Whether we run as root (containers, CI), where some tools need telling.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

thread_local! {
    /// Where [`say`] writes on this thread: stdout, or a buffer while [`captured`] runs.
    static SAY_BUFFER: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Progress output: printed at once (and flushed, so a dot per cell shows live), or kept for
/// later when the caller runs inside [`captured`] (tasks run side by side print whole reports).
pub fn say(text: &str) {
    let printed = SAY_BUFFER.with(|b| match b.borrow_mut().as_mut() {
        Some(buf) => {
            buf.push_str(text);
            false
        }
        None => true,
    });
    if printed {
        use std::io::Write;
        print!("{text}");
        let _ = std::io::stdout().flush();
    }
}

/// Runs `f` with this thread's [`say`] output collected; returns its result and the output.
pub fn captured<R>(f: impl FnOnce() -> R) -> (R, String) {
    SAY_BUFFER.with(|b| *b.borrow_mut() = Some(String::new()));
    let r = f();
    let text = SAY_BUFFER
        .with(|b| b.borrow_mut().take())
        .unwrap_or_default();
    (r, text)
}

/// Seconds as `12.3 s` or `2 min 05 s`.
pub fn secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else {
        format!("{} min {:02.0} s", (s / 60.0).floor(), s % 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_output_is_returned_not_printed() {
        let (n, text) = captured(|| {
            say("a ");
            say("b\n");
            7
        });
        assert_eq!((n, text.as_str()), (7, "a b\n"));
        // outside `captured` nothing is kept
        let ((), empty) = captured(|| ());
        assert!(empty.is_empty());
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(secs(3.12), "3.1 s");
        assert_eq!(secs(125.0), "2 min 05 s");
    }

    #[test]
    fn commands_are_described_with_their_arguments() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]);
        assert_eq!(describe(&c), "python3 -m venv");
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let c = Command::new("python3");
        let e = spawn_error(&c, std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(e.0.contains("python3-venv"), "{e}");
    }
}
