//! Reading an httpd configuration into a flat list of directives, each with its scope:
//! `Include`/`IncludeOptional` followed, `<IfDefine>`/`<IfModule>`/`<IfVersion>` decided,
//! `Define` and `${VAR}` applied, sections balanced, and every directive name checked against
//! those httpd knows. What httpd itself would refuse is refused here with `file:line`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::known;
use super::lexer::{self, Line};
use super::matching::{dir_files, glob, version_holds};
use crate::import::{ImportError, Loc, Report};

/// How deep `Include`s may nest (httpd's own limit).
const MAX_INCLUDE_DEPTH: usize = 128;

/// One directive or section opening as read, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Directive {
    pub(super) loc: Loc,
    /// As written; a section as `<VirtualHost`.
    pub(super) name: String,
    /// Lowercased `name`.
    pub(super) key: String,
    pub(super) args: Vec<String>,
    pub(super) scope: Scope,
}

/// Where a directive stands: the sections around it that matter to an import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Scope {
    /// The `<VirtualHost>`, numbered from 0 in file order (its own opening has it too).
    pub(super) vhost: Option<usize>,
    /// `<Location PATH>` (false) or `<LocationMatch RE>` (true).
    pub(super) location: Option<(String, bool)>,
    /// `<Proxy URL>` (false) or `<ProxyMatch RE>` (true).
    pub(super) proxy: Option<(String, bool)>,
    /// The innermost other section (`<Directory /x>`, `<Files a>`, `<If ...>`), as written.
    pub(super) other: Option<String>,
}

/// What the reader was told.
pub(super) struct Options<'a> {
    /// `-D NAME`s.
    pub(super) defines: &'a [String],
    /// `--server-root`, which wins over `ServerRoot`.
    pub(super) server_root: Option<&'a Path>,
    /// The environment `${VAR}` falls back to.
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
}

/// What [`read`] found.
pub(super) struct Read {
    pub(super) directives: Vec<Directive>,
    /// The server root the paths in them are relative to.
    pub(super) server_root: PathBuf,
    /// Every line read, in the order read (includes at their place), for the report's order.
    pub(super) seen: Vec<Loc>,
}

/// Reads `file` and everything it includes.
pub(super) fn read(
    file: &Path,
    options: &Options<'_>,
    report: &mut Report,
) -> Result<Read, ImportError> {
    let server_root = match options.server_root {
        Some(root) => root.to_path_buf(),
        None => {
            let dir = file.parent().unwrap_or(Path::new("."));
            dir.parent().unwrap_or(dir).to_path_buf()
        }
    };
    let mut reader = Reader {
        report,
        defined: options.defines.to_vec(),
        vars: BTreeMap::new(),
        loaded: Vec::new(),
        server_root,
        root_fixed: options.server_root.is_some(),
        stack: Vec::new(),
        out: Vec::new(),
        vhosts: 0,
        env: options.env,
        depth: 0,
        seen: Vec::new(),
        unknown: Vec::new(),
    };
    reader.file(file, &Loc::new(file.display().to_string(), 0))?;
    let loaded = &reader.loaded;
    let unknown = reader
        .unknown
        .iter()
        .find(|(_, name)| !known::is_directive(&name.to_ascii_lowercase(), loaded));
    if let Some((loc, name)) = unknown {
        return Err(invalid_command(loc, name));
    }
    Ok(Read {
        directives: reader.out,
        server_root: reader.server_root,
        seen: reader.seen,
    })
}

enum Kind {
    Cond,
    Vhost(usize),
    Location(String, bool),
    Proxy(String, bool),
    Other(String),
}

struct Frame {
    /// The section's name as written, without `<`.
    name: String,
    kind: Kind,
    loc: Loc,
    /// Given out when the section closes: the `</proxy` of a `<Proxy URL key=value ...>`,
    /// whose parameters httpd sets once the lines inside are read.
    on_close: Option<Directive>,
}

