//! [`Chart`]: a small builder for the line, band and scatter plots the notebooks draw.
//!
//! The builder methods never fail; everything they were given is checked by [`Chart::render`],
//! which returns a [`PlotError`] naming the series, axis or argument at fault:
//!
//! - every value must be finite (NaN is an error, not a gap), and positive on a log axis;
//! - a series' y (or band bounds, or class labels) must have one entry per x;
//! - an axis range, given or fitted to the data, must have finite ends lo < hi, a width that is
//!   finite and not below 1e-12 of its magnitude, and on a log axis lo > 0 and at most
//!   [`MAX_DECADES`] decades. (Wider or degenerate ranges used to make the tick computation of
//!   the drawing library loop for ever or overflow: they are now rejected before drawing.)
//! - the size must be between [`MIN_SIDE`] and [`MAX_SIDE`] pixels per side.

use super::{Figure, PlotError};
use ndarray::{Array1, ArrayView1};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

/// Anything a series can be made of: slices, vectors and 1-D arrays of `f64` or `f32`.
pub trait Values {
    /// The values as `f64`.
    fn values(self) -> Vec<f64>;
}

macro_rules! impl_values {
    ($($t:ty),*) => {$(
        impl Values for &[$t] { fn values(self) -> Vec<f64> { self.iter().map(|&v| v as f64).collect() } }
        impl Values for &Vec<$t> { fn values(self) -> Vec<f64> { self.as_slice().values() } }
        impl Values for Vec<$t> { fn values(self) -> Vec<f64> { self.as_slice().values() } }
        impl<const N: usize> Values for &[$t; N] { fn values(self) -> Vec<f64> { self.as_slice().values() } }
        impl Values for &Array1<$t> { fn values(self) -> Vec<f64> { self.iter().map(|&v| v as f64).collect() } }
        impl Values for ArrayView1<'_, $t> { fn values(self) -> Vec<f64> { self.iter().map(|&v| v as f64).collect() } }
    )*};
}
impl_values!(f64, f32);

/// Smallest width or height of a chart in pixels: room for the margins, labels and a plot area.
pub const MIN_SIDE: u32 = 100;
/// Largest width or height of a chart in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Most decades a logarithmic axis may span (f64 spans about 617; the tick computation needs
/// the ratio hi/lo to stay finite).
pub const MAX_DECADES: f64 = 300.0;
/// Narrowest axis width relative to the magnitude of its ends: below it the tick spacing is lost
/// in rounding.
const MIN_RELATIVE_WIDTH: f64 = 1e-12;

/// Ten distinguishable colours (the "tab10" palette), used in order of the series.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

#[derive(Debug, Clone)]
enum Kind {
    Line,
    Dashed,
    Points,
    /// A shaded band between `lo` and `hi` (the series' `y` is unused).
    Band {
        lo: Vec<f64>,
        hi: Vec<f64>,
    },
    /// A horizontal reference line at `y[0]` across the whole x range.
    HLine,
}

#[derive(Debug, Clone)]
struct Series {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    kind: Kind,
    color: RGBColor,
}

/// A 2-D chart: lines, dashed lines, points, shaded bands and reference lines on linear or
/// logarithmic axes. Colours follow the order series are added; a band takes the colour of the
/// series added just before it, so `.line(..).band(..)` draws an estimate with its error band.
#[derive(Debug, Clone)]
pub struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    size: (u32, u32),
    log_x: bool,
    log_y: bool,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    legend: SeriesLabelPosition,
    series: Vec<Series>,
    next_color: usize,
    /// The first error found by a builder method, reported by `render` (builders do not fail).
    error: Option<PlotError>,
}

