//! tcp_wrappers as xinetd's libwrap build applies them (X-ACC-2), a
//! hosts_access(5) subset: `daemon_list : client_list [: ALLOW|DENY]` lines
//! with `\` continuations; daemons by name or `ALL`; clients as `ALL`,
//! `LOCAL`, addresses, `a.b.c.` prefixes, `a.b.c.d/m.m.m.m` and `/nn` nets,
//! `[v6]/nn`; `EXCEPT` in both lists. Host names and `.domain` patterns need
//! a lookup of the peer and never match here; `--check-config` reports them.
//! Access is granted when hosts.allow matches, denied when hosts.deny
//! matches, granted otherwise, so a swap never opens access that was closed.

use std::net::IpAddr;
use std::path::Path;

/// One rule with the file line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub line: usize,
    pub daemons: Vec<String>,
    pub clients: Vec<String>,
    /// `: ALLOW` / `: DENY` options override the file's meaning.
    pub verdict: Option<bool>,
    pub text: String,
}

/// Parses a hosts.allow/hosts.deny text.
pub fn parse(text: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut acc = String::new();
    let mut first_line = 0;
    for (i, raw) in text.lines().enumerate() {
        if acc.is_empty() {
            first_line = i + 1;
        }
        if let Some(body) = raw.strip_suffix('\\') {
            acc.push_str(body);
            acc.push(' ');
            continue;
        }
        acc.push_str(raw);
        let line = std::mem::take(&mut acc);
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut fields = t.splitn(3, ':');
        let (Some(d), Some(c)) = (fields.next(), fields.next()) else {
            continue;
        };
        let verdict = fields.next().and_then(|o| {
            let words: Vec<String> = o
                .split(|ch: char| ch == ':' || ch.is_whitespace())
                .map(|w| w.to_ascii_lowercase())
                .collect();
            if words.iter().any(|w| w == "deny") {
                Some(false)
            } else if words.iter().any(|w| w == "allow") {
                Some(true)
            } else {
                None
            }
        });
        let split = |s: &str| {
            s.split(|ch: char| ch == ',' || ch.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        rules.push(Rule {
            line: first_line,
            daemons: split(d),
            clients: split(c),
            verdict,
            text: t.to_string(),
        });
    }
    rules
}

fn list_matches(list: &[String], item: impl Fn(&str) -> bool) -> bool {
    // `a b EXCEPT c d`: matches a or b unless c or d match (EXCEPT nests to the right).
    match list.iter().position(|w| w.eq_ignore_ascii_case("EXCEPT")) {
        Some(i) => list[..i].iter().any(|w| item(w)) && !list_matches(&list[i + 1..], item),
        None => list.iter().any(|w| item(w)),
    }
}

fn daemon_matches(pattern: &str, daemon: &str) -> bool {
    let p = pattern.split('@').next().unwrap_or(pattern);
    p.eq_ignore_ascii_case("ALL") || p == daemon
}

/// True when a client pattern covers `peer`.
pub fn client_matches(pattern: &str, peer: IpAddr) -> bool {
    let peer = crate::xinetd::access::canonical(peer);
    if pattern.eq_ignore_ascii_case("ALL") {
        return true;
    }
    if pattern.eq_ignore_ascii_case("LOCAL")
        || pattern.eq_ignore_ascii_case("KNOWN")
        || pattern.eq_ignore_ascii_case("UNKNOWN")
        || pattern.eq_ignore_ascii_case("PARANOID")
    {
        // Host-name classes: without a lookup LOCAL, KNOWN, UNKNOWN and PARANOID cannot match an address.
        return false;
    }
    let pat = pattern.trim_start_matches('[').replace(']', "");
    if let Some((net, mask)) = pat.split_once('/') {
        let Ok(net) = net.parse::<IpAddr>() else {
            return false;
        };
        let len: Option<u8> = mask.parse().ok().or_else(|| {
            mask.parse::<std::net::Ipv4Addr>()
                .ok()
                .map(|m| u32::from(m).count_ones() as u8)
        });
        return len.is_some_and(|l| crate::xinetd::access::AddrPattern::Net(net, l).matches(peer));
    }
    if pat.ends_with('.') && peer.is_ipv4() {
        return peer.to_string().starts_with(pat.as_str());
    }
    pat.parse::<IpAddr>()
        .is_ok_and(|a| crate::xinetd::access::canonical(a) == peer)
}

/// The rules of one file that name `daemon` and cover `peer`.
fn first_match<'a>(rules: &'a [Rule], daemon: &str, peer: IpAddr) -> Option<&'a Rule> {
    rules.iter().find(|r| {
        list_matches(&r.daemons, |p| daemon_matches(p, daemon))
            && list_matches(&r.clients, |p| client_matches(p, peer))
    })
}

/// hosts_access(5): allow on a hosts.allow match, deny on a hosts.deny match, else allow.
pub fn allowed(allow: &[Rule], deny: &[Rule], daemon: &str, peer: IpAddr) -> bool {
    if let Some(r) = first_match(allow, daemon, peer) {
        return r.verdict.unwrap_or(true);
    }
    if let Some(r) = first_match(deny, daemon, peer) {
        return r.verdict.unwrap_or(false);
    }
    true
}

/// Reads both files from `dir` (normally `/etc`); a missing file has no rules.
pub fn load(dir: &Path) -> (Vec<Rule>, Vec<Rule>) {
    let read = |n: &str| {
        std::fs::read_to_string(dir.join(n))
            .map(|t| parse(&t))
            .unwrap_or_default()
    };
    (read("hosts.allow"), read("hosts.deny"))
}

/// The rules that name `daemon` (or ALL), for `--check-config`.
pub fn rules_for<'a>(rules: &'a [Rule], daemon: &str) -> Vec<&'a Rule> {
    rules
        .iter()
        .filter(|r| list_matches(&r.daemons, |p| daemon_matches(p, daemon)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allow_then_deny_then_grant() {
        let allow = parse("# comment\nin.tftpd: 10.0.0.\n");
        let deny = parse("ALL: ALL\n");
        assert!(allowed(&allow, &deny, "in.tftpd", ip("10.0.0.9")));
        assert!(!allowed(&allow, &deny, "in.tftpd", ip("10.0.1.9")));
        assert!(!allowed(&allow, &deny, "echo", ip("10.0.0.9")));
        assert!(allowed(&[], &[], "echo", ip("10.0.0.9")));
    }

    #[test]
    fn except_masks_continuations_and_options() {
        let deny = parse("ALL EXCEPT echo : 192.168.0.0/255.255.255.0 \\\n  EXCEPT 192.168.0.7\n");
        assert!(!allowed(&[], &deny, "tftp", ip("192.168.0.5")));
        assert!(allowed(&[], &deny, "tftp", ip("192.168.0.7")));
        assert!(allowed(&[], &deny, "echo", ip("192.168.0.5")));
        let allow = parse("sshd, in.tftpd : ALL : DENY\n");
        assert!(!allowed(&allow, &[], "in.tftpd", ip("1.2.3.4")));
        assert!(
            client_matches("[::ffff:10.0.0.0]/104", ip("10.0.0.1"))
                || client_matches("10.0.0.0/8", ip("::ffff:10.0.0.1"))
        );
    }
}
