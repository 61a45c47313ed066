//! `cargo xtask test`: the workspace's cargo tests, notebook hygiene, the runner's own
//! self-tests, then every notebook executed in a fresh kernel in fast mode.

use crate::execute::{Notebook, Run, execute, notebooks};
use crate::setup::ensure;
use crate::util::{Result, secs, spawn_error};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub struct Options {
    pub only: Option<String>,
    pub skip_cargo: bool,
    pub skip_notebooks: bool,
}

/// What each scratch notebook of the runner's self-test must do: fail at this cell with a
/// message containing this text, and stop there. The other kinds of failure (a panic, a bare
/// `todo!()`, a `?` error, a failed check, a lone write to stderr) are the stress test's, three
/// rounds in one kernel (`selftest::stress`); each used to have a notebook and a kernel (20 s) of
/// its own here as well.
const SELF_TESTS: &[(&str, u64, &str)] =
    &[("compile-error", 2, "cannot find value `undefined_variable`")];

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, ok: bool, what: String) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(what);
        }
    }
}

/// Runs everything; returns whether all passed. Ends with `N passed, N failed`.
pub fn run_test(opts: &Options) -> Result<bool> {
    let start = Instant::now();
    let mut t = Tally::default();
    if !opts.skip_cargo {
        println!("test: cargo test --workspace");
        cargo_test(&crate::util::root(), &mut t)?;
    }
    if !opts.skip_notebooks {
        notebook_tests(opts, &mut t)?;
    }
    println!();
    if !t.failures.is_empty() {
        println!("failures:");
        for f in &t.failures {
            println!("  - {f}");
        }
    }
    println!("test: finished in {}", secs(start.elapsed().as_secs_f64()));
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(t.failed == 0)
}

/// What a unit of notebook work records: for each check, whether it passed and what failed.
type Records = Result<Vec<(bool, String)>>;

/// One unit of notebook work: its name and what it records.
type Task<'a> = (String, crate::lanes::Task<'a, Records>);

/// A task whose check returns the problems it found: it announces itself, lists them, and
/// records one result under `name`.
fn checked<'a>(
    name: &'static str,
    intro: &'static str,
    check: impl FnOnce() -> Result<Vec<String>> + Send + 'a,
) -> Task<'a> {
    (
        name.into(),
        Box::new(move || {
            crate::util::say(&format!("{intro}\n"));
            let problems = check()?;
            for p in &problems {
                crate::util::say(&format!("  {p}\n"));
            }
            Ok(vec![(
                problems.is_empty(),
                format!("{name}: {}", problems.join("; ")),
            )])
        }),
    )
}

/// Runs `tasks` side by side and adds their records to `t`; then prints how long each took (what
/// to shorten first to make the test faster).
fn run_tasks(tasks: Vec<Task<'_>>, t: &mut Tally) {
    let (names, tasks): (Vec<String>, Vec<_>) = tasks.into_iter().unzip();
    let timed: Vec<crate::lanes::Task<'_, (Records, f64)>> = tasks
        .into_iter()
        .map(|task| -> crate::lanes::Task<'_, _> {
            Box::new(move || {
                let start = Instant::now();
                let result = task();
                (result, start.elapsed().as_secs_f64())
            })
        })
        .collect();
    let results = crate::lanes::run(timed);
    let mut took: Vec<(f64, &str)> = results
        .iter()
        .zip(&names)
        .map(|((_, s), n)| (*s, n.as_str()))
        .collect();
    took.sort_by(|a, b| b.0.total_cmp(&a.0));
    let list: Vec<String> = took
        .iter()
        .map(|(s, n)| format!("{n} {}", secs(*s)))
        .collect();
    println!(
        "test: time per task ({} at a time): {}",
        crate::lanes::jobs(),
        list.join(", ")
    );
    for (name, (result, _)) in names.into_iter().zip(results) {
        match result {
            Ok(records) => {
                for (ok, what) in records {
                    t.record(ok, what);
                }
            }
            Err(e) => t.record(false, format!("{name}: {e}")),
        }
    }
}

