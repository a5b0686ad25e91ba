//! The validated, immutable configuration snapshot and how it is produced.
//!
//! `config.toml -> file::File* (raw, with spans) -> validate -> Config`. `validate` is the only
//! producer of [`Config`]; every error names the file, the line and the key. STUB: the types
//! are fixed; parsing and validation land with the config work.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The validated configuration. Shared read-only between cores as `Arc<Config>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where it came from: a file path, or `<command line>`.
    pub source: String,
    /// Worker threads; `None` = one per CPU the process may run on.
    pub workers: Option<usize>,
    pub io_driver: IoDriver,
    pub listen: Vec<SocketAddr>,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub forwarded: Forwarded,
    pub balancers: Vec<BalancerConfig>,
}

/// Which monoio driver the workers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoDriver {
    /// io_uring when it can be set up, else epoll.
    Auto,
    IoUring,
    Epoll,
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head in bytes (431 above).
    pub max_head_bytes: usize,
    /// Most header fields in a request head (431 above); at most `http::MAX_HEADERS`.
    pub max_headers: usize,
    /// Largest request body in bytes, 0 = unlimited (413 above; Apache `LimitRequestBody`).
    pub max_body_bytes: u64,
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

/// Balancing method (SEMANTICS.md 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbMethod {
    ByRequests,
    ByTraffic,
    ByBusyness,
}

/// Sticky session names (`stickysession = "COOKIE|URLNAME"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sticky {
    pub cookie_name: String,
    pub url_name: String,
}

/// One balancer, mounted at a path prefix (`ProxyPass /mount balancer://name/target_path`).
#[derive(Clone, Debug, PartialEq)]
pub struct BalancerConfig {
    pub name: String,
    /// Request path prefix this balancer serves; starts with `/`.
    pub mount: String,
    /// Replaces `mount` in the path sent to members; starts with `/`.
    pub target_path: String,
    pub lbmethod: LbMethod,
    pub sticky: Option<Sticky>,
    pub members: Vec<MemberConfig>,
}

/// One member (backend).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberConfig {
    /// As written, e.g. `http://127.0.0.1:9001`.
    pub url: String,
    pub addr: SocketAddr,
    /// `host:port` for the Host header when `preserve_host` is off.
    pub authority: String,
    /// Session route (Tomcat `jvmRoute`); empty = none.
    pub route: String,
    /// Apache `loadfactor` × 100 (1.0..=100.0 → 100..=10000), so decimals keep their ratio.
    pub lbfactor: u32,
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

/// Parses and validates TOML text; `file` names it in errors.
pub fn parse_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    let _ = text;
    Err(ConfigError {
        file: file.to_string(),
        line: 0,
        key: String::new(),
        message: "not implemented".into(),
    })
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Arc<Config>, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: name.clone(),
        line: 0,
        key: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    parse_str(&text, &name).map(Arc::new)
}
