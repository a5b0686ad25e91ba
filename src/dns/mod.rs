//! Looking up the host names of member URLs (`http://app1.internal:8080`), off the request
//! path: at start (and in `ringlb check`), when a reload or the manager brings a new name,
//! and every `dns_refresh` on the control plane's DNS thread (`control::dns`). Workers never
//! resolve anything; they connect to the address their generation's config holds.
//!
//! Two resolvers ([`Resolver`]):
//! - the system's (no `resolvers` key): `getaddrinfo`, which reads `/etc/hosts` and
//!   `/etc/resolv.conf` (search domains included, for a name without a trailing `.`); its
//!   first address is taken, as HAProxy's `init-addr libc` does; no TTL is known, so names
//!   are looked up again every `dns_refresh`;
//! - the servers of `resolvers`: A and AAAA queries over UDP ([`wire`]), the AAAA records
//!   taken when there are any, else the A records (HAProxy's default `resolve-prefer ipv6`);
//!   their TTL can bring the next lookup forward ([`names`]).
//!
//! Unspecified and multicast addresses in an answer are dropped (no connection can go
//! there). What is kept across lookups, and what is logged, is decided in [`names`].

mod names;
mod wire;

pub use names::{choose, next_lookup_in, Event, Names, TTL_FLOOR};

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::config::{Config, ConfigError, DnsConfig};

/// A successful lookup: the usable addresses in the answer's order, and the TTL when the
/// answer had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub addrs: Vec<IpAddr>,
    pub ttl: Option<Duration>,
}

/// Who answers lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolver {
    /// `getaddrinfo`.
    System,
    /// These DNS servers, asked in order.
    Servers(Vec<SocketAddr>),
}

impl Resolver {
    /// The resolver `dns` configures: its `resolvers`, else the system's.
    pub fn of(dns: &DnsConfig) -> Resolver {
        if dns.resolvers.is_empty() {
            Resolver::System
        } else {
            Resolver::Servers(dns.resolvers.clone())
        }
    }

    /// Looks `name` up (as [`crate::config::MemberConfig::dns_name`] holds it). Blocking:
    /// bounded by the system resolver's own timeouts, or by [`wire`]'s. An answer without a
    /// usable address is an error.
    pub fn lookup(&self, name: &str) -> Result<Answer, String> {
        let mut answer = match self {
            Resolver::System => system_lookup(name)?,
            Resolver::Servers(servers) => {
                wire::lookup(servers, name.strip_suffix('.').unwrap_or(name))?
            }
        };
        answer
            .addrs
            .retain(|ip| !ip.is_unspecified() && !ip.is_multicast());
        if answer.addrs.is_empty() {
            return Err("the answer has no usable address".to_owned());
        }
        Ok(answer)
    }
}

/// `getaddrinfo(name)`: its addresses in its order, once each.
fn system_lookup(name: &str) -> Result<Answer, String> {
    let found = (name, 0)
        .to_socket_addrs()
        .map_err(|e| format!("the system resolver: {e}"))?;
    let mut addrs: Vec<IpAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr.ip()) {
            addrs.push(addr.ip());
        }
    }
    Ok(Answer { addrs, ttl: None })
}

/// Looks up every host name of `config` that `names` does not have yet and adds it there (at
/// `now`), with `config`'s resolver. The first name that does not resolve is an error naming
/// `config.source`, the key of the first member named by it and line 0 (see
/// [`crate::config::locate`]); `names` then holds the names looked up before it.
pub fn look_up_new(config: &Config, names: &mut Names, now: Instant) -> Result<(), ConfigError> {
    let resolver = Resolver::of(&config.dns);
    for (name, key) in crate::config::host_names(config) {
        if names.contains(&name) {
            continue;
        }
        let error = |message: String| ConfigError {
            file: config.source.clone(),
            line: 0,
            key: key.clone(),
            message: format!("cannot look up {name:?}: {message}"),
        };
        let answer = resolver.lookup(&name).map_err(error)?;
        if !names.insert(&name, &answer, now, config.dns.refresh) {
            return Err(error("the answer has no usable address".to_owned()));
        }
    }
    Ok(())
}

/// `config` with every host name looked up and the addresses put in
/// ([`crate::config::with_addresses`]), and the names with their schedule: what `ringlb run`
/// does at start and `ringlb check` does too. The error names the member's key, and its line
/// when `config.source` is a file that can be read.
pub fn resolve_at_start(config: &Config) -> Result<(Config, Names), ConfigError> {
    let mut names = Names::default();
    let resolved = look_up_new(config, &mut names, crate::clock::now())
        .and_then(|()| crate::config::with_addresses(config, &names.addresses()));
    match resolved {
        Ok(resolved) => Ok((resolved, names)),
        Err(e) => match std::fs::read_to_string(&config.source) {
            Ok(text) => Err(crate::config::locate(e, &text)),
            Err(_) => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_resolver_reads_etc_hosts() {
        // `localhost` is in /etc/hosts (files come first in nsswitch.conf): no DNS traffic.
        let answer = Resolver::System.lookup("localhost").unwrap();
        assert!(answer.addrs.iter().all(|ip| ip.is_loopback()), "{answer:?}");
        assert_eq!(answer.ttl, None);
    }
}
