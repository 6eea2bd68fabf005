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
            chart
                .draw_series(LineSeries::new(p.line.points.clone(), c.stroke_width(1)))
                .map_err(e)?
                .label(p.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(e)?;
        }
        Ok(())
    }
}

/// One panel of [`MetricBars`]: a value per label, with its 95 % interval where known.
#[derive(Debug, Clone)]
pub struct BarPanel {
    pub title: String,
    pub values: Vec<f64>,
    pub intervals: Vec<Option<(f64, f64)>>,
}

impl BarPanel {
    pub fn new(
        title: impl Into<String>,
        values: Vec<f64>,
        intervals: Vec<Option<(f64, f64)>>,
    ) -> BarPanel {
        BarPanel {
            title: title.into(),
            values,
            intervals,
        }
    }
}

/// Bars of one metric, or of four in a 2 × 2 grid, one bar per labelled cell; 95 %
/// intervals as error bars.
#[derive(Debug, Clone)]
pub struct MetricBars {
    pub labels: Vec<String>,
    pub panels: Vec<BarPanel>,
}

impl Chart for MetricBars {
    fn size(&self) -> (u32, u32) {
        if self.panels.len() == 1 {
            (960, 420)
        } else {
            (960, 640)
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(e)?;
        let n = self.labels.len().max(1);
        let grid = if self.panels.len() == 1 {
            (1, 1)
        } else {
            (2, 2)
        };
        for (area, p) in root.split_evenly(grid).iter().zip(&self.panels) {
            let ends = p
                .values
                .iter()
                .copied()
                .chain(p.intervals.iter().flatten().flat_map(|&(lo, hi)| [lo, hi]))
                .filter(|v| v.is_finite());
            let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
            let span = (hi - lo).max(1e-9);
            let (bottom, top) = (
                if lo < 0.0 { lo - 0.05 * span } else { 0.0 },
                hi + 0.1 * span,
            );
            let mut chart = ChartBuilder::on(area)
                .caption(p.title.as_str(), ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(55)
                .build_cartesian_2d((0..n - 1).into_segmented(), bottom..top)
                .map_err(e)?;
            let labels = self.labels.clone();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels
                        .get(*i)
                        .map(|l| l.chars().take(if n > 4 { 12 } else { 24 }).collect())
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .y_label_formatter(&|v| super::analysis::short_number(*v))
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(e)?;
            chart
                .draw_series(p.values.iter().enumerate().map(|(i, &v)| {
                    let mut r = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (
                                SegmentValue::Exact(i + 1),
                                if v.is_finite() { v } else { 0.0 },
                            ),
                        ],
                        color(i).filled(),
                    );
                    r.set_margin(0, 0, 6, 6);
                    r
                }))
                .map_err(e)?;
            chart
                .draw_series(p.values.iter().zip(&p.intervals).enumerate().filter_map(
                    |(i, (&v, iv))| {
                        let (lo, hi) = (*iv)?;
                        v.is_finite().then(|| {
                            ErrorBar::new_vertical(
                                SegmentValue::CenterOf(i),
                                lo,
                                v,
                                hi,
                                BLACK.stroke_width(1),
                                10,
                            )
                        })
                    },
                ))
                .map_err(e)?;
        }
        Ok(())
    }
}

/// A point on a Pareto front, labelled with its configuration, with its 95 % intervals
/// on both axes where known.
#[derive(Debug, Clone)]
pub struct FrontPoint {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub x_interval: Option<(f64, f64)>,
    pub y_interval: Option<(f64, f64)>,
}

/// Cost against under-provisioning for every cell, with the Pareto front.
#[derive(Debug, Clone)]
pub struct ParetoChart {
    /// The risk axis: under-provisioning events, or the share over the SLO.
    pub y_label: String,
    pub points: Vec<(f64, f64)>,
    /// Front points, cheapest first.
    pub front: Vec<FrontPoint>,
}

/// Front points labelled on a Pareto chart: more overlap into an unreadable block.
pub const FRONT_LABELS: usize = 8;

