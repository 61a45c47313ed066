//! polars `DataFrame`s displayed as HTML tables in evcxr (polars itself only prints a text grid).
//!
//! Any frame can be shown: NaN and ±∞ cells read `NaN`, `+∞`, `−∞`, nulls are empty, a cell
//! polars cannot read shows its error, and all text is HTML-escaped. Nothing here fails or panics.
//!
//! ```
//! use elbo::prelude::*;
//! let df = df!("k" => [1i64, 10, 100], "bound (nats)" => [-101.2, -99.8, -99.1]).unwrap();
//! let html = Table::new(df).caption("importance-weighted bound").html();
//! assert!(html.contains("<th>bound (nats)</th>") && html.contains("<td>-99.8000</td>"));
//! ```

use polars::prelude::{AnyValue, DataFrame};

/// A `DataFrame` with a caption and a number format, shown as an HTML table.
#[derive(Clone)]
pub struct Table {
    df: DataFrame,
    caption: Option<String>,
    decimals: usize,
}

impl From<DataFrame> for Table {
    fn from(df: DataFrame) -> Self {
        Table::new(df)
    }
}

impl Table {
    /// Wraps a frame; floats are shown with 4 decimals (scientific notation when tiny or huge).
    pub fn new(df: DataFrame) -> Self {
        Table {
            df,
            caption: None,
            decimals: 4,
        }
    }

    /// A caption shown above the table.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Number of decimals for floating-point cells (a `u8`: any value is a valid, bounded
    /// format; beyond 17 the extra digits are those of the exact binary value).
    pub fn decimals(mut self, decimals: u8) -> Self {
        self.decimals = decimals.into();
        self
    }

    /// The underlying frame.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// The table as an HTML fragment.
    pub fn html(&self) -> String {
        let mut h = String::from("<table class=\"elbo-table\">");
        if let Some(c) = &self.caption {
            h.push_str(&format!("<caption>{}</caption>", escape(c)));
        }
        h.push_str("<thead><tr>");
        for c in self.df.columns() {
            h.push_str(&format!("<th>{}</th>", escape(c.name().as_str())));
        }
        h.push_str("</tr></thead><tbody>");
        for i in 0..self.df.height() {
            h.push_str("<tr>");
            for c in self.df.columns() {
                let cell = match c.get(i) {
                    Ok(v) => self.format(&v),
                    Err(e) => format!("error: {e}"),
                };
                h.push_str(&format!("<td>{}</td>", escape(&cell)));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        h
    }

    /// Shows the table inline in Jupyter, wherever it is called in a cell (see [`crate::plot::Figure::show`]).
    pub fn show(&self) {
        self.evcxr_display();
    }

    /// The evcxr display hook: shows the table as HTML in Jupyter.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.html()
        );
    }

    fn format(&self, v: &AnyValue<'_>) -> String {
        match v {
            AnyValue::Float64(x) => fmt_float(*x, self.decimals),
            AnyValue::Float32(x) => fmt_float(f64::from(*x), self.decimals),
            AnyValue::Null => String::new(),
            AnyValue::String(s) => s.to_string(),
            AnyValue::StringOwned(s) => s.to_string(),
            other => other.to_string(),
        }
    }
}

/// Shown by evcxr only when it cannot display the table richly (see [`crate::plot::Figure`]'s
/// `Debug`); the notebook runner treats this text as a failure.
impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::plot::not_displayed(f, "Table", self.df.height(), self.df.width())
    }
}

impl std::fmt::Display for Table {
    /// Plain text: polars' own grid.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.df)
    }
}

fn fmt_float(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+∞" } else { "−∞" }.into()
    } else if x != 0.0 && (x.abs() < 10f64.powi(-(decimals as i32).min(300)) || x.abs() >= 1e9) {
        format!("{x:.3e}")
    } else {
        format!("{x:.decimals$}")
    }
}

/// Escapes text for HTML and SVG (`&`, `<`, `>`).
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn floats_use_fixed_or_scientific_notation() {
        assert_eq!(fmt_float(0.5108256, 4), "0.5108");
        assert_eq!(fmt_float(1.5e-7, 4), "1.500e-7");
        assert_eq!(fmt_float(f64::INFINITY, 4), "+∞");
        assert_eq!(fmt_float(0.0, 2), "0.00");
    }

    #[test]
    fn html_has_caption_header_and_escaped_cells() {
        let df = df!("name" => ["p<q", "q"], "KL" => [0.51, f64::INFINITY]).unwrap();
        let html = Table::new(df).caption("KL").decimals(2).html();
        assert!(html.contains("<caption>KL</caption>"));
        assert!(html.contains("<th>name</th><th>KL</th>"));
        assert!(html.contains("<td>p&lt;q</td><td>0.51</td>"));
        assert!(html.contains("<td>+∞</td>"));
    }
}
