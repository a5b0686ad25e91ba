//! Command-line parsing (hand-written; the grammar is small). Pure: `args` in, [`Command`] out.
//!
//! Grammar (every `--flag VALUE` may also be written `--flag=VALUE`; `-h`/`--help` anywhere
//! asks for help):
//! - `run -c FILE` | `run --member SPEC... [--listen ADDR...] [--workers N|auto]
//!   [--io-driver D] [--stickysession NAMES] [--lbmethod M]`; the two forms do not mix.
//! - `check -c FILE [--diff OLD]`, OLD a config file or an admin URL `http://HOST:PORT`
//! - `demo [--listen ADDR] [--member-port PORT] [--workers N|auto] [--io-driver D]
//!   [--https ADDR --cert FILE --key FILE]`, the last three together or not at all
//! - `bench-member --listen ADDR [--body-bytes N] [--route NAME] [--workers N] [--io-driver D]`
//! - `import httpd FILE [-D NAME]... [--server-root DIR]` | `import modjk FILE
//!   [--uriworkermap FILE] [--httpd FILE]` | `import modjk2 FILE` (`cli::import`)
//! - `help`, `-h`, `--help`, nothing -> help; `-V`, `--version`, `version` -> version.
//!
//! Mistakes in the command line are [`CliError::Usage`] naming the flag; a flag-built config
//! that fails validation is [`CliError::Config`] (file `<command line>`, key = the flag).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{self, Config, ConfigError, IoDriver, LbMethod};

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

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let Some((first, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "-V" | "--version" | "version" => Ok(Command::Version),
        "run" => parse_run(rest),
        "check" => parse_check(rest),
        "demo" => parse_demo(rest),
        "bench-member" => parse_bench_member(rest),
        "import" => import::parse_import(rest),
        other if other.starts_with('-') => Err(usage(format!(
            "unknown flag `{other}` before the command; expected run, check, demo, bench-member or import"
        ))),
        other => Err(usage(format!(
            "unknown command `{other}`; expected run, check, demo, bench-member, import or help"
        ))),
    }
}

/// A command-line mistake, or a config error from flags.
#[derive(Debug, PartialEq)]
pub enum CliError {
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

/// The `--help` text.
pub const USAGE: &str = "\
ringlb - thread-per-core HTTP load balancer with Apache mod_proxy_balancer / mod_jk semantics

USAGE:
    ringlb run -c FILE
    ringlb run --member SPEC [--member SPEC ...] [RUN FLAGS]
    ringlb check -c FILE [--diff OLD]
    ringlb demo [DEMO FLAGS]
    ringlb bench-member --listen ADDR [BENCH-MEMBER FLAGS]
    ringlb import httpd FILE [-D NAME]... [--server-root DIR]
    ringlb import modjk WORKERS.PROPERTIES [--uriworkermap FILE] [--httpd FILE]
    ringlb import modjk2 WORKERS2.PROPERTIES
    ringlb help | -h | --help
    ringlb -V | --version

COMMANDS:
    run      Serve, configured by a TOML file or by flags (one balancer \"cluster\" at /)
    check    Validate a config file and print the effective configuration (defaults filled in),
             or with --diff what reloading it in place of OLD would change
    demo     Start demo members on loopback and a balancer in front of them
    bench-member
             A fast fixed-response member for benchmarks (perf/bench.sh)
    import   Translate an httpd (mod_proxy_balancer, mod_jk), mod_jk or mod_jk2 configuration:
             the ringlb TOML on stdout, one line per directive on stderr (imported,
             approximated: how, ignored: why; each with file:line)
    help     Print this text

RUN FLAGS:
    -c, --config FILE       TOML config file; cannot be combined with the flags below
    --member SPEC           A member: URL[,route=ROUTE][,loadfactor=F], repeatable (1 to 64).
                            URL is http://IP[:PORT], http://[IPv6][:PORT] or http://localhost[:PORT];
                            ROUTE is the Tomcat jvmRoute; F is 1..100, decimals allowed [1]
    --listen ADDR           Listen on IP:PORT, repeatable [127.0.0.1:8080]
    --workers N|auto        Worker threads, 1..1024 [auto: one per CPU]
    --io-driver DRIVER      auto, io_uring or epoll [auto]
    --stickysession NAMES   Session names COOKIE|URLNAME, or one name for both [none]
    --lbmethod METHOD       byrequests, bytraffic or bybusyness [byrequests]

CHECK FLAGS:
    -c, --config FILE       TOML config file to validate
    --diff OLD              Instead of printing it, list what changes from OLD, one line each
                            (+ added, - removed, ~ changed, ! orphaned route): OLD is a config
                            file, or the admin URL http://HOST:PORT of a running ringlb, whose
                            GET /api/config gives its effective config

DEMO FLAGS:
    --listen ADDR           Balancer address IP:PORT [127.0.0.1:8080]
    --member-port PORT      First demo member port; members use the ports after it [8180]
    --workers N|auto        Worker threads, 1..1024 [auto]
    --io-driver DRIVER      auto, io_uring or epoll [auto]
    --https ADDR            Also serve TLS on IP:PORT (HTTP/2 and HTTP/1.1 by ALPN); needs
                            --cert and --key [none]
    --cert FILE             PEM certificate for --https, then its chain
    --key FILE              PEM private key for --https (PKCS#8, PKCS#1 RSA or SEC1 EC)

BENCH-MEMBER FLAGS:
    --listen ADDR           Listen on IP:PORT (required)
    --body-bytes N          Response body size, 0..1073741824 [13: Hello, world!]
    --route NAME            Sent back as the X-Member header [member]
    --workers N|auto        Worker threads, 1..1024 [1]
    --io-driver DRIVER      auto, io_uring or epoll [auto]

Every --flag VALUE can also be written --flag=VALUE.

EXAMPLES:
    ringlb run -c /etc/ringlb/ringlb.toml
    ringlb run --listen 127.0.0.1:8080 --workers 1 --member http://127.0.0.1:9001,route=node1 --member http://127.0.0.1:9002,route=node2,loadfactor=3 --stickysession 'JSESSIONID|jsessionid'
    ringlb check -c ringlb.toml
    ringlb check -c ringlb.toml --diff http://127.0.0.1:8081
    ringlb demo --listen 127.0.0.1:8080 --member-port 8180 --workers 2
    ringlb demo --https 127.0.0.1:8443 --cert demo.crt --key demo.key
    ringlb bench-member --listen 127.0.0.1:9002 --route node2 --body-bytes 1048576
";

fn usage(message: String) -> CliError {
    CliError::Usage(message)
}

/// Walks `--flag VALUE` / `--flag=VALUE` pairs of one command.
struct Flags<'a> {
    command: &'static str,
    args: std::slice::Iter<'a, String>,
}

/// One flag as written, with its inline `=VALUE` if any.
struct Flag<'a> {
    name: &'a str,
    inline: Option<&'a str>,
}

impl<'a> Flags<'a> {
    fn new(command: &'static str, args: &'a [String]) -> Self {
        Flags {
            command,
            args: args.iter(),
        }
    }

