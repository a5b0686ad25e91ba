//! Address blocks (`10.0.0.0/8`, `2001:db8::/32`, a bare address): parsing, printing and
//! membership. Pure; shared by the admin listener's allow-list (`admin.allow`) and the
//! proxy's `trusted_proxies`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address block: `addr/prefix`, host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The block's first address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in the block. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
    /// dual-stack listener reports for IPv4 clients) is treated as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for IpNet {
    type Err = String;

    /// `ADDR/PREFIX`, or a bare `ADDR` (a single host). Host bits are cleared, so
    /// `10.1.2.3/8` is `10.0.0.0/8`.
    fn from_str(text: &str) -> Result<IpNet, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("{text:?}: {addr_text:?} is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && p.bytes().all(|c| c.is_ascii_digit()) => n,
                _ => return Err(format!("{text:?}: prefix {p:?} is not a number 0..={max}")),
            },
        };
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(prefix)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(prefix)).into()),
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses a list of blocks (`127.0.0.1/32`, `::1/128`, `10.0.0.0/8`, `192.168.1.7`); the error
/// names the first bad entry.
pub fn parse_allow(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter().map(|entry| entry.trim().parse()).collect()
}

/// Whether `ip` is in any block of `nets`; an empty list holds nobody.
pub fn allowed(nets: &[IpNet], ip: IpAddr) -> bool {
    nets.iter().any(|net| net.contains(ip))
}
