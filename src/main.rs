//! The `sim` binary: parse arguments, run, report the error chain, pick the exit code.

use clap::Parser;

fn main() {
    // The Parquet probe child (see scalesim::trace::probe_parquet): no CLI, no logging.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 3 && args[1] == scalesim::trace::PROBE_COMMAND {
        std::process::exit(scalesim::trace::probe_main(std::path::Path::new(&args[2])));
    }
    let cli = scalesim::cli::Cli::parse();
    scalesim::cli::init_logging(cli.verbose);
    match scalesim::cli::run(cli) {
        Ok(()) => {}
        Err(err) => {
            eprintln!("error: {}", scalesim::cli::error_text(&err));
            std::process::exit(1);
        }
    }
}
