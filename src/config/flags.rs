//! `ringlb run --member ...` without a file: flags -> a validated one-balancer [`Config`].
//!
//! Uses the same value checks as the file (`validate`), so a member accepted on the command
//! line is accepted in a file and the other way round. Errors name file `<command line>`,
//! line 0 and the flag as the key.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::file::Scalar;
use super::validate::{
    check_not_self, check_route, parse_loadfactor, parse_member_url, parse_sticky, parse_workers,
};
use super::{
    BalancerConfig, Config, ConfigError, Forwarded, IoDriver, LbMethod, Limits, MemberConfig,
    Timeouts, MAX_MEMBERS,
};

/// Builds the one-balancer config of `ringlb run --member ...`; see [`super::from_flags`].
pub(crate) fn from_flags(
    listen: Vec<SocketAddr>,
    workers: Option<usize>,
    io_driver: IoDriver,
    member_specs: &[String],
    stickysession: Option<&str>,
    lbmethod: LbMethod,
) -> Result<Config, ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: super::COMMAND_LINE.to_owned(),
        line: 0,
        key: key.to_owned(),
        message,
    };
    if listen.is_empty() {
        return Err(err("--listen", "needs at least one address".to_owned()));
    }
    if let Some(n) = workers {
        parse_workers(&Scalar::Int(n.min(i64::MAX as usize) as i64))
            .map_err(|m| err("--workers", m))?;
    }
    if member_specs.is_empty() {
        return Err(err(
            "--member",
            "at least one --member is required".to_owned(),
        ));
    }
    if member_specs.len() > MAX_MEMBERS {
        let msg = format!("{} members; at most {MAX_MEMBERS}", member_specs.len());
        return Err(err("--member", msg));
    }
    let sticky = match stickysession {
        Some(s) => Some(parse_sticky(s).map_err(|m| err("--stickysession", m))?),
        None => None,
    };
    let mut members: Vec<MemberConfig> = Vec::with_capacity(member_specs.len());
    let mut routes: HashMap<String, usize> = HashMap::new();
    let own: Vec<(SocketAddr, String)> = listen.iter().map(|&a| (a, "--listen".into())).collect();
    for spec in member_specs {
        let member = member_spec(spec)
            // A host name's address is checked once looked up (`dns::with_addresses`).
            .and_then(|m| match m.dns_name {
                Some(_) => Ok(m),
                None => check_not_self(m.addr, &own).map(|()| m),
            })
            .map_err(|m| err("--member", format!("{spec:?}: {m}")))?;
        if !member.route.is_empty() && routes.insert(member.route.clone(), members.len()).is_some()
        {
            let msg = format!("{spec:?}: duplicate route {:?}", member.route);
            return Err(err("--member", msg));
        }
        members.push(member);
    }
    Ok(Config {
        source: super::COMMAND_LINE.to_owned(),
        workers,
        io_driver,
        listen,
        listeners: Vec::new(),
        timeouts: Timeouts::default(),
        limits: Limits::default(),
        forwarded: Forwarded::default(),
        trust: Default::default(),
        stats: Default::default(),
        ops: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        balancers: vec![BalancerConfig {
            name: "cluster".to_owned(),
            mount: Some(crate::config::PathMount::new("/", "/")),
            lbmethod,
            sticky,
            options: Default::default(),
            members,
        }],
    })
}

/// `URL[,route=R][,loadfactor=F]`.
fn member_spec(spec: &str) -> Result<MemberConfig, String> {
    let mut parts = spec.split(',');
    let url = parts.next().unwrap_or_default().trim();
    let parsed = parse_member_url(url)?;
    if parsed.https {
        return Err(format!(
            "{url}: https:// members need tls_ca (or tls_verify = false), which only a \
             config file sets"
        ));
    }
    let (mut route, mut lbfactor) = (None, None);
    for part in parts {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("expected key=value after the URL, found {part:?}"))?;
        let slot_taken = match key.trim() {
            "route" => {
                check_route(value)?;
                route.replace(value.to_owned()).is_some()
            }
            "loadfactor" => {
                let scalar =
                    match value.parse::<i64>() {
                        Ok(n) => Scalar::Int(n),
                        Err(_) => Scalar::Float(value.parse().map_err(|_| {
                            format!("loadfactor {value:?} is not a number 1..=100")
                        })?),
                    };
                lbfactor.replace(parse_loadfactor(&scalar)?).is_some()
            }
            other => {
                return Err(format!(
                    "unknown key {other:?}; expected route or loadfactor"
                ))
            }
        };
        if slot_taken {
            return Err(format!("{key} is given twice"));
        }
    }
    Ok(MemberConfig {
        url: url.to_owned(),
        addr: parsed.addr,
        dns_name: parsed.dns_name,
        authority: parsed.authority,
        route: route.unwrap_or_default(),
        lbfactor: lbfactor.unwrap_or(100),
        options: Default::default(),
    })
}
