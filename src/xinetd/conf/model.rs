//! The effective configuration: one `Service` per enabled entry, with
//! `defaults` merged in and xinetd's built-in values applied (X-DEF-4), so
//! the supervisor never looks at config text.

use crate::diag::Span;
use crate::sys::syslog::Level;
use crate::xinetd::access::{AddrPattern, TimeRange};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    Stream,
    Dgram,
}

impl SocketType {
    pub fn as_str(self) -> &'static str {
        match self {
            SocketType::Stream => "stream",
            SocketType::Dgram => "dgram",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// The `type` attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceTypes {
    pub internal: bool,
    pub unlisted: bool,
    pub rpc: bool,
    pub special: bool,
    pub tcpmux: bool,
    pub tcpmuxplus: bool,
}

/// The `flags` attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub reuse: bool,
    pub intercept: bool,
    pub noretry: bool,
    pub idonly: bool,
    pub nameinargs: bool,
    pub nodelay: bool,
    pub keepalive: bool,
    pub nolibwrap: bool,
    pub sensor: bool,
    pub ipv4: bool,
    pub ipv6: bool,
    pub labeled: bool,
}

impl Flags {
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.reuse, "REUSE"),
            (self.intercept, "INTERCEPT"),
            (self.noretry, "NORETRY"),
            (self.idonly, "IDONLY"),
            (self.nameinargs, "NAMEINARGS"),
            (self.nodelay, "NODELAY"),
            (self.keepalive, "KEEPALIVE"),
            (self.nolibwrap, "NOLIBWRAP"),
            (self.sensor, "SENSOR"),
            (self.ipv4, "IPv4"),
            (self.ipv6, "IPv6"),
            (self.labeled, "LABELED"),
        ];
        all.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect()
    }
}

/// `log_on_success` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SuccessFlags {
    pub pid: bool,
    pub host: bool,
    pub userid: bool,
    pub exit: bool,
    pub duration: bool,
    pub traffic: bool,
}

impl SuccessFlags {
    pub fn any(&self) -> bool {
        self.pid || self.host || self.userid || self.exit || self.duration || self.traffic
    }
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.pid, "PID"),
            (self.host, "HOST"),
            (self.userid, "USERID"),
            (self.exit, "EXIT"),
            (self.duration, "DURATION"),
            (self.traffic, "TRAFFIC"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect()
    }
}

/// `log_on_failure` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureFlags {
    pub host: bool,
    pub userid: bool,
    pub attempt: bool,
}

impl FailureFlags {
    pub fn any(&self) -> bool {
        self.host || self.userid || self.attempt
    }
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.host, "HOST"),
            (self.userid, "USERID"),
            (self.attempt, "ATTEMPT"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect()
    }
}

/// Where a service's START/EXIT/FAIL records go (`log_type`).
#[derive(Debug, Clone, PartialEq)]
pub enum LogTarget {
    Syslog {
        facility: i32,
        facility_name: String,
        level: Level,
        level_name: String,
    },
    File {
        path: PathBuf,
        soft: Option<u64>,
        hard: Option<u64>,
    },
}

/// The `rlimit_*` attributes: None = UNLIMITED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RlimitKind {
    As,
    Cpu,
    Data,
    Rss,
    Stack,
    Files,
}

/// One effective service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub id: String,
    pub head: Span,
    pub socket_type: SocketType,
    pub protocol: Protocol,
    pub wait: bool,
    pub types: ServiceTypes,
    pub flags: Flags,
    /// uid and the user's primary gid; None for INTERNAL services without `user`.
    pub user: Option<(String, u32, u32)>,
    pub group: Option<u32>,
    pub groups: bool,
    pub server: Option<PathBuf>,
    /// argv as exec gets it (argv[0] first: server basename, or the first arg with NAMEINARGS).
    pub argv: Vec<String>,
    pub port: u16,
    pub bind: Option<IpAddr>,
    pub v6only: bool,
    pub only_from: Option<Vec<AddrPattern>>,
    pub no_access: Vec<AddrPattern>,
    pub access_times: Vec<TimeRange>,
    /// None = UNLIMITED.
    pub instances: Option<u32>,
    pub per_source: Option<u32>,
    /// (rate, restart delay in seconds).
    pub cps: (u32, u32),
    /// 0 = off.
    pub max_load: f64,
    pub env: Vec<String>,
    pub passenv: Option<Vec<String>>,
    pub umask: Option<u32>,
    pub nice: Option<i32>,
    pub rlimits: Vec<(RlimitKind, Option<u64>)>,
    pub redirect: Option<(String, u16)>,
    pub banner: Option<PathBuf>,
    pub banner_success: Option<PathBuf>,
    pub banner_fail: Option<PathBuf>,
    pub log_type: Option<LogTarget>,
    pub log_on_success: SuccessFlags,
    pub log_on_failure: FailureFlags,
    /// Minutes; None = not set.
    pub deny_time: Option<i64>,
    pub libwrap: Option<String>,
}

impl Service {
    /// True for services xinetd serves itself (echo, chargen, ...).
    pub fn is_internal(&self) -> bool {
        self.types.internal
    }

    /// The daemon name tcp_wrappers is asked about (X-ACC-2, the `libwrap` row).
    pub fn libwrap_name(&self) -> String {
        if let Some(n) = &self.libwrap {
            return n.clone();
        }
        if self.is_internal() || self.redirect.is_some() {
            return self.name.clone();
        }
        match self.argv.first() {
            Some(a0) if self.flags.nameinargs => a0.rsplit('/').next().unwrap_or(a0).to_string(),
            _ => self
                .server
                .as_ref()
                .and_then(|s| s.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.name.clone()),
        }
    }

    /// True when the listening socket is IPv6 (dual-stack unless v6only).
    pub fn is_ipv6(&self) -> bool {
        match self.bind {
            Some(IpAddr::V6(_)) => true,
            Some(IpAddr::V4(_)) => false,
            None => self.flags.ipv6,
        }
    }

    /// What the service listens on, e.g. `0.0.0.0:69/udp`.
    pub fn listen_text(&self) -> String {
        let addr = match self.bind {
            Some(a) => a.to_string(),
            None if self.is_ipv6() => "::".to_string(),
            None => "0.0.0.0".to_string(),
        };
        if addr.contains(':') {
            format!("[{addr}]:{}/{}", self.port, self.protocol.as_str())
        } else {
            format!("{addr}:{}/{}", self.port, self.protocol.as_str())
        }
    }

    /// The identity used to decide whether a reload changed a service: the
    /// listening socket (address, port, protocol) and what cannot change on reload.
    pub fn socket_key(&self) -> (String, SocketType, bool) {
        (self.listen_text(), self.socket_type, self.wait)
    }
}

/// The whole effective configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub services: Vec<Service>,
    /// Services that were configured but will not run, with the reason.
    pub dropped: Vec<(String, String)>,
}
