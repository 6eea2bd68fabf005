//! Charts drawn with plotters, each rendered twice from one description: SVG (inlined
//! in the HTML) and PNG (for Markdown and the notebook). Text uses the embedded DejaVu
//! Sans, so PNGs render on machines without system fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::downsample_minmax;
use crate::error::{Error, Result};

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
            chart
                .draw_series(AreaSeries::new(
                    a.points.clone(),
                    0.0,
                    RGBColor(200, 200, 200).mix(0.6),
                ))
                .map_err(e)?
                .label(a.label.as_str())
                .legend(|(x, y)| {
                    Rectangle::new(
                        [(x, y - 5), (x + 18, y + 5)],
                        RGBColor(200, 200, 200).filled(),
                    )
                });
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
            chart
                // Width 1: plotters draws wider lines with mitred joins that overshoot at spikes.
                .draw_series(LineSeries::new(l.points.clone(), c.stroke_width(1)))
                .map_err(e)?
                .label(l.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(e)
    }
}

/// Bars of four metrics (a 2 × 2 grid), one bar per labelled cell.
#[derive(Debug, Clone)]
pub struct MetricBars {
    pub labels: Vec<String>,
    /// (title, one value per label)
    pub panels: Vec<(String, Vec<f64>)>,
}

impl Chart for MetricBars {
    fn size(&self) -> (u32, u32) {
        (960, 640)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(e)?;
        let n = self.labels.len();
        for (area, (title, values)) in root.split_evenly((2, 2)).iter().zip(&self.panels) {
            let top = values
                .iter()
                .cloned()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
                .max(1e-9)
                * 1.1;
            let mut chart = ChartBuilder::on(area)
                .caption(title.as_str(), ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(55)
                .build_cartesian_2d(0..n, 0.0..top)
                .map_err(e)?;
            let labels = self.labels.clone();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|i| {
                    labels
                        .get(*i)
                        .map(|l| l.chars().take(12).collect())
                        .unwrap_or_default()
                })
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(e)?;
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let mut r = Rectangle::new(
                        [(i, 0.0), (i + 1, if v.is_finite() { v } else { 0.0 })],
                        color(i).filled(),
                    );
                    r.set_margin(0, 0, 6, 6);
                    r
                }))
                .map_err(e)?;
        }
        Ok(())
    }
}

/// Cost against under-provisioning for every cell, with the Pareto front.
#[derive(Debug, Clone)]
pub struct ParetoChart {
    /// The risk axis: under-provisioning events, or the share over the SLO.
    pub y_label: String,
    pub points: Vec<(f64, f64)>,
    /// Front points with their labels, cheapest first.
    pub front: Vec<(f64, f64, String)>,
}

impl Chart for ParetoChart {
    fn size(&self) -> (u32, u32) {
        (960, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(e)?;
        let (x0, x1, y0, y1) = bounds(std::iter::once(self.points.as_slice()));
        let pad = 0.05 * (x1 - x0);
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Cost against under-provisioning, all cells",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), y0..y1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("cost (replica-hours)")
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|&p| Circle::new(p, 3, RGBColor(150, 150, 150).filled())),
            )
            .map_err(e)?
            .label("cell")
            .legend(|(x, y)| Circle::new((x + 9, y), 3, RGBColor(150, 150, 150).filled()));
        let red = RGBColor(214, 39, 40);
        chart
            .draw_series(LineSeries::new(
                self.front.iter().map(|f| (f.0, f.1)),
                red.stroke_width(2),
            ))
            .map_err(e)?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
        chart
            .draw_series(
                self.front
                    .iter()
                    .map(|f| Circle::new((f.0, f.1), 5, red.filled())),
            )
            .map_err(e)?;
        // Label at most 10 front cells so that text stays readable.
        let step = self.front.len().div_ceil(10).max(1);
        chart
            .draw_series(
                self.front
                    .iter()
                    .step_by(step)
                    .map(|f| Text::new(f.2.clone(), (f.0, f.1), ("sans-serif", 11).into_font())),
            )
            .map_err(e)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(e)
    }
}

/// A metric over two swept parameters (mean over every other dimension).
#[derive(Debug, Clone)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// values[y][x]; NaN where no cell has that combination.
    pub values: Vec<Vec<f64>>,
}

impl Chart for Heatmap {
    fn size(&self) -> (u32, u32) {
        (960, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        root.fill(&WHITE).map_err(e)?;
        let (nx, ny) = (self.xs.len(), self.ys.len());
        let finite = self
            .values
            .iter()
            .flatten()
            .cloned()
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        // Cell (i, j) is centred on integer coordinates, so ticks fall on cell centres.
        let mut chart = ChartBuilder::on(root)
            .caption(self.title.as_str(), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(e)?;
        let label = |vals: &[f64], v: f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < vals.len() {
                super::analysis::short_number(vals[i as usize])
            } else {
                String::new()
            }
        };
        let (xs, ys) = (self.xs.clone(), self.ys.clone());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx.max(2) * 2 + 1)
            .y_labels(ny.max(2) * 2 + 1)
            .x_label_formatter(&|v| label(&xs, *v))
            .y_label_formatter(&|v| label(&ys, *v))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        let cells = (0..ny).flat_map(|y| (0..nx).map(move |x| (x, y)));
        chart
            .draw_series(cells.clone().map(|(x, y)| {
                let v = self.values[y][x];
                let t = if v.is_finite() { (v - lo) / span } else { 0.0 };
                // Light yellow (low) to dark blue (high).
                let c = RGBColor(
                    (255.0 - 225.0 * t) as u8,
                    (245.0 - 165.0 * t) as u8,
                    (200.0 - 40.0 * t) as u8,
                );
                let (xf, yf) = (x as f64, y as f64);
                Rectangle::new(
                    [(xf - 0.5, yf - 0.5), (xf + 0.5, yf + 0.5)],
                    if v.is_finite() {
                        c.filled()
                    } else {
                        WHITE.filled()
                    },
                )
            }))
            .map_err(e)?;
        chart
            .draw_series(
                cells
                    .filter(|&(x, y)| self.values[y][x].is_finite())
                    .map(|(x, y)| {
                        let v = self.values[y][x];
                        let dark = (v - lo) / span > 0.5;
                        let style = ("sans-serif", 12)
                            .into_font()
                            .color(if dark { &WHITE } else { &BLACK })
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        Text::new(
                            super::analysis::short_number(v),
                            (x as f64, y as f64),
                            style,
                        )
                    }),
            )
            .map_err(e)?;
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
