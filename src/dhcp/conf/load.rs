//! The loader: reads the main file and its includes, drives the grammar one
//! item at a time, hands each item to the check, and resynchronises after an
//! error the way ISC does (to the next `;` outside braces, or past a brace
//! block), so that every error is reported, not only the first.

use super::ast::{build_item, End, Item, OptionValueAst, StmtKind};
use super::check::{Checker, Outcome};
use super::model::Config;
use super::{lex, parser, Finding, IscError};
use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use std::path::Path;

/// Includes nested deeper than this are refused (a file including itself).
const MAX_INCLUDE_DEPTH: usize = 16;

/// A loaded configuration: sources, model and findings in the order ISC
/// would report them.
#[derive(Debug)]
pub struct Loaded {
    pub map: SourceMap,
    pub model: Config,
    pub findings: Vec<Finding>,
    pub main: Option<FileId>,
    /// Statements kept in the model that the server does not act on yet.
    pub not_implemented: Vec<(String, Span)>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.is_error())
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_error())
    }

    /// ISC's first complaint, as `line N: message` (or the bare message).
    pub fn first_isc_error(&self) -> Option<String> {
        self.errors()
            .find_map(|f| f.isc.as_ref())
            .map(|e| match e.line {
                Some(n) => {
                    let main = e.file.is_none() || e.file == self.main;
                    if main {
                        format!("line {n}: {}", e.message)
                    } else {
                        let name = e
                            .file
                            .map(|f| self.map.path(f).display().to_string())
                            .unwrap_or_default();
                        format!("{name} line {n}: {}", e.message)
                    }
                }
                None => e.message.clone(),
            })
    }
}

/// Loads a configuration file and everything it includes.
pub fn load_file(path: &Path) -> Loaded {
    let mut l = Loader {
        map: SourceMap::new(),
        checker: Checker::new(),
        follow_includes: true,
        depth: 0,
    };
    let main = match l.map.load(path, None) {
        Ok(id) => Some(id),
        Err(e) => {
            let msg = format!("Can't open {}: {}", path.display(), strerror(&e));
            l.checker.findings.push(Finding {
                diag: Diagnostic::error("cannot-open", None, msg.clone()),
                isc: Some(IscError {
                    file: None,
                    line: None,
                    message: msg,
                }),
            });
            None
        }
    };
    l.finish(main)
}

/// Loads a configuration from text (tests, fuzzing); `follow_includes`
/// decides whether `include` reads files.
pub fn load_str(name: &str, text: &str, follow_includes: bool) -> Loaded {
    let mut l = Loader {
        map: SourceMap::new(),
        checker: Checker::new(),
        follow_includes,
        depth: 0,
    };
    let id = l.map.add(name, text.to_string(), None);
    l.finish(Some(id))
}

struct Loader {
    map: SourceMap,
    checker: Checker,
    follow_includes: bool,
    depth: usize,
}

impl Loader {
    fn finish(mut self, main: Option<FileId>) -> Loaded {
        if let Some(id) = main {
            self.run(id);
            if !self.checker.fatal {
                self.checker.finish(&self.map, Some(id));
            }
        }
        let checker = self.checker;
        Loaded {
            map: self.map,
            model: checker.model,
            findings: checker.findings,
            main,
            not_implemented: checker.not_implemented,
        }
    }

