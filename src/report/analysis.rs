//! The numbers behind a report's narrative: Pareto front, cheapest policy under an
//! under-provisioning budget, savings against baselines, accuracy ranking. Pure functions.

/// One cell of a sweep as the report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRow {
    pub cell: usize,
    pub forecaster: String,
    pub policy: String,
    /// Swept parameters of this cell (`None` where a parameter does not apply).
    pub params: Vec<(String, Option<f64>)>,
    pub cost: f64,
    pub under_events: f64,
    pub over_pct: f64,
    pub switches: f64,
    /// Every numeric metric, by column name.
    pub metrics: Vec<(String, f64)>,
}

impl CellRow {
    /// `policy (buffer=1.1, sim.startup_delay_s=60)` — the policy with its parameters.
    pub fn label(&self) -> String {
        let p: Vec<String> = self
            .params
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{}={}", k.rsplit('.').next().unwrap_or(k), v)))
            .collect();
        if p.is_empty() {
            self.policy.clone()
        } else {
            format!("{} ({})", self.policy, p.join(", "))
        }
    }
    /// A metric by name (NaN when absent).
    pub fn metric(&self, name: &str) -> f64 {
        self.metrics
            .iter()
            .find(|(k, _)| k == name)
            .map_or(f64::NAN, |m| m.1)
    }
    /// The 95 % interval of a metric: mean ± `<name>_ci95` over replications, or the
    /// bootstrap's `<name>_lo95` to `<name>_hi95`; `None` when the sweep gave neither.
    pub fn interval(&self, name: &str) -> Option<(f64, f64)> {
        let h = self.metric(&format!("{name}_ci95"));
        let v = self.metric(name);
        if h.is_finite() && v.is_finite() {
            return Some((v - h, v + h));
        }
        let (lo, hi) = (
            self.metric(&format!("{name}_lo95")),
            self.metric(&format!("{name}_hi95")),
        );
        (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
    }
    /// `forecaster / policy (parameters)`: the configuration, for chart labels.
    pub fn configuration(&self) -> String {
        format!("{} / {}", self.forecaster, self.label())
    }
}

/// Indices of the cells on the cost / under-provisioning Pareto front (no other cell is
/// at least as good on both and better on one), cheapest first.
pub fn pareto_front(rows: &[CellRow]) -> Vec<usize> {
    pareto_front_by(rows, |r| r.under_events)
}

/// [`pareto_front`] of cost against another risk (request mode: SLO violations).
pub fn pareto_front_by(rows: &[CellRow], risk: impl Fn(&CellRow) -> f64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].cost.is_finite() && risk(&rows[i]).is_finite())
        .collect();
    idx.sort_by(|&a, &b| {
        rows[a]
            .cost
            .total_cmp(&rows[b].cost)
            .then(risk(&rows[a]).total_cmp(&risk(&rows[b])))
            .then(a.cmp(&b))
    });
    let mut front = Vec::new();
    let mut best = f64::INFINITY;
    for i in idx {
        if risk(&rows[i]) < best {
            best = risk(&rows[i]);
            front.push(i);
        }
    }
    front
}

/// The cheapest cell within `budget` under-provisioning events among `rows` matching `keep`.
pub fn cheapest_within(
    rows: &[CellRow],
    budget: f64,
    keep: impl Fn(&CellRow) -> bool,
) -> Option<usize> {
    (0..rows.len())
        .filter(|&i| keep(&rows[i]) && rows[i].under_events <= budget)
        .min_by(|&a, &b| rows[a].cost.total_cmp(&rows[b].cost).then(a.cmp(&b)))
}

/// Relative saving of `cost` against `baseline` (%; positive = cheaper).
pub fn saving_pct(cost: f64, baseline: f64) -> f64 {
    100.0 * (baseline - cost) / baseline
}

/// How much cheaper one cell is than a baseline, with the range the two cells' 95 %
/// cost intervals allow (unpaired, so conservative: a paired comparison in
/// `comparisons.csv` is sharper).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Saving {
    /// Percent of the baseline's cost; positive = cheaper.
    pub pct: f64,
    /// Lowest and highest saving within both intervals; `None` without intervals.
    pub range: Option<(f64, f64)>,
}

