//! The operator surface's pure half: the balancer-manager page, the JSON status document, the
//! Prometheus metrics, manager request parsing and access checks. Replaces httpd's
//! `balancer-manager` and mod_jk's `jkstatus`.
//!
//! Everything here is string in, string out: no sockets, no clock reads, no threads, no shared
//! state. The admin I/O glue builds a [`model::Snapshot`] from the config and the stats slots at
//! request time, checks the peer with [`auth`], parses actions with [`form`], applies them to
//! the workers, and serves what [`html`], [`json`] or [`metrics`] render.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | the view structs the renderers read |
//! | [`html`] | `render_manager`: the manager page and its forms |
//! | [`json`] | `render_status`: the status document |
//! | [`metrics`] | `render_metrics`: Prometheus text format 0.0.4 |
//! | [`form`] | form/query and JSON API bodies → `AdminRequest` (the JSON API format is there) |
//! | [`auth`] | nonce comparison, CIDR allow-list, htpasswd (bcrypt) Basic auth |

pub mod auth;
pub mod form;
pub mod html;
pub mod json;
pub mod metrics;
pub mod model;
pub mod server;
pub mod snapshot;

#[cfg(test)]
mod tests;
