//! Manager requests → [`AdminRequest`]: `application/x-www-form-urlencoded` bodies and query
//! strings with Apache balancer-manager field names ([`parse_form`]), and JSON bodies
//! ([`parse_json_action`]). Pure; applying an action is the I/O glue's job.
//!
//! # Form fields (`mod_proxy_balancer` names)
//!
//! Pairs are split on `&`, then on the first `=` (a key without `=` has the value `""`); `+` is
//! a space and `%XX` a byte; a bad escape or invalid UTF-8 is an error. A repeated key keeps its
//! **last** value (the page sends a hidden `w_status_X=0` before each checkbox's `=1`). Unknown
//! keys are ignored, as Apache does (submit buttons, `json`, ...). The action is picked by:
//!
//! 1. `add_url` present → [`AdminAction::Add`]: `b`, `add_url`, `add_route` (optional),
//!    `add_lf` (optional, default 1). The member starts disabled (D), as in Apache.
//! 2. `remove=1` → [`AdminAction::Remove`]: `b`, `w`.
//! 3. `w` present → [`AdminAction::Update`]: `b`, `w`, and any of `w_lf` (loadfactor 1..=100,
//!    decimals allowed), `w_ls` (lbset 0..=99), `w_wr` (route), `w_rr` (redirect),
//!    `w_status_X` = `0|1` for X in `D S I H R N C` ([`StatusLetters::SETTABLE`]). An empty
//!    `w_lf`/`w_ls` means "unchanged"; an empty `w_wr`/`w_rr` clears the route/redirect.
//! 4. none of these → [`FormError::NoAction`] (a plain page view), or `Missing("w")` if `b`
//!    was given alone.
//!
//! `nonce` is returned alongside; checking it is the caller's job ([`super::auth::nonce_matches`]).
//!
//! # JSON API
//!
//! One object; unknown keys are refused, `null` is the same as absent:
//!
//! ```text
//! {"balancer":"b","member":"http://10.0.0.1:8080","loadfactor":2,"lbset":0,
//!  "route":"n1","redirect":"","status":"+N-D","nonce":"..."}                      update
//! {"add":{"balancer":"b","url":"http://10.0.0.9:8080","route":"n9","loadfactor":1}} add
//! {"remove":{"balancer":"b","member":"http://10.0.0.9:8080"}}                      remove
//! ```
//!
//! Update fields other than `balancer` and `member` are optional. `status` is a sequence of
//! letters each after `+` (set) or `-` (clear); letters before any sign are set: `"+N-D"`,
//! `"-DS+H"`, `"N"`. The same checks as the form apply. `nonce` may accompany any of the three.
//!
//! # Value rules
//!
//! Routes and redirects: at most [`MAX_ROUTE_LEN`] bytes of visible ASCII without `;`, `,`,
//! `=`, `"` or `\` (the config file's rule). Add URLs: `http://...` without whitespace; the
//! glue parses them fully with the config's member-URL parser.

use std::fmt;

use serde::Deserialize;

/// Longest route or redirect accepted (Apache's `PROXY_WORKER_MAX_ROUTE_SIZE`).
pub const MAX_ROUTE_LEN: usize = 96;
/// Longest member URL accepted by `add`.
pub const MAX_URL_LEN: usize = 512;

/// A parsed manager request: the action and the nonce that came with it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminRequest {
    /// What to do.
    pub action: AdminAction,
    /// The `nonce` field, if sent.
    pub nonce: Option<String>,
}

/// A change to apply to a balancer.
#[derive(Clone, Debug, PartialEq)]
pub enum AdminAction {
    /// Change a member's settings; `None` fields stay as they are.
    Update {
        /// Balancer name (`b`).
        balancer: String,
        /// Member URL (`w`).
        member: String,
        /// New loadfactor, 1..=100 (`w_lf`).
        loadfactor: Option<f64>,
        /// New lbset, 0..=99 (`w_ls`).
        lbset: Option<u32>,
        /// New route; `Some("")` clears it (`w_wr`).
        route: Option<String>,
        /// New redirect; `Some("")` clears it (`w_rr`).
        redirect: Option<String>,
        /// Flags to set.
        set: StatusLetters,
        /// Flags to clear (disjoint from `set`).
        clear: StatusLetters,
    },
    /// Add a member; it starts disabled (D).
    Add {
        /// Balancer name (`b`).
        balancer: String,
        /// Member URL (`add_url`).
        url: String,
        /// Route; empty for none (`add_route`).
        route: String,
        /// Loadfactor, 1..=100, default 1 (`add_lf`).
        loadfactor: f64,
    },
    /// Remove a member.
    Remove {
        /// Balancer name (`b`).
        balancer: String,
        /// Member URL (`w`).
        member: String,
    },
    /// End every operator override: the file's values are in force again
    /// (`clear_overrides=1`).
    ClearOverrides,
}

