//! AJP13 to `ajp://` members (httpd `mod_proxy_ajp`, mod_jk `type=ajp13`): the settings of one
//! member and how they are printed and shown in a diff.
//!
//! | key | httpd / mod_jk | meaning |
//! |---|---|---|
//! | `secret` | `secret=` / `secret` | sent with every request; Tomcat's AJP connector (9.0.31+) requires it unless `secretRequired="false"` |
//! | `packet_size` | `ProxyIOBufferSize` / `max_packet_size` | AJP packet size, 8192..=65536 (default 8192); must equal Tomcat's `packetSize` |
//! | `ping` | `ping=` / `ping_mode` + `ping_timeout` | CPING before each request, answered with CPONG within this long, or the connection is not used (nothing was sent, so any request may go to another member) |

use std::time::Duration;

use super::display::toml_string;
use super::duration;

/// AJP13 to one `ajp://` member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberAjp {
    pub secret: Option<String>,
    /// Largest packet, header included, in both directions.
    pub packet_size: usize,
    /// CPING/CPONG before every request with this timeout; `None` = no CPING.
    pub ping: Option<Duration>,
}

impl Default for MemberAjp {
    fn default() -> MemberAjp {
        MemberAjp {
            secret: None,
            packet_size: crate::ajp::DEFAULT_PACKET_SIZE,
            ping: None,
        }
    }
}

impl MemberAjp {
    /// The keys that give exactly these settings in a `[[balancer.member]]` table.
    pub(crate) fn keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(3);
        if let Some(secret) = &self.secret {
            out.push(("secret", toml_string(secret)));
        }
        out.push(("packet_size", self.packet_size.to_string()));
        if let Some(ping) = self.ping {
            out.push(("ping", format!("\"{}\"", duration::format(ping))));
        }
        out
    }

    /// The member's settings as one value for a diff line. The secret is never shown: a
    /// fingerprint (the first 32 bits of its SHA-1) stands for it, so a changed secret still
    /// shows as a change.
    pub(crate) fn summary(ajp: Option<&MemberAjp>) -> String {
        let Some(ajp) = ajp else {
            return "none".to_owned();
        };
        let secret = ajp.secret.as_ref().map_or_else(
            || "none".to_owned(),
            |s| {
                use sha1::Digest;
                let d = sha1::Sha1::digest(s.as_bytes());
                format!("sha1:{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
            },
        );
        let ping = ajp.ping.map_or_else(|| "off".to_owned(), duration::format);
        format!(
            "secret={secret} packet_size={} ping={ping}",
            ajp.packet_size
        )
    }
}

/// Smallest and largest `packet_size`.
pub(crate) const PACKET_SIZES: std::ops::RangeInclusive<i64> = 8192..=65536;
