//! The option table: the standard DHCP options of dhcp-options(5) built in,
//! the relay-agent and FQDN sub-option spaces, the server parameters of
//! dhcpd.conf(5) with their value types, and room for user definitions and
//! spaces (`option space`, `option NAME code N = TYPE`).

use std::collections::BTreeMap;

/// One field type of an option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    Ip,
    Ip6,
    U8,
    U16,
    U32,
    I8,
    I16,
    I32,
    Bool,
    /// Text: NVT ASCII, written as a quoted string.
    Text,
    /// Opaque data: a quoted string or colon-separated hex bytes.
    Data,
    DomainName,
    DomainList {
        compressed: bool,
    },
    /// Sub-options of another space, written as data.
    Encapsulate(String),
}

/// The type of an option value: a record of atoms, possibly repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionType {
    pub record: Vec<Atom>,
    /// `array of`: the record repeats, separated by commas.
    pub array: bool,
}

impl OptionType {
    fn parse(spec: &str) -> OptionType {
        let (body, array) = match spec.strip_suffix('*') {
            Some(b) => (b, true),
            None => (spec, false),
        };
        let body = body.trim_start_matches('{').trim_end_matches('}');
        let record = body.split(',').map(atom_from_spec).collect();
        OptionType { record, array }
    }

    /// The ISC-style name of the type, for messages and the summary.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.record.iter().map(atom_name).collect();
        let inner = if names.len() == 1 {
            names[0].clone()
        } else {
            format!("{{ {} }}", names.join(", "))
        };
        if self.array {
            format!("array of {inner}")
        } else {
            inner
        }
    }
}

fn atom_from_spec(s: &str) -> Atom {
    match s {
        "ip" => Atom::Ip,
        "ip6" => Atom::Ip6,
        "u8" => Atom::U8,
        "u16" => Atom::U16,
        "u32" => Atom::U32,
        "i8" => Atom::I8,
        "i16" => Atom::I16,
        "i32" => Atom::I32,
        "bool" => Atom::Bool,
        "text" => Atom::Text,
        "dn" => Atom::DomainName,
        "dl" => Atom::DomainList { compressed: false },
        "dlc" => Atom::DomainList { compressed: true },
        s if s.starts_with("enc:") => Atom::Encapsulate(s[4..].to_string()),
        _ => Atom::Data,
    }
}

pub fn atom_name(a: &Atom) -> String {
    match a {
        Atom::Ip => "ip-address".into(),
        Atom::Ip6 => "ip6-address".into(),
        Atom::U8 => "unsigned integer 8".into(),
        Atom::U16 => "unsigned integer 16".into(),
        Atom::U32 => "unsigned integer 32".into(),
        Atom::I8 => "signed integer 8".into(),
        Atom::I16 => "signed integer 16".into(),
        Atom::I32 => "signed integer 32".into(),
        Atom::Bool => "boolean".into(),
        Atom::Text => "text".into(),
        Atom::Data => "string".into(),
        Atom::DomainName => "domain-name".into(),
        Atom::DomainList { compressed: false } => "domain-list".into(),
        Atom::DomainList { compressed: true } => "domain-list compressed".into(),
        Atom::Encapsulate(s) => format!("encapsulate {s}"),
    }
}

/// An option known by name and code in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDef {
    pub space: String,
    pub name: String,
    pub code: u32,
    pub ty: OptionType,
    /// Defined in the configuration rather than built in.
    pub user: bool,
}

/// An option space (`dhcp`, `agent`, `fqdn`, or a user's `option space`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionSpace {
    pub name: String,
    pub by_name: BTreeMap<String, OptionDef>,
    pub by_code: BTreeMap<u32, String>,
    /// `code width` and `length width` of 4.x (1 when not given).
    pub code_width: u8,
    pub length_width: u8,
}

/// Every space and option the configuration can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionTable {
    pub spaces: BTreeMap<String, OptionSpace>,
}

