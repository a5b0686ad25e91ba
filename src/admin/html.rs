//! The balancer-manager page: one self-contained HTML5 document (inline CSS, no JavaScript, no
//! external assets) rendered from a [`Snapshot`].
//!
//! Pure: string in, string out. Every piece of text from the snapshot goes through
//! [`escape_html`]. The forms post Apache's field names (see [`super::form`]) to `base_path`, so
//! the page and `mod_proxy_balancer` scripts drive the same parser. Without a nonce (a client
//! outside `allow`) the page is read-only: no form, no button, no nonce. Stable element ids for
//! scripts and browser tests, with `KEY` = the member's route, or its 0-based index when it has
//! none:
//!
//! | id | element |
//! |---|---|
//! | `balancer-B` | the balancer's section |
//! | `member-B-KEY` | the member's table row |
//! | `edit-B-KEY` | the member's edit form |
//! | `drain-B-KEY` | button: set `N` (drain) |
//! | `undrain-B-KEY` | button: clear `N` (only when `N` is set) |
//! | `remove-B-KEY` | button: remove the member |
//! | `add-B` | the balancer's "add member" form |

use std::fmt::Write;

use super::model::{BalancerView, MemberView, Snapshot};

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

mod controls;
mod runtime;
mod text;
pub use controls::PageView;
use controls::{render_confirm_remove, render_refresh_choice};
use runtime::{render_listeners, render_workers};
pub use text::{escape_html, health_text, human_bytes, human_duration, utc_datetime};
use text::{flag_title, on_off};

/// Status letters the edit form offers as checkboxes, with their meaning (docs/semantics.md §4).
pub const EDITABLE_FLAGS: [(char, &str); 6] = [
    ('D', "Disabled"),
    ('S', "Stopped"),
    ('N', "Drain"),
    ('H', "Hot standby"),
    ('R', "Hot spare"),
    ('I', "Ignore errors"),
];

/// Columns of the member table; the edit row spans all of them.
const MEMBER_COLUMNS: usize = 18;

