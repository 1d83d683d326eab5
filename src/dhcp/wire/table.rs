//! The standard DHCP option codes with the names and value types dhcpd.conf
//! uses for them (dhcp-options(5) of ISC 4.4; codes and layouts from RFC 2132
//! and the later RFCs that assign them). The names and codes are checked
//! against ISC's own table by the `option_table_agrees_with_isc` test. The
//! configuration model looks names up here to parse `option NAME VALUE;` and
//! the server uses the types to check what it is about to send.
//!
//! Site-local spaces (`option space pxelinux;`, codes 128–254 declared with
//! `option NAME code N = TYPE;`) belong to the configuration, not here.

/// One element of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atom {
    /// `ip-address`: 4 bytes.
    IpAddress,
    /// `ip6-address`: 16 bytes (inside option-6rd).
    Ip6Address,
    /// `unsigned integer 8`.
    Uint8,
    /// `unsigned integer 16`.
    Uint16,
    /// `unsigned integer 32`.
    Uint32,
    /// `signed integer 32`.
    Int32,
    /// `boolean`: one byte, 0 or 1.
    Boolean,
    /// `text`: the rest of the option, NVT ASCII without a trailing NUL.
    Text,
    /// `string`: the rest of the option, any bytes (written as a quoted
    /// string or colon-separated hex).
    String,
    /// `domain-name`: one name in DNS wire format, uncompressed.
    DomainName,
    /// `domain-list`: names in DNS wire format, with compression (RFC 3397).
    DomainList,
}

impl Atom {
    /// Fixed wire size, or None for the variable-length rest-of-option atoms.
    pub fn size(self) -> Option<usize> {
        match self {
            Atom::Ip6Address => Some(16),
            Atom::IpAddress | Atom::Uint32 | Atom::Int32 => Some(4),
            Atom::Uint16 => Some(2),
            Atom::Uint8 | Atom::Boolean => Some(1),
            Atom::Text | Atom::String | Atom::DomainName | Atom::DomainList => None,
        }
    }
}

/// The value type of an option, in dhcp-options(5)'s vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    /// One of an atom (`ip-address`, `uint8`, `text`, …).
    One(Atom),
    /// One or more of a fixed-size atom (`ip-address [, ip-address…]`).
    Array(Atom),
    /// One or more pairs of addresses (policy filters, static routes).
    IpAddressPairs,
    /// A fixed sequence of atoms, the last of which may be variable
    /// (`uint8 uint8 uint8` for option 94, `uint8 string` for option 97).
    Record(&'static [Atom]),
    /// A fixed sequence of atoms, then one or more of another
    /// (`boolean` then addresses for option 78).
    RecordThenArray(&'static [Atom], Atom),
    /// Sub-options of another option space (43, 63, 81, 82, 124, 125).
    Encapsulated,
}

impl OptionType {
    /// Whether a value of `len` bytes can be of this type. Variable atoms
    /// are not parsed here, only counted as "any length".
    pub fn valid_length(self, len: usize) -> bool {
        fn fixed(atoms: &[Atom]) -> (usize, bool) {
            let n = atoms.iter().filter_map(|a| a.size()).sum();
            (n, atoms.iter().any(|a| a.size().is_none()))
        }
        match self {
            OptionType::One(a) => a.size().is_none_or(|n| n == len),
            OptionType::Array(a) => match a.size() {
                Some(n) => len >= n && len.is_multiple_of(n),
                None => len > 0,
            },
            OptionType::IpAddressPairs => len >= 8 && len.is_multiple_of(8),
            OptionType::Record(atoms) => match fixed(atoms) {
                (n, true) => len >= n,
                (n, false) => len == n,
            },
            OptionType::RecordThenArray(atoms, each) => {
                let (n, _) = fixed(atoms);
                let m = each.size().unwrap_or(1);
                len >= n + m && (len - n).is_multiple_of(m)
            }
            OptionType::Encapsulated => true,
        }
    }
}

/// A standard option: its code, its dhcpd.conf name and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDef {
    pub code: u8,
    pub name: &'static str,
    pub ty: OptionType,
}

use Atom::*;
use OptionType::*;

const fn def(code: u8, name: &'static str, ty: OptionType) -> OptionDef {
    OptionDef { code, name, ty }
}

