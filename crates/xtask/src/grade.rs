//! `cargo xtask grade SUBMISSIONS [--out DIR] [--timeout SECONDS]`: grade students' handouts.
//!
//! SUBMISSIONS holds one folder per student with any of the handouts under their own names
//! (`01-entropy-kl.ipynb`, …). Each notebook runs in a fresh kernel, in fast mode, in a scratch
//! folder of its own (`DIR/work/STUDENT/`, beside one copy of the support crate and the data), so
//! the student's code reads and writes there, not in the repository or another student's folder.
//! This separates files, it does not sandbox: run the grader as an unprivileged user.
//!
//! A *part* (1a … 3d) runs from its `## (x)` heading to the next part's heading. A part's checks
//! are those its solution prints (`✓ what: …`); a check passes when the student's run prints the
//! same `✓ what`. Any failure in a part (a panic, a `?` error, a failed check, anything on stderr,
//! a compile error) is the part's `first_failure`; a cell running past the time limit makes the
//! part `timeout`, and grading goes on (the kernel restarts and replays the cells that passed).

use crate::execute::{Notebook, Outcome, Run, execute};
use crate::setup::{Env, ensure};
use crate::util::{Result, fail, say, secs};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One row of `grades.csv`: a student's result on one part (or one file that is not gradable).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub student: String,
    pub notebook: String,
    pub part: String,
    pub passed: usize,
    pub total: usize,
    pub status: Status,
    pub first_failure: String,
}

/// How a part ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every check passed, nothing failed.
    Ok,
    /// A check failed, or the code panicked, returned a `?` error, wrote to stderr or did not compile.
    Failed,
    /// A stub still ends in `todo!()`.
    Unfinished,
    /// A cell ran past the time limit.
    Timeout,
    /// The student handed in no notebook of this name.
    Missing,
    /// The file is not a Jupyter notebook.
    NotANotebook,
    /// A notebook, but not this assignment's handout (its cells are not the handout's).
    OtherAssignment,
    /// A file the assignment does not ask for.
    Unexpected,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Unfinished => "unfinished",
            Status::Timeout => "timeout",
            Status::Missing => "missing",
            Status::NotANotebook => "not a notebook",
            Status::OtherAssignment => "other assignment",
            Status::Unexpected => "unexpected file",
        }
    }
}

/// A handout to grade: its name, the solution it comes from, and its parts' checks.
pub struct Assignment {
    pub name: String,
    /// The code cells' ids of the handout (a submission must carry most of them).
    pub cell_ids: Vec<String>,
    /// Checks per part, as the solution prints them (`what` of each `✓ what: …`, with repeats).
    pub checks: BTreeMap<String, Vec<String>>,
}

/// The part of each cell (by 0-based index) of a notebook `NN-…`: `Some("1a")` from a `## (a)`
/// heading on; `None` before the first part.
pub fn parts(nb: &Value, name: &str) -> Vec<Option<String>> {
    let question: String = name
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .to_string();
    let mut current = None;
    cells(nb)
        .iter()
        .map(|c| {
            if c["cell_type"] == "markdown" {
                for line in source(c).lines() {
                    let letter = line
                        .strip_prefix("## (")
                        .and_then(|r| r.chars().next())
                        .filter(|ch| ch.is_ascii_lowercase() && line.get(5..6) == Some(")"));
                    if let Some(l) = letter {
                        current = Some(format!("{question}{l}"));
                    }
                }
            }
            current.clone()
        })
        .collect()
}

/// The `what` of every check a run printed, per part.
pub fn checks_by_part(executed: &Value, parts: &[Option<String>]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (cell, part) in cells(executed).iter().zip(parts) {
        let Some(part) = part else { continue };
        let entry = out.entry(part.clone()).or_default();
        for o in cell["outputs"].as_array().into_iter().flatten() {
            if o["name"] != "stdout" {
                continue;
            }
            for line in text(&o["text"]).lines() {
                if let Some(rest) = line.strip_prefix("✓ ") {
                    entry.push(rest.split(": ").next().unwrap_or(rest).to_string());
                }
            }
        }
    }
    out
}

