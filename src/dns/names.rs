//! The host names in use and what is known of each: its address, when to look it up again,
//! whether its lookups are failing. Pure: the lookups are made by the caller
//! ([`super::Resolver`]), which hands each result to [`Names::record`] and logs the
//! [`Event`]s it returns.
//!
//! The rules:
//! - after a lookup, the next one is due after `dns_refresh`, or after the answer's TTL when
//!   that is shorter, but never sooner than [`TTL_FLOOR`]; `dns_refresh = 0` means never
//!   ([`next_lookup_in`]);
//! - of the addresses an answer gives, the one in use is kept while it is among them, else
//!   the first is taken ([`choose`]; HAProxy keeps a server's address the same way);
//! - a failed lookup keeps the last address; the first failure is an [`Event::Failing`] and
//!   the first success after failures an [`Event::Recovered`], so each is logged once; while
//!   failing, the name is tried again every `dns_refresh`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::Answer;
use crate::config::Addresses;

/// The shortest wait a DNS answer's TTL can ask for.
pub const TTL_FLOOR: Duration = Duration::from_secs(1);

/// How long after a lookup whose answer had `ttl` (`None`: unknown, as from the system
/// resolver, or a failure) the next one is due: `refresh`, or the TTL when shorter (but at
/// least [`TTL_FLOOR`], and never more than `refresh`). `None` when `refresh` is zero: never.
pub fn next_lookup_in(refresh: Duration, ttl: Option<Duration>) -> Option<Duration> {
    if refresh.is_zero() {
        return None;
    }
    Some(ttl.map_or(refresh, |t| t.max(TTL_FLOOR).min(refresh)))
}

/// The address to use of `addrs` (in the order of the answer): `current` while it is among
/// them, else the first. `None` for no addresses.
pub fn choose(current: Option<IpAddr>, addrs: &[IpAddr]) -> Option<IpAddr> {
    match current {
        Some(ip) if addrs.contains(&ip) => Some(ip),
        _ => addrs.first().copied(),
    }
}

/// What a lookup's result means for the error log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The first failure after successes: the last address stays in use.
    Failing {
        name: String,
        kept: IpAddr,
        error: String,
    },
    /// The first success after failures (the address may have changed with it).
    Recovered { name: String, addr: IpAddr },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct NameState {
    addr: IpAddr,
    /// When the next lookup is due; `None`: never (`dns_refresh = 0`).
    due: Option<Instant>,
    failing: bool,
}

/// The host names in use, each with an address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    names: BTreeMap<String, NameState>,
}

impl Names {
    /// Whether `name` has an address here.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The address of `name`, if it has one here.
    pub fn address(&self, name: &str) -> Option<IpAddr> {
        self.names.get(name).map(|s| s.addr)
    }

    /// Every name's address, for [`crate::config::with_addresses`].
    pub fn addresses(&self) -> Addresses {
        (self.names.iter())
            .map(|(name, s)| (name.clone(), s.addr))
            .collect()
    }

    /// Adds `name` with the address [`choose`] takes from a first successful lookup at `now`
    /// (`refresh`: `dns_refresh`); `false`, and nothing added, when the answer has none.
    pub fn insert(&mut self, name: &str, answer: &Answer, now: Instant, refresh: Duration) -> bool {
        let Some(addr) = choose(None, &answer.addrs) else {
            return false;
        };
        let due = next_lookup_in(refresh, answer.ttl).map(|d| now + d);
        let state = NameState {
            addr,
            due,
            failing: false,
        };
        self.names.insert(name.to_owned(), state);
        true
    }

    /// Forgets the names for which `in_use` is false.
    pub fn retain(&mut self, mut in_use: impl FnMut(&str) -> bool) {
        self.names.retain(|name, _| in_use(name));
    }

    /// Makes every name's next lookup due at `due` (`None`: never): after a reload changed
    /// `dns_refresh` or `resolvers`, every name is looked up again at once.
    pub fn reschedule(&mut self, due: Option<Instant>) {
        for state in self.names.values_mut() {
            state.due = due;
        }
    }

    /// Puts `name`'s address back to `addr` (a new one that could not be put in force).
    pub fn set_address(&mut self, name: &str, addr: IpAddr) {
        if let Some(state) = self.names.get_mut(name) {
            state.addr = addr;
        }
    }

