//! Listening sockets for a super-server: TCP listeners and UDP sockets bound
//! with SO_REUSEADDR (and IPV6_V6ONLY as asked), blocking, close-on-exec, so
//! that a `wait = yes` server inherits a plain blocking socket on fd 0.

use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

/// A bound (and for TCP listening) socket.
pub fn bind(addr: SocketAddr, stream: bool, v6only: bool, backlog: i32) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let ty = if stream {
        SockType::Stream
    } else {
        SockType::Datagram
    };
    let fd = socket::socket(family, ty, SockFlag::SOCK_CLOEXEC, None).map_err(io::Error::from)?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(io::Error::from)?;
    if addr.is_ipv6() {
        socket::setsockopt(&fd, sockopt::Ipv6V6Only, &v6only).map_err(io::Error::from)?;
    }
    let sa = SockaddrStorage::from(addr);
    socket::bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &sa).map_err(io::Error::from)?;
    if stream {
        let bl = socket::Backlog::new(backlog).unwrap_or(socket::Backlog::MAXCONN);
        socket::listen(&fd, bl).map_err(io::Error::from)?;
    }
    Ok(fd)
}

/// Sets TCP_NODELAY / SO_KEEPALIVE on an accepted connection (xinetd's flags).
pub fn set_stream_options<F: std::os::fd::AsFd>(fd: &F, nodelay: bool, keepalive: bool) {
    if nodelay {
        let _ = socket::setsockopt(fd, sockopt::TcpNoDelay, &true);
    }
    if keepalive {
        let _ = socket::setsockopt(fd, sockopt::KeepAlive, &true);
    }
}

/// The inode of a socket (what `/proc/PID/fd` shows as `socket:[N]`).
pub fn inode(fd: &OwnedFd) -> Option<u64> {
    nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(fd))
        .ok()
        .map(|s| s.st_ino)
}