/// The rows of one graded notebook: its run's outcome and executed notebook against `a`.
pub fn score(student: &str, a: &Assignment, executed: &Value, outcome: &Outcome) -> Vec<Row> {
    let parts = parts(executed, &a.name);
    let got = checks_by_part(executed, &parts);
    a.checks
        .iter()
        .map(|(part, want)| {
            let mut have = got.get(part).cloned().unwrap_or_default();
            // Each expected check counts once per time the solution prints it.
            let passed = want
                .iter()
                .filter(|w| match have.iter().position(|h| h == *w) {
                    Some(i) => {
                        have.swap_remove(i);
                        true
                    }
                    None => false,
                })
                .count();
            let failures: Vec<&str> = outcome
                .cells
                .iter()
                .filter(|c| {
                    // Cell 0 is the kernel itself (it did not start, or not again after a
                    // restart): that fails every part.
                    c.failure.is_some()
                        && match (c.cell as usize).checked_sub(1) {
                            None => true,
                            Some(i) => parts.get(i).cloned().flatten().as_deref() == Some(part),
                        }
                })
                .map(|c| c.message())
                .collect();
            let unfinished = failures.iter().any(|m| m.contains("not yet implemented"));
            // An unfinished part earns nothing: the checks that pass without the student's code
            // (set-up and given code) are not the student's work.
            let passed = if unfinished { 0 } else { passed };
            let status = if failures.iter().any(|m| m.starts_with("timed out")) {
                Status::Timeout
            } else if unfinished {
                Status::Unfinished
            } else if !failures.is_empty() || passed < want.len() {
                Status::Failed
            } else {
                Status::Ok
            };
            Row {
                student: student.into(),
                notebook: a.name.clone(),
                part: part.clone(),
                passed,
                total: want.len(),
                status,
                first_failure: failures.first().map(|m| headline(m)).unwrap_or_default(),
            }
        })
        .collect()
}

/// The line of a failure message that says what went wrong: a panic's message (not the
/// `thread … panicked at` line before it), a compile error's `Error:` line (not the source line
/// it quotes), otherwise the first line.
pub fn headline(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pick = match lines.first() {
        Some(first) if first.starts_with("thread '") && first.contains("panicked at") => {
            lines.get(1)
        }
        // evcxr's compile errors: the offending line, a caret line under it, then the message
        // (sometimes prefixed "[E0425] Error: ")
        _ => lines
            .iter()
            .find(|l| l.contains("Error: "))
            .or_else(|| {
                lines
                    .iter()
                    .any(|l| strip_ansi(l).trim_start().starts_with('^'))
                    .then(|| lines.last())
                    .flatten()
            })
            .or(lines.first()),
    };
    pick.map(|l| l.to_string()).unwrap_or_default()
}

