//! Logging to syslog with the original programs' idents and formats, through
//! libc's `openlog`/`syslog`: ISC dhcpd 3.0.5 logs as `dhcpd:` without a pid
//! (reference D-ST-2), xinetd and in.tftpd as `name[pid]:`. glibc reconnects
//! to `/dev/log` on every call while unconnected, so a daemon started before
//! the syslog socket exists logs once it appears. Messages can also be
//! mirrored to stderr (`dhcpd -d`, foreground modes).

use std::ffi::CString;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Syslog severities (syslog(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// Syslog facilities by name, as `log-facility`, xinetd's `log_type SYSLOG` and
/// in.tftpd use them.
pub fn facility_from_name(name: &str) -> Option<i32> {
    let f = match name.to_ascii_lowercase().as_str() {
        "kern" => libc::LOG_KERN,
        "user" => libc::LOG_USER,
        "mail" => libc::LOG_MAIL,
        "daemon" => libc::LOG_DAEMON,
        "auth" | "security" => libc::LOG_AUTH,
        "syslog" => libc::LOG_SYSLOG,
        "lpr" => libc::LOG_LPR,
        "news" => libc::LOG_NEWS,
        "uucp" => libc::LOG_UUCP,
        "cron" => libc::LOG_CRON,
        "authpriv" => libc::LOG_AUTHPRIV,
        "ftp" => libc::LOG_FTP,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => return None,
    };
    Some(f)
}

pub fn level_from_name(name: &str) -> Option<Level> {
    Some(match name.to_ascii_lowercase().as_str() {
        "emerg" | "panic" => Level::Emerg,
        "alert" => Level::Alert,
        "crit" => Level::Crit,
        "err" | "error" => Level::Err,
        "warning" | "warn" => Level::Warning,
        "notice" => Level::Notice,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => return None,
    })
}

// openlog(3) keeps the ident pointer: it must live as long as the process.
static IDENT: OnceLock<CString> = OnceLock::new();
static TO_STDERR: AtomicBool = AtomicBool::new(false);
static TO_SYSLOG: AtomicBool = AtomicBool::new(false);

/// Opens syslog once per process. `with_pid` adds `[pid]` to every record.
pub fn open(ident: &str, with_pid: bool, facility: i32) {
    let c = IDENT.get_or_init(|| CString::new(ident.replace('\0', "")).unwrap_or_default());
    let mut opts = libc::LOG_NDELAY;
    if with_pid {
        opts |= libc::LOG_PID;
    }
    // SAFETY: `c` lives in a static for the rest of the process, as openlog(3) requires.
    unsafe { libc::openlog(c.as_ptr(), opts, facility) };
    TO_SYSLOG.store(true, Ordering::Relaxed);
}

/// Re-opens syslog on another facility (dhcpd's `log-facility`).
pub fn reopen(with_pid: bool, facility: i32) {
    if let Some(c) = IDENT.get() {
        let mut opts = libc::LOG_NDELAY;
        if with_pid {
            opts |= libc::LOG_PID;
        }
        // SAFETY: closelog(3)/openlog(3) with the same static ident.
        unsafe {
            libc::closelog();
            libc::openlog(c.as_ptr(), opts, facility);
        }
    }
}

/// Mirrors every message to stderr as well (`-d`, foreground).
pub fn set_stderr(on: bool) {
    TO_STDERR.store(on, Ordering::Relaxed);
}

/// Stops sending to syslog (e.g. `dhcpd -t`, which only prints).
pub fn set_syslog(on: bool) {
    TO_SYSLOG.store(on, Ordering::Relaxed);
}

/// Logs one message at `level` on the facility given to `open`.
pub fn log(level: Level, msg: &str) {
    log_with_facility(level, 0, msg)
}

/// Logs on an explicit facility (0 = the one given to `open`).
pub fn log_with_facility(level: Level, facility: i32, msg: &str) {
    if TO_STDERR.load(Ordering::Relaxed) {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "{msg}");
    }
    if TO_SYSLOG.load(Ordering::Relaxed) {
        let c = CString::new(msg.replace('\0', "")).unwrap_or_default();
        // SAFETY: a constant "%s" format with one C string argument (syslog(3)),
        // so message text can never be read as a format.
        unsafe { libc::syslog(facility | level as i32, c"%s".as_ptr(), c.as_ptr()) };
    }
}

/// Makes a peer-supplied string safe to log: control and non-ASCII bytes as
/// `\ooo` octal escapes (as OpenBSD's strnvis does), at most `max` bytes kept.
pub fn sanitize(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    if bytes.len() > max {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_controls_and_truncates() {
        assert_eq!(sanitize(b"pxelinux.0", 64), "pxelinux.0");
        assert_eq!(sanitize(b"a\nb\x00\xff\\", 64), "a\\012b\\000\\377\\\\");
        assert_eq!(sanitize(b"abcdef", 3), "abc...");
    }

    #[test]
    fn facility_and_level_names() {
        assert_eq!(facility_from_name("LOCAL7"), Some(libc::LOG_LOCAL7));
        assert_eq!(facility_from_name("daemon"), Some(libc::LOG_DAEMON));
        assert_eq!(facility_from_name("nope"), None);
        assert_eq!(level_from_name("warning"), Some(Level::Warning));
    }
}
