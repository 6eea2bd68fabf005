//! What each fuzz target loads, shared by the byte-mutation harness (tests/fuzz.rs) and
//! the libFuzzer targets (fuzz/fuzz_targets/): the same settings for the same seed.

use std::path::Path;

use scalesim::trace::{self, TraceSpec};

/// The CSV trace target (seed trace.csv): a regressor, zero as missing.
pub fn csv_trace(p: &Path) -> TraceSpec {
    TraceSpec {
        regressors: vec!["is_event".into()],
        gaps: trace::GapPolicy::Missing,
        missing_values: vec![0.0],
        max_steps: Some(1_000_000),
        ..TraceSpec::for_path(p)
    }
}

/// The Parquet trace target (seed trace.parquet).
pub fn parquet_trace(p: &Path) -> TraceSpec {
    TraceSpec {
        value_column: Some("req_per_min".into()),
        gaps: trace::GapPolicy::Interpolate,
        max_steps: Some(1_000_000),
        ..TraceSpec::for_path(p)
    }
}

/// The request-log target (seed requests.csv): millisecond arrivals with token sizes.
pub fn request_log(p: &Path) -> TraceSpec {
    TraceSpec {
        timestamp_column: "timestamp_ms".into(),
        timestamp_unit: trace::TimestampUnit::Ms,
        per_request: true,
        size_columns: vec!["input_tokens".into(), "output_tokens".into()],
        max_steps: Some(1_000_000),
        ..TraceSpec::for_path(p)
    }
}

/// The forecast-file target (seed forecast.csv) against `w`: Ok or an error.
pub fn load_forecast(p: &Path, w: &scalesim::workload::Workload) {
    let _ = trace::forecast_file::load(
        p,
        w,
        "timestamp",
        "yhat",
        Some("yhat_lower"),
        Some("yhat_upper"),
        0.8,
    );
}
