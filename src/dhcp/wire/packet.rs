//! The BOOTP/DHCP message (RFC 951 §3, RFC 2131 §2): the fixed 236-byte
//! header, the magic cookie, and the options area, with option overload into
//! `file` and `sname` (RFC 2131 §4.1, RFC 2132 §9.3), long options split over
//! several instances (RFC 3396), the client's maximum message size
//! (RFC 2132 §9.10) and the 300-byte BOOTP minimum.

use std::fmt;
use std::net::Ipv4Addr;

use super::options::{order_reply_options, Options, END, OVERLOAD, PAD};

/// `op` of a client message.
pub const BOOTREQUEST: u8 = 1;
/// `op` of a server message.
pub const BOOTREPLY: u8 = 2;
/// The broadcast bit of `flags` (RFC 2131 §2, figure 2).
pub const BROADCAST_FLAG: u16 = 0x8000;
/// The RFC 1048 magic cookie that opens the options area.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed header before the cookie.
pub const HEADER_LEN: usize = 236;
/// BOOTP's fixed message size (RFC 951: a 64-byte vendor area). Every
/// encoded message is padded to at least this: some PXE ROMs drop shorter
/// replies.
pub const MIN_BOOTP_LEN: usize = 300;
/// The smallest maximum message size a client may state, and what every
/// client must accept (RFC 2131 §2, RFC 2132 §9.10). It counts the IP and
/// UDP headers.
pub const MIN_MAX_MESSAGE_SIZE: u16 = 576;
/// IPv4 (without options) and UDP header bytes counted in a maximum message size.
const IP_UDP_OVERHEAD: usize = 28;

const SNAME_AT: usize = 44;
const FILE_AT: usize = 108;
const OPTIONS_AT: usize = 240;

/// One BOOTP/DHCP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    /// The server host name field. Zeroed in a decoded packet whose option
    /// overload said it carried options.
    pub sname: [u8; 64],
    /// The boot file name field. Zeroed in a decoded packet whose option
    /// overload said it carried options.
    pub file: [u8; 128],
    pub options: Options,
    /// Option 52 as received (1 `file`, 2 `sname`, 3 both carried options),
    /// 0 when not overloaded. The option itself is not kept in `options`;
    /// `encode` ignores this field and decides overload afresh.
    pub overloaded: u8,
    /// Whether the vendor area began with the magic cookie. A BOOTP client
    /// without it has no options; `encode` always writes the cookie.
    pub cookie: bool,
}

impl Default for Packet {
    fn default() -> Self {
        Packet {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid: 0,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: [0; 16],
            sname: [0; 64],
            file: [0; 128],
            options: Options::new(),
            overloaded: 0,
            cookie: true,
        }
    }
}

