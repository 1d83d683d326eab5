//! DHCP options as the packet carries them: a list of (code, bytes) kept in
//! the order first seen, with every instance of one code concatenated
//! (RFC 3396 §7), typed accessors for the options the server reads, relay
//! agent sub-options (RFC 3046), and the reply order that follows the
//! client's parameter request list.
//!
//! Splitting long values into several instances on the wire is the packet
//! encoder's job (`packet`); here every option is one value of any length.

use std::net::Ipv4Addr;

/// PAD (RFC 2132 §3.1).
pub const PAD: u8 = 0;
/// END (RFC 2132 §3.2).
pub const END: u8 = 255;
/// Subnet mask, code 1.
pub const SUBNET_MASK: u8 = 1;
/// Routers, code 3.
pub const ROUTERS: u8 = 3;
/// Domain name servers, code 6.
pub const DOMAIN_NAME_SERVERS: u8 = 6;
/// Host name, code 12.
pub const HOST_NAME: u8 = 12;
/// Broadcast address, code 28.
pub const BROADCAST_ADDRESS: u8 = 28;
/// Vendor-specific information, code 43.
pub const VENDOR_ENCAPSULATED_OPTIONS: u8 = 43;
/// Requested IP address, code 50.
pub const REQUESTED_ADDRESS: u8 = 50;
/// IP address lease time, code 51.
pub const LEASE_TIME: u8 = 51;
/// Option overload, code 52.
pub const OVERLOAD: u8 = 52;
/// DHCP message type, code 53.
pub const MESSAGE_TYPE: u8 = 53;
/// Server identifier, code 54.
pub const SERVER_ID: u8 = 54;
/// Parameter request list, code 55.
pub const PARAMETER_REQUEST_LIST: u8 = 55;
/// Message, code 56.
pub const MESSAGE: u8 = 56;
/// Maximum DHCP message size, code 57.
pub const MAX_MESSAGE_SIZE: u8 = 57;
/// Renewal (T1) time value, code 58.
pub const RENEWAL_TIME: u8 = 58;
/// Rebinding (T2) time value, code 59.
pub const REBINDING_TIME: u8 = 59;
/// Vendor class identifier, code 60.
pub const VENDOR_CLASS: u8 = 60;
/// Client identifier, code 61.
pub const CLIENT_ID: u8 = 61;
/// TFTP server name, code 66.
pub const TFTP_SERVER_NAME: u8 = 66;
/// Bootfile name, code 67.
pub const BOOTFILE_NAME: u8 = 67;
/// User class, code 77 (RFC 3004).
pub const USER_CLASS: u8 = 77;
/// Relay agent information, code 82 (RFC 3046).
pub const AGENT_INFO: u8 = 82;
/// Client system architecture, code 93 (RFC 4578).
pub const CLIENT_ARCH: u8 = 93;
/// Client network device interface, code 94 (RFC 4578).
pub const CLIENT_NDI: u8 = 94;
/// Client machine identifier (UUID/GUID), code 97 (RFC 4578).
pub const CLIENT_UUID: u8 = 97;

/// The DHCP message type (option 53, RFC 2132 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// DHCPDISCOVER, 1.
    Discover,
    /// DHCPOFFER, 2.
    Offer,
    /// DHCPREQUEST, 3.
    Request,
    /// DHCPDECLINE, 4.
    Decline,
    /// DHCPACK, 5.
    Ack,
    /// DHCPNAK, 6.
    Nak,
    /// DHCPRELEASE, 7.
    Release,
    /// DHCPINFORM, 8.
    Inform,
    /// Any other value (lease query and later types).
    Other(u8),
}

