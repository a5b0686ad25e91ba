//! Command-line parsing with `clap` (derive): `args` in, [`Command`] out; no I/O.
//!
//! The grammar is [`args::Cli`]: `run -c FILE` | `run --member SPEC... [FLAGS]` (the two forms
//! do not mix), `check -c FILE [--diff OLD]`, `demo`, `bench-member`, `import httpd|modjk|modjk2
//! FILE`, `version`, `help [COMMAND]`; every `--flag VALUE` may also be written `--flag=VALUE`.
//! A new command is a variant of [`args::Sub`] with its flags struct and a line in
//! [`parse`]. The man page (`cargo run --example manpage`) is rendered from [`command`].
//!
//! A mistake in the command line is [`CliError::Usage`]: clap's message, with the usage of the
//! one command it concerns. A flag-built config that fails validation is [`CliError::Config`]
//! (file `<command line>`, key = the flag).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use crate::config::{self, Config, ConfigError, IoDriver};

mod args;
mod import;
#[cfg(test)]
mod tests;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `ringlb run -c FILE` or the config-free `ringlb run --listen ... --member ...`.
    Run(RunSource),
    /// `ringlb check -c FILE [--diff OLD]`.
    Check {
        config: PathBuf,
        /// The config to compare with: a file path, or an admin URL (`http://HOST:PORT`) whose
        /// `GET /api/config` gives the running config.
        diff: Option<String>,
    },
    /// `ringlb demo [--listen ADDR] [--workers N] [--io-driver D] [--https ADDR --cert FILE
    /// --key FILE]`.
    Demo(DemoArgs),
    /// `ringlb bench-member --listen ADDR [--body-bytes N] [--route NAME] [--workers N]`.
    BenchMember(BenchMemberArgs),
    /// `ringlb import httpd|modjk|modjk2 FILE [FLAGS]`.
    Import(crate::import::Source),
    /// `ringlb upgrade -c FILE | --pid-file FILE`.
    Upgrade(Upgrade),
    /// Help was asked for (`-h`, `--help`, `help [COMMAND]`, or no arguments): the text to
    /// print, the whole program's or one command's.
    Help(String),
    Version,
}

/// Which process `ringlb upgrade` upgrades.
#[derive(Debug, PartialEq)]
pub enum Upgrade {
    /// The one the `pid_file` of this config file names.
    Config(PathBuf),
    /// The one this pid file names.
    PidFile(PathBuf),
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
    /// `--https ADDR --cert FILE --key FILE`: a TLS listener too.
    pub https: Option<DemoHttps>,
}

/// The demo's TLS listener (`--https`, `--cert`, `--key`): the default ALPN (`h2`,
/// `http/1.1`) and protocols.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct DemoHttps {
    pub listen: SocketAddr,
    /// PEM: the certificate, then its chain.
    pub cert: PathBuf,
    /// PEM: its private key.
    pub key: PathBuf,
}

impl Default for DemoArgs {
    /// `127.0.0.1:8080`, members from port 8180, one worker per CPU, driver `auto`, no TLS.
    fn default() -> Self {
        DemoArgs {
            listen: config::DEFAULT_LISTEN,
            member_port: 8180,
            workers: None,
            io_driver: IoDriver::Auto,
            https: None,
        }
    }
}

/// Options of `ringlb bench-member` (the fixed-response member of `perf/bench.sh`).
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct BenchMemberArgs {
    pub listen: SocketAddr,
    /// Response body size in bytes [13: `Hello, world!`].
    pub body_bytes: usize,
    /// Sent back as `X-Member: <route>` [member].
    pub route: String,
    /// Worker threads [1]; `None` is one per CPU.
    pub workers: Option<usize>,
    pub io_driver: IoDriver,
}

/// Largest `--body-bytes` (1 GiB).
pub const MAX_BODY_BYTES: usize = 1 << 30;

/// The clap definition of the whole command line (for help and the man page).
pub fn command() -> clap::Command {
    args::Cli::command()
}

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let argv = std::iter::once("ringlb").chain(args.iter().map(String::as_str));
    let cli = match args::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp => Ok(Command::Help(e.render().to_string())),
                ErrorKind::DisplayVersion => Ok(Command::Version),
                _ => Err(CliError::Usage(e.render().to_string())),
            }
        }
    };
    match cli.command {
        None => Ok(Command::Help(command().render_help().to_string())),
        Some(args::Sub::Run(flags)) => flags.into_command(),
        Some(args::Sub::Check(flags)) => Ok(flags.into_command()),
        Some(args::Sub::Demo(flags)) => flags.into_command(),
        Some(args::Sub::BenchMember(flags)) => Ok(flags.into_command()),
        Some(args::Sub::Import(kind)) => Ok(Command::Import(kind.into_source())),
        Some(args::Sub::Upgrade(flags)) => flags.into_command(),
        Some(args::Sub::Version) => Ok(Command::Version),
    }
}

/// A usage error found after clap's own checks, shown as clap shows its own: the message,
/// then the usage of `subcommand` only.
fn usage_error(subcommand: &str, kind: ErrorKind, message: String) -> CliError {
    let mut cmd = command();
    cmd.build();
    let error = match cmd.find_subcommand_mut(subcommand) {
        Some(sub) => sub.error(kind, message),
        None => cmd.error(kind, message),
    };
    CliError::Usage(error.render().to_string())
}

/// A command-line mistake, or a config error from flags.
#[derive(Debug, PartialEq)]
pub enum CliError {
    /// The complete text to print: the message and the command's usage.
    Usage(String),
    Config(ConfigError),
}

impl fmt::Display for CliError {
    /// The usage message, or the config error as `file:line: key: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => f.write_str(message),
            CliError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CliError {}

/// `check -c FILE --diff OLD` for a valid `new` (FILE): what reloading it in place of OLD
/// would change. OLD is a config file, or the admin URL of a running ringlb: then the
/// comparison is with its effective configuration, and the operator's overrides it holds are
/// carried as a reload carries them (those the new file ends are listed), so the list is
/// exactly what `POST /api/reload` or `SIGHUP` with FILE would do.
pub fn check_diff(new: &Config, old: &str) -> Result<String, String> {
    if !old.to_ascii_lowercase().starts_with("http://") {
        return Ok(diff_report(&config::load_old(old)?, new));
    }
    let running = config::fetch_running(old)?;
    let overrides = config::remote::fetch_overrides(old)?;
    let overrides: crate::control::Overrides =
        serde_json::from_str::<serde_json::Value>(&overrides)
            .ok()
            .and_then(|v| serde_json::from_value(v.get("overrides")?.clone()).ok())
            .ok_or_else(|| format!("{old}/api/overrides: not an overrides document"))?;
    let plan = crate::control::plan_reload(new, &overrides)
        .map_err(|e| format!("a reload of {} would be refused: {e}", new.source))?;
    let mut out = diff_report(&running, &plan.config);
    for line in &plan.ended {
        out.push_str(&format!(
            "= {line}
"
        ));
    }
    for line in plan.overrides.describe() {
        out.push_str(&format!(
            "= override holds: {line}
"
        ));
    }
    Ok(out)
}

/// The output of `check -c FILE --diff OLD` once both configs are valid: the validation
/// result, then one line per change from `old` to `new` (see [`config::Change`]), or
/// `no changes`.
pub fn diff_report(old: &Config, new: &Config) -> String {
    let changes = config::diff(old, new);
    let mut out = format!("{}: valid; compared with {}\n", new.source, old.source);
    if changes.is_empty() {
        out.push_str("no changes\n");
    }
    for change in &changes {
        out.push_str(&format!("{change}\n"));
    }
    out
}
