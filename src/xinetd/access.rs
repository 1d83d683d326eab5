//! Address and time access control: `only_from`, `no_access` (X-ACC-1) and
//! `access_times`. Patterns are parsed once at load; matching is pure.
//! tcp_wrappers lives in `wrappers`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// One entry of an address list, as xinetd.conf(5) describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrPattern {
    /// An address and prefix length (dotted quads with trailing zero parts
    /// become prefixes: `10.77.0.0` = 10.77/16; `0.0.0.0` = everything).
    Net(IpAddr, u8),
    /// `a.b.c.{x,y,z}`: any of the listed last parts under a fixed prefix.
    Factorized(Vec<Ipv4Addr>),
    /// A host name, resolved when the list was loaded.
    Host(String, Vec<IpAddr>),
    /// A `.domain` suffix: needs a reverse lookup of the peer, which we do not do.
    Domain(String),
}

impl AddrPattern {
    /// Parses one word of an `only_from`/`no_access` list; the caller logs
    /// xinetd's `Failed adding: %s` on Err.
    #[allow(clippy::result_unit_err)]
    pub fn parse(word: &str) -> Result<AddrPattern, ()> {
        if word.contains(',') && !word.contains('{') {
            return Err(());
        }
        if let Some(open) = word.find('{') {
            let prefix = word[..open].trim_end_matches('.');
            let close = word.rfind('}').ok_or(())?;
            let head: Vec<u8> = prefix
                .split('.')
                .map(|p| p.parse::<u8>().map_err(|_| ()))
                .collect::<Result<_, _>>()?;
            if head.is_empty() || head.len() > 3 {
                return Err(());
            }
            let mut out = Vec::new();
            for part in word[open + 1..close].split(',') {
                let mut octets = head.clone();
                for p in part.trim().split('.') {
                    octets.push(p.parse::<u8>().map_err(|_| ())?);
                }
                while octets.len() < 4 {
                    octets.push(0);
                }
                if octets.len() != 4 {
                    return Err(());
                }
                out.push(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]));
            }
            return Ok(AddrPattern::Factorized(out));
        }
        if let Some((addr, len)) = word.split_once('/') {
            let ip: IpAddr = addr.parse().map_err(|_| ())?;
            let len: u8 = len.parse().map_err(|_| ())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if len > max {
                return Err(());
            }
            return Ok(AddrPattern::Net(ip, len));
        }
        if let Ok(v6) = word.parse::<Ipv6Addr>() {
            return Ok(AddrPattern::Net(IpAddr::V6(v6), 128));
        }
        if word.chars().all(|c| c.is_ascii_digit() || c == '.') {
            let parts: Vec<u8> = word
                .split('.')
                .map(|p| p.parse::<u8>().map_err(|_| ()))
                .collect::<Result<_, _>>()?;
            if parts.is_empty() || parts.len() > 4 {
                return Err(());
            }
            // Trailing zero parts are wildcards (xinetd.conf(5)).
            let mut octets = parts.clone();
            octets.resize(4, 0);
            let significant = octets
                .iter()
                .rposition(|&o| o != 0)
                .map(|i| i + 1)
                .unwrap_or(0);
            let ip = Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]);
            return Ok(AddrPattern::Net(IpAddr::V4(ip), (significant * 8) as u8));
        }
        if let Some(domain) = word.strip_prefix('.') {
            return Ok(AddrPattern::Domain(domain.to_ascii_lowercase()));
        }
        let addrs: Vec<IpAddr> = (word, 0u16)
            .to_socket_addrs()
            .map(|it| it.map(|sa| sa.ip()).collect())
            .unwrap_or_default();
        if addrs.is_empty() {
            return Err(());
        }
        Ok(AddrPattern::Host(word.to_string(), addrs))
    }

    /// True if the peer address is covered. IPv4 patterns also cover
    /// IPv4-mapped IPv6 peers (a dual-stack socket sees `::ffff:a.b.c.d`).
    pub fn matches(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        match self {
            AddrPattern::Net(net, len) => in_net(peer, canonical(*net), *len),
            AddrPattern::Factorized(list) => list.iter().any(|a| IpAddr::V4(*a) == peer),
            AddrPattern::Host(_, addrs) => addrs.iter().any(|a| canonical(*a) == peer),
            AddrPattern::Domain(_) => false,
        }
    }

    pub fn text(&self) -> String {
        match self {
            AddrPattern::Net(ip, len) => format!("{ip}/{len}"),
            AddrPattern::Factorized(l) => l
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
            AddrPattern::Host(n, _) => n.clone(),
            AddrPattern::Domain(d) => format!(".{d}"),
        }
    }
}

