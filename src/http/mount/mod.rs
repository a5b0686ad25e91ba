//! Which mount serves a request, and the target its member gets: the virtual host by `Host`
//! and listener port, the target split ([`path::split_target`]), its path put through the
//! dot-segment rule ([`path::normalize`]) and matched against that host's mounts
//! ([`Router`], README "Virtual hosts, mounts, exclusions and patterns"), then, per member,
//! mapped onto the mount's target ([`member_target`]).
//!
//! Pure: no I/O, no clock. Builds a [`Router`] once per configuration generation; per request
//! it allocates only for a target that must be rebuilt ([`Origin::Rebuilt`]).

mod matcher;
#[cfg(test)]
mod tests;

use super::path::{self, Normal};
use crate::config::{BalancerConfig, Matcher, MountAction, MountConfig, Routes};
use matcher::Compiled;

/// One mount that sends requests to a balancer.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Index in `Config::balancers`.
    pub balancer: usize,
    pub kind: MountKind,
}

/// How a mount maps the path its member gets.
#[derive(Clone, Debug)]
pub enum MountKind {
    /// `path` with `target_path`: the prefix is replaced ([`path::join`]).
    Path {
        path: Box<[u8]>,
        target_path: Box<[u8]>,
    },
    /// `pattern`: the path as sent.
    Pattern,
    /// `regex` with `target` (the substitution is done by [`Router::locate`]).
    Regex,
}

impl Mount {
    /// (mount, target_path) for rewriting members' responses back (`http::reverse`): the two
    /// paths of a `path` mount; `/` for both otherwise, which maps no path.
    pub fn reverse_paths(&self) -> (&[u8], &[u8]) {
        match &self.kind {
            MountKind::Path { path, target_path } => (path, target_path),
            MountKind::Pattern | MountKind::Regex => (b"/", b"/"),
        }
    }
}

/// What an entry of a table does when it matches.
#[derive(Clone, Debug)]
enum Entry {
    /// Index in `Router::mounts`.
    Mount(usize),
    /// An exclusion of these balancers (all when empty).
    Exclude(Box<[usize]>),
}

/// The mounts one virtual host (or the top level) chooses among, in the order they are tried.
#[derive(Clone, Debug, Default)]
struct Table {
    /// `pattern`s without wildcards: tried first.
    exact: Vec<(Compiled, usize)>,
    /// `regex` mounts, in file order (the vhost's first): tried next.
    regexes: Vec<(Compiled, usize)>,
    /// `path` and wildcard `pattern` mounts, most `/` first, then longest text; ties in order.
    by_length: Vec<(Compiled, usize)>,
    exclusions: Vec<(Compiled, Box<[usize]>)>,
}

/// What a table decides for a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    Mount(usize),
    Excluded,
    Nothing,
}

impl Table {
    fn add(&mut self, matcher: Compiled, entry: Entry) {
        match entry {
            Entry::Exclude(balancers) => self.exclusions.push((matcher, balancers)),
            Entry::Mount(m) => match matcher {
                Compiled::Exact(_) => self.exact.push((matcher, m)),
                Compiled::Regex(_) => self.regexes.push((matcher, m)),
                Compiled::Prefix(_) | Compiled::Glob(_) => {
                    let key = specificity(&matcher);
                    let at = self
                        .by_length
                        .partition_point(|(c, _)| specificity(c) >= key);
                    self.by_length.insert(at, (matcher, m));
                }
            },
        }
    }

    /// The most specific mount for `path`, unless an exclusion of its balancer matches too.
    fn pick(&self, path: &[u8], mounts: &[Mount]) -> Pick {
        let found = self
            .exact
            .iter()
            .chain(&self.regexes)
            .chain(&self.by_length)
            .find(|(c, _)| c.matches(path))
            .map(|&(_, m)| m);
        let Some(m) = found else {
            return Pick::Nothing;
        };
        let balancer = mounts.get(m).map_or(usize::MAX, |mount| mount.balancer);
        let vetoed = self
            .exclusions
            .iter()
            .any(|(c, only)| (only.is_empty() || only.contains(&balancer)) && c.matches(path));
        if vetoed {
            Pick::Excluded
        } else {
            Pick::Mount(m)
        }
    }
}

