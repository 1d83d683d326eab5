//! `-inetd_compat`: the services of `/etc/inetd.conf` (inetd(8) syntax) read
//! after the xinetd files, as xinetd does. Each line
//! `name socket_type protocol wait|nowait[.max] user[.group] server args…`
//! becomes a service entry whose attribute values keep the spans of the
//! inetd.conf fields, so the ordinary checks apply and report positions.

use super::ast::{Attr, Entry, EntryKind, Op, Value};
use super::Finding;
use crate::diag::{FileId, SourceMap, Span};
use crate::sys::syslog::Level;
use std::path::Path;

/// Reads `path`; a missing file adds nothing (the option is harmless without one).
pub fn read(path: &Path, map: &mut SourceMap, findings: &mut Vec<Finding>) -> Vec<Entry> {
    match map.load(path, None) {
        Ok(id) => entries(id, map, findings),
        Err(_) => Vec::new(),
    }
}

/// Splits a line into words with their byte offsets.
fn words(line: &str, base: usize) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c == ' ' || c == '\t' || c == '\r' {
            if let Some(s) = start.take() {
                out.push((line[s..i].to_string(), base + s, base + i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((line[s..].to_string(), base + s, base + line.len()));
    }
    out
}

fn entries(id: FileId, map: &SourceMap, findings: &mut Vec<Finding>) -> Vec<Entry> {
    let text = map.text(id).to_string();
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let base = offset;
        offset += line.len();
        let body = line.trim_end_matches('\n');
        let w = words(body, base);
        if w.is_empty() || w[0].0.starts_with('#') {
            continue;
        }
        let line_span = Span::new(id, base, base + body.len());
        if w.len() < 6 {
            findings.push(Finding::at(
                Level::Err,
                line_span,
                "inetd.conf - Bad line: too few fields",
            ));
            continue;
        }
        let val = |i: usize, text: &str| Value {
            text: text.to_string(),
            span: Span::new(id, w[i].1, w[i].2),
        };
        let attr = |name: &str, values: Vec<Value>| Attr {
            name: name.to_string(),
            name_span: values.first().map(|v| v.span).unwrap_or(line_span),
            op: Op::Set,
            values,
            span: line_span,
        };
        let name = w[0].0.rsplit(':').next().unwrap_or(&w[0].0).to_string();
        let proto = w[2].0.as_str();
        if proto.starts_with("rpc/") {
            findings.push(Finding::at(
                Level::Warning,
                line_span,
                format!("inetd.conf - RPC service {name} is not supported; skipped"),
            ));
            continue;
        }
        let mut attrs = vec![attr("socket_type", vec![val(1, &w[1].0)])];
        let (plain, v6) = match proto.strip_suffix('6') {
            Some(p) => (p, true),
            None => (proto, false),
        };
        attrs.push(attr("protocol", vec![val(2, plain)]));
        let wait = match w[3].0.split('.').next().unwrap_or("") {
            "wait" => "yes",
            "nowait" => "no",
            other => {
                findings.push(Finding::at(
                    Level::Err,
                    Span::new(id, w[3].1, w[3].2),
                    format!("inetd.conf - Bad value for wait: {other}"),
                ));
                continue;
            }
        };
        attrs.push(attr("wait", vec![val(3, wait)]));
        let mut user_group = w[4].0.splitn(2, ['.', ':']);
        let user = user_group.next().unwrap_or("").to_string();
        attrs.push(attr("user", vec![val(4, &user)]));
        if let Some(g) = user_group.next() {
            attrs.push(attr("group", vec![val(4, g)]));
        }
        let mut flags = Vec::new();
        if v6 {
            flags.push(val(2, "IPv6"));
        }
        if w[5].0 == "internal" {
            attrs.push(attr("type", vec![val(5, "INTERNAL")]));
        } else {
            attrs.push(attr("server", vec![val(5, &w[5].0)]));
            if w.len() > 6 {
                // inetd's arguments start with argv[0]: xinetd's NAMEINARGS.
                flags.push(val(5, "NAMEINARGS"));
                attrs.push(attr(
                    "server_args",
                    (6..w.len()).map(|i| val(i, &w[i].0)).collect(),
                ));
            }
        }
        if !flags.is_empty() {
            attrs.push(attr("flags", flags));
        }
        out.push(Entry {
            kind: EntryKind::Service(name),
            head: line_span,
            attrs,
            dropped: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inetd_lines_become_services() {
        let mut map = SourceMap::new();
        let text = "# comment\necho stream tcp nowait root internal\ntftp dgram udp wait root /bin/true in.tftpd -s /tftpboot\nshort line\n";
        let id = map.add("/etc/inetd.conf", text.into(), None);
        let mut f = Vec::new();
        let e = entries(id, &map, &mut f);
        assert_eq!(e.len(), 2);
        assert_eq!(f.len(), 1);
        let cfg = crate::xinetd::conf::check::build(&e, &map, &[], &mut f).unwrap();
        assert_eq!(cfg.services.len(), 2, "{f:?}");
        let tftp = &cfg.services[1];
        assert!(tftp.wait && tftp.flags.nameinargs);
        assert_eq!(tftp.argv, vec!["in.tftpd", "-s", "/tftpboot"]);
        assert_eq!(tftp.port, 69);
        assert!(cfg.services[0].is_internal());
    }
}
