//! Members that break the protocol before any byte of their response reached the client: the
//! client gets a ringlb-made 502, never the broken bytes and never a bare EOF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{assert_error, get, proxy_for, Client, MockMember};
use ringlb::config::IoDriver;

both_drivers!(
    status_codes_outside_100_to_599_get_502,
    bad_chunked_framing_before_any_byte_sent_gets_502,
);

fn status_codes_outside_100_to_599_get_502(driver: IoDriver) {
    for code in ["000", "099", "600", "999"] {
        let bytes = format!("HTTP/1.1 {code} Odd\r\nContent-Length: 2\r\n\r\nok");
        let member = MockMember::fixed(bytes.as_bytes());
        let (_proxy, a) = proxy_for(driver, &member);
        let resp = Client::connect(a).request(&get("/status"));
        assert_error(&resp, 502);
        assert_eq!(
            member.requests().len(),
            1,
            "{code}: sent once, not replayed"
        );
    }
    // The edges of the valid range are relayed.
    for (code, want) in [
        ("100", None),
        ("199", None),
        ("599", Some(599)),
        ("200", Some(200)),
    ] {
        let bytes = match want {
            // A 1xx is interim: the member follows it with a final response.
            None => format!(
                "HTTP/1.1 {code} Info\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            ),
            Some(_) => format!("HTTP/1.1 {code} Fine\r\nContent-Length: 2\r\n\r\nok"),
        };
        let member = MockMember::fixed(bytes.as_bytes());
        let (_proxy, a) = proxy_for(driver, &member);
        let resp = Client::connect(a).request(&get("/status"));
        assert_eq!(resp.status, want.unwrap_or(200), "{code}");
        assert_eq!(resp.body, b"ok", "{code}");
    }
}

fn bad_chunked_framing_before_any_byte_sent_gets_502(driver: IoDriver) {
    // Head and broken first chunk in one write: ringlb has both before it sends anything.
    let cases: [&[u8]; 3] = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    ];
    for bytes in cases {
        let member = MockMember::fixed(bytes);
        let (_proxy, a) = proxy_for(driver, &member);
        let mut client = Client::connect(a);
        let resp = client.request(&get("/chunks"));
        assert_error(&resp, 502);
        // Nothing of the broken response leaked: the client connection stays usable.
        let resp = client.request(&get("/again"));
        assert_error(&resp, 502);
    }
}
