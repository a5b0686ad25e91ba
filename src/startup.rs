//! The checks `ringlb run` makes at start beyond [`crate::config::validate`]: properties of
//! the files the config names, which the config parser does not read. `ringlb check` runs
//! the same function, so a file that `run` would refuse is refused by `check` with the same
//! message.
//!
//! | check | run refuses it in | `check` |
//! |---|---|---|
//! | `admin.htpasswd` readable, every line a supported hash ([`crate::admin::htpasswd`]) | `admin::server::start`, at each reload | here |
//! | `admin.allow` entries are address blocks | the same | here (also in validation) |
//! | `[[listener]]` certificates and keys: PEM, a key rustls can use, matching the certificate ([`crate::tls::Acceptors::load`]) | `server::start`, at each reload | here |
//! | `https://` members' `tls_ca` (PEM CA certificates), `tls_client_cert` and `tls_client_key` (as for listeners) ([`crate::tls::Connectors::load`]) | `server::start`, at each reload | here |
//! | members' host names resolve (system resolver or `resolvers`), to addresses that are not ringlb's own ([`crate::dns::resolve_at_start`]) | `server::start`, at each reload for new names | here |
//!
//! Not here, because they are properties of the machine rather than of the files: a listen
//! address in use, io_uring being available, the open files limit. An access log that cannot
//! be opened does not stop `run` (it logs the error and runs without that log), so it does not
//! fail `check` either.

use std::path::Path;

use crate::admin::access::Access;
use crate::cli;
use crate::config::{self, Config};
use crate::dns::Names;

/// Runs every check `run` makes at start, the members' host names looked up last; returns
/// `cfg` with their addresses put in, and the names, for [`crate::server::start_resolved`].
/// The error is a whole message (`ringlb: ` is the caller's prefix).
pub fn check(cfg: &Config) -> Result<(Config, Names), String> {
    if let Some(admin) = &cfg.ops.admin {
        Access::load(admin)?;
    }
    crate::tls::Acceptors::load(cfg)?;
    crate::tls::Connectors::load(cfg)?;
    crate::dns::resolve_at_start(cfg).map_err(|e| e.to_string())
}

/// `ringlb check -c PATH [--diff OLD]`: the config, then [`check`], then the effective config
/// (or, with `OLD`, what a reload from it would change) as the text to print. The error is
/// the whole line to print, exactly as `run` prints the same refusal.
pub fn check_command(path: &Path, diff: Option<&str>) -> Result<String, String> {
    let cfg = config::load(path).map_err(|e| e.to_string())?;
    check(&cfg).map_err(|e| format!("ringlb: {e}"))?;
    let Some(old) = diff else {
        return Ok(cfg.to_string());
    };
    cli::check_diff(&cfg, old).map_err(|e| format!("ringlb: --diff: {e}"))
}
