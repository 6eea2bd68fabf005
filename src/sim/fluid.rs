//! Fluid fidelity: per step, the capacity of the ready replicas against demand.
//! With zero start-up delay and a decision every step this is the prototype's
//! simulator exactly (replicas change at the step where the policy decides).

use super::cluster::ReplicaPool;
use super::engine::EventQueue;
use super::{RunInput, SimConfig, Timeline};
use crate::policy::{ForecastView, Observation, Observed, ScalingPolicy};
use crate::time::SimTime;

/// Running sums over one decision interval, for the next observation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntervalStats {
    pub steps: u32,
    pub demand: f64,
    pub utilization: f64,
    pub latency_max: f64,
    pub cpu: f64,
}

impl IntervalStats {
    pub fn add(&mut self, demand: f64, utilization: f64, latency: f64, cpu: f64) {
        self.steps += 1;
        self.demand += demand;
        self.utilization += utilization;
        self.latency_max = self.latency_max.max(latency);
        self.cpu += cpu;
    }
    pub fn observed(&self) -> Option<Observed> {
        (self.steps > 0).then(|| {
            let n = self.steps as f64;
            Observed {
                demand_per_step: self.demand / n,
                utilization: self.utilization / n,
                latency_p95_ms: self.latency_max,
                cpu_pct: self.cpu / n,
            }
        })
    }
}

/// The forecast view for a decision at window step `s`, if the table covers it.
pub(crate) fn forecast_view<'a>(
    input: &RunInput<'a>,
    s: usize,
    window: usize,
) -> Option<ForecastView<'a>> {
    let step = input.first_step + s;
    input
        .forecast
        .filter(|f| f.covers(step))
        .map(|table| ForecastView {
            table,
            step,
            window,
        })
}

