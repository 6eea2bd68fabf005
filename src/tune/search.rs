//! The tuner's optimiser: a batch, two-objective, surrogate-assisted search in the manner
//! of SMS-EGO (Ponweiser, Wagner, Biermann & Vincze, PPSN 2008). Each arm (a policy entry's
//! fixed settings with one forecaster) gets a Gaussian process per objective and per
//! limited metric over (its searched parameters, the simulation variant's settings), so
//! that what one simulation variant teaches carries over to the others. A candidate's
//! worth is the hypervolume its optimistic estimate (mean − κ·sd) adds to its simulation
//! variant's current front, times the chance that it meets the limits; a dominated
//! estimate scores minus its distance to the front. A batch is filled greedily, each pick
//! added to its model at its predicted mean ("kriging believer") before the next.
//!
//! Written here rather than taken from a crate: the multi-objective crates (nsga_rs,
//! math-optimisation's NSGA-II, scirs2-optimize) are evolutionary and run their own
//! evaluation loop — they need population × generations evaluations (thousands) and offer
//! no ask/tell step that the sweep machinery could run in checkpointed, parallel batches;
//! a tuning budget is tens to hundreds of simulations.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal};

use super::gp::Gp;
use super::pareto;
use crate::rng::{derive_seed, Stream};

/// Optimism of the estimate a candidate is judged by, in standard deviations.
const KAPPA: f64 = 1.0;
/// How far beyond the worst value seen the search's reference point lies, in ranges of
/// the values seen. Generous: a point beyond the reference adds no hypervolume, and the
/// front's far ends (cheap but risky, safe but dear) lie beyond what a few good
/// evaluations have seen — a tight reference leaves them unexplored.
const REFERENCE_MARGIN: f64 = 1.0;
/// Random candidates per arm and simulation variant each pick.
const RANDOM_CANDIDATES: usize = 96;
/// Candidates around each of an arm's evaluated points, and their spread.
const LOCAL_CANDIDATES: usize = 6;
const LOCAL_SD: f64 = 0.08;

/// What the search knows of the problem.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Per arm: whether each searched parameter is an integer, and its number of values
    /// (integers) — the arm's dimensions.
    pub arms: Vec<Vec<Dim>>,
    /// Per simulation variant: its settings scaled to [0, 1].
    pub sims: Vec<Vec<f64>>,
    /// Evaluations each simulation variant may take.
    pub quota: Vec<usize>,
    /// Upper limits of the limited metrics (in the order of `Eval::limited`).
    pub limits: Vec<f64>,
    pub seed: u64,
}

/// One searched dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dim {
    /// Integer values `0..=steps` mapped onto [0, 1]; `None`: continuous.
    pub steps: Option<u32>,
}

impl Dim {
    pub fn snap(self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self.steps {
            Some(n) if n > 0 => (u * n as f64).round() / n as f64,
            Some(_) => 0.0,
            None => u,
        }
    }
}

/// A point to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub sim: usize,
    pub arm: usize,
    /// One value in [0, 1] per dimension of the arm.
    pub u: Vec<f64>,
}

/// An evaluated point.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    pub point: Point,
    pub objectives: [f64; 2],
    /// The limited metrics' values.
    pub limited: Vec<f64>,
}

impl Eval {
    pub fn feasible(&self, limits: &[f64]) -> bool {
        self.limited.iter().zip(limits).all(|(v, l)| v <= l)
    }
}

/// The first batch: each arm at the middle of its space, arms spread over the simulation
/// variants in turn.
pub fn initial(p: &Problem) -> Vec<Point> {
    p.arms
        .iter()
        .enumerate()
        .map(|(a, dims)| Point {
            sim: a % p.sims.len(),
            arm: a,
            u: dims.iter().map(|d| d.snap(0.5)).collect(),
        })
        .collect()
}

/// A monotone transform per output: log(1 + v) when every value seen is ≥ 0 (costs and
/// counts vary over orders of magnitude), else the value itself.
#[derive(Debug, Clone, Copy)]
struct Transform {
    log: bool,
}

