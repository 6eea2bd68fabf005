//! Charts drawn with plotters, each rendered twice from one description: SVG (inlined
//! in the HTML) and PNG (for Markdown and the notebook). Text uses the embedded DejaVu
//! Sans, so PNGs render on machines without system fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::downsample_minmax;
use crate::error::{Error, Result};

mod cells;
pub use cells::{BarPanel, FrontPoint, Heatmap, MetricBars, ParetoChart, FRONT_LABELS};

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Pixel columns a time series keeps after min/max downsampling.
const COLUMNS: usize = 800;

fn ensure_font() {
    FONT.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

type DrawResult = std::result::Result<(), String>;

fn e<E: std::fmt::Debug>(err: E) -> String {
    format!("{err:?}")
}

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    fn size(&self) -> (u32, u32) {
        (960, 420)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Renders `chart` to `<dir>/<name>.svg` and `.png`; returns the SVG text.
pub fn render(chart: &impl Chart, dir: &Path, name: &str) -> Result<String> {
    ensure_font();
    let (w, h) = chart.size();
    let fail = |m: String| Error::Config(format!("chart {name}: {m}"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        chart.draw(&root).map_err(fail)?;
        root.present().map_err(|x| fail(e(x)))?;
    }
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, (w, h)).into_drawing_area();
        chart.draw(&root).map_err(fail)?;
        root.present().map_err(|x| fail(e(x)))?;
    }
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, &svg).map_err(|x| Error::io(&svg_path, x))?;
    Ok(svg)
}

fn color(i: usize) -> RGBColor {
    const C: [RGBColor; 10] = [
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
    C[i % C.len()]
}

fn bounds<'a>(series: impl Iterator<Item = &'a [(f64, f64)]>) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, 0.0f64, f64::MIN);
    for s in series {
        for &(x, y) in s.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if x0 >= x1 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    (x0, x1, y0, y1 + 0.05 * (y1 - y0))
}

/// A chart over f64 axes.
type Plot<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// `a` as a light grey area down to zero, with its legend entry (demand behind lines).
fn grey_area<DB: DrawingBackend>(chart: &mut Plot<'_, DB>, a: &Line) -> DrawResult {
    let grey = RGBColor(200, 200, 200);
    chart
        .draw_series(AreaSeries::new(a.points.clone(), 0.0, grey.mix(0.6)))
        .map_err(e)?
        .label(a.label.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], grey.filled()));
    Ok(())
}

/// A polyline with its legend entry.
fn labelled_line<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    label: &str,
    points: &[(f64, f64)],
    c: RGBColor,
) -> DrawResult {
    chart
        // Width 1: plotters draws wider lines with mitred joins that overshoot at spikes.
        .draw_series(LineSeries::new(points.to_vec(), c.stroke_width(1)))
        .map_err(e)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    Ok(())
}

/// The series legend at `at`, boxed on a translucent white.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    at: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(e)
}

/// A named polyline.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

impl Line {
    /// A downsampled line from x/y columns.
    pub fn new(label: impl Into<String>, xs: &[f64], ys: &[f64]) -> Line {
        Line {
            label: label.into(),
            points: downsample_minmax(xs, ys, COLUMNS),
        }
    }
}

/// A shaded band between two lines.
#[derive(Debug, Clone)]
pub struct Band {
    pub label: String,
    pub lower: Vec<(f64, f64)>,
    pub upper: Vec<(f64, f64)>,
}

impl Band {
    /// A band drawn as its envelope per pixel column.
    pub fn new(label: impl Into<String>, xs: &[f64], lower: &[f64], upper: &[f64]) -> Band {
        let (lower, upper) = super::analysis::band_envelope(xs, lower, upper, COLUMNS);
        Band {
            label: label.into(),
            lower,
            upper,
        }
    }
}

/// A time chart: an optional grey area behind, bands, then lines.
#[derive(Debug, Clone)]
pub struct TimeChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub area: Option<Line>,
    pub bands: Vec<Band>,
    pub lines: Vec<Line>,
}

