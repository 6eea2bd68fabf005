//! The hybrid histogram keep-alive policy of Shahrad et al., "Serverless in the Wild"
//! (USENIX ATC 2020, §4.2). Per application it learns the distribution of idle times
//! (the time from the end of one invocation to the start of the next) in a histogram of
//! one-minute bins over a range (4 h), and after each invocation unloads the application,
//! loads it again at the *pre-warming window* — the distribution's head (5th percentile)
//! less a 10 % margin — and keeps it loaded for the *keep-alive window*, up to the tail
//! (99th percentile) plus 10 %. Where the histogram does not say much it falls back as the
//! paper does: too few idle times, or bin counts spread too evenly (coefficient of
//! variation below 2), give the standard keep-alive of the whole range (no pre-warming);
//! too many idle times beyond the range (out of bounds) give a time-series forecast of the
//! next idle time, pre-warming at 85 % of it and keeping alive for 30 % of it. The
//! forecast is an ARIMA(1,1,0) fitted by conditional least squares on the idle-time series
//! (the paper names ARIMA without its order; written here rather than taken from a crate,
//! as no well-kept Rust ARIMA crate fits: the one on crates.io needs LAPACK and an older
//! `rand`). The minimum sample count and the out-of-bounds share that switch to the
//! forecast are the paper's unstated thresholds, settings here.
//!
//! While invocations arrive the policy runs as many instances as the demand needs.

use super::keepalive::instances_for;
use super::{Bounds, Observation, ScalingPolicy};

/// The hybrid policy's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HybridConfig {
    /// Histogram range in minutes (240: 4 h), one bin per minute.
    pub range_min: usize,
    pub head_pct: f64,
    pub tail_pct: f64,
    /// Margin on both windows (0.1).
    pub margin: f64,
    /// Below this coefficient of variation of the bin counts the histogram is not
    /// representative (2).
    pub cv_threshold: f64,
    /// Idle times needed before the histogram is used (10).
    pub min_samples: usize,
    /// Share of idle times beyond the range that switches to the forecast (0.5).
    pub oob_share: f64,
    pub tick_ms: u64,
    /// Share of a replica's capacity an instance is sized for (1).
    pub target: f64,
}

impl Default for HybridConfig {
    fn default() -> Self {
        HybridConfig {
            range_min: 240,
            head_pct: 5.0,
            tail_pct: 99.0,
            margin: 0.1,
            cv_threshold: 2.0,
            min_samples: 10,
            oob_share: 0.5,
            tick_ms: 60_000,
            target: 1.0,
        }
    }
}

/// Which rule set the windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Standard keep-alive over the whole range (not enough, or not representative, data).
    Standard,
    Histogram,
    /// The time-series forecast of the next idle time (too many out of bounds).
    Forecast,
}

/// Pre-warming and keep-alive windows (ms) and how they were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub prewarm_ms: u64,
    pub keep_alive_ms: u64,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub struct HybridHistogram {
    pub name: String,
    pub bounds: Bounds,
    pub cfg: HybridConfig,
    bins: Vec<u32>,
    /// Every idle time (minutes), in order: the forecast's series.
    idle_times: Vec<f64>,
    oob: usize,
    /// End of the last interval with invocations.
    last_end_ms: Option<u64>,
    windows: Windows,
}

const MIN_MS: u64 = 60_000;

impl HybridHistogram {
    pub fn new(name: String, bounds: Bounds, cfg: HybridConfig) -> HybridHistogram {
        let windows = Windows {
            prewarm_ms: 0,
            keep_alive_ms: cfg.range_min as u64 * MIN_MS,
            mode: Mode::Standard,
        };
        HybridHistogram {
            name,
            bounds,
            bins: vec![0; cfg.range_min],
            cfg,
            idle_times: Vec::new(),
            oob: 0,
            last_end_ms: None,
            windows,
        }
    }

    /// The windows in force.
    pub fn windows(&self) -> Windows {
        self.windows
    }

