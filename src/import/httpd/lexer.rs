//! httpd's configuration syntax below the directive level: logical lines (`ap_cfg_getline`),
//! words (`ap_getword_conf`) and `${VAR}` (`ap_resolve_env`).
//!
//! White space is what C's `isspace` is in the C locale (space, tab, CR, LF, VT, FF): a
//! no-break space (U+00A0) is part of a word, as it is to httpd.

use std::collections::BTreeMap;

/// One logical line: continuations joined, trimmed, neither empty nor a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Line {
    /// 1-based physical line where it starts.
    pub(super) line: usize,
    pub(super) text: String,
}

/// httpd's white space.
pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{b}' | '\u{c}')
}

/// The logical lines of a file's text. A `\` just before the end of a physical line (a CR
/// before the LF allowed) is removed and the next physical line appended as it is, leading
/// blanks included; then each line is trimmed of white space, and empty lines and lines
/// starting with `#` are dropped.
pub(super) fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (i, raw) in text.split('\n').enumerate() {
        if pending.is_empty() {
            start = i + 1;
        }
        let body = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cut) = body.strip_suffix('\\') {
            pending.push_str(cut);
            continue;
        }
        pending.push_str(body);
        push_line(&mut out, start, &pending);
        pending.clear();
    }
    if !pending.is_empty() {
        push_line(&mut out, start, &pending);
    }
    out
}

fn push_line(out: &mut Vec<Line>, line: usize, text: &str) {
    let text = text.trim_matches(is_space);
    if text.is_empty() || text.starts_with('#') {
        return;
    }
    out.push(Line {
        line,
        text: text.to_owned(),
    });
}

/// The next word of `rest` and what follows it (leading white space of both skipped), or
/// `None` at the end. A word starting with `"` or `'` runs to the same quote (or the end of
/// the line), with `\` escaping that quote or `\`; a quote elsewhere is an ordinary
/// character. An unquoted word ends at white space; in it `\\` is one `\`.
pub(super) fn next_word(rest: &str) -> Option<(String, &str)> {
    let rest = rest.trim_start_matches(is_space);
    let mut chars = rest.char_indices().peekable();
    let (_, first) = chars.next()?;
    let mut word = String::new();
    let end;
    if first == '"' || first == '\'' {
        let mut close = rest.len();
        while let Some((i, c)) = chars.next() {
            if c == first {
                close = i + c.len_utf8();
                break;
            }
            if c == '\\' {
                if let Some(&(_, n)) = chars.peek() {
                    if n == first || n == '\\' {
                        word.push(n);
                        chars.next();
                        continue;
                    }
                }
            }
            word.push(c);
        }
        end = close;
    } else {
        let mut stop = rest.len();
        let mut prev_backslash = false;
        for (i, c) in rest.char_indices() {
            if is_space(c) {
                stop = i;
                break;
            }
            if c == '\\' && prev_backslash {
                prev_backslash = false;
                continue;
            }
            prev_backslash = c == '\\';
            word.push(c);
        }
        end = stop;
    }
    let after = rest.get(end..).unwrap_or("").trim_start_matches(is_space);
    Some((word, after))
}

/// Every word of `text` (see [`next_word`]).
pub(super) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((word, after)) = next_word(rest) {
        out.push(word);
        rest = after;
    }
    out
}

/// `text` with each `${NAME}` replaced by the `Define`d value, else the environment's; a
/// name found in neither is left as written (httpd warns and does the same) and returned
/// in the second value.
pub(super) fn resolve_vars(
    text: &str,
    defines: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut undefined = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let name = &after[..close];
        match defines.get(name).cloned().or_else(|| env(name)) {
            Some(value) if !name.is_empty() => out.push_str(&value),
            _ => {
                out.push_str(&rest[at..at + 3 + close]);
                if !undefined.iter().any(|u| u == name) {
                    undefined.push(name.to_owned());
                }
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    (out, undefined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_ap_getword_conf_reads_them() {
        let cases: &[(&str, &[&str])] = &[
            ("ProxyPass / http://a/", &["ProxyPass", "/", "http://a/"]),
            ("a \"b c\" d", &["a", "b c", "d"]),
            ("a 'b \"c' d", &["a", "b \"c", "d"]),
            (r#""a \" b""#, &["a \" b"]),
            (r#""a \\ b""#, &["a \\ b"]),
            (r#""a \x b""#, &["a \\x b"]),
            (r"a\\b a\b", &["a\\b", "a\\b"]),
            // A quote inside a word is an ordinary character.
            ("a\"b c\"", &["a\"b", "c\""]),
            // The unbalanced quote of the novotnyr corpus file.
            (
                r#"ProxyPass "/manager "balancer://tomcat/manager" x=1"#,
                &[
                    "ProxyPass",
                    "/manager ",
                    "balancer://tomcat/manager\"",
                    "x=1",
                ],
            ),
            // A closing quote ends the word even without white space after it.
            ("\"a\"b", &["a", "b"]),
            ("\"open to the end", &["open to the end"]),
            ("\t a \t", &["a"]),
            // NBSP is not white space.
            ("\u{a0} ServerName x", &["\u{a0}", "ServerName", "x"]),
            ("a\u{a0}b", &["a\u{a0}b"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(words(text), *want, "{text:?}");
        }
    }

    #[test]
    fn logical_lines_join_continuations_and_drop_comments() {
        let text = "# c\n  A b \\\n    c\nB\r\n\n  # x\nC \\\r\nd\nE\\";
        let got: Vec<(usize, String)> = lines(text).into_iter().map(|l| (l.line, l.text)).collect();
        let want = [(2, "A b     c"), (4, "B"), (7, "C d"), (9, "E")];
        let want: Vec<(usize, String)> = want.iter().map(|(n, t)| (*n, t.to_string())).collect();
        assert_eq!(got, want);
        // A comment continues too, and NBSP is not trimmed.
        let got = lines("# a \\\nB\n\u{a0}C\u{a0}");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "\u{a0}C\u{a0}");
        assert_eq!(got[0].line, 3);
    }

    #[test]
    fn variables_from_defines_then_environment() {
        let mut defines = BTreeMap::new();
        defines.insert("A".to_owned(), "1".to_owned());
        let env = |n: &str| (n == "E").then(|| "env".to_owned());
        let cases: &[(&str, &str, &[&str])] = &[
            ("x${A}y", "x1y", &[]),
            ("${E}/${A}", "env/1", &[]),
            ("${NO}/${NO}", "${NO}/${NO}", &["NO"]),
            ("${unclosed", "${unclosed", &[]),
            ("$A {A}", "$A {A}", &[]),
        ];
        for (text, want, undefined) in cases {
            let (got, undef) = resolve_vars(text, &defines, &env);
            assert_eq!(got, *want, "{text:?}");
            assert_eq!(undef, *undefined, "{text:?}");
        }
    }
}
