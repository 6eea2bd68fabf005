//! The optimal bound: the least replica time any controller deciding on this
//! simulation's decision interval could pay while serving all demand, given the start-up
//! delay and the drain time. No I/O here.
//!
//! **The argument.** Step s needs `need(s) = max(1, ⌈demand(s) / capacity⌉)` replicas
//! ready for the whole step. The pool is last-in first-out (a scale-in cancels the newest
//! starting replicas, then drains the newest ready ones), so a target schedule is a stack
//! of *levels*: level k is on while the target is at least k, and each level is one
//! replica at a time, whose cost is its own on-time plus a drain after each turn-off.
//! The schedule's cost is the sum of its levels' costs, and level k must be ready
//! through every step with `need(s) ≥ k` — a condition on level k alone. So the least
//! total cost is the sum of each level's least cost, found independently:
//! - through a needed run it is on (cost: the run);
//! - across a gap from e (a run ended) to b (the next begins) it either stays on (b − e)
//!   or turns off at the first decision at or after e and on again at the last decision
//!   that makes it ready by b (at or before b − start-up delay), paying the wait, the
//!   drain (cut at the window's end) and the early start — whichever is cheaper, and
//!   only if the turn-on comes after the turn-off;
//! - before its first run it starts at the last decision that makes it ready in time
//!   (an initial replica is a level already on at 0, and may instead be turned off at 0);
//! - after its last run it stays on to the end or turns off at the next decision.
//!
//! The levels' choices nest (a lower level's gaps lie inside a higher one's, and the
//! choice depends on the gap alone), so together they are one target schedule. Levels
//! with the same gap are counted together with a stack over the need sequence: O(steps).
//! Demand the start-up delay makes unservable (needed above the initial replicas before
//! the first replica could be ready) is counted in `late_replica_steps`; the bound then
//! starts those replicas at 0.

use super::SimConfig;

/// The optimal bound of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimalBound {
    /// Replica-ms provisioned (starting, ready, draining) by the optimal schedule.
    pub provisioned_ms: f64,
    /// Replica-steps needed before any replica could be ready.
    pub late_replica_steps: u64,
}

impl OptimalBound {
    pub fn replica_hours(&self) -> f64 {
        self.provisioned_ms / 3_600_000.0
    }
}

/// The times a level may change at, and what its changes cost.
struct Grid {
    decision: f64,
    startup: f64,
    drain: f64,
    end: f64,
}

impl Grid {
    /// The first decision at or after `e`, if inside the window.
    fn off_at(&self, e: f64) -> Option<f64> {
        let t = (e / self.decision).ceil() * self.decision;
        (t < self.end).then_some(t)
    }
    /// The last decision that has a replica ready by `b`.
    fn on_by(&self, b: f64) -> Option<f64> {
        let latest = b - self.startup;
        (latest >= 0.0).then(|| (latest / self.decision).floor() * self.decision)
    }
    /// A level's least cost across a gap from `e` to `b`, and when it turns off and on
    /// again if that is cheaper than staying on.
    fn gap(&self, e: f64, b: f64) -> (f64, Option<(f64, f64)>) {
        let keep = b - e;
        match (self.off_at(e), self.on_by(b)) {
            (Some(off), Some(on)) if on > off => {
                let cycle = (off - e) + self.drain.min(self.end - off) + (b - on);
                if cycle < keep {
                    (cycle, Some((off, on)))
                } else {
                    (keep, None)
                }
            }
            _ => (keep, None),
        }
    }
    /// After a level's last run, ended at `e`: its cost, and when it turns off if it does.
    fn tail(&self, e: f64) -> (f64, Option<f64>) {
        let keep = self.end - e;
        match self.off_at(e) {
            Some(off) if (off - e) + self.drain.min(self.end - off) < keep => {
                ((off - e) + self.drain.min(self.end - off), Some(off))
            }
            _ => (keep, None),
        }
    }
}

/// The optimal bound for `demand` (requests per step) under `cfg`'s capacity, decision
/// interval, start-up delay, drain time and initial replicas.
pub fn optimal_bound(cfg: &SimConfig, demand: &[f64]) -> OptimalBound {
    solve(cfg, demand).0
}

