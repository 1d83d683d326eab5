//! dhcpd.conf: `grammar/dhcpd.pest` → `ast` (spans) → `check` → `model`.
//!
//! `load` reads a configuration with its includes and returns the model and
//! every finding. Each finding carries our diagnostic (`FILE:LINE:COL`, the
//! line, a caret) and, for errors ISC dhcpd also reports, ISC's own
//! `line N: message` so that syslog keeps ISC's shape (reference D-MSG-parse)
//! and tests can compare lines with the real program.

pub mod ast;
pub mod check;
pub mod lex;
pub mod load;
pub mod model;
pub mod options;
pub mod parser;
#[cfg(test)]
mod proptests;
pub mod report;
pub mod summary;
pub mod values;

use crate::diag::{Diagnostic, FileId, SourceMap, Span};

pub use load::{load_file, load_str, Loaded};

/// Every kind of finding the front end can emit (`Diagnostic::kind`); the
/// golden cases under compat/dhcpd must show each one.
pub const KINDS: &[&str] = &[
    "bad-key-secret",
    "bad-key-statement",
    "bad-option-space",
    "bad-option-type",
    "bad-permit",
    "bad-subnet-mask",
    "bad-value",
    "bad-zone-statement",
    "cannot-open",
    "case-outside-switch",
    "ddns-ad-hoc",
    "ddns-not-sent",
    "ddns-update-style-missing",
    "duplicate-host",
    "duplicate-lease",
    "else-without-if",
    "empty-shared-network",
    "expecting-declaration",
    "failover-incomplete",
    "failover-without-pool",
    "include-depth",
    "match-and-spawn",
    "no-effect",
    "not-allowed-here",
    "not-boolean",
    "not-implemented",
    "pool-outside-network",
    "pool-without-range",
    "range-outside-subnet",
    "semicolon-expected",
    "syntax-error",
    "too-deep",
    "unexpected-eof",
    "unknown-class",
    "unknown-failover-peer",
    "unknown-key",
    "unknown-option",
    "unknown-option-space",
];

/// ISC's report of the same error: `<file> line <n>: <message>`, or the
/// message alone for its fatal checks that name no line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IscError {
    pub file: Option<FileId>,
    /// `Some(0)` is possible: ISC says `line 0` when nothing was read yet.
    pub line: Option<usize>,
    pub message: String,
}

/// One finding: our diagnostic and, when ISC reports it too, ISC's words.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diag: Diagnostic,
    pub isc: Option<IscError>,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.diag.is_error()
    }
}

/// ISC's rendering of one error (D-MSG-parse): `FILE line N: MSG`, the source
/// line and a caret line with TABs expanded, or the bare message.
pub fn render_isc(e: &IscError, at: Option<Span>, map: &SourceMap) -> Vec<String> {
    let Some(line) = e.line else {
        return vec![e.message.clone()];
    };
    let path = e
        .file
        .map(|f| map.path(f).display().to_string())
        .unwrap_or_default();
    let mut out = vec![format!("{path} line {line}: {}", e.message)];
    let text = e
        .file
        .and_then(|f| map.get(f))
        .map(|f| f.line_text(line).to_string())
        .unwrap_or_default();
    let col = at
        .and_then(|s| map.line_col(s))
        .filter(|lc| lc.line == line)
        .map(|lc| lc.col)
        .unwrap_or(1);
    let mut width = 0;
    for ch in text.chars().take(col.saturating_sub(1)) {
        width = if ch == '\t' {
            (width / 8 + 1) * 8
        } else {
            width + 1
        };
    }
    out.push(text);
    out.push(format!("{}^", " ".repeat(width)));
    out
}

/// A fuzzer's entry point: loads arbitrary bytes as a configuration named
/// `fuzz.conf` (includes are not followed) and must never panic.
pub fn fuzz_parse(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data).into_owned();
    let loaded = load_str("fuzz.conf", &text, false);
    loaded.findings.len()
}
