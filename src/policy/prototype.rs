//! The prototype's five policies, with its exact semantics.

use super::{replicas_for, Bounds, Observation, ScalingPolicy};

/// A fixed number of replicas. The prototype ran it without the safety net.
#[derive(Debug, Clone)]
pub struct Static {
    pub name: String,
    pub replicas: u32,
    pub bounds: Bounds,
}

impl ScalingPolicy for Static {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, _obs: &Observation<'_>) -> u32 {
        self.bounds.clamp(self.replicas)
    }
    fn uses_safety_net(&self) -> bool {
        false
    }
}

/// `max(1, ceil(buffer · planned / C))` where `planned` is the point forecast or a
/// forecast quantile. `simple_ceiling` is buffer 1 on the point forecast, `buffered`
/// buffer 1.15, `confidence_aware` buffer 1 on a quantile (the prototype used the
/// 80 % interval's upper bound, i.e. the 0.9 quantile).
#[derive(Debug, Clone)]
pub struct ForecastCeiling {
    pub name: String,
    pub buffer: f64,
    /// Index into `QUANTILES`, or `None` for the point forecast.
    pub quantile: Option<usize>,
    pub lead: usize,
    pub bounds: Bounds,
    pub planned: f64,
}

impl ScalingPolicy for ForecastCeiling {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let Some(f) = obs.forecast else {
            return self.bounds.clamp(obs.current);
        };
        self.planned = f.planned(self.lead, self.quantile) * self.buffer;
        self.bounds
            .clamp(replicas_for(self.planned, obs.capacity_per_replica).max(1))
    }
    fn forecast_lead(&self) -> Option<usize> {
        Some(self.lead)
    }
    fn last_planned(&self) -> f64 {
        self.planned
    }
}

/// The prototype's `policy_aware`: one replica at a time, with a cooldown.
///
/// If fewer than `cooldown` decisions have passed since the last scaling action, keep;
/// else if pred / C > up · current, add one; else if pred / C < down · current, remove one;
/// else keep. As in the prototype, taking the scale-up or scale-down branch restarts the
/// cooldown even when the bounds stop the count from changing (at 1 replica a low
/// forecast keeps the policy in cooldown), and a safety-net action restarts it too.
#[derive(Debug, Clone)]
pub struct PolicyAware {
    pub name: String,
    pub cooldown: u64,
    pub up: f64,
    pub down: f64,
    pub lead: usize,
    pub bounds: Bounds,
    pub last_action: Option<u64>,
    pub planned: f64,
}

impl ScalingPolicy for PolicyAware {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let cur = obs.current;
        if let Some(last) = self.last_action {
            if obs.tick.saturating_sub(last) < self.cooldown {
                return cur;
            }
        }
        let Some(f) = obs.forecast else { return cur };
        self.planned = f.point(self.lead);
        let need = self.planned / obs.capacity_per_replica;
        if need > self.up * cur as f64 {
            self.last_action = Some(obs.tick);
            (cur + 1).min(self.bounds.max).max(self.bounds.min)
        } else if need < self.down * cur as f64 {
            self.last_action = Some(obs.tick);
            cur.saturating_sub(1)
                .max(self.bounds.min)
                .min(self.bounds.max)
        } else {
            cur
        }
    }
    fn on_external_scale(&mut self, tick: u64) {
        self.last_action = Some(tick);
    }
    fn forecast_lead(&self) -> Option<usize> {
        Some(self.lead)
    }
    fn last_planned(&self) -> f64 {
        self.planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{ForecastTable, QUANTILES};
    use crate::policy::ForecastView;
    use crate::time::SimTime;

    fn table(preds: &[f64]) -> ForecastTable {
        ForecastTable {
            forecaster: "t".into(),
            first_step: 0,
            horizon: 1,
            point: preds.to_vec(),
            quantiles: preds.iter().flat_map(|&p| [p; QUANTILES.len()]).collect(),
        }
    }

    fn decide(p: &mut PolicyAware, t: &ForecastTable, tick: u64, current: u32) -> u32 {
        let obs = Observation {
            tick,
            now: SimTime(tick * 60_000),
            current,
            ready: current,
            pending: 0,
            capacity_per_replica: 25.0,
            step_ms: 60_000,
            forecast: Some(ForecastView {
                table: t,
                step: tick as usize,
                window: 1,
            }),
            observed: None,
            metrics_failed: false,
            pods: &[],
        };
        p.decide(&obs)
    }

    #[test]
    fn a_clamped_scale_down_restarts_the_cooldown() {
        // At 1 replica a forecast under 0.6·C keeps taking the scale-down branch; as in
        // the prototype each time restarts the cooldown, so a spike 5 ticks later waits.
        let mut preds = vec![10.0; 20];
        preds[15] = 90.0;
        let t = table(&preds);
        let mut p = PolicyAware {
            name: "p".into(),
            cooldown: 10,
            up: 1.0,
            down: 0.6,
            lead: 0,
            bounds: Bounds { min: 1, max: 20 },
            last_action: None,
            planned: f64::NAN,
        };
        let mut cur = 1;
        for tick in 0..15 {
            cur = decide(&mut p, &t, tick, cur);
            assert_eq!(cur, 1);
        }
        assert_eq!(
            p.last_action,
            Some(10),
            "ticks 0 and 10 take the branch, in between is cooldown"
        );
        assert_eq!(
            decide(&mut p, &t, 15, 1),
            1,
            "the spike falls inside the restarted cooldown"
        );
        // Without the restart (last action long ago) the same spike scales up.
        p.last_action = None;
        assert_eq!(decide(&mut p, &t, 15, 1), 2);
    }

    #[test]
    fn forecast_ceiling_uses_the_chosen_quantile_and_buffer() {
        let mut t = table(&[40.0]);
        let qi = crate::forecast::quantile_index(0.9).unwrap();
        t.quantiles[qi] = 60.0;
        let mut p = ForecastCeiling {
            name: "c".into(),
            buffer: 1.25,
            quantile: Some(qi),
            lead: 0,
            bounds: Bounds { min: 1, max: 100 },
            planned: f64::NAN,
        };
        let obs = Observation {
            tick: 0,
            now: SimTime(0),
            current: 2,
            ready: 2,
            pending: 0,
            capacity_per_replica: 25.0,
            step_ms: 60_000,
            forecast: Some(ForecastView {
                table: &t,
                step: 0,
                window: 1,
            }),
            observed: None,
            metrics_failed: false,
            pods: &[],
        };
        assert_eq!(p.decide(&obs), 3); // ceil(60 · 1.25 / 25)
        assert_eq!(p.last_planned(), 75.0);
    }
}
