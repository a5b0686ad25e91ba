//! The configuration an import builds, as ordered TOML keys, and its rendering.
//!
//! Importers fill it in the order they read their files; [`Imported::to_toml`] prints it in a
//! fixed order (top-level keys, single tables, listeners, balancers with their members, mounts,
//! virtual hosts with theirs), each table's keys in the order they were set. Values are
//! [`toml::Value`]s: a sub-table such as `health` is an inline table.

use std::fmt::Write;

use toml::Value;

/// Keys of one table, in the order they print. [`set`] replaces a key already there.
pub type Keys = Vec<(String, Value)>;

/// Sets `key` to `value` in `keys`: in place if it is there, else at the end.
pub fn set(keys: &mut Keys, key: &str, value: impl Into<Value>) {
    let value = value.into();
    match keys.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => keys.push((key.to_owned(), value)),
    }
}

/// The value of `key` in `keys`.
pub fn get<'a>(keys: &'a Keys, key: &str) -> Option<&'a Value> {
    keys.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A ringlb configuration under construction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    /// Top-level keys (`listen`, `workers`, ...).
    pub top: Keys,
    /// Single tables (`[timeouts]`, `[limits]`, `[headers]`, `[admin]`, `[log]`), by name.
    pub tables: Vec<(String, Keys)>,
    pub listeners: Vec<Listener>,
    pub balancers: Vec<Balancer>,
    /// Top-level `[[mount]]` tables.
    pub mounts: Vec<Keys>,
    pub vhosts: Vec<Vhost>,
}

/// One `[[listener]]` and its `[[listener.sni]]` tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listener {
    pub keys: Keys,
    pub sni: Vec<Keys>,
}

/// One `[[balancer]]`: its keys (without `name`) and its `[[balancer.member]]` tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Balancer {
    pub name: String,
    pub keys: Keys,
    pub members: Vec<Keys>,
}

/// One `[[vhost]]`: its keys and its `[[vhost.mount]]` tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vhost {
    pub keys: Keys,
    pub mounts: Vec<Keys>,
}

impl Imported {
    /// The single table `name`, created empty (at the end) when it is not there yet.
    pub fn table_mut(&mut self, name: &str) -> &mut Keys {
        let at = match self.tables.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.tables.push((name.to_owned(), Keys::new()));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at].1
    }

    /// The balancer named `name`.
    pub fn balancer_mut(&mut self, name: &str) -> Option<&mut Balancer> {
        self.balancers.iter_mut().find(|b| b.name == name)
    }

    /// The TOML text, in the order described in the module documentation.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        write_keys(&mut out, &self.top);
        for (name, keys) in &self.tables {
            section(&mut out, &format!("[{name}]"), keys);
        }
        for listener in &self.listeners {
            section(&mut out, "[[listener]]", &listener.keys);
            for sni in &listener.sni {
                section(&mut out, "[[listener.sni]]", sni);
            }
        }
        for balancer in &self.balancers {
            let mut keys = vec![("name".to_owned(), Value::from(balancer.name.as_str()))];
            keys.extend(balancer.keys.iter().cloned());
            section(&mut out, "[[balancer]]", &keys);
            for member in &balancer.members {
                section(&mut out, "[[balancer.member]]", member);
            }
        }
        for mount in &self.mounts {
            section(&mut out, "[[mount]]", mount);
        }
        for vhost in &self.vhosts {
            section(&mut out, "[[vhost]]", &vhost.keys);
            for mount in &vhost.mounts {
                section(&mut out, "[[vhost.mount]]", mount);
            }
        }
        out
    }
}

/// A header line, then the keys, after a blank line when something came before.
fn section(out: &mut String, header: &str, keys: &Keys) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(header);
    out.push('\n');
    write_keys(out, keys);
}

fn write_keys(out: &mut String, keys: &Keys) {
    for (key, value) in keys {
        let _ = writeln!(out, "{} = {value}", key_text(key));
    }
}

/// A bare key when it can be one, else a quoted key.
fn key_text(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_a_fixed_order_that_parses_back() {
        let mut imported = Imported::default();
        set(&mut imported.top, "listen", vec!["0.0.0.0:80"]);
        set(imported.table_mut("timeouts"), "connect", "5s");
        let mut member = Keys::new();
        set(&mut member, "url", "http://127.0.0.1:8080");
        set(&mut member, "route", "n1");
        let mut keys = Keys::new();
        let mut map = toml::Table::new();
        map.insert("/".into(), Value::from("/app/"));
        set(&mut keys, "proxypassreverse_cookie_path", Value::Table(map));
        imported.balancers.push(Balancer {
            name: "cluster".into(),
            keys,
            members: vec![member],
        });
        set(&mut imported.top, "listen", vec!["0.0.0.0:8080"]);
        let text = imported.to_toml();
        assert_eq!(
            text,
            "listen = [\"0.0.0.0:8080\"]\n\n[timeouts]\nconnect = \"5s\"\n\n[[balancer]]\n\
             name = \"cluster\"\nproxypassreverse_cookie_path = { \"/\" = \"/app/\" }\n\n\
             [[balancer.member]]\nurl = \"http://127.0.0.1:8080\"\nroute = \"n1\"\n"
        );
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(
            parsed["balancer"][0]["member"][0]["route"].as_str(),
            Some("n1")
        );
    }

    #[test]
    fn keys_that_are_not_bare_are_quoted() {
        assert_eq!(key_text("max_age"), "max_age");
        assert_eq!(key_text("/a b"), "\"/a b\"");
        assert_eq!(key_text(""), "\"\"");
    }
}
