//! The validated, immutable configuration snapshot and how it is produced.
//!
//! `config.toml -> file::File* (raw, with spans) -> validate -> Config`. `validate` is the only
//! producer of [`Config`] (from a file, or from command-line flags via [`from_flags`]); every
//! error names the file, the line and the key. Pure except [`load`], which reads the file, and
//! [`remote`] ([`load_old`], [`fetch_running`]), which fetches a running config for `check --diff`.
//! `Display for Config` prints the effective configuration (defaults filled in) as TOML in the
//! same schema, which parses back to an equal `Config`. [`diff`] lists what a reload from one
//! `Config` to another would change.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod decay;
mod diff;
mod display;
mod dns;
mod duration;
mod file;
mod flags;
mod health;
mod listener;
mod member_ajp;
mod member_limits;
mod member_tls;
pub mod remote;
mod reverse;
mod routes;
mod status;
#[cfg(test)]
mod tests;
mod validate;
pub(crate) use display::loadfactor_text;
pub(crate) use validate::member_tls::resolve_member as resolve_member_tls;
pub(crate) use validate::values::parse_member_url;

pub use decay::LbstatusDecay;
pub use diff::{diff, Change};
pub use dns::{host_names, locate, with_addresses, Addresses, DnsConfig, DEFAULT_DNS_REFRESH};
pub use health::{HcMethod, HealthCheck};
// Every `[[listener]]` type: `ListenerConfig`, `TlsConfig`, `ClientAuth`, ...
pub use listener::*;
pub use member_ajp::MemberAjp;
pub use member_limits::{MemberLimits, MAX_IDLE_PER_MEMBER};
pub use member_tls::{MemberClientCert, MemberTls, MemberTlsDefaults, TlsVerify};
pub use remote::{fetch_running, load_old};
pub use reverse::ReverseConfig;
pub use routes::{Matcher, MountAction, MountConfig, PathMount, Routes, VhostConfig};
pub use status::Status;
pub use validate::target_text;

/// Most members in one balancer: the width of the per-request failover `avoid` bitmask.
pub const MAX_MEMBERS: usize = 64;
/// Most worker threads.
pub const MAX_WORKERS: usize = 1024;
/// The listen address when none is configured.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// `Config::source` and `ConfigError::file` for a config built from flags.
pub const COMMAND_LINE: &str = "<command line>";

/// The validated configuration. Shared read-only between cores as `Arc<Config>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where it came from: a file path, or `<command line>`.
    pub source: String,
    /// Worker threads; `None` = one per CPU the process may run on.
    pub workers: Option<usize>,
    pub io_driver: IoDriver,
    /// Plain listen addresses (`listen`); empty when only `[[listener]]` tables are given.
    pub listen: Vec<SocketAddr>,
    /// `[[listener]]` tables, in file order.
    pub listeners: Vec<ListenerConfig>,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub forwarded: Forwarded,
    pub trust: Trust,
    pub stats: StatsConfig,
    pub ops: Ops,
    /// How members named by host name are looked up (`dns_refresh`, `resolvers`).
    pub dns: DnsConfig,
    pub balancers: Vec<BalancerConfig>,
    /// The `[[mount]]`s and `[[vhost]]`s (the balancers' own mounts are in `balancers`).
    pub routes: Routes,
}

/// Operations: the admin listener, logging, stopping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ops {
    /// The admin listener (manager page, JSON API, metrics); `None` = off.
    pub admin: Option<AdminConfig>,
    pub log: LogConfig,
    /// Graceful stop (SIGTERM/SIGINT): open connections get this long to finish.
    pub shutdown_grace: Duration,
    /// `pid_file`: written at start with the process id (and by the new process of a binary
    /// upgrade); `ringlb upgrade -c FILE` reads it. Resolved against the config file's
    /// directory.
    pub pid_file: Option<std::path::PathBuf>,
    /// `reload_on_change`: re-read the configuration file once it has been stable for a
    /// moment after a change (inotify), as SIGHUP does.
    pub reload_on_change: bool,
}

impl Default for Ops {
    fn default() -> Ops {
        Ops {
            admin: None,
            log: LogConfig::default(),
            shutdown_grace: Duration::from_secs(10),
            pid_file: None,
            reload_on_change: false,
        }
    }
}

