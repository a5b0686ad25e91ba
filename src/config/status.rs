//! A member's status flags (docs/semantics.md §4): parsed from the file's `status=` and changed by
//! the balancer at run time. The configuration owns the type so that the balancer depends on
//! the configuration, never the reverse.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Apache's worker status flags, with Apache's bit values (`mod_proxy.h`) so that a dump reads
/// the same as httpd's. Letters are the ones `status=+X-Y` and the manager use.
///
/// A member is *usable* when none of [`Status::NOT_USABLE`] (`D S E C`) is set. `N` (drain),
/// `H` (hot standby), `R` (hot spare) and `I` (ignore errors) do not make a member unusable;
/// they change how the selection loop treats it (docs/semantics.md §1, §4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Status(u16);

impl Status {
    /// No flag set: a plain, usable member.
    pub const NONE: Status = Status(0);
    /// `I`: errors never set `E`; a retry clears `E` at once.
    pub const IGNORE_ERRORS: Status = Status(0x02);
    /// `N`: takes only sticky traffic; counted as unusable so a spare can take its slot.
    pub const DRAIN: Status = Status(0x04);
    /// `D`: no traffic at all; recovery is manual only.
    pub const DISABLED: Status = Status(0x20);
    /// `S`: no traffic at all; never retried, even when `E` is also set.
    pub const STOPPED: Status = Status(0x40);
    /// `E`: in error until `error_until_ms`; cleared lazily when a selection looks at it.
    pub const ERROR: Status = Status(0x80);
    /// `H`: new requests only when nothing else in its lbset is usable.
    pub const HOT_STANDBY: Status = Status(0x100);
    /// `C`: the health check failed.
    pub const HC_FAILED: Status = Status(0x400);
    /// `R`: replaces an unusable or draining member of its lbset, one for one, in config order.
    pub const HOT_SPARE: Status = Status(0x800);
    /// The flags that make a member unusable (Apache `PROXY_WORKER_NOT_USABLE_BITMAP`, less
    /// `U` shutting-down and `F` free-slot, which ringlb has no use for).
    pub const NOT_USABLE: Status = Status(0x20 | 0x40 | 0x80 | 0x400);
    /// The flags kept in the shared `balancer::Health` word, seen by every core: `E` and `C`.
    pub const SHARED: Status = Status(0x80 | 0x400);

    /// Every flag with its letter, in bit order (this is also the [`fmt::Display`] order).
    pub const LETTERS: [(u8, Status); 8] = [
        (b'I', Status::IGNORE_ERRORS),
        (b'N', Status::DRAIN),
        (b'D', Status::DISABLED),
        (b'S', Status::STOPPED),
        (b'E', Status::ERROR),
        (b'H', Status::HOT_STANDBY),
        (b'C', Status::HC_FAILED),
        (b'R', Status::HOT_SPARE),
    ];

    /// The raw bits (Apache's values).
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// True when every flag of `other` is set in `self`.
    pub const fn contains(self, other: Status) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when at least one flag of `other` is set in `self`.
    pub const fn intersects(self, other: Status) -> bool {
        self.0 & other.0 != 0
    }

    /// The flags set in both `self` and `other`.
    pub const fn intersection(self, other: Status) -> Status {
        Status(self.0 & other.0)
    }

    /// `self` with the flags of `other` cleared.
    pub const fn without(self, other: Status) -> Status {
        Status(self.0 & !other.0)
    }

    /// The flag named by a status letter (`b'D'`, `b'N'`, ...), case-insensitive as in Apache.
    pub fn from_letter(letter: u8) -> Option<Status> {
        let upper = letter.to_ascii_uppercase();
        Status::LETTERS
            .iter()
            .find(|(l, _)| *l == upper)
            .map(|(_, s)| *s)
    }
}

impl BitOr for Status {
    type Output = Status;
    fn bitor(self, rhs: Status) -> Status {
        Status(self.0 | rhs.0)
    }
}

impl BitOrAssign for Status {
    fn bitor_assign(&mut self, rhs: Status) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Status {
    /// The set letters in bit order, e.g. `NE`; `-` when none is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("-");
        }
        for (letter, flag) in Status::LETTERS {
            if self.contains(flag) {
                write!(f, "{}", char::from(letter))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Status({self})")
    }
}
