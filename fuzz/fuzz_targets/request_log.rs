#![no_main]
#[path = "common.rs"]
mod common;
#[path = "../../tests/common/fuzz_specs.rs"]
mod fuzz_specs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = common::file("r.csv", data);
    common::load_trace(fuzz_specs::request_log(&p));
});
