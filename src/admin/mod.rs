//! The operator surface: the balancer-manager page, the JSON status document, the Prometheus
//! metrics, manager request parsing and access checks. Replaces httpd's `balancer-manager`
//! and mod_jk's `jkstatus`.
//!
//! [`model`], [`html`], [`csv`], [`jkstatus`], [`json`], [`metrics`], [`xml`], [`form`], [`auth`] and [`htpasswd`] are pure: string in,
//! string out, no sockets, no clock reads, no threads, no shared state. The glue around them:
//! [`server`] reads requests off the admin listener, `routes` checks each against the
//! [`access`] rules in force and answers it, building a [`model::Snapshot`] with [`snapshot`]
//! from the config and the stats slots at request time.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | the view structs the renderers read |
//! | [`html`] | `render_manager`: the manager page and its forms |
//! | [`csv`] | `render_csv`: the members as CSV, HAProxy's `;csv` columns |
//! | [`jkstatus`] | mod_jk's status worker: `/jkstatus` queries and the `prop`/`txt`/`xml` answers |
//! | [`json`] | `render_status`: the status document |
//! | [`metrics`] | `render_metrics`: Prometheus text format 0.0.4 |
//! | [`xml`] | `render_manager_xml`: httpd's balancer-manager XML document |
//! | [`form`] | form/query and JSON API bodies → `AdminRequest` (the JSON API format is there) |
//! | [`auth`] | nonce comparison, CIDR allow-list, Basic auth, Host/Origin checks |
//! | [`htpasswd`] | htpasswd files: bcrypt, Apache MD5 and SHA-1 entries, constant-time verification |
//! | [`access`] | the access rules in force (swapped at reload), with the credential cache |
//! | [`server`] | the listener: bounded handler pool, request reading, HEAD, timeouts |
//! | `routes` | what each request is answered, and which checks it must pass |

pub mod access;
pub mod auth;
pub mod csv;
pub mod form;
pub mod html;
pub mod htpasswd;
pub mod jkstatus;
pub mod json;
pub mod metrics;
pub mod model;
pub mod process;
pub mod rates;
mod routes;
pub mod server;
pub mod snapshot;
pub mod xml;

#[cfg(test)]
mod tests;
