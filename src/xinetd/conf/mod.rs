//! xinetd.conf and its included files: `parse` reads the tree the way xinetd
//! 2.3.14 does (lines, entries, `include`, `includedir`), `check` turns the
//! entries into the effective per-service `model` (defaults merged, enabled
//! and disabled lists applied, required attributes checked).
//!
//! Problems are `Finding`s: xinetd's own message text and syslog level, plus
//! the span where they were noticed. The daemon logs them the way xinetd does
//! (`msg [file=F] [line=N]`); `--check-config` renders them as FILE:LINE:COL.

pub mod ast;
pub mod check;
pub mod inetd;
pub mod model;
pub mod parse;

use crate::diag::{Diagnostic, SourceMap, Span};
use crate::sys::syslog::Level;
use std::path::Path;

/// One message of the configuration load, with xinetd's level and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub level: Level,
    pub message: String,
    pub span: Option<Span>,
    /// Parser messages carry ` [file=%s] [line=%d]` in xinetd's log (X-LOG-1).
    pub positioned: bool,
}

impl Finding {
    pub fn at(level: Level, span: Span, message: impl Into<String>) -> Self {
        Finding {
            level,
            message: message.into(),
            span: Some(span),
            positioned: true,
        }
    }

    pub fn plain(level: Level, message: impl Into<String>) -> Self {
        Finding {
            level,
            message: message.into(),
            span: None,
            positioned: false,
        }
    }

    /// The message as xinetd logs it: with ` [file=%s] [line=%d]` for parser messages.
    pub fn log_text(&self, map: &SourceMap) -> String {
        match (self.positioned, self.span) {
            (true, Some(span)) => {
                let line = map.line_col(span).map(|lc| lc.line).unwrap_or(0);
                format!(
                    "{} [file={}] [line={}]",
                    self.message,
                    map.path(span.file).display(),
                    line
                )
            }
            _ => self.message.clone(),
        }
    }

    /// The finding as a diagnostic (errors for ERR and worse, warnings otherwise).
    pub fn diagnostic(&self) -> Diagnostic {
        if self.level <= Level::Err {
            Diagnostic::error("xinetd", self.span, self.message.clone())
        } else {
            Diagnostic::warning("xinetd", self.span, self.message.clone())
        }
    }
}

/// The whole load: sources, findings in order, and the model if the tree could be read.
#[derive(Debug)]
pub struct Loaded {
    pub map: SourceMap,
    pub findings: Vec<Finding>,
    /// None when the main file cannot be read or `defaults` is fatally wrong.
    pub config: Option<model::Config>,
}

impl Loaded {
    /// True when xinetd itself would give up on this configuration.
    pub fn is_fatal(&self) -> bool {
        self.config.is_none()
    }
}

/// Reads `main` and everything it includes, and builds the effective model.
/// `env` is xinetd's environment (for `passenv` checks).
pub fn load(main: &Path, env: &[(String, String)]) -> Loaded {
    load_with(main, env, None)
}

/// As `load`, also reading an inetd.conf after the xinetd files (`-inetd_compat`).
pub fn load_with(main: &Path, env: &[(String, String)], inetd_conf: Option<&Path>) -> Loaded {
    let mut map = SourceMap::new();
    let mut findings = Vec::new();
    let mut builder = check::Builder::new(env);
    let read = parse::read_tree_with(main, &mut map, &mut findings, &mut |e, f| {
        builder.entry(&e, f)
    });
    if read.is_none() {
        return Loaded {
            map,
            findings,
            config: None,
        };
    }
    if let Some(p) = inetd_conf {
        for e in inetd::read(p, &mut map, &mut findings) {
            builder.entry(&e, &mut findings);
        }
    }
    let config = builder.finish(&mut findings);
    Loaded {
        map,
        findings,
        config,
    }
}