/// The optimal schedule itself: the target replica count at each decision (every
/// `decision_interval_ms` from the window's start), which, run on the replica pool,
/// provisions exactly the bound (and serves all demand when nothing is late). The
/// levels' choices are changes of the target at decision times: +1 when a level turns
/// on, −1 when it turns off.
pub fn optimal_schedule(cfg: &SimConfig, demand: &[f64]) -> Vec<u32> {
    let (_, changes) = solve(cfg, demand);
    let decision = cfg.decision_interval_ms.max(cfg.step_ms).max(1) as f64;
    let end = demand.len() as f64 * cfg.step_ms as f64;
    let decisions = ((end / decision).ceil() as usize).max(1);
    let mut delta = vec![0i64; decisions + 1];
    for (t, d) in changes {
        let k = ((t / decision).round() as usize).min(decisions);
        delta[k] += d;
    }
    let mut level = i64::from(cfg.initial_replicas);
    delta[..decisions]
        .iter()
        .map(|d| {
            level += d;
            level.max(1) as u32
        })
        .collect()
}

/// The bound and the schedule's changes `(time ms, replicas)`.
fn solve(cfg: &SimConfig, demand: &[f64]) -> (OptimalBound, Vec<(f64, i64)>) {
    let step = cfg.step_ms as f64;
    let g = Grid {
        decision: cfg.decision_interval_ms.max(cfg.step_ms).max(1) as f64,
        startup: cfg.startup_delay_ms as f64,
        drain: cfg.drain_ms as f64,
        end: demand.len() as f64 * step,
    };
    let need = |d: f64| crate::policy::replicas_for(d.max(0.0), cfg.capacity_per_replica).max(1);
    let mut cost = 0.0;
    let mut late = 0u64;
    let mut changes: Vec<(f64, i64)> = Vec::new();
    // Open gaps, lowest levels on top: (lowest level, highest level, when they went off).
    let mut stack: Vec<(u32, u32, f64)> = Vec::new();
    // The levels on at 0 are the initial replicas; `high`: the highest level ever on.
    let mut prev = cfg.initial_replicas;
    let mut high = prev;
    for (s, &d) in demand.iter().enumerate() {
        let (cur, t) = (need(d), s as f64 * step);
        if cur > prev {
            // Levels prev+1 ..= cur start a run at t: first those in gaps (from the top).
            let mut lo = prev + 1;
            while lo <= cur.min(high) {
                let (glo, ghi, e) = stack.pop().expect("a level on before is in a gap");
                debug_assert_eq!(glo, lo);
                let top = ghi.min(cur);
                let m = (top - glo + 1) as f64;
                let (c, cycle) = g.gap(e, t);
                cost += m * c;
                if let Some((off, on)) = cycle {
                    changes.extend([(off, -(m as i64)), (on, m as i64)]);
                }
                if top < ghi {
                    stack.push((top + 1, ghi, e));
                }
                lo = top + 1;
            }
            // Then levels never on: each starts in time for t, or at 0 if it cannot.
            if cur > high {
                let fresh = (cur - high) as f64;
                match g.on_by(t) {
                    Some(on) => {
                        cost += fresh * (t - on);
                        changes.push((on, fresh as i64));
                    }
                    // t < start-up: these levels are missing until it ends.
                    None => {
                        cost += fresh * t;
                        changes.push((0.0, fresh as i64));
                        let ready_steps = ((g.startup / step).ceil() as usize).min(demand.len());
                        late += (cur - high) as u64 * (ready_steps - s) as u64;
                    }
                }
                high = cur;
            }
        } else if cur < prev {
            stack.push((cur + 1, prev, t));
        }
        cost += cur as f64 * step;
        prev = cur;
    }
    for (lo, hi, e) in stack {
        let m = (hi - lo + 1) as f64;
        let (c, off) = g.tail(e);
        cost += m * c;
        if let Some(off) = off {
            changes.push((off, -(m as i64)));
        }
    }
    let bound = OptimalBound {
        provisioned_ms: cost,
        late_replica_steps: late,
    };
    (bound, changes)
}

#[cfg(test)]
mod tests;
