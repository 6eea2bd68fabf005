//! The replica pool: replicas start (cold start), serve, drain and terminate.
//! Scale-in cancels starting replicas first, then drains the newest ready ones.

use super::engine::EventQueue;
use crate::policy::PodTimes;
use crate::time::SimTime;

/// Where a replica is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    Starting,
    Ready,
    Draining,
}

/// One replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replica {
    pub id: u32,
    pub state: ReplicaState,
    /// When it was asked for.
    pub created: SimTime,
    /// When it became ready (`None` while starting).
    pub ready_at: Option<SimTime>,
}

/// Pool events the driver must schedule and hand back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolEvent {
    Ready(u32),
    Gone(u32),
}

/// What a scaling call changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScaleChange {
    /// Replicas that became ready at once (zero start-up delay).
    pub ready_now: Vec<u32>,
    /// Replicas put into draining.
    pub draining: Vec<u32>,
}

/// The scale-to-zero counters of a pool at one time, to take differences of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ZeroFigures {
    pub cold_starts: u64,
    pub no_ready_ms: f64,
    pub zero_ms: f64,
}

impl ZeroFigures {
    /// (cold starts, ms without a ready replica, ms at zero) since `before`.
    pub fn since(self, before: ZeroFigures) -> (u32, f64, f64) {
        (
            (self.cold_starts - before.cold_starts) as u32,
            self.no_ready_ms - before.no_ready_ms,
            self.zero_ms - before.zero_ms,
        )
    }
}

/// The replicas of one service, with time integrals for cost.
#[derive(Debug, Clone)]
pub struct ReplicaPool {
    replicas: Vec<Replica>,
    next_id: u32,
    startup_ms: u64,
    drain_ms: Option<u64>,
    last: SimTime,
    /// ∫ ready replicas dt (ms).
    pub ready_ms: f64,
    /// ∫ provisioned (starting + ready + draining) replicas dt (ms).
    pub provisioned_ms: f64,
    /// ∫ [no replica ready] dt (ms): requests arriving then wait for a cold start.
    pub no_ready_ms: f64,
    /// ∫ [no replica ready or starting] dt (ms): scaled to zero.
    pub zero_ms: f64,
    /// Scale-from-zero events: a scale-up from no replica ready or starting.
    pub cold_starts: u64,
}

impl ReplicaPool {
    /// `initial` ready replicas; draining takes `drain_ms`, or until idle when `None`.
    pub fn new(initial: u32, startup_ms: u64, drain_ms: Option<u64>) -> ReplicaPool {
        ReplicaPool {
            replicas: (0..initial)
                .map(|id| Replica {
                    id,
                    state: ReplicaState::Ready,
                    created: SimTime::ZERO,
                    ready_at: Some(SimTime::ZERO),
                })
                .collect(),
            next_id: initial,
            startup_ms,
            drain_ms,
            last: SimTime::ZERO,
            ready_ms: 0.0,
            provisioned_ms: 0.0,
            no_ready_ms: 0.0,
            zero_ms: 0.0,
            cold_starts: 0,
        }
    }

    fn count(&self, s: ReplicaState) -> u32 {
        self.replicas.iter().filter(|r| r.state == s).count() as u32
    }
    pub fn ready(&self) -> u32 {
        self.count(ReplicaState::Ready)
    }
    pub fn starting(&self) -> u32 {
        self.count(ReplicaState::Starting)
    }
    pub fn draining(&self) -> u32 {
        self.count(ReplicaState::Draining)
    }
    /// Replicas the pool is heading for.
    pub fn target(&self) -> u32 {
        self.ready() + self.starting()
    }
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// The scale-to-zero counters now.
    pub fn zero_figures(&self) -> ZeroFigures {
        ZeroFigures {
            cold_starts: self.cold_starts,
            no_ready_ms: self.no_ready_ms,
            zero_ms: self.zero_ms,
        }
    }

    /// Creation and readiness times of the starting and ready replicas, into `out`.
    pub fn pod_times(&self, out: &mut Vec<PodTimes>) {
        out.clear();
        out.extend(
            self.replicas
                .iter()
                .filter(|r| r.state != ReplicaState::Draining)
                .map(|r| PodTimes {
                    created: r.created,
                    ready_at: r.ready_at,
                }),
        );
    }

