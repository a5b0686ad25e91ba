//! The balancer-manager XML document (`/balancer-manager?xml=1`), in the shape httpd 2.4's
//! `mod_proxy_balancer` prints, so scripts that parse httpd's document read ringlb's.
//!
//! Pure: string in, string out; every value goes through [`escape_html`]. As in httpd, every
//! balancer is listed whatever `b=` names. Elements follow httpd's order; the ones ringlb has no
//! value for (`min`, `smax`, `ttl`, `retries`, `lbstatus`, `timeout`, ...) are left out rather
//! than invented. Two differences from httpd, both additions a parser of httpd's document
//! ignores: `httpd:nonce` (only when the caller may change things: ringlb has one nonce per
//! listener, and it is the one the form POST accepts), and `httpd:max` only for a member with
//! `max`.
//!
//! `httpd:status` is built as httpd's `ap_proxy_parse_wstatus` builds it: `Init ` (ringlb's
//! members are always initialized), then one word per flag in httpd's table order (`Ign `,
//! `Drn `, `Dis `, `Stop `, `Err `, `Stby `, `HcFl `, `Spar `), then `Ok ` when the member is
//! usable in httpd's sense (not disabled, stopped, in error or failing its check; a draining
//! member is usable). So a healthy member is `"Init Ok "` and a drained one `"Init Drn Ok "`.

use std::fmt::Write;

use super::html::escape_html;
use super::model::{BalancerView, Health, MemberView, Snapshot};

/// `Content-Type` of the document (httpd sends `text/xml`).
pub const CONTENT_TYPE: &str = "text/xml";

/// httpd's flag words in its table order, with ringlb's status letter for each.
const STATUS_WORDS: [(char, &str); 8] = [
    ('I', "Ign "),
    ('N', "Drn "),
    ('D', "Dis "),
    ('S', "Stop "),
    ('E', "Err "),
    ('H', "Stby "),
    ('C', "HcFl "),
    ('R', "Spar "),
];

/// The document for `snap`; `nonce` is shown in each balancer when given.
pub fn render_manager_xml(snap: &Snapshot, nonce: Option<&str>) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version='1.0' encoding='UTF-8' ?>\n");
    out.push_str("<httpd:manager xmlns:httpd='http://httpd.apache.org'>\n");
    out.push_str("  <httpd:balancers>\n");
    for b in &snap.balancers {
        balancer(&mut out, b, nonce);
    }
    out.push_str("  </httpd:balancers>\n");
    out.push_str("</httpd:manager>");
    out
}

fn element(out: &mut String, indent: usize, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "{:indent$}<httpd:{name}>{}</httpd:{name}>",
        "",
        escape_html(value)
    );
}

fn on_off(flag: bool) -> &'static str {
    if flag {
        "On"
    } else {
        "Off"
    }
}

fn balancer(out: &mut String, b: &BalancerView, nonce: Option<&str>) {
    out.push_str("    <httpd:balancer>\n");
    element(out, 6, "name", &format!("balancer://{}", b.name));
    if let Some(n) = nonce {
        element(out, 6, "nonce", n);
    }
    if let Some(sticky) = &b.sticky {
        element(out, 6, "stickysession", sticky);
        element(out, 6, "nofailover", on_off(b.nofailover));
    }
    if let Some(max) = b.maxattempts {
        element(out, 6, "maxattempts", &max.to_string());
    }
    element(out, 6, "lbmethod", &b.lbmethod);
    out.push_str("      <httpd:workers>\n");
    for m in &b.members {
        worker(out, m);
    }
    out.push_str("      </httpd:workers>\n");
    out.push_str("    </httpd:balancer>\n");
}

fn worker(out: &mut String, m: &MemberView) {
    let lf = format!("{:.2}", m.loadfactor);
    out.push_str("        <httpd:worker>\n");
    element(out, 10, "name", &m.url);
    if let Some((scheme, host, port)) = split_url(&m.url) {
        element(out, 10, "scheme", scheme);
        element(out, 10, "hostname", host);
        element(out, 10, "loadfactor", &lf);
        element(out, 10, "port", &port.to_string());
    } else {
        element(out, 10, "loadfactor", &lf);
    }
    if let Some(limit) = &m.limit {
        element(out, 10, "max", &limit.max.to_string());
    }
    element(out, 10, "status", &status_words(&m.status, m.health));
    element(out, 10, "loadfactor", &lf);
    element(out, 10, "transferred", &m.bytes_out.to_string());
    element(out, 10, "read", &m.bytes_in.to_string());
    element(out, 10, "elected", &m.requests.to_string());
    element(out, 10, "route", &m.route);
    element(out, 10, "redirect", &m.redirect);
    element(out, 10, "busy", &m.busy.to_string());
    element(out, 10, "lbset", &m.lbset.to_string());
    out.push_str("        </httpd:worker>\n");
}

/// httpd's status string for a member with status `letters` and usability `health`.
pub fn status_words(letters: &str, health: Health) -> String {
    let set = |letter: char| {
        letters.contains(letter)
            || matches!(
                (letter, health),
                ('E', Health::InError { .. }) | ('C', Health::HcFailed)
            )
    };
    let mut out = String::from("Init ");
    for (letter, word) in STATUS_WORDS {
        if set(letter) {
            out.push_str(word);
        }
    }
    if !['D', 'S', 'E', 'C'].into_iter().any(set) {
        out.push_str("Ok ");
    }
    out
}