    fn run(&mut self, id: FileId) {
        let text = self.map.text(id).to_string();
        let base = self.checker.depth();
        let mut pos = 0;
        // End of the last token consumed in this file: ISC places
        // "expecting a parameter or declaration" there (line 0 before any).
        let mut prev_end: Option<usize> = None;
        // Set when a silent give-up reached the end of the file: ISC then
        // ends without complaining about the open blocks.
        let mut quiet_eof = false;
        loop {
            if self.checker.fatal {
                return;
            }
            let start = lex::skip_blank(&text, pos);
            if start >= text.len() {
                break;
            }
            if nesting_too_deep(&text, start) {
                let span = Span::new(id, start, start + 1);
                self.checker.error(
                    &self.map,
                    "too-deep",
                    span,
                    format!(
                        "expression nested more than {} levels deep",
                        parser::MAX_NESTING
                    ),
                    "expression nested too deeply",
                );
                pos = lex::skip_to_semi(&text, start);
                prev_end = Some(pos);
                continue;
            }
            let (item, end) = match parser::parse_item(&text, start) {
                Ok(pair) => {
                    let end = start + pair.as_span().end();
                    (build_item(pair, id, start), end)
                }
                Err(e) => {
                    let word = lex::token_at(&text, start)
                        .and_then(|(_, e)| text.get(start..e))
                        .map(str::to_ascii_lowercase)
                        .unwrap_or_default();
                    let kw = Span::new(id, start, start + word.len());
                    if word == "log"
                        && self.checker.in_exec_block()
                        && log_expression_missing(&text, kw.end)
                    {
                        // ISC gives up on a broken `log (...)` without a
                        // message and skips the rest of the block.
                        pos = lex::skip_to_rbrace(&text, e.at.max(start));
                        if pos >= text.len() {
                            quiet_eof = true;
                        }
                        prev_end = Some(last_token_end(&text, start, pos));
                        continue;
                    }
                    if e.at <= start {
                        self.no_statement(id, start, prev_end);
                    } else if self.checker.refuse_keyword(&self.map, &word, kw) {
                        // ISC judged the keyword before its broken head.
                    } else if let Some((at, msg, isc)) = isc_head_error(&text, &word, kw.end) {
                        let span = Span::new(id, at, at);
                        self.checker
                            .error(&self.map, "syntax-error", span, msg, isc);
                    } else {
                        self.syntax_error(id, &text, e.at, &e.expected, prev_end.max(Some(start)));
                    }
                    pos = lex::skip_to_semi(&text, e.at.max(start));
                    prev_end = Some(last_token_end(&text, start, pos));
                    continue;
                }
            };
            let Some(item) = item else {
                self.no_statement(id, start, prev_end);
                pos = lex::skip_to_semi(&text, start);
                continue;
            };
            pos = end;
            self.checker.prev_end = prev_end.map(|p| Span::new(id, p, p));
            match item {
                Item::Close(span) => {
                    let was_key = self.checker.in_key();
                    if !self.checker.close(&self.map, span, base) {
                        self.no_statement(id, start, prev_end);
                    } else if was_key {
                        // ISC takes the BIND habit `key x { ... };`.
                        let next = lex::skip_blank(&text, pos);
                        if text.as_bytes().get(next) == Some(&b';') {
                            pos = next + 1;
                        }
                    }
                }
                Item::Case { value, span } => self.checker.case(&self.map, value, span),
                Item::Head(h) => {
                    if let Outcome::Resync(at) = self.checker.head(&self.map, h) {
                        pos = lex::skip_to_semi(&text, at);
                    }
                }
                Item::Stmt(stmt) => {
                    // `option routers ;`, `next-server ;`: ISC takes the `;` as the value.
                    let empty_value = !self.checker.in_special_block()
                        && match &stmt.kind {
                            StmtKind::Param { args, .. } => args.is_empty(),
                            StmtKind::Option {
                                value: OptionValueAst::Tokens(t),
                                ..
                            } => t.is_empty(),
                            _ => false,
                        };
                    let outcome = self.checker.stmt(&self.map, &stmt);
                    let missing = match stmt.end {
                        End::Missing(at) => Some(at),
                        End::Semi(_) => None,
                    };
                    match outcome {
                        Outcome::Next => {
                            if let Some(at) = missing {
                                self.missing_semi(id, &text, at, stmt.span);
                                pos = lex::skip_to_semi(&text, at.start);
                            }
                        }
                        Outcome::Resync(at) => {
                            if missing.is_some() {
                                pos = lex::skip_to_semi(&text, at);
                            } else if let End::Semi(semi) = stmt.end {
                                if at == semi.start && empty_value {
                                    // A value is missing: ISC takes the `;` as the
                                    // value and wants a `;` at the next token.
                                    pos = self.value_missing(id, &text, semi);
                                }
                            }
                        }
                        Outcome::Include(path, span) => {
                            if let Some(at) = missing {
                                self.missing_semi(id, &text, at, stmt.span);
                                pos = lex::skip_to_semi(&text, at.start);
                            } else {
                                self.include(&path, span);
                            }
                        }
                    }
                }
            }
            prev_end = Some(last_token_end(&text, start, pos));
        }
        if self.checker.unwind_to(base) && !quiet_eof {
            let at = prev_end.unwrap_or(0);
            let span = Span::new(id, at, at);
            self.checker.error(
                &self.map,
                "unexpected-eof",
                span,
                "end of file inside a block: a '}' is missing",
                "unexpected end of file",
            );
        }
    }

