//! `admin_form` and `admin_json`: the manager's form/query and JSON API parsers. Never panic;
//! an accepted request obeys the documented value rules (non-empty names, routes of visible
//! ASCII, loadfactor 1..=100, lbset 0..=99, `http://` URLs, disjoint set/clear letters); and
//! the request encoded back into the other format parses to the same request.
//!
//! Input: the form body or query string, or the JSON body.

use ringlb::admin::form::{
    parse_form, parse_json_action, AdminAction, AdminRequest, FormError, MAX_ROUTE_LEN, MAX_URL_LEN,
};

use crate::alloc::bounded;

/// The `admin_form` fuzz target. Panics on a broken invariant.
pub fn admin_form(data: &[u8]) {
    // Each `&`-separated pair costs two Strings and a tuple (about 50 bytes for 2 input bytes),
    // and the pair vector grows by doubling.
    let limit = 64 * data.len() + 65536;
    if let Ok(req) = bounded("parse_form", limit, || parse_form(data)) {
        check_request(&req);
        let form = encode_form(&req);
        same(parse_form(form.as_bytes()), &req, &form);
        let json = encode_json(&req);
        same(parse_json_action(json.as_bytes()), &req, &json);
    }
}

/// The `admin_json` fuzz target. Panics on a broken invariant.
pub fn admin_json(data: &[u8]) {
    // serde_json builds owned Strings no longer than the input, one per field.
    let limit = 64 * data.len() + 65536;
    if let Ok(req) = bounded("parse_json_action", limit, || parse_json_action(data)) {
        check_request(&req);
        let json = encode_json(&req);
        same(parse_json_action(json.as_bytes()), &req, &json);
        let form = encode_form(&req);
        same(parse_form(form.as_bytes()), &req, &form);
    }
}

/// `got` (the re-parse of `encoded`) is `want`, loadfactors within a few ULPs: serde_json's
/// default float parsing may land one ULP off a decimal's nearest value.
fn same(got: Result<AdminRequest, FormError>, want: &AdminRequest, encoded: &str) {
    let mut got = got.unwrap_or_else(|e| panic!("re-encoded request {encoded} refused: {e}"));
    let mut want = want.clone();
    let (a, b) = (take_loadfactor(&mut got), take_loadfactor(&mut want));
    let close = match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
        (a, b) => a == b,
    };
    assert!(
        close,
        "loadfactor {a:?} != {b:?} after re-parsing {encoded}"
    );
    assert_eq!(got, want, "re-parse of {encoded}");
}

/// Takes the loadfactor out of `req` (leaving 1.0 or `None`), for a separate comparison.
fn take_loadfactor(req: &mut AdminRequest) -> Option<f64> {
    match &mut req.action {
        AdminAction::Update { loadfactor, .. } => loadfactor.take(),
        AdminAction::Add { loadfactor, .. } => Some(std::mem::replace(loadfactor, 1.0)),
        AdminAction::Remove { .. } | AdminAction::ClearOverrides => None,
    }
}

/// The value rules of `ringlb::admin::form`'s module doc.
fn check_request(req: &AdminRequest) {
    let route_ok = |r: &str| {
        r.len() <= MAX_ROUTE_LEN
            && r.bytes()
                .all(|b| b.is_ascii_graphic() && !b";,=\"\\".contains(&b))
    };
    let lf_ok = |lf: f64| lf.is_finite() && (1.0..=100.0).contains(&lf);
    match &req.action {
        AdminAction::Update {
            balancer,
            member,
            loadfactor,
            lbset,
            route,
            redirect,
            set,
            clear,
        } => {
            assert!(!balancer.is_empty() && !member.is_empty());
            assert!(loadfactor.is_none_or(lf_ok), "loadfactor {loadfactor:?}");
            assert!(lbset.is_none_or(|l| l <= 99), "lbset {lbset:?}");
            assert!(route.as_deref().is_none_or(route_ok), "route {route:?}");
            assert!(
                redirect.as_deref().is_none_or(route_ok),
                "redirect {redirect:?}"
            );
            assert!(
                set.iter().all(|l| !clear.contains(l)),
                "{set} both set and cleared"
            );
        }
        AdminAction::Add {
            balancer,
            url,
            route,
            loadfactor,
        } => {
            assert!(!balancer.is_empty());
            assert!(url.len() > 7 && url.len() <= MAX_URL_LEN, "url {url:?}");
            assert!(url[..7].eq_ignore_ascii_case("http://"), "url {url:?}");
            assert!(!url.chars().any(|c| c.is_whitespace() || c.is_control()));
            assert!(route_ok(route), "route {route:?}");
            assert!(lf_ok(*loadfactor), "loadfactor {loadfactor}");
        }
        AdminAction::Remove { balancer, member } => {
            assert!(!balancer.is_empty() && !member.is_empty());
        }
        AdminAction::ClearOverrides => {}
    }
}

