//! An htpasswd file as `htpasswd` (apache2-utils) writes it, pure: parse once, verify a
//! password against a user's entry. Reading the file is the caller's job
//! ([`crate::admin::access::Access::load`]).
//!
//! # Schemes
//!
//! | prefix | written by | accepted |
//! |---|---|---|
//! | `$2y$`, `$2b$`, `$2a$` | `htpasswd -B` (bcrypt) | yes |
//! | `$apr1$` | `htpasswd -m`, the default (Apache MD5, 1000 MD5 rounds) | yes |
//! | `{SHA}` | `htpasswd -s` (one unsalted SHA-1, base64) | yes |
//! | 13 characters of `./0-9A-Za-z` | `htpasswd -d` (DES `crypt`) | no: 8-character passwords, 12-bit salt |
//! | `$1$`, `$5$`, `$6$` | system `crypt(3)` | no |
//! | anything else | `htpasswd -p` (plain text) | no |
//!
//! The primitives come from maintained crates: bcrypt from `bcrypt`, MD5 from `md-5` and
//! SHA-1 from `sha1` (RustCrypto). Only the apr1 construction on top of MD5 (salt, 1000
//! rounds, its own base64) is written here, checked against hashes the real `htpasswd` made.
//! Every comparison of a computed hash with the stored one is constant-time (`subtle`; the
//! `bcrypt` crate compares with `subtle` too).
//!
//! Cost: a bcrypt check takes milliseconds (cost 5 to 12), so the glue caches successful
//! checks ([`crate::admin::access`]) and never runs one on a data-path core.

use std::fmt;

use md5::{Digest, Md5};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// What to tell the operator when a line is refused.
const REMEDY: &str = "recreate the entry with htpasswd -B (bcrypt), -m (Apache MD5) or -s (SHA-1)";

/// One stored password hash, already checked for shape.
#[derive(Clone, PartialEq, Eq)]
enum Hash {
    /// The whole `$2y$NN$...` string, as `bcrypt::verify` takes it.
    Bcrypt(String),
    /// `$apr1$SALT$DIGEST`: the salt (1 to 8 characters) and the 22-character digest.
    Apr1 { salt: String, digest: String },
    /// `{SHA}base64`: the 20 bytes of SHA-1.
    Sha1([u8; 20]),
}

/// Users and password hashes from an htpasswd file.
#[derive(Clone, PartialEq, Eq)]
pub struct Htpasswd {
    entries: Vec<(String, Hash)>,
}

impl fmt::Debug for Htpasswd {
    /// Lists the users, never the hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Htpasswd")
            .field("users", &self.users().collect::<Vec<_>>())
            .finish()
    }
}

impl Htpasswd {
    /// Parses `user:hash` lines; blank lines and lines starting with `#` are skipped, `\r\n`
    /// endings accepted. A scheme of the table in the module doc that is refused, an unknown
    /// one, a malformed hash, a duplicate user or a line without `:` is an error naming the
    /// line (and the user, where there is one) and what to do.
    pub fn parse(text: &str) -> Result<Htpasswd, String> {
        let mut entries: Vec<(String, Hash)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let Some((user, hash)) = line.split_once(':') else {
                return Err(format!("htpasswd line {line_no}: expected user:hash"));
            };
            if user.is_empty() {
                return Err(format!("htpasswd line {line_no}: empty user name"));
            }
            let hash = parse_hash(hash)
                .map_err(|m| format!("htpasswd line {line_no}: user {user:?}: {m}"))?;
            if entries.iter().any(|(u, _)| u == user) {
                return Err(format!("htpasswd line {line_no}: duplicate user {user:?}"));
            }
            entries.push((user.to_owned(), hash));
        }
        Ok(Htpasswd { entries })
    }

    /// User names, in file order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(u, _)| u.as_str())
    }

    /// Checks an `Authorization` header value (`Basic base64(user:password)`); returns the
    /// user name on success.
    ///
    /// An unknown user still costs one check (against the first entry), so the response
    /// time does not tell which user names exist.
    pub fn authenticate(&self, authorization: &[u8]) -> Option<&str> {
        let (user, password) = super::auth::parse_basic(authorization)?;
        let found = self.entries.iter().find(|(u, _)| u.as_bytes() == user);
        let (name, hash) = match found {
            Some((name, hash)) => (Some(name.as_str()), hash),
            None => (None, &self.entries.first()?.1),
        };
        if verify(hash, &password) {
            name
        } else {
            None
        }
    }

    /// Whether the header carries a known user and that user's password.
    pub fn verify(&self, authorization: &[u8]) -> bool {
        self.authenticate(authorization).is_some()
    }
}

/// Whether `password` matches `hash`; constant-time in the comparison.
fn verify(hash: &Hash, password: &[u8]) -> bool {
    match hash {
        Hash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
        Hash::Apr1 { salt, digest } => {
            let computed = apr1(password, salt.as_bytes());
            bool::from(computed.as_bytes().ct_eq(digest.as_bytes()))
        }
        Hash::Sha1(stored) => {
            let computed = Sha1::digest(password);
            bool::from(computed.as_slice().ct_eq(stored))
        }
    }
}

