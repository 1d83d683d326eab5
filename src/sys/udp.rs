//! UDP sockets that learn the local address each datagram was sent to
//! (`IP_PKTINFO`) and can send from a chosen local address, so replies on a
//! multi-homed host leave from the address the client talked to.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::sys::socket::{self, sockopt, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn};

/// What `recv` learned about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub peer: SocketAddrV4,
    /// The destination address of the datagram (may be a broadcast address).
    pub local: Option<Ipv4Addr>,
    /// The address the kernel would use as source on that interface (`ipi_spec_dst`).
    pub spec_dst: Option<Ipv4Addr>,
    pub ifindex: u32,
}

/// An IPv4 UDP socket with `IP_PKTINFO` enabled.
#[derive(Debug)]
pub struct PktSocket {
    sock: UdpSocket,
}

impl PktSocket {
    /// Binds `addr` with `SO_REUSEADDR` and `IP_PKTINFO` on.
    pub fn bind(addr: SocketAddrV4) -> io::Result<Self> {
        let fd = socket::socket(
            socket::AddressFamily::Inet,
            socket::SockType::Datagram,
            socket::SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(io::Error::from)?;
        socket::setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(io::Error::from)?;
        socket::bind(fd.as_raw_fd(), &SockaddrIn::from(addr)).map_err(io::Error::from)?;
        Self::from_owned(fd)
    }

    /// Wraps an already bound socket (inetd mode: fd 0 from the super-server).
    pub fn from_owned(fd: OwnedFd) -> io::Result<Self> {
        socket::setsockopt(&fd, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
        Ok(PktSocket {
            sock: UdpSocket::from(fd),
        })
    }

    /// Takes ownership of a raw descriptor, e.g. 0 under inetd `wait = yes`.
    ///
    /// # Safety
    /// `fd` must be an open UDP socket that nothing else owns.
    pub unsafe fn from_raw(fd: RawFd) -> io::Result<Self> {
        // SAFETY: the caller guarantees exclusive ownership of an open socket.
        Self::from_owned(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    pub fn udp(&self) -> &UdpSocket {
        &self.sock
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(t)
    }

    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock.set_broadcast(on)
    }

    /// Binds the socket to one interface (`SO_BINDTODEVICE`).
    pub fn bind_to_device(&self, ifname: &str) -> io::Result<()> {
        socket::setsockopt(
            &self.sock,
            sockopt::BindToDevice,
            &std::ffi::OsString::from(ifname),
        )
        .map_err(io::Error::from)
    }

    /// Never set DF: large TFTP blocks must pass links with a smaller path MTU
    /// (tftp-hpa sets `IP_PMTUDISC_DONT` for the same reason).
    pub fn set_pmtudisc_dont(&self) -> io::Result<()> {
        let v: libc::c_int = libc::IP_PMTUDISC_DONT;
        // SAFETY: setsockopt(2) with a valid fd, level, name and a pointer to a c_int of the stated size.
        let r = unsafe {
            libc::setsockopt(
                self.sock.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_MTU_DISCOVER,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Receives one datagram with its destination address.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        let mut iov = [IoSliceMut::new(buf)];
        let mut cmsg = nix::cmsg_space!(libc::in_pktinfo);
        let msg = socket::recvmsg::<SockaddrIn>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let mut local = None;
        let mut spec_dst = None;
        let mut ifindex = 0;
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::Ipv4PacketInfo(pi) = c {
                    local = Some(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr)));
                    spec_dst = Some(Ipv4Addr::from(u32::from_be(pi.ipi_spec_dst.s_addr)));
                    ifindex = pi.ipi_ifindex as u32;
                }
            }
        }
        let peer = msg
            .address
            .map(|a| SocketAddrV4::new(a.ip(), a.port()))
            .ok_or_else(|| io::Error::other("datagram without a source address"))?;
        Ok(Received {
            len: msg.bytes,
            peer,
            local,
            spec_dst,
            ifindex,
        })
    }

    /// Sends `buf` to `dest` with source address `from` (None: the kernel chooses).
    pub fn send_from(
        &self,
        buf: &[u8],
        dest: SocketAddrV4,
        from: Option<Ipv4Addr>,
    ) -> io::Result<usize> {
        send_from_fd(self.sock.as_fd(), buf, dest, from)
    }
}

/// `sendmsg` with an `IP_PKTINFO` source on any UDP socket.
pub fn send_from_fd(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    dest: SocketAddrV4,
    from: Option<Ipv4Addr>,
) -> io::Result<usize> {
    let iov = [IoSlice::new(buf)];
    let addr = SockaddrIn::from(dest);
    let r = match from {
        Some(src) if !src.is_unspecified() && !src.is_broadcast() => {
            let pi = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from(src).to_be(),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let cm = [ControlMessage::Ipv4PacketInfo(&pi)];
            socket::sendmsg(fd.as_raw_fd(), &iov, &cm, MsgFlags::empty(), Some(&addr))
        }
        _ => socket::sendmsg(fd.as_raw_fd(), &iov, &[], MsgFlags::empty(), Some(&addr)),
    };
    r.map_err(io::Error::from)
}

impl AsFd for PktSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_destination_and_replies_from_it() {
        let server = PktSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let port = server.local_addr().unwrap().port();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        // 127.0.0.2 is a loopback address too; the reply must come from it, not 127.0.0.1.
        client.send_to(b"hi", ("127.0.0.2", port)).unwrap();
        let mut buf = [0u8; 16];
        let r = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..r.len], b"hi");
        assert_eq!(r.local, Some(Ipv4Addr::new(127, 0, 0, 2)));
        server.send_from(b"yo", r.peer, r.local).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"yo");
        assert_eq!(from, SocketAddr::from(([127, 0, 0, 2], port)));
    }
}
