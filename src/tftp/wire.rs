//! The TFTP packet codec (RFC 1350, OACK from RFC 2347): bytes to `Packet`
//! and back, with no sockets, clock or configuration. Request parsing follows
//! tftp-hpa 5.2 as observed on the wire (reference T-REQ-3): the fields end at
//! the first empty string, a value-less trailing option is dropped, and the
//! mode is matched case-insensitively.

use std::fmt;

pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;
pub const OACK: u16 = 6;

/// Transfer mode of a request (RFC 1350 §5); `mail` is refused as tftp-hpa does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Netascii,
    Octet,
}

/// RRQ or WRQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

impl Direction {
    /// `RRQ` or `WRQ`, as the log lines spell it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Read => "RRQ",
            Direction::Write => "WRQ",
        }
    }
}

/// A read or write request with its RFC 2347 options in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub direction: Direction,
    pub filename: Vec<u8>,
    pub mode: Mode,
    pub options: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One decoded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Request(Request),
    Data { block: u16, data: Vec<u8> },
    Ack { block: u16 },
    Error { code: u16, message: Vec<u8> },
    Oack { options: Vec<(Vec<u8>, Vec<u8>)> },
}

/// Why a datagram could not be decoded, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    /// Byte offset in the datagram where the problem was found.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Fewer bytes than the opcode (or the block number) needs.
    Truncated,
    UnknownOpcode(u16),
    /// A request whose last field lacks its NUL.
    NotNullTerminated,
    MissingMode,
    UnknownMode,
}

impl DecodeError {
    /// The error packet tftp-hpa answers a bad request with (code 4), if any;
    /// other decode failures are dropped silently (reference T-REQ-2).
    pub fn reply(&self) -> Option<(u16, &'static str)> {
        match self.kind {
            DecodeErrorKind::NotNullTerminated => Some((4, "Request not null-terminated")),
            DecodeErrorKind::MissingMode => Some((4, "Missing mode")),
            DecodeErrorKind::UnknownMode => Some((4, "Unknown mode")),
            _ => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::Truncated => write!(f, "truncated packet at byte {}", self.offset),
            DecodeErrorKind::UnknownOpcode(op) => {
                write!(f, "unknown opcode {op} at byte {}", self.offset)
            }
            DecodeErrorKind::NotNullTerminated => {
                write!(f, "request not null-terminated at byte {}", self.offset)
            }
            DecodeErrorKind::MissingMode => write!(f, "missing mode at byte {}", self.offset),
            DecodeErrorKind::UnknownMode => write!(f, "unknown mode at byte {}", self.offset),
        }
    }
}

impl std::error::Error for DecodeError {}

fn err(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    DecodeError { kind, offset }
}

/// Reads the opcode without decoding the rest.
pub fn opcode(buf: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]))
}

/// Decodes one datagram.
pub fn decode(buf: &[u8]) -> Result<Packet, DecodeError> {
    let op = opcode(buf).ok_or(err(DecodeErrorKind::Truncated, buf.len()))?;
    let body = &buf[2..];
    match op {
        RRQ | WRQ => {
            let dir = if op == RRQ {
                Direction::Read
            } else {
                Direction::Write
            };
            decode_request(dir, body).map(Packet::Request)
        }
        DATA => {
            let block = block_of(body)?;
            Ok(Packet::Data {
                block,
                data: body[2..].to_vec(),
            })
        }
        ACK => Ok(Packet::Ack {
            block: block_of(body)?,
        }),
        ERROR => {
            let code = block_of(body)?;
            let rest = &body[2..];
            // Lenient: a missing NUL (some embedded clients omit it) still ends the text.
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            Ok(Packet::Error {
                code,
                message: rest[..end].to_vec(),
            })
        }
        OACK => {
            let strings = split_fields(body);
            Ok(Packet::Oack {
                options: pairs(&strings),
            })
        }
        other => Err(err(DecodeErrorKind::UnknownOpcode(other), 0)),
    }
}