    /// The next flag; positional words are usage errors.
    fn next_flag(&mut self) -> Result<Option<Flag<'a>>, CliError> {
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if !arg.starts_with('-') || arg == "-" {
            let command = self.command;
            return Err(usage(format!(
                "unexpected argument `{arg}` for `{command}`"
            )));
        }
        Ok(Some(match arg.split_once('=') {
            Some((name, value)) if arg.starts_with("--") => Flag {
                name,
                inline: Some(value),
            },
            _ => Flag {
                name: arg,
                inline: None,
            },
        }))
    }

    /// The flag's value: inline, else the next argument unless that is another `--flag`.
    fn value(&mut self, flag: &Flag<'a>) -> Result<&'a str, CliError> {
        if let Some(value) = flag.inline {
            return Ok(value);
        }
        match self.args.clone().next() {
            Some(next) if !next.starts_with("--") => {
                self.args.next();
                Ok(next)
            }
            _ => Err(usage(format!("`{}` needs a value", flag.name))),
        }
    }

    fn unknown(&self, flag: &Flag<'_>) -> CliError {
        usage(format!(
            "unknown flag `{}` for `{}`",
            flag.name, self.command
        ))
    }
}

/// Stores a single-use flag's value; a second use is a usage error.
fn set_once<T>(slot: &mut Option<T>, value: T, flag: &str) -> Result<(), CliError> {
    if slot.replace(value).is_some() {
        return Err(usage(format!("`{flag}` is given twice")));
    }
    Ok(())
}

fn is_help(flag: &Flag<'_>) -> bool {
    matches!(flag.name, "-h" | "--help") && flag.inline.is_none()
}

fn parse_run(args: &[String]) -> Result<Command, CliError> {
    let mut flags = Flags::new("run", args);
    let mut file: Option<PathBuf> = None;
    let mut listen: Vec<SocketAddr> = Vec::new();
    let mut workers: Option<Option<usize>> = None;
    let mut io_driver: Option<IoDriver> = None;
    let mut members: Vec<String> = Vec::new();
    let mut sticky: Option<String> = None;
    let mut lbmethod: Option<LbMethod> = None;
    // The first flag that only makes sense without a file, for the "cannot combine" error.
    let mut flag_mode: Option<String> = None;
    while let Some(flag) = flags.next_flag()? {
        if is_help(&flag) {
            return Ok(Command::Help);
        }
        if !matches!(flag.name, "-c" | "--config") && flag_mode.is_none() {
            flag_mode = Some(flag.name.to_owned());
        }
        match flag.name {
            "-c" | "--config" => set_once(&mut file, flags.value(&flag)?.into(), flag.name)?,
            "--listen" => listen.push(parse_addr(flags.value(&flag)?, flag.name)?),
            "--workers" => set_once(&mut workers, parse_workers(flags.value(&flag)?)?, flag.name)?,
            "--io-driver" => set_once(
                &mut io_driver,
                parse_io_driver(flags.value(&flag)?)?,
                flag.name,
            )?,
            "--member" => members.push(flags.value(&flag)?.to_owned()),
            "--stickysession" => set_once(&mut sticky, flags.value(&flag)?.to_owned(), flag.name)?,
            "--lbmethod" => {
                let value = flags.value(&flag)?;
                let method = LbMethod::from_name(value).ok_or_else(|| {
                    usage(format!(
                        "`--lbmethod` expects byrequests, bytraffic or bybusyness, found `{value}`"
                    ))
                })?;
                set_once(&mut lbmethod, method, flag.name)?;
            }
            _ => return Err(flags.unknown(&flag)),
        }
    }
    if let Some(path) = file {
        if let Some(other) = flag_mode {
            return Err(usage(format!("`-c` cannot be combined with `{other}`")));
        }
        return Ok(Command::Run(RunSource::File(path)));
    }
    if members.is_empty() {
        return Err(usage(
            "`run` needs `-c FILE` or at least one `--member URL`".to_owned(),
        ));
    }
    if listen.is_empty() {
        listen.push(config::DEFAULT_LISTEN);
    }
    let config = config::from_flags(
        listen,
        workers.flatten(),
        io_driver.unwrap_or(IoDriver::Auto),
        &members,
        sticky.as_deref(),
        lbmethod.unwrap_or(LbMethod::ByRequests),
    )
    .map_err(CliError::Config)?;
    Ok(Command::Run(RunSource::Flags(Box::new(config))))
}

fn parse_check(args: &[String]) -> Result<Command, CliError> {
    let mut flags = Flags::new("check", args);
    let mut file: Option<PathBuf> = None;
    let mut diff: Option<String> = None;
    while let Some(flag) = flags.next_flag()? {
        match flag.name {
            _ if is_help(&flag) => return Ok(Command::Help),
            "-c" | "--config" => set_once(&mut file, flags.value(&flag)?.into(), flag.name)?,
            "--diff" => {
                let value = flags.value(&flag)?;
                if value.is_empty() {
                    return Err(usage(
                        "`--diff` expects a config file or http://HOST:PORT".to_owned(),
                    ));
                }
                set_once(&mut diff, value.to_owned(), flag.name)?;
            }
            _ => return Err(flags.unknown(&flag)),
        }
    }
    match file {
        Some(config) => Ok(Command::Check { config, diff }),
        None => Err(usage("`check` needs `-c FILE`".to_owned())),
    }
}

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

/// `--workers N|auto` for the commands that start threads themselves, at most
/// [`config::MAX_WORKERS`].
fn parse_bounded_workers(value: &str) -> Result<Option<usize>, CliError> {
    let n = parse_workers(value)?;
    if n.is_some_and(|n| n > config::MAX_WORKERS) {
        let max = config::MAX_WORKERS;
        return Err(usage(format!(
            "`--workers` is at most {max}, found `{value}`"
        )));
    }
    Ok(n)
}

fn parse_demo(args: &[String]) -> Result<Command, CliError> {
    let mut flags = Flags::new("demo", args);
    let mut listen = None;
    let mut member_port = None;
    let mut workers = None;
    let mut io_driver = None;
    let mut https = None;
    let mut cert: Option<PathBuf> = None;
    let mut key: Option<PathBuf> = None;
    while let Some(flag) = flags.next_flag()? {
        match flag.name {
            _ if is_help(&flag) => return Ok(Command::Help),
            "--listen" => set_once(
                &mut listen,
                parse_addr(flags.value(&flag)?, flag.name)?,
                flag.name,
            )?,
            "--https" => set_once(
                &mut https,
                parse_addr(flags.value(&flag)?, flag.name)?,
                flag.name,
            )?,
            "--cert" => set_once(
                &mut cert,
                parse_file(flags.value(&flag)?, flag.name)?,
                flag.name,
            )?,
            "--key" => set_once(
                &mut key,
                parse_file(flags.value(&flag)?, flag.name)?,
                flag.name,
            )?,
            "--member-port" => {
                let value = flags.value(&flag)?;
                let port = value
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| {
                        usage(format!(
                            "`--member-port` expects a port 1..65535, found `{value}`"
                        ))
                    })?;
                set_once(&mut member_port, port, flag.name)?;
            }
            "--workers" => {
                let n = parse_bounded_workers(flags.value(&flag)?)?;
                set_once(&mut workers, n, flag.name)?;
            }
            "--io-driver" => set_once(
                &mut io_driver,
                parse_io_driver(flags.value(&flag)?)?,
                flag.name,
            )?,
            _ => return Err(flags.unknown(&flag)),
        }
    }
    let d = DemoArgs::default();
    let listen = listen.unwrap_or(d.listen);
    let https = match (https, cert, key) {
        (None, None, None) => None,
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
                return Err(usage(format!(
                    "`--https` {https} is {taken}; give another port"
                )));
            }
            Some(DemoHttps {
                listen: https,
                cert,
                key,
            })
        }
        (https, cert, key) => {
            let missing: Vec<&str> = [
                ("--https ADDR", https.is_none()),
                ("--cert FILE", cert.is_none()),
                ("--key FILE", key.is_none()),
            ]
            .iter()
            .filter_map(|&(flag, absent)| absent.then_some(flag))
            .collect();
            return Err(usage(format!(
                "`--https`, `--cert` and `--key` go together: missing `{}`",
                missing.join("`, `")
            )));
        }
    };
    Ok(Command::Demo(DemoArgs {
        listen,
        member_port: member_port.unwrap_or(d.member_port),
        workers: workers.unwrap_or(d.workers),
        io_driver: io_driver.unwrap_or(d.io_driver),
        https,
    }))
}

