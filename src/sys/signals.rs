//! Signals through a self-pipe that sits in the poll set (STYLE.md §5): the
//! handler only writes the signal number; the serving loop decides what it
//! means, per the original program's reference (D-SIG, X-SIG, T-INETD).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

pub use libc::{SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/// A pipe that receives one byte per delivered signal.
#[derive(Debug)]
pub struct SignalPipe {
    read: OwnedFd,
    _write: OwnedFd,
    ids: Vec<signal_hook::SigId>,
}

impl SignalPipe {
    /// Installs handlers for `signals`; each delivery writes the signal number to the pipe.
    pub fn new(signals: &[i32]) -> io::Result<Self> {
        let (read, write) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(io::Error::from)?;
        let wfd = write.as_raw_fd();
        let mut ids = Vec::new();
        for &sig in signals {
            // SAFETY: the handler calls only write(2), which is async-signal-safe
            // (signal-safety(7)); errno is saved and restored by signal-hook.
            let id = unsafe {
                signal_hook::low_level::register(sig, move || {
                    let b = [sig as u8];
                    libc::write(wfd, b.as_ptr().cast(), 1);
                })
            }?;
            ids.push(id);
        }
        Ok(SignalPipe {
            read,
            _write: write,
            ids,
        })
    }

    /// Reads every pending signal number (non-blocking).
    pub fn drain(&self) -> Vec<i32> {
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match nix::unistd::read(self.read.as_raw_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend(buf[..n].iter().map(|&b| b as i32)),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
        out
    }

    pub fn raw_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
}

impl AsFd for SignalPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Restores the default action of a signal (children must not inherit our handlers' ignore state).
pub fn set_default(sig: i32) {
    // SAFETY: signal(2) with SIG_DFL installs no Rust code.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Ignores a signal (e.g. SIGPIPE in servers that write to sockets).
pub fn ignore(sig: i32) {
    // SAFETY: signal(2) with SIG_IGN installs no Rust code.
    unsafe {
        libc::signal(sig, libc::SIG_IGN);
    }
}

/// Sends `sig` to `pid`.
pub fn kill(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) has no memory effects in this process.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_signal_appears_in_the_pipe() {
        let p = SignalPipe::new(&[SIGUSR2]).unwrap();
        kill(std::process::id(), SIGUSR2).unwrap();
        // Delivery to the process is asynchronous only across threads; poll until it shows.
        let mut fds = [nix::poll::PollFd::new(
            p.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let n = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(5000u16)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(p.drain(), vec![SIGUSR2]);
    }
}
