//! The one progress-bar factory: hidden when stderr is not a terminal or with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `len` items.
pub fn bar(len: u64, label: &str, quiet: bool) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} cells ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    pb
}

/// Progress for a log, when stderr is not a terminal (the bar is hidden there): a plain
/// line each time another tenth of a sweep of at least 1,000 cells is done.
pub struct LogLines {
    label: String,
    total: u64,
    tenths: u64,
    on: bool,
}

impl LogLines {
    pub fn new(total: u64, label: &str, quiet: bool) -> LogLines {
        LogLines {
            label: label.to_string(),
            total,
            tenths: 0,
            on: !quiet && total >= 1000 && !std::io::stderr().is_terminal(),
        }
    }
    /// Records that `done` cells are finished.
    pub fn at(&mut self, done: u64) {
        let tenths = done * 10 / self.total.max(1);
        if self.on && tenths > self.tenths {
            self.tenths = tenths;
            eprintln!("{}: {done} of {} cells done", self.label, self.total);
        }
    }
}
