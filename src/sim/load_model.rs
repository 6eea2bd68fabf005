//! The prototype's latency / CPU model of a replica under load (its safety net is the
//! control step's: [`crate::policy::control::SafetyNet`]).

/// Latency and CPU as functions of the load per replica (fluid mode):
/// with per = demand / replicas and C the capacity,
/// latency = base if per ≤ C else base + coeff · (per − C)^exponent;
/// CPU% = min(100, cpu_at_capacity · per / C) if per ≤ C else min(100, cpu_at_capacity + 100 · (per / C − 1)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadModel {
    pub base_latency_ms: f64,
    pub overload_coeff: f64,
    pub overload_exponent: f64,
    pub cpu_at_capacity_pct: f64,
    /// Latency reported when no replica is ready (a client time-out).
    pub timeout_ms: f64,
}

impl Default for LoadModel {
    fn default() -> Self {
        LoadModel {
            base_latency_ms: 40.0,
            overload_coeff: 2.0,
            overload_exponent: 1.5,
            cpu_at_capacity_pct: 70.0,
            timeout_ms: 10_000.0,
        }
    }
}

impl LoadModel {
    /// (latency ms, CPU %) for `demand` spread over `replicas` of capacity `cap`.
    pub fn evaluate(&self, demand: f64, replicas: f64, cap: f64) -> (f64, f64) {
        if replicas <= 0.0 {
            return if demand > 0.0 {
                (self.timeout_ms, 100.0)
            } else {
                (self.base_latency_ms, 0.0)
            };
        }
        let per = demand / replicas;
        if per <= cap {
            (
                self.base_latency_ms,
                (self.cpu_at_capacity_pct * per / cap).min(100.0),
            )
        } else {
            let lat = self.base_latency_ms
                + self.overload_coeff * (per - cap).powf(self.overload_exponent);
            (
                lat.min(self.timeout_ms),
                (self.cpu_at_capacity_pct + 100.0 * (per / cap - 1.0)).min(100.0),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prototype_formulas() {
        let m = LoadModel::default();
        assert_eq!(m.evaluate(20.0, 1.0, 25.0), (40.0, 56.0));
        let (lat, cpu) = m.evaluate(65.16168127144456, 2.0, 25.0);
        assert!((lat - 81.7451519473663).abs() < 1e-9);
        assert_eq!(cpu, 100.0);
    }
}
