//! Detaching from the terminal the way SysV init's `daemon` needs (reference
//! I-2): the starting command's exit status is the verdict, so the parent
//! waits until the child reports that it is up (or why it is not) and exits
//! with that status.
//!
//! Call `detach` before starting any thread: fork(2) copies only the caller.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

/// Held by the daemon after `detach`; tells the waiting parent how start-up went.
#[derive(Debug)]
pub struct Readiness {
    pipe: Option<File>,
}

impl Readiness {
    /// A readiness handle that reports nowhere (foreground mode).
    pub fn foreground() -> Self {
        Readiness { pipe: None }
    }

    /// Start-up is complete: the parent exits 0. Also points fds 0–2 at /dev/null,
    /// as daemons do once they stop talking to the terminal.
    pub fn ready(mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(&[0]);
            redirect_stdio_to_null();
        }
    }

    /// Start-up failed: the parent exits with `code` (1–255).
    pub fn fail(mut self, code: u8) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(&[code.max(1)]);
        }
    }

    pub fn is_detached(&self) -> bool {
        self.pipe.is_some()
    }
}

/// Forks. The parent waits for the child's report and exits with it (1 if the
/// child dies first); the child starts a new session and gets the handle.
pub fn detach() -> std::io::Result<Readiness> {
    let (rd, wr) = nix::unistd::pipe().map_err(std::io::Error::from)?;
    // SAFETY: fork(2) in a process that has started no threads (documented
    // precondition of this function), so the child's copy of the heap and locks is consistent.
    match unsafe { nix::unistd::fork() }.map_err(std::io::Error::from)? {
        nix::unistd::ForkResult::Parent { .. } => {
            drop(wr);
            let mut f = File::from(rd);
            let mut b = [0u8; 1];
            let code = match f.read(&mut b) {
                Ok(1) => b[0] as i32,
                _ => 1,
            };
            std::process::exit(code);
        }
        nix::unistd::ForkResult::Child => {
            drop(rd);
            let _ = nix::unistd::setsid();
            Ok(Readiness {
                pipe: Some(File::from(wr)),
            })
        }
    }
}

/// Forks once without waiting, as ISC dhcpd 3.0.5 does (D-ST-10): the parent
/// exits 0 at once and the child carries on in a new session.
pub fn fork_and_forget() -> std::io::Result<()> {
    // SAFETY: as in `detach`, called before any thread starts.
    match unsafe { nix::unistd::fork() }.map_err(std::io::Error::from)? {
        nix::unistd::ForkResult::Parent { .. } => std::process::exit(0),
        nix::unistd::ForkResult::Child => {
            let _ = nix::unistd::setsid();
            Ok(())
        }
    }
}

/// Points fds 0, 1 and 2 at /dev/null.
pub fn redirect_stdio_to_null() {
    if let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let fd: OwnedFd = f.into();
        let raw = fd.into_raw_fd();
        for target in 0..3 {
            // SAFETY: dup2(2) onto the standard descriptors; `raw` is a valid open fd.
            unsafe {
                libc::dup2(raw, target);
            }
        }
        if raw > 2 {
            // SAFETY: we own `raw` and close it once.
            drop(unsafe { OwnedFd::from_raw_fd(raw) });
        }
    }
}