    /// Records an idle time (ms) and recomputes the windows.
    pub fn record_idle(&mut self, idle_ms: u64) {
        let minutes = idle_ms / MIN_MS;
        self.idle_times.push(minutes as f64);
        match self.bins.get_mut(minutes as usize) {
            Some(b) => *b += 1,
            None => self.oob += 1,
        }
        self.windows = self.compute();
    }

    fn compute(&self) -> Windows {
        let c = &self.cfg;
        let n = self.idle_times.len();
        let standard = Windows {
            prewarm_ms: 0,
            keep_alive_ms: c.range_min as u64 * MIN_MS,
            mode: Mode::Standard,
        };
        if n < c.min_samples {
            return standard;
        }
        if self.oob as f64 / n as f64 > c.oob_share {
            let p = arima_110_next(&self.idle_times).max(1.0);
            // Whole minutes, as the histogram's windows.
            return Windows {
                prewarm_ms: (0.85 * p).floor() as u64 * MIN_MS,
                keep_alive_ms: ((0.3 * p).ceil() as u64).max(1) * MIN_MS,
                mode: Mode::Forecast,
            };
        }
        let k = self.bins.len() as f64;
        let mean = self.bins.iter().map(|&b| b as f64).sum::<f64>() / k;
        let var = self
            .bins
            .iter()
            .map(|&b| (b as f64 - mean).powi(2))
            .sum::<f64>()
            / k;
        if !(mean > 0.0) || var.sqrt() / mean < c.cv_threshold {
            return standard;
        }
        let head = self.bin_percentile(c.head_pct);
        let tail = self.bin_percentile(c.tail_pct);
        let prewarm = (head as f64 * (1.0 - c.margin)).floor() as u64;
        let end = ((tail + 1) as f64 * (1.0 + c.margin)).ceil() as u64;
        Windows {
            prewarm_ms: prewarm * MIN_MS,
            keep_alive_ms: end.saturating_sub(prewarm).max(1) * MIN_MS,
            mode: Mode::Histogram,
        }
    }

    /// The bin (minutes) where the in-range idle times reach percentile `p`.
    fn bin_percentile(&self, p: f64) -> usize {
        let total: u32 = self.bins.iter().sum();
        let want = (p / 100.0 * total as f64).ceil().max(1.0);
        let mut acc = 0.0;
        for (i, &b) in self.bins.iter().enumerate() {
            acc += b as f64;
            if acc >= want {
                return i;
            }
        }
        self.bins.len() - 1
    }
}

/// The next value of `x` under ARIMA(1,1,0) fitted by conditional least squares on the
/// differences (`d_t = c + φ d_{t−1}`); with fewer than four values, their mean.
pub fn arima_110_next(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return x.iter().sum::<f64>() / n.max(1) as f64;
    }
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let (xs, ys) = (&d[..d.len() - 1], &d[1..]);
    let m = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / m, ys.iter().sum::<f64>() / m);
    let sxx: f64 = xs.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(a, b)| (a - mx) * (b - my)).sum();
    // A constant series of differences has no AR term to fit.
    let phi = if sxx > 1e-12 {
        (sxy / sxx).clamp(-0.99, 0.99)
    } else {
        0.0
    };
    let c = my - phi * mx;
    x[n - 1] + c + phi * d[d.len() - 1]
}

impl ScalingPolicy for HybridHistogram {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        let Some(o) = obs.observed else {
            return self.bounds.clamp(obs.current);
        };
        if o.demand_per_step > 0.0 {
            // Invocations in the last interval: it ended an idle time, if one was running.
            let start = now.saturating_sub(o.window_ms);
            if let Some(end) = self.last_end_ms {
                if start > end {
                    self.record_idle(start - end);
                }
            }
            self.last_end_ms = Some(now);
            let need = instances_for(
                o.demand_per_step,
                obs.capacity_per_replica * self.cfg.target,
            );
            return self.bounds.clamp(need);
        }
        let Some(end) = self.last_end_ms else {
            return self.bounds.clamp(0);
        };
        let idle = now - end;
        let w = self.windows;
        let loaded = idle >= w.prewarm_ms && idle < w.prewarm_ms + w.keep_alive_ms;
        self.bounds.clamp(loaded as u32)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.cfg.tick_ms)
    }
}

#[cfg(test)]
mod tests;