fn notebook_tests(opts: &Options, t: &mut Tally) -> Result<()> {
    let env = ensure()?;
    println!("test: notebook hygiene (no committed outputs, .rs and .ipynb in step)");
    let hygiene = crate::sync::check(&env, opts.only.as_deref());
    t.record(
        hygiene.is_ok(),
        format!(
            "notebook hygiene: {}",
            hygiene.err().map(|e| e.0).unwrap_or_default()
        ),
    );

    let out_dir = env.root.join("target/xtask/notebooks");
    std::fs::create_dir_all(&out_dir)?;
    let student_dir = env.root.join("target/xtask/student");
    std::fs::create_dir_all(&student_dir)?;
    let nbs = notebooks(&env.root.join("notebooks"), opts.only.as_deref())?;
    let jobs = crate::lanes::jobs();
    println!(
        "test: {} notebooks (fast mode, ELBO_FAST=1) and their handouts{}, each in fresh kernels, {jobs} at a time",
        nbs.len(),
        if opts.only.is_none() {
            ", the runner's self-tests"
        } else {
            ""
        }
    );
    // Every lane's build directory warm before the clock of any cell starts (and the image's
    // build step, `setup --prewarm`, exercised).
    crate::prewarm::prewarm(&env)?;
    if opts.only.is_none() {
        // The grading test's one lane (see below).
        crate::prewarm::seed_pool(&env, "grade", 1)?;
    }
    // The grading test reads the notebooks' and handouts' runs: it waits for them.
    let notebooks_done = Countdown::new(nbs.len());
    let passed = std::sync::Mutex::new(Vec::new());
    let mut tasks: Vec<Task<'_>> = Vec::new();
    // Longest first, so the two lanes end together.
    for nb in nbs.iter().rev() {
        let (env, out_dir, student_dir, passed, notebooks_done) =
            (&env, &out_dir, &student_dir, &passed, &notebooks_done);
        tasks.push((
            nb.name.clone(),
            Box::new(move || {
                let _done = notebooks_done.on_drop();
                let run = Run {
                    fast: true,
                    ..Run::default()
                };
                let out = execute(
                    env,
                    nb,
                    &out_dir.join(format!("{}.ipynb", nb.name)),
                    &run,
                    "notebook",
                )?;
                let what = match &out.failure {
                    Some(f) => format!(
                        "notebook {}: cell {}: {}",
                        nb.name,
                        f.cell,
                        f.message().lines().next().unwrap_or("")
                    ),
                    None => String::new(),
                };
                let mut records = vec![(out.passed(), what)];
                if out.passed() {
                    passed.lock().expect("passed").push(nb.clone());
                    let problems = crate::handout::check(env, nb, student_dir)?;
                    for p in &problems {
                        crate::util::say(&format!("  {p}\n"));
                    }
                    records.push((
                        problems.is_empty(),
                        format!("handout {}: {}", nb.name, problems.join("; ")),
                    ));
                }
                Ok(records)
            }),
        ));
    }
    if opts.only.is_none() {
        let (env, notebooks_done) = (&env, &notebooks_done);
        tasks.push(checked(
            "grading",
            "grading: solutions full marks, handouts 0 on stubbed parts, a crafted class graded as expected",
            move || crate::grade_check::self_test(env, || notebooks_done.wait()),
        ));
        tasks.push(checked(
            "student bundle",
            "bundle: unpacked into an empty folder, set up, the handout with the most set-up runs up to its first stub",
            move || {
                let dir = env.root.join("target/xtask/bundle");
                std::fs::create_dir_all(&dir)?;
                let archive = crate::bundle::write(env, &dir)?;
                crate::bundle::check(env, &archive, &dir.join("unpacked"))
            },
        ));
    }
    if opts.only.is_none() {
        let env = &env;
        tasks.push((
            "runner stress test".into(),
            Box::new(move || {
                crate::util::say("runner: every kind of failure, 3 rounds in one kernel, each caught at its own cell\n");
                let (problems, caught) = crate::selftest::stress(env, 3, "  stress")?;
                for p in &problems {
                    crate::util::say(&format!("  {p}\n"));
                }
                Ok(vec![(
                    problems.is_empty() && caught == 12,
                    format!("runner stress test: {caught} of 12 failures caught; {}", problems.join("; ")),
                )])
            }),
        ));
        tasks.push(checked(
            "edit pick-up",
            "runner: kernels reuse their build directory and still pick up an edited crate",
            move || crate::selftest::picks_up_edits(env),
        ));
        let dir = env.root.join("crates/xtask/tests/notebooks");
        for (name, cell, text) in SELF_TESTS {
            let (dir, out_dir) = (dir.clone(), &out_dir);
            tasks.push((
                format!("self-test {name}"),
                Box::new(move || {
                    let nb = Notebook {
                        name: name.to_string(),
                        ipynb: dir.join(format!("{name}.ipynb")),
                    };
                    let run = Run {
                        fast: true,
                        expect_failure: true,
                        ..Run::default()
                    };
                    let out = execute(env, &nb, &out_dir.join(format!("self-test-{name}.ipynb")), &run, "runner self-test, must fail:")?;
                    let ok = out
                        .failure
                        .as_ref()
                        .is_some_and(|f| f.cell == *cell && f.message().contains(text));
                    crate::util::say(&format!(
                        "  self-test {name}: {}\n",
                        if ok { "caught as expected ✓" } else { "NOT caught as expected ✗" }
                    ));
                    Ok(vec![(
                        ok,
                        format!("runner self-test `{name}`: expected a failure at cell {cell} mentioning `{text}`"),
                    )])
                }),
            ));
        }
    }
    run_tasks(tasks, t);
    let mut passed = passed.into_inner().expect("passed");
    passed.sort_by(|a, b| a.name.cmp(&b.name));

    match crate::browser::chromium() {
        None => println!(
            "test: browser checks skipped: Chromium is not installed (Debian/Ubuntu: `apt-get install chromium`)"
        ),
        Some(chromium) if !passed.is_empty() => {
            println!(
                "test: rendered pages in headless Chromium, network off (maths, figures, tables, no errors)"
            );
            let names: Vec<String> = passed.iter().map(|n| n.name.clone()).collect();
            crate::render::export_html(&env, &out_dir, &names)?;
            let pages: Vec<_> = names
                .iter()
                .map(|n| out_dir.join(format!("{n}.html")))
                .collect();
            let shots = env.root.join("target/xtask/screenshots");
            let problems = crate::browser::check_pages(&env, &chromium, &pages, &shots)?;
            t.record(
                problems.is_empty(),
                format!("browser check: {}", problems.join("; ")),
            );
            println!("test: screenshots in {}", shots.display());
        }
        Some(_) => {}
    }
    Ok(())
}