fn block_of(body: &[u8]) -> Result<u16, DecodeError> {
    match body {
        [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(err(DecodeErrorKind::Truncated, 2 + body.len())),
    }
}

/// NUL-separated strings up to (not including) the first empty one.
fn split_fields(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(end) = rest.iter().position(|&b| b == 0) {
        if end == 0 {
            break;
        }
        out.push(&rest[..end]);
        rest = &rest[end + 1..];
    }
    out
}

fn pairs(strings: &[&[u8]]) -> Vec<(Vec<u8>, Vec<u8>)> {
    strings
        .chunks_exact(2)
        .map(|p| (p[0].to_vec(), p[1].to_vec()))
        .collect()
}

fn decode_request(direction: Direction, body: &[u8]) -> Result<Request, DecodeError> {
    if let Some(&last) = body.last() {
        if last != 0 {
            return Err(err(DecodeErrorKind::NotNullTerminated, 2 + body.len() - 1));
        }
    }
    let fields = split_fields(body);
    if fields.len() < 2 {
        return Err(err(
            DecodeErrorKind::MissingMode,
            2 + fields.first().map_or(0, |f| f.len() + 1),
        ));
    }
    let mode = match fields[1].to_ascii_lowercase().as_slice() {
        b"netascii" => Mode::Netascii,
        b"octet" => Mode::Octet,
        _ => return Err(err(DecodeErrorKind::UnknownMode, 2 + fields[0].len() + 1)),
    };
    Ok(Request {
        direction,
        filename: fields[0].to_vec(),
        mode,
        options: pairs(&fields[2..]),
    })
}

/// Appends the encoding of `p` to `out`.
pub fn encode(p: &Packet, out: &mut Vec<u8>) {
    match p {
        Packet::Request(r) => {
            out.extend_from_slice(
                &match r.direction {
                    Direction::Read => RRQ,
                    Direction::Write => WRQ,
                }
                .to_be_bytes(),
            );
            out.extend_from_slice(&r.filename);
            out.push(0);
            out.extend_from_slice(match r.mode {
                Mode::Netascii => b"netascii",
                Mode::Octet => b"octet",
            });
            out.push(0);
            push_pairs(&r.options, out);
        }
        Packet::Data { block, data } => {
            out.extend_from_slice(&DATA.to_be_bytes());
            out.extend_from_slice(&block.to_be_bytes());
            out.extend_from_slice(data);
        }
        Packet::Ack { block } => {
            out.extend_from_slice(&ACK.to_be_bytes());
            out.extend_from_slice(&block.to_be_bytes());
        }
        Packet::Error { code, message } => {
            out.extend_from_slice(&ERROR.to_be_bytes());
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(message);
            out.push(0);
        }
        Packet::Oack { options } => {
            out.extend_from_slice(&OACK.to_be_bytes());
            push_pairs(options, out);
        }
    }
}

fn push_pairs(opts: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
    for (k, v) in opts {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
}

/// An ERROR packet with `code` and `message`.
pub fn error_packet(code: u16, message: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + message.len());
    encode(
        &Packet::Error {
            code,
            message: message.as_bytes().to_vec(),
        },
        &mut v,
    );
    v
}

/// Fuzz entry point: decoding arbitrary bytes must never panic.
pub fn fuzz_decode(data: &[u8]) {
    if let Ok(p) = decode(data) {
        let mut v = Vec::new();
        encode(&p, &mut v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_a_pxe_rom_request() {
        // Captured shape of a PXE ROM's tsize probe.
        let raw = b"\x00\x01pxelinux.0\x00octet\x00tsize\x000\x00blksize\x001456\x00";
        let p = decode(raw).unwrap();
        let Packet::Request(r) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(r.filename, b"pxelinux.0");
        assert_eq!(r.mode, Mode::Octet);
        assert_eq!(r.options.len(), 2);
        let mut v = Vec::new();
        encode(&p, &mut v);
        assert_eq!(v, raw);
        assert_eq!(decode(&v).unwrap(), p);
    }

    #[test]
    fn request_errors_match_tftp_hpa() {
        let e = |raw: &[u8]| decode(raw).unwrap_err().reply().map(|r| r.1);
        assert_eq!(e(b"\x00\x01"), Some("Missing mode"));
        assert_eq!(e(b"\x00\x01a"), Some("Request not null-terminated"));
        assert_eq!(e(b"\x00\x01a\x00\x00"), Some("Missing mode"));
        assert_eq!(e(b"\x00\x01\x00octet\x00"), Some("Missing mode"));
        assert_eq!(e(b"\x00\x01a\x00mail\x00"), Some("Unknown mode"));
        assert_eq!(
            e(b"\x00\x01a\x00octet\x00junk"),
            Some("Request not null-terminated")
        );
        assert_eq!(
            decode(b"\x01").unwrap_err().kind,
            DecodeErrorKind::Truncated
        );
        assert_eq!(
            decode(b"\x00\x09a\x00").unwrap_err().kind,
            DecodeErrorKind::UnknownOpcode(9)
        );
        assert_eq!(decode(b"\x00\x04\x00").unwrap_err().offset, 3);
    }

    #[test]
    fn options_stop_at_empty_field_and_drop_a_dangling_name() {
        let Ok(Packet::Request(r)) = decode(b"\x00\x01a\x00OCTET\x00blksize\x00600\x00tsize\x00")
        else {
            panic!()
        };
        assert_eq!(r.options, vec![(b"blksize".to_vec(), b"600".to_vec())]);
        let Ok(Packet::Request(r)) =
            decode(b"\x00\x01a\x00octet\x00blksize\x00600\x00\x00tsize\x000\x00")
        else {
            panic!()
        };
        assert_eq!(r.options.len(), 1);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            fuzz_decode(&data);
        }

        #[test]
        fn data_and_ack_round_trip(block in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..600)) {
            for p in [Packet::Data { block, data: data.clone() }, Packet::Ack { block }] {
                let mut v = Vec::new();
                encode(&p, &mut v);
                prop_assert_eq!(decode(&v).unwrap(), p);
            }
        }
    }
}
