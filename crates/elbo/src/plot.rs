//! Figures that display inline in evcxr (as SVG) and save to files.
//!
//! A notebook cell can show one rich output, so a [`Figure`] is the unit: one chart, an image
//! grid, or several of them side by side ([`Figure::hstack`]).
//!
//! ```
//! use elbo::plot::Chart;
//! let n: Vec<f64> = (1..=100).map(f64::from).collect();
//! let err: Vec<f64> = n.iter().map(|n| 1.0 / n.sqrt()).collect();
//! let fig = Chart::new("Monte Carlo error")
//!     .x_label("samples n")
//!     .y_label("|error|")
//!     .log_x()
//!     .log_y()
//!     .line("1/√n", &n, &err)
//!     .render()
//!     .unwrap();
//! assert!(fig.svg().contains("Monte Carlo error"));
//! ```

mod chart;
mod image;
mod png;

pub use chart::{Chart, MAX_DECADES, MAX_SIDE, MIN_SIDE, Values};
pub use image::{MAX_GRID_SIDE, image_grid};
/// Where a chart's legend goes ([`Chart::legend`]).
pub use plotters::chart::SeriesLabelPosition;

use std::path::Path;

/// Why a figure could not be drawn. Every message names the series, axis or argument at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// A series has no points (or all were filtered out).
    #[error("series `{0}` has no points to plot")]
    Empty(String),
    /// x and y (or band bounds) of a series differ in length.
    #[error("series `{series}`: {what} has {got} values but x has {expected}")]
    Length {
        series: String,
        what: &'static str,
        got: usize,
        expected: usize,
    },
    /// A value is NaN or infinite, or non-positive on a logarithmic axis.
    #[error("series `{series}`: value {value} at index {index} cannot be drawn on {axis}")]
    BadValue {
        series: String,
        index: usize,
        value: f64,
        axis: &'static str,
    },
    /// The chart has no series with points (a reference line alone has no x range).
    #[error(
        "chart `{0}` has nothing to draw: add a line, dashed line, points or band \
         (a reference line alone has no x range)"
    )]
    NoData(String),
    /// [`Chart::classes`] got a number of class labels different from its number of points.
    #[error("classes: {labels} class labels for {points} points; one label per point is expected")]
    Labels {
        /// Number of labels given.
        labels: usize,
        /// Number of points (length of x).
        points: usize,
    },
    /// An axis range, given or fitted to the data, cannot be drawn.
    #[error("{axis} axis range [{lo:?}, {hi:?}] ({origin}): {why}")]
    Range {
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
        /// `"given by x_range"`, `"given by y_range"` or `"fitted to the data"`.
        origin: &'static str,
        /// What is wrong and what is expected.
        why: &'static str,
    },
    /// The chart size is outside the supported range.
    #[error(
        "size {width}×{height}: width and height must each be between {min} and {max} pixels",
        min = chart::MIN_SIDE,
        max = chart::MAX_SIDE
    )]
    Size {
        /// Width asked for.
        width: u32,
        /// Height asked for.
        height: u32,
    },
    /// An image grid was given the wrong shape.
    #[error("image grid: {0}")]
    Shape(String),
    /// The drawing backend failed.
    #[error("drawing failed: {0}")]
    Backend(String),
}

/// A rendered figure: an SVG document with its pixel size.
///
/// Sizes are kept as `u64` so that [`Figure::hstack`] cannot overflow: summing the widths of
/// any slice of figures that fits in memory stays far below `u64::MAX`.
#[derive(Clone, PartialEq)]
pub struct Figure {
    svg: String,
    width: u64,
    height: u64,
}

impl Figure {
    /// Wraps an SVG document of the given size.
    pub fn from_svg(svg: String, width: u32, height: u32) -> Self {
        Figure {
            svg,
            width: width.into(),
            height: height.into(),
        }
    }

    /// The SVG source.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u64, u64) {
        (self.width, self.height)
    }

    /// Places figures side by side, top-aligned, in one SVG (an empty slice gives an empty 0×0
    /// figure).
    pub fn hstack(figures: &[Figure]) -> Figure {
        let width = figures.iter().map(|f| f.width).sum();
        let height = figures.iter().map(|f| f.height).max().unwrap_or(0);
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
        );
        let mut x = 0;
        for f in figures {
            // A nested <svg> with an x offset keeps each figure's own coordinate system.
            svg.push_str(&format!(
                r#"<svg x="{x}" y="0" width="{}" height="{}">"#,
                f.width, f.height
            ));
            svg.push_str(strip_xml_header(&f.svg));
            svg.push_str("</svg>");
            x += f.width;
        }
        svg.push_str("</svg>");
        Figure { svg, width, height }
    }

    /// Writes the SVG to `path` (conventionally ending in `.svg`).
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, &self.svg)
    }

    /// Shows the figure inline in Jupyter, wherever it is called in a cell. Prefer this to ending
    /// a cell with the figure: evcxr then always displays it.
    pub fn show(&self) {
        self.evcxr_display();
    }

    /// The evcxr display hook: shows the figure inline in Jupyter.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            strip_xml_header(&self.svg)
        );
    }
}

/// evcxr falls back to `Debug` when it cannot display a cell's final value richly (seen when the
/// cell also declares new variables, or a comment line stands right before the expression). The
/// message says how to avoid that ([`Figure::show`]); the notebook runner treats it as a failure.
impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        not_displayed(f, "Figure", self.width as usize, self.height as usize)
    }
}

/// The text evcxr shows for a figure or table it could not display richly; the notebook runner
/// looks for `<elbo::` in a cell's text output and fails the cell.
pub(crate) fn not_displayed(
    f: &mut std::fmt::Formatter<'_>,
    kind: &str,
    a: usize,
    b: usize,
) -> std::fmt::Result {
    write!(
        f,
        "<elbo::{kind} {a}×{b} not displayed: evcxr sometimes shows a cell's final value as \
         text (when the cell also declares new variables, or a comment stands right before the \
         expression); call `.show()` on it instead, e.g. `chart.render()?.show();`>"
    )
}

fn strip_xml_header(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fallback_carries_the_marker_the_runner_looks_for() {
        let f = Figure::from_svg("<svg></svg>".into(), 3, 2);
        let text = format!("{f:?}");
        assert!(text.starts_with("<elbo::Figure 3×2 not displayed") && text.contains(".show()"));
    }

    #[test]
    fn hstack_adds_widths_and_keeps_the_tallest_height() {
        let a = Figure::from_svg("<svg width=\"10\" height=\"5\"></svg>".into(), 10, 5);
        let b = Figure::from_svg("<?xml version=\"1.0\"?><svg></svg>".into(), 20, 7);
        let s = Figure::hstack(&[a, b]);
        assert_eq!(s.size(), (30, 7));
        assert!(s.svg().contains(r#"<svg x="10""#));
        assert!(!s.svg().contains("<?xml"));
    }
}
