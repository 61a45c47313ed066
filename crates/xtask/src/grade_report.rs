//! The grader's reports: `grades.csv` for spreadsheets, `grades.html` for reading.

use crate::grade::Row;

/// One line per row, RFC 4180 quoting.
pub fn csv(rows: &[Row]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("student,notebook,part,passed,total,status,first_failure\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            field(&r.student),
            field(&r.notebook),
            field(&r.part),
            r.passed,
            r.total,
            field(r.status.name()),
            field(&r.first_failure)
        ));
    }
    out
}

/// The rows as a self-contained HTML table, coloured by status.
pub fn html(rows: &[Row]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut body = String::new();
    for r in rows {
        body.push_str(&format!(
            "<tr class=\"{cls}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}/{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.student),
            esc(&r.notebook),
            esc(&r.part),
            r.passed,
            r.total,
            r.status.name(),
            esc(&r.first_failure),
            cls = r.status.name().replace(' ', "-"),
        ));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grades</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border-bottom: 1px solid #ddd; padding: .3rem .7rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.ok td {{ background: #eef8ee; }} tr.failed td, tr.timeout td {{ background: #fbecec; }}
tr.unfinished td, tr.missing td, tr.not-a-notebook td, tr.other-assignment td, tr.unexpected-file td {{ background: #fdf6e3; }}
td:last-child {{ font-family: ui-monospace, monospace; font-size: .85rem; max-width: 40rem; }}
</style></head>
<body><h1>Grades</h1>
<p>One row per student and part: checks passed out of the solution's, how the part ended, and its first failure.</p>
<table><thead><tr><th>student</th><th>notebook</th><th>part</th><th>checks</th><th>status</th><th>first failure</th></tr></thead>
<tbody>
{body}</tbody></table></body></html>
"#
    )
}
