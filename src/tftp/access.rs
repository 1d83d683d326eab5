//! `/etc/hosts.allow` and `/etc/hosts.deny` for daemon `in.tftpd`, the
//! subset of hosts_access(5) that tftp-hpa's libwrap build honours in PXE
//! setups: daemon lists with `ALL` and `EXCEPT`, client lists with `ALL`,
//! `LOCAL`, addresses, `n.n.n.` prefixes, `net/mask` and `net/len`, host
//! names (resolved when the files are read) and the `: allow` / `: deny`
//! options. The first match in hosts.allow grants, then the first in
//! hosts.deny refuses, otherwise access is granted. A pattern we cannot
//! evaluate (`.domain`, `@netgroup`, `KNOWN`) never matches in hosts.allow
//! and always matches in hosts.deny, so a swap never opens access. Like
//! libwrap, `LiveHostsAccess` sees edits at once: it looks at both files
//! before each check, through `/etc` opened before the server chroots.

use std::net::{Ipv4Addr, ToSocketAddrs};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Client {
    All,
    Local,
    Addr(Ipv4Addr),
    Prefix(String),
    Net(u32, u32),
    Names(Vec<Ipv4Addr>),
    Unknown,
}

#[derive(Debug, Clone)]
struct Rule {
    daemons: Vec<String>,
    daemons_except: Vec<String>,
    clients: Vec<Client>,
    clients_except: Vec<Client>,
    /// `: deny` in hosts.allow or `: allow` in hosts.deny flips the verdict.
    verdict_option: Option<bool>,
}

/// Both files, parsed.
#[derive(Debug, Clone, Default)]
pub struct HostsAccess {
    allow: Vec<Rule>,
    deny: Vec<Rule>,
}

