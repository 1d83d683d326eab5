//! The only place for libc and `unsafe`: daemonizing the way SysV init scripts
//! expect (reference I-1..I-7), pid files, signals through a self-pipe, syslog
//! with the originals' idents, privilege dropping, and UDP sockets that know
//! which local address a datagram was sent to.
//!
//! Callers never touch libc; they get small safe types from here.

pub mod clock;
pub mod daemon;
pub mod epoll;
pub mod fsys;
pub mod icmp;
pub mod inet;
pub mod packet;
pub mod pidfile;
pub mod privilege;
pub mod process;
pub mod regex;
pub mod signals;
pub mod sockopt;
pub mod spawn;
pub mod syslog;
pub mod udp;

use std::os::fd::RawFd;

/// Makes sure fds 0, 1 and 2 are open, reopening closed ones on `/dev/null`
/// (ISC dhcpd does this first, reference D-ST-1), so that a later `open` can
/// never land on 0–2 and have log output written into a socket or lease file.
pub fn ensure_std_fds() -> std::io::Result<()> {
    for fd in 0..3 as RawFd {
        // SAFETY: fcntl(F_GETFD) only queries the descriptor table (fcntl(2)).
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
        if !open {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            let raw = std::os::fd::IntoRawFd::into_raw_fd(f);
            if raw != fd {
                // SAFETY: dup2 onto a closed standard fd, then close the spare (dup2(2)).
                unsafe {
                    libc::dup2(raw, fd);
                    libc::close(raw);
                }
            }
        }
    }
    Ok(())
}

/// Sets the process umask and returns the previous one. Daemons set it
/// explicitly: pid files must come out 0644 whatever umask the caller had.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask(2) cannot fail and touches only this process.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Sets the soft and hard core-file size limit to zero or restores it; used by tests
/// of the init-script contract (I-2: `ulimit -S -c 0`).
pub fn pid() -> u32 {
    std::process::id()
}

/// True when running as the super-user; tests and the lab need it for namespaces.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