impl Chart {
    /// A new empty chart with a title, 640×400 pixels.
    pub fn new(title: impl Into<String>) -> Self {
        Chart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            size: (640, 400),
            log_x: false,
            log_y: false,
            x_range: None,
            y_range: None,
            legend: SeriesLabelPosition::UpperRight,
            series: Vec::new(),
            next_color: 0,
            error: None,
        }
    }

    /// Label of the horizontal axis.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Label of the vertical axis.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Size in pixels, each side between [`MIN_SIDE`] and [`MAX_SIDE`] (checked by `render`).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// Logarithmic horizontal axis (all x must be positive).
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    /// Logarithmic vertical axis (all y must be positive).
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Fixes the horizontal range instead of fitting it to the data. `render` fails with
    /// [`PlotError::Range`] unless lo < hi are finite (and > 0 on a log axis; see the module
    /// documentation).
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the vertical range instead of fitting it to the data (checked like
    /// [`Chart::x_range`]).
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Where the legend goes (default: upper right).
    pub fn legend(mut self, position: SeriesLabelPosition) -> Self {
        self.legend = position;
        self
    }

    fn push(mut self, name: &str, x: Vec<f64>, y: Vec<f64>, kind: Kind) -> Self {
        let color = match kind {
            Kind::Band { .. } if self.next_color > 0 => PALETTE[(self.next_color - 1) % 10],
            _ => {
                self.next_color += 1;
                PALETTE[(self.next_color - 1) % 10]
            }
        };
        self.series.push(Series {
            name: name.to_string(),
            x,
            y,
            kind,
            color,
        });
        self
    }

    /// A solid line through `(x[i], y[i])`.
    pub fn line(self, name: &str, x: impl Values, y: impl Values) -> Self {
        self.push(name, x.values(), y.values(), Kind::Line)
    }

    /// A dashed line through `(x[i], y[i])`, e.g. a closed-form curve under a simulated one.
    pub fn dashed(self, name: &str, x: impl Values, y: impl Values) -> Self {
        self.push(name, x.values(), y.values(), Kind::Dashed)
    }

    /// Points at `(x[i], y[i])`.
    pub fn points(self, name: &str, x: impl Values, y: impl Values) -> Self {
        self.push(name, x.values(), y.values(), Kind::Points)
    }

    /// A shaded band from `lo[i]` to `hi[i]` over `x[i]`, in the colour of the previous series.
    pub fn band(self, name: &str, x: impl Values, lo: impl Values, hi: impl Values) -> Self {
        let x = x.values();
        let kind = Kind::Band {
            lo: lo.values(),
            hi: hi.values(),
        };
        self.push(name, x, Vec::new(), kind)
    }

    /// A dashed horizontal reference line at height `y`.
    pub fn hline(self, name: &str, y: f64) -> Self {
        self.push(name, Vec::new(), vec![y], Kind::HLine)
    }

    /// Points coloured by an integer class label (e.g. the digit), one legend entry per class.
    /// `render` fails with [`PlotError::Length`] if y and x differ in length and with
    /// [`PlotError::Labels`] unless there is one label per point.
    pub fn classes(mut self, x: impl Values, y: impl Values, labels: &[u8]) -> Self {
        let (x, y) = (x.values(), y.values());
        let mismatch = if y.len() != x.len() {
            Some(PlotError::Length {
                series: "classes".into(),
                what: "y",
                got: y.len(),
                expected: x.len(),
            })
        } else if labels.len() != x.len() {
            Some(PlotError::Labels {
                labels: labels.len(),
                points: x.len(),
            })
        } else {
            None
        };
        if let Some(e) = mismatch {
            self.error.get_or_insert(e);
            return self;
        }
        let mut classes: Vec<u8> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        for c in classes {
            let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
            let xs = idx.iter().map(|&i| x[i]).collect();
            let ys = idx.iter().map(|&i| y[i]).collect();
            self.series.push(Series {
                name: c.to_string(),
                x: xs,
                y: ys,
                kind: Kind::Points,
                color: PALETTE[c as usize % 10],
            });
        }
        self.next_color = 0;
        self
    }

    /// Draws the chart.
    ///
    /// # Errors
    /// The first problem found, as a [`PlotError`] (see the module documentation): a builder
    /// error, then the size, the series' values and lengths, then the axis ranges.
    pub fn render(&self) -> Result<Figure, PlotError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let (w, h) = self.size;
        if !((MIN_SIDE..=MAX_SIDE).contains(&w) && (MIN_SIDE..=MAX_SIDE).contains(&h)) {
            return Err(PlotError::Size {
                width: w,
                height: h,
            });
        }
        self.validate()?;
        let (x0, x1) = match self.x_range {
            Some((lo, hi)) => check_range("x", lo, hi, self.log_x, "given by x_range")?,
            None => fitted("x", self.all_x(), self.log_x, 0.0)?,
        };
        let (y0, y1) = match self.y_range {
            Some((lo, hi)) => check_range("y", lo, hi, self.log_y, "given by y_range")?,
            None => fitted("y", self.all_y(), self.log_y, 0.05)?,
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(backend)?;
            let axes = (Axis::new(x0, x1, self.log_x), Axis::new(y0, y1, self.log_y));
            match (self.log_x, self.log_y) {
                (false, false) => self.draw(&root, x0..x1, y0..y1, axes)?,
                (true, false) => self.draw(&root, (x0..x1).log_scale(), y0..y1, axes)?,
                (false, true) => self.draw(&root, x0..x1, (y0..y1).log_scale(), axes)?,
                (true, true) => {
                    self.draw(&root, (x0..x1).log_scale(), (y0..y1).log_scale(), axes)?
                }
            }
            root.present().map_err(backend)?;
        }
        Ok(Figure::from_svg(svg, w, h))
    }

    fn draw<'a, X, Y>(
        &self,
        root: &DrawingArea<SVGBackend<'a>, Shift>,
        xs: X,
        ys: Y,
        (ax, ay): (Axis, Axis),
    ) -> Result<(), PlotError>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(xs, ys)
            .map_err(backend)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .light_line_style(RGBColor(235, 235, 235))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(backend)?;
        let mut legend = false;
        // Bands first so that lines and points are drawn on top of them.
        let order = self
            .series
            .iter()
            .filter(|s| matches!(s.kind, Kind::Band { .. }))
            .chain(
                self.series
                    .iter()
                    .filter(|s| !matches!(s.kind, Kind::Band { .. })),
            );
        for s in order {
            let color = s.color;
            let at = |x: f64, y: f64| (ax.near(x), ay.near(y));
            let pts = || s.x.iter().zip(&s.y).map(|(&x, &y)| at(x, y));
            let anno = match &s.kind {
                Kind::Line => chart.draw_series(LineSeries::new(pts(), color.stroke_width(2))),
                Kind::Dashed => {
                    chart.draw_series(DashedLineSeries::new(pts(), 8, 5, color.stroke_width(2)))
                }
                Kind::Points => {
                    chart.draw_series(pts().map(|p| Circle::new(p, 2, color.mix(0.75).filled())))
                }
                Kind::HLine => chart.draw_series(DashedLineSeries::new(
                    [at(ax.lo, s.y[0]), at(ax.hi, s.y[0])],
                    6,
                    4,
                    BLACK.mix(0.7).stroke_width(1),
                )),
                Kind::Band { lo, hi } => {
                    let mut poly: Vec<(f64, f64)> =
                        s.x.iter().zip(hi).map(|(&x, &y)| at(x, y)).collect();
                    poly.extend(s.x.iter().zip(lo).map(|(&x, &y)| at(x, y)).rev());
                    chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.2).filled())))
                }
            }
            .map_err(backend)?;
            if !s.name.is_empty() {
                legend = true;
                let kind = s.kind.clone();
                anno.label(s.name.clone()).legend(
                    move |(x, y)| -> DynElement<'static, SVGBackend<'a>, (i32, i32)> {
                        match kind {
                            Kind::Points => Circle::new((x + 10, y), 3, color.filled()).into_dyn(),
                            Kind::Band { .. } => Rectangle::new(
                                [(x, y - 5), (x + 20, y + 5)],
                                color.mix(0.2).filled(),
                            )
                            .into_dyn(),
                            Kind::HLine => {
                                PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.7))
                                    .into_dyn()
                            }
                            _ => PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                                .into_dyn(),
                        }
                    },
                );
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .draw()
                .map_err(backend)?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), PlotError> {
        for s in &self.series {
            let bad = |index: usize, value: f64, axis: &'static str| PlotError::BadValue {
                series: s.name.clone(),
                index,
                value,
                axis,
            };
            let check = |vals: &[f64], log: bool, axis: &'static str, log_axis: &'static str| {
                for (i, &v) in vals.iter().enumerate() {
                    if !v.is_finite() {
                        return Err(bad(i, v, axis));
                    }
                    if log && v <= 0.0 {
                        return Err(bad(i, v, log_axis));
                    }
                }
                Ok(())
            };
            let len = |what: &'static str, got: usize| {
                if got == s.x.len() {
                    Ok(())
                } else {
                    Err(PlotError::Length {
                        series: s.name.clone(),
                        what,
                        got,
                        expected: s.x.len(),
                    })
                }
            };
            match &s.kind {
                Kind::HLine => check(&s.y, self.log_y, "the y axis", "a logarithmic y axis")?,
                Kind::Band { lo, hi } => {
                    len("lower bound", lo.len())?;
                    len("upper bound", hi.len())?;
                    check(lo, self.log_y, "the y axis", "a logarithmic y axis")?;
                    check(hi, self.log_y, "the y axis", "a logarithmic y axis")?;
                }
                _ => {
                    len("y", s.y.len())?;
                    check(&s.y, self.log_y, "the y axis", "a logarithmic y axis")?;
                }
            }
            if !matches!(s.kind, Kind::HLine) {
                if s.x.is_empty() {
                    return Err(PlotError::Empty(s.name.clone()));
                }
                check(&s.x, self.log_x, "the x axis", "a logarithmic x axis")?;
            }
        }
        if self.series.iter().all(|s| matches!(s.kind, Kind::HLine)) {
            return Err(PlotError::NoData(self.title.clone()));
        }
        Ok(())
    }

    fn all_x(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        self.series.iter().flat_map(|s| s.x.iter().copied())
    }

    fn all_y(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        self.series.iter().flat_map(|s| {
            let (lo, hi): (&[f64], &[f64]) = match &s.kind {
                Kind::Band { lo, hi } => (lo, hi),
                _ => (&[], &[]),
            };
            s.y.iter().chain(lo).chain(hi).copied()
        })
    }
}