    /// An item that cannot start a statement (a number, a string, `/`, a
    /// stray `}`): ISC names the end of the previous token, or line 0.
    fn no_statement(&mut self, id: FileId, start: usize, prev_end: Option<usize>) {
        let tok_end = lex::token_at(self.map.text(id), start)
            .map(|(_, e)| e)
            .unwrap_or(start + 1);
        let span = Span::new(id, start, tok_end);
        let d = Diagnostic::error(
            "expecting-declaration",
            Some(span),
            "expecting a parameter or declaration",
        )
        .with_label("no statement starts with this");
        let (line, message) =
            self.checker
                .cannot_start_here(&self.map, span, prev_end.map(|p| Span::new(id, p, p)));
        self.checker.findings.push(Finding {
            diag: d,
            isc: Some(IscError {
                file: Some(id),
                line: Some(line),
                message,
            }),
        });
    }

    /// The grammar stopped at `at` after reading part of an item.
    fn syntax_error(
        &mut self,
        id: FileId,
        text: &str,
        at: usize,
        expected: &[parser::Rule],
        prev_end: Option<usize>,
    ) {
        use parser::Rule;
        let semi = expected
            .iter()
            .any(|r| matches!(r, Rule::semi | Rule::missing_semi));
        let mut words: Vec<&str> = expected.iter().map(|r| parser::describe(*r)).collect();
        words.sort_unstable();
        words.dedup();
        let (kind, msg, isc) = if semi {
            (
                "semicolon-expected",
                "semicolon expected".to_string(),
                "semicolon expected.".to_string(),
            )
        } else if expected.contains(&Rule::open) {
            (
                "syntax-error",
                "expected '{'".to_string(),
                "expecting left brace.".to_string(),
            )
        } else if expected.contains(&Rule::equals) {
            (
                "syntax-error",
                "expected '='".to_string(),
                "expecting '=' in set statement.".to_string(),
            )
        } else if expected.contains(&Rule::rparen) {
            (
                "syntax-error",
                "expected ')'".to_string(),
                "expecting right paren.".to_string(),
            )
        } else if expected.contains(&Rule::lparen) {
            (
                "syntax-error",
                "expected '('".to_string(),
                "left parenthesis expected.".to_string(),
            )
        } else if expected.contains(&Rule::k_netmask) {
            (
                "syntax-error",
                "expected 'netmask'".to_string(),
                "Expecting netmask".to_string(),
            )
        } else {
            (
                "syntax-error",
                format!("expected {}", words.join(" or ")),
                "syntax error".to_string(),
            )
        };
        // At the end of the file ISC names the last token's line.
        let at_eof = lex::skip_blank(text, at) >= text.len();
        let place = if at_eof {
            prev_end
                .map(|p| last_token_end(text, p, text.len()))
                .unwrap_or(at)
        } else {
            at
        };
        let tok_end = lex::token_at(text, at).map(|(_, e)| e).unwrap_or(at);
        let span = Span::new(id, place, if at_eof { place } else { tok_end });
        let mut d = Diagnostic::error(kind, Some(span), msg);
        if semi {
            d = d.with_label("expected ';' before this");
        }
        let line = self.map.line_col(span).map(|lc| lc.line);
        self.checker.findings.push(Finding {
            diag: d,
            isc: Some(IscError {
                file: Some(id),
                line,
                message: isc,
            }),
        });
    }

    /// ISC's view of `name ;` with the value missing: it names the token
    /// after the `;` ("semicolon expected") and skips on from there.
    fn value_missing(&mut self, id: FileId, text: &str, semi: Span) -> usize {
        let next = lex::skip_blank(text, semi.end);
        let at = if next >= text.len() { semi.end } else { next };
        let line = self.map.line_col(Span::new(id, at, at)).map(|lc| lc.line);
        if let Some(f) = self.checker.findings.last_mut() {
            if let Some(isc) = f.isc.as_mut() {
                isc.line = line;
                isc.message = "semicolon expected.".into();
            }
        }
        if next >= text.len() {
            text.len()
        } else {
            lex::skip_to_semi(text, next)
        }
    }

    fn missing_semi(&mut self, id: FileId, text: &str, at: Span, stmt: Span) {
        let at_eof = at.start >= text.len();
        // At the end of the file ISC names the line of the last token.
        let last = last_token_end(text, stmt.start, stmt.end);
        let stmt = Span::new(id, stmt.start, last);
        let span = if at_eof {
            Span::new(id, last, last)
        } else {
            at
        };
        let d = Diagnostic::error("semicolon-expected", Some(span), "semicolon expected")
            .with_label(if at_eof {
                "the file ends here"
            } else {
                "expected ';' before this"
            })
            .with_note(
                Some(Span::new(id, stmt.end, stmt.end)),
                "the statement that lacks it ends here",
            );
        let line = self.map.line_col(span).map(|lc| lc.line);
        self.checker.findings.push(Finding {
            diag: d,
            isc: Some(IscError {
                file: Some(id),
                line,
                message: "semicolon expected.".into(),
            }),
        });
    }