impl Saving {
    pub fn of(cell: &CellRow, baseline: &CellRow) -> Saving {
        let iv = (
            cell.interval("cost_replica_hours"),
            baseline.interval("cost_replica_hours"),
        );
        Saving {
            pct: saving_pct(cell.cost, baseline.cost),
            range: match iv {
                (Some((lo, hi)), Some((blo, bhi))) => {
                    Some((saving_pct(hi, blo), saving_pct(lo, bhi)))
                }
                _ => None,
            },
        }
    }
    /// `12.3 % cheaper than <than>`, `4.0 % dearer …`, with the range when known; a
    /// saving whose range holds zero is `about as costly as <than>`, never a saving.
    pub fn words(&self, than: &str) -> String {
        let (t, a) = if than.is_empty() {
            (String::new(), String::new())
        } else {
            (format!(" than {than}"), format!(" as {than}"))
        };
        let Some((lo, hi)) = self.range else {
            return if self.pct >= 0.0 {
                format!("{:.1} % cheaper{t}", self.pct)
            } else {
                format!("{:.1} % dearer{t}", -self.pct)
            };
        };
        if lo > 0.0 {
            format!(
                "{:.1} % cheaper{t} ({lo:.1} to {hi:.1} % within the 95 % intervals)",
                self.pct
            )
        } else if hi < 0.0 {
            format!(
                "{:.1} % dearer{t} ({:.1} to {:.1} % within the 95 % intervals)",
                -self.pct, -hi, -lo
            )
        } else {
            format!(
                "about as costly{a} ({:+.1} %, {lo:+.1} to {hi:+.1} % within the 95 % intervals: no clear saving)",
                self.pct
            )
        }
    }
}