/// What `path` and wildcard `pattern` mounts are ordered by, most specific first: the number
/// of `/` in the text written, then its length (mod_jk's order of its mounts).
fn specificity(c: &Compiled) -> (usize, usize) {
    match c {
        Compiled::Prefix(t) | Compiled::Exact(t) | Compiled::Glob(t) => {
            (t.iter().filter(|&&b| b == b'/').count(), t.len())
        }
        Compiled::Regex(_) => (0, 0),
    }
}

/// One `[[vhost]]` as the router matches it.
#[derive(Clone, Debug)]
struct Vhost {
    /// Lowercased.
    server_name: Box<[u8]>,
    /// Lowercased; `*` and `?` wildcards.
    aliases: Vec<Box<[u8]>>,
    /// Empty = every port.
    ports: Vec<u16>,
    default: bool,
    /// Its own mounts, then the top-level ones.
    table: Table,
}

impl Vhost {
    fn answers_on(&self, port: u16) -> bool {
        self.ports.is_empty() || self.ports.contains(&port)
    }

    fn names(&self, host: &[u8]) -> bool {
        *self.server_name == *host || self.aliases.iter().any(|a| matcher::glob_matches(a, host))
    }
}

/// Which mount serves a request: built once per configuration generation.
#[derive(Clone, Debug, Default)]
pub struct Router {
    mounts: Vec<Mount>,
    /// Regex mounts' substitution: (index in `mounts`, regex, target), for [`Router::locate`].
    substitutions: Vec<(usize, Option<regex::bytes::Regex>, Box<[u8]>)>,
    top: Table,
    vhosts: Vec<Vhost>,
}

