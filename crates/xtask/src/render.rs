//! `cargo xtask render`: execute every notebook in a fresh kernel (full configuration) and
//! write the rendered solutions to `site/`, replacing the previous `site/` only on success.

use crate::execute::{Outcome, Run, execute, notebooks};
use crate::setup::{Env, ensure, mathjax_dir};
use crate::util::{Result, fail, run, secs};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

/// The MathJax configuration nbconvert's pages load, relative to the page.
const MATHJAX_URL: &str = "assets/mathjax/tex-svg-full.js";

pub fn run_render(only: Option<&str>) -> Result<()> {
    let start = Instant::now();
    let env = ensure()?;
    crate::sync::check(&env, only)?;
    let nbs = notebooks(&env.root.join("notebooks"), only)?;
    let site = env.root.join("site");
    let tmp = env.root.join("site.tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let jobs = crate::lanes::jobs();
    println!(
        "render: executing {} notebooks in fresh kernels (full configuration), {jobs} at a time",
        nbs.len()
    );
    // Every kernel's build directory ready first: the dependencies are built once and copied, not
    // once per kernel side by side, and none of it is a notebook's time.
    crate::prewarm::prewarm(&env)?;
    // Longest first (the VAE), so the lanes end together. What a notebook prints does not
    // depend on what runs beside it: every random routine is seeded, training runs a fixed
    // number of epochs, and the results are the same for any number of threads.
    let tasks: Vec<crate::lanes::Task<'_, Result<crate::execute::Outcome>>> = nbs
        .iter()
        .rev()
        .map(
            |nb| -> crate::lanes::Task<'_, Result<crate::execute::Outcome>> {
                let (env, tmp) = (&env, &tmp);
                Box::new(move || {
                    execute(
                        env,
                        nb,
                        &tmp.join(format!("{}.ipynb", nb.name)),
                        &Run::default(),
                        "render:",
                    )
                })
            },
        )
        .collect();
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for out in crate::lanes::run(tasks).into_iter().rev() {
        let out = out?;
        if !out.passed() {
            failed.push(out.name.clone());
        }
        outcomes.push(out);
    }
    if !failed.is_empty() {
        std::fs::remove_dir_all(&tmp)?;
        fail!(
            "render: {} failed; the previous site/ is left as it was",
            failed.join(", ")
        );
    }
    let names: Vec<String> = outcomes.iter().map(|o| o.name.clone()).collect();
    for n in &names {
        strip_hints(&tmp.join(format!("{n}.ipynb")))?;
    }
    export_html(&env, &tmp, &names)?;
    println!("render: student handouts in site/student/");
    std::fs::create_dir_all(tmp.join("student"))?;
    for nb in &nbs {
        let student = tmp.join("student").join(format!("{}.ipynb", nb.name));
        let stubs = crate::handout::make(&env, &nb.ipynb, &student)?;
        if stubs.is_empty() {
            std::fs::remove_file(&student)?;
        } else {
            println!("  {}: {} solution code cells stubbed", nb.name, stubs.len());
        }
    }
    let bundle = crate::bundle::write(&env, &tmp.join("student"))?;
    std::fs::remove_dir_all(tmp.join("student/elbo-student"))?;
    println!(
        "  {}: the handouts, the support crate, the data, setup and lab scripts",
        bundle.file_name().unwrap_or_default().to_string_lossy()
    );
    if let Some(chromium) = crate::browser::ensure_chromium() {
        println!("render: PDFs in site/pdf/");
        std::fs::create_dir_all(tmp.join("pdf"))?;
        for name in &names {
            crate::browser::print_pdf(
                &chromium,
                &tmp.join(format!("{name}.html")),
                &tmp.join("pdf").join(format!("{name}.pdf")),
            )?;
            println!("  {name}.pdf");
        }
    }
    write_index(&tmp, &outcomes)?;
    check_offline(&tmp)?;
    if let Some(chromium) = crate::browser::chromium() {
        println!("render: checking the pages in headless Chromium with the network off");
        let mut pages: Vec<_> = names
            .iter()
            .map(|n| tmp.join(format!("{n}.html")))
            .collect();
        pages.push(tmp.join("index.html"));
        let shots = env.root.join("target/xtask/screenshots/site");
        let problems = crate::browser::check_pages(&env, &chromium, &pages, &shots)?;
        if !problems.is_empty() {
            std::fs::remove_dir_all(&tmp)?;
            fail!(
                "render: the rendered pages have problems (see above); the previous site/ is left as it was"
            );
        }
        println!("render: screenshots in {}", shots.display());
    }
    // Swap in the new site: an interrupted render never leaves a half-written site/.
    let old = env.root.join("site.old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if site.exists() {
        std::fs::rename(&site, &old)?;
    }
    std::fs::rename(&tmp, &site)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    println!(
        "render: wrote {} ({} notebooks) in {}; open site/index.html",
        site.display(),
        outcomes.len(),
        secs(start.elapsed().as_secs_f64())
    );
    Ok(())
}

