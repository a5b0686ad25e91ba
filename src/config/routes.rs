//! `[[mount]]` and `[[vhost]]`: which balancer serves a request beyond a balancer's own
//! `mount` (README "Virtual hosts, mounts, exclusions and patterns"). The types, their printed
//! form and how the operator surface names a balancer's mounts; the matching is
//! `http::route`, the checks `validate::routes`.

use std::fmt::{self, Write};

use super::display::toml_string;
use super::BalancerConfig;

/// The mounts beyond the balancers' own, and the virtual hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routes {
    /// Top-level `[[mount]]`s, in file order: every vhost inherits them, and the balancers'
    /// own mounts, which come before them.
    pub mounts: Vec<MountConfig>,
    /// `[[vhost]]`s, in file order.
    pub vhosts: Vec<VhostConfig>,
}

/// A balancer's own `mount` and `target_path` (a `path` mount of that balancer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMount {
    /// The request path prefix; starts with `/`.
    pub path: String,
    /// Replaces `path` in the path sent to members; starts with `/`.
    pub target_path: String,
}

impl PathMount {
    pub fn new(path: &str, target_path: &str) -> PathMount {
        PathMount {
            path: path.to_owned(),
            target_path: target_path.to_owned(),
        }
    }
}

/// One `[[mount]]` or `[[vhost.mount]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountConfig {
    pub matcher: Matcher,
    pub action: MountAction,
}

/// What a mount matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// `path`: a prefix at a segment boundary (httpd `ProxyPass`).
    Path(String),
    /// `pattern`: mod_jk's glob over the path up to its first `;` (`*` any run, `?` one
    /// byte; no wildcard = the exact path).
    Pattern(String),
    /// `regex`: matched against the path (httpd `ProxyPassMatch`), validated by `check`.
    Regex(String),
}

impl Matcher {
    /// The key it is written as and its value.
    pub fn key_and_text(&self) -> (&'static str, &str) {
        match self {
            Matcher::Path(p) => ("path", p),
            Matcher::Pattern(p) => ("pattern", p),
            Matcher::Regex(r) => ("regex", r),
        }
    }
}

/// What a mount does with a request it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountAction {
    /// To the balancer at this index of `Config::balancers`. `target` is the `target_path`
    /// of a `path` mount (default: the path), the `target` of a `regex` mount (`$0`..`$9`),
    /// and empty for a `pattern` mount (the path goes as sent).
    Balancer { balancer: usize, target: String },
    /// `exclude = true`: 404 when the chosen balancer is among these indices, or always when
    /// empty (`balancers` not given).
    Exclude { balancers: Vec<usize> },
}

/// One `[[vhost]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VhostConfig {
    /// Lowercased.
    pub server_name: String,
    /// Lowercased; `*` and `?` wildcards.
    pub server_alias: Vec<String>,
    /// Listener ports it answers on; empty = every port.
    pub ports: Vec<u16>,
    /// Takes the requests of its ports whose `Host` no vhost names.
    pub default: bool,
    pub mounts: Vec<MountConfig>,
}

impl Routes {
    /// The `[[mount]]` and `[[vhost]]` tables as TOML, every key written out (balancer indices
    /// as the names in `balancers`).
    pub(crate) fn write_toml(
        &self,
        f: &mut fmt::Formatter<'_>,
        balancers: &[BalancerConfig],
    ) -> fmt::Result {
        for m in &self.mounts {
            writeln!(f, "\n[[mount]]")?;
            write_mount(f, m, balancers)?;
        }
        for v in &self.vhosts {
            writeln!(f, "\n[[vhost]]")?;
            writeln!(f, "server_name = {}", toml_string(&v.server_name))?;
            writeln!(
                f,
                "server_alias = {}",
                toml_list(v.server_alias.iter().map(|a| toml_string(a)))
            )?;
            writeln!(
                f,
                "ports = {}",
                toml_list(v.ports.iter().map(|p| p.to_string()))
            )?;
            writeln!(f, "default = {}", v.default)?;
            for m in &v.mounts {
                writeln!(f, "\n[[vhost.mount]]")?;
                write_mount(f, m, balancers)?;
            }
        }
        Ok(())
    }

