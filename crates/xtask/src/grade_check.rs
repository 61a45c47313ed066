//! The grader's own test (run by `cargo xtask test`).

use crate::grade::{
    Status, assignments, cells, grade, outcome_of, parts, read_notebook, score, source,
};
use crate::setup::Env;
use crate::util::Result;
use serde_json::Value;

/// The grader's own test, on one real grading run and the runs `cargo xtask test` makes
/// (`wait_for_runs` returns once they are written):
/// every solution grades full marks; every untouched handout grades 0 on its stubbed parts (it
/// stops there as unfinished) and full on the others; a crafted class — a solution, and a student
/// whose notebook 02 panics in (a), hangs in (b) and answers (c) wrongly, beside a notebook of
/// another assignment, a file that is not a notebook and a stray file — grades exactly as
/// expected. (An untouched handout is not graded again for real: the handouts' own runs in the test are
/// scored by the same code, and a kernel costs 20 s.) Returns the problems found.
pub fn self_test(env: &Env, wait_for_runs: impl FnOnce()) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let base = env.root.join("target/xtask/grade-test");
    let work = base.join("out/work");
    // A clean slate, but for the scratch area's shared copy of the support crate and the data:
    // the grader rewrites only what changed there, so the grading kernels' build directories
    // find the crate built instead of compiling it again (cargo judges by modification times).
    clear_except(&base, &["out"])?;
    clear_except(&base.join("out"), &["work"])?;
    clear_except(&work, crate::grade::RESERVED)?;
    std::fs::create_dir_all(&work)?;
    // A crafted class, graded for real.
    let subs = base.join("subs");
    for s in ["alice", "carol"] {
        std::fs::create_dir_all(subs.join(s))?;
    }
    let nb = |n: &str| env.root.join(format!("notebooks/{n}.ipynb"));
    std::fs::copy(nb("01-entropy-kl"), subs.join("alice/01-entropy-kl.ipynb"))?;
    let mut two: Value =
        serde_json::from_str(&std::fs::read_to_string(nb("02-reparameterization"))?)?;
    type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);
    let edits: [Edit<'_>; 3] = [
        ("Hint: draw K rows", &|s| {
            format!("{s}\npanic!(\"a student bug in part (a)\");")
        }),
        // A hang that sleeps: one that spins would take a core from the test's other lane.
        ("Hint: weights log w", &|s| {
            format!("{s}\nloop {{ std::thread::sleep(std::time::Duration::from_millis(50)); }}")
        }),
        ("Hint: x = θ + σε", &|s| {
            s.replacen("theta + sigma * eps", "theta + 2.0 * sigma * eps", 1)
        }),
    ];
    for (marker, edit) in edits {
        let cell = two["cells"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .find(|c| c["cell_type"] == "code" && source(c).contains(marker));
        match cell {
            Some(c) => c["source"] = Value::String(edit(&source(c))),
            None => problems.push(format!(
                "crafted submission: no cell with `{marker}` in notebook 02"
            )),
        }
    }
    std::fs::write(
        subs.join("carol/02-reparameterization.ipynb"),
        serde_json::to_string(&two)?,
    )?;
    std::fs::copy(nb("00-tour"), subs.join("carol/01-entropy-kl.ipynb"))?;
    std::fs::write(subs.join("carol/03-vae.ipynb"), "not a notebook")?;
    std::fs::write(subs.join("carol/notes.txt"), "my notes")?;

    // One student at a time: this runs as one lane of `cargo xtask test` beside the others.
    let rows = grade(env, &subs, &base.join("out"), 30, 1)?;
    let row = |s: &str, n: &str, p: &str| {
        rows.iter()
            .find(|r| r.student == s && r.notebook.starts_with(n) && r.part == p)
    };
    let expect =
        |s: &str, n: &str, p: &str, status: Status, full: bool, text: &str| -> Option<String> {
            match row(s, n, p) {
                None => Some(format!("{s} {n} {p}: no row")),
                Some(r)
                    if r.status != status
                        || (full != (r.passed == r.total))
                        || !r.first_failure.contains(text) =>
                {
                    Some(format!(
                        "{s} {n} {p}: got {}/{} {} `{}`, expected {}{} `{text}`",
                        r.passed,
                        r.total,
                        r.status.name(),
                        r.first_failure,
                        status.name(),
                        if full { " with full marks" } else { "" }
                    ))
                }
                Some(_) => None,
            }
        };
    let wanted = [
        expect("alice", "01", "1a", Status::Ok, true, ""),
        expect("alice", "01", "1b", Status::Ok, true, ""),
        expect("alice", "02", "2a", Status::Missing, false, ""),
        expect(
            "carol",
            "01",
            "1a",
            Status::OtherAssignment,
            false,
            "code cells",
        ),
        expect(
            "carol",
            "02",
            "2a",
            Status::Failed,
            false,
            "a student bug in part (a)",
        ),
        expect(
            "carol",
            "02",
            "2b",
            Status::Timeout,
            false,
            "timed out after 30 s",
        ),
        expect("carol", "02", "2c", Status::Failed, false, "check failed"),
        expect("carol", "03", "3a", Status::NotANotebook, false, ""),
        expect("carol", "notes.txt", "-", Status::Unexpected, true, ""),
    ];
    problems.extend(wanted.into_iter().flatten());

    // The notebooks' and handouts' runs of this `cargo xtask test`, scored: they may still be
    // running beside the class (which needs none of them), hence the wait here, not before.
    wait_for_runs();
    let assignments = assignments(env, &work)?;
    for a in &assignments {
        let solution = read_notebook(
            &env.root
                .join(format!("target/xtask/notebooks/{}.ipynb", a.name)),
        );
        let handout = read_notebook(
            &env.root
                .join(format!("target/xtask/student/{}-executed.ipynb", a.name)),
        );
        let (Some(solution), Some(handout)) = (solution, handout) else {
            problems.push(format!(
                "{}: no executed solution and handout to grade",
                a.name
            ));
            continue;
        };
        for r in score("solution", a, &solution, &outcome_of(&solution)) {
            if r.status != Status::Ok || r.passed != r.total {
                problems.push(format!(
                    "solution {} part {}: {}/{} {}",
                    a.name,
                    r.part,
                    r.passed,
                    r.total,
                    r.status.name()
                ));
            }
        }
        let p = parts(&handout, &a.name);
        let stubbed: Vec<String> = cells(&handout)
            .iter()
            .zip(&p)
            .filter(|(c, _)| source(c).contains("todo!("))
            .filter_map(|(_, part)| part.clone())
            .collect();
        for r in score("handout", a, &handout, &outcome_of(&handout)) {
            let ok = if stubbed.contains(&r.part) {
                r.passed == 0 && r.status == Status::Unfinished
            } else {
                r.passed == r.total
            };
            if !ok {
                problems.push(format!(
                    "handout {} part {}: {}/{} {}",
                    a.name,
                    r.part,
                    r.passed,
                    r.total,
                    r.status.name()
                ));
            }
        }
    }

    if !base.join("out/grades.csv").is_file() || !base.join("out/grades.html").is_file() {
        problems.push("grades.csv or grades.html was not written".into());
    }
    Ok(problems)
}

/// Removes everything in `dir` (if it exists) but the entries named in `keep`.
fn clear_except(dir: &std::path::Path, keep: &[&str]) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if keep.iter().any(|k| e.file_name() == *k) {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}