// dhcp-options(5) of ISC dhcpd 4.4: code, name, type. `*` = array of.
const DHCP: &[(u32, &str, &str)] = &[
    (1, "subnet-mask", "ip"),
    (2, "time-offset", "i32"),
    (3, "routers", "ip*"),
    (4, "time-servers", "ip*"),
    (5, "ien116-name-servers", "ip*"),
    (6, "domain-name-servers", "ip*"),
    (7, "log-servers", "ip*"),
    (8, "cookie-servers", "ip*"),
    (9, "lpr-servers", "ip*"),
    (10, "impress-servers", "ip*"),
    (11, "resource-location-servers", "ip*"),
    (12, "host-name", "text"),
    (13, "boot-size", "u16"),
    (14, "merit-dump", "text"),
    (15, "domain-name", "text"),
    (16, "swap-server", "ip"),
    (17, "root-path", "text"),
    (18, "extensions-path", "text"),
    (19, "ip-forwarding", "bool"),
    (20, "non-local-source-routing", "bool"),
    (21, "policy-filter", "{ip,ip}*"),
    (22, "max-dgram-reassembly", "u16"),
    (23, "default-ip-ttl", "u8"),
    (24, "path-mtu-aging-timeout", "u32"),
    (25, "path-mtu-plateau-table", "u16*"),
    (26, "interface-mtu", "u16"),
    (27, "all-subnets-local", "bool"),
    (28, "broadcast-address", "ip"),
    (29, "perform-mask-discovery", "bool"),
    (30, "mask-supplier", "bool"),
    (31, "router-discovery", "bool"),
    (32, "router-solicitation-address", "ip"),
    (33, "static-routes", "{ip,ip}*"),
    (34, "trailer-encapsulation", "bool"),
    (35, "arp-cache-timeout", "u32"),
    (36, "ieee802-3-encapsulation", "bool"),
    (37, "default-tcp-ttl", "u8"),
    (38, "tcp-keepalive-interval", "u32"),
    (39, "tcp-keepalive-garbage", "bool"),
    (40, "nis-domain", "text"),
    (41, "nis-servers", "ip*"),
    (42, "ntp-servers", "ip*"),
    (43, "vendor-encapsulated-options", "data"),
    (44, "netbios-name-servers", "ip*"),
    (45, "netbios-dd-server", "ip*"),
    (46, "netbios-node-type", "u8"),
    (47, "netbios-scope", "text"),
    (48, "font-servers", "ip*"),
    (49, "x-display-manager", "ip*"),
    (50, "dhcp-requested-address", "ip"),
    (51, "dhcp-lease-time", "u32"),
    (52, "dhcp-option-overload", "u8"),
    (53, "dhcp-message-type", "u8"),
    (54, "dhcp-server-identifier", "ip"),
    (55, "dhcp-parameter-request-list", "u8*"),
    (56, "dhcp-message", "text"),
    (57, "dhcp-max-message-size", "u16"),
    (58, "dhcp-renewal-time", "u32"),
    (59, "dhcp-rebinding-time", "u32"),
    (60, "vendor-class-identifier", "data"),
    (61, "dhcp-client-identifier", "data"),
    (62, "nwip-domain", "data"),
    (63, "nwip-suboptions", "data"),
    (64, "nisplus-domain", "text"),
    (65, "nisplus-servers", "ip*"),
    (66, "tftp-server-name", "text"),
    (67, "bootfile-name", "text"),
    (68, "mobile-ip-home-agent", "ip*"),
    (69, "smtp-server", "ip*"),
    (70, "pop-server", "ip*"),
    (71, "nntp-server", "ip*"),
    (72, "www-server", "ip*"),
    (73, "finger-server", "ip*"),
    (74, "irc-server", "ip*"),
    (75, "streettalk-server", "ip*"),
    (76, "streettalk-directory-assistance-server", "ip*"),
    (77, "user-class", "text"),
    (78, "slp-directory-agent", "{bool,ip}*"),
    (79, "slp-service-scope", "{bool,text}"),
    (81, "fqdn", "enc:fqdn"),
    (82, "relay-agent-information", "enc:agent"),
    (85, "nds-servers", "ip*"),
    (86, "nds-tree-name", "text"),
    (87, "nds-context", "text"),
    (88, "bcms-controller-names", "dl"),
    (89, "bcms-controller-address", "ip*"),
    (90, "authenticate", "data"),
    (91, "client-last-transaction-time", "u32"),
    (92, "associated-ip", "ip*"),
    (93, "pxe-system-type", "u16*"),
    (94, "pxe-interface-id", "{u8,u8,u8}"),
    (97, "pxe-client-id", "{u8,data}"),
    (98, "uap-servers", "text"),
    (99, "geoconf-civic", "data"),
    (100, "pcode", "text"),
    (101, "tcode", "text"),
    (112, "netinfo-server-address", "ip*"),
    (113, "netinfo-server-tag", "text"),
    (114, "default-url", "text"),
    (116, "auto-config", "u8"),
    (117, "name-service-search", "u16*"),
    (118, "subnet-selection", "ip"),
    (119, "domain-search", "dlc"),
    (124, "vivco", "data"),
    (125, "vivso", "data"),
    (136, "pana-agent", "ip*"),
    (137, "v4-lost", "dn"),
    (138, "capwap-ac-v4", "ip*"),
    (141, "sip-ua-cs-domains", "dlc"),
    (212, "option-6rd", "{u8,u8,ip6,ip}"),
    (213, "v4-access-domain", "dn"),
];