/// An axis range as drawn, to keep points from landing so far outside it that the drawing
/// library's pixel arithmetic overflows (`i32`, a panic in debug builds).
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// How many axis widths outside the range a point may lie: 10⁵ widths of at most
    /// `MAX_SIDE` = 16 384 pixels is 1.6·10⁹ pixels, inside `i32`.
    const REACH: f64 = 1e5;

    fn new(lo: f64, hi: f64, log: bool) -> Self {
        Axis { lo, hi, log }
    }

    /// `v` itself when it lies within `REACH` widths of the range (in log space on a log axis),
    /// else the nearest such value. The part of a line or band inside the plot then moves by at
    /// most 1/`REACH` of the axis — a fraction of a pixel — and points outside stay invisible.
    fn near(&self, v: f64) -> f64 {
        if self.log {
            let (a, b) = (self.lo.log10(), self.hi.log10());
            let w = Self::REACH * (b - a);
            10f64.powf(v.log10().clamp(a - w, b + w))
        } else {
            let w = Self::REACH * (self.hi - self.lo);
            v.clamp(self.lo - w, self.hi + w)
        }
    }
}

/// The range of `values` widened by `pad` (see [`padded`]), checked like a given range; a span
/// that overflows f64 is reported with the data's own extremes.
fn fitted(
    axis: &'static str,
    values: impl Iterator<Item = f64> + Clone,
    log: bool,
    pad: f64,
) -> Result<(f64, f64), PlotError> {
    let origin = "fitted to the data";
    let (lo, hi) = values
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !(hi - lo).is_finite() {
        return Err(PlotError::Range {
            axis,
            lo,
            hi,
            origin,
            why: "the data span overflows f64; rescale the data or set the range",
        });
    }
    let (lo, hi) = padded(values, log, pad);
    check_range(axis, lo, hi, log, origin)
}

