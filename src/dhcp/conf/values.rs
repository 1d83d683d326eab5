//! Typing raw value tokens: an option's or parameter's tokens against its
//! type, with ISC's messages at the token where ISC stops (so "semicolon
//! expected" lands on the first token that does not fit).

use super::ast::Token;
use super::options::{Atom, OptionType};
use crate::diag::Span;
use std::net::Ipv4Addr;

/// A typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Ip(Ipv4Addr),
    /// A host name where an address may be given (looked up at run time).
    Host(String),
    Ip6(String),
    Int(i64),
    Bool(bool),
    Text(String),
    Data(Vec<u8>),
    DomainName(String),
    DomainList(Vec<String>),
}

/// A value that does not fit: where, our words, and ISC's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    pub span: Span,
    pub message: String,
    pub isc: String,
    /// A missing `;` rather than a bad value.
    pub semicolon: bool,
}

impl TypeError {
    pub fn new(span: Span, message: impl Into<String>, isc: impl Into<String>) -> Self {
        TypeError {
            span,
            message: message.into(),
            isc: isc.into(),
            semicolon: false,
        }
    }

    pub fn semicolon(span: Span) -> Self {
        TypeError {
            span,
            message: "semicolon expected".into(),
            isc: "semicolon expected.".into(),
            semicolon: true,
        }
    }
}

/// Reads tokens one by one; `end` is the span used when they run out.
#[derive(Debug)]
pub struct Cursor<'a> {
    toks: &'a [Token],
    pub pos: usize,
    end: Span,
}

#[allow(clippy::should_implement_trait)] // a cursor with peek/eat, not an iterator
impl<'a> Cursor<'a> {
    pub fn new(toks: &'a [Token], end: Span) -> Self {
        Cursor { toks, pos: 0, end }
    }

    pub fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos)
    }

    pub fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// The span of the next token, or of the terminator when none is left.
    pub fn here(&self) -> Span {
        self.peek().map(|t| t.span).unwrap_or(self.end)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Fails with "semicolon expected" unless every token was used.
    pub fn finish(&self) -> Result<(), TypeError> {
        match self.peek() {
            Some(t) => Err(TypeError::semicolon(t.span)),
            None => Ok(()),
        }
    }

    pub fn eat(&mut self, text: &str) -> bool {
        if self
            .peek()
            .is_some_and(|t| t.text.eq_ignore_ascii_case(text))
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

/// Parses a whole option value of type `ty`.
pub fn parse_option_value(
    ty: &OptionType,
    toks: &[Token],
    end: Span,
) -> Result<Vec<Value>, TypeError> {
    let mut c = Cursor::new(toks, end);
    let mut out = Vec::new();
    loop {
        for atom in &ty.record {
            // A text or data field that ends a record may be omitted, as ISC allows.
            out.push(parse_atom(atom, &mut c)?);
        }
        if ty.array && c.eat(",") {
            continue;
        }
        break;
    }
    c.finish()?;
    Ok(out)
}

/// Parses one field.
pub fn parse_atom(atom: &Atom, c: &mut Cursor<'_>) -> Result<Value, TypeError> {
    let here = c.here();
    match atom {
        Atom::Ip => ip_or_host(c),
        Atom::Ip6 => match c.next() {
            Some(t)
                if t.text.contains(':')
                    && t.text
                        .chars()
                        .all(|ch| ch.is_ascii_hexdigit() || ch == ':' || ch == '.') =>
            {
                Ok(Value::Ip6(t.text.clone()))
            }
            _ => Err(TypeError::new(
                here,
                "expecting an IPv6 address",
                "expecting IPv6 address.",
            )),
        },
        Atom::U8 => int(c, 0, 255).map(Value::Int),
        Atom::U16 => int(c, 0, 65535).map(Value::Int),
        Atom::U32 => int(c, 0, u32::MAX as i64).map(Value::Int),
        Atom::I8 => int(c, -128, 127).map(Value::Int),
        Atom::I16 => int(c, -32768, 32767).map(Value::Int),
        Atom::I32 => int(c, i32::MIN as i64, i32::MAX as i64).map(Value::Int),
        Atom::Bool => boolean(c).map(Value::Bool),
        Atom::Text => text(c).map(Value::Text),
        Atom::Data | Atom::Encapsulate(_) => data(c).map(Value::Data),
        Atom::DomainName => match c.next() {
            Some(t) if t.is_string() => Ok(Value::DomainName(t.unquoted())),
            Some(t) if is_host_name(&t.text) => Ok(Value::DomainName(t.text.clone())),
            _ => Err(TypeError::new(
                here,
                "expecting a domain name",
                "expecting domain name.",
            )),
        },
        Atom::DomainList { .. } => {
            let mut names = Vec::new();
            loop {
                match c.next() {
                    Some(t) if t.is_string() => names.push(t.unquoted()),
                    _ => {
                        return Err(TypeError::new(
                            c.here_prev(here),
                            "expecting a quoted domain name",
                            "expecting string.",
                        ))
                    }
                }
                if !c.eat(",") {
                    break;
                }
            }
            Ok(Value::DomainList(names))
        }
    }
}

impl Cursor<'_> {
    fn here_prev(&self, fallback: Span) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map(|t| t.span)
            .unwrap_or(fallback)
    }
}

