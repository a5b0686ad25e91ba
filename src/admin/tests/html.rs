use super::sample;
use crate::admin::html::{
    escape_html, human_bytes, human_duration, render_manager, render_manager_view, utc_datetime,
    PageView,
};
use crate::admin::model::Snapshot;

fn page() -> String {
    render_manager(
        &sample(),
        Some("abc123"),
        "/balancer-manager",
        Some("member <drained>"),
    )
}

#[test]
fn page_is_a_complete_document_without_external_assets() {
    let page = page();
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    for banned in ["<script", "src=", "<link", "http-equiv", "@import"] {
        assert!(!page.contains(banned), "page contains {banned:?}");
    }
}

#[test]
fn page_escapes_all_snapshot_text() {
    let page = page();
    assert!(page.contains("connect: &lt;script&gt;alert(1)&lt;/script&gt; refused"));
    assert!(page.contains("balancer://we&quot;ird&lt;b&gt;\\"));
    assert!(page.contains("value=\"a&quot;b\""));
    assert!(!page.contains("<b>"));
    assert!(page.contains("<p class=\"message\" role=\"status\">member &lt;drained&gt;</p>"));
}

#[test]
fn message_is_optional() {
    let page = render_manager(&sample(), Some("n"), "/m", None);
    assert!(!page.contains("class=\"message\""));
}

#[test]
fn page_shows_every_member_field() {
    let page = page();
    for needle in [
        "balancer://app",
        "<dd>/app</dd>",
        "<dd>byrequests</dd>",
        "cookie JSESSIONID, URL parameter jsessionid",
        "<dt>No failover</dt><dd>Off</dd>",
        "<dt>Force recovery</dt><dd>On</dd>",
        "<dt>Max attempts</dt><dd>2</dd>",
        "<dt>Max attempts</dt><dd>default (members &minus; 1)</dd>",
        "<td>n1</td>",
        "http://10.0.0.1:8080",
        "redirect &rarr; n2",
        "<span class=\"muted\">domain east</span>",
        "<td class=\"num\">2.5</td>",
        "<td class=\"num\">1</td>",
        "<span class=\"flag flag-N\"",
        "<span class=\"health health-ok\">ok</span>",
        "<span class=\"health health-error\">error, retry in 42s</span>",
        "<span class=\"health health-hc_failed\">health check failed</span>",
        "<span class=\"health health-disabled\">disabled</span>",
        "<span class=\"health health-stopped\">stopped</span>",
        "<span class=\"health health-draining\">draining</span>",
        "<td class=\"num\">3</td>",
        "<td class=\"num\">1234<br><span class=\"muted\">12.5/s</span></td>",
        "5.0 MiB",
        "2.0 KiB",
        "<td class=\"num\">7<br><span class=\"muted\">0.2/s</span></td>",
        "<td class=\"num\">1000</td>",
        "<td class=\"num\">200</td>",
        "<td class=\"num\">13</td>",
        "<td>1h 2m<br>",
        "down 1h 1m in all</span>",
        "<td class=\"err\">unexpected status in 12 ms<br>",
        ">5s ago</time>",
        "<td>0.0.0.0:8080</td><td class=\"num\">90</td><td class=\"num\">1500</td>",
        "(1 of 3 members up)",
        "ringlb 0.1.0",
        "up 1d 2h",
        "2023-11-14 22:13:20 UTC",
        "<td>io_uring</td>",
        "not pinned",
    ] {
        assert!(page.contains(needle), "page lacks {needle:?}");
    }
}