struct Reader<'a> {
    report: &'a mut Report,
    /// `-D` and `Define` names.
    defined: Vec<String>,
    /// `Define NAME VALUE`s.
    vars: BTreeMap<String, String>,
    /// `LoadModule`d modules (short names).
    loaded: Vec<String>,
    server_root: PathBuf,
    /// `--server-root` given: `ServerRoot` does not move it.
    root_fixed: bool,
    stack: Vec<Frame>,
    out: Vec<Directive>,
    vhosts: usize,
    env: &'a dyn Fn(&str) -> Option<String>,
    depth: usize,
    seen: Vec<Loc>,
    /// Directives not known when read, checked again once every `LoadModule` is read.
    unknown: Vec<(Loc, String)>,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, from: &Loc) -> Result<(), ImportError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ImportError::new(
                from.clone(),
                format!("could not open configuration file {}: {e}", path.display()),
            )
        })?;
        let shown = path.display().to_string();
        let lines = lexer::lines(&text);
        let base = self.stack.len();
        let mut i = 0;
        while let Some(line) = lines.get(i) {
            i += 1;
            let loc = Loc::new(shown.clone(), line.line);
            self.seen.push(loc.clone());
            let text = self.resolve(&line.text, &loc);
            let Some((name, rest)) = lexer::next_word(&text) else {
                continue;
            };
            if let Some(closing) = name.strip_prefix("</") {
                self.close(closing, base, &loc)?;
            } else if let Some(section) = name.strip_prefix('<') {
                let skip = self.open(section, &name, rest, &loc)?;
                if skip {
                    i = soak(&lines, i, section.trim_end_matches('>'), &loc)?;
                }
            } else {
                self.directive(&name, rest, &loc)?;
            }
        }
        if self.stack.len() > base {
            if let Some(open) = self.stack.last() {
                return Err(ImportError::new(
                    open.loc.clone(),
                    format!("<{}> was not closed", open.name),
                ));
            }
        }
        Ok(())
    }

    /// `${VAR}` resolved; an undefined one reported once per line.
    fn resolve(&mut self, text: &str, loc: &Loc) -> String {
        if !text.contains("${") {
            return text.to_owned();
        }
        let (resolved, undefined) = lexer::resolve_vars(text, &self.vars, self.env);
        for name in undefined {
            self.report.approximated(
                loc,
                format!("${{{name}}}"),
                "not defined (no Define, not in the environment): kept as written, as httpd does",
            );
        }
        resolved
    }

    fn close(&mut self, closing: &str, base: usize, loc: &Loc) -> Result<(), ImportError> {
        let Some(name) = closing.strip_suffix('>') else {
            return Err(ImportError::new(
                loc.clone(),
                format!("</{closing}> directive missing closing '>'"),
            ));
        };
        if self.stack.len() <= base {
            return Err(ImportError::new(
                loc.clone(),
                format!("</{name}> without matching <{name}> section"),
            ));
        }
        match self.stack.pop() {
            Some(open) if open.name.eq_ignore_ascii_case(name) => {
                self.out.extend(open.on_close);
                Ok(())
            }
            Some(open) => Err(ImportError::new(
                loc.clone(),
                format!("expected </{}> but saw </{name}>", open.name),
            )),
            None => Ok(()),
        }
    }

    /// Opens section `<section` (`word` as written); true when it is a conditional that is
    /// false, whose lines the caller skips.
    fn open(
        &mut self,
        section: &str,
        word: &str,
        rest: &str,
        loc: &Loc,
    ) -> Result<bool, ImportError> {
        let name = section.strip_suffix('>').unwrap_or(section);
        let args_text = if section.ends_with('>') && rest.is_empty() {
            ""
        } else {
            match rest.rfind('>') {
                Some(at) => &rest[..at],
                None => {
                    return Err(ImportError::new(
                        loc.clone(),
                        format!("<{name}> directive missing closing '>'"),
                    ))
                }
            }
        };
        let key = name.to_ascii_lowercase();
        if !known::is_section(&key) {
            return Err(invalid_command(loc, word.trim_end_matches('>')));
        }
        let args = lexer::words(args_text);
        let shown = format!("<{name} {}>", args.join(" "));
        if let Some(truth) = self.condition(&key, &args, loc)? {
            if !truth {
                self.report
                    .ignored(loc, shown, "the condition is false: its lines are skipped");
                return Ok(true);
            }
            self.report.imported(loc, format!("{shown} (true)"));
            self.push(name, Kind::Cond, loc);
            return Ok(false);
        }
        let kind = match key.as_str() {
            "virtualhost" => {
                if self.scope().vhost.is_some() {
                    return Err(ImportError::new(
                        loc.clone(),
                        "<VirtualHost> cannot occur within <VirtualHost> section",
                    ));
                }
                self.vhosts += 1;
                Kind::Vhost(self.vhosts - 1)
            }
            "location" | "locationmatch" => {
                let first = one_arg(&args, name, loc)?;
                Kind::Location(first, key == "locationmatch")
            }
            "proxy" | "proxymatch" => {
                let first = proxy_path(&args, &key, name, loc)?;
                Kind::Proxy(first, key == "proxymatch")
            }
            _ => Kind::Other(shown.trim_end_matches(" >").to_owned()),
        };
        let with_params = matches!(kind, Kind::Proxy(..)) && args.len() > 1;
        self.push(name, kind, loc);
        let scope = self.scope();
        if with_params {
            if let Some(frame) = self.stack.last_mut() {
                frame.on_close = Some(Directive {
                    loc: loc.clone(),
                    name: format!("</{name}"),
                    key: format!("</{key}"),
                    args: args.clone(),
                    scope: scope.clone(),
                });
            }
        }
        self.out.push(Directive {
            loc: loc.clone(),
            name: format!("<{name}"),
            key: format!("<{key}"),
            args,
            scope,
        });
        Ok(false)
    }

    fn push(&mut self, name: &str, kind: Kind, loc: &Loc) {
        self.stack.push(Frame {
            name: name.to_owned(),
            kind,
            loc: loc.clone(),
            on_close: None,
        });
    }

    /// `Some(truth)` for a conditional section, `None` for any other.
    fn condition(
        &self,
        key: &str,
        args: &[String],
        loc: &Loc,
    ) -> Result<Option<bool>, ImportError> {
        let negated = |arg: &str| match arg.strip_prefix('!') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, arg.to_owned()),
        };
        let truth = match key {
            "ifdefine" | "ifmodule" | "iffile" | "ifdirective" | "ifsection" => {
                let arg = one_arg(args, key, loc)?;
                let (not, arg) = negated(&arg);
                let holds = match key {
                    "ifdefine" => self.defined.contains(&arg),
                    "ifmodule" => {
                        let module = known::module_name(&arg);
                        known::ASSUMED_LOADED.contains(&module.as_str())
                            || self.loaded.contains(&module)
                    }
                    "iffile" => self.server_root.join(&arg).exists(),
                    "ifdirective" => known::is_directive(&arg.to_ascii_lowercase(), &self.loaded),
                    _ => known::is_section(&arg.to_ascii_lowercase()),
                };
                holds != not
            }
            "ifversion" => version_holds(args).ok_or_else(|| {
                ImportError::new(
                    loc.clone(),
                    format!("<IfVersion {}>: not a version test", args.join(" ")),
                )
            })?,
            _ => return Ok(None),
        };
        Ok(Some(truth))
    }

    fn scope(&self) -> Scope {
        let mut scope = Scope::default();
        for frame in &self.stack {
            match &frame.kind {
                Kind::Cond => {}
                Kind::Vhost(i) => scope.vhost = Some(*i),
                Kind::Location(p, m) => scope.location = Some((p.clone(), *m)),
                Kind::Proxy(p, m) => scope.proxy = Some((p.clone(), *m)),
                Kind::Other(s) => scope.other = Some(s.clone()),
            }
        }
        scope
    }

    fn directive(&mut self, name: &str, rest: &str, loc: &Loc) -> Result<(), ImportError> {
        let key = name.to_ascii_lowercase();
        if !known::is_directive(&key, &self.loaded) {
            // httpd looks plain directives up once all is read (a module's directive may come
            // before its LoadModule); those it runs while reading are all known.
            self.unknown.push((loc.clone(), name.to_owned()));
        }
        let args = lexer::words(rest);
        match key.as_str() {
            "include" | "includeoptional" => return self.include(&key, name, &args, loc),
            "define" => {
                let Some(var) = args.first() else {
                    return Err(ImportError::new(loc.clone(), "Define needs a name"));
                };
                if !self.defined.contains(var) {
                    self.defined.push(var.clone());
                }
                if let Some(value) = args.get(1) {
                    self.vars.insert(var.clone(), value.clone());
                }
                self.report
                    .imported(loc, format!("Define {}", args.join(" ")));
                return Ok(());
            }
            "undefine" => {
                if let Some(var) = args.first() {
                    self.defined.retain(|d| d != var);
                    self.vars.remove(var);
                }
                self.report
                    .imported(loc, format!("UnDefine {}", args.join(" ")));
                return Ok(());
            }
            "loadmodule" => {
                if let Some(module) = args.first() {
                    let module = known::module_name(module);
                    if !self.loaded.contains(&module) {
                        self.loaded.push(module);
                    }
                }
                self.report.ignored(
                    loc,
                    format!("LoadModule {}", args.first().map_or("", String::as_str)),
                    "ringlb has what it supports built in",
                );
                return Ok(());
            }
            "serverroot" => {
                let shown = format!("ServerRoot {}", args.join(" "));
                match args.first() {
                    Some(_) if self.root_fixed => {
                        self.report
                            .ignored(loc, shown, "--server-root given, which wins");
                    }
                    Some(root) => {
                        self.server_root = PathBuf::from(root);
                        self.report
                            .imported(loc, format!("{shown} (relative Includes)"));
                    }
                    None => return Err(ImportError::new(loc.clone(), "ServerRoot needs a path")),
                }
                return Ok(());
            }
            _ => {}
        }
        self.out.push(Directive {
            loc: loc.clone(),
            name: name.to_owned(),
            key,
            args,
            scope: self.scope(),
        });
        Ok(())
    }

    fn include(
        &mut self,
        key: &str,
        name: &str,
        args: &[String],
        loc: &Loc,
    ) -> Result<(), ImportError> {
        let optional = key == "includeoptional";
        let Some(arg) = args.first() else {
            return Err(ImportError::new(
                loc.clone(),
                format!("{name} needs a file"),
            ));
        };
        let path = self.server_root.join(arg);
        let shown = format!("{name} {arg}");
        let wildcard = arg.contains(['*', '?', '[']);
        let files = if wildcard {
            glob(&path)
        } else if path.is_dir() {
            dir_files(&path)
        } else if path.is_file() {
            vec![path.clone()]
        } else {
            Vec::new()
        };
        if files.is_empty() {
            if optional {
                self.report
                    .ignored(loc, shown, format!("{} matches no file", path.display()));
                return Ok(());
            }
            let why = if wildcard {
                "no file matches the wildcard (httpd refuses this; IncludeOptional allows it)"
            } else {
                "no such file (httpd refuses to start; IncludeOptional allows it)"
            };
            return Err(ImportError::new(
                loc.clone(),
                format!("{shown}: {}: {why}", path.display()),
            ));
        }
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(ImportError::new(
                loc.clone(),
                format!("{shown}: Includes nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)"),
            ));
        }
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        self.report
            .imported(loc, format!("{shown} ({})", names.join(", ")));
        self.depth += 1;
        for file in &files {
            self.file(file, loc)?;
        }
        self.depth -= 1;
        Ok(())
    }
}