/// True for a word ISC would take as a host name (letters, digits, `-`, `_`, dots).
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A dotted quad, ISC's way: `too few numbers.`, `N exceeds max (255) for precision.`.
pub fn dotted_quad(t: &Token) -> Result<Ipv4Addr, TypeError> {
    let parts: Vec<&str> = t.text.split('.').collect();
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if i >= 4 {
            return Err(TypeError::new(
                t.span,
                format!("{} has too many numbers for an address", t.text),
                "too many numbers.",
            ));
        }
        let n = number(p, t.span)?;
        if !(0..=255).contains(&n) {
            return Err(TypeError::new(
                t.span,
                format!("{n} exceeds 255 in address {}", t.text),
                format!("{n} exceeds max (255) for precision."),
            ));
        }
        octets[i] = n as u8;
    }
    if parts.len() < 4 {
        return Err(TypeError::new(
            t.span,
            format!("{} has too few numbers for an address", t.text),
            "too few numbers.",
        ));
    }
    Ok(Ipv4Addr::from(octets))
}

/// A decimal (or 0x hex) number, with ISC's complaint for other digits.
pub fn number(s: &str, span: Span) -> Result<i64, TypeError> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (base, digits) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => (16, h),
        _ => (10, body),
    };
    if digits.is_empty() {
        return Err(TypeError::new(
            span,
            "expecting a number",
            "expecting numeric value.",
        ));
    }
    let mut v: i64 = 0;
    for ch in digits.chars() {
        match ch.to_digit(base) {
            Some(d) => {
                v = v
                    .saturating_mul(i64::from(base))
                    .saturating_add(i64::from(d))
            }
            None => {
                let digit = ch
                    .to_digit(36)
                    .map(i64::from)
                    .unwrap_or(i64::from(ch as u32));
                return Err(TypeError::new(
                    span,
                    format!("{s} is not a number"),
                    format!("Bogus number {s}: digit {digit} not in base {base}"),
                ));
            }
        }
    }
    Ok(if neg { -v } else { v })
}

fn int(c: &mut Cursor<'_>, min: i64, max: i64) -> Result<i64, TypeError> {
    let here = c.here();
    let Some(t) = c.next() else {
        return Err(TypeError::new(
            here,
            "expecting a number",
            "expecting number.",
        ));
    };
    if t.is_string()
        || !t
            .text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'-')
    {
        return Err(TypeError::new(
            t.span,
            format!("expecting a number, found {}", t.text),
            "expecting number.",
        ));
    }
    let n = number(&t.text, t.span)?;
    if n < min || n > max {
        return Err(TypeError::new(
            t.span,
            format!("{n} is out of range ({min} to {max})"),
            format!("{n} exceeds max ({max}) for precision."),
        ));
    }
    Ok(n)
}

fn boolean(c: &mut Cursor<'_>) -> Result<bool, TypeError> {
    let here = c.here();
    match c.next().map(|t| t.lower()) {
        Some(w) if w == "true" || w == "on" => Ok(true),
        Some(w) if w == "false" || w == "off" => Ok(false),
        _ => Err(TypeError::new(
            here,
            "expecting true, false, on or off",
            "expecting boolean.",
        )),
    }
}

fn text(c: &mut Cursor<'_>) -> Result<String, TypeError> {
    let here = c.here();
    match c.next() {
        Some(t) if t.is_string() => Ok(t.unquoted()),
        Some(t)
            if t.text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') =>
        {
            Ok(t.text.clone())
        }
        _ => Err(TypeError::new(
            here,
            "expecting a quoted string",
            "expecting string.",
        )),
    }
}