/// Why a request was refused. `Display` gives a message fit for the manager page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormError {
    /// Bad percent escape, invalid UTF-8 or malformed JSON.
    Syntax(String),
    /// A required field is absent.
    Missing(&'static str),
    /// A field's value is out of range or malformed.
    Invalid {
        /// The field name as sent (`w_lf`, `w_status_E`, `loadfactor`, ...).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The request names no action (a plain page view).
    NoAction,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::Syntax(m) => write!(f, "malformed request: {m}"),
            FormError::Missing(field) => write!(f, "missing field {field}"),
            FormError::Invalid { field, message } => write!(f, "{field}: {message}"),
            FormError::NoAction => f.write_str("no action requested"),
        }
    }
}

impl std::error::Error for FormError {}

fn invalid(field: &str, message: impl Into<String>) -> FormError {
    FormError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A set of the status letters the manager may change, as a bitset in
/// [`StatusLetters::SETTABLE`] order. `E` (set by failures, cleared by retry) and the internal
/// letters (O, G, U, F) are not settable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusLetters(u8);

impl StatusLetters {
    /// Settable letters, in display order (docs/semantics.md §4).
    pub const SETTABLE: [u8; 7] = *b"DSIHRNC";
    /// The empty set.
    pub const EMPTY: StatusLetters = StatusLetters(0);

    fn bit(letter: u8) -> Option<u8> {
        Self::SETTABLE
            .iter()
            .position(|&l| l == letter)
            .map(|i| 1 << i)
    }

    /// Parses letters like `"DN"`; `None` if one is not settable.
    pub fn from_letters(letters: &str) -> Option<StatusLetters> {
        let mut set = StatusLetters::EMPTY;
        for &l in letters.as_bytes() {
            set.0 |= Self::bit(l)?;
        }
        Some(set)
    }

    /// Adds `letter`; `false` (and no change) if it is not settable.
    pub fn insert(&mut self, letter: u8) -> bool {
        match Self::bit(letter) {
            Some(bit) => {
                self.0 |= bit;
                true
            }
            None => false,
        }
    }

    /// Removes `letter` if present.
    pub fn remove(&mut self, letter: u8) {
        if let Some(bit) = Self::bit(letter) {
            self.0 &= !bit;
        }
    }

    /// Whether `letter` is in the set.
    pub fn contains(self, letter: u8) -> bool {
        Self::bit(letter).is_some_and(|bit| self.0 & bit != 0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The letters in [`Self::SETTABLE`] order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        Self::SETTABLE
            .into_iter()
            .filter(move |&l| self.contains(l))
    }
}

impl fmt::Display for StatusLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in self.iter() {
            fmt::Write::write_char(f, char::from(l))?;
        }
        Ok(())
    }
}

/// The first value of field `name` in form or query text; `None` when it is absent or the
/// text does not decode.
pub fn field(input: &[u8], name: &str) -> Option<String> {
    decode_pairs(input)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Decodes `application/x-www-form-urlencoded` text into `(key, value)` pairs in order.
pub fn decode_pairs(input: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs = Vec::new();
    for piece in input.split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        pairs.push((decode_component(key)?, decode_component(value)?));
    }
    Ok(pairs)
}

/// Percent-decodes one key or value (`+` is a space), requiring UTF-8.
pub fn decode_component(text: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| text.get(j).and_then(|&c| char::from(c).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    let end = (i + 3).min(text.len());
                    let bad = String::from_utf8_lossy(&text[i..end]);
                    return Err(FormError::Syntax(format!("bad percent escape {bad:?}")));
                };
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::Syntax("invalid UTF-8".to_owned()))
}

