//! The metrics pipeline between a service and its controller: what the controller reads
//! as demand is not the true demand of the interval that just ended but a counter's
//! increase between two scrapes, the later one at or before `t − delay`.
//!
//! A request counter is scraped every `scrape_ms`, at `offset_ms + k · scrape_ms`. A
//! reading at time t over a window W takes the last scrape at or before `t − delay` and
//! the last one at or before `t − delay − W`, and reports the counter's increase between
//! them, per step (× step / W). That is exactly what the live controller's query does
//! (`live::prom::Queries::interval_requests`: the last sample now minus the last sample
//! one interval ago), so with W the decision interval the simulator reads what
//! Prometheus would have given the live controller. Before the window the counter
//! follows the run's history (the trace's earlier steps), and is 0 before that.
//!
//! Between step boundaries the true counter rises linearly (requests spread evenly over
//! the step), in fluid and request mode alike. No I/O here.

/// How demand is measured; `None` in a [`SimConfig`](super::SimConfig): exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Time between scrapes of the request counter.
    pub scrape_ms: u64,
    /// When the first scrape happens (the scrape phase; below `scrape_ms`).
    pub offset_ms: u64,
    /// Window the increase is counted over; `None`: the decision interval.
    pub window_ms: Option<u64>,
    /// How long before a decision its newest sample must be (ingestion and query delay).
    pub delay_ms: u64,
}

impl Measurement {
    /// Checks the settings, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.scrape_ms == 0 {
            return Err("measurement.scrape_interval_s must be positive".into());
        }
        if self.offset_ms >= self.scrape_ms {
            return Err(format!(
                "measurement.scrape_offset_s ({} s) must be below scrape_interval_s ({} s)",
                self.offset_ms as f64 / 1000.0,
                self.scrape_ms as f64 / 1000.0
            ));
        }
        if self.window_ms == Some(0) {
            return Err("measurement.window_s must be positive".into());
        }
        Ok(())
    }

    /// The last scrape at or before `t` (ms from the window's start; earlier ones are
    /// negative).
    fn last_scrape(&self, t: f64) -> f64 {
        let (s, o) = (self.scrape_ms as f64, self.offset_ms as f64);
        o + ((t - o) / s).floor() * s
    }
}

/// A [`Measurement`] bound to one run's demand: cumulative requests at every step boundary.
#[derive(Debug, Clone)]
pub struct Meter {
    m: Measurement,
    /// `prefix[i]`: requests before step `i - lead` (the first `lead` steps are history).
    prefix: Vec<f64>,
    lead: usize,
    step_ms: f64,
    window_ms: f64,
}

impl Meter {
    /// Over `demand` (time 0 at its start), with the steps before it in `history` (those a
    /// reading can reach are kept); `interval_ms`: the decision interval, the window when
    /// the measurement names none.
    pub fn new(
        m: Measurement,
        history: &[f64],
        demand: &[f64],
        step_ms: u64,
        interval_ms: u64,
    ) -> Meter {
        let step = step_ms.max(1);
        let window_ms = m.window_ms.unwrap_or(interval_ms).max(1);
        let reach = (window_ms + m.delay_ms + m.scrape_ms).div_ceil(step) as usize + 1;
        let history = &history[history.len().saturating_sub(reach)..];
        let mut prefix = Vec::with_capacity(history.len() + demand.len() + 1);
        let mut acc = 0.0;
        prefix.push(0.0);
        for &d in history.iter().chain(demand) {
            // An unobserved step carries NaN in a forecaster's series: it counts nothing.
            acc += if d.is_finite() { d.max(0.0) } else { 0.0 };
            prefix.push(acc);
        }
        Meter {
            m,
            prefix,
            lead: history.len(),
            step_ms: step as f64,
            window_ms: window_ms as f64,
        }
    }

    /// The true counter at `t` ms (linear within a step, flat after the last, 0 before
    /// the history).
    fn counter(&self, t: f64) -> f64 {
        let x = (t / self.step_ms + self.lead as f64).max(0.0);
        let i = x.floor() as usize;
        let n = self.prefix.len() - 1;
        if i >= n {
            return self.prefix[n];
        }
        let frac = x - i as f64;
        self.prefix[i] + frac * (self.prefix[i + 1] - self.prefix[i])
    }

    fn scraped(&self, t: f64) -> f64 {
        self.counter(self.m.last_scrape(t))
    }

