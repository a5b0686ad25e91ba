//! A balancer's reverse rewriting (httpd `ProxyPassReverse`, `ProxyPassReverseCookiePath`,
//! `ProxyPassReverseCookieDomain`): keys `proxypassreverse`, `proxypassreverse_cookie_path` and
//! `proxypassreverse_cookie_domain`. The rewriting itself is `http::reverse`.

use super::display::toml_string;

/// How a balancer's responses are put in the client's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReverseConfig {
    /// `proxypassreverse`: rewrite `Location`, `Content-Location`, `URI` and the `Set-Cookie`
    /// `Path=`/`Domain=` attributes (default on). Off, only the two maps below still apply,
    /// as httpd applies `ProxyPassReverseCookie*` without a `ProxyPassReverse`.
    pub enabled: bool,
    /// `proxypassreverse_cookie_path`: (from, to), longest `from` first (ties by `from`).
    pub cookie_path: Vec<(String, String)>,
    /// `proxypassreverse_cookie_domain`: (from, to), sorted by `from`.
    pub cookie_domain: Vec<(String, String)>,
}

impl Default for ReverseConfig {
    fn default() -> ReverseConfig {
        ReverseConfig {
            enabled: true,
            cookie_path: Vec::new(),
            cookie_domain: Vec::new(),
        }
    }
}

/// Sorts a path map into matching order: longest `from` first, then by `from`.
pub(crate) fn sort_paths(map: &mut [(String, String)]) {
    map.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
}

/// A map as a TOML inline table, `{ "from" = "to", ... }` (`{}` when empty).
pub(crate) fn map_text(map: &[(String, String)]) -> String {
    if map.is_empty() {
        return "{}".to_owned();
    }
    let items: Vec<String> = map
        .iter()
        .map(|(from, to)| format!("{} = {}", toml_string(from), toml_string(to)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}