/// Percent-encodes everything but unreserved bytes.
fn pct(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request as a balancer-manager form body.
fn encode_form(req: &AdminRequest) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| pairs.push((k.to_owned(), v.to_owned()));
    match &req.action {
        AdminAction::Update {
            balancer,
            member,
            loadfactor,
            lbset,
            route,
            redirect,
            set,
            clear,
        } => {
            add("b", balancer);
            add("w", member);
            if let Some(lf) = loadfactor {
                add("w_lf", &lf.to_string());
            }
            if let Some(ls) = lbset {
                add("w_ls", &ls.to_string());
            }
            if let Some(r) = route {
                add("w_wr", r);
            }
            if let Some(r) = redirect {
                add("w_rr", r);
            }
            for (letters, value) in [(set, "1"), (clear, "0")] {
                for l in letters.iter() {
                    add(&format!("w_status_{}", char::from(l)), value);
                }
            }
        }
        AdminAction::Add {
            balancer,
            url,
            route,
            loadfactor,
        } => {
            add("b", balancer);
            add("add_url", url);
            add("add_route", route);
            add("add_lf", &loadfactor.to_string());
        }
        AdminAction::Remove { balancer, member } => {
            add("b", balancer);
            add("w", member);
            add("remove", "1");
        }
        AdminAction::ClearOverrides => add("clear_overrides", "1"),
    }
    if let Some(nonce) = &req.nonce {
        add("nonce", nonce);
    }
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    encoded.join("&")
}

/// A JSON string literal.
fn js(text: &str) -> String {
    // Serializing a string cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}

/// The request as a JSON API body.
fn encode_json(req: &AdminRequest) -> String {
    let mut members: Vec<String> = Vec::new();
    match &req.action {
        AdminAction::Update {
            balancer,
            member,
            loadfactor,
            lbset,
            route,
            redirect,
            set,
            clear,
        } => {
            members.push(format!("\"balancer\":{}", js(balancer)));
            members.push(format!("\"member\":{}", js(member)));
            if let Some(lf) = loadfactor {
                members.push(format!("\"loadfactor\":{lf:?}"));
            }
            if let Some(ls) = lbset {
                members.push(format!("\"lbset\":{ls}"));
            }
            if let Some(r) = route {
                members.push(format!("\"route\":{}", js(r)));
            }
            if let Some(r) = redirect {
                members.push(format!("\"redirect\":{}", js(r)));
            }
            if !set.is_empty() || !clear.is_empty() {
                members.push(format!("\"status\":\"+{set}-{clear}\""));
            }
        }
        AdminAction::Add {
            balancer,
            url,
            route,
            loadfactor,
        } => {
            let add = format!(
                "{{\"balancer\":{},\"url\":{},\"route\":{},\"loadfactor\":{loadfactor:?}}}",
                js(balancer),
                js(url),
                js(route)
            );
            members.push(format!("\"add\":{add}"));
        }
        AdminAction::Remove { balancer, member } => {
            let remove = format!(
                "{{\"balancer\":{},\"member\":{}}}",
                js(balancer),
                js(member)
            );
            members.push(format!("\"remove\":{remove}"));
        }
        AdminAction::ClearOverrides => members.push("\"clear_overrides\":true".to_owned()),
    }
    if let Some(nonce) = &req.nonce {
        members.push(format!("\"nonce\":{}", js(nonce)));
    }
    format!("{{{}}}", members.join(","))
}