/// Removes the `// Hint: …` lines of solution cells from an executed notebook: they serve the
/// student handouts (which keep them above each stub), not the rendered solutions.
pub fn strip_hints(ipynb: &Path) -> Result<()> {
    let mut nb: Value = serde_json::from_str(&std::fs::read_to_string(ipynb)?)?;
    let Some(cells) = nb["cells"].as_array_mut() else {
        fail!("{}: not a notebook (no cells)", ipynb.display());
    };
    for cell in cells {
        let solution = cell["metadata"]["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "solution"));
        if !solution || cell["cell_type"] != "code" {
            continue;
        }
        let source = match &cell["source"] {
            Value::String(s) => s.clone(),
            Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let kept: String = source
            .split_inclusive('\n')
            .filter(|l| !l.trim_start().starts_with("// Hint:"))
            .collect();
        cell["source"] = Value::String(kept.trim_end_matches('\n').to_string());
    }
    std::fs::write(ipynb, serde_json::to_string_pretty(&nb)?)?;
    Ok(())
}

/// Converts the executed notebooks `dir/NAME.ipynb` to `dir/NAME.html`, with MathJax in
/// `dir/assets/`.
pub fn export_html(env: &Env, dir: &Path, names: &[String]) -> Result<()> {
    let mut cmd = env.tool("jupyter");
    cmd.args([
        "nbconvert",
        "--to",
        "html",
        "--template",
        "elbo",
        "--log-level",
        "WARN",
    ])
    .arg(format!(
        "--TemplateExporter.extra_template_basedirs={}",
        env.root.join("crates/xtask/templates").display()
    ))
    .arg(format!("--HTMLExporter.mathjax_url={MATHJAX_URL}"))
    .arg("--output-dir")
    .arg(dir);
    for n in names {
        cmd.arg(dir.join(format!("{n}.ipynb")));
    }
    run(&mut cmd)?;
    let (from, to) = (mathjax_dir(env)?, dir.join("assets/mathjax"));
    std::fs::create_dir_all(&to)?;
    for file in ["tex-svg-full.js", "LICENSE"] {
        std::fs::copy(from.join(file), to.join(file))?;
    }
    Ok(())
}

/// Refuses pages that would load anything from the network (the site must work offline).
fn check_offline(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&p)?;
        for needle in [
            "src=\"http",
            "src='http",
            "@import url(http",
            "import(\"http",
        ] {
            if let Some(i) = html.find(needle) {
                let end = (i + 120).min(html.len());
                fail!(
                    "render: {} would load from the network: {}",
                    p.display(),
                    html.get(i..end).unwrap_or(needle)
                );
            }
        }
        for link in html
            .match_indices("<link")
            .map(|(i, _)| &html[i..html[i..].find('>').map_or(html.len(), |j| i + j)])
        {
            if link.contains("href=\"http") {
                fail!(
                    "render: {} would load a stylesheet from the network: {link}",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

/// Title (first `# ` heading) and sub-question headings (`## `) of an executed notebook.
fn outline(ipynb: &Path) -> Result<(String, Vec<String>)> {
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(ipynb)?)?;
    let mut title = None;
    let mut parts = Vec::new();
    for cell in nb["cells"].as_array().into_iter().flatten() {
        if cell["cell_type"] != "markdown" {
            continue;
        }
        let src = match &cell["source"] {
            Value::String(s) => s.clone(),
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => String::new(),
        };
        for line in src.lines() {
            if let Some(t) = line.strip_prefix("# ") {
                title.get_or_insert_with(|| t.trim().to_string());
            } else if let Some(t) = line.strip_prefix("## ") {
                parts.push(t.trim().to_string());
            }
        }
    }
    let name = ipynb
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Ok((title.unwrap_or(name), parts))
}

fn write_index(dir: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut rows = String::new();
    for o in outcomes {
        let (title, parts) = outline(&dir.join(format!("{}.ipynb", o.name)))?;
        let mut links = format!(
            r#"<a href="{n}.html">solution</a> · <a href="{n}.ipynb">executed notebook</a>"#,
            n = o.name
        );
        if dir.join("pdf").join(format!("{}.pdf", o.name)).exists() {
            links.push_str(&format!(r#" · <a href="pdf/{}.pdf">PDF</a>"#, o.name));
        }
        if dir
            .join("student")
            .join(format!("{}.ipynb", o.name))
            .exists()
        {
            links.push_str(&format!(
                r#" · <a href="student/{}.ipynb">student notebook</a>"#,
                o.name
            ));
        }
        let parts: String = parts
            .iter()
            .map(|p| format!("<li>{}</li>", escape(p)))
            .collect();
        rows.push_str(&format!(
            "<section><h2><a href=\"{n}.html\">{t}</a></h2><p class=\"links\">{links}</p>\
             <p class=\"meta\">{c} code cells · ran in {s}</p><ul>{parts}</ul></section>\n",
            n = o.name,
            t = escape(&title),
            c = o.code_cells,
            s = secs(o.seconds),
        ));
    }
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ELBO — worked solutions</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }}
h1 {{ margin-bottom: .2rem; }} section {{ border-top: 1px solid #ddd; padding: .6rem 0; }}
h2 {{ font-size: 1.2rem; margin: .3rem 0; }} a {{ color: #1f5fa8; }} .meta {{ color: #666; font-size: .9rem; margin: 0; }}
.links {{ margin: .2rem 0; }} ul {{ margin: .3rem 0 .3rem 1.2rem; padding: 0; }}
</style>
<script>
window.MathJax = {{ tex: {{ inlineMath: [["$", "$"]] }}, svg: {{ fontCache: "global" }},
  startup: {{ pageReady: function () {{ return MathJax.startup.defaultPageReady().then(function () {{
    document.body.setAttribute("data-mathjax", "done"); }}); }} }} }};
</script>
<script src="{MATHJAX_URL}"></script></head>
<body><h1>ELBO — worked solutions</h1>
<p>Information theory, the reparameterization trick and variational autoencoders, as executable Rust notebooks.
Each page was executed top to bottom in a fresh kernel by <code>cargo xtask render</code>.</p>
<p>For students: <a href="student/elbo-student.tar.gz">the handouts as one bundle</a> (notebooks, support crate, data; unpack, then <code>./setup.sh</code> and <code>./lab.sh</code>).</p>
{rows}</body></html>
"#
    );
    std::fs::write(dir.join("index.html"), html)?;
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_finds_the_title_and_the_sub_questions() {
        let dir = std::env::temp_dir().join(format!("elbo-outline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let nb = dir.join("q.ipynb");
        let cells = serde_json::json!({"cells": [
            {"cell_type": "markdown", "source": ["# Question 1\n", "text\n", "## (a) KL is not symmetric\n"]},
            {"cell_type": "code", "source": "## not a heading"},
            {"cell_type": "markdown", "source": "## (b) KL from entropies"}
        ]});
        std::fs::write(&nb, cells.to_string()).unwrap();
        let (title, parts) = outline(&nb).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(title, "Question 1");
        assert_eq!(
            parts,
            vec!["(a) KL is not symmetric", "(b) KL from entropies"]
        );
    }

    #[test]
    fn hints_leave_solution_cells_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("elbo-hints-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let nb = dir.join("q.ipynb");
        let cells = serde_json::json!({"cells": [
            {"cell_type": "code", "metadata": {"tags": ["solution"]},
             "source": ["// Hint: use f\n", "let a = f(1);\n", "  // Hint: indented\n", "let b = 2;"]},
            {"cell_type": "code", "metadata": {}, "source": "// Hint: not a solution cell\nlet c = 3;"},
            {"cell_type": "markdown", "metadata": {"tags": ["solution"]}, "source": "// Hint: prose"}
        ]});
        std::fs::write(&nb, cells.to_string()).unwrap();
        strip_hints(&nb).unwrap();
        let out: Value = serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(out["cells"][0]["source"], "let a = f(1);\nlet b = 2;");
        assert_eq!(
            out["cells"][1]["source"],
            "// Hint: not a solution cell\nlet c = 3;"
        );
        assert_eq!(out["cells"][2]["source"], "// Hint: prose");
    }

    #[test]
    fn escaping_keeps_titles_safe() {
        assert_eq!(escape("a<b & c>"), "a&lt;b &amp; c&gt;");
    }
}