    /// The names whose lookup is due at `now`.
    pub fn due(&self, now: Instant) -> Vec<String> {
        (self.names.iter())
            .filter(|(_, s)| s.due.is_some_and(|due| due <= now))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// When the next lookup is due, if any is.
    pub fn next_due(&self) -> Option<Instant> {
        self.names.values().filter_map(|s| s.due).min()
    }

    /// Takes the result of looking `name` up at `now` (`refresh`: `dns_refresh`): a success
    /// sets the address ([`choose`]) and the next lookup ([`next_lookup_in`]); a failure, or an
    /// answer without addresses, keeps the address and tries again after `refresh`. Returns
    /// the event to log, if any. A name not here is ignored.
    pub fn record(
        &mut self,
        name: &str,
        result: Result<Answer, String>,
        now: Instant,
        refresh: Duration,
    ) -> Option<Event> {
        let state = self.names.get_mut(name)?;
        let chosen = result.and_then(|answer| {
            let addr = choose(Some(state.addr), &answer.addrs)
                .ok_or_else(|| "the answer has no usable address".to_owned())?;
            Ok((addr, answer.ttl))
        });
        match chosen {
            Ok((addr, ttl)) => {
                state.addr = addr;
                state.due = next_lookup_in(refresh, ttl).map(|d| now + d);
                let recovered = std::mem::replace(&mut state.failing, false);
                recovered.then(|| Event::Recovered {
                    name: name.to_owned(),
                    addr,
                })
            }
            Err(error) => {
                state.due = next_lookup_in(refresh, None).map(|d| now + d);
                let first = !std::mem::replace(&mut state.failing, true);
                first.then(|| Event::Failing {
                    name: name.to_owned(),
                    kept: state.addr,
                    error,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn answer(addrs: &[&str], ttl: Option<u64>) -> Answer {
        Answer {
            addrs: addrs.iter().map(|a| ip(a)).collect(),
            ttl: ttl.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_next_lookup_follows_dns_refresh_or_a_shorter_ttl_with_a_floor() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let cases = [
            // (dns_refresh, ttl, next lookup in)
            (s(30), None, Some(s(30))),
            (s(30), Some(s(300)), Some(s(30))),
            (s(30), Some(s(5)), Some(s(5))),
            (s(30), Some(s(0)), Some(TTL_FLOOR)),
            (s(30), Some(ms(200)), Some(TTL_FLOOR)),
            // A refresh below the floor is kept: the floor only limits what a TTL asks.
            (ms(200), Some(s(0)), Some(ms(200))),
            (ms(200), None, Some(ms(200))),
            (Duration::ZERO, Some(s(5)), None),
            (Duration::ZERO, None, None),
        ];
        for (refresh, ttl, want) in cases {
            assert_eq!(next_lookup_in(refresh, ttl), want, "{refresh:?} {ttl:?}");
        }
    }

    #[test]
    fn the_address_in_use_is_kept_while_the_answer_has_it() {
        let cases: [(Option<&str>, &[&str], Option<&str>); 6] = [
            (None, &["10.0.0.1", "10.0.0.2"], Some("10.0.0.1")),
            (
                Some("10.0.0.2"),
                &["10.0.0.1", "10.0.0.2"],
                Some("10.0.0.2"),
            ),
            (
                Some("10.0.0.9"),
                &["10.0.0.1", "10.0.0.2"],
                Some("10.0.0.1"),
            ),
            (Some("10.0.0.9"), &["fd00::1"], Some("fd00::1")),
            (Some("10.0.0.9"), &[], None),
            (None, &[], None),
        ];
        for (current, addrs, want) in cases {
            let addrs: Vec<IpAddr> = addrs.iter().map(|a| ip(a)).collect();
            assert_eq!(
                choose(current.map(ip), &addrs),
                want.map(ip),
                "{current:?} {addrs:?}"
            );
        }
    }

    #[test]
    fn a_failing_name_keeps_its_address_and_is_logged_once_each_way() {
        let t0 = crate::clock::now();
        let refresh = Duration::from_secs(10);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut names = Names::default();
        assert!(!names.insert("app", &answer(&[], None), t0, refresh));
        assert!(names.insert("app", &answer(&["10.0.0.1"], Some(3)), t0, refresh));
        assert_eq!(names.next_due(), Some(at(3)));
        assert!(names.due(at(2)).is_empty());
        assert_eq!(names.due(at(3)), vec!["app".to_owned()]);

        // Failures: the first is an event, the others are not; the address stays.
        let fail = |n: &mut Names, s| n.record("app", Err("timed out".into()), at(s), refresh);
        let event = fail(&mut names, 3);
        let failing = Event::Failing {
            name: "app".into(),
            kept: ip("10.0.0.1"),
            error: "timed out".into(),
        };
        assert_eq!(event, Some(failing));
        assert_eq!(names.next_due(), Some(at(13)));
        assert_eq!(fail(&mut names, 13), None);
        let empty = names.record("app", Ok(answer(&[], Some(1))), at(23), refresh);
        assert_eq!(
            empty, None,
            "an answer without addresses is one more failure"
        );
        assert_eq!(names.address("app"), Some(ip("10.0.0.1")));

        // The first success after failures is an event; the next ones are not.
        let ok = names.record("app", Ok(answer(&["10.0.0.2"], None)), at(33), refresh);
        let recovered = Event::Recovered {
            name: "app".into(),
            addr: ip("10.0.0.2"),
        };
        assert_eq!(ok, Some(recovered));
        assert_eq!(names.addresses().get("app"), Some(&ip("10.0.0.2")));
        assert_eq!(names.next_due(), Some(at(43)));
        let again = names.record("app", Ok(answer(&["10.0.0.3"], Some(2))), at(43), refresh);
        assert_eq!(again, None);
        assert_eq!(names.address("app"), Some(ip("10.0.0.3")));
        assert_eq!(names.next_due(), Some(at(45)));

        // Unknown names are ignored; a name no longer in use is forgotten.
        assert_eq!(
            names.record("other", Err("x".into()), at(45), refresh),
            None
        );
        names.retain(|n| n != "app");
        assert!(!names.contains("app"));
        assert_eq!(names.next_due(), None);
    }

    #[test]
    fn a_refresh_of_zero_looks_nothing_up_again() {
        let t0 = crate::clock::now();
        let mut names = Names::default();
        assert!(names.insert("app", &answer(&["10.0.0.1"], Some(1)), t0, Duration::ZERO));
        assert_eq!(names.next_due(), None);
        names.reschedule(Some(t0));
        assert_eq!(names.due(t0), vec!["app".to_owned()]);
        names.reschedule(None);
        assert!(names.due(t0 + Duration::from_secs(3600)).is_empty());
        names.set_address("app", ip("10.0.0.7"));
        assert_eq!(names.address("app"), Some(ip("10.0.0.7")));
    }
}