    /// Accumulates the time integrals up to `now`.
    pub fn advance(&mut self, now: SimTime) {
        let dt = (now - self.last) as f64;
        if dt > 0.0 {
            let ready = self.ready();
            self.ready_ms += dt * ready as f64;
            self.provisioned_ms += dt * self.replicas.len() as f64;
            if ready == 0 {
                self.no_ready_ms += dt;
                if self.starting() == 0 {
                    self.zero_ms += dt;
                }
            }
            self.last = now;
        }
    }

    /// Moves towards `n` serving-or-starting replicas.
    pub fn scale_to(
        &mut self,
        now: SimTime,
        n: u32,
        events: &mut EventQueue<PoolEvent>,
    ) -> ScaleChange {
        self.advance(now);
        let mut change = ScaleChange::default();
        let target = self.target();
        if n > target {
            if target == 0 {
                self.cold_starts += 1;
            }
            for _ in target..n {
                let id = self.next_id;
                self.next_id += 1;
                if self.startup_ms == 0 {
                    self.replicas.push(Replica {
                        id,
                        state: ReplicaState::Ready,
                        created: now,
                        ready_at: Some(now),
                    });
                    change.ready_now.push(id);
                } else {
                    self.replicas.push(Replica {
                        id,
                        state: ReplicaState::Starting,
                        created: now,
                        ready_at: None,
                    });
                    events.push(now + self.startup_ms, PoolEvent::Ready(id));
                }
            }
        } else {
            let mut surplus = target - n;
            // Cancel the newest starting replicas first: they cost least to give up.
            while surplus > 0 {
                let Some(pos) = self
                    .replicas
                    .iter()
                    .rposition(|r| r.state == ReplicaState::Starting)
                else {
                    break;
                };
                self.replicas.remove(pos);
                surplus -= 1;
            }
            while surplus > 0 {
                let Some(pos) = self
                    .replicas
                    .iter()
                    .rposition(|r| r.state == ReplicaState::Ready)
                else {
                    break;
                };
                let id = self.replicas[pos].id;
                self.replicas[pos].state = ReplicaState::Draining;
                change.draining.push(id);
                if let Some(d) = self.drain_ms {
                    events.push(now + d, PoolEvent::Gone(id));
                }
                surplus -= 1;
            }
        }
        change
    }

    /// Applies a pool event; returns false for a replica that no longer exists
    /// (a start cancelled before it finished).
    pub fn apply(&mut self, now: SimTime, ev: PoolEvent) -> bool {
        self.advance(now);
        match ev {
            PoolEvent::Ready(id) => match self
                .replicas
                .iter_mut()
                .find(|r| r.id == id && r.state == ReplicaState::Starting)
            {
                Some(r) => {
                    r.state = ReplicaState::Ready;
                    r.ready_at = Some(now);
                    true
                }
                None => false,
            },
            PoolEvent::Gone(id) => self.remove(now, id),
        }
    }

    /// Terminates a replica now.
    pub fn remove(&mut self, now: SimTime, id: u32) -> bool {
        self.advance(now);
        match self.replicas.iter().position(|r| r.id == id) {
            Some(pos) => {
                self.replicas.remove(pos);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_start_then_cancel_then_drain() {
        let mut q = EventQueue::default();
        let mut p = ReplicaPool::new(2, 1000, Some(500));
        p.scale_to(SimTime(0), 4, &mut q);
        assert_eq!((p.ready(), p.starting()), (2, 2));
        // Scale in before the new ones are ready: the starting ones go first.
        p.scale_to(SimTime(100), 3, &mut q);
        assert_eq!((p.ready(), p.starting()), (2, 1));
        while let Some((t, e)) = q.pop() {
            p.apply(t, e);
        }
        assert_eq!((p.ready(), p.starting()), (3, 0));
        p.scale_to(SimTime(2000), 1, &mut q);
        assert_eq!((p.ready(), p.draining()), (1, 2));
        while let Some((t, e)) = q.pop() {
            p.apply(t, e);
        }
        p.advance(SimTime(3000));
        assert_eq!(p.replicas().len(), 1);
        // 0–100: 4 replicas, 100–1000: 3 ... cost integral is exact.
        let expected = 4.0 * 100.0 + 3.0 * 1900.0 + 3.0 * 500.0 + 1.0 * 500.0;
        assert_eq!(p.provisioned_ms, expected);
    }
}