impl Transform {
    fn of(values: impl Iterator<Item = f64>) -> Transform {
        let mut any = false;
        let mut log = true;
        for v in values {
            any = true;
            log &= v >= 0.0;
        }
        Transform { log: log && any }
    }
    fn fwd(self, v: f64) -> f64 {
        if self.log {
            v.ln_1p()
        } else {
            v
        }
    }
    fn inv(self, v: f64) -> f64 {
        if self.log {
            v.exp_m1()
        } else {
            v
        }
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// The models of one arm: one per output (the two objectives, then each limited metric).
struct ArmModels {
    gps: Vec<Gp>,
    /// Training inputs and transformed outputs, to add believed points to.
    x: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    prior: Vec<(f64, f64)>,
}

struct Models {
    arms: Vec<ArmModels>,
    transforms: Vec<Transform>,
}

fn input(p: &Problem, pt: &Point) -> Vec<f64> {
    pt.u.iter().chain(&p.sims[pt.sim]).copied().collect()
}

fn outputs(e: &Eval) -> Vec<f64> {
    e.objectives.iter().chain(&e.limited).copied().collect()
}

impl Models {
    fn fit(p: &Problem, evals: &[Eval]) -> Models {
        let n_out = 2 + p.limits.len();
        let transforms: Vec<Transform> = (0..n_out)
            .map(|o| Transform::of(evals.iter().map(|e| outputs(e)[o])))
            .collect();
        let all: Vec<Vec<f64>> = (0..n_out)
            .map(|o| {
                evals
                    .iter()
                    .map(|e| transforms[o].fwd(outputs(e)[o]))
                    .collect()
            })
            .collect();
        let global: Vec<(f64, f64)> = all
            .iter()
            .map(|v| {
                let (m, s) = mean_sd(v);
                // One point, or all alike: a spread of the order of the value itself.
                let s = if s > 1e-12 { s } else { 0.5 * m.abs() + 1.0 };
                (m, s)
            })
            .collect();
        let arms = (0..p.arms.len())
            .map(|a| {
                let mine: Vec<&Eval> = evals.iter().filter(|e| e.point.arm == a).collect();
                let x: Vec<Vec<f64>> = mine.iter().map(|e| input(p, &e.point)).collect();
                let y: Vec<Vec<f64>> = (0..n_out)
                    .map(|o| {
                        mine.iter()
                            .map(|e| transforms[o].fwd(outputs(e)[o]))
                            .collect()
                    })
                    .collect();
                let prior: Vec<(f64, f64)> = (0..n_out)
                    .map(|o| {
                        let m = if y[o].is_empty() {
                            global[o].0
                        } else {
                            mean_sd(&y[o]).0
                        };
                        (m, global[o].1)
                    })
                    .collect();
                let gps = (0..n_out)
                    .map(|o| Gp::fit(x.clone(), &y[o], prior[o].0, prior[o].1, None))
                    .collect();
                ArmModels { gps, x, y, prior }
            })
            .collect();
        Models { arms, transforms }
    }

    /// Adds a point at its predicted means, keeping each model's length scale.
    fn believe(&mut self, p: &Problem, pt: &Point) {
        let z = input(p, pt);
        let m = &mut self.arms[pt.arm];
        let means: Vec<f64> = m.gps.iter().map(|g| g.predict(&z).0).collect();
        m.x.push(z);
        for (o, mu) in means.into_iter().enumerate() {
            m.y[o].push(mu);
            let length = m.gps[o].length();
            m.gps[o] = Gp::fit(
                m.x.clone(),
                &m.y[o],
                m.prior[o].0,
                m.prior[o].1,
                Some(length),
            );
        }
    }

    /// Predicted mean and sd (transformed scale) of every output at `pt`.
    fn predict(&self, p: &Problem, pt: &Point) -> Vec<(f64, f64)> {
        let z = input(p, pt);
        self.arms[pt.arm]
            .gps
            .iter()
            .map(|g| g.predict(&z))
            .collect()
    }
}

/// One simulation variant's picture: its feasible front and the scales it is judged in.
struct SimFront {
    front: Vec<[f64; 2]>,
    hv: f64,
    reference: [f64; 2],
    scale: [f64; 2],
}

fn sim_front(p: &Problem, evals: &[Eval], believed: &[[f64; 2]], s: usize) -> SimFront {
    let here: Vec<&Eval> = evals.iter().filter(|e| e.point.sim == s).collect();
    // Scales and reference from every evaluation (all variants and arms): a reference
    // just beyond this variant's own, mostly good, points would make the front's far
    // ends (cheap but risky, safe but dear) worth nothing and never be explored.
    let pool: Vec<[f64; 2]> = evals.iter().map(|e| e.objectives).collect();
    let mut feasible: Vec<[f64; 2]> = here
        .iter()
        .filter(|e| e.feasible(&p.limits))
        .map(|e| e.objectives)
        .collect();
    feasible.extend_from_slice(believed);
    let mut scale = [1.0; 2];
    let mut reference = [0.0; 2];
    for j in 0..2 {
        let lo = pool.iter().map(|q| q[j]).fold(f64::INFINITY, f64::min);
        let hi = pool.iter().map(|q| q[j]).fold(f64::NEG_INFINITY, f64::max);
        let r = hi - lo;
        scale[j] = if r > 1e-12 { r } else { 0.1 * hi.abs() + 1.0 };
        let top = feasible
            .iter()
            .map(|q| q[j])
            .fold(f64::NEG_INFINITY, f64::max)
            .max(hi);
        reference[j] = top + REFERENCE_MARGIN * scale[j];
    }
    let front: Vec<[f64; 2]> = pareto::front(&feasible)
        .into_iter()
        .map(|i| feasible[i])
        .collect();
    SimFront {
        hv: pareto::hypervolume(&front, reference),
        front,
        reference,
        scale,
    }
}

/// The candidate's worth (higher is better).
fn worth(p: &Problem, models: &Models, f: &SimFront, pt: &Point) -> f64 {
    let pred = models.predict(p, pt);
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let feasible: f64 = p
        .limits
        .iter()
        .enumerate()
        .map(|(k, &limit)| {
            let (mu, sd) = pred[2 + k];
            let t = models.transforms[2 + k];
            let lim = t.fwd(limit);
            if sd > 1e-12 {
                normal.cdf((lim - mu) / sd)
            } else if mu <= lim {
                1.0
            } else {
                0.0
            }
        })
        .product();
    if f.front.is_empty() {
        return feasible;
    }
    let q: [f64; 2] = std::array::from_fn(|j| {
        let (mu, sd) = pred[j];
        models.transforms[j].inv(mu - KAPPA * sd)
    });
    let mut with = f.front.clone();
    with.push(q);
    let gain = (pareto::hypervolume(&with, f.reference) - f.hv) / (f.scale[0] * f.scale[1]);
    if gain > 0.0 {
        gain * feasible
    } else {
        -pareto::dominated_by(q, &f.front, f.scale) - (1.0 - feasible)
    }
}

/// A point's identity for de-duplication (its values' bits).
type Key = (usize, usize, Vec<u64>);

fn key(pt: &Point) -> Key {
    (pt.sim, pt.arm, pt.u.iter().map(|v| v.to_bits()).collect())
}

/// The batch of round `round`: the initial design first, then [`propose`]d points.
pub fn next_batch(p: &Problem, evals: &[Eval], round: usize, batch: usize) -> Vec<Point> {
    if round == 0 {
        initial(p)
    } else {
        propose(p, evals, round, batch)
    }
}

/// The next batch of at most `batch` points (fewer when the quotas or the space run out;
/// none when the search is over).
pub fn propose(p: &Problem, evals: &[Eval], round: usize, batch: usize) -> Vec<Point> {
    let mut used: Vec<usize> = vec![0; p.sims.len()];
    for e in evals {
        used[e.point.sim] += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(p.seed, round as u64, Stream::Tune));
    // Candidates: random points of every arm, and points near every evaluated one.
    let mut base: Vec<(usize, Vec<f64>)> = Vec::new();
    for (a, dims) in p.arms.iter().enumerate() {
        if dims.is_empty() {
            base.push((a, Vec::new()));
            continue;
        }
        for _ in 0..RANDOM_CANDIDATES {
            base.push((a, dims.iter().map(|d| d.snap(rng.random())).collect()));
        }
        for e in evals.iter().filter(|e| e.point.arm == a) {
            for _ in 0..LOCAL_CANDIDATES {
                let u = dims
                    .iter()
                    .zip(&e.point.u)
                    .map(|(d, &x)| {
                        let g: f64 = rng.sample(rand_distr::StandardNormal);
                        d.snap(x + LOCAL_SD * g)
                    })
                    .collect();
                base.push((a, u));
            }
        }
    }
    let mut seen: std::collections::HashSet<Key> = evals.iter().map(|e| key(&e.point)).collect();
    let mut candidates: Vec<Point> = Vec::new();
    for s in 0..p.sims.len() {
        for (a, u) in &base {
            let pt = Point {
                sim: s,
                arm: *a,
                u: u.clone(),
            };
            if seen.insert(key(&pt)) {
                candidates.push(pt);
            }
        }
    }
    let mut models = Models::fit(p, evals);
    let mut believed: Vec<Vec<[f64; 2]>> = vec![Vec::new(); p.sims.len()];
    // At most an even share of the batch per variant: a variant's evaluations spread
    // over the rounds, each informed by what the others have taught the models since.
    let share = batch.div_ceil(p.sims.len());
    let mut picked: Vec<usize> = vec![0; p.sims.len()];
    let mut out = Vec::new();
    while out.len() < batch {
        let fronts: Vec<SimFront> = (0..p.sims.len())
            .map(|s| sim_front(p, evals, &believed[s], s))
            .collect();
        let best = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| used[c.sim] < p.quota[c.sim] && picked[c.sim] < share)
            .map(|(i, c)| (i, worth(p, &models, &fronts[c.sim], c)))
            .fold(None, |acc: Option<(usize, f64)>, (i, w)| match acc {
                Some((_, bw)) if bw >= w => acc,
                _ => Some((i, w)),
            });
        let Some((i, _)) = best else { break };
        let pt = candidates.remove(i);
        let pred = models.predict(p, &pt);
        let within = p
            .limits
            .iter()
            .enumerate()
            .all(|(k, &l)| pred[2 + k].0 <= models.transforms[2 + k].fwd(l));
        if within {
            believed[pt.sim].push(std::array::from_fn(|j| models.transforms[j].inv(pred[j].0)));
        }
        models.believe(p, &pt);
        used[pt.sim] += 1;
        picked[pt.sim] += 1;
        out.push(pt);
    }
    out
}

#[cfg(test)]
mod tests;
