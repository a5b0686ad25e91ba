//! The clap (derive) definition of ringlb's command line, its value parsers, and the checks
//! clap cannot express; each command's flags turn into a [`Command`] here.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgGroup, Args, Parser, Subcommand};

use super::{
    usage_error, BenchMemberArgs, CliError, Command, DemoArgs, DemoHttps, RunSource, MAX_BODY_BYTES,
};
use crate::config::{self, IoDriver, LbMethod};

const EXAMPLES: &str = "\
Examples:
  ringlb run -c /etc/ringlb/ringlb.toml
  ringlb run --listen 127.0.0.1:8080 --workers 1 --member http://127.0.0.1:9001,route=node1 --member http://127.0.0.1:9002,route=node2,loadfactor=3 --stickysession 'JSESSIONID|jsessionid'
  ringlb check -c ringlb.toml
  ringlb check -c ringlb.toml --diff http://127.0.0.1:8081
  ringlb demo --listen 127.0.0.1:8080 --member-port 8180 --workers 2
  ringlb demo --https 127.0.0.1:8443 --cert demo.crt --key demo.key
  ringlb bench-member --listen 127.0.0.1:9002 --route node2 --body-bytes 1048576
  ringlb import httpd /etc/apache2/apache2.conf > ringlb.toml";

/// Thread-per-core HTTP load balancer with Apache mod_proxy_balancer / mod_jk semantics
#[derive(Debug, Parser)]
#[command(name = "ringlb", version, after_help = EXAMPLES)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Sub>,
}

/// The commands. A new one: a variant here (its doc comment is its help line), its flags
/// struct, and its arm in [`super::parse`].
#[derive(Debug, Subcommand)]
pub(super) enum Sub {
    /// Serve, configured by a TOML file or by flags (one balancer "cluster" at /)
    Run(RunFlags),
    /// Validate a config file and print the effective configuration (defaults filled in), or
    /// with --diff what reloading it in place of OLD would change
    Check(CheckFlags),
    /// Start demo members on loopback and a balancer in front of them
    Demo(DemoFlags),
    /// A fast fixed-response member for benchmarks (perf/bench.sh)
    BenchMember(BenchMemberFlags),
    /// Translate an httpd (mod_proxy_balancer, mod_jk), mod_jk or mod_jk2 configuration: the
    /// ringlb TOML on stdout, one line per directive on stderr (imported, approximated: how,
    /// ignored: why; each with file:line)
    #[command(subcommand)]
    Import(super::import::ImportKind),
    /// Zero-downtime binary upgrade of a running ringlb: send it SIGUSR2 (it starts the binary
    /// at its path on its listening sockets) and wait until the new process serves
    Upgrade(UpgradeFlags),
    /// Print the version
    Version,
}

/// `--workers N|auto`: `None` is one per CPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct Workers(Option<usize>);

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["config", "member"])))]
pub(super) struct RunFlags {
    /// TOML config file; cannot be combined with the other flags
    #[arg(short = 'c', long = "config", value_name = "FILE",
          conflicts_with_all = ["member", "listen", "workers", "io_driver", "stickysession", "lbmethod"])]
    config: Option<PathBuf>,
    /// A member: URL[,route=ROUTE][,loadfactor=F], repeatable (1 to 64). URL is
    /// http://IP[:PORT], http://[IPv6][:PORT] or http://localhost[:PORT]; ROUTE is the Tomcat
    /// jvmRoute; F is 1..100, decimals allowed [1]
    #[arg(long, value_name = "SPEC")]
    member: Vec<String>,
    /// Listen on IP:PORT, repeatable [127.0.0.1:8080]
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    listen: Vec<SocketAddr>,
    /// Worker threads, 1..1024 [auto: one per CPU]
    #[arg(long, value_name = "N|auto", value_parser = parse_workers)]
    workers: Option<Workers>,
    /// auto, io_uring or epoll [auto]
    #[arg(long, value_name = "DRIVER", value_parser = parse_io_driver)]
    io_driver: Option<IoDriver>,
    /// Session names COOKIE|URLNAME, or one name for both [none]
    #[arg(long, value_name = "NAMES")]
    stickysession: Option<String>,
    /// byrequests, bytraffic or bybusyness [byrequests]
    #[arg(long, value_name = "METHOD", value_parser = parse_lbmethod)]
    lbmethod: Option<LbMethod>,
}