    /// How the manager and the JSON API name the mounts of balancer `b`: its own mount, then
    /// each `[[mount]]` and `[[vhost.mount]]` that routes to it (`/app`,
    /// `pattern /shop/*.jsp`, `www.example.com regex ^/x`), comma-separated; empty when
    /// nothing routes to it.
    pub fn mounts_text(&self, balancers: &[BalancerConfig], b: usize) -> String {
        let mut out = String::new();
        let mut add = |host: &str, m: &MountConfig| {
            if !matches!(m.action, MountAction::Balancer { balancer, .. } if balancer == b) {
                return;
            }
            if !out.is_empty() {
                out.push_str(", ");
            }
            if !host.is_empty() {
                let _ = write!(out, "{host} ");
            }
            match &m.matcher {
                Matcher::Path(p) => out.push_str(p),
                Matcher::Pattern(p) => {
                    let _ = write!(out, "pattern {p}");
                }
                Matcher::Regex(r) => {
                    let _ = write!(out, "regex {r}");
                }
            }
        };
        if let Some(own) = balancers.get(b).and_then(|bc| bc.mount.as_ref()) {
            add(
                "",
                &MountConfig {
                    matcher: Matcher::Path(own.path.clone()),
                    action: MountAction::Balancer {
                        balancer: b,
                        target: own.target_path.clone(),
                    },
                },
            );
        }
        self.mounts.iter().for_each(|m| add("", m));
        for v in &self.vhosts {
            v.mounts.iter().for_each(|m| add(&v.server_name, m));
        }
        out
    }
}

fn write_mount(
    f: &mut fmt::Formatter<'_>,
    m: &MountConfig,
    balancers: &[BalancerConfig],
) -> fmt::Result {
    let (key, text) = m.matcher.key_and_text();
    writeln!(f, "{key} = {}", toml_string(text))?;
    let name = |i: &usize| balancers.get(*i).map_or("", |b| b.name.as_str());
    match &m.action {
        MountAction::Balancer { balancer, target } => {
            writeln!(f, "balancer = {}", toml_string(name(balancer)))?;
            match &m.matcher {
                Matcher::Path(_) => writeln!(f, "target_path = {}", toml_string(target))?,
                Matcher::Regex(_) if !target.is_empty() => {
                    writeln!(f, "target = {}", toml_string(target))?
                }
                _ => {}
            }
        }
        MountAction::Exclude { balancers: only } => {
            writeln!(f, "exclude = true")?;
            if !only.is_empty() {
                let names = only.iter().map(|i| toml_string(name(i)));
                writeln!(f, "balancers = {}", toml_list(names))?;
            }
        }
    }
    Ok(())
}

/// `[a, b]` of already-formatted TOML values.
fn toml_list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// One mount in a line, for `check --diff`: `path "/app" -> "cluster" "/"`,
/// `pattern "/*.gif" excluded from "cluster"`.
pub(crate) fn describe(m: &MountConfig, balancers: &[BalancerConfig]) -> String {
    let (key, text) = m.matcher.key_and_text();
    let name = |i: &usize| toml_string(balancers.get(*i).map_or("", |b| b.name.as_str()));
    match &m.action {
        MountAction::Balancer { balancer, target } if target.is_empty() => {
            format!("{key} {} -> {}", toml_string(text), name(balancer))
        }
        MountAction::Balancer { balancer, target } => format!(
            "{key} {} -> {} {}",
            toml_string(text),
            name(balancer),
            toml_string(target)
        ),
        MountAction::Exclude { balancers: only } if only.is_empty() => {
            format!("{key} {} excluded", toml_string(text))
        }
        MountAction::Exclude { balancers: only } => {
            let names: Vec<String> = only.iter().map(name).collect();
            format!(
                "{key} {} excluded from {}",
                toml_string(text),
                names.join(", ")
            )
        }
    }
}
