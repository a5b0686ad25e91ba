//! TOML text -> raw `File*` structs that keep byte spans; no validation beyond TOML types.
//!
//! This layer owns three things: the key names (every struct denies unknown fields), the coarse
//! value types (string, integer, table...), and turning a byte offset back into a line and a
//! dotted key path for error messages. Ranges, formats, defaults and cross-field rules belong to
//! `validate`. Values that accept several TOML types (durations, `workers`, `loadfactor`, `lbset`,
//! the On/Off switches) are read as a [`Scalar`] so that `validate` can name the key in a precise
//! type error. Required keys are `Option` here for the same reason: `validate` reports them with
//! the table's line.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// The whole file. Field names are the TOML keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) workers: Option<Spanned<Scalar>>,
    pub(crate) io_driver: Option<Spanned<String>>,
    pub(crate) listen: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) proxy_protocol: Option<bool>,
    pub(crate) trusted_proxies: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) listener: Option<Vec<Spanned<FileListener>>>,
    pub(crate) timeouts: Option<FileTimeouts>,
    pub(crate) limits: Option<FileLimits>,
    pub(crate) headers: Option<FileHeaders>,
    pub(crate) stats: Option<FileStats>,
    /// Graceful stop: a duration in the timeout spellings, 0..=10m.
    pub(crate) shutdown_grace: Option<Spanned<Scalar>>,
    /// Where the process id is written (`Ops::pid_file`).
    pub(crate) pid_file: Option<Spanned<String>>,
    /// Re-read the file when it changes (`Ops::reload_on_change`).
    pub(crate) reload_on_change: Option<bool>,
    /// How often member host names are looked up again (`config::dns`).
    pub(crate) dns_refresh: Option<Spanned<Scalar>>,
    /// DNS servers (`IP[:PORT]`) asked for member host names instead of the system resolver.
    pub(crate) resolvers: Option<Spanned<Vec<Spanned<String>>>>,
    /// `[admin]`: present (even empty) = the admin listener is on.
    pub(crate) admin: Option<Spanned<FileAdmin>>,
    pub(crate) log: Option<FileLog>,
    pub(crate) balancer: Option<Vec<Spanned<FileBalancer>>>,
    /// Top-level `[[mount]]`s (`config::routes`).
    pub(crate) mount: Option<Vec<Spanned<FileMount>>>,
    pub(crate) vhost: Option<Vec<Spanned<FileVhost>>>,
}

/// One `[[mount]]` or `[[vhost.mount]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileMount {
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) pattern: Option<Spanned<String>>,
    pub(crate) regex: Option<Spanned<String>>,
    pub(crate) balancer: Option<Spanned<String>>,
    pub(crate) exclude: Option<Spanned<bool>>,
    pub(crate) balancers: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) target_path: Option<Spanned<String>>,
    pub(crate) target: Option<Spanned<String>>,
}

/// One `[[vhost]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileVhost {
    pub(crate) server_name: Option<Spanned<String>>,
    pub(crate) server_alias: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) ports: Option<Spanned<Vec<Spanned<i64>>>>,
    pub(crate) default: Option<Spanned<bool>>,
    pub(crate) mount: Option<Vec<Spanned<FileMount>>>,
}

/// One `[[listener]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileListener {
    pub(crate) address: Option<Spanned<String>>,
    pub(crate) cert: Option<Spanned<String>>,
    pub(crate) key: Option<Spanned<String>>,
    pub(crate) sni: Option<Vec<Spanned<FileSni>>>,
    pub(crate) alpn: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) protocols: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) hsts: Option<Spanned<String>>,
    pub(crate) redirect_https: Option<Spanned<bool>>,
    pub(crate) proxy_protocol: Option<Spanned<bool>>,
    pub(crate) ssl_headers: Option<Spanned<bool>>,
    pub(crate) client_ca: Option<Spanned<String>>,
    pub(crate) client_verify: Option<Spanned<String>>,
}

/// One `[[listener.sni]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSni {
    pub(crate) names: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) cert: Option<Spanned<String>>,
    pub(crate) key: Option<Spanned<String>>,
}