    /// Demand per step as read at `t_ms`.
    pub fn observe(&self, t_ms: u64) -> f64 {
        let end = t_ms as f64 - self.m.delay_ms as f64;
        let inc = self.scraped(end) - self.scraped(end - self.window_ms);
        inc.max(0.0) * self.step_ms / self.window_ms
    }
}

/// The series a forecaster is given under `m`: step j as read at its end over one step.
/// Steps that are NaN (not observed) stay NaN.
pub fn measured_series(m: Measurement, demand: &[f64], step_ms: u64) -> Vec<f64> {
    let meter = Meter::new(m, &[], demand, step_ms, step_ms);
    demand
        .iter()
        .enumerate()
        .map(|(j, d)| {
            if d.is_finite() {
                meter.observe((j as u64 + 1) * step_ms)
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(scrape_s: u64, offset_s: u64, delay_s: u64) -> Measurement {
        Measurement {
            scrape_ms: scrape_s * 1000,
            offset_ms: offset_s * 1000,
            window_ms: None,
            delay_ms: delay_s * 1000,
        }
    }

    #[test]
    fn aligned_scrapes_without_delay_read_the_interval_exactly() {
        let d = [10.0, 40.0, 70.0, 100.0];
        let meter = Meter::new(m(5, 0, 0), &[], &d, 15_000, 15_000);
        for k in 1..=4 {
            assert!((meter.observe(k * 15_000) - d[k as usize - 1]).abs() < 1e-9);
        }
    }

    #[test]
    fn a_five_second_lag_mixes_in_a_third_of_the_interval_before() {
        // The live run: 15 s decisions, the reading trails by about 5 s, so
        // live[k] ≈ 2/3 · trace[k−1] + 1/3 · trace[k−2].
        let d = [30.0, 90.0, 60.0, 0.0];
        for meter in [
            // 5 s of delay on aligned scrapes ...
            Meter::new(m(5, 0, 5), &[], &d, 15_000, 15_000),
            // ... or scrapes at 10, 25, 40 s: the last before 30 s is 5 s old.
            Meter::new(m(15, 10, 0), &[], &d, 15_000, 15_000),
        ] {
            for k in 2..=4usize {
                let want = 2.0 / 3.0 * d[k - 1] + 1.0 / 3.0 * d[k - 2];
                assert!(
                    (meter.observe(k as u64 * 15_000) - want).abs() < 1e-9,
                    "{k}"
                );
            }
        }
    }

    #[test]
    fn a_window_longer_than_the_interval_averages_per_step() {
        // Four one-minute steps read over a 2-minute window at 4 min: the mean of the
        // last two.
        let d = [10.0, 20.0, 30.0, 50.0];
        let mut mm = m(60, 0, 0);
        mm.window_ms = Some(120_000);
        let meter = Meter::new(mm, &[], &d, 60_000, 60_000);
        assert_eq!(meter.observe(240_000), 40.0);
        // Before the first scrape nothing has been counted.
        let meter = Meter::new(m(5, 3, 0), &[], &d, 60_000, 60_000);
        assert_eq!(meter.observe(2_000), 0.0);
        assert!(m(5, 5, 0).validate().is_err());
    }

    #[test]
    fn the_history_before_the_window_is_read_across_its_start() {
        // A steady 60 per step before and in the window: the first reading, 10 s late, is
        // 60 with the history and 50 (10 s of it missing) without.
        let meter = Meter::new(m(5, 0, 10), &[60.0; 1000], &[60.0; 3], 60_000, 60_000);
        assert!((meter.observe(60_000) - 60.0).abs() < 1e-9);
        let meter = Meter::new(m(5, 0, 10), &[], &[60.0; 3], 60_000, 60_000);
        assert!((meter.observe(60_000) - 50.0).abs() < 1e-9);
        // Only the steps a reading can reach are kept.
        let meter = Meter::new(m(5, 0, 10), &[60.0; 1000], &[60.0; 3], 60_000, 60_000);
        assert!(meter.lead <= 3, "{}", meter.lead);
    }

    #[test]
    fn the_forecasters_series_keeps_gaps_and_lags_like_the_readings() {
        let d = [30.0, f64::NAN, 60.0, 0.0];
        let s = measured_series(m(5, 0, 20), &d, 60_000);
        assert!(s[1].is_nan());
        // Step 3 read at 4 min, 20 s late: 2/3 of step 3's and 1/3 of step 2's.
        assert!((s[3] - 20.0).abs() < 1e-9, "{s:?}");
    }
}
