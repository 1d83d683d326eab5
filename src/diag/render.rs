//! Renders one diagnostic the way STYLE.md §3 shows:
//!
//! ```text
//! /etc/dhcpd.conf:15:5: error: semicolon expected
//!    15 |     option routers 10.0.0.1;
//!       |     ^^^^^^ expected ';' before this
//! note: /etc/dhcpd.conf:14:30: the statement that lacks it ends here
//! ```

use super::{Diagnostic, SourceMap};

/// Renders a diagnostic to text ending in a newline.
pub fn render(d: &Diagnostic, map: &SourceMap) -> String {
    let mut out = String::new();
    match d.span.and_then(|s| map.get(s.file).map(|f| (s, f))) {
        Some((span, file)) => {
            let start = file.line_col(span.start);
            out.push_str(&format!(
                "{}:{}:{}: {}: {}\n",
                file.path.display(),
                start.line,
                start.col,
                d.severity.as_str(),
                d.message
            ));
            let line = file.line_text(start.line);
            let gutter = start.line.to_string();
            let pad = " ".repeat(gutter.len());
            out.push_str(&format!(" {gutter} | {line}\n"));
            // Copy tabs from the source so the caret lines up however tabs are shown.
            let lead: String = line
                .chars()
                .take(start.col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let end = file.line_col(span.end.max(span.start));
            let width = if end.line == start.line {
                end.col.saturating_sub(start.col).max(1)
            } else {
                line.chars().count().saturating_sub(start.col - 1).max(1)
            };
            out.push_str(&format!(" {pad} | {lead}{}", "^".repeat(width)));
            if let Some(label) = &d.label {
                out.push(' ');
                out.push_str(label);
            }
            out.push('\n');
            for inc in map.include_chain(span.file) {
                out.push_str(&format!("note: included from {}\n", map.position(inc)));
            }
        }
        None => {
            out.push_str(&format!("{}: {}\n", d.severity.as_str(), d.message));
        }
    }
    for note in &d.notes {
        match note.span {
            Some(s) => out.push_str(&format!("note: {}: {}\n", map.position(s), note.message)),
            None => out.push_str(&format!("note: {}\n", note.message)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, Span};

    #[test]
    fn renders_position_line_caret_and_note() {
        let mut map = SourceMap::new();
        let text = "subnet 10.0.0.0 netmask 255.255.255.0 {\n    option routers 10.0.0.1\n    range 1 2;\n}\n";
        let f = map.add("/etc/dhcpd.conf", text.to_string(), None);
        let at = text.find("range").unwrap();
        let prev = text.find("10.0.0.1\n").unwrap() + 8;
        let d = Diagnostic::error(
            "semicolon-expected",
            Some(Span::new(f, at, at + 5)),
            "semicolon expected",
        )
        .with_label("expected ';' before this")
        .with_note(
            Some(Span::new(f, prev, prev)),
            "the statement that lacks it ends here",
        );
        let got = render(&d, &map);
        let want = "/etc/dhcpd.conf:3:5: error: semicolon expected\n \
3 |     range 1 2;\n   |     ^^^^^ expected ';' before this\n\
note: /etc/dhcpd.conf:2:28: the statement that lacks it ends here\n";
        assert_eq!(got, want);
    }

    #[test]
    fn caret_copies_tabs() {
        let mut map = SourceMap::new();
        let f = map.add("x", "\tfoo bar\n".to_string(), None);
        let d = Diagnostic::warning("w", Some(Span::new(f, 5, 8)), "odd");
        let got = render(&d, &map);
        assert!(got.contains(" 1 | \tfoo bar\n"), "{got}");
        assert!(got.contains("   | \t    ^^^\n"), "{got}");
        assert!(got.starts_with("x:1:6: warning: odd\n"));
    }

    #[test]
    fn include_chain_is_shown() {
        let mut map = SourceMap::new();
        let a = map.add("main.conf", "include \"sub.conf\";\n".into(), None);
        let b = map.add("sub.conf", "bogus;\n".into(), Some(Span::new(a, 0, 7)));
        let d = Diagnostic::error("k", Some(Span::new(b, 0, 5)), "unknown");
        let got = render(&d, &map);
        assert!(got.contains("note: included from main.conf:1:1\n"), "{got}");
    }

    #[test]
    fn spanless_diagnostic_is_one_line() {
        let map = SourceMap::new();
        let d = Diagnostic::error("k", None, "no config");
        assert_eq!(render(&d, &map), "error: no config\n");
    }
}