/// The index of the line after the end of the section `<name` opened at `loc`, whose lines
/// from `from` on are skipped unread (nested sections counted).
fn soak(lines: &[Line], from: usize, name: &str, loc: &Loc) -> Result<usize, ImportError> {
    let mut open: Vec<String> = vec![name.to_owned()];
    for (i, line) in lines.iter().enumerate().skip(from) {
        let Some((word, _)) = lexer::next_word(&line.text) else {
            continue;
        };
        if let Some(closing) = word.strip_prefix("</") {
            let closing = closing.trim_end_matches('>');
            if let Some(top) = open.pop() {
                if !top.eq_ignore_ascii_case(closing) {
                    return Err(ImportError::new(
                        Loc::new(loc.file.clone(), line.line),
                        format!("expected </{top}> but saw </{closing}>"),
                    ));
                }
            }
            if open.is_empty() {
                return Ok(i + 1);
            }
        } else if let Some(section) = word.strip_prefix('<') {
            open.push(section.trim_end_matches('>').to_owned());
        }
    }
    Err(ImportError::new(
        loc.clone(),
        format!("<{name}> was not closed"),
    ))
}

fn one_arg(args: &[String], name: &str, loc: &Loc) -> Result<String, ImportError> {
    match args {
        [one] => Ok(one.clone()),
        _ => Err(ImportError::new(
            loc.clone(),
            format!("<{name}> takes one argument, found {}", args.len()),
        )),
    }
}