/// Parses a form body or query string; see the module docs for the fields.
pub fn parse_form(input: &[u8]) -> Result<AdminRequest, FormError> {
    let pairs = decode_pairs(input)?;
    let get = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let nonce = get("nonce").map(str::to_owned);
    let balancer = get("b");
    let action = if let Some(url) = get("add_url") {
        let lf = match get("add_lf") {
            None | Some("") => 1.0,
            Some(text) => parse_loadfactor("add_lf", text)?,
        };
        AdminAction::Add {
            balancer: required_name("b", balancer)?,
            url: check_url("add_url", url)?,
            route: check_route("add_route", get("add_route").unwrap_or(""))?,
            loadfactor: lf,
        }
    } else if let Some(flag) = get("remove") {
        if flag != "1" {
            return Err(invalid("remove", format!("expected 1, got {flag:?}")));
        }
        AdminAction::Remove {
            balancer: required_name("b", balancer)?,
            member: required_name("w", get("w"))?,
        }
    } else if let Some(flag) = get("clear_overrides") {
        if flag != "1" {
            return Err(invalid(
                "clear_overrides",
                format!("expected 1, got {flag:?}"),
            ));
        }
        AdminAction::ClearOverrides
    } else if let Some(member) = get("w") {
        form_update(&pairs, required_name("b", balancer)?, member, &get)?
    } else if balancer.is_some() {
        return Err(FormError::Missing("w"));
    } else {
        return Err(FormError::NoAction);
    };
    Ok(AdminRequest { action, nonce })
}

fn form_update<'a>(
    pairs: &'a [(String, String)],
    balancer: String,
    member: &str,
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<AdminAction, FormError> {
    let loadfactor = match get("w_lf") {
        None | Some("") => None,
        Some(text) => Some(parse_loadfactor("w_lf", text)?),
    };
    let lbset = match get("w_ls") {
        None | Some("") => None,
        Some(text) => Some(parse_lbset("w_ls", text)?),
    };
    let route = get("w_wr").map(|r| check_route("w_wr", r)).transpose()?;
    let redirect = get("w_rr").map(|r| check_route("w_rr", r)).transpose()?;
    // Pairs in order, so a later value for the same letter overrides an earlier one.
    let (mut set, mut clear) = (StatusLetters::EMPTY, StatusLetters::EMPTY);
    for (key, value) in pairs {
        let Some(letters) = key.strip_prefix("w_status_") else {
            continue;
        };
        let letter = match letters.as_bytes() {
            [l] if StatusLetters::SETTABLE.contains(l) => *l,
            _ => {
                let settable = String::from_utf8_lossy(&StatusLetters::SETTABLE).into_owned();
                return Err(invalid(
                    key,
                    format!("unknown or unsettable status flag; settable: {settable}"),
                ));
            }
        };
        match value.as_str() {
            "1" => {
                set.insert(letter);
                clear.remove(letter);
            }
            "0" => {
                clear.insert(letter);
                set.remove(letter);
            }
            other => return Err(invalid(key, format!("expected 0 or 1, got {other:?}"))),
        }
    }
    Ok(AdminAction::Update {
        balancer,
        member: required_name("w", Some(member))?,
        loadfactor,
        lbset,
        route,
        redirect,
        set,
        clear,
    })
}

/// Parses a `status` change like `"+N-D"` into `(set, clear)`; see the module docs.
pub fn parse_status_change(text: &str) -> Result<(StatusLetters, StatusLetters), FormError> {
    let (mut set, mut clear) = (StatusLetters::EMPTY, StatusLetters::EMPTY);
    let mut setting = true;
    for c in text.bytes() {
        match c {
            b'+' => setting = true,
            b'-' => setting = false,
            l => {
                let (target, other) = if setting {
                    (&mut set, &clear)
                } else {
                    (&mut clear, &set)
                };
                if !target.insert(l) {
                    let msg = format!(
                        "{:?} is not a settable status flag (settable: DSIHRNC)",
                        char::from(l)
                    );
                    return Err(invalid("status", msg));
                }
                if other.contains(l) {
                    let msg = format!("{:?} is both set and cleared", char::from(l));
                    return Err(invalid("status", msg));
                }
            }
        }
    }
    Ok((set, clear))
}

/// A loadfactor: a finite decimal number in 1..=100.
fn parse_loadfactor(field: &str, text: &str) -> Result<f64, FormError> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| invalid(field, format!("{text:?} is not a number")))?;
    check_loadfactor(field, value)
}

fn check_loadfactor(field: &str, value: f64) -> Result<f64, FormError> {
    if value.is_finite() && (1.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(field, format!("{value} is out of range 1..=100")))
    }
}

fn parse_lbset(field: &str, text: &str) -> Result<u32, FormError> {
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|_| invalid(field, format!("{text:?} is not an integer")))?;
    check_lbset(field, value)
}

fn check_lbset(field: &str, value: i64) -> Result<u32, FormError> {
    match u32::try_from(value) {
        Ok(v) if v <= 99 => Ok(v),
        _ => Err(invalid(field, format!("{value} is out of range 0..=99"))),
    }
}