pub fn run(cfg: &SimConfig, input: RunInput<'_>, policy: &mut dyn ScalingPolicy) -> Timeline {
    let n = input.demand.len();
    let step = cfg.step_ms;
    let dsteps = cfg.decision_steps();
    let cap = cfg.capacity_per_replica;
    let safety_on = cfg.safety.enabled && policy.uses_safety_net();
    let mut pool = ReplicaPool::new(
        cfg.initial_replicas,
        cfg.startup_delay_ms,
        Some(cfg.drain_ms),
    );
    let mut q = EventQueue::default();
    let mut tl = Timeline::default();
    let mut tick = 0u64;
    let mut interval = IntervalStats::default();
    for s in 0..n {
        let t = SimTime(s as u64 * step);
        while let Some((et, ev)) = q.pop_until(t) {
            pool.apply(et, ev);
        }
        pool.advance(t);
        let d = input.demand[s];
        if s % dsteps == 0 {
            let obs = Observation {
                tick,
                now: t,
                current: pool.target(),
                ready: pool.ready(),
                pending: pool.starting(),
                capacity_per_replica: cap,
                step_ms: step,
                forecast: forecast_view(&input, s, dsteps),
                observed: interval.observed(),
            };
            let want = policy.decide(&obs);
            pool.scale_to(t, want, &mut q);
            tick += 1;
            interval = IntervalStats::default();
        }
        if safety_on {
            let (lat, cpu) = cfg.load.evaluate(d, pool.ready() as f64, cap);
            if cfg.safety.trips(lat, cpu) {
                pool.scale_to(t, pool.target() + 1, &mut q);
                policy.on_external_scale(tick - 1);
            }
        }
        let (ready_before, prov_before) = (pool.ready_ms, pool.provisioned_ms);
        tl.ready.push(pool.ready());
        tl.pending.push(pool.starting());
        tl.desired.push(pool.target());
        let end = SimTime(t.ms() + step);
        while let Some((et, ev)) = q.pop_until(SimTime(end.ms() - 1)) {
            pool.apply(et, ev);
        }
        pool.advance(end);
        let eff = (pool.ready_ms - ready_before) / step as f64;
        let served = d.min(eff * cap);
        let (lat, cpu) = cfg.load.evaluate(d, eff, cap);
        let util = if eff > 0.0 {
            (d / (eff * cap)).min(1.0)
        } else {
            1.0
        };
        interval.add(d, util, lat, cpu);
        tl.demand.push(d);
        tl.forecast.push(
            input
                .forecast
                .filter(|f| f.covers(input.first_step + s))
                .map_or(f64::NAN, |f| f.point(input.first_step + s, 0)),
        );
        tl.planned.push(policy.last_planned());
        tl.ready_effective.push(eff);
        tl.provisioned_ms.push(pool.provisioned_ms - prov_before);
        tl.served.push(served);
        tl.dropped.push(d - served);
        tl.latency_ms.push(lat);
        tl.latency_p95_ms.push(lat);
        tl.cpu_pct.push(cpu);
    }
    tl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{ForecastTable, QUANTILES};
    use crate::policy::PolicySpec;

    /// A perfect forecast of `demand` for `horizon` steps ahead.
    fn oracle(demand: &[f64], horizon: usize) -> ForecastTable {
        let point: Vec<f64> = (0..demand.len())
            .flat_map(|i| (0..horizon).map(move |h| (i, h)))
            .map(|(i, h)| demand[(i + h).min(demand.len() - 1)])
            .collect();
        let quantiles = point.iter().flat_map(|&p| [p; QUANTILES.len()]).collect();
        ForecastTable {
            forecaster: "oracle".into(),
            first_step: 0,
            horizon,
            point,
            quantiles,
        }
    }

    fn run_policy(toml_spec: &str, delay_steps: u64, demand: &[f64]) -> Timeline {
        let cfg = SimConfig {
            startup_delay_ms: delay_steps * 60_000,
            safety: crate::sim::SafetyNet {
                enabled: false,
                ..Default::default()
            },
            ..SimConfig::default()
        };
        let table = oracle(demand, 4);
        let mut p = toml::from_str::<PolicySpec>(toml_spec).unwrap().build();
        run(
            &cfg,
            RunInput {
                demand,
                first_step: 0,
                forecast: Some(&table),
                seed: 0,
            },
            p.as_mut(),
        )
    }

    #[test]
    fn cold_starts_delay_capacity_and_lead_time_hides_them() {
        let mut demand = vec![40.0; 10];
        demand.extend([200.0; 10]);
        // Perfect forecast, no lead: the 8 replicas asked for at step 10 serve from step 12.
        let tl = run_policy("kind = \"simple_ceiling\"", 2, &demand);
        assert_eq!(&tl.ready[9..14], &[2, 2, 2, 8, 8]);
        assert_eq!(tl.desired[10], 8);
        assert!(tl.dropped[10] > 0.0 && tl.dropped[11] > 0.0 && tl.dropped[12] == 0.0);
        // Provisioning for 2 steps ahead covers the start-up delay.
        let tl = run_policy("kind = \"simple_ceiling\"\nlead_steps = 2", 2, &demand);
        assert!(tl.dropped.iter().all(|&d| d == 0.0), "{:?}", tl.dropped);
        // Paid time includes starting replicas: 2 steps × 6 extra replicas more than served.
        let paid: f64 = tl.provisioned_ms.iter().sum::<f64>() / 60_000.0;
        let served: f64 = tl.ready_effective.iter().sum();
        assert!((paid - served - 12.0).abs() < 1e-9, "{paid} vs {served}");
    }

    #[test]
    fn decisions_happen_only_on_the_decision_interval() {
        let demand: Vec<f64> = (0..12).map(|i| 25.0 * (1 + i) as f64).collect();
        let cfg = SimConfig {
            decision_interval_ms: 180_000,
            safety: crate::sim::SafetyNet {
                enabled: false,
                ..Default::default()
            },
            ..SimConfig::default()
        };
        let table = oracle(&demand, 4);
        let mut p = toml::from_str::<PolicySpec>("kind = \"simple_ceiling\"")
            .unwrap()
            .build();
        let tl = run(
            &cfg,
            RunInput {
                demand: &demand,
                first_step: 0,
                forecast: Some(&table),
                seed: 0,
            },
            p.as_mut(),
        );
        // Each decision provisions for the highest forecast over the 3 steps it governs.
        assert_eq!(tl.ready, vec![3, 3, 3, 6, 6, 6, 9, 9, 9, 12, 12, 12]);
    }
}
