//! Charts over a sweep's cells rather than over time: bars per cell, cost against risk
//! with the Pareto front, and heatmaps over two swept parameters.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{bounds, color, e, legend, Chart, DrawResult};
use crate::report::analysis::short_number;

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
                .y_label_formatter(&|v| short_number(*v))
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
        let short = |v: &f64| short_number(*v);
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
        legend(&mut chart, SeriesLabelPosition::UpperRight)
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
                short_number(vals[i as usize])
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
                        Text::new(short_number(v), (x as f64, y as f64), style)
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
            .y_label_formatter(&|v| short_number(*v))
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
