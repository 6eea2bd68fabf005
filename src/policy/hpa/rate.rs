//! Stabilisation windows and scaling-rate limits (upstream `horizontal.go`:
//! `stabilizeRecommendation[WithBehaviors]`, `convertDesiredReplicasWith{Rules,BehaviorRate}`,
//! `calculateScale{Up,Down}Limit…`).
//!
//! Age rule: a recommendation or scale event counts while it is younger than its window or
//! period (`age < window`). Upstream compares timestamps with `After(now − window)`; its
//! syncs come every sync period *plus* the time a sync takes, so the sample from exactly
//! `window / period` syncs ago is always a little older than the window and drops out.
//! Simulated syncs are exact, so the boundary sample is excluded explicitly.

use super::config::{Behavior, RuleKind, Rules, SelectPolicy};
use crate::time::SimTime;

/// `(time, value)` samples younger than some horizon.
#[derive(Debug, Clone, Default)]
pub(super) struct Samples(Vec<(SimTime, u32)>);

impl Samples {
    fn young(&self, now: SimTime, window_ms: u64) -> impl Iterator<Item = u32> + '_ {
        self.0
            .iter()
            .filter(move |(t, _)| now - *t < window_ms)
            .map(|s| s.1)
    }
    /// Records `v` and forgets samples at least `keep_ms` old.
    fn record(&mut self, now: SimTime, v: u32, keep_ms: u64) {
        self.0.retain(|(t, _)| now - *t < keep_ms);
        self.0.push((now, v));
    }
    /// `storeScaleEvent`: overwrites the last sample older than `longest_ms` (upstream's
    /// "outdated" event), else appends. Outdated events still count for a longer period
    /// of the other direction until overwritten, as upstream's do.
    fn store(&mut self, now: SimTime, v: u32, longest_ms: u64) {
        match self.0.iter().rposition(|(t, _)| now - *t > longest_ms) {
            Some(i) => self.0[i] = (now, v),
            None => self.0.push((now, v)),
        }
    }
    fn sum(&self, now: SimTime, period_ms: u64) -> i64 {
        self.young(now, period_ms).map(i64::from).sum()
    }
}

/// What the rate limits remember.
#[derive(Debug, Clone, Default)]
pub(super) struct History {
    /// Unstabilised recommendations (the current count at the first sync).
    pub recommendations: Samples,
    scale_up: Samples,
    scale_down: Samples,
}

impl History {
    /// `recordInitialRecommendation`: the current count at the first sync.
    pub fn start(&mut self, now: SimTime, current: u32) {
        self.recommendations.0.push((now, current));
    }

    /// No `behavior`: the highest recommendation of the downscale window, then
    /// `[min, min(max, max(2·current, 4))]`.
    pub fn normalize_legacy(
        &mut self,
        now: SimTime,
        current: u32,
        proposal: u32,
        window_ms: u64,
        (min, max): (u32, u32),
    ) -> u32 {
        let stabilized = self
            .recommendations
            .young(now, window_ms)
            .fold(proposal, u32::max);
        self.recommendations.record(now, proposal, window_ms);
        let up_limit = (2 * current as u64).max(4).min(u32::MAX as u64) as u32;
        let max_allowed = max.min(up_limit);
        if stabilized < min {
            min
        } else {
            stabilized.min(max_allowed)
        }
    }

    /// With `behavior`: stabilise between the lowest recommendation of the scale-up
    /// window and the highest of the scale-down window, then limit the rate.
    pub fn normalize(
        &mut self,
        now: SimTime,
        current: u32,
        proposal: u32,
        b: &Behavior,
        (min, max): (u32, u32),
    ) -> u32 {
        let up = self
            .recommendations
            .young(now, b.up.window_ms)
            .fold(proposal, u32::min);
        let down = self
            .recommendations
            .young(now, b.down.window_ms)
            .fold(proposal, u32::max);
        let keep = b.up.window_ms.max(b.down.window_ms);
        self.recommendations.record(now, proposal, keep);
        let mut desired = current;
        if desired < up {
            desired = up;
        }
        if desired > down {
            desired = down;
        }
        if desired > current {
            let limit = self.limit(now, current, &b.up, true).max(current as i64);
            let max_allowed = (max as i64).min(limit);
            if desired as i64 > max_allowed {
                return max_allowed as u32;
            }
        } else if desired < current {
            let limit = self.limit(now, current, &b.down, false).min(current as i64);
            let min_allowed = (min as i64).max(limit);
            if (desired as i64) < min_allowed {
                return min_allowed as u32;
            }
        }
        desired
    }

    /// The farthest the rules allow from `current` in one direction.
    fn limit(&self, now: SimTime, current: u32, rules: &Rules, up: bool) -> i64 {
        if rules.select == SelectPolicy::Disabled {
            return current as i64;
        }
        // Max picks the largest change: the highest limit up, the lowest limit down.
        let largest = rules.select == SelectPolicy::Max;
        let pick_high = largest == up;
        let mut result: Option<i64> = None;
        for r in &rules.policies {
            let added = self.scale_up.sum(now, r.period_ms);
            let removed = self.scale_down.sum(now, r.period_ms);
            let start = current as i64 - added + removed;
            let proposed = match (r.kind, up) {
                (RuleKind::Pods, true) => start + r.value as i64,
                (RuleKind::Pods, false) => start - r.value as i64,
                // Rounded up, so that a small percentage still adds a pod.
                (RuleKind::Percent, true) => {
                    (start as f64 * (1.0 + r.value as f64 / 100.0)).ceil() as i64
                }
                // Truncated, as upstream's int32 conversion does.
                (RuleKind::Percent, false) => {
                    (start as f64 * (1.0 - r.value as f64 / 100.0)).trunc() as i64
                }
            };
            result = Some(match result {
                None => proposed,
                Some(x) if pick_high => x.max(proposed),
                Some(x) => x.min(proposed),
            });
        }
        result.unwrap_or(current as i64)
    }

    /// `storeScaleEvent` (only with `behavior`: the legacy path keeps no events).
    pub fn store_event(&mut self, now: SimTime, from: u32, to: u32, b: &Behavior) {
        let longest = |r: &Rules| r.policies.iter().map(|p| p.period_ms).max().unwrap_or(0);
        if to > from {
            self.scale_up.store(now, to - from, longest(&b.up));
        } else if to < from {
            self.scale_down.store(now, from - to, longest(&b.down));
        }
    }
}