#[test]
fn page_has_every_apache_form_field() {
    let page = page();
    for name in [
        "b",
        "w",
        "w_lf",
        "w_ls",
        "w_wr",
        "w_rr",
        "w_status_D",
        "w_status_S",
        "w_status_N",
        "w_status_H",
        "w_status_R",
        "w_status_I",
        "nonce",
        "add_url",
        "add_route",
        "add_lf",
        "remove_b",
        "remove_w",
    ] {
        assert!(
            page.contains(&format!("name=\"{name}\"")),
            "no field {name}"
        );
    }
    assert!(page.contains("<input type=\"hidden\" name=\"nonce\" value=\"abc123\">"));
    assert!(page.contains("method=\"post\" action=\"/balancer-manager\""));
    // The only GET forms ask for a removal's confirmation, and carry no nonce.
    for form in page.split("<form method=\"get\"").skip(1) {
        let form = &form[..form.find("</form>").unwrap()];
        assert!(
            form.contains("name=\"remove_w\"") && !form.contains("nonce"),
            "{form}"
        );
    }
    // Each checkbox follows a hidden 0, and reflects the member's flags.
    assert!(page.contains(
        "<input type=\"hidden\" name=\"w_status_N\" value=\"0\"><label title=\"Drain\">\
         <input type=\"checkbox\" name=\"w_status_N\" value=\"1\" checked> N</label>"
    ));
    assert!(page.contains("name=\"w_lf\" min=\"1\" max=\"100\" step=\"any\" value=\"2.5\""));
}

#[test]
fn stable_ids_use_route_or_index() {
    let page = page();
    for id in [
        "balancer-app",
        "member-app-n1",
        "edit-app-n1",
        "drain-app-n1",
        "undrain-app-n1",
        "remove-app-n1",
        "drain-app-n2",
        "drain-app-2",
        "remove-app-2",
        "add-app",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no id {id}");
    }
    // Only a draining member offers "undrain".
    assert!(!page.contains("id=\"undrain-app-n2\""));
}

#[test]
fn drain_form_sends_only_b_w_n_and_nonce() {
    let page = page();
    let button = page.find("id=\"drain-app-n1\"").expect("drain button");
    let form_start = page[..button].rfind("<form").expect("form start");
    let form = &page[form_start..button];
    assert_eq!(form.matches("<input").count(), 4, "{form}");
    for field in [
        "name=\"b\" value=\"app\"",
        "name=\"w\" value=\"http://10.0.0.1:8080\"",
        "name=\"w_status_N\" value=\"1\"",
        "name=\"nonce\" value=\"abc123\"",
    ] {
        assert!(form.contains(field), "drain form lacks {field}: {form}");
    }
}

#[test]
fn empty_snapshot_renders() {
    let page = render_manager(&Snapshot::default(), Some(""), "/", None);
    assert!(page.contains("<h2>Workers</h2>"));
    assert!(page.contains("1970-01-01 00:00:00 UTC"));
}

#[test]
fn escape_html_cases() {
    let cases = [
        ("", ""),
        ("plain", "plain"),
        (
            "<a href=\"x\">'&'</a>",
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
        ),
        ("é ü", "é ü"),
    ];
    for (input, want) in cases {
        assert_eq!(escape_html(input), want, "{input:?}");
    }
}

#[test]
fn human_units() {
    let bytes = [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 * 1024, "10.0 MiB"),
        (u64::MAX, "16.0 EiB"),
    ];
    for (n, want) in bytes {
        assert_eq!(human_bytes(n), want, "{n}");
    }
    let secs = [
        (0, "0s"),
        (59, "59s"),
        (60, "1m 0s"),
        (3599, "59m 59s"),
        (3600, "1h 0m"),
        (86_399, "23h 59m"),
        (86_400, "1d 0h"),
        (200_000, "2d 7h"),
    ];
    for (n, want) in secs {
        assert_eq!(human_duration(n), want, "{n}");
    }
}

#[test]
fn utc_dates() {
    let cases = [
        (0, "1970-01-01 00:00:00"),
        (951_782_400, "2000-02-29 00:00:00"),
        (1_709_251_199, "2024-02-29 23:59:59"),
        (4_102_444_800, "2100-01-01 00:00:00"),
    ];
    for (t, want) in cases {
        assert_eq!(utc_datetime(t), want, "{t}");
    }
}

