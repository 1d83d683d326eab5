//! Helpers every integration test uses: requirements that fail under
//! `CI=true` and skip loudly otherwise, paths to our binaries and the real
//! peers, and the namespace, sink and daemon plumbing re-exported from
//! `pxesuite::lab`.
#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use pxesuite::lab::netns::{unique_name, veth, Netns};
pub use pxesuite::lab::proc::{command, wait_tcp_port, wait_udp_port, wait_until, Daemon};
pub use pxesuite::lab::sink::{Record, ScratchDir, SyslogSink};

pub mod peers;

/// A generous bound for readiness waits; tests never rely on it to pass.
pub const READY: Duration = Duration::from_secs(20);

/// True when the run is CI's: a test that cannot run must fail, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Records a skip (counted by tests/run.sh through `PXESUITE_SKIP_LOG`) or,
/// under CI, fails the test. Use through the `require!` macro.
pub fn skip(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: cannot run under CI=true: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Ok(p) = std::env::var("PXESUITE_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{test}\t{reason}");
        }
    }
}

/// `require!(cond, "reason")`: skip (or fail under CI) when `cond` is false.
#[macro_export]
macro_rules! require {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            $crate::harness::skip(module_path!(), &format!($($why)+));
            return;
        }
    };
}

/// Why a namespace test cannot run here, if it cannot.
pub fn namespace_blocker() -> Option<String> {
    if !pxesuite::sys::is_root() {
        return Some("needs root for network namespaces".into());
    }
    if which("ip").is_none() || which("unshare").is_none() {
        return Some("needs iproute2 and util-linux".into());
    }
    None
}

/// Finds a program on PATH or in the sbin directories.
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.exists().then_some(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// Our own binaries, built by cargo for this test run.
pub fn ours(name: &str) -> PathBuf {
    match name {
        "dhcpd" => PathBuf::from(env!("CARGO_BIN_EXE_dhcpd")),
        "xinetd" => PathBuf::from(env!("CARGO_BIN_EXE_xinetd")),
        "in.tftpd" => ours_in_tftpd(),
        "pxesuite-lab" => PathBuf::from(env!("CARGO_BIN_EXE_pxesuite-lab")),
        other => panic!("no binary {other}"),
    }
}

/// `in.tftpd` as a link to the `in-tftpd` build, so `argv[0]` and the syslog ident are right.
pub fn ours_in_tftpd() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_in-tftpd"));
    let link = built.with_file_name("in.tftpd");
    if std::fs::read_link(&link).ok().as_deref() != Some(built.as_path()) {
        // Another test may create it at the same moment: a failure here is fine if the link exists.
        let tmp = built.with_file_name(format!("in.tftpd.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(&built, &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, &link);
        }
    }
    link
}

/// A strings vector from literals.
pub fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}