/// `[admin]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminConfig {
    /// Default 127.0.0.1:8081.
    pub listen: SocketAddr,
    /// Addresses (CIDR) allowed to change anything; default loopback only.
    pub allow: Vec<String>,
    /// htpasswd file (bcrypt, `$apr1$` or `{SHA}` entries; see `admin::htpasswd`) for HTTP basic
    /// auth; `None` = no auth.
    pub htpasswd: Option<std::path::PathBuf>,
    /// `Host` values accepted besides the listener's own address (and `localhost` on
    /// loopback): `host` or `host:port`, compared case-insensitively as written.
    pub server_names: Vec<String>,
    /// What `/jkstatus` (mod_jk's status worker) may do.
    pub jkstatus: JkStatusMode,
}

/// `[admin] jkstatus`: `"read-write"` (the default), `"read-only"` (updates refused) or `"off"`
/// (`/jkstatus` answers 404).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JkStatusMode {
    /// Lists and updates.
    #[default]
    ReadWrite,
    /// Lists only.
    ReadOnly,
    /// Not served.
    Off,
}

impl JkStatusMode {
    /// The config file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JkStatusMode::ReadWrite => "read-write",
            JkStatusMode::ReadOnly => "read-only",
            JkStatusMode::Off => "off",
        }
    }
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            allow: vec!["127.0.0.1/32".into(), "::1/128".into()],
            htpasswd: None,
            server_names: Vec::new(),
            jkstatus: JkStatusMode::ReadWrite,
        }
    }
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Where access log lines go; `None` = no access log.
    pub access: Option<AccessTarget>,
    /// An Apache LogFormat string or a predefined name (`combined`, `common`, `balancer`).
    pub access_format: String,
    /// Error log level: `error`, `warn`, `info` or `debug`.
    pub level: crate::log::Level,
    /// Where error log lines go (`log.error`); standard error by default. `ringlb run` applies
    /// it at start (`log::set_target`); a reload cannot change it.
    pub error: AccessTarget,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            access: None,
            access_format: "combined".into(),
            level: crate::log::Level::Info,
            error: AccessTarget::Stderr,
        }
    }
}

/// Where log lines go: the access log's destination (`log.access`) and the error log's
/// (`log.error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessTarget {
    Stdout,
    Stderr,
    /// A file, appended to (reopened on SIGUSR1).
    File(std::path::PathBuf),
    /// The local syslog datagram socket at this path (`/dev/log` for plain `syslog`).
    Syslog(std::path::PathBuf),
}

/// Which monoio driver the workers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoDriver {
    /// io_uring when it can be set up, else epoll.
    Auto,
    IoUring,
    Epoll,
}

impl IoDriver {
    /// The spelling in the config file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            IoDriver::Auto => "auto",
            IoDriver::IoUring => "io_uring",
            IoDriver::Epoll => "epoll",
        }
    }

    /// Inverse of [`IoDriver::as_str`]; exact, case-sensitive.
    pub fn from_name(name: &str) -> Option<IoDriver> {
        [IoDriver::Auto, IoDriver::IoUring, IoDriver::Epoll]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to a member (Apache `connectiontimeout`).
    pub connect: Duration,
    /// Receiving a whole request head once its first byte arrived (408 after).
    pub client_header: Duration,
    /// A client keep-alive connection may sit idle between requests (Apache `KeepAliveTimeout`).
    pub keepalive_idle: Duration,
    /// Waiting for the member's response head, and between body reads (Apache `timeout`, 504).
    pub upstream_response: Duration,
    /// An idle pooled member connection is dropped after this (keep below the member's own).
    pub upstream_idle: Duration,
    /// Waiting for `100 Continue` from the member before sending the body anyway (Apache `ping`).
    pub ping: Duration,
    /// Receiving a request body: its deadline, counted from the end of the head, is this plus
    /// one second per [`Limits::min_body_rate`] bytes received (httpd `mod_reqtimeout`
    /// `body=`, `MinRate=`); 408 when it passes before the body is complete.
    pub client_body: Duration,
    /// Cap on the extended body deadline (counted like `client_body`); zero = no cap.
    pub client_body_max: Duration,
    /// A tunnel after `101` is closed (both sides) when no byte flowed either way for this
    /// long (HAProxy `timeout tunnel`).
    pub tunnel_idle: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head in bytes (431 above).
    pub max_head_bytes: usize,
    /// Most header fields in a request head (431 above); at most `http::MAX_HEADERS`.
    pub max_headers: usize,
    /// Largest request body in bytes, 0 = unlimited (413 above; Apache `LimitRequestBody`).
    pub max_body_bytes: u64,
    /// Bytes per second that extend the body deadline by one second each (httpd `MinRate`);
    /// 0 = no extension: the whole body must arrive within `client_body`.
    pub min_body_rate: u64,
    /// Client connections one worker holds open at most; beyond it the worker stops accepting
    /// (the kernel queues new connections) until one closes (HAProxy `maxconn`, per worker).
    /// `None` = auto: (open files limit - 64) / 2 / workers, worked out by each worker.
    pub max_connections: Option<u32>,
}

