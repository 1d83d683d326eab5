//! Link-level DHCP sockets, the way ISC dhcpd works on Linux: an `AF_PACKET`
//! socket bound to one interface with a classic BPF filter that passes only
//! IPv4 UDP to the server port, receiving whole Ethernet frames and sending
//! frames it builds itself (Ethernet + IPv4 + UDP), so a reply can go to a
//! client that has no address yet, by link-level unicast to its `chaddr` or
//! by broadcast.
//!
//! `PACKET_AUXDATA` is on: a datagram sent by the kernel of this host (another
//! namespace over a veth: dhcrelay, perfdhcp, a renewing client) arrives with
//! its UDP checksum not yet computed (`TP_STATUS_CSUMNOTREADY`) and is
//! accepted without verifying it (FIELD-NOTES, packet sockets).
//!
//! Also here: the interface facts the server needs (index, MAC, IPv4
//! addresses and netmasks, flags, MTU). Frame parsing and building are pure
//! functions beside the socket so they can be tested without one.

use std::ffi::CString;
use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::net::if_::InterfaceFlags;

/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
const ETH_HLEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPPROTO_UDP: u8 = 17;
const IP_HLEN: usize = 20;
const UDP_HLEN: usize = 8;
/// The TTL of frames we build (RFC 1700's recommended default).
const TTL: u8 = 64;

// Classic BPF opcodes (linux/filter.h, bpf(4)).
const BPF_LD_H_ABS: u16 = 0x28;
const BPF_LD_B_ABS: u16 = 0x30;
const BPF_LD_H_IND: u16 = 0x48;
const BPF_LDX_B_MSH: u16 = 0xb1;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JSET_K: u16 = 0x45;
const BPF_RET_K: u16 = 0x06;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter: an unfragmented IPv4 UDP datagram to `port`, else nothing.
/// Fragments are refused because the UDP header is only in the first one
/// and a DHCP message never needs fragmenting (576 bytes).
fn udp_port_filter(port: u16) -> Vec<libc::sock_filter> {
    vec![
        insn(BPF_LD_H_ABS, 0, 0, 12), // ethertype
        insn(BPF_JEQ_K, 0, 8, ETHERTYPE_IPV4 as u32),
        insn(BPF_LD_B_ABS, 0, 0, 23), // IP protocol
        insn(BPF_JEQ_K, 0, 6, IPPROTO_UDP as u32),
        insn(BPF_LD_H_ABS, 0, 0, 20), // flags and fragment offset
        insn(BPF_JSET_K, 4, 0, 0x1fff),
        insn(BPF_LDX_B_MSH, 0, 0, ETH_HLEN as u32), // X = IP header length
        insn(BPF_LD_H_IND, 0, 0, ETH_HLEN as u32 + 2), // UDP destination port
        insn(BPF_JEQ_K, 0, 1, port as u32),
        insn(BPF_RET_K, 0, 0, 0x0004_0000), // the whole frame
        insn(BPF_RET_K, 0, 0, 0),           // nothing
    ]
}

/// The IPv4 header fields a DHCP server looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub id: u16,
}

/// The UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub len: u16,
    pub checksum: u16,
}

/// One received UDP datagram; `payload` indexes the buffer given to `recv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub ip: Ipv4Header,
    pub udp: UdpHeader,
    pub payload: Range<usize>,
    /// The UDP checksum was not verified here: the kernel sent the frame
    /// with the checksum left to the device (`TP_STATUS_CSUMNOTREADY`), or
    /// the device had verified it already (`TP_STATUS_CSUM_VALID`).
    pub checksum_not_ready: bool,
}

/// Why a frame that passed the filter was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Larger than the receive buffer.
    Truncated,
    /// Too short for the headers it claims.
    Short,
    NotIpv4,
    BadIpHeader,
    IpChecksum,
    NotUdp,
    Fragment,
    BadUdpLength,
    UdpChecksum,
    /// A frame this host sent (packet sockets see outgoing frames too).
    Outgoing,
    /// A unicast frame for another host, seen because the interface is
    /// promiscuous (a bridge port, a capture running): a renewal meant for
    /// another server must not be answered here.
    OtherHost,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FrameError::Truncated => "frame larger than the receive buffer",
            FrameError::Short => "frame too short",
            FrameError::NotIpv4 => "not IPv4",
            FrameError::BadIpHeader => "bad IPv4 header",
            FrameError::IpChecksum => "bad IPv4 header checksum",
            FrameError::NotUdp => "not UDP",
            FrameError::Fragment => "IPv4 fragment",
            FrameError::BadUdpLength => "bad UDP length",
            FrameError::UdpChecksum => "bad UDP checksum",
            FrameError::Outgoing => "outgoing frame",
            FrameError::OtherHost => "frame for another host",
        })
    }
}

