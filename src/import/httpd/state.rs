//! What the directives of an httpd configuration say, gathered before anything is emitted:
//! httpd decides much of it only once everything is read (a `ProxyPass` may come before the
//! `<Proxy>` it names; `ProxySet` replaces what `ProxyPass` set).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::params::Folded;
use crate::import::model::Keys;
use crate::import::modjk::JkMount;
use crate::import::Loc;

/// One `balancer://NAME` as httpd sees it in one server (the main one or a vhost).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Bal {
    /// The name, lowercased (httpd compares balancer names case-insensitively).
    pub(super) name: String,
    /// The server it was defined in (by `<Proxy>`, `BalancerMember` or `ProxyPass`).
    pub(super) vhost: Option<usize>,
    pub(super) loc: Loc,
    pub(super) keys: Keys,
    pub(super) members: Vec<Member>,
    /// `ProxyPassReverseCookiePath` / `...Domain` maps that apply to it (from -> to).
    pub(super) cookie_path: BTreeMap<String, String>,
    pub(super) cookie_domain: BTreeMap<String, String>,
    /// A plain `ProxyPass` backend made into a balancer of one member.
    pub(super) direct: bool,
    /// Defined by `<Proxy>` or `BalancerMember` (not only named by a `ProxyPass`).
    pub(super) defined: bool,
}

impl Default for Bal {
    fn default() -> Bal {
        Bal {
            name: String::new(),
            vhost: None,
            loc: Loc::none(),
            keys: Keys::new(),
            members: Vec::new(),
            cookie_path: BTreeMap::new(),
            cookie_domain: BTreeMap::new(),
            direct: false,
            defined: false,
        }
    }
}

/// One `BalancerMember`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Member {
    pub(super) loc: Loc,
    /// `scheme://host[:port]`, no path.
    pub(super) url: String,
    /// The URL's path ("" when none), which httpd puts before the request's remainder.
    pub(super) path: String,
    pub(super) keys: Keys,
}

/// What a `ProxyPass` (or `ProxyPassMatch`, or the one-argument form in `<Location>`) maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Match {
    Prefix(String),
    Regex(String),
}

/// Where a rule sends what it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// `!`.
    Exclude,
    /// `balancer://NAME/PATH`: which `NAME` the server sees is decided once all is read.
    Balancer { name: String, path: String },
    /// A plain backend (`http://host/PATH`), made into the balancer `bals[bal]`.
    Direct { bal: usize, path: String },
}

/// One `ProxyPass`-like rule, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rule {
    pub(super) loc: Loc,
    pub(super) vhost: Option<usize>,
    /// How the report names it (`ProxyPass /app balancer://c/`).
    pub(super) shown: String,
    pub(super) pattern: Match,
    pub(super) target: Target,
    /// What became of its parameters, when not everything was imported.
    pub(super) notes: Vec<String>,
}

/// One `<VirtualHost>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct VhostInfo {
    pub(super) loc: Loc,
    /// Its addresses as written (`*:80`, `_default_:443`, `10.0.0.1`).
    pub(super) addrs: Vec<String>,
    pub(super) server_name: Option<String>,
    pub(super) aliases: Vec<String>,
    /// `SSLEngine on`.
    pub(super) ssl: bool,
    pub(super) cert: Option<(Loc, String)>,
    pub(super) key: Option<(Loc, String)>,
    /// `JkMountCopy On` (or `All` in the main server).
    pub(super) jk_mount_copy: bool,
}

impl VhostInfo {
    pub(super) fn new(loc: Loc, addrs: Vec<String>) -> VhostInfo {
        VhostInfo {
            loc,
            addrs,
            server_name: None,
            aliases: Vec::new(),
            ssl: false,
            cert: None,
            key: None,
            jk_mount_copy: false,
        }
    }
}

/// A `ProxyPassReverse PATH URL` seen, to be matched with the mount it reverses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reverse {
    pub(super) loc: Loc,
    pub(super) vhost: Option<usize>,
    pub(super) path: String,
    pub(super) url: String,
}

/// A server's `SSLProxy*` settings: how its `https://` members are checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct SslProxy {
    /// `SSLProxyCACertificateFile` (absolute).
    pub(super) ca: Option<(Loc, String)>,
    /// `SSLProxyVerify`, lowercased (`none`, `optional`, `require`, `optional_no_ca`).
    pub(super) verify: Option<(Loc, String)>,
    /// `SSLProxyMachineCertificateFile` (absolute): certificate and key in one PEM file.
    pub(super) client_cert: Option<(Loc, String)>,
}