impl Default for Timeouts {
    /// connect 5 s, client_header 20 s, keepalive_idle 5 s, upstream_response 60 s,
    /// upstream_idle 15 s (below Tomcat's 20 s `keepAliveTimeout`), ping 1 s, client_body 20 s
    /// without a cap (httpd's `body=20,MinRate=500`), tunnel_idle 1 h.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            client_header: Duration::from_secs(20),
            keepalive_idle: Duration::from_secs(5),
            upstream_response: Duration::from_secs(60),
            upstream_idle: Duration::from_secs(15),
            ping: Duration::from_secs(1),
            client_body: Duration::from_secs(20),
            client_body_max: Duration::ZERO,
            tunnel_idle: Duration::from_secs(3600),
        }
    }
}

impl Default for Limits {
    /// 64 KiB heads, 100 header fields, 1 GiB bodies (Apache `LimitRequestBody`), a body rate
    /// of 500 bytes/s (httpd `MinRate`), connections per worker from the open files limit.
    fn default() -> Self {
        Limits {
            max_head_bytes: 65536,
            max_headers: 100,
            max_body_bytes: 1 << 30,
            min_body_rate: 500,
            max_connections: None,
        }
    }
}

/// Headers added to requests sent to members (Apache `ProxyAddHeaders`, `ProxyPreserveHost`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarded {
    pub x_forwarded_for: bool,
    pub x_forwarded_proto: bool,
    pub x_forwarded_host: bool,
    /// Send the client's Host header instead of the member's address.
    pub preserve_host: bool,
}

impl Default for Forwarded {
    /// All three `X-Forwarded-*` headers on, `preserve_host` off (Apache's defaults).
    fn default() -> Self {
        Forwarded {
            x_forwarded_for: true,
            x_forwarded_proto: true,
            x_forwarded_host: true,
            preserve_host: false,
        }
    }
}

/// Whom ringlb believes about the client's address (README "Trusted proxies").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// Connections to the `listen` addresses start with a PROXY header, believed from any
    /// peer; else they are closed. The default of `ListenerConfig::proxy_protocol`.
    pub proxy_protocol: bool,
    /// Peers (the PROXY source, else the TCP peer) whose `X-Forwarded-*` are believed and
    /// passed on; everybody else's are replaced. Empty: nobody's.
    pub trusted_proxies: Vec<crate::ipnet::IpNet>,
}

/// Balancing method (docs/semantics.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbMethod {
    ByRequests,
    ByTraffic,
    ByBusyness,
}

impl LbMethod {
    /// The Apache spelling: `byrequests`, `bytraffic`, `bybusyness`.
    pub fn as_str(self) -> &'static str {
        match self {
            LbMethod::ByRequests => "byrequests",
            LbMethod::ByTraffic => "bytraffic",
            LbMethod::ByBusyness => "bybusyness",
        }
    }

    /// Inverse of [`LbMethod::as_str`]; exact, case-sensitive.
    pub fn from_name(name: &str) -> Option<LbMethod> {
        [
            LbMethod::ByRequests,
            LbMethod::ByTraffic,
            LbMethod::ByBusyness,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }
}

/// Sticky session names (`stickysession = "COOKIE|URLNAME"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sticky {
    pub cookie_name: String,
    pub url_name: String,
    /// `stickysessionsep`: the route is the text after the first occurrence of this byte;
    /// `None` (`Off`) makes the whole value the route. Default `.`.
    pub sep: Option<u8>,
    /// `scolonpathdelim`: a `;` also ends a URL session value. Default on (Apache: off), so
    /// `;jsessionid=ABC.n1;x=y` gives route `n1`, as mod_jk does.
    pub scolonpathdelim: bool,
}