/// The Internet checksum (RFC 1071) of `data` added to `initial`, not yet
/// complemented.
fn sum16(data: &[u8], initial: u32) -> u32 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The UDP checksum over the pseudo-header (RFC 768) and `udp` (header with
/// its checksum field, and payload).
fn udp_sum(src: Ipv4Addr, dst: Ipv4Addr, udp: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = IPPROTO_UDP;
    pseudo[10..].copy_from_slice(&(udp.len() as u16).to_be_bytes());
    fold(sum16(udp, sum16(&pseudo, 0)))
}

/// Parses an Ethernet frame holding an IPv4 UDP datagram. The IPv4 header
/// checksum is always verified; the UDP checksum unless `checksum_not_ready`
/// or the sender left it zero (optional over IPv4, RFC 768).
pub fn parse_frame(frame: &[u8], checksum_not_ready: bool) -> Result<Datagram, FrameError> {
    if frame.len() < ETH_HLEN + IP_HLEN + UDP_HLEN {
        return Err(FrameError::Short);
    }
    let mut dst_mac = [0u8; 6];
    let mut src_mac = [0u8; 6];
    dst_mac.copy_from_slice(&frame[0..6]);
    src_mac.copy_from_slice(&frame[6..12]);
    if u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_IPV4 {
        return Err(FrameError::NotIpv4);
    }
    let ip = &frame[ETH_HLEN..];
    if ip[0] >> 4 != 4 {
        return Err(FrameError::NotIpv4);
    }
    let ihl = (ip[0] & 0x0f) as usize * 4;
    let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
    // Ethernet pads short frames to 60 bytes: the IP total length, not the
    // frame length, says where the datagram ends.
    if ihl < IP_HLEN || total < ihl + UDP_HLEN || total > ip.len() {
        return Err(FrameError::BadIpHeader);
    }
    if fold(sum16(&ip[..ihl], 0)) != 0xffff {
        return Err(FrameError::IpChecksum);
    }
    if ip[9] != IPPROTO_UDP {
        return Err(FrameError::NotUdp);
    }
    if u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
        return Err(FrameError::Fragment);
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let udp = &ip[ihl..total];
    let udp_len = u16::from_be_bytes([udp[4], udp[5]]) as usize;
    if udp_len < UDP_HLEN || udp_len > udp.len() {
        return Err(FrameError::BadUdpLength);
    }
    let udp = &udp[..udp_len];
    let checksum = u16::from_be_bytes([udp[6], udp[7]]);
    if !checksum_not_ready && checksum != 0 && udp_sum(src, dst, udp) != 0xffff {
        return Err(FrameError::UdpChecksum);
    }
    let start = ETH_HLEN + ihl + UDP_HLEN;
    Ok(Datagram {
        src_mac,
        dst_mac,
        ip: Ipv4Header {
            src,
            dst,
            ttl: ip[8],
            id: u16::from_be_bytes([ip[4], ip[5]]),
        },
        udp: UdpHeader {
            src_port: u16::from_be_bytes([udp[0], udp[1]]),
            dst_port: u16::from_be_bytes([udp[2], udp[3]]),
            len: udp_len as u16,
            checksum,
        },
        payload: start..start + udp_len - UDP_HLEN,
        checksum_not_ready,
    })
}

/// Builds an Ethernet frame carrying `payload` in UDP from `src` to `dst`,
/// with both checksums computed. None when the payload cannot fit one IPv4
/// datagram.
pub fn build_frame(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let udp_len = UDP_HLEN + payload.len();
    let total = IP_HLEN + udp_len;
    let total16 = u16::try_from(total).ok()?;
    let mut f = Vec::with_capacity(ETH_HLEN + total);
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let ip_at = f.len();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total16.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]); // id, no flags, no fragment offset
    f.extend_from_slice(&[TTL, IPPROTO_UDP, 0, 0]);
    f.extend_from_slice(&src.ip().octets());
    f.extend_from_slice(&dst.ip().octets());
    let ip_sum = !fold(sum16(&f[ip_at..], 0));
    f[ip_at + 10..ip_at + 12].copy_from_slice(&ip_sum.to_be_bytes());
    let udp_at = f.len();
    f.extend_from_slice(&src.port().to_be_bytes());
    f.extend_from_slice(&dst.port().to_be_bytes());
    f.extend_from_slice(&(udp_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    let mut udp_sum_v = !udp_sum(*src.ip(), *dst.ip(), &f[udp_at..]);
    // RFC 768: a computed zero is sent as all ones (zero means "none").
    if udp_sum_v == 0 {
        udp_sum_v = 0xffff;
    }
    f[udp_at + 6..udp_at + 8].copy_from_slice(&udp_sum_v.to_be_bytes());
    Some(f)
}

fn last_error<T>(r: libc::c_int, ok: T) -> io::Result<T> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ok)
    }
}

