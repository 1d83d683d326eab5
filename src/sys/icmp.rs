//! The raw ICMP socket dhcpd uses for ping-check (reference D-P, D-ST-5):
//! opened while still root (a raw socket cannot be opened later, and in a
//! new namespace neither can a ping socket, FIELD-NOTES), filtered with
//! `ICMP_FILTER` so it sees only echo replies (a raw ICMP socket also sees
//! echo requests to our own addresses), non-blocking so it sits in a poll
//! set. Replies are matched by (address, id, sequence); deciding what a
//! reply means is the server's job.

use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `ICMP_FILTER` (linux/icmp.h, raw(7)): a bit mask of ICMP types to drop.
const ICMP_FILTER: libc::c_int = 1;
const ICMP_ECHOREPLY: u8 = 0;
const ICMP_ECHO: u8 = 8;
/// Bytes after the 8-byte echo header, so the request is an ordinary size.
const ECHO_DATA: &[u8] = b"pxesuite-ping-chk";

/// One echo reply: who answered, with which identifier and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply {
    pub from: Ipv4Addr,
    pub id: u16,
    pub seq: u16,
}

impl EchoReply {
    /// True when this answers the echo we sent to `addr` with `id` and `seq`.
    pub fn answers(&self, addr: Ipv4Addr, id: u16, seq: u16) -> bool {
        self.from == addr && self.id == id && self.seq == seq
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request (RFC 792) with its checksum.
pub fn build_echo(id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![ICMP_ECHO, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(ECHO_DATA);
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// Reads an echo reply from what a raw socket returns (the IPv4 header,
/// then ICMP). None for anything else or anything malformed.
pub fn parse_reply(d: &[u8]) -> Option<EchoReply> {
    let first = *d.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = (first & 0x0f) as usize * 4;
    let from = Ipv4Addr::new(*d.get(12)?, *d.get(13)?, *d.get(14)?, *d.get(15)?);
    let icmp = d.get(ihl..)?;
    if icmp.len() < 8 || icmp[0] != ICMP_ECHOREPLY || icmp[1] != 0 || checksum(icmp) != 0 {
        return None;
    }
    Some(EchoReply {
        from,
        id: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
    })
}

/// A non-blocking raw ICMP socket that receives only echo replies.
#[derive(Debug)]
pub struct IcmpSocket {
    fd: OwnedFd,
}

impl IcmpSocket {
    /// Opens the socket. Needs `CAP_NET_RAW`: call it before dropping privileges.
    pub fn open() -> io::Result<IcmpSocket> {
        // SAFETY: socket(2) with constant arguments; checked and owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::IPPROTO_ICMP,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just opened and own alone.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Drop every type but echo reply.
        let mask: u32 = !(1u32 << ICMP_ECHOREPLY);
        // SAFETY: setsockopt(2) with a pointer to a u32 (struct icmp_filter)
        // of the stated size (raw(7)).
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_RAW,
                ICMP_FILTER,
                (&mask as *const u32).cast(),
                mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(IcmpSocket { fd })
    }

    /// Sends one echo request to `dst`.
    pub fn send_echo(&self, dst: Ipv4Addr, id: u16, seq: u16) -> io::Result<()> {
        let m = build_echo(id, seq);
        let to = nix::sys::socket::SockaddrIn::from(std::net::SocketAddrV4::new(dst, 0));
        nix::sys::socket::sendto(
            self.fd.as_raw_fd(),
            &m,
            &to,
            nix::sys::socket::MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        Ok(())
    }

    /// The next echo reply, or None when nothing is waiting. Datagrams that
    /// are not well-formed echo replies are skipped.
    pub fn recv_reply(&self) -> io::Result<Option<EchoReply>> {
        let mut buf = [0u8; 1500];
        loop {
            match nix::sys::socket::recv(
                self.fd.as_raw_fd(),
                &mut buf,
                nix::sys::socket::MsgFlags::empty(),
            ) {
                Ok(n) => {
                    if let Some(r) = parse_reply(&buf[..n]) {
                        return Ok(Some(r));
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => return Ok(None),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(io::Error::from(e)),
            }
        }
    }
}

impl AsFd for IcmpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header from `from` in front of `icmp`.
    fn with_ip(from: Ipv4Addr, icmp: &[u8]) -> Vec<u8> {
        let mut d = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        d.extend_from_slice(&from.octets());
        d.extend_from_slice(&[127, 0, 0, 1]);
        d.extend_from_slice(icmp);
        d
    }

    #[test]
    fn echo_requests_carry_a_valid_checksum() {
        let m = build_echo(0x1234, 7);
        assert_eq!(m[0], 8);
        assert_eq!(checksum(&m), 0);
        assert_eq!(&m[4..8], &[0x12, 0x34, 0, 7]);
    }

    #[test]
    fn parses_a_reply_and_matches_it() {
        let mut m = build_echo(0x1234, 7);
        m[0] = ICMP_ECHOREPLY;
        m[2] = 0;
        m[3] = 0;
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        let a = Ipv4Addr::new(192, 168, 0, 130);
        let r = parse_reply(&with_ip(a, &m)).unwrap();
        assert!(r.answers(a, 0x1234, 7));
        assert!(!r.answers(a, 0x1234, 8));
        assert!(!r.answers(Ipv4Addr::new(192, 168, 0, 131), 0x1234, 7));
    }

    #[test]
    fn requests_and_garbage_are_not_replies() {
        let a = Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(parse_reply(&with_ip(a, &build_echo(1, 1))), None);
        assert_eq!(parse_reply(&[]), None);
        assert_eq!(parse_reply(&[0x4f; 10]), None);
        let mut bad = build_echo(1, 1);
        bad[0] = 0; // reply type, but the checksum no longer matches
        assert_eq!(parse_reply(&with_ip(a, &bad)), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(d in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            let _ = parse_reply(&d);
        }
    }
}
