//! The client side's byte stream: a plain socket or a TLS stream over one ([`MaybeTls`] with
//! rustls's server side), so the request path has one type for both.

use rustls::ServerConnection;

use crate::tls::MaybeTls;

/// A client connection's stream (see [`MaybeTls`] for why the TLS variant and its futures
/// are boxed).
pub(super) type ClientStream = MaybeTls<ServerConnection>;
