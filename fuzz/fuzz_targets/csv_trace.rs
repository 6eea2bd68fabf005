#![no_main]
#[path = "common.rs"]
mod common;

use scalesim::trace::{self, TraceSpec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = common::file("t.csv", data);
    common::load_trace(TraceSpec {
        regressors: vec!["is_event".into()],
        gaps: trace::GapPolicy::Missing,
        missing_values: vec![0.0],
        max_steps: Some(1_000_000),
        ..TraceSpec::for_path(p)
    });
});
