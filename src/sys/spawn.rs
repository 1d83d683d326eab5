//! Executing a spawn plan: fork, then in the child set credentials, nice,
//! the socket on fds 0/1/2, rlimits, umask, a new session, default signal
//! dispositions, and exec. The plan itself is built elsewhere (xinetd's
//! `launch`) without touching the process; this file only carries it out.
//!
//! Fork only from a single-threaded process: the child runs Rust code (the
//! access checks xinetd makes after forking) before exec, which is sound only
//! when no other thread could have held a lock at the fork.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// The rlimit resources a super-server sets (xinetd's `rlimit_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    As,
    Cpu,
    Data,
    Rss,
    Stack,
    Nofile,
}

/// User, group and supplementary groups for the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Everything the child does between fork and exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub program: PathBuf,
    pub argv: Vec<String>,
    /// `NAME=value` strings, the whole environment of the new program.
    pub env: Vec<String>,
    /// Put on fds 0, 1 and 2 (close-on-exec cleared).
    pub stdio: Option<RawFd>,
    pub credentials: Option<Credentials>,
    pub umask: Option<u32>,
    pub nice: Option<i32>,
    /// None = RLIM_INFINITY.
    pub rlimits: Vec<(Resource, Option<u64>)>,
    pub setsid: bool,
}

/// Which side of a fork we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Parent(u32),
    Child,
}

/// fork(2). See the module note: call only while single-threaded.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the super-server is single-threaded (DESIGN.md: no threads in
    // xinetd), so the child's copy of every lock and allocator state is
    // consistent and it may run ordinary code before exec (fork(2)).
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child.as_raw() as u32)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Drops to the plan's user and groups, then applies nice (xinetd's order).
pub fn apply_credentials(plan: &Plan) -> io::Result<()> {
    if let Some(c) = &plan.credentials {
        if nix::unistd::geteuid().is_root() {
            super::privilege::drop_to(c.uid, c.gid, &c.groups)?;
        }
    }
    if let Some(n) = plan.nice {
        // SAFETY: nice(2) only changes this process's priority.
        unsafe {
            *libc::__errno_location() = 0;
            libc::nice(n);
        }
    }
    Ok(())
}

/// Supplementary groups of a user (initgroups(3) semantics), primary group included.
pub fn user_groups(name: &str, gid: u32) -> Vec<u32> {
    let Ok(c) = CString::new(name) else {
        return vec![gid];
    };
    match nix::unistd::getgrouplist(&c, nix::unistd::Gid::from_raw(gid)) {
        Ok(g) => g.into_iter().map(|g| g.as_raw()).collect(),
        Err(_) => vec![gid],
    }
}

fn resource(r: Resource) -> libc::__rlimit_resource_t {
    match r {
        Resource::As => libc::RLIMIT_AS,
        Resource::Cpu => libc::RLIMIT_CPU,
        Resource::Data => libc::RLIMIT_DATA,
        Resource::Rss => libc::RLIMIT_RSS,
        Resource::Stack => libc::RLIMIT_STACK,
        Resource::Nofile => libc::RLIMIT_NOFILE,
    }
}

/// Finishes the child's set-up and execs. Returns only on failure.
pub fn exec(plan: &Plan) -> io::Error {
    let prog = match CString::new(plan.program.as_os_str().as_encoded_bytes()) {
        Ok(p) => p,
        Err(_) => return io::Error::other("program path holds a NUL"),
    };
    let argv: Vec<CString> = plan
        .argv
        .iter()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let env: Vec<CString> = plan
        .env
        .iter()
        .filter_map(|e| CString::new(e.as_bytes()).ok())
        .collect();
    if let Some(fd) = plan.stdio {
        for target in 0..3 {
            // SAFETY: dup2(2) onto the standard descriptors of the child; the
            // copies have close-on-exec cleared, which is what the server needs.
            if unsafe { libc::dup2(fd, target) } < 0 {
                return io::Error::last_os_error();
            }
        }
        if fd > 2 {
            // SAFETY: the original is no longer needed in the child (close(2)).
            unsafe { libc::close(fd) };
        }
    }
    for (r, v) in &plan.rlimits {
        let lim = v.unwrap_or(libc::RLIM_INFINITY);
        let rl = libc::rlimit {
            rlim_cur: lim,
            rlim_max: lim,
        };
        // SAFETY: setrlimit(2) with a valid struct.
        unsafe { libc::setrlimit(resource(*r), &rl) };
    }
    if let Some(m) = plan.umask {
        super::set_umask(m);
    }
    if plan.setsid {
        let _ = nix::unistd::setsid();
    }
    // Servers expect default dispositions and an empty mask; Rust's runtime ignores SIGPIPE.
    for sig in [
        libc::SIGPIPE,
        libc::SIGCHLD,
        libc::SIGHUP,
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ] {
        super::signals::set_default(sig);
    }
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    match nix::unistd::execve(&prog, &argv, &env) {
        Err(e) => io::Error::from(e),
        Ok(_) => io::Error::other("execve returned"),
    }
}

/// Ends the child at once, without running destructors or flushing parent buffers (_exit(2)).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) never returns and touches no shared state.
    unsafe { libc::_exit(code) }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Status(i32),
    Signal(i32),
}

/// Reaps every child that has ended (waitpid WNOHANG until none is left).
pub fn reap() -> Vec<(u32, Exit)> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let mut out = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                out.push((pid.as_raw() as u32, Exit::Status(code)))
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) => {
                out.push((pid.as_raw() as u32, Exit::Signal(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    out
}

/// Raises the soft open-files limit to the hard one, capped (X-ST-1).
pub fn raise_nofile(cap: u64) {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit(2) with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 {
            rl.rlim_cur = rl.rlim_max.min(cap).max(rl.rlim_cur);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}

/// Closes every descriptor above 2 that this process inherited (X-ST-1), so
/// nothing the starting shell left open reaches the servers.
pub fn close_inherited_fds() {
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
            .filter(|&fd| fd > 2)
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds {
        // SAFETY: called first thing in main, before this process opens or owns
        // any descriptor above 2 (the directory handle above is already closed);
        // close(2) of an unknown number is harmless (EBADF).
        unsafe { libc::close(fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_has_groups() {
        assert!(user_groups("root", 0).contains(&0));
    }
}
