//! Command-line parsing (hand-written; the grammar is small). STUB: interface fixed.

use std::path::PathBuf;

use crate::config::{Config, ConfigError};

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `ringlb run -c FILE` or the config-free `ringlb run --listen ... --member ...`.
    Run(RunSource),
    /// `ringlb check -c FILE`.
    Check {
        config: PathBuf,
    },
    /// `ringlb demo [--listen ADDR] [--workers N] [--io-driver D]`.
    Demo(DemoArgs),
    Help,
    Version,
}

/// Where `run` gets its configuration.
#[derive(Debug, PartialEq)]
pub enum RunSource {
    File(PathBuf),
    /// Built from flags; already validated.
    Flags(Box<Config>),
}

/// Options of `ringlb demo`.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct DemoArgs {
    pub listen: std::net::SocketAddr,
    /// First member port; members use consecutive ports from here.
    pub member_port: u16,
    pub workers: Option<usize>,
    pub io_driver: crate::config::IoDriver,
}

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let _ = args;
    Ok(Command::Help)
}

/// A command-line mistake, or a config error from flags.
#[derive(Debug, PartialEq)]
pub enum CliError {
    Usage(String),
    Config(ConfigError),
}

/// The `--help` text.
pub const USAGE: &str = "usage: ringlb run -c FILE | ringlb check -c FILE | ringlb demo";
