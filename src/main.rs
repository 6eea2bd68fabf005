//! The `sim` binary: parse arguments, run, report the error chain, pick the exit code.

use clap::Parser;

fn main() {
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
