#![no_main]
#[path = "common.rs"]
mod common;
#[path = "../../tests/common/fuzz_specs.rs"]
mod fuzz_specs;

// Set SCALESIM_SIM_BINARY to a release `sim` (scripts/fuzz.sh does): the loader then reads
// each file in a probe child first, as `sim` does, so polars' known abort on a corrupt
// page size is an error here too and the fuzzer looks for the next finding.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = common::file("t.parquet", data);
    common::load_trace(fuzz_specs::parquet_trace(&p));
});
