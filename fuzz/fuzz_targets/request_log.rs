#![no_main]
#[path = "common.rs"]
mod common;

use scalesim::trace::{self, TraceSpec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = common::file("r.csv", data);
    common::load_trace(TraceSpec {
        timestamp_column: "timestamp_ms".into(),
        timestamp_unit: trace::TimestampUnit::Ms,
        per_request: true,
        size_columns: vec!["input_tokens".into(), "output_tokens".into()],
        max_steps: Some(1_000_000),
        ..TraceSpec::for_path(p)
    });
});