/// Tags balance (void elements aside), no form nests in another, and ids are unique.
fn check_structure(page: &str) -> Result<(), String> {
    const VOID: [&str; 4] = ["meta", "input", "br", "hr"];
    let mut stack: Vec<&str> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut rest = page;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(top) if top == name => {}
                top => return Err(format!("</{name}> closes {top:?}")),
            }
            continue;
        }
        let name = tag.split([' ', '\n']).next().unwrap_or("");
        if name == "form" && stack.contains(&"form") {
            return Err("nested form".to_owned());
        }
        if let Some(at) = tag.find(" id=\"") {
            let id = &tag[at + 5..];
            let id = &id[..id.find('"').ok_or("unterminated id")?];
            if !ids.insert(id.to_owned()) {
                return Err(format!("duplicate id {id:?}"));
            }
        }
        if !VOID.contains(&name) {
            stack.push(name);
        }
        if name == "style" {
            let end = rest.find("</style>").ok_or("unclosed style")?;
            rest = &rest[end..];
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn page_is_well_formed() {
    check_structure(&page()).unwrap_or_else(|e| panic!("{e}"));
    check_structure(&render_manager(&Snapshot::default(), Some(""), "/", None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check_structure("<p><b></p></b>").is_err());
    assert!(check_structure("<form><td><form></form></td></form>").is_err());
    assert!(check_structure("<a id=\"x\"></a><b id=\"x\"></b>").is_err());
}

#[test]
fn read_only_page_has_no_form_and_no_nonce() {
    let page = render_manager(&sample(), None, "/balancer-manager", None);
    check_structure(&page).unwrap();
    for absent in ["<form", "<button", "nonce", "type=\"hidden\""] {
        assert!(!page.contains(absent), "{absent} in the read-only page");
    }
    assert!(page.contains("Read-only"));
    assert!(
        page.contains("http://10.0.0.1:8080"),
        "members still listed"
    );
    assert!(page.contains("id=\"member-app-n1\""));
}

#[test]
fn remove_asks_for_confirmation_first() {
    let view = |b: &str, w: &str| PageView {
        confirm_remove: Some((b.to_owned(), w.to_owned())),
        ..PageView::default()
    };
    let ask = view("app", "http://10.0.0.1:8080");
    let page = render_manager_view(&sample(), Some("abc123"), "/balancer-manager", None, &ask);
    let start = page
        .find("id=\"confirm-remove\"")
        .expect("the confirmation");
    let confirm = &page[start..start + page[start..].find("</div>").unwrap()];
    for part in [
        "<code>http://10.0.0.1:8080</code> from balancer <code>app</code>",
        "<form method=\"post\" action=\"/balancer-manager\">",
        "<input type=\"hidden\" name=\"w\" value=\"http://10.0.0.1:8080\">",
        "<input type=\"hidden\" name=\"nonce\" value=\"abc123\">",
        "<input type=\"hidden\" name=\"remove\" value=\"1\">",
        "id=\"confirm-remove-button\"",
        "<a href=\"/balancer-manager\" id=\"cancel-remove\">Cancel</a>",
    ] {
        assert!(confirm.contains(part), "no {part:?} in {confirm}");
    }
    // Nowhere else does the page post a removal.
    assert_eq!(page.matches("name=\"remove\"").count(), 1);
    assert_eq!(self::page().matches("name=\"remove\"").count(), 0);
    // Not for an unknown member, nor without the forms (a client outside allow).
    for (nonce, b, w) in [
        (Some("abc123"), "app", "http://10.9.9.9:1"),
        (Some("abc123"), "nope", "http://10.0.0.1:8080"),
        (None, "app", "http://10.0.0.1:8080"),
    ] {
        let page = render_manager_view(&sample(), nonce, "/balancer-manager", None, &view(b, w));
        assert!(!page.contains("confirm-remove"), "{b} {w} {nonce:?}");
    }
}

#[test]
fn auto_refresh_reloads_a_plain_view() {
    let every = |refresh| PageView {
        refresh,
        ..PageView::default()
    };
    let page = render_manager_view(
        &sample(),
        None,
        "/balancer-manager",
        Some("done"),
        &every(Some(10)),
    );
    assert!(page
        .contains("<meta http-equiv=\"refresh\" content=\"10;url=/balancer-manager?refresh=10\">"));
    assert!(page.contains("<strong>10 s</strong>"));
    assert!(page.contains("<a href=\"/balancer-manager?refresh=5\">5 s</a>"));
    assert!(page.contains("<a href=\"/balancer-manager\">off</a>"));
    let off = render_manager_view(&sample(), None, "/balancer-manager", None, &every(None));
    assert!(!off.contains("http-equiv"));
    assert!(off.contains("<strong>off</strong>"));
}