/// An `AF_PACKET` socket bound to one interface that receives IPv4 UDP to
/// one port and sends whole frames.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
    mac: [u8; 6],
}

impl PacketSocket {
    /// Opens the socket on `ifname` for UDP destination `port` (67 for a
    /// server). Needs `CAP_NET_RAW`.
    pub fn open(ifname: &str, port: u16) -> io::Result<PacketSocket> {
        let iface = interface(ifname)?;
        let ifindex = iface.index;
        let mac = iface.mac.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{ifname} has no hardware address"),
            )
        })?;
        // Protocol 0 receives nothing until bind, so no frame gets past
        // before the filter is attached (packet(7)).
        // SAFETY: socket(2) with constant arguments; the result is checked
        // and owned at once.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        let raw = last_error(raw, raw)?;
        // SAFETY: `raw` is a descriptor we just opened and own alone.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut prog = udp_port_filter(port);
        let fprog = libc::sock_fprog {
            len: prog.len() as libc::c_ushort,
            filter: prog.as_mut_ptr(),
        };
        // SAFETY: setsockopt(2) with a sock_fprog that points at `prog`,
        // which outlives the call (the kernel copies the program).
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&fprog as *const libc::sock_fprog).cast(),
                mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        last_error(r, ())?;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt(2) with a pointer to a c_int of the stated size (packet(7)).
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                (&on as *const libc::c_int).cast(),
                mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        last_error(r, ())?;
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as libc::c_ushort;
        sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        sll.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: bind(2) with a sockaddr_ll of the stated size.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        last_error(r, ())?;
        Ok(PacketSocket { fd, ifindex, mac })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's hardware address, the source of every frame sent.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        let mut flags = nix::fcntl::OFlag::from_bits_truncate(
            nix::fcntl::fcntl(self.fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL)
                .map_err(io::Error::from)?,
        );
        flags.set(nix::fcntl::OFlag::O_NONBLOCK, on);
        nix::fcntl::fcntl(self.fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(flags))
            .map_err(io::Error::from)?;
        Ok(())
    }

    /// A receive timeout (`SO_RCVTIMEO`); None blocks for ever.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        let tv = match t {
            Some(d) => nix::sys::time::TimeVal::new(
                d.as_secs() as libc::time_t,
                d.subsec_micros() as libc::suseconds_t,
            ),
            None => nix::sys::time::TimeVal::new(0, 0),
        };
        nix::sys::socket::setsockopt(&self.fd, nix::sys::socket::sockopt::ReceiveTimeout, &tv)
            .map_err(io::Error::from)
    }

    /// Receives one frame into `buf`. The outer error is the socket's (a
    /// timeout shows as `WouldBlock`); the inner one says why a frame that
    /// passed the filter was dropped, for the caller to count and log.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Result<Datagram, FrameError>> {
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { mem::zeroed() };
        // Aligned room for one tpacket_auxdata control message and more.
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = mem::size_of_val(&control);
        // SAFETY: recvmsg(2) with a msghdr whose name, iovec and control
        // pointers refer to live buffers of the stated sizes; MSG_TRUNC makes
        // it return the frame's real length (packet(7)).
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        let mut not_ready = false;
        // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR walk the control buffer the
        // kernel just filled, within msg_controllen (cmsg(3)); the data of a
        // SOL_PACKET/PACKET_AUXDATA message is a tpacket_auxdata, read
        // unaligned since CMSG_DATA promises no alignment.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_PACKET
                    && (*c).cmsg_type == libc::PACKET_AUXDATA
                    && (*c).cmsg_len as usize
                        >= libc::CMSG_LEN(mem::size_of::<libc::tpacket_auxdata>() as u32) as usize
                {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    // CSUM_VALID: the device verified it already.
                    not_ready = aux.tp_status
                        & (libc::TP_STATUS_CSUMNOTREADY | libc::TP_STATUS_CSUM_VALID)
                        != 0;
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        match from.sll_pkttype {
            libc::PACKET_OUTGOING => return Ok(Err(FrameError::Outgoing)),
            libc::PACKET_OTHERHOST => return Ok(Err(FrameError::OtherHost)),
            _ => {}
        }
        if n > buf.len() {
            return Ok(Err(FrameError::Truncated));
        }
        Ok(parse_frame(&buf[..n], not_ready))
    }

    /// Sends `payload` as UDP from `src` to `dst` in a frame to `dst_mac`
    /// (the client's `chaddr` for link-level unicast, or [`BROADCAST_MAC`]).
    pub fn send(
        &self,
        dst_mac: [u8; 6],
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        let frame = build_frame(dst_mac, self.mac, src, dst, payload).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "payload too large for IPv4")
        })?;
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut to: libc::sockaddr_ll = unsafe { mem::zeroed() };
        to.sll_family = libc::AF_PACKET as libc::c_ushort;
        to.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        to.sll_ifindex = self.ifindex as libc::c_int;
        to.sll_halen = 6;
        to.sll_addr[..6].copy_from_slice(&dst_mac);
        // SAFETY: sendto(2) with a live buffer and a sockaddr_ll of the stated size.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        if r as usize != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short frame write",
            ));
        }
        Ok(())
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// What the server needs to know about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub mac: Option<[u8; 6]>,
    /// IPv4 addresses with their netmasks, primary first.
    pub addrs: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub up: bool,
    pub running: bool,
    pub broadcast: bool,
    pub loopback: bool,
    pub point_to_point: bool,
    pub mtu: Option<u32>,
}

