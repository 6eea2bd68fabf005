//! What every target shares: the loaders read paths, so each input is written to a file
//! in a per-process folder (on tmpfs where there is one) first.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The per-process folder, with the seed trace a fuzzed scenario refers to.
fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("scalesim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz work folder");
        std::fs::write(
            d.join("trace.csv"),
            include_bytes!("../../tests/data/fuzz/trace.csv"),
        )
        .expect("seed trace");
        d
    })
}

/// `data` written to `name` in the work folder.
pub fn file(name: &str, data: &[u8]) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, data).expect("fuzz input file");
    p
}

/// Loads a trace: `Ok` or an error with a message; a panic or abort is the crash.
pub fn load_trace(spec: scalesim::trace::TraceSpec) {
    if let Err(e) = scalesim::trace::load(&spec, "fuzz") {
        assert!(!e.to_string().is_empty());
    }
}
