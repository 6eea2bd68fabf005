//! `sim tune`: policy parameters given as ranges are searched for the Pareto set of two
//! objectives (cost against under-provisioning, by default), under an evaluation budget
//! and optional limits, on the sweep's machinery: one preparation (shared forecasts),
//! batches of cells in parallel, every batch checkpointed so that `--resume` continues
//! an interrupted search, and the Pareto set written as a normal sweep folder.

pub mod gp;
pub mod pareto;
pub mod run;
pub mod search;
pub mod space;

pub use run::{load, run, Tune, TuneResult};
