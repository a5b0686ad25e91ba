//! Which member state changes the error log reports: one line when a member goes down, one
//! when it is back, however often the shared health flips in between.
//!
//! The shared health alone flips too often to log: with `forcerecovery`, every request to a
//! balancer whose members are all in error clears their `E`, fails, and sets it again; an
//! error window that ends makes a member "usable" for one retry that may fail at once. So a
//! member reported down is reported back only on evidence that it serves again: a response
//! from it while it was not in error and no failed attempt since the last look, or (when a
//! failed health check took it down) a passing check.
//!
//! Pure: one [`Outage`] per member, fed periodically (the worker does it from one core's tick)
//! with the member's [`HealthState`] and its response and error counts summed over the cores.

use super::HealthState;

/// What the error log should say about a member now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// It went in error (`E`).
    InError,
    /// Its health check failed (`C`), taking it out.
    CheckFailed,
    /// It serves again.
    Recovered,
}

/// Why a member is reported down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    Error,
    Check,
}

/// One member's state as the error log last reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outage {
    /// Why the member is down now, when it is reported down.
    down: Option<Down>,
    /// The change last reported.
    last: Option<Change>,
    /// Responses counted at the last look that saw the member down.
    responses: u64,
    /// Failed attempts counted at the last look.
    errors: u64,
}

impl Outage {
    /// Whether the member is reported down.
    pub fn is_down(&self) -> bool {
        self.down.is_some()
    }

    /// Takes one look at the member: `state` is its shared health now, `responses` and
    /// `errors` its counters summed over the cores (monotonic). Returns the change to log, if
    /// any; at most one per look, and never the same change twice in a row.
    pub fn observe(&mut self, state: HealthState, responses: u64, errors: u64) -> Option<Change> {
        let quiet = errors == self.errors;
        self.errors = errors;
        let change = match (self.down, state) {
            (None, HealthState::InError { .. }) => Some((Some(Down::Error), Change::InError)),
            (None, HealthState::HcFailed) => Some((Some(Down::Check), Change::CheckFailed)),
            (Some(Down::Error), HealthState::HcFailed) => {
                if self.last == Some(Change::CheckFailed) {
                    self.down = Some(Down::Check); // reported already in this outage
                    None
                } else {
                    Some((Some(Down::Check), Change::CheckFailed))
                }
            }
            (None, HealthState::Ok) => None,
            (Some(Down::Check), HealthState::HcFailed) => None,
            (Some(Down::Check), HealthState::InError { .. }) => {
                // The check passed but the member is in error: still down, now for that.
                self.down = Some(Down::Error);
                None
            }
            (Some(Down::Check), HealthState::Ok) => Some((None, Change::Recovered)),
            (Some(Down::Error), HealthState::InError { .. }) => None,
            (Some(Down::Error), HealthState::Ok) => {
                (quiet && responses > self.responses).then_some((None, Change::Recovered))
            }
        };
        if !matches!(state, HealthState::Ok) || change.is_some() {
            self.responses = responses;
        }
        let (down, change) = change?;
        self.down = down;
        self.last = Some(change);
        Some(change)
    }
}

/// The [`Outage`]s of every member of a configuration, kept by member identity (balancer
/// name, member URL) across configuration generations, so a reload or an added member does
/// not make an ongoing outage look new or move it to another member.
#[derive(Debug, Default)]
pub struct Outages {
    /// (balancer name, member URL) of each entry, in the order of the last [`Self::follow`].
    keys: Vec<(String, String)>,
    states: Vec<Outage>,
}