impl Router {
    /// The router of `balancers` (their own mounts) and `routes`.
    pub fn new(balancers: &[BalancerConfig], routes: &Routes) -> Router {
        let mut router = Router::default();
        let own: Vec<MountConfig> = balancers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let m = b.mount.as_ref()?;
                Some(MountConfig {
                    matcher: Matcher::Path(m.path.clone()),
                    action: MountAction::Balancer {
                        balancer: i,
                        target: m.target_path.clone(),
                    },
                })
            })
            .collect();
        let top: Vec<MountConfig> = own
            .into_iter()
            .chain(routes.mounts.iter().cloned())
            .collect();
        let mut top_table = Table::default();
        let top_entries: Vec<(Compiled, Entry)> = top.iter().map(|m| router.entry(m)).collect();
        for (c, e) in top_entries.iter().cloned() {
            top_table.add(c, e);
        }
        for v in &routes.vhosts {
            let mut table = Table::default();
            let own: Vec<(Compiled, Entry)> = v.mounts.iter().map(|m| router.entry(m)).collect();
            for (c, e) in own.into_iter().chain(top_entries.iter().cloned()) {
                table.add(c, e);
            }
            router.vhosts.push(Vhost {
                server_name: v.server_name.as_bytes().into(),
                aliases: v.server_alias.iter().map(|a| a.as_bytes().into()).collect(),
                ports: v.ports.clone(),
                default: v.default,
                table,
            });
        }
        router.top = top_table;
        router
    }

    /// Compiles one mount, registering it in `mounts` when it sends to a balancer: (matcher,
    /// what it does).
    fn entry(&mut self, m: &MountConfig) -> (Compiled, Entry) {
        let compiled = match &m.matcher {
            Matcher::Path(p) => Compiled::Prefix(p.as_bytes().into()),
            Matcher::Pattern(p) if matcher::is_glob(p.as_bytes()) => {
                Compiled::Glob(p.as_bytes().into())
            }
            Matcher::Pattern(p) => Compiled::Exact(p.as_bytes().into()),
            Matcher::Regex(r) => Compiled::Regex(regex::bytes::Regex::new(r).ok()),
        };
        let entry = match &m.action {
            MountAction::Exclude { balancers } => Entry::Exclude(balancers.as_slice().into()),
            MountAction::Balancer { balancer, target } => {
                let kind = match &m.matcher {
                    Matcher::Path(p) => MountKind::Path {
                        path: p.as_bytes().into(),
                        target_path: target.as_bytes().into(),
                    },
                    Matcher::Pattern(_) => MountKind::Pattern,
                    Matcher::Regex(_) => {
                        let regex = match &compiled {
                            Compiled::Regex(r) => r.clone(),
                            _ => None,
                        };
                        self.substitutions.push((
                            self.mounts.len(),
                            regex,
                            target.as_bytes().into(),
                        ));
                        MountKind::Regex
                    }
                };
                self.mounts.push(Mount {
                    balancer: *balancer,
                    kind,
                });
                Entry::Mount(self.mounts.len() - 1)
            }
        };
        (compiled, entry)
    }

    /// Mount `index` (as [`Located::mount`] gives it).
    pub fn mount(&self, index: usize) -> Option<&Mount> {
        self.mounts.get(index)
    }

    /// The table for a request with `host` (the `Host` value or the authority of an
    /// absolute-form target, port and all) on listener port `port`: the first vhost answering
    /// on the port that names the host, else the port's default vhost, else its first; the top
    /// level when no vhost answers on the port.
    fn table(&self, host: Option<&[u8]>, port: u16) -> &Table {
        if self.vhosts.is_empty() {
            return &self.top;
        }
        let mut name = [0u8; 256];
        let host = host.and_then(|h| lowercase_host(h, &mut name));
        let on_port = || self.vhosts.iter().filter(|v| v.answers_on(port));
        host.and_then(|h| on_port().find(|v| v.names(h)))
            .or_else(|| on_port().find(|v| v.default))
            .or_else(|| on_port().next())
            .map_or(&self.top, |v| &v.table)
    }

    /// The mount for `target` and what its member gets. The mount is the one the normal form
    /// of the path picks; a path whose dot-segments pick another mount (or exclusion) than the
    /// path as written (`/app/../other`, or `/app/..` leaving `/app`) is refused with 400, as
    /// is every target `split_target` or `normalize` refuses. 404 when no mount serves the
    /// path or an exclusion vetoes it. `*` is routed as `/`. Errors are (status, cause).
    pub fn locate(
        &self,
        host: Option<&[u8]>,
        port: u16,
        target: &[u8],
    ) -> Result<Located, (u16, &'static str)> {
        let table = self.table(host, port);
        let split = path::split_target(target).map_err(|e| (400, e.reason()))?;
        if split.path == b"*" {
            let mount = found(table.pick(b"/", &self.mounts))?;
            return Ok(self.located(mount, Origin::AsSent(0)));
        }
        let mut normal = Vec::new();
        let rewritten = path::normalize(split.path, &mut normal).map_err(|e| (400, e.reason()))?;
        let as_written = table.pick(split.path, &self.mounts);
        let mount = match rewritten {
            Normal::AsIs => found(as_written)?,
            Normal::Rewritten => {
                let pick = table.pick(&normal, &self.mounts);
                if pick != as_written {
                    return Err((400, LEAVES_MOUNT));
                }
                found(pick)?
            }
        };
        let path = match rewritten {
            Normal::AsIs => split.path,
            Normal::Rewritten => &normal,
        };
        if let Some((_, regex, sub)) = self.substitutions.iter().find(|s| s.0 == mount) {
            let mut mapped = regex
                .as_ref()
                .and_then(|r| matcher::substitute(r, sub, path))
                .ok_or((404, NO_MOUNT))?;
            mapped.extend_from_slice(split.query);
            return Ok(self.located(mount, Origin::Rebuilt(mapped)));
        }
        let origin = match rewritten {
            Normal::AsIs if !split.path_added => {
                Origin::AsSent(origin_form_offset(target, split.path, split.query))
            }
            Normal::AsIs => Origin::Rebuilt([split.path, split.query].concat()),
            Normal::Rewritten => {
                normal.extend_from_slice(split.query);
                Origin::Rebuilt(normal)
            }
        };
        Ok(self.located(mount, origin))
    }

    fn located(&self, mount: usize, origin: Origin) -> Located {
        let balancer = self.mounts.get(mount).map_or(0, |m| m.balancer);
        Located {
            balancer,
            mount,
            origin,
        }
    }
}