/// A file flag's value: any non-empty path (whether it can be read is checked at start).
fn parse_file(value: &str, flag: &str) -> Result<PathBuf, CliError> {
    if value.is_empty() {
        return Err(usage(format!("`{flag}` expects a file path")));
    }
    Ok(PathBuf::from(value))
}

fn parse_bench_member(args: &[String]) -> Result<Command, CliError> {
    let mut flags = Flags::new("bench-member", args);
    let mut listen = None;
    let mut body_bytes = None;
    let mut route = None;
    let mut workers = None;
    let mut io_driver = None;
    while let Some(flag) = flags.next_flag()? {
        match flag.name {
            _ if is_help(&flag) => return Ok(Command::Help),
            "--listen" => set_once(
                &mut listen,
                parse_addr(flags.value(&flag)?, flag.name)?,
                flag.name,
            )?,
            "--body-bytes" => {
                let value = flags.value(&flag)?;
                let n = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n <= MAX_BODY_BYTES)
                    .ok_or_else(|| {
                        usage(format!(
                            "`--body-bytes` expects a number 0..{MAX_BODY_BYTES}, found `{value}`"
                        ))
                    })?;
                set_once(&mut body_bytes, n, flag.name)?;
            }
            "--route" => {
                let value = flags.value(&flag)?;
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(usage(format!(
                        "`--route` expects a visible ASCII name, found `{value}`"
                    )));
                }
                set_once(&mut route, value.to_owned(), flag.name)?;
            }
            "--workers" => {
                let n = parse_bounded_workers(flags.value(&flag)?)?;
                set_once(&mut workers, n, flag.name)?;
            }
            "--io-driver" => set_once(
                &mut io_driver,
                parse_io_driver(flags.value(&flag)?)?,
                flag.name,
            )?,
            _ => return Err(flags.unknown(&flag)),
        }
    }
    let Some(listen) = listen else {
        return Err(usage("`bench-member` needs `--listen ADDR`".to_owned()));
    };
    Ok(Command::BenchMember(BenchMemberArgs {
        listen,
        body_bytes: body_bytes.unwrap_or(crate::benchmember::DEFAULT_BODY.len()),
        route: route.unwrap_or_else(|| "member".to_owned()),
        workers: workers.unwrap_or(Some(1)),
        io_driver: io_driver.unwrap_or(IoDriver::Auto),
    }))
}

fn parse_addr(value: &str, flag: &str) -> Result<SocketAddr, CliError> {
    value.parse().map_err(|_| {
        usage(format!(
            "`{flag}` expects IP:PORT such as 127.0.0.1:8080, found `{value}`"
        ))
    })
}

/// `auto` -> `None`; a positive integer -> `Some(n)` (the upper bound is checked later).
fn parse_workers(value: &str) -> Result<Option<usize>, CliError> {
    if value == "auto" {
        return Ok(None);
    }
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(usage(format!(
            "`--workers` expects a number 1..1024 or auto, found `{value}`"
        ))),
    }
}

fn parse_io_driver(value: &str) -> Result<IoDriver, CliError> {
    IoDriver::from_name(value).ok_or_else(|| {
        usage(format!(
            "`--io-driver` expects auto, io_uring or epoll, found `{value}`"
        ))
    })
}