impl Outages {
    /// Makes the entries follow `members` (every member's identity, in config order):
    /// known members keep their state, new ones start up, gone ones are forgotten. Cheap when
    /// nothing changed (one comparison per member).
    pub fn follow<'a>(&mut self, members: impl Iterator<Item = (&'a str, &'a str)> + Clone) {
        let same = members.clone().count() == self.keys.len()
            && members
                .clone()
                .zip(&self.keys)
                .all(|((b, m), (kb, km))| b == kb && m == km);
        if same {
            return;
        }
        let mut keys = Vec::new();
        let mut states = Vec::new();
        for (b, m) in members {
            let old = self.keys.iter().position(|(kb, km)| kb == b && km == m);
            states.push(old.map_or_else(Outage::default, |i| self.states[i]));
            keys.push((b.to_owned(), m.to_owned()));
        }
        (self.keys, self.states) = (keys, states);
    }

    /// The state of the `i`-th member of the last [`Self::follow`].
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Outage> {
        self.states.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: HealthState = HealthState::Ok;
    const ERR: HealthState = HealthState::InError { until_ms: 60_000 };
    const HC: HealthState = HealthState::HcFailed;

    /// Feeds `looks` (state, responses, errors) and returns the changes, in order.
    fn run(looks: &[(HealthState, u64, u64)]) -> Vec<Change> {
        let mut o = Outage::default();
        looks
            .iter()
            .filter_map(|&(s, r, e)| o.observe(s, r, e))
            .collect()
    }

    #[test]
    fn one_line_down_and_one_back() {
        let looks = [
            (OK, 10, 0),
            (ERR, 10, 1),
            (ERR, 10, 5),
            (OK, 11, 5), // a response, no failure since the last look
            (OK, 20, 5),
        ];
        assert_eq!(run(&looks), [Change::InError, Change::Recovered]);
    }

    #[test]
    fn forcerecovery_flapping_is_one_outage() {
        // Every request clears E, fails and sets it again; a look may land between the two.
        let mut looks = vec![(OK, 10, 0)];
        for i in 1..50u64 {
            let state = if i % 3 == 0 { OK } else { ERR };
            looks.push((state, 10, i * 4));
        }
        // Back: responses grow and failures stop.
        looks.extend([(OK, 11, 196), (OK, 12, 196)]);
        assert_eq!(run(&looks), [Change::InError, Change::Recovered]);
    }

    #[test]
    fn an_ended_window_without_a_response_is_not_a_recovery() {
        let looks = [(ERR, 5, 1), (OK, 5, 1), (OK, 5, 1), (ERR, 5, 2), (OK, 5, 2)];
        assert_eq!(run(&looks), [Change::InError]);
    }

    #[test]
    fn late_responses_of_requests_sent_before_the_outage_do_not_count() {
        // Responses still arriving while the member is in error move the baseline.
        let looks = [(ERR, 5, 1), (ERR, 9, 1), (OK, 9, 1), (OK, 10, 1)];
        assert_eq!(run(&looks), [Change::InError, Change::Recovered]);
        let looks = [(ERR, 5, 1), (ERR, 9, 1), (OK, 9, 1)];
        assert_eq!(run(&looks), [Change::InError]);
    }

    #[test]
    fn a_response_with_failures_in_the_same_interval_is_not_a_recovery() {
        let looks = [(ERR, 5, 1), (OK, 6, 2), (OK, 7, 2)];
        assert_eq!(run(&looks), [Change::InError, Change::Recovered]);
    }

    #[test]
    fn health_check_down_and_back() {
        let looks = [(OK, 0, 0), (HC, 0, 0), (HC, 0, 0), (OK, 0, 0), (OK, 0, 0)];
        assert_eq!(run(&looks), [Change::CheckFailed, Change::Recovered]);
    }

    #[test]
    fn error_then_failed_check_then_back() {
        let looks = [(ERR, 0, 1), (HC, 0, 1), (ERR, 0, 1), (OK, 1, 1)];
        assert_eq!(
            run(&looks),
            [Change::InError, Change::CheckFailed, Change::Recovered]
        );
    }

    #[test]
    fn a_check_flapping_within_an_error_is_reported_once() {
        let looks = [(HC, 0, 0), (ERR, 0, 1), (HC, 0, 1), (ERR, 0, 2), (OK, 1, 2)];
        assert_eq!(run(&looks), [Change::CheckFailed, Change::Recovered]);
    }

    #[test]
    fn outages_follow_members_by_identity() {
        let mut all = Outages::default();
        all.follow([("b", "http://a"), ("b", "http://c")].into_iter());
        all.get_mut(1).unwrap().observe(ERR, 0, 1);
        // A member added in front, as a new generation lists it.
        all.follow([("b", "http://new"), ("b", "http://a"), ("b", "http://c")].into_iter());
        assert!(!all.get_mut(0).unwrap().is_down());
        assert!(!all.get_mut(1).unwrap().is_down());
        assert!(all.get_mut(2).unwrap().is_down(), "c's outage goes on");
        assert_eq!(all.get_mut(2).unwrap().observe(ERR, 0, 2), None);
        all.follow([("b", "http://a")].into_iter());
        assert!(all.get_mut(1).is_none());
        all.follow([("b", "http://c")].into_iter());
        assert!(
            !all.get_mut(0).unwrap().is_down(),
            "a removed member is forgotten"
        );
    }

    #[test]
    fn never_the_same_change_twice_in_a_row() {
        let states = [OK, ERR, HC];
        // Every sequence of 5 looks over 3 states, counters growing or not.
        for code in 0..3u32.pow(5) {
            let mut o = Outage::default();
            let mut last = None;
            let mut c = code;
            for i in 0..5u64 {
                let state = states[(c % 3) as usize];
                c /= 3;
                if let Some(change) = o.observe(state, i * (code as u64 % 2), i % 2) {
                    assert_ne!(Some(change), last, "sequence {code}");
                    assert_eq!(o.is_down(), change != Change::Recovered);
                    last = Some(change);
                }
            }
        }
    }
}
