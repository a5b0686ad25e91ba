//! The `ringlb` binary: argv -> config -> workers -> wait.

use std::process::ExitCode;
use std::sync::Arc;

use ringlb::cli::{self, CliError, Command, RunSource};
use ringlb::config::{self, Config};
use ringlb::{benchmember, demo, server};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("ringlb {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Check { config }) => match config::load(&config) {
            Ok(cfg) => {
                print!("{cfg}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Run(RunSource::File(path))) => match config::load(&path) {
            Ok(cfg) => run(cfg),
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Run(RunSource::Flags(cfg))) => run(Arc::new(*cfg)),
        Ok(Command::Demo(args)) => match demo::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringlb demo: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::BenchMember(args)) => match benchmember::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringlb bench-member: {e}");
                ExitCode::FAILURE
            }
        },
        Err(CliError::Usage(msg)) => {
            eprintln!("ringlb: {msg}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
        Err(CliError::Config(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn run(cfg: Arc<Config>) -> ExitCode {
    match server::start(cfg.clone()) {
        Ok(handle) => {
            for w in handle.workers() {
                let cpu = w.cpu.map_or("unpinned".to_string(), |c| format!("cpu {c}"));
                eprintln!("ringlb: worker {} on {cpu}, driver {}", w.index, w.driver);
            }
            for addr in handle.local_addrs() {
                eprintln!("ringlb: listening on http://{addr}/ ({})", cfg.source);
            }
            handle.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ringlb: {e}");
            ExitCode::FAILURE
        }
    }
}