impl RunFlags {
    pub(super) fn into_command(self) -> Result<Command, CliError> {
        if let Some(path) = self.config {
            return Ok(Command::Run(RunSource::File(path)));
        }
        let mut listen = self.listen;
        if listen.is_empty() {
            listen.push(config::DEFAULT_LISTEN);
        }
        let config = config::from_flags(
            listen,
            self.workers.and_then(|w| w.0),
            self.io_driver.unwrap_or(IoDriver::Auto),
            &self.member,
            self.stickysession.as_deref(),
            self.lbmethod.unwrap_or(LbMethod::ByRequests),
        )
        .map_err(CliError::Config)?;
        Ok(Command::Run(RunSource::Flags(Box::new(config))))
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["config", "pid_file"])))]
pub(super) struct UpgradeFlags {
    /// The running instance's TOML config file: its pid_file names the process
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The pid file that names the process
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
}

impl UpgradeFlags {
    pub(super) fn into_command(self) -> Result<Command, CliError> {
        match (self.config, self.pid_file) {
            (_, Some(pid_file)) => Ok(Command::Upgrade(super::Upgrade::PidFile(pid_file))),
            (Some(config), None) => Ok(Command::Upgrade(super::Upgrade::Config(config))),
            (None, None) => Err(CliError::Usage(
                "ringlb upgrade: -c FILE or --pid-file FILE is required".into(),
            )),
        }
    }
}

#[derive(Debug, Args)]
pub(super) struct CheckFlags {
    /// TOML config file to validate
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: PathBuf,
    /// Instead of printing it, list what changes from OLD, one line each (+ added, - removed,
    /// ~ changed, ! orphaned route): OLD is a config file, or the admin URL http://HOST:PORT
    /// of a running ringlb, whose GET /api/config gives its effective config
    #[arg(long, value_name = "OLD", value_parser = parse_diff)]
    diff: Option<String>,
}

impl CheckFlags {
    pub(super) fn into_command(self) -> Command {
        Command::Check {
            config: self.config,
            diff: self.diff,
        }
    }
}

#[derive(Debug, Args)]
pub(super) struct DemoFlags {
    /// Balancer address IP:PORT [127.0.0.1:8080]
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    listen: Option<SocketAddr>,
    /// First demo member port; members use the ports after it [8180]
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    member_port: Option<u16>,
    /// Worker threads, 1..1024 [auto]
    #[arg(long, value_name = "N|auto", value_parser = parse_bounded_workers)]
    workers: Option<Workers>,
    /// auto, io_uring or epoll [auto]
    #[arg(long, value_name = "DRIVER", value_parser = parse_io_driver)]
    io_driver: Option<IoDriver>,
    /// Also serve TLS on IP:PORT (HTTP/2 and HTTP/1.1 by ALPN); needs --cert and --key [none]
    #[arg(long, value_name = "ADDR", value_parser = parse_addr, requires_all = ["cert", "key"])]
    https: Option<SocketAddr>,
    /// PEM certificate for --https, then its chain
    #[arg(long, value_name = "FILE", value_parser = parse_file, requires_all = ["https", "key"])]
    cert: Option<PathBuf>,
    /// PEM private key for --https (PKCS#8, PKCS#1 RSA or SEC1 EC)
    #[arg(long, value_name = "FILE", value_parser = parse_file, requires_all = ["https", "cert"])]
    key: Option<PathBuf>,
}