/// The URL or pattern of `<Proxy URL [key=value ...]>` (`key`: `proxy` or `proxymatch`),
/// refused as httpd refuses it: parameters only after a URL of a `<Proxy>` (not a wildcard),
/// each `key=value`.
fn proxy_path(args: &[String], key: &str, name: &str, loc: &Loc) -> Result<String, ImportError> {
    let refuse = |why: String| Err(ImportError::new(loc.clone(), format!("<{name}>: {why}")));
    let Some((path, params)) = args.split_first() else {
        return refuse("block must specify a path".to_owned());
    };
    if params.is_empty() {
        return Ok(path.clone());
    }
    if key == "proxymatch" {
        return refuse("multiple arguments not (yet) supported".to_owned());
    }
    if path.contains(['*', '?', '[']) {
        return refuse("arguments are not supported for wildchar url".to_owned());
    }
    if !path.contains(':') {
        return refuse("arguments are not supported for non url".to_owned());
    }
    if let Some(p) = params.iter().find(|p| !p.contains('=')) {
        return refuse(format!(
            "invalid Proxy parameter `{p}`: parameter must be in the form 'key=value'"
        ));
    }
    Ok(path.clone())
}

fn invalid_command(loc: &Loc, name: &str) -> ImportError {
    let hint = if name.contains('\u{a0}') {
        " (it holds a no-break space, U+00A0, which httpd does not take as white space)"
    } else {
        ", perhaps misspelled or defined by a module not included in the server configuration"
    };
    ImportError::new(
        loc.clone(),
        format!("Invalid command '{}'{hint}", name.escape_default()),
    )
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
