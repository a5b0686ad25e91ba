//! `ringlb import httpd|modjk|modjk2 FILE [FLAGS]`: the one command with a positional argument.

use std::path::PathBuf;

use clap::Subcommand;

use super::args::parse_file;
use crate::import::Source;

/// What `import` translates.
#[derive(Debug, Subcommand)]
pub(super) enum ImportKind {
    /// An httpd configuration (mod_proxy_balancer, mod_jk directives), Include files followed
    Httpd {
        /// The main httpd.conf (or a file it includes)
        #[arg(value_name = "FILE", value_parser = parse_file)]
        file: PathBuf,
        /// Define NAME for <IfDefine NAME> (httpd -D), repeatable
        #[arg(short = 'D', value_name = "NAME")]
        define: Vec<String>,
        /// ServerRoot for relative paths [the directory of FILE]
        #[arg(long, value_name = "DIR", value_parser = parse_file)]
        server_root: Option<PathBuf>,
    },
    /// A mod_jk workers.properties
    Modjk {
        #[arg(value_name = "WORKERS.PROPERTIES", value_parser = parse_file)]
        workers: PathBuf,
        /// The uriworkermap.properties that mounts the workers
        #[arg(long, value_name = "FILE", value_parser = parse_file)]
        uriworkermap: Option<PathBuf>,
        /// The httpd configuration with the JkMount lines
        #[arg(long, value_name = "FILE", value_parser = parse_file)]
        httpd: Option<PathBuf>,
    },
    /// A mod_jk2 workers2.properties
    Modjk2 {
        #[arg(value_name = "WORKERS2.PROPERTIES", value_parser = parse_file)]
        file: PathBuf,
    },
}

impl ImportKind {
    pub(super) fn into_source(self) -> Source {
        match self {
            ImportKind::Httpd {
                file,
                define,
                server_root,
            } => Source::Httpd {
                file,
                defines: define,
                server_root,
            },
            ImportKind::Modjk {
                workers,
                uriworkermap,
                httpd,
            } => Source::Modjk {
                workers,
                uriworkermap,
                httpd,
            },
            ImportKind::Modjk2 { file } => Source::Modjk2 { file },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CliError, Command};
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
        assert!(error(&["import"]).contains("Usage: ringlb import <COMMAND>"));
        assert!(error(&["import", "nginx", "f"]).contains("unrecognized subcommand 'nginx'"));
        let missing = error(&["import", "httpd"]);
        assert!(missing.contains("<FILE>"), "{missing}");
        // Only the usage of the command concerned.
        assert!(missing.contains("Usage: ringlb import httpd"), "{missing}");
        assert!(!missing.contains("bench-member"), "{missing}");
        assert!(error(&["import", "httpd", "a", "b"]).contains("unexpected argument 'b'"));
        assert!(error(&["import", "modjk", "w", "-D", "X"]).contains("unexpected argument '-D'"));
        assert!(error(&["import", "httpd", "a", "--server-root"])
            .contains("a value is required for '--server-root <DIR>'"));
    }
}