impl Chart for ParetoChart {
    fn size(&self) -> (u32, u32) {
        (960, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        root.fill(&WHITE).map_err(e)?;
        let ends: Vec<(f64, f64)> = self
            .front
            .iter()
            .flat_map(|f| {
                let xs = f.x_interval.map(|(a, b)| [(a, f.y), (b, f.y)]);
                let ys = f.y_interval.map(|(a, b)| [(f.x, a), (f.x, b)]);
                xs.into_iter().chain(ys).flatten()
            })
            .collect();
        let (x0, x1, y0, y1) = bounds([self.points.as_slice(), ends.as_slice()].into_iter());
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
        let short = |v: &f64| super::analysis::short_number(*v);
        chart
            .configure_mesh()
            .x_desc("cost (replica-hours)")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&short)
            .y_label_formatter(&short)
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
                self.front.iter().map(|f| (f.x, f.y)),
                red.stroke_width(2),
            ))
            .map_err(e)?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
        let bar = red.mix(0.6).stroke_width(1);
        chart
            .draw_series(self.front.iter().filter_map(|f| {
                f.y_interval
                    .map(|(lo, hi)| ErrorBar::new_vertical(f.x, lo, f.y, hi, bar, 8))
            }))
            .map_err(e)?;
        chart
            .draw_series(self.front.iter().filter_map(|f| {
                f.x_interval
                    .map(|(lo, hi)| ErrorBar::new_horizontal(f.y, lo, f.x, hi, bar, 8))
            }))
            .map_err(e)?;
        chart
            .draw_series(
                self.front
                    .iter()
                    .map(|f| Circle::new((f.x, f.y), 5, red.filled())),
            )
            .map_err(e)?;
        // Configurations are long: the labelled points get letters, and a key at the
        // upper right spells each one out.
        let step = self.front.len().div_ceil(FRONT_LABELS).max(1);
        let labelled: Vec<(String, &FrontPoint)> = self
            .front
            .iter()
            .step_by(step)
            .enumerate()
            .map(|(k, f)| (char::from(b'A' + k as u8).to_string(), f))
            .collect();
        chart
            .draw_series(labelled.iter().map(|(letter, f)| {
                let style = ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Bottom));
                Text::new(format!(" {letter}"), (f.x, f.y), style)
            }))
            .map_err(e)?;
        let (w, _) = root.dim_in_pixel();
        let (left, top, line) = (w as i32 / 2 - 80, 96, 15);
        if !labelled.is_empty() {
            root.draw(&Rectangle::new(
                [
                    (left - 6, top - 4),
                    (w as i32 - 16, top + line * labelled.len() as i32 + 2),
                ],
                WHITE.mix(0.85).filled(),
            ))
            .map_err(e)?;
        }
        for (k, (letter, f)) in labelled.iter().enumerate() {
            let text: String = format!("{letter}  {}", f.label).chars().take(96).collect();
            root.draw(&Text::new(
                text,
                (left, top + line * k as i32),
                ("sans-serif", 11).into_font().color(&BLACK),
            ))
            .map_err(e)?;
        }
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

/// The heatmap's colour at `t` in [0, 1]: light yellow (low) to dark blue (high).
fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    RGBColor(
        (255.0 - 225.0 * t) as u8,
        (245.0 - 165.0 * t) as u8,
        (200.0 - 40.0 * t) as u8,
    )
}

/// Width of the heatmap's colour scale, pixels.
const SCALE_WIDTH: u32 = 110;

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
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        let span = if hi > lo { hi - lo } else { 1.0 };
        let (w, _) = root.dim_in_pixel();
        let (main, scale) = root.split_horizontally(w.saturating_sub(SCALE_WIDTH));
        // Cell (i, j) is centred on integer coordinates, so ticks fall on cell centres.
        let mut chart = ChartBuilder::on(&main)
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
                let (xf, yf) = (x as f64, y as f64);
                Rectangle::new(
                    [(xf - 0.5, yf - 0.5), (xf + 0.5, yf + 0.5)],
                    if v.is_finite() {
                        heat((v - lo) / span).filled()
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
        // The colour scale: the value range from bottom (low) to top (high).
        let top = if hi > lo { hi } else { lo + 1.0 };
        let mut bar = ChartBuilder::on(&scale)
            .margin_top(44)
            .margin_bottom(52)
            .margin_right(12)
            .y_label_area_size(58)
            .build_cartesian_2d(0.0..1.0, lo..top)
            .map_err(e)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .y_label_formatter(&|v| super::analysis::short_number(*v))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(e)?;
        const STRIPS: usize = 64;
        bar.draw_series((0..STRIPS).map(|k| {
            let (a, b) = (k as f64 / STRIPS as f64, (k + 1) as f64 / STRIPS as f64);
            Rectangle::new(
                [(0.0, lo + a * (top - lo)), (1.0, lo + b * (top - lo))],
                heat((a + b) / 2.0).filled(),
            )
        }))
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
