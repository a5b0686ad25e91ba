//! The control plane's side of member host names: the addresses every change puts in
//! ([`with_names`]), and the DNS thread that looks the names up again every `dns_refresh`
//! ([`spawn`]).
//!
//! A reload or an operator's change that brings a new host name looks it up before it is put
//! in force (on the admin or signal thread; a name that does not resolve refuses the change).
//! The DNS thread looks up the names that are due without holding the controller's lock,
//! then hands the results to `dns::Names`; when an address changed, it builds the effective
//! configuration the way every change does (the file with the overrides, validated, the
//! addresses put in) and puts it in force as a new generation: new connections go to the new
//! address, and the old address's idle connections are not carried over (closed), since a
//! generation carries pooled connections only for a member at the same address.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::{effective, Actor, Controller};
use crate::clock;
use crate::config::{self, Config, DnsConfig};
use crate::dns::{self, Event, Names, Resolver};
use crate::link::Control;
use crate::log;

/// What wakes the DNS thread before its next lookup is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The names or the DNS settings may have changed: look at the schedule again.
    Nudge,
    /// The server is stopping.
    Stop,
}

/// `config` (an effective configuration as validated, addresses not yet in) with the
/// addresses of its host names: those `names` has, and new names looked up now (blocking).
/// Returns it with the names for it: names no longer used are dropped, and when `old`
/// (the DNS settings in force) differs from `config`'s, every name is due at once.
pub(super) fn with_names(
    config: Config,
    names: &Names,
    old: &DnsConfig,
) -> Result<(Config, Names), String> {
    let now = clock::now();
    let mut next = names.clone();
    let in_use: Vec<String> = (config::host_names(&config).into_iter())
        .map(|(name, _)| name)
        .collect();
    next.retain(|name| in_use.iter().any(|n| n == name));
    if config.dns != *old {
        next.reschedule((!config.dns.refresh.is_zero()).then_some(now));
    }
    let resolved = dns::look_up_new(&config, &mut next, now)
        .and_then(|()| config::with_addresses(&config, &next.addresses()))
        .map_err(|e| format!("{}: {}", e.key, e.message))?;
    Ok((resolved, next))
}

impl Controller {
    /// Looks up the names that are due at `now` (without the lock), records the results,
    /// logs a name's first failure and its recovery once each, and puts changed addresses in
    /// force. Returns when the next lookup is due.
    fn refresh_names(&self, now: Instant) -> Option<Instant> {
        let (due, resolver, refresh) = {
            let state = self.lock();
            let dns = &state.current.config.dns;
            (state.names.due(now), Resolver::of(dns), dns.refresh)
        };
        if due.is_empty() {
            return self.lock().names.next_due();
        }
        let results: Vec<_> = (due.into_iter())
            .map(|name| {
                let result = resolver.lookup(&name);
                (name, result)
            })
            .collect();
        let now = clock::now();
        let mut state = self.lock();
        if Resolver::of(&state.current.config.dns) != resolver {
            // A reload changed the resolvers meanwhile and made every name due again.
            return state.names.next_due();
        }
        let before = state.names.addresses();
        for (name, result) in results {
            match state.names.record(&name, result, now, refresh) {
                Some(Event::Failing { name, kept, error }) => log::warn(format_args!(
                    "DNS: looking up {name} failed ({error}); its members stay at {kept} until \
                     a lookup works again"
                )),
                Some(Event::Recovered { name, addr }) => {
                    log::info(format_args!("DNS: looking up {name} works again: {addr}"))
                }
                None => {}
            }
        }
        let after = state.names.addresses();
        if after == before {
            return state.names.next_due();
        }
        let built = effective(&state.file, &state.overrides).and_then(|c| {
            config::with_addresses(&c, &after).map_err(|e| format!("{}: {}", e.key, e.message))
        });
        let config = match built {
            Ok(config) => config,
            Err(e) => {
                log::error(format_args!(
                    "DNS: a new address is not put in force, the old one stays: {e}"
                ));
                for (name, addr) in &before {
                    state.names.set_address(name, *addr);
                }
                return state.names.next_due();
            }
        };
        let next = Arc::new(state.current.successor(Arc::new(config)));
        let pending = self.publish(&mut state, &Actor::Dns, "change", next.clone(), |ack| {
            Control::Swap(next.clone(), ack)
        });
        let due = state.names.next_due();
        drop(state);
        if let Err(e) = pending.wait() {
            log::warn(format_args!("DNS: {e}"));
        }
        due
    }
}

/// Starts the DNS thread of `controller`: it looks names up when they are due, and at every
/// [`Wake::Nudge`]; it ends at [`Wake::Stop`] (or when every sender is gone).
pub(crate) fn spawn(
    controller: Arc<Controller>,
    wake: Receiver<Wake>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("ringlb-dns".to_owned())
        .spawn(move || loop {
            let next = controller.refresh_names(clock::now());
            let woken = match next {
                Some(due) => wake.recv_timeout(due.saturating_duration_since(clock::now())),
                None => wake.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match woken {
                Ok(Wake::Nudge) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Answer;

    fn parse(head: &str) -> Config {
        let text = format!(
            "{head}[[balancer]]\nname = \"b\"\n[[balancer.member]]\nurl = \"http://app:8080\"\n"
        );
        config::parse_str(&text, "t.toml").unwrap()
    }

    /// Names holding `app` (and `gone`, no longer used), looked up with a 30 s refresh.
    fn known(now: Instant) -> Names {
        let mut names = Names::default();
        for (name, ip) in [("app", "10.0.0.5"), ("gone", "10.0.0.6")] {
            let answer = Answer {
                addrs: vec![ip.parse().unwrap()],
                ttl: None,
            };
            assert!(names.insert(name, &answer, now, config::DEFAULT_DNS_REFRESH));
        }
        names
    }

    #[test]
    fn a_change_keeps_known_addresses_drops_unused_names_and_reschedules_on_new_settings() {
        let now = clock::now();
        let file = parse("");
        let (resolved, names) = with_names(file.clone(), &known(now), &file.dns).unwrap();
        assert_eq!(
            resolved.balancers[0].members[0].addr,
            "10.0.0.5:8080".parse().unwrap()
        );
        assert!(names.contains("app") && !names.contains("gone"));
        assert!(
            names.due(now).is_empty(),
            "the same settings: the schedule stays"
        );

        let faster = parse("dns_refresh = 5\n");
        let (_, names) = with_names(faster, &known(now), &file.dns).unwrap();
        assert_eq!(
            names.due(clock::now()),
            vec!["app".to_owned()],
            "due at once"
        );
        let never = parse("dns_refresh = 0\n");
        let (_, names) = with_names(never, &known(now), &file.dns).unwrap();
        assert_eq!(names.next_due(), None);
    }
}
