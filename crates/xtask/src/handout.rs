//! Student handouts (`py/student.py`): made by `render`, checked by `test`.

use crate::execute::{Notebook, Run, execute};
use crate::setup::Env;
use crate::util::{Result, output};
use std::path::Path;

/// Writes the student version of `solution` to `student`; returns the stub cells (1-based).
pub fn make(env: &Env, solution: &Path, student: &Path) -> Result<Vec<u64>> {
    let out = output(
        env.py()
            .arg(env.root.join("crates/xtask/py/student.py"))
            .arg("make")
            .arg(solution)
            .arg(student),
    )?;
    let v: serde_json::Value = serde_json::from_str(out.trim())?;
    Ok(v["stubs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_u64())
        .collect())
}

/// The handout of `nb`, checked: pasting the solutions back gives the solution notebook; the
/// handout runs up to its first stub, which fails as unfinished; every stub fails; and the first check after
/// each stub fails until the stub is filled in. Returns the problems found.
pub fn check(env: &Env, nb: &Notebook, dir: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let round = env
        .py()
        .arg(env.root.join("crates/xtask/py/student.py"))
        .arg("roundtrip")
        .arg(&nb.ipynb)
        .output()?;
    if !round.status.success() {
        problems.push(format!(
            "{}: {}",
            nb.name,
            String::from_utf8_lossy(&round.stdout).trim()
        ));
        return Ok(problems);
    }
    let student = dir.join(format!("{}.ipynb", nb.name));
    let stubs = make(env, &nb.ipynb, &student)?;
    if stubs.is_empty() {
        // A notebook without solution cells (the tour) has no handout.
        let _ = std::fs::remove_file(&student);
        return Ok(problems);
    }
    let run = Run {
        fast: true,
        cwd: nb.ipynb.parent().map(Path::to_path_buf),
        keep_going: true,
        expect_failure: true,
        ..Run::default()
    };
    let handout = Notebook {
        name: format!("{} (student)", nb.name),
        ipynb: student.clone(),
    };
    let out = execute(
        env,
        &handout,
        &dir.join(format!("{}-executed.ipynb", nb.name)),
        &run,
        "  handout",
    )?;
    let sources = cell_sources(&student)?;
    for c in &out.cells {
        if c.cell < stubs[0] && c.failure.is_some() {
            problems.push(format!(
                "{} (student): cell {} fails before the first stub: {}",
                nb.name,
                c.cell,
                c.message().lines().next().unwrap_or("")
            ));
        }
        // The first stub must stop as unfinished; later ones may already fail to compile for
        // want of what an earlier stub should have defined, which is a failure all the same.
        let unfinished = c.message().contains("not yet implemented");
        if stubs.contains(&c.cell) && (c.failure.is_none() || (c.cell == stubs[0] && !unfinished)) {
            problems.push(format!(
                "{} (student): stub cell {} did not fail as unfinished",
                nb.name, c.cell
            ));
        }
    }
    // The first cell with a check after each stub (and before the next one) must fail.
    for (i, &s) in stubs.iter().enumerate() {
        let next = stubs.get(i + 1).copied().unwrap_or(u64::MAX);
        let check = out.cells.iter().find(|c| {
            c.cell > s
                && c.cell < next
                && sources
                    .get(c.cell as usize - 1)
                    .is_some_and(|src| src.contains("check::"))
        });
        if let Some(c) = check {
            if c.failure.is_none() {
                problems.push(format!("{} (student): the check in cell {} passes although stub cell {s} is not filled in", nb.name, c.cell));
            }
        }
    }
    Ok(problems)
}

fn cell_sources(ipynb: &Path) -> Result<Vec<String>> {
    let nb: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ipynb)?)?;
    Ok(nb["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| match &c["source"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => String::new(),
        })
        .collect())
}
