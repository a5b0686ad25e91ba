//! What an import did with each directive it saw, and why an import was refused.

use std::fmt;

/// Where a directive was read: a file as named on the command line or by the `Include` that
/// reached it, and a 1-based line (0 = not tied to a line).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub file: String,
    pub line: usize,
}

impl Loc {
    pub fn new(file: impl Into<String>, line: usize) -> Loc {
        Loc {
            file: file.into(),
            line,
        }
    }

    /// Not tied to any file (e.g. the checking of the finished output).
    pub fn none() -> Loc {
        Loc::new("", 0)
    }
}

impl fmt::Display for Loc {
    /// `file:line`, or nothing for [`Loc::none`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            return Ok(());
        }
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What became of one directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Carried over with the same meaning.
    Imported,
    /// Carried over with a different but nearest meaning; the text says how.
    Approximated(String),
    /// Not carried over; the text says why.
    Ignored(String),
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub loc: Loc,
    /// The directive as the report names it: its name and, where it helps, its arguments
    /// (`ProxyPass /app`, `worker.node1.lbfactor`).
    pub directive: String,
    pub disposition: Disposition,
}

impl fmt::Display for Entry {
    /// `file:line: imported: DIRECTIVE`, `file:line: approximated: DIRECTIVE: how`,
    /// `file:line: ignored: DIRECTIVE: why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.disposition {
            Disposition::Imported => write!(f, "{}: imported: {}", self.loc, self.directive),
            Disposition::Approximated(how) => {
                write!(f, "{}: approximated: {}: {how}", self.loc, self.directive)
            }
            Disposition::Ignored(why) => {
                write!(f, "{}: ignored: {}: {why}", self.loc, self.directive)
            }
        }
    }
}

/// Every directive an import saw, in the order it saw them, one line each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn imported(&mut self, loc: &Loc, directive: impl Into<String>) {
        self.push(loc, directive.into(), Disposition::Imported);
    }

    pub fn approximated(
        &mut self,
        loc: &Loc,
        directive: impl Into<String>,
        how: impl Into<String>,
    ) {
        self.push(loc, directive.into(), Disposition::Approximated(how.into()));
    }

    pub fn ignored(&mut self, loc: &Loc, directive: impl Into<String>, why: impl Into<String>) {
        self.push(loc, directive.into(), Disposition::Ignored(why.into()));
    }

    /// Adds a line, or, when the same directive at the same place already has one, merges
    /// into it: one line per directive, saying the most it has to say (ignored over
    /// approximated over imported; both texts when both have one).
    fn push(&mut self, loc: &Loc, directive: String, disposition: Disposition) {
        let same = self
            .entries
            .iter_mut()
            .find(|e| e.loc == *loc && e.directive == directive);
        let Some(entry) = same else {
            self.entries.push(Entry {
                loc: loc.clone(),
                directive,
                disposition,
            });
            return;
        };
        entry.disposition = match (&entry.disposition, disposition) {
            (Disposition::Imported, new) => new,
            (_, Disposition::Imported) => return,
            (Disposition::Approximated(a), Disposition::Approximated(b)) => {
                Disposition::Approximated(format!("{a}; {b}"))
            }
            (Disposition::Ignored(a), Disposition::Approximated(b) | Disposition::Ignored(b)) => {
                Disposition::Ignored(format!("{a}; {b}"))
            }
            (Disposition::Approximated(b), Disposition::Ignored(a)) => {
                Disposition::Ignored(format!("{a}; {b}"))
            }
        };
    }

    /// How many lines are `ignored`.
    pub fn ignored_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.disposition, Disposition::Ignored(_)))
            .count()
    }
}

impl fmt::Display for Report {
    /// One [`Entry`] per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in &self.entries {
            writeln!(f, "{entry}")?;
        }
        Ok(())
    }
}

/// Why an import was refused: the input is invalid where httpd or mod_jk would refuse it too
/// (an unknown directive, an unbalanced section, a missing `Include`), or cannot be expressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub loc: Loc,
    pub message: String,
}

impl ImportError {
    pub fn new(loc: Loc, message: impl Into<String>) -> ImportError {
        ImportError {
            loc,
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportError {
    /// `file:line: message`, or the message alone when not tied to a file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.file.is_empty() {
            return f.write_str(&self.message);
        }
        write!(f, "{}: {}", self.loc, self.message)
    }
}

impl std::error::Error for ImportError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_directive_saying_the_most() {
        let (a, b) = (Loc::new("f", 1), Loc::new("f", 2));
        let mut r = Report::default();
        r.imported(&a, "X 1");
        r.approximated(&a, "X 1", "how");
        r.imported(&a, "X 1");
        r.approximated(&a, "X 1", "also");
        r.imported(&b, "X 1");
        r.ignored(&b, "Y", "why");
        r.approximated(&b, "Y", "partly");
        assert_eq!(
            r.to_string(),
            "f:1: approximated: X 1: how; also\nf:2: imported: X 1\nf:2: ignored: Y: why; partly\n"
        );
        assert_eq!(r.ignored_count(), 1);
    }
}