/// `[timeouts]`: each a number of seconds or a string with a unit (see `duration`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileTimeouts {
    pub(crate) connect: Option<Spanned<Scalar>>,
    pub(crate) client_header: Option<Spanned<Scalar>>,
    pub(crate) keepalive_idle: Option<Spanned<Scalar>>,
    pub(crate) upstream_response: Option<Spanned<Scalar>>,
    pub(crate) upstream_idle: Option<Spanned<Scalar>>,
    pub(crate) ping: Option<Spanned<Scalar>>,
    pub(crate) client_body: Option<Spanned<Scalar>>,
    pub(crate) client_body_max: Option<Spanned<Scalar>>,
    pub(crate) tunnel_idle: Option<Spanned<Scalar>>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileLimits {
    pub(crate) max_head_bytes: Option<Spanned<Scalar>>,
    pub(crate) max_headers: Option<Spanned<Scalar>>,
    pub(crate) max_body_bytes: Option<Spanned<Scalar>>,
    pub(crate) min_body_rate: Option<Spanned<Scalar>>,
    /// An integer or `"auto"`.
    pub(crate) max_connections: Option<Spanned<Scalar>>,
}

/// `[headers]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileHeaders {
    pub(crate) x_forwarded_for: Option<bool>,
    pub(crate) x_forwarded_proto: Option<bool>,
    pub(crate) x_forwarded_host: Option<bool>,
    pub(crate) preserve_host: Option<bool>,
}

/// `[stats]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileStats {
    pub(crate) merge_interval: Option<Spanned<Scalar>>,
}

/// `[admin]`: the table's presence turns the admin listener on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileAdmin {
    pub(crate) listen: Option<Spanned<String>>,
    pub(crate) allow: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) htpasswd: Option<Spanned<String>>,
    pub(crate) server_names: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) jkstatus: Option<Spanned<String>>,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileLog {
    /// `"off"`, `"stdout"`, `"stderr"`, `"syslog"`, `"syslog:/path"` or a file path.
    pub(crate) access: Option<Spanned<String>>,
    /// `"stderr"`, `"stdout"`, `"syslog"`, `"syslog:/path"` or a file path.
    pub(crate) error: Option<Spanned<String>>,
    pub(crate) access_format: Option<Spanned<String>>,
    pub(crate) level: Option<Spanned<String>>,
}

/// A table of strings (`{ "/from" = "/to" }`), each value with its span.
pub(crate) type StringMap = std::collections::BTreeMap<String, Spanned<String>>;

/// One `[[balancer]]`. The switches (`scolonpathdelim`, `nofailover`, `balancer_headers`,
/// `forcerecovery`, `failontimeout`) are [`Scalar`]s because they also take Apache's `"On"` /
/// `"Off"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBalancer {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) mount: Option<Spanned<String>>,
    pub(crate) target_path: Option<Spanned<String>>,
    pub(crate) lbmethod: Option<Spanned<String>>,
    pub(crate) stickysession: Option<Spanned<String>>,
    pub(crate) stickysessionsep: Option<Spanned<String>>,
    pub(crate) scolonpathdelim: Option<Spanned<Scalar>>,
    pub(crate) nofailover: Option<Spanned<Scalar>>,
    pub(crate) balancer_headers: Option<Spanned<Scalar>>,
    pub(crate) activation_header: Option<Spanned<String>>,
    pub(crate) insert_cookie: Option<Spanned<FileInsertCookie>>,
    pub(crate) maxattempts: Option<Spanned<Scalar>>,
    pub(crate) forcerecovery: Option<Spanned<Scalar>>,
    pub(crate) failonstatus: Option<Spanned<ScalarList>>,
    pub(crate) failontimeout: Option<Spanned<Scalar>>,
    /// `true`, `false` or a period (`config::decay`).
    pub(crate) lbstatus_decay: Option<Spanned<Scalar>>,
    pub(crate) proxypassreverse: Option<Spanned<Scalar>>,
    pub(crate) proxypassreverse_cookie_path: Option<Spanned<StringMap>>,
    pub(crate) proxypassreverse_cookie_domain: Option<Spanned<StringMap>>,
    /// Default `retry` of the members that do not set their own.
    pub(crate) retry: Option<Spanned<Scalar>>,
    /// Default `slowstart` of the members that do not set their own.
    pub(crate) slowstart: Option<Spanned<Scalar>>,
    /// Default health check of the members, key by key.
    pub(crate) health: Option<Spanned<FileHealth>>,
    /// Defaults of the members' connection limits (`config::member_limits`).
    pub(crate) max: Option<Spanned<Scalar>>,
    pub(crate) smax: Option<Spanned<Scalar>>,
    pub(crate) ttl: Option<Spanned<Scalar>>,
    pub(crate) acquire: Option<Spanned<Scalar>>,
    pub(crate) maxqueue: Option<Spanned<Scalar>>,
    /// Defaults of the `https://` members (`config::member_tls`).
    pub(crate) tls_ca: Option<Spanned<String>>,
    pub(crate) tls_verify: Option<Spanned<Scalar>>,
    pub(crate) tls_server_name: Option<Spanned<String>>,
    pub(crate) tls_client_cert: Option<Spanned<String>>,
    pub(crate) tls_client_key: Option<Spanned<String>>,
    pub(crate) member: Option<Vec<Spanned<FileMember>>>,
}