/// `s` without ANSI colour codes (`ESC [ … m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn cells(nb: &Value) -> Vec<Value> {
    nb["cells"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn source(cell: &Value) -> String {
    text(&cell["source"])
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

pub(crate) fn read_notebook(path: &Path) -> Option<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    (v["cells"].is_array() && v["nbformat"].is_u64()).then_some(v)
}

fn code_ids(nb: &Value) -> Vec<String> {
    cells(nb)
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect()
}

/// The assignments (notebooks with solution cells) and their checks, from the solutions run in
/// fast mode (cached in `target/xtask/grade-reference/` until the solution changes).
pub fn assignments(env: &Env, work: &Path) -> Result<Vec<Assignment>> {
    let mut out = Vec::new();
    let handouts = work.join("handouts");
    std::fs::create_dir_all(&handouts)?;
    let cache = env.root.join("target/xtask/grade-reference");
    std::fs::create_dir_all(&cache)?;
    for nb in crate::execute::notebooks(&env.root.join("notebooks"), None)? {
        let handout = handouts.join(format!("{}.ipynb", nb.name));
        if crate::handout::make(env, &nb.ipynb, &handout)?.is_empty() {
            continue;
        }
        let ids = code_ids(&read_notebook(&handout).unwrap_or_default());
        let solution_text = std::fs::read_to_string(&nb.ipynb)?;
        let key = format!("{:016x}", fnv(&solution_text));
        let cached = cache.join(format!("{}-{key}.json", nb.name));
        let checks: BTreeMap<String, Vec<String>> = match std::fs::read_to_string(&cached) {
            Ok(t) => serde_json::from_str(&t)?,
            Err(_) if let Some(v) = executed_by_test(env, &nb.ipynb, &nb.name) => {
                let checks = checks_by_part(&v, &parts(&v, &nb.name));
                std::fs::write(&cached, serde_json::to_string_pretty(&checks)?)?;
                checks
            }
            Err(_) => {
                say(&format!(
                    "grade: running the solution {} for its checks\n",
                    nb.name
                ));
                let executed = cache.join(format!("{}-executed.ipynb", nb.name));
                let run = Run {
                    fast: true,
                    ..Run::default()
                };
                let o = execute(env, &nb, &executed, &run, "  solution")?;
                if !o.passed() {
                    fail!(
                        "grade: the solution {} does not pass; fix it first",
                        nb.name
                    );
                }
                let v = read_notebook(&executed).unwrap_or_default();
                let checks = checks_by_part(&v, &parts(&v, &nb.name));
                std::fs::write(&cached, serde_json::to_string_pretty(&checks)?)?;
                checks
            }
        };
        out.push(Assignment {
            name: nb.name.clone(),
            cell_ids: ids,
            checks,
        });
    }
    Ok(out)
}

/// The solution as `cargo xtask test` last executed it (fast mode, passed), if its cells are
/// today's: the same checks, without running it again.
fn executed_by_test(env: &Env, solution: &Path, name: &str) -> Option<Value> {
    let v = read_notebook(
        &env.root
            .join(format!("target/xtask/notebooks/{name}.ipynb")),
    )?;
    let want = read_notebook(solution)?;
    let sources = |nb: &Value| cells(nb).iter().map(source).collect::<Vec<_>>();
    let failed = cells(&v).iter().any(|c| {
        c["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["output_type"] == "error" || o["name"] == "stderr")
    });
    (sources(&v) == sources(&want) && !failed).then_some(v)
}

/// FNV-1a: a stable content hash for the reference cache (std's hasher may change).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Rows for a whole notebook that could not be run (missing, not a notebook, another assignment).
fn whole(student: &str, a: &Assignment, status: Status, why: &str) -> Vec<Row> {
    a.checks
        .iter()
        .map(|(part, want)| Row {
            student: student.into(),
            notebook: a.name.clone(),
            part: part.clone(),
            passed: 0,
            total: want.len(),
            status,
            first_failure: why.into(),
        })
        .collect()
}

/// The scratch area: the support crate as a standalone package (`cargo package`) and the data.
fn prepare_work(env: &Env, work: &Path) -> Result<()> {
    let crate_dir = crate::bundle::standalone_elbo(env)?;
    crate::util::mirror(&crate_dir, &work.join("crates/elbo"))?;
    crate::util::mirror(&env.root.join("data"), &work.join("data"))
}

/// Names of the scratch area's shared folders, which no student folder may take.
pub const RESERVED: &[&str] = &["crates", "data", "handouts", ".prewarm"];

pub fn run(submissions: &Path, out: &Path, timeout: u64) -> Result<bool> {
    let env = ensure()?;
    grade(&env, submissions, out, timeout, crate::lanes::jobs()).map(|_| true)
}

/// Grades `submissions` into `out`; returns the rows written.
/// Students are graded `lanes` at a time, the largest submissions first (more cells, longer
/// runs: the lanes end together); rows come back in the students' alphabetical order.
pub fn grade(
    env: &Env,
    submissions: &Path,
    out: &Path,
    timeout: u64,
    lanes: usize,
) -> Result<Vec<Row>> {
    let start = Instant::now();
    let env = env.clone();
    if !submissions.is_dir() {
        fail!(
            "grade: {} is not a folder of student folders",
            submissions.display()
        );
    }
    let work = out.join("work");
    std::fs::create_dir_all(&work)?;
    let assignments = assignments(&env, &work)?;
    let mut students: Vec<PathBuf> = std::fs::read_dir(submissions)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    students.sort();
    crate::util::say(&format!(
        "grade: {} students × {} notebooks ({}), fast mode, {timeout} s per cell\n",
        students.len(),
        assignments.len(),
        assignments
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut tasks: Vec<crate::lanes::Task<'_, Result<Vec<Row>>>> = Vec::new();
    // What each task costs, roughly: the size of the notebook it runs (0 for a row without a run).
    let mut costs: Vec<u64> = Vec::new();
    for dir in &students {
        let student = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // The scratch area keeps the shared crate and data beside the students' folders.
        if RESERVED.contains(&student.as_str()) {
            costs.push(0);
            tasks.push(Box::new(move || {
                Ok(vec![Row {
                    student: student.clone(),
                    notebook: "-".into(),
                    part: "-".into(),
                    passed: 0,
                    total: 0,
                    status: Status::Unexpected,
                    first_failure: format!(
                        "a student folder may not be named {}: rename it",
                        RESERVED.join(", ")
                    ),
                }])
            }));
            continue;
        }
        for a in &assignments {
            let (env, work, student) = (&env, &work, student.clone());
            let file = dir.join(format!("{}.ipynb", a.name));
            costs.push(std::fs::metadata(&file).map_or(0, |m| m.len()));
            tasks.push(Box::new(move || {
                grade_one(env, work, &student, a, &file, timeout)
            }));
        }
        // Whatever else the folder holds gets a row saying so.
        let mut extra: Vec<String> = std::fs::read_dir(dir)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| {
                !assignments
                    .iter()
                    .any(|a| *f == format!("{}.ipynb", a.name))
            })
            .collect();
        extra.sort();
        for f in extra {
            let student = student.clone();
            costs.push(0);
            tasks.push(Box::new(move || {
                Ok(vec![Row {
                    student,
                    notebook: f.clone(),
                    part: "-".into(),
                    passed: 0,
                    total: 0,
                    status: Status::Unexpected,
                    first_failure: "not one of the handouts' file names".into(),
                }])
            }));
        }
    }
    // The crate copy is shared: prepare it before any kernel starts, and build it once per
    // build directory outside the time limit (a student's first cell must not pay for it).
    prepare_work(&env, &work)?;
    let warm = work.join(".prewarm");
    std::fs::create_dir_all(&warm)?;
    crate::util::say("grade: building the support crate for the grading kernels\n");
    crate::prewarm::prewarm_pool(
        &env,
        &warm,
        &[("ELBO_KERNEL_POOL".into(), "grade".into())],
        lanes,
    )?;
    // The largest notebooks first (more cells, longer runs), so that the lanes end together;
    // the rows keep the order of the task list (students alphabetically).
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let mut pending: Vec<Option<crate::lanes::Task<'_, Result<Vec<Row>>>>> =
        tasks.into_iter().map(Some).collect();
    let ordered: Vec<_> = order
        .iter()
        .map(|&i| pending[i].take().expect("each task once"))
        .collect();
    let mut results: Vec<(usize, Vec<Row>)> = Vec::new();
    for (&i, r) in order.iter().zip(crate::lanes::run_on(ordered, lanes)) {
        results.push((i, r?));
    }
    results.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = results.into_iter().flat_map(|(_, r)| r).collect();
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("grades.csv"), crate::grade_report::csv(&rows))?;
    std::fs::write(out.join("grades.html"), crate::grade_report::html(&rows))?;
    crate::util::say("\n");
    for dir in &students {
        let s = dir.file_name().unwrap_or_default().to_string_lossy();
        let mine: Vec<&Row> = rows.iter().filter(|r| r.student == s).collect();
        let (p, t): (usize, usize) = mine
            .iter()
            .fold((0, 0), |(p, t), r| (p + r.passed, t + r.total));
        let ok = mine.iter().filter(|r| r.status == Status::Ok).count();
        let parts = mine.iter().filter(|r| r.part != "-").count();
        crate::util::say(&format!(
            "{s}: {p}/{t} checks, {ok}/{parts} parts complete\n"
        ));
    }
    crate::util::say(&format!(
        "grade: wrote {} and {} in {}\n",
        out.join("grades.csv").display(),
        out.join("grades.html").display(),
        secs(start.elapsed().as_secs_f64())
    ));
    Ok(rows)
}

/// The outcome of a run read back from its executed notebook (failures from its `error` and
/// stderr outputs; a timeout is not recorded there).
pub fn outcome_of(executed: &Value) -> Outcome {
    let cells = cells(executed)
        .iter()
        .enumerate()
        .filter(|(_, c)| c["cell_type"] == "code")
        .map(|(i, c)| {
            let failure = c["outputs"].as_array().into_iter().flatten().find_map(|o| {
                if o["output_type"] == "error" {
                    Some(text(&o["traceback"]))
                } else if o["name"] == "stderr" {
                    Some(text(&o["text"]))
                } else {
                    None
                }
            });
            crate::execute::CellResult {
                cell: i as u64 + 1,
                code_cell: 0,
                first_line: String::new(),
                failure,
                seconds: 0.0,
            }
        })
        .collect();
    Outcome {
        name: String::new(),
        code_cells: 0,
        seconds: 0.0,
        cells,
        failure: None,
    }
}

fn grade_one(
    env: &Env,
    work: &Path,
    student: &str,
    a: &Assignment,
    file: &Path,
    timeout: u64,
) -> Result<Vec<Row>> {
    if !file.exists() {
        return Ok(whole(
            student,
            a,
            Status::Missing,
            "no such notebook handed in",
        ));
    }
    let Some(nb) = read_notebook(file) else {
        return Ok(whole(
            student,
            a,
            Status::NotANotebook,
            "the file is not a Jupyter notebook",
        ));
    };
    let ids = code_ids(&nb);
    let shared = a.cell_ids.iter().filter(|i| ids.contains(i)).count();
    if shared * 2 < a.cell_ids.len() {
        return Ok(whole(
            student,
            a,
            Status::OtherAssignment,
            &format!(
                "only {shared} of the handout's {} code cells are in it",
                a.cell_ids.len()
            ),
        ));
    }
    let scratch = work.join(student);
    std::fs::create_dir_all(&scratch)?;
    let copy = scratch.join(format!("{}.ipynb", a.name));
    std::fs::copy(file, &copy)?;
    let run = Run {
        fast: true,
        keep_going: true,
        expect_failure: true,
        cwd: Some(scratch.clone()),
        timeout: Some(timeout),
        replay_after_timeout: true,
        env: vec![("ELBO_KERNEL_POOL".into(), "grade".into())],
    };
    let book = Notebook {
        name: format!("{student}/{}", a.name),
        ipynb: copy,
    };
    let executed = scratch.join(format!("{}-graded.ipynb", a.name));
    let outcome = execute(env, &book, &executed, &run, "grade")?;
    let v = read_notebook(&executed).unwrap_or_default();
    Ok(score(student, a, &v, &outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headlines_name_the_failure_not_its_location() {
        let panic = "thread '<unnamed>' (1) panicked at src/lib.rs:3:1:\ncheck failed: E[g] = 2θ\nstack backtrace:";
        assert_eq!(headline(panic), "check failed: E[g] = 2θ");
        let compile = "let y = x + 1;\n        ^ not found\n[E0425] Error: cannot find value `x` in this scope";
        assert_eq!(
            headline(compile),
            "[E0425] Error: cannot find value `x` in this scope"
        );
        assert_eq!(headline("timed out after 30 s"), "timed out after 30 s");
        let bare = "    f(n)?,\n\u{1b}[91m      ^\u{1b}[0m \u{1b}[94mnot found\u{1b}[0m\ncannot find value `n` in this scope";
        assert_eq!(headline(bare), "cannot find value `n` in this scope");
    }

    #[test]
    fn parts_run_from_their_heading_to_the_next_part() {
        let nb = json!({"cells": [
            {"cell_type": "code", "source": "setup"},
            {"cell_type": "markdown", "source": "## (a) First"},
            {"cell_type": "code", "source": "a1"},
            {"cell_type": "markdown", "source": ["## Beyond (a)\n"]},
            {"cell_type": "code", "source": "a2"},
            {"cell_type": "markdown", "source": "## (b) Second"},
            {"cell_type": "code", "source": "b1"}
        ]});
        let p = parts(&nb, "02-reparameterization");
        let want = [
            None,
            Some("2a"),
            Some("2a"),
            Some("2a"),
            Some("2a"),
            Some("2b"),
            Some("2b"),
        ];
        assert_eq!(p, want.map(|x| x.map(String::from)).to_vec());
    }

    fn executed(lines_by_cell: &[&str]) -> Value {
        json!({"cells": lines_by_cell.iter().map(|l| if l.starts_with("##") {
            json!({"cell_type": "markdown", "source": l})
        } else {
            json!({"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "name": "stdout", "text": l}]})
        }).collect::<Vec<_>>()})
    }

    fn outcome(failures: &[(u64, &str)]) -> Outcome {
        Outcome {
            name: String::new(),
            code_cells: 0,
            seconds: 0.0,
            cells: failures
                .iter()
                .map(|(cell, m)| crate::execute::CellResult {
                    cell: *cell,
                    code_cell: 0,
                    first_line: String::new(),
                    failure: Some(m.to_string()),
                    seconds: 0.0,
                })
                .collect(),
            failure: None,
        }
    }

    #[test]
    fn scores_count_matching_checks_and_name_the_status() {
        let solution = executed(&[
            "## (a) x",
            "✓ one: 1\n✓ two: 2\n",
            "## (b) y",
            "✓ three: 3\n✓ three: 3\n",
        ]);
        let checks = checks_by_part(&solution, &parts(&solution, "01-x"));
        let a = Assignment {
            name: "01-x".into(),
            cell_ids: vec![],
            checks,
        };
        // all passed
        let rows = score("s", &a, &solution, &outcome(&[]));
        assert_eq!(
            rows.iter()
                .map(|r| (r.passed, r.total, r.status))
                .collect::<Vec<_>>(),
            vec![(2, 2, Status::Ok), (2, 2, Status::Ok)]
        );
        // (a) one check failed; (b) printed its check once of twice, then hung
        let student = executed(&["## (a) x", "✓ one: 1\n", "## (b) y", "✓ three: 3\n"]);
        let rows = score(
            "s",
            &a,
            &student,
            &outcome(&[
                (2, "thread 'x' panicked at l:\ncheck failed: two"),
                (4, "timed out after 9 s"),
            ]),
        );
        assert_eq!(
            (
                rows[0].passed,
                rows[0].status,
                rows[0].first_failure.as_str()
            ),
            (1, Status::Failed, "check failed: two")
        );
        assert_eq!((rows[1].passed, rows[1].status), (1, Status::Timeout));
        // an unfinished stub earns nothing in its part, whatever else passed there
        let rows = score(
            "s",
            &a,
            &solution,
            &outcome(&[(2, "not yet implemented: fill in")]),
        );
        assert_eq!((rows[0].passed, rows[0].status), (0, Status::Unfinished));
        assert_eq!(rows[1].status, Status::Ok);
        // the kernel itself failing (cell 0: it did not come back after a restart) fails every
        // part with its message, and scoring does not fall over
        let rows = score(
            "s",
            &a,
            &student,
            &outcome(&[(0, "RuntimeError: the kernel did not start")]),
        );
        assert!(
            rows.iter().all(|r| r.status == Status::Failed
                && r.first_failure.contains("the kernel did not start"))
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let row = Row {
            student: "a,b".into(),
            notebook: "n".into(),
            part: "1a".into(),
            passed: 1,
            total: 2,
            status: Status::Failed,
            first_failure: "said \"no\"".into(),
        };
        assert_eq!(
            crate::grade_report::csv(&[row]).lines().nth(1),
            Some("\"a,b\",n,1a,1,2,failed,\"said \"\"no\"\"\"")
        );
    }
}
