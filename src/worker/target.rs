//! Which balancer a request target goes to, and the target its member gets: the target split
//! (`http::path::split_target`), its path put through the dot-segment rule
//! (`http::path::normalize`) and routed, then, per member, joined onto `target_path`.

use super::Gen;
use crate::http::path::{self, Normal};

/// The origin-form path and query a member gets, before the mount is replaced.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    /// `target[at..]`, byte for byte: the path was already normal (every request on the hot
    /// path), or the target is `*`.
    AsSent(usize),
    /// Rebuilt: the normal form of a path that had `.`/`..` segments, or the `/` of an
    /// absolute-form target with an empty path; then the query as sent.
    Rebuilt(Vec<u8>),
}

impl Origin {
    /// The path and query to send, given the request target it was made from.
    pub(super) fn get<'a>(&'a self, target: &'a [u8]) -> &'a [u8] {
        match self {
            Origin::AsSent(at) => target.get(*at..).unwrap_or_default(),
            Origin::Rebuilt(bytes) => bytes,
        }
    }
}

const LEAVES_MOUNT: &str = "the path's dot-segments lead out of the mount it names";
const NO_MOUNT: &str = "no balancer is mounted at this path";

/// The balancer for `target` and what its member gets. The balancer is the one mounted at
/// the normal form of the path; a path whose dot-segments move it to another balancer than
/// the path as written names (`/app/../other`, or `/app/..` leaving `/app`) is refused with 400,
/// as is every target `split_target` or `normalize` refuses. 404 when no balancer serves the
/// path. `*` is routed as `/`.
pub(super) fn locate(core: &Gen, target: &[u8]) -> Result<(usize, Origin), (u16, &'static str)> {
    let split = path::split_target(target).map_err(|e| (400, e.reason()))?;
    if split.path == b"*" {
        let balancer = core.route(b"/").ok_or((404, NO_MOUNT))?;
        return Ok((balancer, Origin::AsSent(0)));
    }
    let mut normal = Vec::new();
    let rewritten = path::normalize(split.path, &mut normal).map_err(|e| (400, e.reason()))?;
    let as_written = core.route(split.path);
    let balancer = match rewritten {
        Normal::AsIs => as_written,
        Normal::Rewritten => {
            let balancer = core.route(&normal);
            if balancer != as_written {
                return Err((400, LEAVES_MOUNT));
            }
            balancer
        }
    }
    .ok_or((404, NO_MOUNT))?;
    let origin = match rewritten {
        Normal::AsIs if !split.path_added => Origin::AsSent(
            target
                .len()
                .saturating_sub(split.path.len() + split.query.len()),
        ),
        Normal::AsIs => Origin::Rebuilt([split.path, split.query].concat()),
        Normal::Rewritten => {
            normal.extend_from_slice(split.query);
            Origin::Rebuilt(normal)
        }
    };
    Ok((balancer, origin))
}

/// The target sent to a member of balancer `b` for `origin`, as (prefix, rest) of
/// `RequestRewrite`: `*` as is, anything else with the mount replaced by `target_path`.
pub(super) fn member_target<'a>(
    core: &'a Gen,
    b: usize,
    target: &'a [u8],
    origin: &'a Origin,
) -> (&'a [u8], &'a [u8]) {
    let path = origin.get(target);
    if path == b"*" {
        return (b"", path);
    }
    let bcfg = &core.config.balancers[b];
    path::join(bcfg.mount.as_bytes(), bcfg.target_path.as_bytes(), path)
}