impl MessageType {
    pub fn from_u8(v: u8) -> MessageType {
        match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            n => MessageType::Other(n),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Other(n) => n,
        }
    }

    /// The name ISC dhcpd logs (`DHCPDISCOVER`, …).
    pub fn log_name(self) -> &'static str {
        match self {
            MessageType::Discover => "DHCPDISCOVER",
            MessageType::Offer => "DHCPOFFER",
            MessageType::Request => "DHCPREQUEST",
            MessageType::Decline => "DHCPDECLINE",
            MessageType::Ack => "DHCPACK",
            MessageType::Nak => "DHCPNAK",
            MessageType::Release => "DHCPRELEASE",
            MessageType::Inform => "DHCPINFORM",
            MessageType::Other(_) => "DHCP",
        }
    }
}

/// One option: its code and its whole value (instances already concatenated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOption {
    pub code: u8,
    pub data: Vec<u8>,
}

/// One relay agent sub-option (RFC 3046 §2.0): 1 circuit id, 2 remote id, ….
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSubOption {
    pub code: u8,
    pub data: Vec<u8>,
}

/// The options of one packet, in the order their codes first appeared.
/// PAD and END never appear here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    list: Vec<DhcpOption>,
}

impl Options {
    pub fn new() -> Options {
        Options::default()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, DhcpOption> {
        self.list.iter()
    }

    /// The codes in order.
    pub fn codes(&self) -> Vec<u8> {
        self.list.iter().map(|o| o.code).collect()
    }

    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.list
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.data.as_slice())
    }

    pub fn contains(&self, code: u8) -> bool {
        self.get(code).is_some()
    }

    /// Appends to the value of `code` (a further instance, RFC 3396), or adds
    /// the option at the end. PAD and END are ignored.
    pub fn append(&mut self, code: u8, data: &[u8]) {
        if code == PAD || code == END {
            return;
        }
        match self.list.iter_mut().find(|o| o.code == code) {
            Some(o) => o.data.extend_from_slice(data),
            None => self.list.push(DhcpOption {
                code,
                data: data.to_vec(),
            }),
        }
    }

    /// Sets the value of `code`, keeping its place if present, else at the end.
    pub fn set(&mut self, code: u8, data: impl Into<Vec<u8>>) {
        if code == PAD || code == END {
            return;
        }
        let data = data.into();
        match self.list.iter_mut().find(|o| o.code == code) {
            Some(o) => o.data = data,
            None => self.list.push(DhcpOption { code, data }),
        }
    }

    pub fn remove(&mut self, code: u8) -> Option<Vec<u8>> {
        let i = self.list.iter().position(|o| o.code == code)?;
        Some(self.list.remove(i).data)
    }

    pub fn set_u8(&mut self, code: u8, v: u8) {
        self.set(code, vec![v]);
    }

    pub fn set_u16(&mut self, code: u8, v: u16) {
        self.set(code, v.to_be_bytes().to_vec());
    }

    pub fn set_u32(&mut self, code: u8, v: u32) {
        self.set(code, v.to_be_bytes().to_vec());
    }

    pub fn set_ip(&mut self, code: u8, a: Ipv4Addr) {
        self.set(code, a.octets().to_vec());
    }

    pub fn set_ips(&mut self, code: u8, addrs: &[Ipv4Addr]) {
        self.set(
            code,
            addrs.iter().flat_map(|a| a.octets()).collect::<Vec<u8>>(),
        );
    }

    /// A one-byte option, if present with exactly one byte.
    pub fn u8_of(&self, code: u8) -> Option<u8> {
        match self.get(code)? {
            [v] => Some(*v),
            _ => None,
        }
    }

    /// A two-byte option, if present with exactly two bytes.
    pub fn u16_of(&self, code: u8) -> Option<u16> {
        let d: [u8; 2] = self.get(code)?.try_into().ok()?;
        Some(u16::from_be_bytes(d))
    }

    /// A four-byte option, if present with exactly four bytes.
    pub fn u32_of(&self, code: u8) -> Option<u32> {
        let d: [u8; 4] = self.get(code)?.try_into().ok()?;
        Some(u32::from_be_bytes(d))
    }

    /// One address, if present with exactly four bytes.
    pub fn ip_of(&self, code: u8) -> Option<Ipv4Addr> {
        let d: [u8; 4] = self.get(code)?.try_into().ok()?;
        Some(Ipv4Addr::from(d))
    }

    /// A list of addresses, if the length is a non-zero multiple of four.
    pub fn ips_of(&self, code: u8) -> Option<Vec<Ipv4Addr>> {
        let d = self.get(code)?;
        if d.is_empty() || d.len() % 4 != 0 {
            return None;
        }
        Some(
            d.chunks_exact(4)
                .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                .collect(),
        )
    }

    /// Option 53. A message type of another length than one byte counts as absent.
    pub fn message_type(&self) -> Option<MessageType> {
        self.u8_of(MESSAGE_TYPE).map(MessageType::from_u8)
    }

    pub fn set_message_type(&mut self, t: MessageType) {
        self.set_u8(MESSAGE_TYPE, t.to_u8());
    }

    /// Option 50.
    pub fn requested_address(&self) -> Option<Ipv4Addr> {
        self.ip_of(REQUESTED_ADDRESS)
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.ip_of(SERVER_ID)
    }

    /// Option 55: the codes in the client's order.
    pub fn parameter_request_list(&self) -> Option<&[u8]> {
        self.get(PARAMETER_REQUEST_LIST)
    }

    /// Option 57.
    pub fn max_message_size(&self) -> Option<u16> {
        self.u16_of(MAX_MESSAGE_SIZE)
    }

    /// Option 61, raw (type byte first).
    pub fn client_id(&self) -> Option<&[u8]> {
        self.get(CLIENT_ID)
    }

    /// Option 60, raw (`PXEClient:Arch:00000:UNDI:002001` and the like).
    pub fn vendor_class(&self) -> Option<&[u8]> {
        self.get(VENDOR_CLASS)
    }

    /// Option 77, raw. RFC 3004 makes it a list of length-prefixed classes,
    /// but iPXE sends the bare text `iPXE`, and dhcpd.conf matches the raw
    /// bytes, so the raw value is what the server sees; see [`user_classes`].
    ///
    /// [`user_classes`]: Options::user_classes
    pub fn user_class(&self) -> Option<&[u8]> {
        self.get(USER_CLASS)
    }

    /// Option 77 read as RFC 3004's list, when it parses as one.
    pub fn user_classes(&self) -> Option<Vec<&[u8]>> {
        let mut d = self.get(USER_CLASS)?;
        let mut out = Vec::new();
        while let Some((&n, rest)) = d.split_first() {
            let n = n as usize;
            if n == 0 || rest.len() < n {
                return None;
            }
            out.push(&rest[..n]);
            d = &rest[n..];
        }
        (!out.is_empty()).then_some(out)
    }

    /// Option 93: the architecture types the client supports (RFC 4578 §2.1).
    pub fn client_arch(&self) -> Option<Vec<u16>> {
        let d = self.get(CLIENT_ARCH)?;
        if d.is_empty() || d.len() % 2 != 0 {
            return None;
        }
        Some(
            d.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
        )
    }

    /// Option 94: (interface type, major, minor) (RFC 4578 §2.2).
    pub fn client_ndi(&self) -> Option<(u8, u8, u8)> {
        match self.get(CLIENT_NDI)? {
            [t, major, minor] => Some((*t, *major, *minor)),
            _ => None,
        }
    }

    /// Option 97: (type, 16-byte identifier) (RFC 4578 §2.3; type 0 is a UUID).
    pub fn client_uuid(&self) -> Option<(u8, [u8; 16])> {
        let d = self.get(CLIENT_UUID)?;
        let (&t, rest) = d.split_first()?;
        let id: [u8; 16] = rest.try_into().ok()?;
        Some((t, id))
    }

    /// Option 12, raw.
    pub fn host_name(&self) -> Option<&[u8]> {
        self.get(HOST_NAME)
    }

    /// Option 51.
    pub fn lease_time(&self) -> Option<u32> {
        self.u32_of(LEASE_TIME)
    }

    /// Option 58.
    pub fn renewal_time(&self) -> Option<u32> {
        self.u32_of(RENEWAL_TIME)
    }

    /// Option 59.
    pub fn rebinding_time(&self) -> Option<u32> {
        self.u32_of(REBINDING_TIME)
    }

    /// Option 52: 1 `file` holds options, 2 `sname` does, 3 both.
    pub fn overload(&self) -> Option<u8> {
        self.u8_of(OVERLOAD).filter(|v| (1..=3).contains(v))
    }

    /// Option 82's sub-options, or None when absent or malformed.
    pub fn agent_info(&self) -> Option<Vec<AgentSubOption>> {
        parse_agent_info(self.get(AGENT_INFO)?)
    }

    pub fn set_agent_info(&mut self, subs: &[AgentSubOption]) {
        let mut d = Vec::new();
        for s in subs {
            // A sub-option longer than 255 bytes cannot be written; relay
            // agents never send one, so it is cut rather than refused.
            let n = s.data.len().min(255);
            d.push(s.code);
            d.push(n as u8);
            d.extend_from_slice(&s.data[..n]);
        }
        self.set(AGENT_INFO, d);
    }
}