/// `(scheme, host, port)` of a member URL such as `http://10.0.0.1:8080/app` or
/// `http://[::1]`; the port defaults by scheme. `None` when it is not of that form.
pub(super) fn split_url(url: &str) -> Option<(&str, &str, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            (&authority[..i], authority[i + 1..].parse().ok()?)
        }
        _ => (authority, if scheme == "https" { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then_some((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_follow_httpd() {
        let cases: &[(&str, Health, &str)] = &[
            ("", Health::Ok, "Init Ok "),
            ("N", Health::Draining, "Init Drn Ok "),
            ("D", Health::Disabled, "Init Dis "),
            ("S", Health::Stopped, "Init Stop "),
            ("", Health::InError { retry_in_secs: 3 }, "Init Err "),
            ("E", Health::InError { retry_in_secs: 0 }, "Init Err "),
            ("", Health::HcFailed, "Init HcFl "),
            ("H", Health::Ok, "Init Stby Ok "),
            ("R", Health::Ok, "Init Spar Ok "),
            ("IN", Health::Draining, "Init Ign Drn Ok "),
            ("DS", Health::Stopped, "Init Dis Stop "),
        ];
        for (letters, health, want) in cases {
            assert_eq!(
                status_words(letters, *health),
                *want,
                "{letters} {health:?}"
            );
        }
    }

    #[test]
    fn urls_split_into_scheme_host_port() {
        type Parts<'a> = Option<(&'a str, &'a str, u16)>;
        let cases: &[(&str, Parts)] = &[
            ("http://10.0.0.1:8080", Some(("http", "10.0.0.1", 8080))),
            ("http://app.example/x", Some(("http", "app.example", 80))),
            ("https://app.example", Some(("https", "app.example", 443))),
            ("http://[::1]:81", Some(("http", "::1", 81))),
            ("http://[::1]", Some(("http", "::1", 80))),
            ("http://h:notaport", None),
            ("no-scheme", None),
            ("http://", None),
        ];
        for (url, want) in cases {
            assert_eq!(split_url(url), *want, "{url}");
        }
    }

    fn snap() -> Snapshot {
        Snapshot {
            balancers: vec![
                BalancerView {
                    name: "app".into(),
                    lbmethod: "byrequests".into(),
                    sticky: Some("JSESSIONID|jsessionid".into()),
                    members: vec![MemberView {
                        url: "http://127.0.0.1:8081".into(),
                        route: "n<1>".into(),
                        loadfactor: 2.5,
                        lbset: 1,
                        status: "N".into(),
                        health: Health::Draining,
                        busy: 3,
                        requests: 10,
                        bytes_in: 100,
                        bytes_out: 200,
                        ..MemberView::default()
                    }],
                    ..BalancerView::default()
                },
                BalancerView {
                    name: "b&c".into(),
                    lbmethod: "bybusyness".into(),
                    maxattempts: Some(2),
                    ..BalancerView::default()
                },
            ],
            ..Snapshot::default()
        }
    }

    #[test]
    fn document_has_httpds_shape() {
        let doc = render_manager_xml(&snap(), Some("n0nce"));
        let want = "\
<?xml version='1.0' encoding='UTF-8' ?>
<httpd:manager xmlns:httpd='http://httpd.apache.org'>
  <httpd:balancers>
    <httpd:balancer>
      <httpd:name>balancer://app</httpd:name>
      <httpd:nonce>n0nce</httpd:nonce>
      <httpd:stickysession>JSESSIONID|jsessionid</httpd:stickysession>
      <httpd:nofailover>Off</httpd:nofailover>
      <httpd:lbmethod>byrequests</httpd:lbmethod>
      <httpd:workers>
        <httpd:worker>
          <httpd:name>http://127.0.0.1:8081</httpd:name>
          <httpd:scheme>http</httpd:scheme>
          <httpd:hostname>127.0.0.1</httpd:hostname>
          <httpd:loadfactor>2.50</httpd:loadfactor>
          <httpd:port>8081</httpd:port>
          <httpd:status>Init Drn Ok </httpd:status>
          <httpd:loadfactor>2.50</httpd:loadfactor>
          <httpd:transferred>200</httpd:transferred>
          <httpd:read>100</httpd:read>
          <httpd:elected>10</httpd:elected>
          <httpd:route>n&lt;1&gt;</httpd:route>
          <httpd:redirect></httpd:redirect>
          <httpd:busy>3</httpd:busy>
          <httpd:lbset>1</httpd:lbset>
        </httpd:worker>
      </httpd:workers>
    </httpd:balancer>
    <httpd:balancer>
      <httpd:name>balancer://b&amp;c</httpd:name>
      <httpd:nonce>n0nce</httpd:nonce>
      <httpd:maxattempts>2</httpd:maxattempts>
      <httpd:lbmethod>bybusyness</httpd:lbmethod>
      <httpd:workers>
      </httpd:workers>
    </httpd:balancer>
  </httpd:balancers>
</httpd:manager>";
        assert_eq!(doc, want);
    }

    #[test]
    fn no_nonce_for_read_only_callers() {
        let doc = render_manager_xml(&snap(), None);
        assert!(!doc.contains("nonce"), "{doc}");
        assert!(doc.contains("<httpd:name>balancer://app</httpd:name>"));
    }
}
