//! The pest glue for `grammar/dhcpd_leases.pest` and the typed lease
//! records built from it.

use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use pest::iterators::Pair;
use pest::Parser;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, pest_derive::Parser)]
#[grammar = "../grammar/dhcpd_leases.pest"]
struct LeasesParser;

/// A time in a lease: seconds since the epoch (UTC), or `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseTime {
    Never,
    At(i64),
}

/// One `lease` block; a later block for the same address replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lease {
    pub address: Option<Ipv4Addr>,
    pub starts: Option<LeaseTime>,
    pub ends: Option<LeaseTime>,
    pub tstp: Option<LeaseTime>,
    pub tsfp: Option<LeaseTime>,
    pub atsfp: Option<LeaseTime>,
    pub cltt: Option<LeaseTime>,
    pub binding_state: Option<String>,
    pub next_binding_state: Option<String>,
    pub rewind_binding_state: Option<String>,
    /// ARP hardware type and address.
    pub hardware: Option<(String, Vec<u8>)>,
    pub uid: Option<Vec<u8>>,
    pub client_hostname: Option<String>,
    pub billing: Option<String>,
    /// `set name = value;` as written.
    pub bindings: Vec<(String, String)>,
    /// Other statements kept raw (`abandoned;`, `option agent.… …;`, `on …`).
    pub other: Vec<String>,
}

/// Everything read from a lease file.
#[derive(Debug, Default)]
pub struct LeaseFile {
    pub map: SourceMap,
    /// The last block seen for each address.
    pub leases: BTreeMap<Ipv4Addr, Lease>,
    /// `failover peer "name" state {…}` blocks, raw.
    pub failover_states: Vec<(String, String)>,
    /// host/group/class/ia blocks and top statements, raw.
    pub other: Vec<String>,
    pub diagnostics: Vec<(Diagnostic, usize)>,
}

impl LeaseFile {
    pub fn has_errors(&self) -> bool {
        !self.diagnostics.is_empty()
    }

    pub fn diagnostics_text(&self) -> String {
        self.diagnostics
            .iter()
            .map(|(d, _)| crate::diag::render(d, &self.map))
            .collect()
    }

    /// ISC's shape: `FILE line N: MSG`.
    pub fn isc_lines(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .map(|(d, line)| {
                let path = d
                    .span
                    .map(|s| self.map.path(s.file).display().to_string())
                    .unwrap_or_default();
                format!("{path} line {line}: {}", d.message)
            })
            .collect()
    }
}

/// Reads a lease file.
pub fn load_file(path: &std::path::Path) -> std::io::Result<LeaseFile> {
    let mut lf = LeaseFile::default();
    let id = lf.map.load(path, None)?;
    read(&mut lf, id);
    Ok(lf)
}

/// Reads lease text (tests, fuzzing).
pub fn load_str(name: &str, text: &str) -> LeaseFile {
    let mut lf = LeaseFile::default();
    let id = lf.map.add(name, text.to_string(), None);
    read(&mut lf, id);
    lf
}

fn read(lf: &mut LeaseFile, id: FileId) {
    let text = lf.map.text(id).to_string();
    let mut pos = 0;
    loop {
        let start = crate::dhcp::conf::lex::skip_blank(&text, pos);
        if start >= text.len() {
            break;
        }
        if too_deep(&text, start) {
            let span = Span::new(id, start, start + 1);
            push_error(lf, span, "braces nested too deeply");
            pos = crate::dhcp::conf::lex::skip_to_semi(&text, start);
            continue;
        }
        match LeasesParser::parse(Rule::entry, &text[start..]) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                pos = start + pair.as_span().end();
                if let Some(inner) = pair.into_inner().next() {
                    take_entry(lf, inner, id, start);
                }
            }
            Err(e) => {
                let at = start
                    + match e.location {
                        pest::error::InputLocation::Pos(p) => p,
                        pest::error::InputLocation::Span((s, _)) => s,
                    };
                let span = Span::new(id, at, at + 1);
                push_error(lf, span, "syntax error in lease file");
                // Skip the whole entry (a lease block is one entry).
                pos = crate::dhcp::conf::lex::skip_to_semi(&text, start);
            }
        }
        if lf.diagnostics.len() > crate::diag::MAX_ERRORS {
            break;
        }
    }
}