/// Where a request goes: its balancer, the mount that chose it, and the path and query its
/// member gets before the mount's mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Index in `Config::balancers`.
    pub balancer: usize,
    /// Index for [`Router::mount`].
    pub mount: usize,
    pub origin: Origin,
}

fn found(pick: Pick) -> Result<usize, (u16, &'static str)> {
    match pick {
        Pick::Mount(m) => Ok(m),
        Pick::Excluded => Err((404, EXCLUDED)),
        Pick::Nothing => Err((404, NO_MOUNT)),
    }
}

/// `host` without its port and a trailing `.`, lowercased into `buf`; `None` when it is
/// longer than `buf` (no vhost can name it then) or empty.
fn lowercase_host<'b>(host: &[u8], buf: &'b mut [u8; 256]) -> Option<&'b [u8]> {
    let (name, _) = super::reverse::host_port(b"http", host);
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() || name.len() > buf.len() {
        return None;
    }
    let out = &mut buf[..name.len()];
    out.copy_from_slice(name);
    out.make_ascii_lowercase();
    Some(out)
}

/// The host a request names: the authority of an absolute-form target (RFC 9112 3.2.2: it
/// overrides `Host`), else the `Host` header.
pub fn request_host<'a>(target: &'a [u8], host_header: Option<&'a [u8]>) -> Option<&'a [u8]> {
    if target.first() == Some(&b'/') || target == b"*" {
        return host_header;
    }
    let at = memchr::memmem::find(target, b"://")?;
    let rest = &target[at + 3..];
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Where the origin form (`path` then `query`, both sub-slices ending `target`) starts in
/// `target`: 0 for an origin-form target, past the scheme and authority for an absolute-form
/// one.
pub fn origin_form_offset(target: &[u8], path: &[u8], query: &[u8]) -> usize {
    target.len().saturating_sub(path.len() + query.len())
}

/// The origin-form path and query a member gets, before the mount is replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `target[at..]`, byte for byte: the path was already normal (every request on the hot
    /// path), or the target is `*`.
    AsSent(usize),
    /// Rebuilt: the normal form of a path that had `.`/`..` segments, or the `/` of an
    /// absolute-form target with an empty path; then the query as sent.
    Rebuilt(Vec<u8>),
}

impl Origin {
    /// The path and query to send, given the request target it was made from.
    pub fn get<'a>(&'a self, target: &'a [u8]) -> &'a [u8] {
        match self {
            Origin::AsSent(at) => target.get(*at..).unwrap_or_default(),
            Origin::Rebuilt(bytes) => bytes,
        }
    }
}

const LEAVES_MOUNT: &str = "the path's dot-segments lead out of the mount it names";
const NO_MOUNT: &str = "no balancer is mounted at this path";
const EXCLUDED: &str = "this path is excluded from proxying";

/// The target sent to a member for `origin` made from `target` through `mount`, as (prefix,
/// rest) of `RequestRewrite`: `*` as is; for a `path` mount the mount replaced by
/// `target_path` ([`path::join`]); for `pattern` and `regex` mounts the origin as it is (a
/// regex mount's substitution is already in it).
pub fn member_target<'a>(
    mount: &'a Mount,
    target: &'a [u8],
    origin: &'a Origin,
) -> (&'a [u8], &'a [u8]) {
    let path = origin.get(target);
    if path == b"*" {
        return (b"", path);
    }
    match &mount.kind {
        MountKind::Path {
            path: prefix,
            target_path,
        } => path::join(prefix, target_path, path),
        MountKind::Pattern | MountKind::Regex => (b"", path),
    }
}