impl<'a> IntoIterator for &'a Options {
    type Item = &'a DhcpOption;
    type IntoIter = std::slice::Iter<'a, DhcpOption>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl FromIterator<DhcpOption> for Options {
    fn from_iter<I: IntoIterator<Item = DhcpOption>>(iter: I) -> Self {
        let mut o = Options::new();
        for opt in iter {
            o.append(opt.code, &opt.data);
        }
        o
    }
}

/// Parses relay agent sub-options (RFC 3046 §2.0: code, length, data, …).
pub fn parse_agent_info(mut d: &[u8]) -> Option<Vec<AgentSubOption>> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let (&code, rest) = d.split_first()?;
        let (&n, rest) = rest.split_first()?;
        let n = n as usize;
        if rest.len() < n {
            return None;
        }
        out.push(AgentSubOption {
            code,
            data: rest[..n].to_vec(),
        });
        d = &rest[n..];
    }
    Some(out)
}

/// Options that lead every reply whatever the client asked: the message
/// type, the server identifier and the lease time are the ones RFC 2131
/// table 3 requires, and some PXE ROMs look only at the first few options for
/// the message type.
const LEADING: [u8; 3] = [MESSAGE_TYPE, SERVER_ID, LEASE_TIME];

/// Orders reply options: the leading ones (message type, server identifier, lease time) first, then the codes in the client's
/// parameter request list in its order, then everything else in the given
/// order, and the relay agent information (82) last, where RFC 3046 §2.1
/// puts it. When the reply does not fit the client's size, what is cut is
/// what it did not ask for. ISC dhcpd 4.4 orders its replies the same way
/// (the `isc_dhcpd_replies_decode_and_reencode_byte_for_byte` test).
pub fn order_reply_options(options: &Options, prl: Option<&[u8]>) -> Options {
    let mut out = Options::new();
    let take = |code: u8, out: &mut Options| {
        if !out.contains(code) {
            if let Some(d) = options.get(code) {
                out.set(code, d.to_vec());
            }
        }
    };
    for c in LEADING {
        take(c, &mut out);
    }
    for &c in prl.unwrap_or(&[]) {
        if c != AGENT_INFO {
            take(c, &mut out);
        }
    }
    for o in options {
        if o.code != AGENT_INFO {
            take(o.code, &mut out);
        }
    }
    take(AGENT_INFO, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_concatenates_instances() {
        let mut o = Options::new();
        o.append(43, b"ab");
        o.append(1, &[255, 255, 255, 0]);
        o.append(43, b"cd");
        assert_eq!(o.get(43), Some(&b"abcd"[..]));
        assert_eq!(o.codes(), vec![43, 1]);
    }

    #[test]
    fn typed_accessors_read_what_pxe_clients_send() {
        let mut o = Options::new();
        o.set_message_type(MessageType::Discover);
        o.set(CLIENT_ARCH, vec![0, 7]);
        o.set(CLIENT_NDI, vec![1, 3, 16]);
        let mut uuid = vec![0];
        uuid.extend(1..=16u8);
        o.set(CLIENT_UUID, uuid);
        o.set_u16(MAX_MESSAGE_SIZE, 1472);
        o.set(USER_CLASS, b"iPXE".to_vec());
        assert_eq!(o.message_type(), Some(MessageType::Discover));
        assert_eq!(o.client_arch(), Some(vec![7]));
        assert_eq!(o.client_ndi(), Some((1, 3, 16)));
        assert_eq!(o.client_uuid().map(|u| u.1[15]), Some(16));
        assert_eq!(o.max_message_size(), Some(1472));
        assert_eq!(o.user_class(), Some(&b"iPXE"[..]));
        // "iPXE" read as RFC 3004: length 'i' (105) exceeds the data.
        assert_eq!(o.user_classes(), None);
        o.set(USER_CLASS, vec![2, b'a', b'b', 1, b'c']);
        assert_eq!(o.user_classes(), Some(vec![&b"ab"[..], &b"c"[..]]));
    }

    #[test]
    fn wrong_lengths_count_as_absent() {
        let mut o = Options::new();
        o.set(MESSAGE_TYPE, vec![1, 2]);
        o.set(SERVER_ID, vec![1, 2, 3]);
        o.set(LEASE_TIME, vec![]);
        assert_eq!(o.message_type(), None);
        assert_eq!(o.server_id(), None);
        assert_eq!(o.lease_time(), None);
    }

    #[test]
    fn agent_info_round_trips() {
        let subs = vec![
            AgentSubOption {
                code: 1,
                data: b"eth0:12".to_vec(),
            },
            AgentSubOption {
                code: 2,
                data: vec![0, 1, 2, 3, 4, 5],
            },
        ];
        let mut o = Options::new();
        o.set_agent_info(&subs);
        assert_eq!(o.get(AGENT_INFO).map(|d| d.len()), Some(2 + 7 + 2 + 6));
        assert_eq!(o.agent_info(), Some(subs));
        o.set(AGENT_INFO, vec![1, 5, 0]);
        assert_eq!(o.agent_info(), None);
    }

    #[test]
    fn reply_order_follows_the_request_list() {
        let mut o = Options::new();
        o.set_ip(DOMAIN_NAME_SERVERS, Ipv4Addr::new(192, 168, 0, 1));
        o.set_ip(ROUTERS, Ipv4Addr::new(192, 168, 0, 1));
        o.set_ip(SUBNET_MASK, Ipv4Addr::new(255, 255, 255, 0));
        o.set_ip(BROADCAST_ADDRESS, Ipv4Addr::new(192, 168, 0, 255));
        o.set_u32(LEASE_TIME, 1800);
        o.set_ip(SERVER_ID, Ipv4Addr::new(192, 168, 0, 1));
        o.set_message_type(MessageType::Offer);
        let ordered = order_reply_options(&o, Some(&[1, 28, 3, 99, 6]));
        assert_eq!(ordered.codes(), vec![53, 54, 51, 1, 28, 3, 6]);
        let unordered = order_reply_options(&o, None);
        assert_eq!(unordered.codes(), vec![53, 54, 51, 6, 3, 1, 28]);
        // relay agent information goes last even when asked for
        o.set(AGENT_INFO, vec![1, 1, 0]);
        let ordered = order_reply_options(&o, Some(&[82, 1]));
        assert_eq!(ordered.codes(), vec![53, 54, 51, 1, 6, 3, 28, 82]);
    }
}
