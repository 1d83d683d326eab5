//! The syntax tree of xinetd.conf and its included files: entries (`defaults`
//! or `service NAME`) in reading order, each with its attribute lines. Every
//! node keeps its span so that late checks can still name FILE:LINE:COL.

use crate::diag::Span;

/// `=`, `+=` or `-=` (X-SYN-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set,
    Add,
    Remove,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Set => "=",
            Op::Add => "+=",
            Op::Remove => "-=",
        }
    }
}

/// One word of a value list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub span: Span,
}

/// `name op value…` inside an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    pub name_span: Span,
    pub op: Op,
    pub values: Vec<Value>,
    /// The whole line (for `[line=N]` and carets).
    pub span: Span,
}

impl Attr {
    pub fn texts(&self) -> Vec<&str> {
        self.values.iter().map(|v| v.text.as_str()).collect()
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Defaults,
    Service(String),
}

/// One `defaults` or `service` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// The head line (`service tftp`).
    pub head: Span,
    pub attrs: Vec<Attr>,
    /// The entry was cut short by a line xinetd refuses (an operator without a
    /// blank before it): its lines so far are checked and reported, then it is dropped.
    pub dropped: bool,
}
