//! Forking a helper process and reaping children the way tftp-hpa's inetd
//! mode relies on (reference T-INETD-1: SIGCHLD ignored, children reaped by
//! the kernel).

use std::io;

/// Which side of a fork this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Parent { child: u32 },
    Child,
}

/// fork(2). Call only while the process has a single thread.
pub fn fork_single_threaded() -> io::Result<Forked> {
    // SAFETY: the caller has started no threads (documented precondition), so
    // the child's copy of memory and locks is consistent (fork(2), signal-safety(7)).
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent {
            child: child.as_raw() as u32,
        }),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Sets SIGCHLD to SIG_IGN: exited children are reaped by the kernel and never linger as zombies.
pub fn ignore_sigchld() -> io::Result<()> {
    // SAFETY: installing SIG_IGN runs no handler code (signal(2)).
    unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGCHLD,
            nix::sys::signal::SigHandler::SigIgn,
        )
    }
    .map(|_| ())
    .map_err(io::Error::from)
}