/// Looks a host name up (forward), as the files are read.
pub fn resolve_host(name: &str) -> Vec<Ipv4Addr> {
    match (name, 0).to_socket_addrs() {
        Ok(it) => it
            .filter_map(|a| match a.ip() {
                std::net::IpAddr::V4(v) => Some(v),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

type Resolver<'a> = &'a dyn Fn(&str) -> Vec<Ipv4Addr>;

fn parse_client(w: &str, resolve: Resolver<'_>) -> Client {
    let lw = w.to_ascii_uppercase();
    if lw == "ALL" {
        return Client::All;
    }
    if lw == "LOCAL" {
        return Client::Local;
    }
    if let Ok(a) = w.parse::<Ipv4Addr>() {
        return Client::Addr(a);
    }
    if w.ends_with('.') && w.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Client::Prefix(w.to_string());
    }
    if let Some((net, mask)) = w.split_once('/') {
        if let Ok(n) = net.parse::<Ipv4Addr>() {
            let m = if let Ok(m) = mask.parse::<Ipv4Addr>() {
                Some(u32::from(m))
            } else {
                mask.parse::<u32>().ok().filter(|&l| l <= 32).map(|l| {
                    if l == 0 {
                        0
                    } else {
                        u32::MAX << (32 - l)
                    }
                })
            };
            if let Some(m) = m {
                return Client::Net(u32::from(n), m);
            }
        }
        return Client::Unknown;
    }
    if w.starts_with('.')
        || w.starts_with('@')
        || lw == "KNOWN"
        || lw == "UNKNOWN"
        || lw == "PARANOID"
    {
        return Client::Unknown;
    }
    Client::Names(resolve(w))
}

/// Splits `a, b EXCEPT c` into the list and its exceptions.
fn split_except(text: &str) -> (Vec<String>, Vec<String>) {
    let words: Vec<String> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    match words.iter().position(|w| w.eq_ignore_ascii_case("EXCEPT")) {
        Some(i) => (words[..i].to_vec(), words[i + 1..].to_vec()),
        None => (words, Vec::new()),
    }
}

fn parse_file(text: &str, resolve: Resolver<'_>) -> Vec<Rule> {
    let mut rules = Vec::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        if parts.len() < 2 {
            continue;
        }
        let (d, de) = split_except(parts[0]);
        let (c, ce) = split_except(parts[1]);
        let verdict_option = parts.get(2).and_then(|o| {
            o.split(':')
                .map(str::trim)
                .find_map(|w| match w.to_ascii_lowercase().as_str() {
                    "allow" => Some(true),
                    "deny" => Some(false),
                    _ => None,
                })
        });
        rules.push(Rule {
            daemons: d,
            daemons_except: de,
            clients: c.iter().map(|w| parse_client(w, resolve)).collect(),
            clients_except: ce.iter().map(|w| parse_client(w, resolve)).collect(),
            verdict_option,
        });
    }
    rules
}

fn daemon_matches(list: &[String], daemon: &str) -> bool {
    list.iter()
        .any(|d| d.eq_ignore_ascii_case("ALL") || d == daemon)
}

/// `unknown_matches`: what a pattern we cannot evaluate counts as.
fn client_matches(list: &[Client], addr: Ipv4Addr, unknown_matches: bool) -> bool {
    list.iter().any(|c| match c {
        Client::All => true,
        // LOCAL means a host name without a dot; we only ever see addresses.
        Client::Local => false,
        Client::Addr(a) => *a == addr,
        Client::Prefix(p) => addr.to_string().starts_with(p.as_str()),
        Client::Net(n, m) => u32::from(addr) & m == n & m,
        Client::Names(v) => v.contains(&addr),
        Client::Unknown => unknown_matches,
    })
}

impl Rule {
    fn matches(&self, daemon: &str, addr: Ipv4Addr, in_deny: bool) -> bool {
        daemon_matches(&self.daemons, daemon)
            && !daemon_matches(&self.daemons_except, daemon)
            && client_matches(&self.clients, addr, in_deny)
            && !client_matches(&self.clients_except, addr, !in_deny)
    }
}

impl HostsAccess {
    /// Parses the two files' texts (a missing file is empty).
    pub fn parse(allow: &str, deny: &str) -> Self {
        Self::parse_with(allow, deny, &resolve_host)
    }

    /// Parses with a given host-name resolver (tests use a fixed table).
    pub fn parse_with(allow: &str, deny: &str, resolve: Resolver<'_>) -> Self {
        HostsAccess {
            allow: parse_file(allow, resolve),
            deny: parse_file(deny, resolve),
        }
    }

    /// Reads `/etc/hosts.allow` and `/etc/hosts.deny` (before any chroot).
    pub fn load() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        Self::parse(&read("/etc/hosts.allow"), &read("/etc/hosts.deny"))
    }

    /// True if `addr` may talk to `daemon`.
    pub fn permits(&self, daemon: &str, addr: Ipv4Addr) -> bool {
        if let Some(r) = self.allow.iter().find(|r| r.matches(daemon, addr, false)) {
            return r.verdict_option.unwrap_or(true);
        }
        if let Some(r) = self.deny.iter().find(|r| r.matches(daemon, addr, true)) {
            return r.verdict_option.unwrap_or(false);
        }
        true
    }
}

/// Identity and version of one file: inode, size, mtime (seconds, nanoseconds).
type Stamp = Option<(u64, u64, i64, i64)>;

/// hosts.allow/deny kept current the way libwrap is (it reads both files
/// for every request): before each check the files are looked at again,
/// through a descriptor of their directory opened before any chroot, and
/// parsed anew when either changed.
#[derive(Debug)]
pub struct LiveHostsAccess {
    dir: Option<std::fs::File>,
    state: std::sync::Mutex<(HostsAccess, [Stamp; 2])>,
}

fn read_stamped(dir: &std::fs::File, name: &str) -> (String, Stamp) {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    match crate::sys::fsys::open_at(dir, name.as_bytes()) {
        Ok(mut f) => {
            let stamp = f
                .metadata()
                .ok()
                .map(|m| (m.ino(), m.size(), m.mtime(), m.mtime_nsec()));
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            (text, stamp)
        }
        Err(_) => (String::new(), None),
    }
}

fn stamp_of(dir: &std::fs::File, name: &str) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    crate::sys::fsys::open_at(dir, name.as_bytes())
        .ok()
        .and_then(|f| f.metadata().ok())
        .map(|m| (m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

impl LiveHostsAccess {
    /// Reads `/etc/hosts.allow` and `/etc/hosts.deny` now and keeps `/etc` open for later.
    pub fn open_etc() -> Self {
        Self::open_dir(std::path::Path::new("/etc"))
    }

    /// The same for another directory (tests).
    pub fn open_dir(path: &std::path::Path) -> Self {
        let dir = std::fs::File::open(path).ok();
        let (access, stamps) = match &dir {
            Some(d) => {
                let (a, sa) = read_stamped(d, "hosts.allow");
                let (b, sb) = read_stamped(d, "hosts.deny");
                (HostsAccess::parse(&a, &b), [sa, sb])
            }
            None => (HostsAccess::default(), [None, None]),
        };
        LiveHostsAccess {
            dir,
            state: std::sync::Mutex::new((access, stamps)),
        }
    }

    /// True if `addr` may talk to `daemon` under the files as they are now.
    pub fn permits(&self, daemon: &str, addr: Ipv4Addr) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        if let Some(d) = &self.dir {
            let now = [stamp_of(d, "hosts.allow"), stamp_of(d, "hosts.deny")];
            if now != st.1 {
                let (a, sa) = read_stamped(d, "hosts.allow");
                let (b, sb) = read_stamped(d, "hosts.deny");
                *st = (HostsAccess::parse(&a, &b), [sa, sb]);
            }
        }
        st.0.permits(daemon, addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENS: &[&str] = &[
        "ALL",
        "EXCEPT",
        ":",
        ",",
        " ",
        "\n",
        "\\\n",
        "#",
        "10.0.0.",
        "192.168.0.0/24",
        "192.168.0.0/255.255.0.0",
        "1.2.3.4",
        "LOCAL",
        "KNOWN",
        ": deny",
        ": allow",
        ".example.com",
        "@netgroup",
        "/33",
        "in.tftpd",
        "bootserver",
    ];

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    proptest::proptest! {
        /// Built from tokens, with no resolver: a random word would be a host
        /// name, and looking thousands up would only test the resolver.
        #[test]
        fn arbitrary_files_never_panic(
            allow in proptest::collection::vec(proptest::sample::select(TOKENS), 0..30),
            deny in proptest::collection::vec(proptest::sample::select(TOKENS), 0..30),
            a in proptest::prelude::any::<u32>(),
        ) {
            let h = HostsAccess::parse_with(&allow.join(" "), &deny.join(" "), &|_| vec![]);
            let _ = h.permits("in.tftpd", Ipv4Addr::from(a));
        }
    }

    #[test]
    fn host_names_match_their_addresses() {
        let table = |n: &str| {
            if n == "pxeclient" {
                vec![ip("10.0.0.9")]
            } else {
                vec![]
            }
        };
        let h = HostsAccess::parse_with("", "in.tftpd: pxeclient nosuchhost\n", &table);
        assert!(!h.permits("in.tftpd", ip("10.0.0.9")));
        assert!(h.permits("in.tftpd", ip("10.0.0.8")));
    }

    #[test]
    fn live_files_are_reread_when_they_change() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("hosts.deny"), "in.tftpd: 10.0.0.1\n").unwrap();
        let live = LiveHostsAccess::open_dir(d.path());
        assert!(!live.permits("in.tftpd", ip("10.0.0.1")));
        std::fs::write(d.path().join("hosts.allow"), "in.tftpd: 10.0.0.1\n").unwrap();
        assert!(live.permits("in.tftpd", ip("10.0.0.1")));
        std::fs::remove_file(d.path().join("hosts.allow")).unwrap();
        assert!(!live.permits("in.tftpd", ip("10.0.0.1")));
    }

    #[test]
    fn allow_wins_then_deny_then_default_allow() {
        let h = HostsAccess::parse("in.tftpd: 10.0.0.5\n", "ALL: ALL\n");
        assert!(h.permits("in.tftpd", ip("10.0.0.5")));
        assert!(!h.permits("in.tftpd", ip("10.0.0.6")));
        let h = HostsAccess::parse("", "");
        assert!(h.permits("in.tftpd", ip("10.0.0.6")));
    }

    #[test]
    fn networks_prefixes_and_except() {
        let h = HostsAccess::parse(
            "",
            "in.tftpd: 192.168.0.0/255.255.255.0 EXCEPT 192.168.0.7, 10.1.\n",
        );
        assert!(!h.permits("in.tftpd", ip("192.168.0.9")));
        assert!(h.permits("in.tftpd", ip("192.168.0.7")));
        assert!(h.permits("in.tftpd", ip("10.1.2.3")));
        assert!(h.permits("in.tftpd", ip("10.2.2.3")));
        assert!(h.permits("sshd", ip("192.168.0.9")));
        let h = HostsAccess::parse("", "ALL EXCEPT sshd: 172.16.0.0/12\n");
        assert!(!h.permits("in.tftpd", ip("172.20.1.1")));
    }

    #[test]
    fn options_and_unknown_patterns_never_open_access() {
        let h = HostsAccess::parse("in.tftpd: ALL: deny\n", "");
        assert!(!h.permits("in.tftpd", ip("1.2.3.4")));
        let h = HostsAccess::parse("in.tftpd: .example.com\n", "in.tftpd: .example.com\n");
        assert!(!h.permits("in.tftpd", ip("1.2.3.4")));
        let h = HostsAccess::parse("", "in.tftpd: localhost\n");
        assert!(!h.permits("in.tftpd", ip("127.0.0.1")));
    }
}