/// Accepts an axis range the drawing library can lay ticks on (see the module documentation).
fn check_range(
    axis: &'static str,
    lo: f64,
    hi: f64,
    log: bool,
    origin: &'static str,
) -> Result<(f64, f64), PlotError> {
    let why = if !(lo.is_finite() && hi.is_finite()) {
        Some("both ends must be finite numbers")
    } else if lo >= hi {
        Some("expected lo < hi")
    } else if log && lo <= 0.0 {
        Some("a logarithmic axis needs lo > 0")
    } else if log && hi.log10() - lo.log10() > MAX_DECADES {
        Some("a logarithmic axis may span at most 300 decades")
    } else if log && (hi / lo - 1.0) < MIN_RELATIVE_WIDTH {
        Some("hi/lo − 1 is below 1e-12: too narrow to draw")
    } else if !log && !(hi - lo).is_finite() {
        Some("the width hi − lo overflows f64")
    } else if !log && (hi - lo) < MIN_RELATIVE_WIDTH * lo.abs().max(hi.abs()) {
        Some("the width is below 1e-12 of the ends' magnitude: too narrow to draw")
    } else {
        None
    };
    match why {
        Some(why) => Err(PlotError::Range {
            axis,
            lo,
            hi,
            origin,
            why,
        }),
        None => Ok((lo, hi)),
    }
}

/// The data range widened by `pad` of its width (in log space on a log axis), never empty.
fn padded(values: impl Iterator<Item = f64>, log: bool, pad: f64) -> (f64, f64) {
    let t = |v: f64| if log { v.log10() } else { v };
    let (lo, hi) = values
        .map(t)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if hi - lo > 1e-12 * (lo.abs() + hi.abs()).max(1e-300) {
        let d = (hi - lo) * pad;
        (lo - d, hi + d)
    } else {
        let d = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - d, hi + d)
    };
    if log {
        (10f64.powf(lo), 10f64.powf(hi))
    } else {
        (lo, hi)
    }
}

/// An axis tick label: `0.25`, `3`, `1e4`, `2.5e-5` — short, without float noise.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    }
}

fn backend<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Backend(e.to_string())
}

#[cfg(test)]
mod tests;