/// A number in at most four significant digits, without trailing zeros (`0.95`, `1240`, `3.142`).
pub fn short_number(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let digits = if x == 0.0 {
        0
    } else {
        (3 - x.abs().log10().floor() as i32).max(0) as usize
    };
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Distinct values in first-seen order.
pub fn distinct<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Keeps the shape of a long series at `columns` pixels: for each column the first
/// point's x with the column's minimum and the last point's x with its maximum.
pub fn downsample_minmax(xs: &[f64], ys: &[f64], columns: usize) -> Vec<(f64, f64)> {
    let n = xs.len().min(ys.len());
    if n <= 2 * columns.max(1) {
        return xs.iter().zip(ys).map(|(&x, &y)| (x, y)).collect();
    }
    let mut out = Vec::with_capacity(2 * columns);
    for c in 0..columns {
        let lo = c * n / columns;
        let hi = ((c + 1) * n / columns).max(lo + 1);
        let (mut imin, mut imax) = (lo, lo);
        for i in lo..hi {
            if ys[i] < ys[imin] {
                imin = i;
            }
            if ys[i] > ys[imax] {
                imax = i;
            }
        }
        let (a, b) = if imin <= imax {
            (imin, imax)
        } else {
            (imax, imin)
        };
        out.push((xs[a], ys[a]));
        if b != a {
            out.push((xs[b], ys[b]));
        }
    }
    out
}

/// Chart points (x, y).
pub type Points = Vec<(f64, f64)>;

/// The envelope of a band at `columns` pixels: per column, the lowest lower bound and the
/// highest upper bound, at the column's first x.
pub fn band_envelope(xs: &[f64], lower: &[f64], upper: &[f64], columns: usize) -> (Points, Points) {
    let n = xs.len().min(lower.len()).min(upper.len());
    let columns = columns.clamp(1, n.max(1));
    let (mut lo, mut hi) = (Vec::with_capacity(columns), Vec::with_capacity(columns));
    for c in 0..columns {
        let (a, b) = (c * n / columns, ((c + 1) * n / columns).min(n));
        if a >= b {
            continue;
        }
        lo.push((
            xs[a],
            lower[a..b].iter().cloned().fold(f64::INFINITY, f64::min),
        ));
        hi.push((
            xs[a],
            upper[a..b]
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max),
        ));
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: usize, policy: &str, cost: f64, under: f64) -> CellRow {
        CellRow {
            cell,
            forecaster: "f".into(),
            policy: policy.into(),
            params: vec![],
            cost,
            under_events: under,
            over_pct: 0.0,
            switches: 0.0,
            metrics: vec![],
        }
    }

    #[test]
    fn pareto_front_keeps_only_undominated_cells() {
        let rows = vec![
            row(0, "a", 10.0, 5.0),
            row(1, "b", 8.0, 9.0),
            row(2, "c", 12.0, 5.0),
            row(3, "d", 15.0, 0.0),
            row(4, "e", 9.0, 9.0),
        ];
        assert_eq!(pareto_front(&rows), vec![1, 0, 3]);
    }

    #[test]
    fn cheapest_within_budget() {
        let rows = vec![
            row(0, "a", 10.0, 5.0),
            row(1, "b", 8.0, 9.0),
            row(2, "c", 9.0, 2.0),
        ];
        assert_eq!(cheapest_within(&rows, 5.0, |_| true), Some(2));
        assert_eq!(cheapest_within(&rows, 1.0, |_| true), None);
        assert_eq!(cheapest_within(&rows, 10.0, |r| r.policy != "b"), Some(2));
        assert!((saving_pct(75.0, 100.0) - 25.0).abs() < 1e-12);
    }

    #[test]
    fn intervals_come_from_replications_or_the_bootstrap() {
        let mut r = row(0, "a", 10.0, 4.0);
        r.metrics = vec![
            ("cost_replica_hours".into(), 10.0),
            ("cost_replica_hours_ci95".into(), 1.5),
            ("under_events".into(), 4.0),
            ("under_events_lo95".into(), 2.0),
            ("under_events_hi95".into(), 7.0),
            ("over_pct".into(), 3.0),
            ("over_pct_ci95".into(), f64::NAN),
        ];
        assert_eq!(r.interval("cost_replica_hours"), Some((8.5, 11.5)));
        assert_eq!(r.interval("under_events"), Some((2.0, 7.0)));
        assert_eq!(r.interval("over_pct"), None);
        assert_eq!(r.interval("switches"), None);
    }

    #[test]
    fn a_saving_inside_its_interval_is_not_called_one() {
        let cell = |cost: f64, h: f64| {
            let mut r = row(0, "a", cost, 0.0);
            r.metrics = vec![
                ("cost_replica_hours".into(), cost),
                ("cost_replica_hours_ci95".into(), h),
            ];
            r
        };
        // 90 ± 2 against 100 ± 3: 8 % (92 vs 97) to 12 % (88 vs 103) cheaper.
        let s = Saving::of(&cell(90.0, 2.0), &cell(100.0, 3.0));
        assert_eq!(s.pct, 10.0);
        let (lo, hi) = s.range.unwrap();
        assert!((lo - 100.0 * 5.0 / 97.0).abs() < 1e-9 && (hi - 100.0 * 15.0 / 103.0).abs() < 1e-9);
        assert!(
            s.words("hpa").starts_with("10.0 % cheaper than hpa ("),
            "{}",
            s.words("hpa")
        );
        // 98 ± 4 against 100 ± 3: the range holds zero.
        let w = Saving::of(&cell(98.0, 4.0), &cell(100.0, 3.0)).words("hpa");
        assert!(
            w.starts_with("about as costly as hpa") && w.contains("no clear saving"),
            "{w}"
        );
        assert!(!w.contains("cheaper"));
        // Dearer beyond the intervals; and without intervals, the point estimate alone.
        let w = Saving::of(&cell(120.0, 1.0), &cell(100.0, 1.0)).words("");
        assert!(w.starts_with("20.0 % dearer ("), "{w}");
        assert_eq!(
            Saving::of(&row(0, "a", 90.0, 0.0), &row(1, "b", 100.0, 0.0)).words("x"),
            "10.0 % cheaper than x"
        );
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(0.95), "0.95");
        assert_eq!(short_number(1240.4), "1240");
        assert_eq!(short_number(43.0), "43");
        assert_eq!(short_number(1.23456), "1.235");
    }

    #[test]
    fn downsampling_keeps_extremes_in_order() {
        let xs: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let mut ys = vec![1.0; 1000];
        ys[437] = 50.0;
        ys[438] = -3.0;
        let d = downsample_minmax(&xs, &ys, 10);
        assert!(d.len() <= 20);
        assert!(d.contains(&(437.0, 50.0)) && d.contains(&(438.0, -3.0)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
