#![no_main]
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = common::file("s.toml", data);
    if let Ok(sc) = scalesim::scenario::load(&p) {
        // A parsed scenario must also prepare (trace, window, simulation) or say why.
        let _ = scalesim::sweep::prepare(&sc);
    }
});
