//! Which balancer a request target goes to, and the target its member gets: the target split
//! ([`path::split_target`]), its path put through the dot-segment rule ([`path::normalize`])
//! and matched against the mounts ([`Mounts`]), then, per member, joined onto `target_path`
//! ([`member_target`]).
//!
//! Pure: no I/O, no clock. Builds a [`Mounts`] once per configuration generation; per request
//! it allocates only for a target that must be rebuilt ([`Origin::Rebuilt`]).

use super::path::{self, Normal};

/// Balancer indices by mount, longest mount first, for the longest-prefix match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts {
    /// (mount, balancer index), longest mount first; equal lengths keep config order.
    by_length: Vec<(Box<[u8]>, usize)>,
}

impl Mounts {
    /// The mounts of balancers `0..`, in config order.
    pub fn new<'a>(mounts: impl IntoIterator<Item = &'a str>) -> Mounts {
        let mut by_length: Vec<(Box<[u8]>, usize)> = mounts
            .into_iter()
            .enumerate()
            .map(|(i, m)| (m.as_bytes().into(), i))
            .collect();
        by_length.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
        Mounts { by_length }
    }

    /// The balancer serving `path`: the longest mount that is a prefix of it ending at a
    /// segment boundary (`/app` serves `/app`, `/app/x`, `/app?q` and `/app;p`, not `/apple`;
    /// a mount ending in `/` serves everything it prefixes). Among equally long mounts the
    /// first in config order wins.
    pub fn route(&self, path: &[u8]) -> Option<usize> {
        self.by_length
            .iter()
            .find(|(mount, _)| {
                path.starts_with(mount)
                    && (mount.ends_with(b"/")
                        || path.len() == mount.len()
                        || matches!(path[mount.len()], b'/' | b'?' | b';'))
            })
            .map(|&(_, i)| i)
    }

    /// The balancer for `target` and what its member gets. The balancer is the one mounted at
    /// the normal form of the path; a path whose dot-segments move it to another balancer
    /// than the path as written names (`/app/../other`, or `/app/..` leaving `/app`) is
    /// refused with 400, as is every target `split_target` or `normalize` refuses. 404 when no
    /// balancer serves the path. `*` is routed as `/`. Errors are (status, cause).
    pub fn locate(&self, target: &[u8]) -> Result<(usize, Origin), (u16, &'static str)> {
        let split = path::split_target(target).map_err(|e| (400, e.reason()))?;
        if split.path == b"*" {
            let balancer = self.route(b"/").ok_or((404, NO_MOUNT))?;
            return Ok((balancer, Origin::AsSent(0)));
        }
        let mut normal = Vec::new();
        let rewritten = path::normalize(split.path, &mut normal).map_err(|e| (400, e.reason()))?;
        let as_written = self.route(split.path);
        let balancer = match rewritten {
            Normal::AsIs => as_written,
            Normal::Rewritten => {
                let balancer = self.route(&normal);
                if balancer != as_written {
                    return Err((400, LEAVES_MOUNT));
                }
                balancer
            }
        }
        .ok_or((404, NO_MOUNT))?;
        let origin = match rewritten {
            Normal::AsIs if !split.path_added => {
                Origin::AsSent(origin_form_offset(target, split.path, split.query))
            }
            Normal::AsIs => Origin::Rebuilt([split.path, split.query].concat()),
            Normal::Rewritten => {
                normal.extend_from_slice(split.query);
                Origin::Rebuilt(normal)
            }
        };
        Ok((balancer, origin))
    }
}

/// Where the origin form (`path` then `query`, both sub-slices ending `target`) starts in
/// `target`: 0 for an origin-form target, past the scheme and authority for an absolute-form
/// one.
pub fn origin_form_offset(target: &[u8], path: &[u8], query: &[u8]) -> usize {
    target.len().saturating_sub(path.len() + query.len())
}

/// The origin-form path and query a member gets, before the mount is replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `target[at..]`, byte for byte: the path was already normal (every request on the hot
    /// path), or the target is `*`.
    AsSent(usize),
    /// Rebuilt: the normal form of a path that had `.`/`..` segments, or the `/` of an
    /// absolute-form target with an empty path; then the query as sent.
    Rebuilt(Vec<u8>),
}

impl Origin {
    /// The path and query to send, given the request target it was made from.
    pub fn get<'a>(&'a self, target: &'a [u8]) -> &'a [u8] {
        match self {
            Origin::AsSent(at) => target.get(*at..).unwrap_or_default(),
            Origin::Rebuilt(bytes) => bytes,
        }
    }
}

const LEAVES_MOUNT: &str = "the path's dot-segments lead out of the mount it names";
const NO_MOUNT: &str = "no balancer is mounted at this path";

