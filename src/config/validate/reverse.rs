//! `proxypassreverse`, `proxypassreverse_cookie_path` and `proxypassreverse_cookie_domain` of
//! a balancer -> [`ReverseConfig`].

use std::collections::BTreeMap;

use toml::Spanned;

use super::super::file::FileBalancer;
use super::super::reverse::{sort_paths, ReverseConfig};
use super::super::ConfigError;
use super::values::{check_cookie_domain, check_cookie_path, parse_on_off};
use super::Ctx;

/// The reverse keys of balancer `i`; each map entry is checked where it is written.
pub(super) fn reverse(
    ctx: &Ctx<'_>,
    i: usize,
    b: &FileBalancer,
) -> Result<ReverseConfig, ConfigError> {
    let key = |name: &str| format!("balancer[{i}].{name}");
    let enabled = match &b.proxypassreverse {
        Some(v) => ctx.check(v, &key("proxypassreverse"), parse_on_off)?,
        None => true,
    };
    let mut cookie_path = map(
        ctx,
        &key("proxypassreverse_cookie_path"),
        &b.proxypassreverse_cookie_path,
        check_cookie_path,
    )?;
    sort_paths(&mut cookie_path);
    let cookie_domain = map(
        ctx,
        &key("proxypassreverse_cookie_domain"),
        &b.proxypassreverse_cookie_domain,
        check_cookie_domain,
    )?;
    Ok(ReverseConfig {
        enabled,
        cookie_path,
        cookie_domain,
    })
}

/// A (from, to) map, both sides put through `check`; errors name `key."from"`. Domain keys
/// are compared case-insensitively, so two that differ only in case are refused.
fn map(
    ctx: &Ctx<'_>,
    key: &str,
    value: &Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    check: fn(&str) -> Result<(), String>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(table) = value else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (from, to) in table.get_ref() {
        let entry = format!("{key}.{from:?}");
        ctx.check(table, &entry, |_| check(from))?;
        ctx.check(to, &entry, |to| check(to))?;
        if out.iter().any(|(f, _)| f.eq_ignore_ascii_case(from)) {
            return ctx.check(table, &entry, |_| {
                Err(format!("{from:?} is given twice (case is ignored)"))
            });
        }
        out.push((from.clone(), to.get_ref().clone()));
    }
    Ok(out)
}