impl Sticky {
    /// Names with the default separator and `scolonpathdelim` on.
    pub fn new(cookie_name: &str, url_name: &str) -> Sticky {
        Sticky {
            cookie_name: cookie_name.to_string(),
            url_name: url_name.to_string(),
            sep: Some(b'.'),
            scolonpathdelim: true,
        }
    }
}

/// Per-balancer behaviour beyond the method and the sticky names.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BalancerOptions {
    /// `nofailover`: a session whose member (with that route) is unusable gets 503 instead of
    /// being re-balanced. An unknown route is still balanced normally.
    pub nofailover: bool,
    /// Insert-cookie mode (mod_jk `set_session_cookie`, HAProxy `cookie insert`).
    pub insert_cookie: Option<InsertCookie>,
    /// Send the BALANCER_* values to members as `X-Balancer-*` request headers.
    pub balancer_headers: bool,
    /// Send mod_jk's activation signal (`ACT`, `DIS` or `STP`) in this request header.
    pub activation_header: Option<String>,
    /// When and how often a request moves to another member (docs/semantics.md §6).
    pub failover: Failover,
    /// The `tls_*` keys of the balancer: defaults of its `https://` members.
    pub member_tls: MemberTlsDefaults,
    /// `lbstatus_decay`: halve the `lbstatus` scores every period (mod_jk `maintain`).
    pub lbstatus_decay: LbstatusDecay,
    /// `proxypassreverse*`: responses put in the client's terms (`http::reverse`).
    pub reverse: ReverseConfig,
}

/// Failover settings of a balancer (Apache names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    /// `maxattempts`: further members tried after the first; `None` = members - 1.
    pub maxattempts: Option<u32>,
    /// `forcerecovery`: when every member is in error, clear them all and try.
    pub forcerecovery: bool,
    /// `failonstatus`: these response codes put the member in error (the response still goes
    /// to the client).
    pub failonstatus: Vec<u16>,
    /// `failontimeout`: a response timeout puts the member in error.
    pub failontimeout: bool,
}

impl Default for Failover {
    fn default() -> Failover {
        Failover {
            maxattempts: None,
            forcerecovery: true,
            failonstatus: Vec::new(),
            failontimeout: false,
        }
    }
}

/// The cookie ringlb sets to carry the route, for members that do not append one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertCookie {
    pub name: String,
    pub path: String,
    pub domain: Option<String>,
    pub max_age: Option<u64>,
    pub http_only: bool,
    pub secure: bool,
    /// `Strict`, `Lax` or `None`.
    pub same_site: Option<String>,
}

/// Per-member settings beyond address, route and weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberOptions {
    /// Priority tier (Apache `lbset`, mod_jk `distance`); lower tiers first.
    pub lbset: u32,
    /// Initial status flags (Apache `status = "+H"`, mod_jk `activation`).
    pub status: Status,
    /// Route of the member that takes this member's sticky traffic when it is unusable.
    pub redirect: String,
    /// Replication domain (mod_jk `domain`): members that replicate each other's sessions
    /// share it; a sticky request whose member is unusable goes to the best usable member of
    /// its domain first. Empty = none.
    pub domain: String,
    /// `retry`: how long a member stays in error before it is tried again (Apache: 60 s; zero =
    /// try again at once).
    pub retry: Duration,
    /// Ramp the member's effective loadfactor from low to full over this long after it becomes
    /// usable (start, recovery, passed health checks); zero = off.
    pub slowstart: Duration,
    /// Active health check; `None` = passive detection only.
    pub health: Option<HealthCheck>,
    /// TLS to the member: `Some` exactly when its URL is `https://`.
    pub tls: Option<MemberTls>,
    /// AJP13 to the member: `Some` exactly when its URL is `ajp://`.
    pub ajp: Option<MemberAjp>,
    /// Connection limits (`max`, `smax`, `ttl`, `acquire`, `maxqueue`).
    pub limits: MemberLimits,
}

impl Default for MemberOptions {
    fn default() -> MemberOptions {
        MemberOptions {
            lbset: 0,
            status: Status::NONE,
            redirect: String::new(),
            domain: String::new(),
            retry: Duration::from_secs(60),
            slowstart: Duration::ZERO,
            health: None,
            tls: None,
            ajp: None,
            limits: MemberLimits::default(),
        }
    }
}