// The relay agent information sub-options (RFC 3046 and later).
const AGENT: &[(u32, &str, &str)] = &[
    (1, "circuit-id", "data"),
    (2, "remote-id", "data"),
    (4, "agent-id", "ip"),
    (5, "link-selection", "ip"),
    (6, "subscriber-id", "data"),
    (9, "vendor-specific", "data"),
    (11, "server-id-override", "ip"),
];

// The client FQDN sub-options (RFC 4702 as ISC splits it).
const FQDN: &[(u32, &str, &str)] = &[
    (1, "no-client-update", "bool"),
    (2, "server-update", "bool"),
    (3, "encoded", "bool"),
    (4, "rcode1", "u8"),
    (5, "rcode2", "u8"),
    (6, "hostname", "text"),
    (7, "domainname", "text"),
    (8, "fqdn", "dn"),
];

impl Default for OptionTable {
    fn default() -> Self {
        let mut t = OptionTable {
            spaces: BTreeMap::new(),
        };
        for (space, list) in [("dhcp", DHCP), ("agent", AGENT), ("fqdn", FQDN)] {
            t.add_space(space);
            for &(code, name, spec) in list {
                t.define(space, name, code, OptionType::parse(spec), false);
            }
        }
        // The PXE vendor space and vendor-class spaces exist empty, as in ISC.
        t.add_space("vendor-class");
        t.add_space("vendor");
        t
    }
}

impl OptionTable {
    pub fn add_space(&mut self, name: &str) -> bool {
        if self.spaces.contains_key(name) {
            return false;
        }
        self.spaces.insert(
            name.to_string(),
            OptionSpace {
                name: name.to_string(),
                code_width: 1,
                length_width: 1,
                ..Default::default()
            },
        );
        true
    }

    /// Adds or replaces a definition (a later definition of the same name wins, as in ISC).
    pub fn define(&mut self, space: &str, name: &str, code: u32, ty: OptionType, user: bool) {
        let Some(sp) = self.spaces.get_mut(space) else {
            return;
        };
        if let Some(old) = sp.by_name.remove(name) {
            sp.by_code.remove(&old.code);
        }
        sp.by_code.insert(code, name.to_string());
        sp.by_name.insert(
            name.to_string(),
            OptionDef {
                space: space.to_string(),
                name: name.to_string(),
                code,
                ty,
                user,
            },
        );
    }

    /// Looks up `name` or `space.name` (the space defaults to `dhcp`).
    pub fn lookup(&self, qualified: &str) -> Lookup<'_> {
        let (space, name) = split_name(qualified);
        match self.spaces.get(&space) {
            None => Lookup::NoSpace(space),
            Some(sp) => match sp.by_name.get(&name) {
                Some(d) => Lookup::Found(d),
                None => Lookup::NoOption(space, name),
            },
        }
    }

    pub fn by_code(&self, space: &str, code: u32) -> Option<&OptionDef> {
        let sp = self.spaces.get(space)?;
        sp.by_name.get(sp.by_code.get(&code)?)
    }
}

/// What a name lookup found.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a OptionDef),
    NoSpace(String),
    NoOption(String, String),
}

/// `space.name` → (space, name); a bare name is in `dhcp`. Names are case-insensitive.
pub fn split_name(q: &str) -> (String, String) {
    let q = q.to_ascii_lowercase();
    match q.split_once('.') {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => ("dhcp".to_string(), q),
    }
}

/// The value type of a server parameter (dhcpd.conf(5) "parameters").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// No value: `authoritative;`.
    Flag,
    Bool,
    U8,
    U16,
    U32,
    /// A quoted string (or a bare name, which ISC also takes).
    Text,
    /// An address or a host name.
    IpOrHost,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// An option space name.
    Space,
    /// A key name.
    KeyName,
    /// A date (`W YYYY/MM/DD HH:MM:SS` or `never`).
    Date,
    /// Anything ISC takes as a data expression (`ddns-hostname = ...`).
    Expr,
}

const DDNS_STYLES: &[&str] = &["none", "ad-hoc", "interim", "standard"];
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const TIME_FORMATS: &[&str] = &["default", "local"];
const ID_FORMATS: &[&str] = &["octal", "hex"];