const CSS: &str = "\
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1em;color:#1d2630;background:#fafbfc}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .3em}
.meta{color:#5b6773;margin:0 0 1em}
.message{background:#e7f4ea;border:1px solid #8cc79b;padding:.5em .8em;border-radius:4px}
dl.settings{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.3em 0 .8em}
dl.settings dt{color:#5b6773}dl.settings dd{margin:0}
table{border-collapse:collapse;background:#fff;margin-bottom:.5em;max-width:100%;font-size:13px}
th,td{border:1px solid #d5dbe1;padding:.2em .35em;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
th{background:#eef1f4;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.edit td{background:#f6f8fa;border-top:none}
.flag{display:inline-block;min-width:1.2em;text-align:center;border-radius:3px;padding:0 .3em;margin-right:.15em;background:#dfe3e8;font-weight:600;cursor:help}
.flag-D,.flag-S,.flag-E,.flag-C{background:#f6d5d5;color:#8a1c1c}
.flag-N{background:#fbe9c6;color:#7a5200}
.flag-H,.flag-R{background:#d8e6f8;color:#1f4a80}
.health{font-weight:600;white-space:nowrap}
.health-ok{color:#1c7a34}.health-error,.health-hc_failed{color:#b3261e}
.health-draining,.health-disabled{color:#8a6100}.health-stopped{color:#5b6773}
.err{color:#8a1c1c;max-width:22em;overflow-wrap:anywhere}.check-ok{color:#1c7a34}
form{display:inline;margin:0}
form.edit label{margin-right:.8em;white-space:nowrap}
form.edit input[type=number]{width:3.5em}form.edit input[type=text]{width:6.5em}
form.add{display:block;margin:.3em 0 1em}
button{cursor:pointer}
.muted{color:#8b96a1}
";

/// Renders the whole manager page. `nonce` goes into every form; `None` renders the
/// read-only page, which has neither forms nor the nonce. `base_path` (e.g.
/// `/balancer-manager`) is every form's `action`; `message`, when given, is shown at the top
/// (e.g. the result of the last action).
pub fn render_manager(
    snapshot: &Snapshot,
    nonce: Option<&str>,
    base_path: &str,
    message: Option<&str>,
) -> String {
    render_manager_view(snapshot, nonce, base_path, message, &PageView::default())
}

/// [`render_manager`] as `view` asks.
pub fn render_manager_view(
    snapshot: &Snapshot,
    nonce: Option<&str>,
    base_path: &str,
    message: Option<&str>,
    view: &PageView,
) -> String {
    let mut out = String::with_capacity(8192 + snapshot.balancers.len() * 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    if let Some(n) = view.refresh {
        w!(
            out,
            "<meta http-equiv=\"refresh\" content=\"{n};url={}?refresh={n}\">\n",
            escape_html(base_path)
        );
    }
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>ringlb balancer manager</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<h1>ringlb balancer manager</h1>\n");
    w!(
        out,
        "<p class=\"meta\">ringlb {} &middot; up {} &middot; snapshot {} UTC</p>\n",
        escape_html(&snapshot.version),
        human_duration(snapshot.uptime_secs),
        utc_datetime(snapshot.now_unix)
    );
    if let Some(message) = message {
        w!(
            out,
            "<p class=\"message\" role=\"status\">{}</p>\n",
            escape_html(message)
        );
    }
    let forms = nonce.map(|nonce| FormCtx {
        action: escape_html(base_path),
        nonce: escape_html(nonce),
    });
    if let (Some(forms), Some((b, w))) = (&forms, &view.confirm_remove) {
        let known = (snapshot.balancers.iter())
            .any(|bv| &bv.name == b && bv.members.iter().any(|m| &m.url == w));
        if known {
            render_confirm_remove(&mut out, forms, b, w);
        }
    }
    render_refresh_choice(&mut out, base_path, view.refresh);
    if forms.is_none() {
        out.push_str(
            "<p class=\"message\" role=\"status\">Read-only: changes are accepted only from \
             the addresses in <code>[admin] allow</code>.</p>\n",
        );
    }
    for balancer in &snapshot.balancers {
        render_balancer(&mut out, balancer, forms.as_ref());
    }
    render_overrides(&mut out, &snapshot.overrides, forms.as_ref());
    render_workers(&mut out, &snapshot.workers);
    render_listeners(&mut out, &snapshot.listeners);
    out.push_str("</body>\n</html>\n");
    out
}

/// Attribute values shared by every form, already escaped.
struct FormCtx {
    action: String,
    nonce: String,
}

impl FormCtx {
    /// Opens a POST form and writes the hidden `b` (and `w`, when given) and `nonce` fields.
    fn open(&self, out: &mut String, attrs: &str, balancer: &str, member: Option<&str>) {
        w!(
            out,
            "<form method=\"post\" action=\"{}\"{attrs}>",
            self.action
        );
        hidden(out, "b", balancer);
        if let Some(member) = member {
            hidden(out, "w", member);
        }
        w!(
            out,
            "<input type=\"hidden\" name=\"nonce\" value=\"{}\">",
            self.nonce
        );
    }
}

/// The operator's overrides of the file, and the button that ends them all.
fn render_overrides(out: &mut String, overrides: &[String], forms: Option<&FormCtx>) {
    out.push_str("<section class=\"overrides\" id=\"overrides\">\n<h2>Overrides</h2>\n");
    if overrides.is_empty() {
        out.push_str("<p>None: the configuration file's values are in force.</p>\n");
    } else {
        out.push_str(
            "<p>Changes made here hold across reloads until the file changes the same key \
             (then the file wins) or they are cleared.</p>\n<ul>\n",
        );
        for line in overrides {
            w!(out, "<li>{}</li>\n", escape_html(line));
        }
        out.push_str("</ul>\n");
        if let Some(forms) = forms {
            w!(out, "<form method=\"post\" action=\"{}\">", forms.action);
            hidden(out, "clear_overrides", "1");
            w!(
                out,
                "<input type=\"hidden\" name=\"nonce\" value=\"{}\">",
                forms.nonce
            );
            out.push_str("<button type=\"submit\">Clear all overrides</button></form>\n");
        }
    }
    out.push_str("</section>\n");
}

fn hidden(out: &mut String, name: &str, value: &str) {
    w!(
        out,
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape_html(value)
    );
}

fn render_balancer(out: &mut String, b: &BalancerView, forms: Option<&FormCtx>) {
    let name = escape_html(&b.name);
    let up = b.members.iter().filter(|m| m.health.is_up()).count();
    w!(
        out,
        "<section class=\"balancer\" id=\"balancer-{name}\">\n<h2>balancer://{name} \
         <span class=\"muted\">({up} of {} members up)</span></h2>\n",
        b.members.len()
    );
    out.push_str("<dl class=\"settings\">");
    w!(out, "<dt>Mount</dt><dd>{}</dd>", escape_html(&b.mount));
    w!(out, "<dt>Method</dt><dd>{}</dd>", escape_html(&b.lbmethod));
    let sticky = match &b.sticky {
        None => "none".to_owned(),
        Some(s) => match s.split_once('|') {
            Some((cookie, url)) => format!(
                "cookie {}, URL parameter {}",
                escape_html(cookie),
                escape_html(url)
            ),
            None => format!("{0} (cookie and URL parameter)", escape_html(s)),
        },
    };
    w!(out, "<dt>Sticky session</dt><dd>{sticky}</dd>");
    w!(out, "<dt>No failover</dt><dd>{}</dd>", on_off(b.nofailover));
    w!(
        out,
        "<dt>Force recovery</dt><dd>{}</dd>",
        on_off(b.forcerecovery)
    );
    match b.maxattempts {
        Some(n) => w!(out, "<dt>Max attempts</dt><dd>{n}</dd>"),
        None => out.push_str("<dt>Max attempts</dt><dd>default (members &minus; 1)</dd>"),
    }
    out.push_str("</dl>\n<table class=\"members\">\n<thead><tr>");
    for head in [
        "Route",
        "URL",
        "Load factor",
        "LB set",
        "Flags",
        "Health",
        "Busy",
        "Requests",
        "In",
        "Out",
        "Errors",
        "2xx",
        "4xx",
        "5xx",
        "Last error",
        "Last check",
        "In state",
        "Actions",
    ] {
        w!(out, "<th>{head}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (index, member) in b.members.iter().enumerate() {
        render_member(out, &b.name, index, member, forms);
    }
    if b.members.is_empty() {
        w!(
            out,
            "<tr><td colspan=\"{MEMBER_COLUMNS}\" class=\"muted\">no members</td></tr>\n"
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let Some(forms) = forms else {
        out.push_str("</section>\n");
        return;
    };
    forms.open(
        out,
        &format!(" class=\"add\" id=\"add-{name}\""),
        &b.name,
        None,
    );
    out.push_str(
        "<strong>Add member</strong> \
         <label>URL <input type=\"text\" name=\"add_url\" required \
         placeholder=\"http://10.0.0.5:8080\"></label> \
         <label>Route <input type=\"text\" name=\"add_route\" maxlength=\"96\"></label> \
         <label>Load factor <input type=\"number\" name=\"add_lf\" min=\"1\" max=\"100\" \
         step=\"any\" value=\"1\"></label> \
         <button type=\"submit\">Add</button> \
         <span class=\"muted\">new members start disabled (D)</span></form>\n</section>\n",
    );
}

fn render_member(
    out: &mut String,
    balancer: &str,
    index: usize,
    m: &MemberView,
    forms: Option<&FormCtx>,
) {
    let key = if m.route.is_empty() {
        index.to_string()
    } else {
        escape_html(&m.route)
    };
    let b = escape_html(balancer);
    w!(out, "<tr id=\"member-{b}-{key}\">");
    if m.route.is_empty() {
        out.push_str("<td class=\"muted\">&ndash;</td>");
    } else {
        w!(out, "<td>{}</td>", escape_html(&m.route));
    }
    w!(out, "<td>{}", escape_html(&m.url));
    if !m.url.contains(m.address.as_str()) {
        // A host name: where it was looked up to.
        w!(
            out,
            "<br><span class=\"muted\">at {}</span>",
            escape_html(&m.address)
        );
    }
    if !m.redirect.is_empty() {
        w!(
            out,
            "<br><span class=\"muted\">redirect &rarr; {}</span>",
            escape_html(&m.redirect)
        );
    }
    if !m.domain.is_empty() {
        w!(
            out,
            "<br><span class=\"muted\">domain {}</span>",
            escape_html(&m.domain)
        );
    }
    out.push_str("</td>");
    w!(out, "<td class=\"num\">{}</td>", m.loadfactor);
    w!(out, "<td class=\"num\">{}</td>", m.lbset);
    out.push_str("<td>");
    for letter in m.status.chars() {
        let letter_text = escape_html(letter.encode_utf8(&mut [0; 4]));
        w!(
            out,
            "<span class=\"flag flag-{letter_text}\" title=\"{}\">{letter_text}</span>",
            flag_title(letter)
        );
    }
    out.push_str("</td>");
    w!(
        out,
        "<td><span class=\"health health-{}\">{}</span></td>",
        m.health.label(),
        health_text(m.health)
    );
    w!(out, "<td class=\"num\">{}</td>", m.busy);
    let rates = m.rates.map(|r| (r.requests_per_sec, r.errors_per_sec));
    number_and_rate(out, m.requests, rates.map(|r| r.0));
    for bytes in [m.bytes_in, m.bytes_out] {
        w!(
            out,
            "<td class=\"num\" title=\"{bytes} bytes\">{}</td>",
            human_bytes(bytes)
        );
    }
    number_and_rate(out, m.errors, rates.map(|r| r.1));
    for n in [m.responses[1], m.responses[3], m.responses[4]] {
        w!(out, "<td class=\"num\">{n}</td>");
    }
    match &m.last_error {
        Some(e) => w!(
            out,
            "<td class=\"err\">{}<br><time class=\"muted\" datetime=\"{at}\">{at}</time></td>",
            escape_html(&e.what),
            at = escape_html(&e.at)
        ),
        None => out.push_str("<td class=\"muted\">&ndash;</td>"),
    }
    match m.checks.as_ref().and_then(|c| c.last.as_ref()) {
        Some(last) => {
            let what = last
                .what
                .strip_prefix("health check: ")
                .unwrap_or(&last.what);
            let class = if last.passed { "check-ok" } else { "err" };
            w!(
                out,
                "<td class=\"{class}\">{} in {} ms<br><time class=\"muted\" datetime=\"{at}\" \
                 title=\"{at}\">{} ago</time></td>",
                escape_html(what),
                last.duration_ms,
                human_duration(last.age_secs),
                at = escape_html(&last.at)
            );
        }
        None => out.push_str("<td class=\"muted\">&ndash;</td>"),
    }
    w!(out, "<td>{}", human_duration(m.state_since_secs));
    if m.downtime_secs > 0 {
        w!(
            out,
            "<br><span class=\"muted\" title=\"time down (failed check, error window)\">\
             down {} in all</span>",
            human_duration(m.downtime_secs)
        );
    }
    out.push_str("</td>");
    let Some(forms) = forms else {
        out.push_str("<td class=\"muted\">&ndash;</td></tr>\n");
        return;
    };
    out.push_str("<td>");
    let member_attr = Some(m.url.as_str());
    forms.open(out, "", balancer, member_attr);
    hidden(out, "w_status_N", "1");
    w!(
        out,
        "<button type=\"submit\" id=\"drain-{b}-{key}\" title=\"Drain: only existing sticky \
         sessions\">Drain</button></form> "
    );
    if m.status.contains('N') {
        forms.open(out, "", balancer, member_attr);
        hidden(out, "w_status_N", "0");
        w!(
            out,
            "<button type=\"submit\" id=\"undrain-{b}-{key}\">Undrain</button></form> "
        );
    }
    // Removing asks first: this button only shows the confirmation (a GET, no nonce in it).
    w!(out, "<form method=\"get\" action=\"{}\">", forms.action);
    hidden(out, "remove_b", balancer);
    hidden(out, "remove_w", &m.url);
    w!(
        out,
        "<button type=\"submit\" id=\"remove-{b}-{key}\">Remove&hellip;</button></form></td></tr>\n"
    );
    render_edit_row(out, balancer, &b, &key, m, forms);
}

/// A counter's cell, with its rate per second under it when known.
fn number_and_rate(out: &mut String, n: u64, per_sec: Option<f64>) {
    w!(out, "<td class=\"num\">{n}");
    if let Some(rate) = per_sec {
        w!(out, "<br><span class=\"muted\">{rate:.1}/s</span>");
    }
    out.push_str("</td>");
}

fn render_edit_row(
    out: &mut String,
    balancer: &str,
    b: &str,
    key: &str,
    m: &MemberView,
    forms: &FormCtx,
) {
    w!(out, "<tr class=\"edit\"><td colspan=\"{MEMBER_COLUMNS}\">");
    forms.open(
        out,
        &format!(" class=\"edit\" id=\"edit-{b}-{key}\""),
        balancer,
        Some(&m.url),
    );
    w!(
        out,
        "<label>Load factor <input type=\"number\" name=\"w_lf\" min=\"1\" max=\"100\" \
         step=\"any\" value=\"{}\"></label>",
        m.loadfactor
    );
    w!(
        out,
        "<label>LB set <input type=\"number\" name=\"w_ls\" min=\"0\" max=\"99\" \
         value=\"{}\"></label>",
        m.lbset
    );
    w!(
        out,
        "<label>Route <input type=\"text\" name=\"w_wr\" maxlength=\"96\" value=\"{}\"></label>",
        escape_html(&m.route)
    );
    w!(
        out,
        "<label>Redirect <input type=\"text\" name=\"w_rr\" maxlength=\"96\" \
         value=\"{}\"></label>",
        escape_html(&m.redirect)
    );
    // An unchecked checkbox sends nothing, so a hidden `0` precedes each checkbox; when it is
    // checked the form sends `0` then `1` and the parser keeps the last value.
    for (letter, title) in EDITABLE_FLAGS {
        let checked = if m.status.contains(letter) {
            " checked"
        } else {
            ""
        };
        w!(
            out,
            "<input type=\"hidden\" name=\"w_status_{letter}\" value=\"0\">\
             <label title=\"{title}\"><input type=\"checkbox\" name=\"w_status_{letter}\" \
             value=\"1\"{checked}> {letter}</label>"
        );
    }
    out.push_str("<button type=\"submit\">Update</button></form></td></tr>\n");
}