impl DemoFlags {
    pub(super) fn into_command(self) -> Result<Command, CliError> {
        let d = DemoArgs::default();
        let listen = self.listen.unwrap_or(d.listen);
        let https = match (self.https, self.cert, self.key) {
            (Some(https), Some(cert), Some(key)) => {
                // The workers would share one port between both listeners in silence
                // (SO_REUSEPORT), or the admin listener (the next port) would fail to bind.
                let admin = SocketAddr::new(listen.ip(), listen.port().saturating_add(1));
                let taken = if listen.port() == 0 {
                    None
                } else if https == listen {
                    Some("also the `--listen` address")
                } else if https == admin {
                    Some("the demo's admin address (the `--listen` port + 1)")
                } else {
                    None
                };
                if let Some(taken) = taken {
                    return Err(usage_error(
                        "demo",
                        ErrorKind::ArgumentConflict,
                        format!("`--https` {https} is {taken}; give another port"),
                    ));
                }
                Some(DemoHttps {
                    listen: https,
                    cert,
                    key,
                })
            }
            // clap's `requires_all` lets through all three or none.
            _ => None,
        };
        Ok(Command::Demo(DemoArgs {
            listen,
            member_port: self.member_port.unwrap_or(d.member_port),
            workers: self.workers.map_or(d.workers, |w| w.0),
            io_driver: self.io_driver.unwrap_or(d.io_driver),
            https,
        }))
    }
}

#[derive(Debug, Args)]
pub(super) struct BenchMemberFlags {
    /// Listen on IP:PORT
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    listen: SocketAddr,
    /// Response body size, 0..1073741824 [13: Hello, world!]
    #[arg(long, value_name = "N", value_parser = parse_body_bytes)]
    body_bytes: Option<usize>,
    /// Sent back as the X-Member header [member]
    #[arg(long, value_name = "NAME", value_parser = parse_route)]
    route: Option<String>,
    /// Worker threads, 1..1024 [1]
    #[arg(long, value_name = "N|auto", value_parser = parse_bounded_workers)]
    workers: Option<Workers>,
    /// auto, io_uring or epoll [auto]
    #[arg(long, value_name = "DRIVER", value_parser = parse_io_driver)]
    io_driver: Option<IoDriver>,
}

impl BenchMemberFlags {
    pub(super) fn into_command(self) -> Command {
        Command::BenchMember(BenchMemberArgs {
            listen: self.listen,
            body_bytes: self
                .body_bytes
                .unwrap_or(crate::benchmember::DEFAULT_BODY.len()),
            route: self.route.unwrap_or_else(|| "member".to_owned()),
            workers: self.workers.map_or(Some(1), |w| w.0),
            io_driver: self.io_driver.unwrap_or(IoDriver::Auto),
        })
    }
}

// Value parsers: clap prefixes each message with the value and the flag.

fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| "expects IP:PORT such as 127.0.0.1:8080".to_owned())
}

/// `auto` -> `None`; a positive integer -> `Some(n)` (the upper bound is the config's check).
fn parse_workers(value: &str) -> Result<Workers, String> {
    if value == "auto" {
        return Ok(Workers(None));
    }
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Workers(Some(n))),
        _ => Err("expects a number 1..1024 or auto".to_owned()),
    }
}

/// `--workers N|auto` for the commands that start threads themselves, at most
/// [`config::MAX_WORKERS`].
fn parse_bounded_workers(value: &str) -> Result<Workers, String> {
    let n = parse_workers(value)?;
    if n.0.is_some_and(|n| n > config::MAX_WORKERS) {
        return Err(format!("is at most {}", config::MAX_WORKERS));
    }
    Ok(n)
}

fn parse_io_driver(value: &str) -> Result<IoDriver, String> {
    IoDriver::from_name(value).ok_or_else(|| "expects auto, io_uring or epoll".to_owned())
}

fn parse_lbmethod(value: &str) -> Result<LbMethod, String> {
    LbMethod::from_name(value)
        .ok_or_else(|| "expects byrequests, bytraffic or bybusyness".to_owned())
}

fn parse_diff(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("expects a config file or http://HOST:PORT".to_owned());
    }
    Ok(value.to_owned())
}

/// A file flag's value: any non-empty path (whether it can be read is checked at start).
pub(super) fn parse_file(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("expects a file path".to_owned());
    }
    Ok(PathBuf::from(value))
}

fn parse_body_bytes(value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n <= MAX_BODY_BYTES)
        .ok_or_else(|| format!("expects a number 0..{MAX_BODY_BYTES}"))
}

fn parse_route(value: &str) -> Result<String, String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("expects a visible ASCII name".to_owned());
    }
    Ok(value.to_owned())
}
