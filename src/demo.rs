//! `ringlb demo`: ringlb in front of built-in members that behave like Tomcat with a
//! `jvmRoute`: a session cookie `JSESSIONID=<hex>.<route>`, a per-session counter, and a page
//! that says which member served it. Members run on plain threads on loopback; they are demo
//! fixtures, not part of the proxy's data path.

#![allow(clippy::disallowed_types)] // the demo members share a session map behind a Mutex

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::admin::{self, server::AdminServer};
use crate::blocking::{self, Message, Role};
use crate::cli::{DemoArgs, DemoHttps};
use crate::config::{
    AdminConfig, BalancerConfig, Config, Forwarded, LbMethod, Limits, ListenerConfig, MemberConfig,
    Ops, Sticky, Timeouts, TlsConfig, DEFAULT_ALPN, DEFAULT_PROTOCOLS,
};
use crate::server::{self, ServerHandle};

/// The demo members: (route, loadfactor).
const MEMBERS: [(&str, u32); 3] = [("node1", 1), ("node2", 1), ("node3", 2)];

/// A running demo: the proxy and its members.
#[derive(Debug)]
pub struct Demo {
    pub server: ServerHandle,
    /// The manager page, JSON API and metrics (on the listen port + 1, e.g. 8081).
    pub admin: AdminServer,
    pub members: Vec<DemoMember>,
}

/// Starts the members on consecutive ports from `args.member_port` (0 = any free ports) and
/// ringlb on `args.listen` in front of them, and on `args.https` with TLS if given. A
/// certificate or key that cannot be used fails the start, the error naming the file.
pub fn start(args: &DemoArgs) -> io::Result<Demo> {
    let mut members = Vec::new();
    for (i, (route, _)) in MEMBERS.iter().enumerate() {
        let port = if args.member_port == 0 {
            0
        } else {
            args.member_port + i as u16
        };
        members.push(DemoMember::start(
            SocketAddr::from(([127, 0, 0, 1], port)),
            route,
        )?);
    }
    let config = demo_config(args, &members);
    let admin_cfg = config.ops.admin.clone().unwrap_or_default();
    let server = server::start(Arc::new(config)).map_err(flag_names)?;
    let admin = admin::server::start(&admin_cfg, server.controller().clone())?;
    Ok(Demo {
        server,
        admin,
        members,
    })
}

/// A start error about the TLS listener names the flags (`--cert FILE: ...`) instead of the
/// config keys (`listener[0].cert FILE: ...`) the demo has no file for.
fn flag_names(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.strip_prefix("listener[0].") {
        Some(rest) if rest.starts_with("cert ") || rest.starts_with("key ") => {
            io::Error::new(e.kind(), format!("--{rest}"))
        }
        _ => e,
    }
}

/// What the demo prints on start: where everything listens and what to try.
pub fn banner(demo: &Demo) -> String {
    let addr = demo.server.local_addrs()[0];
    let mut s = String::new();
    for w in demo.server.workers() {
        let cpu = w.cpu.map_or("unpinned".to_string(), |c| format!("cpu {c}"));
        s += &format!("ringlb: worker {} on {cpu}, driver {}\n", w.index, w.driver);
    }
    s += &format!("ringlb demo: balancer http://{addr}/ (byrequests, sticky on JSESSIONID)\n");
    // The TLS listener, if any, is the one after the plain address.
    let https = demo.server.local_addrs().get(1).copied();
    if let Some(https) = https {
        s += &format!("  https: https://{https}/ (TLS; HTTP/2 or HTTP/1.1 by ALPN)\n");
    }
    let admin = demo.admin.local_addr();
    s += &format!("  manager: http://{admin}/balancer-manager   metrics: http://{admin}/metrics\n");
    for (m, (route, lf)) in demo.members.iter().zip(MEMBERS) {
        s += &format!("  member {route}: http://{} loadfactor {lf}\n", m.addr);
    }
    s += &format!(
        "Try:\n  curl -si http://{addr}/                      # a new session; note the route in Set-Cookie\n  \
         curl -s -c /tmp/ringlb-demo.jar -b /tmp/ringlb-demo.jar http://{addr}/   # repeat: same member, counter grows\n  \
         for i in 1 2 3 4 5 6 7 8; do curl -s http://{addr}/ | head -1; done   # new sessions spread 1:1:2\n  \
         curl -s 'http://{addr}/;jsessionid=0.node3'   # route in the URL, as Tomcat's URL rewriting does\n"
    );
    if let Some(https) = https {
        s += &format!(
            "  curl -sk --http2 -w '%{{http_version}}\\n' https://{https}/   # over TLS and HTTP/2 (-k: a test certificate)\n"
        );
    }
    s += "Stop with Ctrl-C.\n";
    s
}