impl Chart for TimeChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let x_desc = self.x_label.as_str();
        root.fill(&WHITE).map_err(e)?;
        let all = self
            .area
            .iter()
            .map(|l| l.points.as_slice())
            .chain(
                self.bands
                    .iter()
                    .flat_map(|b| [b.lower.as_slice(), b.upper.as_slice()]),
            )
            .chain(self.lines.iter().map(|l| l.points.as_slice()));
        let (x0, x1, y0, y1) = bounds(all);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(e)?;
        if let Some(a) = &self.area {
            grey_area(&mut chart, a)?;
        }
        for (i, b) in self.bands.iter().enumerate() {
            let shade = RGBColor(31, 119, 180).mix(0.15 + 0.15 * i as f64);
            let mut poly = b.upper.clone();
            poly.extend(b.lower.iter().rev().cloned());
            chart
                .draw_series(std::iter::once(Polygon::new(poly, shade)))
                .map_err(e)?
                .label(b.label.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], shade.filled())
                });
        }
        for (i, l) in self.lines.iter().enumerate() {
            let c = if self.bands.is_empty() {
                color(i)
            } else if i == 0 {
                BLACK
            } else {
                color(3)
            };
            labelled_line(&mut chart, &l.label, &l.points, c)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// A y-axis tick: integers only when the axis counts whole things (replicas), so that
/// no tick reads 2.5 replicas; otherwise the short number.
fn tick(v: f64, integer: bool) -> String {
    if !integer {
        return super::analysis::short_number(v);
    }
    let r = v.round();
    if (v - r).abs() < 1e-9 {
        format!("{r:.0}")
    } else {
        String::new()
    }
}

/// One panel of [`SmallMultiples`]: a labelled line over an optional grey area.
#[derive(Debug, Clone)]
pub struct Panel {
    pub label: String,
    pub area: Option<Line>,
    pub line: Line,
}

/// One panel per series on shared axes, stacked: each policy's timeline readable on its
/// own, yet comparable at a glance (the same x and y ranges everywhere).
#[derive(Debug, Clone)]
pub struct SmallMultiples {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Whole-number y ticks (replicas).
    pub integer_y: bool,
    pub panels: Vec<Panel>,
}

/// Height of one panel of [`SmallMultiples`], pixels.
const PANEL_HEIGHT: u32 = 170;

impl Chart for SmallMultiples {
    fn size(&self) -> (u32, u32) {
        (960, 50 + PANEL_HEIGHT * self.panels.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(e)?;
        let root = root.titled(&self.title, ("sans-serif", 18)).map_err(e)?;
        let all = self.panels.iter().flat_map(|p| {
            p.area
                .iter()
                .map(|a| a.points.as_slice())
                .chain(std::iter::once(p.line.points.as_slice()))
        });
        let (x0, x1, y0, y1) = bounds(all);
        let n = self.panels.len().max(1);
        let integer = self.integer_y;
        for (k, (area, p)) in root
            .split_evenly((n, 1))
            .iter()
            .zip(&self.panels)
            .enumerate()
        {
            let last = k + 1 == n;
            let mut chart = ChartBuilder::on(area)
                .margin_left(12)
                .margin_right(12)
                .margin_top(4)
                .x_label_area_size(if last { 40 } else { 14 })
                .y_label_area_size(60)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(e)?;
            let y_fmt = |v: &f64| tick(*v, integer);
            let no_x = |_: &f64| String::new();
            let mut mesh = chart.configure_mesh();
            mesh.y_desc(self.y_label.as_str())
                .y_labels(6)
                .y_label_formatter(&y_fmt)
                .label_style(("sans-serif", 12))
                .light_line_style(WHITE.mix(0.0));
            if last {
                mesh.x_desc(self.x_label.as_str());
            } else {
                mesh.x_label_formatter(&no_x);
            }
            mesh.draw().map_err(e)?;
            if let Some(a) = &p.area {
                grey_area(&mut chart, a)?;
            }
            let c = color(k);
            labelled_line(&mut chart, &p.label, &p.line.points, c)?;
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

/// Densities of forecast errors, one line per forecaster.
#[derive(Debug, Clone)]
pub struct ErrorDensity {
    pub lines: Vec<Line>,
}

impl Chart for ErrorDensity {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        TimeChart {
            title: "Forecast error distribution (forecast − actual)".into(),
            x_label: "forecast − actual (requests per step)".into(),
            y_label: "share of steps".into(),
            area: None,
            bands: vec![],
            lines: self.lines.clone(),
        }
        .draw(root)
    }
}
