//! scalesim: predictive auto-scaling research toolkit.
//!
//! Data flow: a [`workload`] (generated or loaded by [`trace`]) is forecast by
//! [`forecast`] models rolled over a test window; [`policy`] objects turn forecasts and
//! observations into replica counts; [`sim`] replays the window through a discrete-event
//! cluster; [`metrics`] scores each run; [`scenario`] and [`sweep`] expand parameter grids
//! and run them in parallel. `forecast`, `policy`, `sim` and `metrics` do no I/O.

// Range checks are written `!(x > 0.0)` on purpose: they also reject NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod cli;
mod entry;
pub mod error;
pub mod forecast;
pub mod live;
pub mod lockfile;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod service;
pub mod sim;
pub mod stats;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod tune;
pub mod validation;
pub mod workload;

pub use error::{Error, Result};