fn demo_config(args: &DemoArgs, members: &[DemoMember]) -> Config {
    Config {
        source: "<demo>".into(),
        workers: args.workers,
        io_driver: args.io_driver,
        listen: vec![args.listen],
        listeners: args.https.iter().map(https_listener).collect(),
        timeouts: Timeouts::default(),
        limits: Limits::default(),
        forwarded: Forwarded::default(),
        trust: Default::default(),
        stats: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        ops: Ops {
            admin: Some(admin_for(args.listen)),
            ..Ops::default()
        },
        balancers: vec![BalancerConfig {
            name: "demo".into(),
            mount: Some(crate::config::PathMount::new("/", "/")),
            lbmethod: LbMethod::ByRequests,
            options: Default::default(),
            sticky: Some(Sticky {
                cookie_name: "JSESSIONID".into(),
                url_name: "jsessionid".into(),
                sep: Some(b'.'),
                scolonpathdelim: true,
            }),
            members: members
                .iter()
                .zip(MEMBERS)
                .map(|(m, (route, lf))| MemberConfig {
                    url: format!("http://{}", m.addr),
                    addr: m.addr,
                    dns_name: None,
                    authority: m.addr.to_string(),
                    route: route.into(),
                    lbfactor: lf * 100,
                    options: Default::default(),
                })
                .collect(),
        }],
    }
}

/// The `--https` listener: TLS with the given pair, the default ALPN (`h2`, `http/1.1`) and
/// protocols, every other key at its default.
fn https_listener(https: &DemoHttps) -> ListenerConfig {
    ListenerConfig {
        address: https.listen,
        tls: Some(TlsConfig {
            cert: https.cert.clone(),
            key: https.key.clone(),
            sni: Vec::new(),
            alpn: DEFAULT_ALPN.to_vec(),
            protocols: DEFAULT_PROTOCOLS.to_vec(),
            ssl_headers: false,
            client_auth: None,
        }),
        hsts: None,
        redirect_https: false,
        proxy_protocol: false,
    }
}

/// The demo's admin listener: the traffic address with the next port (8080 -> 8081), or any
/// free port when the traffic port is chosen by the system.
fn admin_for(listen: SocketAddr) -> AdminConfig {
    let port = if listen.port() == 0 {
        0
    } else {
        listen.port().saturating_add(1)
    };
    AdminConfig {
        listen: SocketAddr::new(listen.ip(), port),
        ..AdminConfig::default()
    }
}

/// One Tomcat-like member: sessions keyed by id, each with a counter.
#[derive(Debug)]
pub struct DemoMember {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

#[derive(Debug)]
struct MemberState {
    route: String,
    addr: SocketAddr,
    sessions: Mutex<HashMap<String, u64>>,
    next_id: AtomicU64,
}

impl DemoMember {
    /// Binds `addr` and serves on a thread per connection until dropped.
    pub fn start(addr: SocketAddr, route: &str) -> io::Result<DemoMember> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(MemberState {
            route: route.to_string(),
            addr,
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(seed(addr)),
        });
        let stop_flag = stop.clone();
        std::thread::Builder::new()
            .name(format!("demo-{route}"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop_flag.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let state = state.clone();
                        let _ = std::thread::Builder::new()
                            .name("demo-conn".into())
                            .spawn(move || serve_member(stream, &state));
                    }
                }
            })?;
        Ok(DemoMember { addr, stop })
    }
}

impl Drop for DemoMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
    }
}

fn seed(addr: SocketAddr) -> u64 {
    let t = std::time::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(addr.port()) << 48)
}

/// splitmix64: spreads a counter into a well-mixed session id.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a demo member reads of one request.
const LIMITS: blocking::Limits = blocking::Limits {
    head: 64 * 1024,
    headers: 64,
    body: 1 << 20,
};

fn serve_member(mut stream: TcpStream, state: &MemberState) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::with_capacity(4096);
    // Any error ends the connection: a close, a timeout, a malformed or too large request.
    while let Ok(request) =
        blocking::read_message(&mut stream, &mut buf, Role::Request, LIMITS, None)
    {
        let response = respond(state, session(&request).as_deref());
        if stream.write_all(&response).is_err() || !request.keep_alive {
            return;
        }
    }
}

/// The session id a request names: `;jsessionid=` in the path first, as Tomcat reads it,
/// then the `JSESSIONID` cookie; the route after the `.` is not part of it.
fn session(request: &Message) -> Option<String> {
    session_id(request.target(), ";jsessionid=").or_else(|| {
        let cookies = String::from_utf8_lossy(request.header("cookie")?).into_owned();
        cookies
            .split(';')
            .find_map(|c| c.trim().strip_prefix("JSESSIONID="))
            .map(|v| v.split('.').next().unwrap_or(v).to_string())
    })
}

fn session_id(path: &str, key: &str) -> Option<String> {
    let at = path.find(key)? + key.len();
    let value = &path[at..];
    let end = value.find(['?', ';', '/', '&', '.']).unwrap_or(value.len());
    (end > 0).then(|| value[..end].to_string())
}

fn respond(state: &MemberState, session: Option<&str>) -> Vec<u8> {
    let (id, count, new) = {
        let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        match session.and_then(|id| sessions.get_mut(id).map(|c| (id, c))) {
            Some((id, count)) => {
                *count += 1;
                (id.to_string(), *count, false)
            }
            None => {
                let id = format!(
                    "{:016X}",
                    mix(state.next_id.fetch_add(1, Ordering::Relaxed))
                );
                sessions.insert(id.clone(), 1);
                (id, 1, true)
            }
        }
    };
    let body = format!(
        "member {} ({}) served this request\nsession {id}.{} ({})\ncounter {count}\n",
        state.route,
        state.addr,
        state.route,
        if new { "new" } else { "existing" },
    );
    let cookie = format!("JSESSIONID={id}.{}; Path=/; HttpOnly", state.route);
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    if new {
        headers.push(("Set-Cookie", &cookie));
    }
    blocking::response_bytes(200, &headers, body.as_bytes(), false)
}