/// `[balancer.health]` or `[balancer.member.health]` (mod_proxy_hcheck). Every key is optional:
/// a member's table inherits the missing keys from its balancer's table, then the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileHealth {
    pub(crate) method: Option<Spanned<String>>,
    pub(crate) uri: Option<Spanned<String>>,
    pub(crate) interval: Option<Spanned<Scalar>>,
    pub(crate) passes: Option<Spanned<Scalar>>,
    pub(crate) fails: Option<Spanned<Scalar>>,
    /// `"200-399"`, `"200"` or `200`.
    pub(crate) status: Option<Spanned<Scalar>>,
}

/// A member's `health`: a table, or a boolean (`false` turns the balancer's check off for it;
/// `validate` refuses `true`).
#[derive(Debug)]
pub(crate) enum FileMemberHealth {
    Table(Box<FileHealth>),
    Switch(bool),
}

impl<'de> Deserialize<'de> for FileMemberHealth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MemberHealthVisitor)
    }
}

struct MemberHealthVisitor;

impl<'de> Visitor<'de> for MemberHealthVisitor {
    type Value = FileMemberHealth;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [balancer.member.health] table, or false")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<FileMemberHealth, E> {
        Ok(FileMemberHealth::Switch(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FileMemberHealth, A::Error> {
        FileHealth::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|table| FileMemberHealth::Table(Box::new(table)))
    }
}

/// A value that is either one scalar (`failonstatus = "500,503"`) or an array of scalars
/// (`failonstatus = [500, 503]`), each element with its span.
#[derive(Debug)]
pub(crate) enum ScalarList {
    One(Scalar),
    List(Vec<Spanned<Scalar>>),
}

impl<'de> Deserialize<'de> for ScalarList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarListVisitor)
    }
}

struct ScalarListVisitor;

impl<'de> Visitor<'de> for ScalarListVisitor {
    type Value = ScalarList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array or a string")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarList, E> {
        ScalarVisitor.visit_bool(v).map(ScalarList::One)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarList, E> {
        ScalarVisitor.visit_i64(v).map(ScalarList::One)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarList, E> {
        ScalarVisitor.visit_u64(v).map(ScalarList::One)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarList, E> {
        ScalarVisitor.visit_f64(v).map(ScalarList::One)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarList, E> {
        ScalarVisitor.visit_str(v).map(ScalarList::One)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ScalarList, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Scalar>>()? {
            items.push(item);
        }
        Ok(ScalarList::List(items))
    }
}

/// `[balancer.insert_cookie]`: the table's presence turns insert-cookie mode on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileInsertCookie {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) domain: Option<Spanned<String>>,
    pub(crate) max_age: Option<Spanned<Scalar>>,
    pub(crate) httponly: Option<bool>,
    pub(crate) secure: Option<bool>,
    pub(crate) samesite: Option<Spanned<String>>,
}

/// One `[[balancer.member]]`. `distance` (mod_jk) is another name for `lbset`; `activation`
/// (mod_jk) and `status` (Apache) both set the initial status flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileMember {
    pub(crate) url: Option<Spanned<String>>,
    pub(crate) route: Option<Spanned<String>>,
    pub(crate) loadfactor: Option<Spanned<Scalar>>,
    pub(crate) lbset: Option<Spanned<Scalar>>,
    pub(crate) distance: Option<Spanned<Scalar>>,
    pub(crate) status: Option<Spanned<String>>,
    pub(crate) activation: Option<Spanned<String>>,
    pub(crate) redirect: Option<Spanned<String>>,
    pub(crate) domain: Option<Spanned<String>>,
    pub(crate) retry: Option<Spanned<Scalar>>,
    pub(crate) slowstart: Option<Spanned<Scalar>>,
    pub(crate) health: Option<Spanned<FileMemberHealth>>,
    /// Connection limits (`config::member_limits`).
    pub(crate) max: Option<Spanned<Scalar>>,
    pub(crate) smax: Option<Spanned<Scalar>>,
    pub(crate) ttl: Option<Spanned<Scalar>>,
    pub(crate) acquire: Option<Spanned<Scalar>>,
    pub(crate) maxqueue: Option<Spanned<Scalar>>,
    /// TLS to an `https://` member (`config::member_tls`).
    pub(crate) tls_ca: Option<Spanned<String>>,
    pub(crate) tls_verify: Option<Spanned<Scalar>>,
    pub(crate) tls_server_name: Option<Spanned<String>>,
    pub(crate) tls_client_cert: Option<Spanned<String>>,
    pub(crate) tls_client_key: Option<Spanned<String>>,
    /// AJP13 to an `ajp://` member (`config::member_ajp`).
    pub(crate) secret: Option<Spanned<String>>,
    pub(crate) packet_size: Option<Spanned<Scalar>>,
    pub(crate) ping: Option<Spanned<Scalar>>,
}

/// Any TOML scalar except a date; `validate` decides which kinds a key accepts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl fmt::Display for Scalar {
    /// Names the kind and the value, for "expected X, found Y" messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "integer {i}"),
            Scalar::Float(x) => write!(f, "float {x}"),
            Scalar::Str(s) => write!(f, "string {s:?}"),
            Scalar::Bool(b) => write!(f, "boolean {b}"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        i64::try_from(v)
            .map(Scalar::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
}

/// 1-based line of byte `offset` in `text` (offsets past the end count as the last line).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    memchr::memchr_iter(b'\n', &bytes[..end]).count() + 1
}

/// Every key of a syntactically valid document: where its name starts, and its dotted path
/// with array indices (`balancer[0].member[1].url`). Used to name the key of a serde error,
/// whose span is either the key itself (unknown key) or its value (wrong type).
#[derive(Debug)]
pub(crate) struct KeyIndex {
    keys: Vec<(usize, String)>,
}

impl KeyIndex {
    /// `None` when `text` is not valid TOML, or holds something the index cannot walk (dates).
    pub(crate) fn build(text: &str) -> Option<KeyIndex> {
        let root: Node = toml::from_str(text).ok()?;
        let mut keys = Vec::new();
        walk(&root, "", &mut keys);
        Some(KeyIndex { keys })
    }