/// A route or redirect; empty is allowed (no route).
fn check_route(field: &str, route: &str) -> Result<String, FormError> {
    if route.len() > MAX_ROUTE_LEN {
        return Err(invalid(field, format!("longer than {MAX_ROUTE_LEN} bytes")));
    }
    if let Some(c) = route
        .chars()
        .find(|&c| !c.is_ascii_graphic() || matches!(c, ';' | ',' | '=' | '"' | '\\'))
    {
        return Err(invalid(
            field,
            format!("{c:?} is not allowed; use visible ASCII without whitespace, ; , = \" or \\"),
        ));
    }
    Ok(route.to_owned())
}

fn check_url(field: &str, url: &str) -> Result<String, FormError> {
    let has_scheme = url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    if !has_scheme || url.len() == 7 {
        return Err(invalid(field, format!("{url:?} is not an http:// URL")));
    }
    if url.len() > MAX_URL_LEN {
        return Err(invalid(field, format!("longer than {MAX_URL_LEN} bytes")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            field,
            "URL contains whitespace or control characters",
        ));
    }
    Ok(url.to_owned())
}

fn required_name(field: &'static str, value: Option<&str>) -> Result<String, FormError> {
    match value {
        None => Err(FormError::Missing(field)),
        Some("") => Err(invalid(field, "must not be empty")),
        Some(v) => Ok(v.to_owned()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBody {
    balancer: Option<String>,
    member: Option<String>,
    loadfactor: Option<f64>,
    lbset: Option<i64>,
    route: Option<String>,
    redirect: Option<String>,
    status: Option<String>,
    add: Option<JsonAdd>,
    remove: Option<JsonRemove>,
    clear_overrides: Option<bool>,
    nonce: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonAdd {
    balancer: Option<String>,
    url: Option<String>,
    route: Option<String>,
    loadfactor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRemove {
    balancer: Option<String>,
    member: Option<String>,
}

/// Parses a JSON API body; see the module docs for the format.
pub fn parse_json_action(body: &[u8]) -> Result<AdminRequest, FormError> {
    let body: JsonBody =
        serde_json::from_slice(body).map_err(|e| FormError::Syntax(e.to_string()))?;
    let update_given = body.balancer.is_some()
        || body.member.is_some()
        || body.loadfactor.is_some()
        || body.lbset.is_some()
        || body.route.is_some()
        || body.redirect.is_some()
        || body.status.is_some();
    let kinds = usize::from(update_given)
        + usize::from(body.add.is_some())
        + usize::from(body.remove.is_some())
        + usize::from(body.clear_overrides.is_some());
    if kinds > 1 {
        return Err(FormError::Syntax(
            "give exactly one of: update fields, \"add\", \"remove\", \"clear_overrides\""
                .to_owned(),
        ));
    }
    let action = if let Some(clear) = body.clear_overrides {
        if !clear {
            return Err(invalid("clear_overrides", "expected true".to_owned()));
        }
        AdminAction::ClearOverrides
    } else if let Some(add) = body.add {
        AdminAction::Add {
            balancer: required_name("add.balancer", add.balancer.as_deref())?,
            url: check_url("add.url", &required_name("add.url", add.url.as_deref())?)?,
            route: check_route("add.route", add.route.as_deref().unwrap_or(""))?,
            loadfactor: check_loadfactor("add.loadfactor", add.loadfactor.unwrap_or(1.0))?,
        }
    } else if let Some(remove) = body.remove {
        AdminAction::Remove {
            balancer: required_name("remove.balancer", remove.balancer.as_deref())?,
            member: required_name("remove.member", remove.member.as_deref())?,
        }
    } else if update_given {
        let (set, clear) = match &body.status {
            Some(s) => parse_status_change(s)?,
            None => (StatusLetters::EMPTY, StatusLetters::EMPTY),
        };
        AdminAction::Update {
            balancer: required_name("balancer", body.balancer.as_deref())?,
            member: required_name("member", body.member.as_deref())?,
            loadfactor: body
                .loadfactor
                .map(|v| check_loadfactor("loadfactor", v))
                .transpose()?,
            lbset: body.lbset.map(|v| check_lbset("lbset", v)).transpose()?,
            route: body.route.map(|r| check_route("route", &r)).transpose()?,
            redirect: body
                .redirect
                .map(|r| check_route("redirect", &r))
                .transpose()?,
            set,
            clear,
        }
    } else {
        return Err(FormError::NoAction);
    };
    Ok(AdminRequest {
        action,
        nonce: body.nonce,
    })
}
