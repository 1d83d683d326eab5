//! Diagnostics shared by every config language of the suite (dhcpd.conf,
//! dhcpd.leases, xinetd.conf, pxelinux.cfg): source spans, a source map that
//! remembers include chains, and one renderer for `FILE:LINE:COL: error: …`
//! followed by the offending line, a caret and `note:` lines (STYLE.md §3).
//!
//! It knows nothing of any grammar: parsers build `Diagnostic`s from spans.

mod render;
mod source;

pub use render::render;
pub use source::{FileId, LineCol, SourceFile, SourceMap, Span};

/// How serious a diagnostic is; the word printed after the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary place worth showing, printed as `note: path:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub span: Option<Span>,
    pub message: String,
}

/// One finding about a config file, positioned at the token where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier of the kind of finding (e.g. `semicolon-expected`), used by
    /// golden tests to prove that every kind has a case; never printed.
    pub kind: &'static str,
    pub message: String,
    pub span: Option<Span>,
    /// Words printed after the caret, e.g. "expected ';' before this".
    pub label: Option<String>,
    pub notes: Vec<Note>,
}

impl Diagnostic {
    pub fn error(kind: &'static str, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            kind,
            message: message.into(),
            span,
            label: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(kind: &'static str, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(kind, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, span: Option<Span>, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics collected while loading one configuration, with the cap ISC
/// applies: after about 20 errors further ones are dropped.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    dropped_errors: usize,
}

/// How many errors are kept before the rest are only counted.
pub const MAX_ERRORS: usize = 20;

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        if d.is_error() && self.error_count() >= MAX_ERRORS {
            self.dropped_errors += 1;
            return;
        }
        self.items.push(d);
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0 || self.dropped_errors > 0
    }

    pub fn dropped_errors(&self) -> usize {
        self.dropped_errors
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    /// Renders every diagnostic in order, each ending with a newline.
    pub fn render(&self, map: &SourceMap) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&render(d, map));
        }
        out
    }
}
