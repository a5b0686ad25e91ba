//! `ringlb import httpd|modjk|modjk2 FILE [FLAGS]`: the one command with a positional argument.

use std::path::PathBuf;

use super::{usage, CliError, Command};
use crate::import::Source;

/// Parses the arguments after `import`.
pub(super) fn parse_import(args: &[String]) -> Result<Command, CliError> {
    let Some((kind, rest)) = args.split_first() else {
        return Err(usage(
            "`import` needs a kind: httpd, modjk or modjk2".to_owned(),
        ));
    };
    if matches!(kind.as_str(), "-h" | "--help") {
        return Ok(Command::Help);
    }
    let mut file: Option<PathBuf> = None;
    let mut defines = Vec::new();
    let mut server_root: Option<PathBuf> = None;
    let mut uriworkermap: Option<PathBuf> = None;
    let mut httpd: Option<PathBuf> = None;
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if arg.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |flag: &str| -> Result<String, CliError> {
            match inline.clone().or_else(|| args.next().cloned()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(usage(format!("`{flag}` needs a value"))),
            }
        };
        match (kind.as_str(), name) {
            (_, "-h" | "--help") => return Ok(Command::Help),
            ("httpd", "-D") => defines.push(value("-D")?),
            ("httpd", d) if d.starts_with("-D") && d.len() > 2 => defines.push(d[2..].to_owned()),
            ("httpd", "--server-root") => {
                super::set_once(&mut server_root, value(name)?.into(), name)?
            }
            ("modjk", "--uriworkermap") => {
                super::set_once(&mut uriworkermap, value(name)?.into(), name)?
            }
            ("modjk", "--httpd") => super::set_once(&mut httpd, value(name)?.into(), name)?,
            (_, flag) if flag.starts_with('-') && flag != "-" => {
                return Err(usage(format!("unknown flag `{flag}` for `import {kind}`")))
            }
            (_, path) => {
                if file.replace(path.into()).is_some() {
                    return Err(usage(format!(
                        "`import {kind}` takes one file, found a second: `{path}`"
                    )));
                }
            }
        }
    }
    let Some(file) = file else {
        return Err(usage(format!("`import {kind}` needs a FILE")));
    };
    let source = match kind.as_str() {
        "httpd" => Source::Httpd {
            file,
            defines,
            server_root,
        },
        "modjk" => Source::Modjk {
            workers: file,
            uriworkermap,
            httpd,
        },
        "modjk2" => Source::Modjk2 { file },
        other => {
            return Err(usage(format!(
                "unknown import kind `{other}`; expected httpd, modjk or modjk2"
            )))
        }
    };
    Ok(Command::Import(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, CliError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        super::super::parse(&args)
    }

    #[test]
    fn import_forms() {
        assert_eq!(
            parse(&[
                "import",
                "httpd",
                "h.conf",
                "-D",
                "A",
                "-DB",
                "--server-root=/etc/x"
            ]),
            Ok(Command::Import(Source::Httpd {
                file: "h.conf".into(),
                defines: vec!["A".into(), "B".into()],
                server_root: Some("/etc/x".into()),
            }))
        );
        assert_eq!(
            parse(&["import", "modjk", "--uriworkermap", "u", "w.properties"]),
            Ok(Command::Import(Source::Modjk {
                workers: "w.properties".into(),
                uriworkermap: Some("u".into()),
                httpd: None,
            }))
        );
        assert_eq!(
            parse(&["import", "modjk2", "w2"]),
            Ok(Command::Import(Source::Modjk2 { file: "w2".into() }))
        );
    }

    #[test]
    fn import_mistakes_name_the_problem() {
        let error = |args: &[&str]| match parse(args) {
            Err(CliError::Usage(m)) => m,
            other => panic!("{args:?}: {other:?}"),
        };
        assert!(error(&["import"]).contains("needs a kind"));
        assert!(error(&["import", "nginx", "f"]).contains("unknown import kind `nginx`"));
        assert!(error(&["import", "httpd"]).contains("needs a FILE"));
        assert!(error(&["import", "httpd", "a", "b"]).contains("a second: `b`"));
        assert!(error(&["import", "modjk", "w", "-D", "X"]).contains("unknown flag `-D`"));
        assert!(error(&["import", "httpd", "a", "--server-root"]).contains("needs a value"));
    }
}