/// The standard options of the `dhcp` space, by code.
pub static STANDARD: &[OptionDef] = &[
    def(1, "subnet-mask", One(IpAddress)),
    def(2, "time-offset", One(Int32)),
    def(3, "routers", Array(IpAddress)),
    def(4, "time-servers", Array(IpAddress)),
    def(5, "ien116-name-servers", Array(IpAddress)),
    def(6, "domain-name-servers", Array(IpAddress)),
    def(7, "log-servers", Array(IpAddress)),
    def(8, "cookie-servers", Array(IpAddress)),
    def(9, "lpr-servers", Array(IpAddress)),
    def(10, "impress-servers", Array(IpAddress)),
    def(11, "resource-location-servers", Array(IpAddress)),
    def(12, "host-name", One(Text)),
    def(13, "boot-size", One(Uint16)),
    def(14, "merit-dump", One(Text)),
    def(15, "domain-name", One(Text)),
    def(16, "swap-server", One(IpAddress)),
    def(17, "root-path", One(Text)),
    def(18, "extensions-path", One(Text)),
    def(19, "ip-forwarding", One(Boolean)),
    def(20, "non-local-source-routing", One(Boolean)),
    def(21, "policy-filter", IpAddressPairs),
    def(22, "max-dgram-reassembly", One(Uint16)),
    def(23, "default-ip-ttl", One(Uint8)),
    def(24, "path-mtu-aging-timeout", One(Uint32)),
    def(25, "path-mtu-plateau-table", Array(Uint16)),
    def(26, "interface-mtu", One(Uint16)),
    def(27, "all-subnets-local", One(Boolean)),
    def(28, "broadcast-address", One(IpAddress)),
    def(29, "perform-mask-discovery", One(Boolean)),
    def(30, "mask-supplier", One(Boolean)),
    def(31, "router-discovery", One(Boolean)),
    def(32, "router-solicitation-address", One(IpAddress)),
    def(33, "static-routes", IpAddressPairs),
    def(34, "trailer-encapsulation", One(Boolean)),
    def(35, "arp-cache-timeout", One(Uint32)),
    def(36, "ieee802-3-encapsulation", One(Boolean)),
    def(37, "default-tcp-ttl", One(Uint8)),
    def(38, "tcp-keepalive-interval", One(Uint32)),
    def(39, "tcp-keepalive-garbage", One(Boolean)),
    def(40, "nis-domain", One(Text)),
    def(41, "nis-servers", Array(IpAddress)),
    def(42, "ntp-servers", Array(IpAddress)),
    def(43, "vendor-encapsulated-options", Encapsulated),
    def(44, "netbios-name-servers", Array(IpAddress)),
    def(45, "netbios-dd-server", Array(IpAddress)),
    def(46, "netbios-node-type", One(Uint8)),
    def(47, "netbios-scope", One(Text)),
    def(48, "font-servers", Array(IpAddress)),
    def(49, "x-display-manager", Array(IpAddress)),
    def(50, "dhcp-requested-address", One(IpAddress)),
    def(51, "dhcp-lease-time", One(Uint32)),
    def(52, "dhcp-option-overload", One(Uint8)),
    def(53, "dhcp-message-type", One(Uint8)),
    def(54, "dhcp-server-identifier", One(IpAddress)),
    def(55, "dhcp-parameter-request-list", Array(Uint8)),
    def(56, "dhcp-message", One(Text)),
    def(57, "dhcp-max-message-size", One(Uint16)),
    def(58, "dhcp-renewal-time", One(Uint32)),
    def(59, "dhcp-rebinding-time", One(Uint32)),
    def(60, "vendor-class-identifier", One(String)),
    def(61, "dhcp-client-identifier", One(String)),
    def(62, "nwip-domain", One(String)),
    def(63, "nwip-suboptions", Encapsulated),
    def(64, "nisplus-domain", One(Text)),
    def(65, "nisplus-servers", Array(IpAddress)),
    def(66, "tftp-server-name", One(Text)),
    def(67, "bootfile-name", One(Text)),
    def(68, "mobile-ip-home-agent", Array(IpAddress)),
    def(69, "smtp-server", Array(IpAddress)),
    def(70, "pop-server", Array(IpAddress)),
    def(71, "nntp-server", Array(IpAddress)),
    def(72, "www-server", Array(IpAddress)),
    def(73, "finger-server", Array(IpAddress)),
    def(74, "irc-server", Array(IpAddress)),
    def(75, "streettalk-server", Array(IpAddress)),
    def(
        76,
        "streettalk-directory-assistance-server",
        Array(IpAddress),
    ),
    def(77, "user-class", One(String)),
    def(
        78,
        "slp-directory-agent",
        RecordThenArray(&[Boolean], IpAddress),
    ),
    def(79, "slp-service-scope", Record(&[Boolean, Text])),
    def(81, "fqdn", Encapsulated),
    def(82, "relay-agent-information", Encapsulated),
    def(85, "nds-servers", Array(IpAddress)),
    def(86, "nds-tree-name", One(Text)),
    def(87, "nds-context", One(Text)),
    def(88, "bcms-controller-names", One(DomainList)),
    def(89, "bcms-controller-address", Array(IpAddress)),
    def(91, "client-last-transaction-time", One(Uint32)),
    def(92, "associated-ip", Array(IpAddress)),
    // 93, 94 and 97 (RFC 4578) are predefined from ISC 4.x on; 3.0.5
    // configurations declare them themselves (`option arch code 93 = …`).
    def(93, "pxe-system-type", Array(Uint16)),
    def(94, "pxe-interface-id", Record(&[Uint8, Uint8, Uint8])),
    def(97, "pxe-client-id", Record(&[Uint8, String])),
    def(98, "uap-servers", One(Text)),
    def(99, "geoconf-civic", One(String)),
    def(100, "pcode", One(Text)),
    def(101, "tcode", One(Text)),
    def(108, "v6-only-preferred", One(Uint32)),
    def(112, "netinfo-server-address", Array(IpAddress)),
    def(113, "netinfo-server-tag", One(Text)),
    def(114, "default-url", One(Text)),
    def(116, "auto-config", One(Uint8)),
    def(117, "name-service-search", Array(Uint16)),
    def(118, "subnet-selection", One(IpAddress)),
    def(119, "domain-search", One(DomainList)),
    def(124, "vivco", Encapsulated),
    def(125, "vivso", Encapsulated),
    def(136, "pana-agent", Array(IpAddress)),
    def(137, "v4-lost", One(DomainName)),
    def(138, "capwap-ac-v4", Array(IpAddress)),
    def(141, "sip-ua-cs-domains", One(DomainList)),
    def(142, "ipv4-address-andsf", Array(IpAddress)),
    def(
        146,
        "rdnss-selection",
        Record(&[Uint8, IpAddress, IpAddress, DomainList]),
    ),
    def(150, "tftp-server-address", Array(IpAddress)),
    def(159, "v4-portparams", Record(&[Uint8, Uint8, Uint16])),
    def(160, "v4-captive-portal", One(Text)),
    // RFC 5071's PXELINUX options under the names ISC 4.x gives them in the
    // `dhcp` space; 3.0.5 configurations declare their own `pxelinux` space.
    def(209, "loader-configfile", One(Text)),
    def(210, "loader-pathprefix", One(Text)),
    def(211, "loader-reboottime", One(Uint32)),
    def(
        212,
        "option-6rd",
        RecordThenArray(&[Uint8, Uint8, Ip6Address], IpAddress),
    ),
    def(213, "v4-access-domain", One(DomainName)),
];

