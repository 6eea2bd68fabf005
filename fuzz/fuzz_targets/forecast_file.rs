#![no_main]
#[path = "common.rs"]
mod common;
#[path = "../../tests/common/fuzz_specs.rs"]
mod fuzz_specs;

use std::sync::OnceLock;

use scalesim::trace::{self, TraceSpec};
use scalesim::workload::Workload;

fn workload() -> &'static Workload {
    static W: OnceLock<Workload> = OnceLock::new();
    W.get_or_init(|| {
        let p = common::file("w.csv", include_bytes!("../../tests/data/fuzz/trace.csv"));
        trace::load(&TraceSpec::for_path(p), "w")
            .expect("seed trace loads")
            .workload
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let w = workload();
    let p = common::file("f.csv", data);
    fuzz_specs::load_forecast(&p, w);
});