/// Every interface of this network namespace, in the kernel's order.
pub fn interfaces() -> io::Result<Vec<Interface>> {
    let mut out: Vec<Interface> = Vec::new();
    for a in nix::ifaddrs::getifaddrs().map_err(io::Error::from)? {
        // Aliases (`eth0:1`) report under their own label; they belong to the base interface.
        let base = a
            .interface_name
            .split(':')
            .next()
            .unwrap_or(&a.interface_name)
            .to_string();
        let i = match out.iter().position(|i| i.name == base) {
            Some(i) => i,
            None => {
                let f = a.flags;
                out.push(Interface {
                    index: nix::net::if_::if_nametoindex(base.as_str()).unwrap_or(0),
                    mtu: mtu(&base).ok(),
                    name: base,
                    mac: None,
                    addrs: Vec::new(),
                    up: f.contains(InterfaceFlags::IFF_UP),
                    running: f.contains(InterfaceFlags::IFF_RUNNING),
                    broadcast: f.contains(InterfaceFlags::IFF_BROADCAST),
                    loopback: f.contains(InterfaceFlags::IFF_LOOPBACK),
                    point_to_point: f.contains(InterfaceFlags::IFF_POINTOPOINT),
                });
                out.len() - 1
            }
        };
        let Some(addr) = a.address else { continue };
        if let Some(link) = addr.as_link_addr() {
            if let Some(m) = link.addr() {
                out[i].mac = Some(m);
            }
        } else if let Some(v4) = addr.as_sockaddr_in() {
            let mask = a
                .netmask
                .as_ref()
                .and_then(|m| m.as_sockaddr_in())
                .map(|m| m.ip())
                .unwrap_or(Ipv4Addr::BROADCAST);
            out[i].addrs.push((v4.ip(), mask));
        }
    }
    Ok(out)
}

/// One interface by name.
pub fn interface(name: &str) -> io::Result<Interface> {
    interfaces()?
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}")))
}