/// The standard option with this code.
pub fn by_code(code: u8) -> Option<&'static OptionDef> {
    STANDARD.iter().find(|d| d.code == code)
}

/// The standard option with this dhcpd.conf name (names are case-insensitive
/// in dhcpd.conf, as every keyword is).
pub fn by_name(name: &str) -> Option<&'static OptionDef> {
    STANDARD.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_sorted() {
        for w in STANDARD.windows(2) {
            assert!(w[0].code < w[1].code, "{} then {}", w[0].code, w[1].code);
        }
        let mut names: Vec<_> = STANDARD.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STANDARD.len());
    }

    #[test]
    fn finds_the_seed_options() {
        assert_eq!(by_name("routers").map(|d| d.code), Some(3));
        assert_eq!(by_name("Domain-Name-Servers").map(|d| d.code), Some(6));
        assert_eq!(
            by_name("broadcast-address").map(|d| d.ty),
            Some(One(IpAddress))
        );
        assert_eq!(by_code(67).map(|d| d.name), Some("bootfile-name"));
        assert_eq!(by_code(200), None);
    }

    #[test]
    fn checks_value_lengths() {
        assert!(One(IpAddress).valid_length(4));
        assert!(!One(IpAddress).valid_length(8));
        assert!(Array(IpAddress).valid_length(8));
        assert!(!Array(IpAddress).valid_length(0));
        assert!(!Array(Uint16).valid_length(3));
        assert!(One(Text).valid_length(0));
        assert!(IpAddressPairs.valid_length(16));
        assert!(!IpAddressPairs.valid_length(12));
        assert!(Record(&[Uint8, Uint8, Uint8]).valid_length(3));
        assert!(!Record(&[Uint8, Uint8, Uint8]).valid_length(4));
        assert!(Record(&[Uint8, String]).valid_length(17));
        assert!(RecordThenArray(&[Boolean], IpAddress).valid_length(9));
        assert!(!RecordThenArray(&[Boolean], IpAddress).valid_length(1));
        assert!(RecordThenArray(&[Uint8, Uint8, Ip6Address], IpAddress).valid_length(22));
    }
}
