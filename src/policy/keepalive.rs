//! Fixed keep-alive, as serverless platforms run functions: instances start on demand
//! and each stays warm for a fixed time after its last request, then the function scales
//! to zero (AWS Lambda keeps idle instances for about 10 min; Azure Functions' consumption
//! plan for 20 min). With several instances this is the highest count the demand has
//! needed over the keep-alive window: an instance that served in the window is still
//! warm.

use std::collections::VecDeque;

use super::{replicas_for, Bounds, Observation, ScalingPolicy};

/// Instances for `demand` per step at `capacity` each: any request at all keeps (or
/// starts) one.
pub fn instances_for(demand: f64, capacity: f64) -> u32 {
    if demand > 0.0 {
        replicas_for(demand, capacity).max(1)
    } else {
        0
    }
}

#[derive(Debug, Clone)]
pub struct KeepAlive {
    pub name: String,
    pub bounds: Bounds,
    /// How long an instance stays warm after its last request.
    pub keep_alive_ms: u64,
    /// Time between decisions (how quickly a request starts an instance).
    pub tick_ms: u64,
    /// Share of a replica's capacity one instance is sized for (1).
    pub target: f64,
    /// `(time, instances needed)` over the keep-alive window.
    needed: VecDeque<(u64, u32)>,
}

impl KeepAlive {
    pub fn new(
        name: String,
        bounds: Bounds,
        keep_alive_ms: u64,
        tick_ms: u64,
        target: f64,
    ) -> Self {
        KeepAlive {
            name,
            bounds,
            keep_alive_ms,
            tick_ms,
            target,
            needed: VecDeque::new(),
        }
    }
}

impl ScalingPolicy for KeepAlive {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        if let Some(o) = obs.observed {
            let need = instances_for(o.demand_per_step, obs.capacity_per_replica * self.target);
            self.needed.push_back((now, need));
        }
        while let Some(&(t, _)) = self.needed.front() {
            if t + self.keep_alive_ms <= now {
                self.needed.pop_front();
            } else {
                break;
            }
        }
        let want = self.needed.iter().map(|n| n.1).max().unwrap_or(obs.current);
        self.bounds.clamp(want)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.tick_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::{observation, observed};
    use crate::policy::PolicySpec;

    fn at(k: &mut dyn ScalingPolicy, t_s: u64, current: u32, demand: f64) -> u32 {
        let o = observed(demand, 0.0, current as f64, 0.0, 1000);
        k.decide(&observation(
            t_s * 1000,
            60_000,
            current,
            current,
            10.0,
            Some(o),
            false,
            &[],
        ))
    }

    #[test]
    fn warm_for_the_keep_alive_after_the_last_request_then_zero() {
        let spec: PolicySpec = toml::from_str("kind = \"keep_alive\"").unwrap();
        spec.validate().unwrap();
        let mut k = spec.build();
        assert_eq!(k.decision_interval_ms(), Some(1000));
        // A request at 0 s starts one instance; 25 per step needs 3 at capacity 10.
        assert_eq!(at(k.as_mut(), 0, 0, 0.5), 1);
        assert_eq!(at(k.as_mut(), 1, 1, 25.0), 3);
        // Idle from 2 s: 3 stay warm until 10 min after the last request (1 s).
        assert_eq!(at(k.as_mut(), 2, 3, 0.0), 3);
        assert_eq!(at(k.as_mut(), 600, 3, 0.0), 3);
        assert_eq!(at(k.as_mut(), 601, 3, 0.0), 0);
        // Azure-like 20 min.
        let spec: PolicySpec =
            toml::from_str("kind = \"keep_alive\"\nkeep_alive_s = 1200").unwrap();
        let mut k = spec.build();
        assert_eq!(at(k.as_mut(), 0, 0, 1.0), 1);
        assert_eq!(at(k.as_mut(), 1199, 1, 0.0), 1);
        assert_eq!(at(k.as_mut(), 1200, 1, 0.0), 0);
    }
}