/// Whether pxesuite acts on a parameter yet; parameters that parse but do
/// nothing are named by `--check-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Implemented,
    /// Parsed and kept in the model; the server does not act on it yet.
    NotYet,
}

/// The server parameters dhcpd.conf(5) documents, with their types.
pub fn param_type(name: &str) -> Option<(ParamType, Support)> {
    use ParamType::*;
    use Support::*;
    Some(match name {
        "authoritative" => (Flag, Implemented),
        "default-lease-time" | "max-lease-time" | "min-lease-time" => (U32, Implemented),
        "dynamic-bootp-lease-length" => (U32, Implemented),
        "dynamic-bootp-lease-cutoff" => (Date, Implemented),
        "filename" | "server-name" => (Text, Implemented),
        "next-server" => (IpOrHost, Implemented),
        "server-identifier" => (IpOrHost, Implemented),
        "ddns-update-style" => (Enum(DDNS_STYLES), NotYet),
        "log-facility" => (Enum(FACILITIES), Implemented),
        "lease-file-name" | "pid-file-name" => (Text, Implemented),
        "ping-check" => (Bool, Implemented),
        "ping-timeout" => (U32, Implemented),
        "ping-cltt-secs" | "ping-timeout-ms" => (U32, NotYet),
        "boot-unknown-clients"
        | "one-lease-per-client"
        | "get-lease-hostnames"
        | "use-host-decl-names" => (Bool, Implemented),
        "use-lease-addr-for-default-route" | "always-reply-rfc1048" | "always-broadcast" => {
            (Bool, Implemented)
        }
        "ignore-client-uids" | "infinite-is-reserved" | "stash-agent-options" => (Bool, NotYet),
        "update-static-leases"
        | "update-optimization"
        | "update-conflict-detection"
        | "do-forward-updates" => (Bool, NotYet),
        "ddns-updates" | "client-updates" | "leasequery" | "echo-client-id" | "server-id-check" => {
            (Bool, NotYet)
        }
        "check-secs-byte-order"
        | "dont-use-fsync"
        | "release-on-roam"
        | "ddns-guard-id-must-match" => (Bool, NotYet),
        "ddns-other-guard-is-dynamic" | "duplicates" | "declines" | "persist-eui-64-leases" => {
            (Bool, NotYet)
        }
        "min-secs" => (U8, Implemented),
        "adaptive-lease-time-threshold" | "dhcp-cache-threshold" => (U8, NotYet),
        "omapi-port" | "local-port" | "remote-port" => (U16, NotYet),
        "delayed-ack" => (U16, NotYet),
        "max-ack-delay" | "ddns-ttl" | "abandon-lease-time" | "limit-addrs-per-ia" => (U32, NotYet),
        "limited-broadcast-address" | "local-address" | "ddns-local-address4" => (IpOrHost, NotYet),
        "omapi-key" => (KeyName, NotYet),
        "vendor-option-space" | "site-option-space" => (Space, Implemented),
        "ddns-hostname" | "ddns-domainname" | "ddns-rev-domainname" => (Expr, NotYet),
        "db-time-format" => (Enum(TIME_FORMATS), NotYet),
        "lease-id-format" => (Enum(ID_FORMATS), NotYet),
        "dhcpv6-lease-file-name" | "dhcpv6-pid-file-name" => (Text, NotYet),
        // `interface NAME;` ties a subnet or shared-network to an interface.
        "interface" => (Text, NotYet),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_options_are_known_by_name_and_code() {
        let t = OptionTable::default();
        match t.lookup("routers") {
            Lookup::Found(d) => {
                assert_eq!(d.code, 3);
                assert_eq!(d.ty.describe(), "array of ip-address");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.by_code("dhcp", 67).map(|d| d.name.as_str()),
            Some("bootfile-name")
        );
        assert!(matches!(t.lookup("agent.circuit-id"), Lookup::Found(_)));
        assert!(matches!(t.lookup("dhcp.nope"), Lookup::NoOption(_, _)));
        assert!(matches!(t.lookup("nospace.x"), Lookup::NoSpace(_)));
    }

    #[test]
    fn redefinition_replaces_the_code() {
        let mut t = OptionTable::default();
        t.define("dhcp", "foo", 250, OptionType::parse("ip"), true);
        t.define("dhcp", "foo", 251, OptionType::parse("text"), true);
        assert!(t.by_code("dhcp", 250).is_none());
        assert_eq!(t.by_code("dhcp", 251).map(|d| d.name.as_str()), Some("foo"));
    }
}