/// Cross-core statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatsConfig {
    /// How often each core merges the per-core counters into its global view.
    pub merge_interval: Duration,
}

impl Default for StatsConfig {
    fn default() -> StatsConfig {
        StatsConfig {
            merge_interval: Duration::from_millis(5),
        }
    }
}

/// One balancer, mounted at a path prefix (`ProxyPass /mount balancer://name/target_path`)
/// and/or by `[[mount]]` and `[[vhost.mount]]` tables (`routes`).
#[derive(Clone, Debug, PartialEq)]
pub struct BalancerConfig {
    pub name: String,
    /// Its own `mount` and `target_path`; `None` when the file has `[[mount]]` or `[[vhost]]`
    /// tables and the balancer no `mount` key (it is reached through those, or not at all).
    pub mount: Option<PathMount>,
    pub lbmethod: LbMethod,
    pub sticky: Option<Sticky>,
    pub options: BalancerOptions,
    pub members: Vec<MemberConfig>,
}

/// One member (backend).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberConfig {
    /// As written, e.g. `http://127.0.0.1:9001`, `https://10.0.0.5:8443`, `ajp://10.0.0.6:8009`,
    /// `http://app1:8080`.
    pub url: String,
    /// Where connections go. For a member named by host name (`dns_name`), the unspecified
    /// address with the URL's port until [`with_addresses`] puts in the looked-up one; the
    /// workers only ever see configurations that went through it.
    pub addr: SocketAddr,
    /// The host name the address is looked up by (lowercased, a trailing `.` kept); `None`
    /// for an IP literal or `localhost`.
    pub dns_name: Option<String>,
    /// `host:port` for the Host header when `preserve_host` is off, the host as written.
    pub authority: String,
    /// Session route (Tomcat `jvmRoute`); empty = none.
    pub route: String,
    /// Apache `loadfactor` × 100 (1.0..=100.0 → 100..=10000), so decimals keep their ratio.
    pub lbfactor: u32,
    pub options: MemberOptions,
}

/// A configuration error: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based line; 0 when the error is not tied to a line (e.g. the file cannot be read).
    pub line: usize,
    /// Dotted key path, e.g. `balancer[0].member[1].loadfactor`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// `file:line: key: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.key, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// Parses and validates TOML text; `file` names it in errors and becomes `Config::source`.
/// Relative paths in it (`admin.htpasswd`, `log.access`) are resolved against `file`'s
/// directory, unless `file` is a pseudo-name starting with `<` (`<command line>`,
/// `<running config at URL>`), in which case they are kept as written.
pub fn parse_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    validate::parse_str(text, file)
}

/// Validates a `Config` built in memory (the file's with the operator's changes applied) the
/// way a file is validated: it is printed and parsed back through the same checks, so nothing
/// but validation produces a `Config` ringlb runs. Relative paths were already resolved; the
/// error names the key and says what is wrong (its line is that of the printed form, so it is
/// left out as 0).
pub fn revalidate(config: &Config) -> Result<Config, ConfigError> {
    validate::parse_str_in(&config.to_string(), &config.source, None)
        .map_err(|e| ConfigError { line: 0, ..e })
}

/// Builds the config of `ringlb run --member ...`: one balancer `cluster` mounted at `/`, all
/// other settings at their defaults. `members` are `URL[,route=R][,loadfactor=F]` with the URL
/// rules of the file's `url`. Errors name file `<command line>`, line 0 and the flag
/// (`--member`, `--listen`, `--workers`, `--stickysession`).
pub fn from_flags(
    listen: Vec<SocketAddr>,
    workers: Option<usize>,
    io_driver: IoDriver,
    members: &[String],
    stickysession: Option<&str>,
    lbmethod: LbMethod,
) -> Result<Config, ConfigError> {
    flags::from_flags(listen, workers, io_driver, members, stickysession, lbmethod)
}

/// Reads and validates a config file.
///
/// Relative paths in it (`admin.htpasswd`, `log.access`) are resolved against the file's
/// directory made absolute, so that the printed config means the same from any directory.
pub fn load(path: &Path) -> Result<Arc<Config>, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: name.clone(),
        line: 0,
        key: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let dir = std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    validate::parse_str_in(&text, &name, dir.as_deref()).map(Arc::new)
}
