//! Members named by host name: the `dns_refresh` and `resolvers` keys ([`DnsConfig`]), and
//! putting looked-up addresses into a configuration ([`with_addresses`]).
//!
//! Pure. Validation leaves the address of a member whose URL names a host (`http://app1:8080`)
//! as a placeholder, the unspecified address with the URL's port, and records the name
//! ([`MemberConfig::dns_name`]). The lookups themselves are I/O and happen elsewhere
//! (`crate::dns`, at start, at a reload or an added member, and every `dns_refresh` on a
//! control-plane thread); their results, an [`Addresses`] table, are put in by
//! [`with_addresses`], which also makes the check validation could not make: a member must
//! not be ringlb itself. The server and the control plane never hand the workers a
//! configuration that has not been through it.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::file::Scalar;
use super::validate::check_not_self;
use super::{duration, Config, ConfigError};

/// `dns_refresh` when the file has none.
pub const DEFAULT_DNS_REFRESH: Duration = Duration::from_secs(30);
/// Shortest `dns_refresh` other than 0.
const MIN_DNS_REFRESH: Duration = Duration::from_millis(100);
/// Most `resolvers`.
const MAX_RESOLVERS: usize = 8;

/// How member host names are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// `dns_refresh`: how often every host name is looked up again (sooner when a DNS
    /// answer's TTL is shorter, never below one second for that); zero = looked up at start
    /// (and when a reload or the manager brings a new name) only.
    pub refresh: Duration,
    /// `resolvers`: DNS servers asked over UDP, in order; empty = the system resolver
    /// (`getaddrinfo`, which reads `/etc/hosts`).
    pub resolvers: Vec<SocketAddr>,
}

impl Default for DnsConfig {
    fn default() -> DnsConfig {
        DnsConfig {
            refresh: DEFAULT_DNS_REFRESH,
            resolvers: Vec::new(),
        }
    }
}

/// `dns_refresh`: 0 (never) or 100ms..=1d in the timeout spellings.
pub(crate) fn parse_refresh(value: &Scalar) -> Result<Duration, String> {
    let d = duration::parse_within(value, Duration::ZERO, duration::MAX)?;
    if !d.is_zero() && d < MIN_DNS_REFRESH {
        return Err(format!(
            "{} is below 100ms; use 0 to look names up only at start",
            duration::format(d)
        ));
    }
    Ok(d)
}

/// One of `resolvers`: `IP:PORT` (IPv6 in brackets), or an IP address alone for port 53.
pub(crate) fn parse_resolver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        if addr.port() == 0 || addr.ip().is_unspecified() {
            return Err(format!("{text:?}: not an address a DNS server answers on"));
        }
        return Ok(addr);
    }
    match text.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => Ok(SocketAddr::new(ip, 53)),
        _ => Err(format!(
            "expected IP:PORT such as 10.0.0.2:53 or [fd00::2]:53 (or an IP for port 53), \
             found {text:?}"
        )),
    }
}

/// `resolvers`: each parsed with [`parse_resolver`], none twice, at most 8.
pub(crate) fn check_resolvers(list: &[SocketAddr]) -> Result<(), String> {
    if list.len() > MAX_RESOLVERS {
        return Err(format!("{} servers; at most {MAX_RESOLVERS}", list.len()));
    }
    match list
        .iter()
        .enumerate()
        .find(|(i, a)| list[..*i].contains(a))
    {
        Some((_, addr)) => Err(format!("{addr} is listed twice")),
        None => Ok(()),
    }
}

/// Looked-up host names: the name as [`MemberConfig::dns_name`] holds it -> its address.
pub type Addresses = BTreeMap<String, IpAddr>;

/// Every host name `config`'s members are named by, once each, in config order, with the key
/// of the first member that names it (`balancer[0].member[1].url`).
pub fn host_names(config: &Config) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, b) in config.balancers.iter().enumerate() {
        for (j, m) in b.members.iter().enumerate() {
            if let Some(name) = &m.dns_name {
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.clone(), member_key(i, j)));
                }
            }
        }
    }
    out
}

fn member_key(balancer: usize, member: usize) -> String {
    format!("balancer[{balancer}].member[{member}].url")
}

/// `config` with the address of every member named by host name taken from `addresses` (the
/// URL's port kept), each member then checked not to be ringlb itself (as validation checks
/// an IP literal). Errors name `config.source`, the member's key and line 0 (the caller that
/// has the file's text can point at the line: [`super::locate`]): a name missing from
/// `addresses`, or an address that would loop back into ringlb.
pub fn with_addresses(config: &Config, addresses: &Addresses) -> Result<Config, ConfigError> {
    let own = own_addresses(config);
    let mut out = config.clone();
    for (i, b) in out.balancers.iter_mut().enumerate() {
        for (j, m) in b.members.iter_mut().enumerate() {
            let Some(name) = &m.dns_name else { continue };
            let err = |message: String| ConfigError {
                file: config.source.clone(),
                line: 0,
                key: member_key(i, j),
                message,
            };
            let ip = addresses
                .get(name)
                .ok_or_else(|| err(format!("host name {name:?} has not been looked up")))?;
            m.addr = SocketAddr::new(*ip, m.addr.port());
            check_not_self(m.addr, &own)
                .map_err(|msg| err(format!("{name} is {}: {msg}", m.addr.ip())))?;
        }
    }
    Ok(out)
}

/// ringlb's own addresses, which no member may be: the `listen` addresses, the
/// `[[listener]]` tables', the admin listener's, each with its key.
fn own_addresses(config: &Config) -> Vec<(SocketAddr, String)> {
    let listen = (config.listen.iter().enumerate()).map(|(i, &a)| (a, format!("listen[{i}]")));
    let listeners = (config.listeners.iter().enumerate())
        .map(|(i, l)| (l.address, format!("listener[{i}].address")));
    let admin = (config.ops.admin.iter()).map(|a| (a.listen, "admin.listen".to_owned()));
    listen.chain(listeners).chain(admin).collect()
}

/// `error` with its line found in `text`, the file it names (the line of its key), when it
/// has none; for the errors of [`with_addresses`], whose caller has the file at hand.
pub fn locate(error: ConfigError, text: &str) -> ConfigError {
    if error.line != 0 {
        return error;
    }
    let line = super::file::KeyIndex::build(text)
        .and_then(|index| index.start_of(&error.key))
        .map_or(0, |start| super::file::line_of(text, start));
    ConfigError { line, ..error }
}

/// Calls `cmp(key, old, new, restart)` for `dns_refresh` and `resolvers`, shown as the
/// printed config shows them (`diff`); a reload applies both.
pub(super) fn compare(
    old: &Config,
    new: &Config,
    cmp: &mut impl FnMut(&str, String, String, bool),
) {
    let resolvers = |c: &Config| {
        let list: Vec<String> = c.dns.resolvers.iter().map(|a| a.to_string()).collect();
        format!("[{}]", list.join(", "))
    };
    let refresh = |c: &Config| duration::format(c.dns.refresh);
    cmp("dns_refresh", refresh(old), refresh(new), false);
    cmp("resolvers", resolvers(old), resolvers(new), false);
}
