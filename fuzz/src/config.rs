//! `config`: TOML config parsing and validation from a string. Never panics; an error names
//! the pseudo-file and a line within the input; an accepted config prints (`Display`) as TOML
//! that parses back to an equal config, and printing that again gives the same text.
//!
//! Input: the config text (invalid UTF-8 is skipped: `load` refuses it before parsing).

use ringlb::config::{parse_str, Config};

use crate::alloc::bounded;

/// The `file` name handed to the parser; a pseudo-name, so no path is resolved against it.
const FILE: &str = "<fuzz>";

/// The fuzz target. Panics on a broken invariant.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limit = 256 * text.len() + (4 << 20);
    match bounded("parse_str", limit, || parse_str(text, FILE)) {
        Ok(cfg) => round_trip(&cfg),
        Err(e) => {
            let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
            assert_eq!(e.file, FILE);
            assert!(
                e.line <= lines,
                "error line {} past the input's {lines}: {e}",
                e.line
            );
            assert!(!e.message.is_empty(), "error without a message: {e:?}");
        }
    }
}

/// `Display` is a TOML rendering that parses back to the same config, and is stable.
fn round_trip(cfg: &Config) {
    let printed = cfg.to_string();
    match parse_str(&printed, FILE) {
        Ok(again) => {
            assert_eq!(
                &again, cfg,
                "printed config parses to a different config:\n{printed}"
            );
            assert_eq!(again.to_string(), printed, "printing is not stable");
        }
        Err(e) => panic!("printed config is refused: {e}\n{printed}"),
    }
}
