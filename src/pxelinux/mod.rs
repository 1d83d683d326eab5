//! pxelinux tooling: the config file search order a client follows (reference
//! P-CFG) and the pxelinux.cfg parser with its keyword table (P-KW), used by
//! the lab to explain a boot and by the chain checker.

pub mod config;

use std::net::Ipv4Addr;

/// The files pxelinux 6 asks for, in order, before it finds a config
/// (reference P-CFG): UUID (if any), `01-<mac>` in lower case, the client IP
/// in upper-case hex shortened one digit at a time, then `default`.
pub fn config_search_order(mac: [u8; 6], ip: Ipv4Addr, uuid: Option<&str>) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(u) = uuid {
        names.push(format!("pxelinux.cfg/{}", u.to_ascii_lowercase()));
    }
    let mac_s: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    names.push(format!("pxelinux.cfg/01-{}", mac_s.join("-")));
    let hex = format!("{:08X}", u32::from(ip));
    for n in (1..=8).rev() {
        names.push(format!("pxelinux.cfg/{}", &hex[..n]));
    }
    names.push("pxelinux.cfg/default".to_string());
    names
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with dashes).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        mac[i] = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P-CFG: the seed's own example, 88:99:AA:BB:CC:DD at 192.168.1.195.
    #[test]
    fn seed_search_order_p_cfg() {
        let mac = parse_mac("88:99:AA:BB:CC:DD").unwrap();
        let got = config_search_order(mac, Ipv4Addr::new(192, 168, 1, 195), None);
        let want = [
            "01-88-99-aa-bb-cc-dd",
            "C0A801C3",
            "C0A801C",
            "C0A801",
            "C0A80",
            "C0A8",
            "C0A",
            "C0",
            "C",
            "default",
        ];
        let want: Vec<String> = want.iter().map(|w| format!("pxelinux.cfg/{w}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rejects_bad_macs() {
        assert!(parse_mac("88:99:AA:BB:CC").is_none());
        assert!(parse_mac("88:99:AA:BB:CC:GG").is_none());
        assert!(parse_mac("888:99:AA:BB:CC:DD").is_none());
    }
}