    /// Where the key with this exact dotted path starts.
    pub(crate) fn start_of(&self, path: &str) -> Option<usize> {
        self.keys
            .iter()
            .find(|(_, p)| p == path)
            .map(|(start, _)| *start)
    }

    /// The key a serde error at `span` is about: the key whose name starts there (unknown
    /// key); for a span that starts at a `[table]` header, the last key named on that header
    /// line; else the last key that starts before the span (the key of the value at `span`).
    pub(crate) fn path_at(&self, text: &str, span: &Range<usize>) -> Option<&str> {
        let at = span.start;
        if let Some((_, path)) = self.keys.iter().find(|(start, _)| *start == at) {
            return Some(path);
        }
        if text.as_bytes().get(at) == Some(&b'[') {
            let line_end =
                memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |n| at + n);
            let on_header = self
                .keys
                .iter()
                .filter(|(start, _)| (at..line_end).contains(start));
            if let Some((_, path)) = on_header.max_by_key(|(start, _)| *start) {
                return Some(path);
            }
        }
        self.keys
            .iter()
            .filter(|(start, _)| *start <= at)
            .max_by_key(|(start, _)| *start)
            .map(|(_, path)| path.as_str())
    }
}

fn walk(node: &Node, prefix: &str, out: &mut Vec<(usize, String)>) {
    match node {
        Node::Table(entries) => {
            for (key, value) in entries {
                let path = if prefix.is_empty() {
                    key.get_ref().clone()
                } else {
                    format!("{prefix}.{}", key.get_ref())
                };
                out.push((key.span().start, path.clone()));
                walk(value, &path, out);
            }
        }
        Node::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{prefix}[{i}]"), out);
            }
        }
        Node::Leaf => {}
    }
}

/// The document's shape with key spans only: enough to map an offset to a key path.
#[derive(Debug)]
enum Node {
    Table(Vec<(Spanned<String>, Node)>),
    Array(Vec<Node>),
    Leaf,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Node::Table(entries))
    }
}

/// Best-effort key for a TOML syntax error at `offset`, from the text alone: the enclosing
/// `[table]` header (without array indices) joined with the left-hand side of the line.
pub(crate) fn guess_key(text: &str, offset: usize) -> String {
    let target = line_of(text, offset);
    let mut table = String::new();
    let mut key = String::new();
    for (i, raw) in text.lines().enumerate() {
        if i + 1 > target {
            break;
        }
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            let end = header.find(']').unwrap_or(header.len());
            table = header[..end]
                .trim_matches(|c| c == '[' || c == ' ')
                .to_owned();
            key.clear();
        } else if i + 1 == target {
            key = line.split('=').next().unwrap_or("").trim().to_owned();
        }
    }
    match (table.is_empty(), key.is_empty()) {
        (_, true) => table,
        (true, false) => key,
        (false, false) => format!("{table}.{key}"),
    }
}
