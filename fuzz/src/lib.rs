//! Fuzz targets for ringlb's parsers: one function per target, each taking the fuzzer's bytes
//! and panicking when an invariant breaks. The same functions run under AFL++
//! (`src/bin/*.rs`, feature `afl`) and over the committed corpus in `tests/replay.rs`, so every
//! corpus file is an ordinary regression test. See `fuzz/README.md`.
//!
//! | target | parser | invariants beyond "no panic, bounded allocation" |
//! |---|---|---|
//! | [`request_head`] | `http::head::parse_request`, `http::framing::analyze_request`, `http::rewrite::write_request_head` | framing and connection facts agree with [`model::request`]; the upstream head re-parses to the same method, target and framing, carries no hop-by-hop field, and a further rewrite is a fixed point |
//! | [`chunked`] | `http::chunked::ChunkedDecoder` | agrees with a recursive-descent reference decoder; the same result whole, byte by byte and cut anywhere; `scan` agrees with `step`; no allocation at all |
//! | [`response_head`] | `http::head::parse_response`, `http::framing::analyze_response`, `http::rewrite::write_response_head` | the status is exactly three digits; framing agrees with [`model::response`]; the client head re-parses to the same status and framing and is a fixed point of the rewrite |
//! | [`sticky`] | `sticky::collect_routes` | routes are non-empty slices of the request; they agree with a byte-by-byte model of the grammar |
//! | [`config`] | `config::parse_str` | errors name a line of the input; an accepted config prints as TOML that parses back to an equal config |
//! | [`path`] | `http::path::normalize` | the normal form starts with `/`, is a fixed point, has no dot-segment however spelled (`%2e`, `;params`) and no `\`, `%2f`, `%5c`; a rewrite is shorter and needs a plain dot-segment |
//! | [`mount`] | `http::mount::Router::locate`, `member_target` | over a fixed config of every mount kind: an accepted request names a real balancer and mount and its member target starts with `/`; errors are 400 or 404; the same request gets the same answer |
//! | [`proxy_protocol`] | `proxy_protocol::parse`, `read_limit` | no allocation; header length and source agree with its bytes; a prefix needs more until the verdict is final, and a final verdict never changes as bytes arrive; a sender's header for the source parses back to it |
//! | [`h2_guard`] | `http::h2_guard::FrameGuard` | no allocation; the same verdict whole, byte by byte and cut anywhere; a trip is permanent |
//! | [`ajp_reply`] | `ajp::reply::parse`, `write_head` | no allocation in `parse`; one packet at most `packet_size`, every prefix asks for more; a `SEND_HEADERS` head reads back whole with its status and one framing field |
//! | [`admin_form`], [`admin_json`] | `admin::form::parse_form`, `parse_json_action` | accepted requests obey the value rules; encoded in either format they parse back to the same request |

mod admin;
mod ajp;
pub mod alloc;
mod chunked;
mod config;
mod h2_guard;
pub mod model;
mod mount;
mod path;
mod proxy_protocol;
mod request;
mod response;
mod sticky;

pub use admin::{admin_form, admin_json};
pub use ajp::ajp_reply;
pub use chunked::chunked;
pub use config::config;
pub use h2_guard::h2_guard;
pub use mount::mount;
pub use path::path;
pub use proxy_protocol::proxy_protocol;
pub use request::request_head;
pub use response::response_head;
pub use sticky::sticky;

/// A target: takes any bytes, panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target by name, as the corpus directories under `fuzz/corpus/` are named.
pub const TARGETS: [(&str, Target); 12] = [
    ("request_head", request_head),
    ("chunked", chunked),
    ("response_head", response_head),
    ("sticky", sticky),
    ("config", config),
    ("admin_form", admin_form),
    ("admin_json", admin_json),
    ("mount", mount),
    ("path", path),
    ("proxy_protocol", proxy_protocol),
    ("h2_guard", h2_guard),
    ("ajp_reply", ajp_reply),
];