    fn include(&mut self, path: &str, span: Span) {
        if !self.follow_includes {
            return;
        }
        if self.depth >= MAX_INCLUDE_DEPTH {
            self.checker.error(&self.map, "include-depth", span, format!("includes nested more than {MAX_INCLUDE_DEPTH} deep (does {path} include itself?)"), "too many nested includes");
            return;
        }
        match self.map.load(Path::new(path), Some(span)) {
            Ok(id) => {
                self.depth += 1;
                self.run(id);
                self.depth -= 1;
            }
            Err(e) => {
                let isc = format!("Can't open {path}: {}", strerror(&e));
                let d = Diagnostic::error(
                    "cannot-open",
                    Some(span),
                    format!("cannot open {path}: {}", strerror(&e)),
                );
                self.checker.findings.push(Finding {
                    diag: d,
                    isc: Some(IscError {
                        file: None,
                        line: None,
                        message: isc,
                    }),
                });
            }
        }
    }
}

/// The C library's words for an I/O error, without Rust's "(os error N)".
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The end of the last token in `text[from..to]` (or `from` if none).
fn last_token_end(text: &str, from: usize, to: usize) -> usize {
    let mut pos = lex::skip_blank(text, from);
    let mut last = from;
    while pos < to {
        match lex::token_at(text, pos) {
            Some((_, end)) => {
                last = end.min(to);
                pos = lex::skip_blank(text, end);
            }
            None => break,
        }
    }
    last
}

/// True when the item starting at `start` nests parentheses or `not`s deeper
/// than the parser allows (checked before pest recurses into it).
/// True when `log (` [priority `,`] is followed by no data expression: ISC
/// then gives up without a message (a missing `(`, `,` or `)` it names).
fn log_expression_missing(text: &str, kw_end: usize) -> bool {
    let open = lex::skip_blank(text, kw_end);
    if text.as_bytes().get(open) != Some(&b'(') {
        return false;
    }
    let mut at = lex::skip_blank(text, open + 1);
    let rest = text.get(at..).unwrap_or("");
    let word_len = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
        .count();
    let word = rest.get(..word_len).unwrap_or("").to_ascii_lowercase();
    if matches!(word.as_str(), "fatal" | "error" | "debug" | "info") {
        let comma = lex::skip_blank(text, at + word_len);
        if text.as_bytes().get(comma) != Some(&b',') {
            return false;
        }
        at = lex::skip_blank(text, comma + 1);
    }
    let rest = text.get(at..).unwrap_or("");
    rest.is_empty() || rest.starts_with(':') || !parser::starts_expr(rest)
}

/// Where ISC places the error of a broken `case` or `else`: at the word
/// after `case` when no expression starts there, at `else` itself when
/// neither `{` nor `if` follows.
fn isc_head_error(
    text: &str,
    word: &str,
    kw_end: usize,
) -> Option<(usize, &'static str, &'static str)> {
    let next = lex::skip_blank(text, kw_end);
    let rest = text.get(next..).unwrap_or("");
    match word {
        "case" => {
            // `:` would read as a word, but ISC's lexer makes it a token of its own.
            let ok = !rest.starts_with(':') && parser::starts_expr(rest);
            (!ok).then_some((
                next.min(text.len()),
                "expected an expression after 'case'",
                "expecting data expression.",
            ))
        }
        "else" => {
            let lower = rest
                .get(..2)
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            let ok = rest.starts_with('{') || lower == "if";
            (!ok).then_some((
                kw_end - word.len(),
                "expected '{' or 'if' after 'else'",
                "left brace or if expected.",
            ))
        }
        _ => None,
    }
}

fn nesting_too_deep(text: &str, start: usize) -> bool {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b';' | b'{' | b'}' => return false,
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                depth += 1;
                if depth > parser::MAX_NESTING {
                    return true;
                }
            }
            b')' => depth = depth.saturating_sub(1),
            b'n' | b'N'
                if b.get(i..i + 4)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"not ")) =>
            {
                depth += 1;
                if depth > parser::MAX_NESTING {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}