/// An IPv4-mapped IPv6 address as plain IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn in_net(peer: IpAddr, net: IpAddr, len: u8) -> bool {
    match (peer, net) {
        (IpAddr::V4(p), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len.min(32))
            };
            u32::from(p) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(p), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len.min(128))
            };
            u128::from(p) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The verdict of the address check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrVerdict {
    Allowed,
    Denied,
    /// Both lists matched: 2.3.14 denies and logs it (X-ACC-1).
    DeniedBothMatch,
}

/// X-ACC-1: deny if in `no_access`; deny unless in `only_from` when it is set;
/// when both match, deny (2.3.14 does not pick the better match).
pub fn check_address(
    only_from: Option<&[AddrPattern]>,
    no_access: &[AddrPattern],
    peer: IpAddr,
) -> AddrVerdict {
    let denied = no_access.iter().any(|p| p.matches(peer));
    let allowed = only_from.map(|l| l.iter().any(|p| p.matches(peer)));
    match (denied, allowed) {
        (true, Some(true)) => AddrVerdict::DeniedBothMatch,
        (true, _) => AddrVerdict::Denied,
        (false, Some(false)) => AddrVerdict::Denied,
        _ => AddrVerdict::Allowed,
    }
}

/// `hh:mm-hh:mm`, minutes since midnight, bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: u16,
    pub to: u16,
}

impl TimeRange {
    pub fn parse(word: &str) -> Option<TimeRange> {
        let (a, b) = word.split_once('-')?;
        Some(TimeRange {
            from: hhmm(a)?,
            to: hhmm(b)?,
        })
    }

    pub fn contains(&self, minute: u16) -> bool {
        if self.from <= self.to {
            (self.from..=self.to).contains(&minute)
        } else {
            minute >= self.from || minute <= self.to
        }
    }

    pub fn text(&self) -> String {
        format!(
            "{}:{:02}-{}:{:02}",
            self.from / 60,
            self.from % 60,
            self.to / 60,
            self.to % 60
        )
    }
}

fn hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// True when `minute` (local time of day) falls in one of the ranges, or there are none.
pub fn check_time(ranges: &[TimeRange], minute: u16) -> bool {
    ranges.is_empty() || ranges.iter().any(|r| r.contains(minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn trailing_zero_parts_are_wildcards() {
        let p = AddrPattern::parse("10.77.0.0").unwrap();
        assert!(p.matches(ip("10.77.3.4")));
        assert!(!p.matches(ip("10.78.0.1")));
        let all = AddrPattern::parse("0.0.0.0").unwrap();
        assert!(all.matches(ip("1.2.3.4")));
        assert!(all.matches(ip("::ffff:1.2.3.4")));
        let host = AddrPattern::parse("10.0.0.1").unwrap();
        assert!(host.matches(ip("10.0.0.1")) && !host.matches(ip("10.0.0.2")));
    }

    #[test]
    fn cidr_factorized_and_v6() {
        assert!(AddrPattern::parse("192.168.0.0/23")
            .unwrap()
            .matches(ip("192.168.1.9")));
        let f = AddrPattern::parse("128.138.{193,194}").unwrap();
        assert!(f.matches(ip("128.138.193.0")));
        let f = AddrPattern::parse("10.0.0.{5,6}").unwrap();
        assert!(f.matches(ip("::ffff:10.0.0.6")) && !f.matches(ip("10.0.0.7")));
        assert!(AddrPattern::parse("fe80::/10")
            .unwrap()
            .matches(ip("fe80::1")));
        assert!(AddrPattern::parse("1.2,3.4").is_err());
    }

    #[test]
    fn both_lists_matching_denies() {
        let only = vec![AddrPattern::parse("10.0.0.0").unwrap()];
        let no = vec![AddrPattern::parse("10.0.0.5").unwrap()];
        assert_eq!(
            check_address(Some(&only), &no, ip("10.0.0.5")),
            AddrVerdict::DeniedBothMatch
        );
        assert_eq!(
            check_address(Some(&only), &no, ip("10.0.0.6")),
            AddrVerdict::Allowed
        );
        assert_eq!(
            check_address(Some(&only), &no, ip("11.0.0.6")),
            AddrVerdict::Denied
        );
        assert_eq!(
            check_address(Some(&[]), &[], ip("11.0.0.6")),
            AddrVerdict::Denied
        );
        assert_eq!(
            check_address(None, &[], ip("11.0.0.6")),
            AddrVerdict::Allowed
        );
    }

    #[test]
    fn time_ranges_are_inclusive_and_wrap() {
        let r = TimeRange::parse("08:00-17:30").unwrap();
        assert!(r.contains(8 * 60) && r.contains(17 * 60 + 30) && !r.contains(17 * 60 + 31));
        let w = TimeRange::parse("22:00-2:00").unwrap();
        assert!(w.contains(23 * 60) && w.contains(60) && !w.contains(12 * 60));
        assert!(TimeRange::parse("25:00-1:00").is_none());
    }
}