/// Everything gathered from the directives.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct State {
    pub(super) bals: Vec<Bal>,
    pub(super) rules: Vec<Rule>,
    pub(super) reverses: Vec<Reverse>,
    pub(super) vhosts: Vec<VhostInfo>,
    /// `JkMount`s (and unmounts) by server, in file order.
    pub(super) jk_mounts: Vec<(Option<usize>, JkMount)>,
    /// `JkWorkersFile` (the last one wins, as in mod_jk).
    pub(super) jk_workers: Option<(Loc, PathBuf)>,
    /// `JkMountFile`s by server.
    pub(super) jk_mount_files: Vec<(Option<usize>, Loc, PathBuf)>,
    /// The main server's `JkMountCopy All`.
    pub(super) jk_mount_copy_all: bool,
    /// `SetEnvIf[NoCase] Request_URI RE no-jk` of a server: the regex (`(?i)` for NoCase)
    /// whose matches mod_jk declines; the main server's hold in every vhost too.
    pub(super) no_jk: Vec<NoJk>,
    /// `Listen` addresses (`IP:PORT`), in order.
    pub(super) listen: Vec<(Loc, String)>,
    pub(super) main_server_name: Option<String>,
    /// `ProxyHCExpr NAME {EXPR}`, names lowercased.
    pub(super) hcexprs: BTreeMap<String, String>,
    /// `LogFormat` nicknames.
    pub(super) log_formats: BTreeMap<String, String>,
    /// The `Header add Set-Cookie "NAME=.%{BALANCER_WORKER_ROUTE}e; path=P"` recipe: where,
    /// its server, the cookie name and path.
    pub(super) route_cookies: Vec<(Loc, Option<usize>, String, String)>,
    /// Member timeouts ringlb has only globally.
    pub(super) folded: Folded,
    /// `ProxyPassReverseCookiePath`/`...Domain` by server: (loc, vhost, domain?, from, to).
    pub(super) cookie_maps: Vec<(Loc, Option<usize>, bool, String, String)>,
    /// `Require ip`, `Require local`, `Allow from` in `<Location>`s.
    pub(super) access: Vec<Access>,
    /// `ProxyIOBufferSize`: the AJP packet size.
    pub(super) packet_size: Option<(Loc, i64)>,
    /// Whether a directive set these `[timeouts]` keys (then member values do not).
    pub(super) set_response: bool,
    pub(super) set_connect: bool,
    /// `SSLProxy*` by server (`None`: the main server, which the vhosts inherit from).
    pub(super) ssl_proxy: BTreeMap<Option<usize>, SslProxy>,
    /// The `balancer-manager` handler: where, its server and its `<Location>`.
    pub(super) manager: Option<(Loc, Option<usize>, String)>,
}

/// One `Require`/`Allow` in a `<Location>`: reported once it is known whether it guards the
/// balancer-manager.
/// One `SetEnvIf Request_URI RE no-jk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NoJk {
    pub(super) loc: Loc,
    pub(super) vhost: Option<usize>,
    pub(super) shown: String,
    pub(super) regex: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Access {
    pub(super) loc: Loc,
    pub(super) shown: String,
    pub(super) vhost: Option<usize>,
    pub(super) path: String,
    /// The addresses it allows (`127.0.0.1`, `10.1`, `all`), empty when it is another kind.
    pub(super) addrs: Vec<String>,
}

impl State {
    /// The balancer `name` as server `vhost` sees it: its own, else the main server's.
    pub(super) fn find(&self, name: &str, vhost: Option<usize>) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        let own = |v: Option<usize>| {
            self.bals
                .iter()
                .position(|b| !b.direct && b.name == name && b.vhost == v)
        };
        own(vhost).or_else(|| vhost.and_then(|_| own(None)))
    }

    /// [`find`](Self::find), creating the balancer in `vhost` when there is none (as
    /// `ProxyPass` and `BalancerMember` create it in httpd).
    pub(super) fn find_or_add(&mut self, name: &str, vhost: Option<usize>, loc: &Loc) -> usize {
        if let Some(i) = self.find(name, vhost) {
            return i;
        }
        self.bals.push(Bal {
            name: name.to_ascii_lowercase(),
            vhost,
            loc: loc.clone(),
            ..Bal::default()
        });
        self.bals.len() - 1
    }
}
