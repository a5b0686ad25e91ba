//! `[balancer.health]` and `[balancer.member.health]`: the active health check's method and
//! parameters (validated in `validate`, printed by `display`).

use std::time::Duration;

/// How an active health check probes a member (mod_proxy_hcheck).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HcMethod {
    /// Connect only.
    Tcp,
    Options,
    Head,
    Get,
    /// AJP13 CPING/CPONG (`ajp://` members only).
    Cping,
}

impl HcMethod {
    /// The spelling in the config file: `TCP`, `OPTIONS`, `HEAD`, `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            HcMethod::Tcp => "TCP",
            HcMethod::Options => "OPTIONS",
            HcMethod::Head => "HEAD",
            HcMethod::Get => "GET",
            HcMethod::Cping => "CPING",
        }
    }

    /// Inverse of [`HcMethod::as_str`]; case-insensitive.
    pub fn from_name(name: &str) -> Option<HcMethod> {
        [
            HcMethod::Tcp,
            HcMethod::Options,
            HcMethod::Head,
            HcMethod::Get,
            HcMethod::Cping,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

/// An active health check (mod_proxy_hcheck's `hcmethod`, `hcuri`, `hcinterval`, `hcpasses`,
/// `hcfails`, and an accepted status range in place of `hcexpr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub method: HcMethod,
    /// Path probed by the HTTP methods.
    pub uri: String,
    /// Each member is probed once per interval in total (not once per core).
    pub interval: Duration,
    /// Consecutive passes that clear the failed-check flag `C`.
    pub passes: u32,
    /// Consecutive failures that set `C`.
    pub fails: u32,
    /// Accepted response statuses, inclusive.
    pub status: (u16, u16),
}

impl Default for HealthCheck {
    /// What a `[balancer.health]` or `[balancer.member.health]` table gives for the keys it
    /// leaves out: `HEAD /` every 30 s (Apache `hcinterval`), 1 pass, 1 failure, 200-399.
    fn default() -> HealthCheck {
        HealthCheck {
            method: HcMethod::Head,
            uri: "/".to_owned(),
            interval: Duration::from_secs(30),
            passes: 1,
            fails: 1,
            status: (200, 399),
        }
    }
}