fn too_deep(text: &str, start: usize) -> bool {
    let mut depth = 0usize;
    for b in text.as_bytes()[start..].iter().take(1 << 16) {
        match b {
            b'{' => {
                depth += 1;
                if depth > 32 {
                    return true;
                }
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
}

fn push_error(lf: &mut LeaseFile, span: Span, msg: &str) {
    let line = lf.map.line_col(span).map(|lc| lc.line).unwrap_or(0);
    lf.diagnostics
        .push((Diagnostic::error("lease-syntax", Some(span), msg), line));
}

fn take_entry(lf: &mut LeaseFile, p: Pair<'_, Rule>, id: FileId, offset: usize) {
    match p.as_rule() {
        Rule::lease => {
            let span = p.as_span();
            let mut lease = Lease::default();
            let mut addr_span = Span::new(id, offset + span.start(), offset + span.end());
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::word if lease.address.is_none() => {
                        let s = q.as_span();
                        addr_span = Span::new(id, offset + s.start(), offset + s.end());
                        lease.address = q.as_str().parse().ok();
                    }
                    Rule::date_stmt => take_date(&mut lease, q),
                    Rule::binding_stmt => {
                        let which = q
                            .clone()
                            .into_inner()
                            .find(|x| x.as_rule() == Rule::binding_which)
                            .map(|x| x.as_str().to_ascii_lowercase());
                        let state = q
                            .into_inner()
                            .find(|x| x.as_rule() == Rule::word)
                            .map(|x| x.as_str().to_ascii_lowercase());
                        match which.as_deref() {
                            Some("next") => lease.next_binding_state = state,
                            Some("rewind") => lease.rewind_binding_state = state,
                            _ => lease.binding_state = state,
                        }
                    }
                    Rule::hardware_stmt => {
                        let w: Vec<String> = q
                            .into_inner()
                            .filter(|x| x.as_rule() == Rule::word)
                            .map(|x| x.as_str().to_string())
                            .collect();
                        if let (Some(kind), Some(mac)) = (w.first(), w.get(1)) {
                            if let Some(bytes) = crate::dhcp::conf::values::colon_hex(mac) {
                                lease.hardware = Some((kind.to_ascii_lowercase(), bytes));
                            }
                        }
                    }
                    Rule::uid_stmt => {
                        if let Some(v) = q
                            .into_inner()
                            .find(|x| matches!(x.as_rule(), Rule::string | Rule::word))
                        {
                            let s = v.as_str();
                            lease.uid = if v.as_rule() == Rule::string {
                                Some(crate::dhcp::conf::ast::unescape(&s[1..s.len() - 1]))
                            } else {
                                crate::dhcp::conf::values::colon_hex(s)
                            };
                        }
                    }
                    Rule::hostname_stmt => {
                        if let Some(v) = q.into_inner().find(|x| x.as_rule() == Rule::string) {
                            let s = v.as_str();
                            lease.client_hostname = Some(
                                String::from_utf8_lossy(&crate::dhcp::conf::ast::unescape(
                                    &s[1..s.len() - 1],
                                ))
                                .into_owned(),
                            );
                        }
                    }
                    Rule::billing_stmt => lease.billing = Some(q.as_str().to_string()),
                    Rule::set_stmt => {
                        let text = q.as_str();
                        let name = q
                            .into_inner()
                            .find(|x| x.as_rule() == Rule::word)
                            .map(|x| x.as_str().to_string())
                            .unwrap_or_default();
                        let value = text
                            .split_once('=')
                            .map(|(_, v)| v.trim().trim_end_matches(';').trim().to_string())
                            .unwrap_or_default();
                        lease.bindings.push((name, value));
                    }
                    _ => lease.other.push(q.as_str().to_string()),
                }
            }
            match lease.address {
                Some(a) => {
                    lf.leases.insert(a, lease);
                }
                None => push_error(lf, addr_span, "expecting an IPv4 address after `lease`"),
            }
        }
        Rule::failover_state => {
            let name = p
                .clone()
                .into_inner()
                .find(|x| x.as_rule() == Rule::string)
                .map(|x| x.as_str().trim_matches('"').to_string())
                .unwrap_or_default();
            lf.failover_states.push((name, p.as_str().to_string()));
        }
        _ => lf.other.push(p.as_str().to_string()),
    }
}

fn take_date(lease: &mut Lease, q: Pair<'_, Rule>) {
    let mut field = String::new();
    let mut time = None;
    for x in q.into_inner() {
        match x.as_rule() {
            Rule::date_field => field = x.as_str().to_ascii_lowercase(),
            Rule::date => time = parse_date(x),
            _ => {}
        }
    }
    let slot = match field.as_str() {
        "starts" => &mut lease.starts,
        "ends" => &mut lease.ends,
        "tstp" => &mut lease.tstp,
        "tsfp" => &mut lease.tsfp,
        "atsfp" => &mut lease.atsfp,
        _ => &mut lease.cltt,
    };
    if field != "timestamp" {
        *slot = time;
    }
}

fn parse_date(p: Pair<'_, Rule>) -> Option<LeaseTime> {
    let mut ymd = None;
    let mut hms = None;
    for x in p.into_inner() {
        match x.as_rule() {
            Rule::never => return Some(LeaseTime::Never),
            Rule::epoch => {
                return x
                    .into_inner()
                    .find(|n| n.as_rule() == Rule::number)?
                    .as_str()
                    .parse()
                    .ok()
                    .map(LeaseTime::At)
            }
            Rule::ymd => ymd = Some(x.as_str().to_string()),
            Rule::hms => hms = Some(x.as_str().to_string()),
            _ => {}
        }
    }
    let d: Vec<i64> = ymd?.split('/').filter_map(|s| s.parse().ok()).collect();
    let t: Vec<i64> = hms?.split(':').filter_map(|s| s.parse().ok()).collect();
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    Some(LeaseTime::At(
        days_from_civil(d[0], d[1], d[2]) * 86400 + t[0] * 3600 + t[1] * 60 + t[2],
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# The format of this file is documented in the dhcpd.leases(5) manual page.\n\
authoring-byte-order little-endian;\n\
server-duid \"\\000\\001\";\n\
lease 192.168.0.128 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2026/11/26 22:00:00;\n  cltt 4 2026/11/26 10:00:00;\n  binding state active;\n  next binding state free;\n  rewind binding state free;\n  hardware ethernet 00:11:22:33:44:55;\n  uid \"\\001\\000\\021\\\"3DU\";\n  set vendor-class-identifier = \"PXEClient:Arch:00000:UNDI:002001\";\n  client-hostname \"pxe-node1\";\n  on expiry { set x = 1; }\n}\n\
lease 192.168.0.128 {\n  starts epoch 1764151200; # Wed Nov 26 10:00:00 2025\n  ends never;\n  binding state free;\n}\n\
failover peer \"dhcp\" state {\n  my state normal at 4 2026/11/26 10:00:00;\n}\n\
host h { dynamic; hardware ethernet 00:11:22:33:44:66; fixed-address 10.0.0.9; }\n";

    #[test]
    fn reads_3_0_5_and_4_4_blocks_and_the_last_one_wins() {
        let lf = load_str("dhcpd.leases", SAMPLE);
        assert!(!lf.has_errors(), "{}", lf.diagnostics_text());
        let l = &lf.leases[&"192.168.0.128".parse().unwrap()];
        assert_eq!(l.binding_state.as_deref(), Some("free"));
        assert_eq!(l.starts, Some(LeaseTime::At(1764151200)));
        assert_eq!(l.ends, Some(LeaseTime::Never));
        assert_eq!(lf.failover_states.len(), 1);
        assert_eq!(lf.other.len(), 3);
    }

    #[test]
    fn dates_are_utc() {
        let lf = load_str("x", "lease 10.0.0.1 { starts 4 2026/11/26 10:00:00; hardware ethernet 0:1:2:3:4:5; uid 01:02; client-hostname \"a\\\"b\"; }\n");
        let l = &lf.leases[&"10.0.0.1".parse().unwrap()];
        // 2026-11-26 10:00:00 UTC
        assert_eq!(l.starts, Some(LeaseTime::At(1795687200)));
        assert_eq!(l.uid.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(l.client_hostname.as_deref(), Some("a\"b"));
    }

    #[test]
    fn errors_are_positioned_and_reading_goes_on() {
        let lf = load_str(
            "x",
            "lease 10.0.0.1 { starts 4 2026/11/26; }\nlease 10.0.0.2 { binding state free; }\n",
        );
        assert_eq!(lf.diagnostics.len(), 1);
        assert_eq!(lf.diagnostics[0].1, 1);
        assert!(lf.leases.contains_key(&"10.0.0.2".parse().unwrap()));
    }
}