/// Colon-separated hex bytes (`01:0a:ff`), as ISC writes opaque data.
pub fn colon_hex(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|p| {
            if (1..=2).contains(&p.len()) {
                u8::from_str_radix(p, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

fn data(c: &mut Cursor<'_>) -> Result<Vec<u8>, TypeError> {
    let here = c.here();
    match c.next() {
        Some(t) if t.is_string() => Ok(t.string_bytes()),
        Some(t) => {
            // ISC reads `:` as its own token, so colon-hex may go on after
            // a line break (`ff:ff:` newline `00:00`).
            let mut text = t.text.clone();
            while text.ends_with(':') {
                match c.peek() {
                    Some(n) if !n.is_string() && n.text != "," => {
                        text.push_str(&n.text);
                        c.next();
                    }
                    _ => break,
                }
            }
            if text.ends_with(':') {
                return Err(TypeError::new(
                    c.here(),
                    "colon-separated hex bytes end with ':'",
                    "expecting numeric value.",
                ));
            }
            colon_hex(&text).ok_or_else(|| {
                TypeError::new(
                    t.span,
                    "expecting a quoted string or colon-separated hex bytes",
                    "expecting hex list.",
                )
            })
        }
        None => Err(TypeError::new(
            here,
            "expecting a quoted string or colon-separated hex bytes",
            "expecting string.",
        )),
    }
}

/// An address or a host name (`next-server`, `fixed-address`, ip-address options).
/// Parses `item [, item]...`, stopping at the first error; `parse` may skip an
/// item by returning `None`.
pub fn comma_list<T>(
    c: &mut Cursor<'_>,
    mut parse: impl FnMut(&mut Cursor<'_>) -> Result<Option<T>, TypeError>,
) -> Result<Vec<T>, TypeError> {
    let mut list = Vec::new();
    loop {
        if let Some(v) = parse(c)? {
            list.push(v);
        }
        if !c.eat(",") {
            return Ok(list);
        }
    }
}

pub fn ip_or_host(c: &mut Cursor<'_>) -> Result<Value, TypeError> {
    let here = c.here();
    let Some(t) = c.next() else {
        return Err(TypeError::new(
            here,
            "expecting an IP address or host name",
            "expecting IP address or hostname",
        ));
    };
    let numeric = t.text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if numeric && !t.text.is_empty() {
        return dotted_quad(t).map(Value::Ip);
    }
    // ISC reads a leading number as an address: `10.0.0.2subnet` is a bad number.
    let parts: Vec<&str> = t.text.split('.').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 1
        && parts[..parts.len() - 1].iter().all(|p| digits(p))
        && parts
            .last()
            .is_some_and(|p| p.bytes().next().is_some_and(|b| b.is_ascii_digit()))
    {
        return Err(TypeError::new(
            t.span,
            format!("{} is not an address", t.text),
            "expecting numeric value.",
        ));
    }
    if !t.is_string() && is_host_name(&t.text) {
        return Ok(Value::Host(t.text.clone()));
    }
    let first = t.text.chars().next().unwrap_or(' ');
    Err(TypeError::new(
        t.span,
        format!("expecting an IP address or host name, found {}", t.text),
        format!(
            "{} ({}): expecting IP address or hostname",
            first, first as u32
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn toks(words: &[&str]) -> Vec<Token> {
        let mut at = 0;
        words
            .iter()
            .map(|w| {
                let t = Token {
                    text: w.to_string(),
                    span: Span::new(FileId(0), at, at + w.len()),
                };
                at += w.len() + 1;
                t
            })
            .collect()
    }

    fn end() -> Span {
        Span::new(FileId(0), 999, 999)
    }

    #[test]
    fn ip_array_takes_commas_and_stops_at_an_extra_token() {
        let ty = OptionType {
            record: vec![Atom::Ip],
            array: true,
        };
        let v = parse_option_value(&ty, &toks(&["10.0.0.1", ",", "10.0.0.2"]), end()).unwrap();
        assert_eq!(v.len(), 2);
        let e = parse_option_value(&ty, &toks(&["10.0.0.1", "range"]), end()).unwrap_err();
        assert!(e.semicolon);
        assert_eq!(e.span.start, 9);
    }

    #[test]
    fn bad_quads_use_isc_words() {
        let e = dotted_quad(&toks(&["1.2.3"])[0]).unwrap_err();
        assert_eq!(e.isc, "too few numbers.");
        let e = dotted_quad(&toks(&["10.0.0.300"])[0]).unwrap_err();
        assert_eq!(e.isc, "300 exceeds max (255) for precision.");
    }

    #[test]
    fn host_names_are_addresses_too() {
        let ty = OptionType {
            record: vec![Atom::Ip],
            array: false,
        };
        assert_eq!(
            parse_option_value(&ty, &toks(&["BASTION_IP"]), end()).unwrap(),
            vec![Value::Host("BASTION_IP".into())]
        );
        let e = parse_option_value(&ty, &toks(&["$"]), end()).unwrap_err();
        assert_eq!(e.isc, "$ (36): expecting IP address or hostname");
    }

    #[test]
    fn records_and_data() {
        let ty = OptionType {
            record: vec![Atom::U8, Atom::Data],
            array: false,
        };
        let v = parse_option_value(&ty, &toks(&["0", "01:02:ff"]), end()).unwrap();
        assert_eq!(v, vec![Value::Int(0), Value::Data(vec![1, 2, 255])]);
        assert_eq!(
            number("abc", end()).unwrap_err().isc,
            "Bogus number abc: digit 10 not in base 10"
        );
    }
}
