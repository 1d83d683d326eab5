//! Socket options for plain std sockets that std does not expose.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Never set DF on this socket (`IP_PMTUDISC_DONT`): large TFTP blocks must
/// pass links with a smaller path MTU, as tftp-hpa arranges.
pub fn set_pmtudisc_dont(fd: BorrowedFd<'_>) -> io::Result<()> {
    let v: libc::c_int = libc::IP_PMTUDISC_DONT;
    // SAFETY: setsockopt(2) with a valid fd, level, name and a pointer to a c_int of the stated size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn sets_pmtudisc_dont_on_a_udp_socket() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        set_pmtudisc_dont(s.as_fd()).unwrap();
    }
}