impl Packet {
    /// A reply skeleton for `req`: op BOOTREPLY and the fields a reply
    /// copies from its request (RFC 2131 table 3: xid, flags, giaddr, chaddr
    /// and the hardware type and length).
    pub fn reply_to(req: &Packet) -> Packet {
        Packet {
            op: BOOTREPLY,
            htype: req.htype,
            hlen: req.hlen,
            xid: req.xid,
            flags: req.flags,
            giaddr: req.giaddr,
            chaddr: req.chaddr,
            ..Packet::default()
        }
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr`
    /// (at most 16, whatever `hlen` claims).
    pub fn hardware_address(&self) -> &[u8] {
        &self.chaddr[..(self.hlen as usize).min(16)]
    }

    /// The client asked for broadcast replies.
    pub fn broadcast(&self) -> bool {
        self.flags & BROADCAST_FLAG != 0
    }

    pub fn set_broadcast(&mut self, on: bool) {
        if on {
            self.flags |= BROADCAST_FLAG;
        } else {
            self.flags &= !BROADCAST_FLAG;
        }
    }

    /// The `file` field up to its first NUL.
    pub fn file_name(&self) -> &[u8] {
        until_nul(&self.file)
    }

    /// The `sname` field up to its first NUL.
    pub fn server_name(&self) -> &[u8] {
        until_nul(&self.sname)
    }

    /// Sets `file`; false (and unchanged) when the name does not fit its 128 bytes.
    pub fn set_file_name(&mut self, name: &[u8]) -> bool {
        set_field(&mut self.file, name)
    }

    /// Sets `sname`; false (and unchanged) when the name does not fit its 64 bytes.
    pub fn set_server_name(&mut self, name: &[u8]) -> bool {
        set_field(&mut self.sname, name)
    }
}

fn until_nul(f: &[u8]) -> &[u8] {
    let n = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    &f[..n]
}

fn set_field(f: &mut [u8], name: &[u8]) -> bool {
    if name.len() > f.len() {
        return false;
    }
    f.fill(0);
    f[..name.len()].copy_from_slice(name);
    true
}

/// What went wrong in a packet, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Shorter than the 236-byte fixed header.
    TooShort { len: usize },
    /// An option's length byte is missing.
    MissingLength { code: u8 },
    /// An option's data runs past the end of its area.
    OptionOverrun { code: u8, len: u8 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::TooShort { len } => write!(
                f,
                "packet of {len} bytes is shorter than the {HEADER_LEN}-byte BOOTP header"
            )?,
            DecodeErrorKind::MissingLength { code } => {
                write!(f, "option {code} has no length byte")?
            }
            DecodeErrorKind::OptionOverrun { code, len } => write!(
                f,
                "option {code} of length {len} runs past the end of its area"
            )?,
        }
        write!(f, " (at byte {})", self.offset)
    }
}

impl std::error::Error for DecodeError {}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Decodes one message. Lenient where real clients are: a missing END, bytes
/// after END, and a BOOTP vendor area without the cookie are all accepted.
pub fn decode(b: &[u8]) -> Result<Packet, DecodeError> {
    if b.len() < HEADER_LEN {
        return Err(DecodeError {
            offset: b.len(),
            kind: DecodeErrorKind::TooShort { len: b.len() },
        });
    }
    let mut p = Packet {
        op: b[0],
        htype: b[1],
        hlen: b[2],
        hops: b[3],
        xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        secs: u16::from_be_bytes([b[8], b[9]]),
        flags: u16::from_be_bytes([b[10], b[11]]),
        ciaddr: ip_at(b, 12),
        yiaddr: ip_at(b, 16),
        siaddr: ip_at(b, 20),
        giaddr: ip_at(b, 24),
        ..Packet::default()
    };
    p.chaddr.copy_from_slice(&b[28..SNAME_AT]);
    p.sname.copy_from_slice(&b[SNAME_AT..FILE_AT]);
    p.file.copy_from_slice(&b[FILE_AT..HEADER_LEN]);
    p.cookie = b.len() >= OPTIONS_AT && b[HEADER_LEN..OPTIONS_AT] == MAGIC_COOKIE;
    if !p.cookie {
        return Ok(p);
    }
    // RFC 3396 §7: instances are concatenated in the order options field,
    // then `file`, then `sname`.
    let mut opts = Options::new();
    parse_area(&b[OPTIONS_AT..], OPTIONS_AT, &mut opts)?;
    let overload = opts.overload().unwrap_or(0);
    opts.remove(OVERLOAD);
    if overload & 1 != 0 {
        parse_area(&b[FILE_AT..HEADER_LEN], FILE_AT, &mut opts)?;
        p.file = [0; 128];
    }
    if overload & 2 != 0 {
        parse_area(&b[SNAME_AT..FILE_AT], SNAME_AT, &mut opts)?;
        p.sname = [0; 64];
    }
    // An overload option found inside `file` or `sname` has no meaning.
    opts.remove(OVERLOAD);
    p.options = opts;
    p.overloaded = overload;
    Ok(p)
}

/// Reads options from one area until END or the area's end. `base` is the
/// area's offset in the packet, for error positions.
fn parse_area(area: &[u8], base: usize, opts: &mut Options) -> Result<(), DecodeError> {
    let mut i = 0;
    while i < area.len() {
        let code = area[i];
        match code {
            PAD => i += 1,
            END => break,
            _ => {
                let Some(&len) = area.get(i + 1) else {
                    return Err(DecodeError {
                        offset: base + i,
                        kind: DecodeErrorKind::MissingLength { code },
                    });
                };
                let start = i + 2;
                let end = start + len as usize;
                let Some(data) = area.get(start..end) else {
                    return Err(DecodeError {
                        offset: base + i,
                        kind: DecodeErrorKind::OptionOverrun { code, len },
                    });
                };
                opts.append(code, data);
                i = end;
            }
        }
    }
    Ok(())
}

/// What `encode_limited` did to make the message fit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    /// Bytes written.
    pub len: usize,
    /// The option overload written: 0 none, 1 `file`, 2 `sname`, 3 both.
    pub overload: u8,
    /// Codes of options left out because they did not fit.
    pub dropped: Vec<u8>,
}

/// Encodes `p` into `out` (cleared first) within the 576-byte size every
/// client accepts.
pub fn encode(p: &Packet, out: &mut Vec<u8>) {
    encode_limited(p, MIN_MAX_MESSAGE_SIZE, out);
}

/// Encodes a reply with its options in the order of the client's parameter
/// request list (see `order_reply_options`), within the client's maximum
/// message size (option 57, if it sent one; the server caps it to its
/// interface MTU before passing it here).
pub fn encode_reply_options(
    reply: &Packet,
    prl: Option<&[u8]>,
    max_message_size: Option<u16>,
    out: &mut Vec<u8>,
) -> Encoded {
    let ordered = Packet {
        options: order_reply_options(&reply.options, prl),
        ..reply.clone()
    };
    encode_limited(
        &ordered,
        max_message_size.unwrap_or(MIN_MAX_MESSAGE_SIZE),
        out,
    )
}

/// One area options are written into, with the room left for its END.
struct Area {
    bytes: Vec<u8>,
    cap: usize,
}

/// Encodes `p` into `out` (cleared first) so the IP datagram stays within
/// `max_message_size` (raised to 576 if smaller). Options go into the
/// options field; only when they do not fit, and only into a `file` or
/// `sname` field that is empty, does the encoder overload (RFC 2131 §4.1).
/// Options that still do not fit are dropped, last ones first, and named in
/// the result. Values longer than 255 bytes are split into instances
/// (RFC 3396).
pub fn encode_limited(p: &Packet, max_message_size: u16, out: &mut Vec<u8>) -> Encoded {
    let limit = max_message_size.max(MIN_MAX_MESSAGE_SIZE) as usize - IP_UDP_OVERHEAD;
    let items = split_items(&p.options);
    let total: usize = items
        .iter()
        .flat_map(|(_, chunks)| chunks.iter().map(|c| 2 + c.len()))
        .sum();
    // The options field holds the items and END.
    let plain_cap = limit - OPTIONS_AT - 1;
    let mut areas = Vec::new();
    let overloading = total > plain_cap;
    if overloading {
        // Room for the overload option itself (3 bytes).
        areas.push(Area {
            bytes: Vec::new(),
            cap: plain_cap - 3,
        });
        if p.file.iter().all(|&b| b == 0) {
            areas.push(Area {
                bytes: Vec::new(),
                cap: p.file.len() - 1,
            });
        }
        if p.sname.iter().all(|&b| b == 0) {
            areas.push(Area {
                bytes: Vec::new(),
                cap: p.sname.len() - 1,
            });
        }
    } else {
        areas.push(Area {
            bytes: Vec::new(),
            cap: plain_cap,
        });
    }
    let file_area = overloading && p.file.iter().all(|&b| b == 0);
    let mut dropped = Vec::new();
    let mut cur = 0;
    // An option goes in whole or not at all: a value cut short would be
    // worse than a missing one.
    for (code, chunks) in &items {
        let saved_cur = cur;
        let saved: Vec<usize> = areas.iter().map(|a| a.bytes.len()).collect();
        if !chunks.iter().all(|c| place(&mut areas, &mut cur, *code, c)) {
            cur = saved_cur;
            for (a, n) in areas.iter_mut().zip(saved) {
                a.bytes.truncate(n);
            }
            dropped.push(*code);
        }
    }
    let mut overload = 0u8;
    let mut file_bytes = None;
    let mut sname_bytes = None;
    for (i, a) in areas.iter().enumerate().skip(1) {
        if a.bytes.is_empty() {
            continue;
        }
        // Area 1 is `file` when `file` was free, else `sname`.
        if i == 1 && file_area {
            overload |= 1;
            file_bytes = Some(&a.bytes);
        } else {
            overload |= 2;
            sname_bytes = Some(&a.bytes);
        }
    }

    out.clear();
    out.extend_from_slice(&[p.op, p.htype, p.hlen, p.hops]);
    out.extend_from_slice(&p.xid.to_be_bytes());
    out.extend_from_slice(&p.secs.to_be_bytes());
    out.extend_from_slice(&p.flags.to_be_bytes());
    for a in [p.ciaddr, p.yiaddr, p.siaddr, p.giaddr] {
        out.extend_from_slice(&a.octets());
    }
    out.extend_from_slice(&p.chaddr);
    write_field(out, &p.sname, sname_bytes);
    write_field(out, &p.file, file_bytes);
    out.extend_from_slice(&MAGIC_COOKIE);
    if overload != 0 {
        out.extend_from_slice(&[OVERLOAD, 1, overload]);
    }
    out.extend_from_slice(&areas[0].bytes);
    out.push(END);
    if out.len() < MIN_BOOTP_LEN {
        out.resize(MIN_BOOTP_LEN, PAD);
    }
    Encoded {
        len: out.len(),
        overload,
        dropped,
    }
}

/// Writes a fixed field: its own bytes, or options ended by END and padded.
fn write_field(out: &mut Vec<u8>, field: &[u8], options: Option<&Vec<u8>>) {
    match options {
        Some(o) => {
            let start = out.len();
            out.extend_from_slice(o);
            out.push(END);
            out.resize(start + field.len(), PAD);
        }
        None => out.extend_from_slice(field),
    }
}

/// Options as wire instances of at most 255 bytes each (RFC 3396 §5). The
/// overload option is the encoder's own and never taken from the list.
fn split_items(opts: &Options) -> Vec<(u8, Vec<&[u8]>)> {
    let mut items = Vec::new();
    for o in opts {
        if o.code == OVERLOAD {
            continue;
        }
        let chunks = if o.data.is_empty() {
            vec![&o.data[..]]
        } else {
            o.data.chunks(255).collect()
        };
        items.push((o.code, chunks));
    }
    items
}

/// Places one instance in the current area or later ones; false when it
/// does not fit. An instance that does not fit whole moves to the next area
/// if it fits there whole (clients without RFC 3396 support read it
/// correctly), else it is split over the areas.
fn place(areas: &mut [Area], cur: &mut usize, code: u8, data: &[u8]) -> bool {
    let mut rest = data;
    let mut whole = true;
    loop {
        let Some(a) = areas.get_mut(*cur) else {
            return false;
        };
        let room = a.cap - a.bytes.len();
        if 2 + rest.len() <= room {
            a.bytes.push(code);
            a.bytes.push(rest.len() as u8);
            a.bytes.extend_from_slice(rest);
            return true;
        }
        let next_fits = areas.get(*cur + 1).is_some_and(|n| 2 + rest.len() <= n.cap);
        if !(whole && next_fits) && room > 2 && !rest.is_empty() {
            let n = room - 2;
            let a = &mut areas[*cur];
            a.bytes.push(code);
            a.bytes.push(n as u8);
            a.bytes.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            whole = false;
        }
        *cur += 1;
    }
}

#[cfg(test)]
mod tests;