/// The characters of crypt's base64 (`./0-9A-Za-z`), in value order.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn is_itoa64(text: &str) -> bool {
    text.bytes().all(|c| ITOA64.contains(&c))
}

/// Recognises the scheme of a stored hash and checks its shape.
fn parse_hash(hash: &str) -> Result<Hash, String> {
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        let bad = || format!("not a valid Apache MD5 hash ($apr1$SALT$22 characters); {REMEDY}");
        let (salt, digest) = rest.split_once('$').ok_or_else(bad)?;
        let salt_ok = (1..=8).contains(&salt.len()) && is_itoa64(salt);
        if !salt_ok || digest.len() != 22 || !is_itoa64(digest) {
            return Err(bad());
        }
        return Ok(Hash::Apr1 {
            salt: salt.to_owned(),
            digest: digest.to_owned(),
        });
    }
    if let Some(b64) = hash.strip_prefix("{SHA}") {
        let digest = super::auth::base64_decode(b64.as_bytes())
            .and_then(|d| <[u8; 20]>::try_from(d).ok())
            .ok_or_else(|| format!("not a valid {{SHA}} hash (base64 of 20 bytes); {REMEDY}"))?;
        return Ok(Hash::Sha1(digest));
    }
    if hash.starts_with("$2") {
        return check_bcrypt(hash).map(|()| Hash::Bcrypt(hash.to_owned()));
    }
    let kind = if hash.starts_with("$1$") {
        "MD5-crypt ($1$)".to_owned()
    } else if hash.starts_with("$5$") || hash.starts_with("$6$") {
        "SHA-crypt ($5$/$6$)".to_owned()
    } else if hash.len() == 13 && is_itoa64(hash) {
        "crypt (DES, htpasswd -d), which uses only the first 8 characters of a password".to_owned()
    } else if let Some(scheme) = hash.strip_prefix('$').and_then(|s| s.split('$').next()) {
        format!("an unknown scheme (${scheme}$)")
    } else {
        "not a known hash (plain text?)".to_owned()
    };
    Err(format!("hash is {kind}; not supported: {REMEDY}"))
}

/// Accepts a bcrypt hash `$2y$NN$` + 53 characters of bcrypt's base64.
fn check_bcrypt(hash: &str) -> Result<(), String> {
    let b = hash.as_bytes();
    let version_ok = matches!(b.get(..4), Some(b"$2y$" | b"$2b$" | b"$2a$"));
    let cost_ok = b.len() > 7
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && (4..=31).contains(&((b[4] - b'0') * 10 + (b[5] - b'0')))
        && b[6] == b'$';
    let body_ok = b.len() == 60
        && b[7..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/');
    if version_ok && cost_ok && body_ok {
        Ok(())
    } else {
        Err(format!(
            "not a valid bcrypt hash ($2y$/$2b$/$2a$, cost 04..31, 60 characters); {REMEDY}"
        ))
    }
}

/// The 22-character digest of Apache's `$apr1$` scheme: Poul-Henning Kamp's MD5-crypt with
/// the magic string `$apr1$` instead of `$1$` (httpd's `apr_md5_encode`). `salt` is at most 8
/// bytes, as in the stored hash.
pub(crate) fn apr1(password: &[u8], salt: &[u8]) -> String {
    const MAGIC: &[u8] = b"$apr1$";
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(MAGIC)
        .chain_update(salt);
    for chunk in password.chunks(16) {
        ctx.update(&alternate[..chunk.len()]);
    }
    // One byte per bit of the length: NUL for a 1 bit, the password's first byte for a 0.
    let mut bits = password.len();
    while bits != 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest = ctx.finalize();
    for round in 0..1000 {
        let mut ctx = Md5::new();
        if round & 1 == 1 {
            ctx.update(password);
        } else {
            ctx.update(digest);
        }
        if round % 3 != 0 {
            ctx.update(salt);
        }
        if round % 7 != 0 {
            ctx.update(password);
        }
        if round & 1 == 1 {
            ctx.update(digest);
        } else {
            ctx.update(password);
        }
        digest = ctx.finalize();
    }
    let d = digest;
    let mut out = String::with_capacity(22);
    let groups = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)];
    for (a, b, c) in groups {
        let v = u32::from(d[a]) << 16 | u32::from(d[b]) << 8 | u32::from(d[c]);
        push_itoa64(&mut out, v, 4);
    }
    push_itoa64(&mut out, u32::from(d[11]), 2);
    out
}

/// Appends the low `n` sextets of `v`, least significant first.
fn push_itoa64(out: &mut String, mut v: u32, n: usize) {
    for _ in 0..n {
        out.push(char::from(ITOA64[(v & 0x3f) as usize]));
        v >>= 6;
    }
}
