//! The KPA's decider (`pkg/autoscaler/scaling/autoscaler.go`, `Scale`): from the stable
//! and panic window averages of the metric, the desired pod count — rate-limited,
//! raised to the activation scale, ratcheted in panic mode, held by the scale-down delay
//! — and the excess burst capacity that decides whether the activator stays in the path.

use std::collections::VecDeque;

use crate::time::SimTime;

/// The decider's settings (upstream's `DeciderSpec`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeciderSpec {
    /// Per-pod target of the metric (`TargetValue`: total × utilisation, at least 0.01).
    pub target: f64,
    /// Per-pod capacity of the metric (`TotalValue`: the target before utilisation).
    pub total: f64,
    /// `target-burst-capacity` (200; -1: the activator always in the path; 0: never).
    pub target_burst_capacity: f64,
    /// Panic when the panic window asks for this multiple of the ready pods (2.0).
    pub panic_threshold: f64,
    pub max_scale_up_rate: f64,
    pub max_scale_down_rate: f64,
    pub stable_window_ms: u64,
    /// `scale-down-delay` (0: none).
    pub scale_down_delay_ms: u64,
    /// `activation-scale` (1).
    pub activation_scale: u32,
    /// The revision takes traffic (`Reachable`): otherwise it may drop to zero at once.
    pub reachable: bool,
}

/// One decision (upstream's `ScaleResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleResult {
    pub desired: u32,
    /// Negative: not enough spare capacity for the target burst, the activator stays in
    /// the request path.
    pub excess_burst_capacity: i64,
}

/// The decider's state: panic mode and the scale-down delay window.
#[derive(Debug, Clone)]
pub struct Decider {
    pub spec: DeciderSpec,
    /// When the panic window last crossed the threshold (`None`: not panicking).
    pub panic_time: Option<SimTime>,
    pub max_panic_pods: u32,
    /// `(time, desired)` of the last `scale_down_delay`: the delayed count is their max.
    delay: VecDeque<(SimTime, u32)>,
}

impl Decider {
    /// A decider for a revision with `ready` pods: one that starts above one pod starts
    /// in panic mode, so that it keeps its scale until it has metrics (upstream's
    /// `newAutoscaler`).
    pub fn new(spec: DeciderSpec, ready: u32, now: SimTime) -> Decider {
        Decider {
            spec,
            panic_time: (ready > 1).then_some(now),
            max_panic_pods: ready,
            delay: VecDeque::new(),
        }
    }

    /// `Scale` at `now` with `ready` pods and the window averages of the metric.
    pub fn scale(&mut self, now: SimTime, ready: u32, stable: f64, panic: f64) -> ScaleResult {
        let s = self.spec.clone();
        // Use 1 if there are no pods.
        let ready_f = (ready as f64).max(1.0);
        let max_up = (s.max_scale_up_rate * ready_f).ceil();
        let max_down = if s.reachable {
            (ready_f / s.max_scale_down_rate).floor()
        } else {
            0.0
        };
        let dspc = (stable / s.target).ceil();
        let dppc = (panic / s.target).ceil();
        let clamp = |x: f64| x.max(max_down).min(max_up).max(0.0) as u32;
        let mut stable_pods = clamp(dspc);
        let mut panic_pods = clamp(dppc);
        if s.activation_scale > 1 {
            if dspc > 0.0 && s.activation_scale > stable_pods {
                stable_pods = s.activation_scale;
            }
            if dppc > 0.0 && s.activation_scale > panic_pods {
                panic_pods = s.activation_scale;
            }
        }
        let over = dppc / ready_f >= s.panic_threshold;
        match self.panic_time {
            _ if over => self.panic_time = Some(now),
            // Leave panic once a stable window has passed without crossing the threshold.
            Some(t) if t.ms() + s.stable_window_ms < now.ms() => {
                self.panic_time = None;
                self.max_panic_pods = 0;
            }
            _ => {}
        }
        let mut desired = stable_pods;
        if self.panic_time.is_some() {
            // Provision for the larger of the two; never scale down while panicking.
            desired = desired.max(panic_pods);
            self.max_panic_pods = self.max_panic_pods.max(desired);
            desired = self.max_panic_pods;
        }
        if s.scale_down_delay_ms > 0 {
            desired = self.delayed(now, desired);
        }
        let ebc = if s.target_burst_capacity == 0.0 {
            0
        } else if s.target_burst_capacity > 0.0 {
            (ready as f64 * s.total - s.target_burst_capacity - panic).floor() as i64
        } else {
            -1
        };
        ScaleResult {
            desired,
            excess_burst_capacity: ebc,
        }
    }

    /// The highest count asked for over the scale-down delay (upstream's `max.TimeWindow`
    /// at the 2 s tick granularity).
    fn delayed(&mut self, now: SimTime, desired: u32) -> u32 {
        let window = self.spec.scale_down_delay_ms;
        self.delay.retain(|(t, _)| now.ms() < t.ms() + window);
        self.delay.push_back((now, desired));
        self.delay.iter().map(|d| d.1).max().unwrap_or(desired)
    }
}