/// The target sent to a member of a balancer mounted at `mount` with `target_path`, for
/// `origin` made from `target`, as (prefix, rest) of `RequestRewrite`: `*` as is, anything
/// else with the mount replaced by `target_path` ([`path::join`]).
pub fn member_target<'a>(
    mount: &[u8],
    target_path: &'a [u8],
    target: &'a [u8],
    origin: &'a Origin,
) -> (&'a [u8], &'a [u8]) {
    let path = origin.get(target);
    if path == b"*" {
        return (b"", path);
    }
    path::join(mount, target_path, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_takes_the_longest_mount_at_a_segment_boundary() {
        let mounts = Mounts::new(["/", "/app", "/app/admin", "/static/"]);
        // (path, balancer)
        let cases: [(&[u8], Option<usize>); 12] = [
            (b"/", Some(0)),
            (b"/x", Some(0)),
            (b"/app", Some(1)),
            (b"/app/", Some(1)),
            (b"/app/x", Some(1)),
            (b"/app?q=1", Some(1)),
            (b"/app;jsessionid=a.b", Some(1)),
            (b"/apple", Some(0)),
            (b"/app/admin", Some(2)),
            (b"/app/administrator", Some(1)),
            (b"/static/x", Some(3)),
            (b"/static", Some(0)),
        ];
        for (path, want) in cases {
            assert_eq!(
                mounts.route(path),
                want,
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn route_without_a_root_mount_finds_nothing_outside() {
        let mounts = Mounts::new(["/app", "/b"]);
        assert_eq!(mounts.route(b"/"), None);
        assert_eq!(mounts.route(b"/other"), None);
        assert_eq!(mounts.route(b"/b/x"), Some(1));
        assert_eq!(Mounts::default().route(b"/"), None);
    }

    #[test]
    fn equal_mounts_keep_config_order() {
        let mounts = Mounts::new(["/a", "/b", "/a"]);
        assert_eq!(mounts.route(b"/a/x"), Some(0));
    }

    #[test]
    fn locate_routes_the_normal_form_and_refuses_leaving_the_mount() {
        let mounts = Mounts::new(["/", "/app"]);
        // (target, result)
        type Case = (&'static [u8], Result<(usize, Origin), u16>);
        let cases: [Case; 8] = [
            (b"/app/x?q", Ok((1, Origin::AsSent(0)))),
            (b"/x", Ok((0, Origin::AsSent(0)))),
            (b"*", Ok((0, Origin::AsSent(0)))),
            (b"http://h/app/x", Ok((1, Origin::AsSent(8)))),
            (b"http://h", Ok((0, Origin::Rebuilt(b"/".to_vec())))),
            (b"/app/./x", Ok((1, Origin::Rebuilt(b"/app/x".to_vec())))),
            (b"/app/../x", Err(400)),
            (b"x", Err(400)),
        ];
        for (target, want) in cases {
            let got = mounts.locate(target).map_err(|(status, _)| status);
            assert_eq!(got, want, "{}", String::from_utf8_lossy(target));
        }
        assert_eq!(
            Mounts::new(["/app"]).locate(b"/x").map_err(|e| e.0),
            Err(404)
        );
    }

    #[test]
    fn origin_form_offset_skips_scheme_and_authority() {
        assert_eq!(origin_form_offset(b"/a?b", b"/a", b"?b"), 0);
        assert_eq!(origin_form_offset(b"http://h:8/a?b", b"/a", b"?b"), 10);
        assert_eq!(origin_form_offset(b"", b"/", b""), 0);
    }

    #[test]
    fn member_target_replaces_the_mount() {
        // (mount, target_path, target, (prefix, rest))
        type Case = (
            &'static str,
            &'static str,
            &'static [u8],
            (&'static [u8], &'static [u8]),
        );
        let cases: [Case; 5] = [
            ("/app", "/", b"/app/x", (b"", b"/x")),
            ("/app", "/", b"/app", (b"/", b"")),
            ("/", "/backend", b"/x?q", (b"/backend", b"/x?q")),
            ("/", "/backend", b"*", (b"", b"*")),
            ("/app", "/b/", b"http://h/app/y", (b"/b", b"/y")),
        ];
        for (mount, target_path, target, want) in cases {
            let mounts = Mounts::new([mount]);
            let (_, origin) = mounts.locate(target).unwrap();
            let got = member_target(mount.as_bytes(), target_path.as_bytes(), target, &origin);
            assert_eq!(
                got,
                want,
                "{mount} {target_path} {}",
                String::from_utf8_lossy(target)
            );
        }
    }
}
