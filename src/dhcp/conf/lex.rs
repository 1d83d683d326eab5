//! A minimal tokenizer used only for error recovery and positions: after an
//! item fails to parse, the loader skips tokens the way ISC's `skip_to_semi`
//! does (to the next `;` outside braces, or past a brace block), and needs
//! the end of the previous token to place "expecting a parameter or
//! declaration" where ISC does. It must survive input the grammar refuses
//! (an unterminated string ends at the end of the file), so it is hand-written.

/// The kind of a token, as far as recovery cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    Semi,
    Open,
    Close,
    Other,
}

/// Skips whitespace and `#` comments from `at`; returns the next token's
/// start, or `text.len()` at the end.
pub fn skip_blank(text: &str, mut at: usize) -> usize {
    let b = text.as_bytes();
    while at < b.len() {
        match b[at] {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => at += 1,
            b'#' => {
                while at < b.len() && b[at] != b'\n' {
                    at += 1;
                }
            }
            _ => break,
        }
    }
    at
}

fn is_wchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':')
}

/// The token starting at `start` (which must not be blank): kind and end.
pub fn token_at(text: &str, start: usize) -> Option<(TokKind, usize)> {
    let b = text.as_bytes();
    let c = *b.get(start)?;
    Some(match c {
        b';' => (TokKind::Semi, start + 1),
        b'{' => (TokKind::Open, start + 1),
        b'}' => (TokKind::Close, start + 1),
        b'"' => {
            let mut i = start + 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            (TokKind::Other, (i + 1).min(b.len()))
        }
        c if is_wchar(c) => {
            let mut i = start;
            while i < b.len() && is_wchar(b[i]) {
                i += 1;
            }
            (TokKind::Other, i)
        }
        _ => {
            // One character; step over a whole UTF-8 sequence.
            let mut i = start + 1;
            while i < b.len() && (b[i] & 0xc0) == 0x80 {
                i += 1;
            }
            (TokKind::Other, i)
        }
    })
}

/// ISC's recovery: from the token at `at`, skip to just after the next `;`
/// outside braces, or just after a brace block opened while skipping, or up
/// to (not past) a `}` that closes the enclosing block. Always moves forward
/// by at least one token unless at the end.
pub fn skip_to_semi(text: &str, at: usize) -> usize {
    let mut depth = 0usize;
    let mut pos = skip_blank(text, at);
    let mut first = true;
    while let Some((kind, end)) = token_at(text, pos) {
        match kind {
            TokKind::Semi if depth == 0 => return end,
            TokKind::Open => depth += 1,
            TokKind::Close => {
                if depth == 0 {
                    return if first { end } else { pos };
                }
                depth -= 1;
                if depth == 0 {
                    return end;
                }
            }
            _ => {}
        }
        first = false;
        pos = skip_blank(text, end);
    }
    text.len()
}

/// The position of the `}` that closes the block enclosing `at` (not past
/// it), or the end of the text when the block is never closed.
pub fn skip_to_rbrace(text: &str, at: usize) -> usize {
    let mut depth = 0usize;
    let mut pos = skip_blank(text, at);
    while let Some((kind, end)) = token_at(text, pos) {
        match kind {
            TokKind::Open => depth += 1,
            TokKind::Close if depth == 0 => return pos,
            TokKind::Close => depth -= 1,
            _ => {}
        }
        pos = skip_blank(text, end);
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_to_after_semicolon() {
        let t = "a b c; d;";
        assert_eq!(skip_to_semi(t, 0), 6);
    }

    #[test]
    fn skips_a_brace_block() {
        let t = "subnet x { a; b; } next;";
        assert_eq!(&t[skip_to_semi(t, 0)..], " next;");
    }

    #[test]
    fn stops_before_enclosing_close() {
        let t = "a b } c;";
        assert_eq!(&t[skip_to_semi(t, 0)..], "} c;");
    }

    #[test]
    fn unterminated_string_runs_to_end() {
        let t = "a \"b ; c";
        assert_eq!(skip_to_semi(t, 0), t.len());
    }
}