/// The interface MTU (`SIOCGIFMTU`, netdevice(7)).
fn mtu(name: &str) -> io::Result<u32> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    if cname.as_bytes_with_nul().len() > libc::IFNAMSIZ {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: socket(2) with constant arguments; checked and owned at once.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let raw = last_error(raw, raw)?;
    // SAFETY: `raw` is a descriptor we just opened and own alone.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(cname.as_bytes()) {
        *d = *s as libc::c_char;
    }
    // SAFETY: ioctl(2) SIOCGIFMTU reads ifr_name and writes ifr_mtu of the
    // ifreq we own (netdevice(7)).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU, &mut req) };
    last_error(r, ())?;
    // SAFETY: SIOCGIFMTU filled the ifru_mtu member of the union.
    let m = unsafe { req.ifr_ifru.ifru_mtu };
    Ok(m as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        build_frame(
            BROADCAST_MAC,
            [2, 0, 0, 0, 0, 1],
            SocketAddrV4::new(Ipv4Addr::new(192, 168, 0, 1), 67),
            SocketAddrV4::new(Ipv4Addr::BROADCAST, 68),
            b"hello dhcp",
        )
        .unwrap()
    }

    #[test]
    fn built_frames_parse_back_with_valid_checksums() {
        let f = sample();
        assert_eq!(f.len(), 14 + 20 + 8 + 10);
        let d = parse_frame(&f, false).unwrap();
        assert_eq!(d.src_mac, [2, 0, 0, 0, 0, 1]);
        assert_eq!(d.dst_mac, BROADCAST_MAC);
        assert_eq!(d.ip.src, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(d.ip.dst, Ipv4Addr::BROADCAST);
        assert_eq!((d.udp.src_port, d.udp.dst_port), (67, 68));
        assert_eq!(&f[d.payload], b"hello dhcp");
    }

    #[test]
    fn a_known_ipv4_header_checksum() {
        // RFC 1071 style check against a header worked by hand:
        // 45 00 0073 0000 4000 40 11 ---- c0a8 0001 c0a8 00c7 -> b861
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(!fold(sum16(&h, 0)), 0xb861);
    }

    #[test]
    fn corrupted_checksums_are_refused_unless_not_ready() {
        let mut f = sample();
        let last = f.len() - 1;
        f[last] ^= 0x40;
        assert_eq!(parse_frame(&f, false), Err(FrameError::UdpChecksum));
        assert!(parse_frame(&f, true).is_ok());
        let mut f = sample();
        f[14 + 8] = 1; // TTL changes, header checksum does not
        assert_eq!(parse_frame(&f, true), Err(FrameError::IpChecksum));
    }

    #[test]
    fn zero_udp_checksum_means_none() {
        let mut f = sample();
        f[14 + 20 + 6] = 0;
        f[14 + 20 + 7] = 0;
        assert!(parse_frame(&f, false).is_ok());
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut f = build_frame(
            BROADCAST_MAC,
            [2, 0, 0, 0, 0, 1],
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 68),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 67),
            b"x",
        )
        .unwrap();
        f.resize(60, 0);
        let d = parse_frame(&f, false).unwrap();
        assert_eq!(d.payload.len(), 1);
    }

    #[test]
    fn malformed_frames_are_refused() {
        let f = sample();
        assert_eq!(parse_frame(&f[..30], false), Err(FrameError::Short));
        let mut g = f.clone();
        g[12] = 0x86;
        assert_eq!(parse_frame(&g, false), Err(FrameError::NotIpv4));
        let mut g = f.clone();
        g[14 + 3] = 0xff; // total length beyond the frame
        assert_eq!(parse_frame(&g, false), Err(FrameError::BadIpHeader));
        let mut g = f.clone();
        g[14 + 20 + 5] = 200; // UDP length beyond the datagram
        assert_eq!(parse_frame(&g, true), Err(FrameError::BadUdpLength));
    }

    #[test]
    fn the_filter_jumps_land_on_returns() {
        let p = udp_port_filter(67);
        for (i, ins) in p.iter().enumerate() {
            if ins.code == BPF_JEQ_K || ins.code == BPF_JSET_K {
                for off in [ins.jt, ins.jf] {
                    let t = i + 1 + off as usize;
                    assert!(t < p.len(), "jump from {i} out of the program");
                }
                let fail = if ins.code == BPF_JSET_K {
                    ins.jt
                } else {
                    ins.jf
                };
                assert_eq!(p[i + 1 + fail as usize].k, 0, "failure path from {i}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_frames_never_panic(f in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), ready in proptest::prelude::any::<bool>()) {
            let _ = parse_frame(&f, ready);
        }

        #[test]
        fn built_frames_always_parse(payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), sport in 1u16.., dport in 1u16.., src in proptest::prelude::any::<u32>(), dst in proptest::prelude::any::<u32>()) {
            let src = SocketAddrV4::new(Ipv4Addr::from(src), sport);
            let dst = SocketAddrV4::new(Ipv4Addr::from(dst), dport);
            let f = build_frame(BROADCAST_MAC, [2, 0, 0, 0, 0, 9], src, dst, &payload).unwrap();
            let d = parse_frame(&f, false).unwrap();
            proptest::prop_assert_eq!(&f[d.payload], &payload[..]);
            proptest::prop_assert_eq!((d.ip.src, d.udp.src_port), (*src.ip(), sport));
            proptest::prop_assert_eq!((d.ip.dst, d.udp.dst_port), (*dst.ip(), dport));
        }
    }

    #[test]
    fn loopback_is_listed() {
        let all = interfaces().unwrap();
        let lo = all.iter().find(|i| i.loopback).unwrap();
        assert!(lo.addrs.iter().any(|(a, _)| a.is_loopback()));
        assert!(lo.index > 0);
        assert!(lo.mtu.is_some());
    }
}