/// Runs `cargo test --workspace`, echoing its output and adding its counts to the tally.
fn cargo_test(root: &Path, t: &mut Tally) -> Result<()> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .current_dir(root)
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| spawn_error(&cmd, e))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut saw_result = false;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        // "test result: ok. 12 passed; 0 failed; 0 ignored; ..."
        if let Some((passed, failed)) = parse_test_result(&line) {
            saw_result = true;
            t.passed += passed;
            t.failed += failed;
            if failed > 0 {
                t.failures
                    .push(format!("cargo test: {failed} failed (see above)"));
            }
        }
    }
    let status = child.wait()?;
    if !status.success() && t.failures.is_empty() {
        t.record(
            false,
            format!("cargo test did not complete ({status}; see the compiler output above)"),
        );
    } else if !saw_result {
        t.record(false, "cargo test ran no test binary".into());
    }
    Ok(())
}

/// The counts of a libtest summary line, `test result: ok. 12 passed; 0 failed; 0 ignored; …`.
fn parse_test_result(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let count = |word: &str| {
        rest.split([';', '.'])
            .find_map(|part| {
                part.trim()
                    .strip_suffix(word)
                    .and_then(|n| n.trim().parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    Some((count(" passed"), count(" failed")))
}

/// A count of unfinished tasks that others can wait on.
struct Countdown {
    left: std::sync::Mutex<usize>,
    zero: std::sync::Condvar,
}

/// Counts its task down when dropped, however the task ends.
struct CountdownGuard<'a>(&'a Countdown);

impl Countdown {
    fn new(n: usize) -> Self {
        Countdown {
            left: std::sync::Mutex::new(n),
            zero: std::sync::Condvar::new(),
        }
    }

    fn on_drop(&self) -> CountdownGuard<'_> {
        CountdownGuard(self)
    }

    /// Blocks until every task has counted down.
    fn wait(&self) {
        let mut left = self.left.lock().expect("countdown");
        while *left > 0 {
            left = self.zero.wait(left).expect("countdown");
        }
    }
}

impl Drop for CountdownGuard<'_> {
    fn drop(&mut self) {
        let mut left = self.0.left.lock().expect("countdown");
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.0.zero.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libtest_summaries() {
        let ok = "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.21s";
        assert_eq!(parse_test_result(ok), Some((12, 0)));
        let bad = "test result: FAILED. 7 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_test_result(bad), Some((7, 2)));
        assert_eq!(parse_test_result("running 12 tests"), None);
    }

    #[test]
    fn tally_counts_and_remembers_failures() {
        let mut t = Tally::default();
        t.record(true, "fine".into());
        t.record(false, "broken".into());
        assert_eq!((t.passed, t.failed), (1, 1));
        assert_eq!(t.failures, vec!["broken".to_string()]);
    }

    #[test]
    fn countdown_releases_waiters_when_every_task_ends_even_by_error() {
        let c = Countdown::new(2);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| c.wait());
            scope.spawn(|| {
                let _done = c.on_drop();
            });
            scope.spawn(|| -> std::result::Result<(), ()> {
                let _done = c.on_drop();
                Err(())
            });
            waiter.join().expect("waiter");
        });
        assert_eq!(*c.left.lock().expect("countdown"), 0);
    }
}
