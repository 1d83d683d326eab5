//! From entries to the effective model, with xinetd 2.3.14's rules:
//! attribute value counts and parsers (X-SYN-5, section 3.9), `defaults`
//! merging (X-DEF-1..4), enabling and disabling (X-EN-1..3) and required
//! attributes (X-REQ). Every message keeps xinetd's wording and level.

use super::ast::{Attr, Entry, EntryKind, Op};
use super::model::*;
use super::Finding;
use crate::diag::{SourceMap, Span};
use crate::sys::syslog::{self, Level};
use crate::xinetd::access::{AddrPattern, TimeRange};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;

/// How many values an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Exact(usize),
    AtLeastOne,
    Any,
}

/// (name, allowed in defaults, value count, supports `+=`/`-=`).
const ATTRIBUTES: &[(&str, bool, Count, bool)] = &[
    ("id", false, Count::Exact(1), false),
    ("type", false, Count::AtLeastOne, false),
    ("flags", false, Count::AtLeastOne, false),
    ("disable", false, Count::Exact(1), false),
    ("socket_type", false, Count::Exact(1), false),
    ("protocol", false, Count::Exact(1), false),
    ("wait", false, Count::Exact(1), false),
    ("user", false, Count::Exact(1), false),
    ("group", false, Count::Exact(1), false),
    ("groups", true, Count::Exact(1), false),
    ("server", false, Count::Exact(1), false),
    ("server_args", false, Count::AtLeastOne, false),
    ("port", false, Count::Exact(1), false),
    ("instances", true, Count::Exact(1), false),
    ("per_source", true, Count::Exact(1), false),
    ("cps", true, Count::Exact(2), false),
    ("max_load", true, Count::Exact(1), false),
    ("only_from", true, Count::Any, true),
    ("no_access", true, Count::Any, true),
    ("access_times", false, Count::AtLeastOne, false),
    ("log_type", true, Count::AtLeastOne, false),
    ("log_on_success", true, Count::Any, true),
    ("log_on_failure", true, Count::Any, true),
    ("rpc_version", false, Count::Exact(1), false),
    ("rpc_number", false, Count::Exact(1), false),
    ("env", false, Count::Any, true),
    ("passenv", true, Count::Any, true),
    ("redirect", false, Count::AtLeastOne, false),
    ("bind", true, Count::Exact(1), false),
    ("interface", true, Count::Exact(1), false),
    ("banner", true, Count::Exact(1), false),
    ("banner_success", true, Count::Exact(1), false),
    ("banner_fail", true, Count::Exact(1), false),
    ("nice", false, Count::Exact(1), false),
    ("umask", true, Count::Exact(1), false),
    ("rlimit_as", false, Count::Exact(1), false),
    ("rlimit_cpu", false, Count::Exact(1), false),
    ("rlimit_data", false, Count::Exact(1), false),
    ("rlimit_rss", false, Count::Exact(1), false),
    ("rlimit_stack", false, Count::Exact(1), false),
    // Not in 2.3.14 (Δ 2.3.15); accepted because newer files use it.
    ("rlimit_files", false, Count::Exact(1), false),
    ("deny_time", false, Count::Exact(1), false),
    ("v6only", true, Count::Exact(1), false),
    ("libwrap", false, Count::Exact(1), false),
    ("enabled", true, Count::Any, true),
    ("disabled", true, Count::Any, true),
];

fn attribute(name: &str) -> Option<(bool, Count, bool)> {
    ATTRIBUTES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, d, c, m)| (d, c, m))
}

/// An entry's attributes as read so far; `None` = not set.
#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    head: Option<Span>,
    id: Option<String>,
    types: Option<ServiceTypes>,
    flags: Option<Flags>,
    disable: Option<bool>,
    socket_type: Option<(String, Span)>,
    protocol: Option<String>,
    wait: Option<bool>,
    user: Option<(String, u32, u32)>,
    group: Option<u32>,
    groups: Option<bool>,
    server: Option<PathBuf>,
    server_args: Option<Vec<String>>,
    port: Option<u16>,
    instances: Option<Option<u32>>,
    per_source: Option<Option<u32>>,
    cps: Option<(u32, u32)>,
    max_load: Option<f64>,
    only_from: Option<Vec<AddrPattern>>,
    no_access: Option<Vec<AddrPattern>>,
    access_times: Option<Vec<TimeRange>>,
    log_type: Option<LogTarget>,
    log_on_success: Option<SuccessFlags>,
    log_on_failure: Option<FailureFlags>,
    rpc: bool,
    env: Option<Vec<String>>,
    passenv: Option<Vec<String>>,
    redirect: Option<(String, u16)>,
    bind: Option<IpAddr>,
    banner: Option<PathBuf>,
    banner_success: Option<PathBuf>,
    banner_fail: Option<PathBuf>,
    nice: Option<i32>,
    umask: Option<u32>,
    rlimits: Vec<(RlimitKind, Option<u64>)>,
    deny_time: Option<i64>,
    v6only: Option<bool>,
    libwrap: Option<String>,
    enabled: Option<Vec<String>>,
    disabled: Option<Vec<String>>,
    /// Attributes set by this entry's own lines (for "attribute already set").
    seen: Vec<String>,
    /// A value was rejected: the service is disabled (X-SYN-5).
    failed: bool,
}

struct Ctx<'a> {
    findings: &'a mut Vec<Finding>,
    env: &'a [(String, String)],
}

impl Ctx<'_> {
    fn warn(&mut self, span: Span, msg: String) {
        self.findings.push(Finding::at(Level::Warning, span, msg));
    }
    fn err(&mut self, span: Span, msg: String) {
        self.findings.push(Finding::at(Level::Err, span, msg));
    }
}

/// Builds the model. None when `defaults` holds a rejected value (xinetd exits, X-SYN-5).
pub fn build(
    entries: &[Entry],
    _map: &SourceMap,
    env: &[(String, String)],
    findings: &mut Vec<Finding>,
) -> Option<Config> {
    let mut b = Builder::new(env);
    for e in entries {
        b.entry(e, findings);
    }
    b.finish(findings)
}

/// Takes entries one at a time, in reading order, as the parser completes them.
#[derive(Debug)]
pub struct Builder<'e> {
    env: &'e [(String, String)],
    defaults: Draft,
    drafts: Vec<Draft>,
    fatal: bool,
}

impl<'e> Builder<'e> {
    pub fn new(env: &'e [(String, String)]) -> Self {
        Builder {
            env,
            defaults: Draft {
                name: "defaults".into(),
                ..Draft::default()
            },
            drafts: Vec::new(),
            fatal: false,
        }
    }

    /// Applies one entry's attributes (messages in line order).
    pub fn entry(&mut self, entry: &Entry, findings: &mut Vec<Finding>) {
        if self.fatal {
            return;
        }
        let mut ctx = Ctx {
            findings,
            env: self.env,
        };
        match &entry.kind {
            EntryKind::Defaults => {
                self.defaults.seen.clear();
                for a in &entry.attrs {
                    apply(&mut self.defaults, a, true, &mut ctx);
                    if self.defaults.failed {
                        ctx.findings.push(Finding::plain(
                            Level::Crit,
                            "A fatal error was encountered while parsing the default section. xinetd will exit.",
                        ));
                        self.fatal = true;
                        return;
                    }
                }
            }
            EntryKind::Service(name) => {
                let defaults = &self.defaults;
                // X-DEF-1: set-valued attributes are copied before the service's own lines.
                let mut d = Draft {
                    name: name.clone(),
                    head: Some(entry.head),
                    log_on_success: defaults.log_on_success,
                    log_on_failure: defaults.log_on_failure,
                    only_from: defaults.only_from.clone(),
                    no_access: defaults.no_access.clone(),
                    passenv: defaults.passenv.clone(),
                    banner: defaults.banner.clone(),
                    banner_success: defaults.banner_success.clone(),
                    banner_fail: defaults.banner_fail.clone(),
                    ..Draft::default()
                };
                for a in &entry.attrs {
                    apply(&mut d, a, false, &mut ctx);
                    if d.disable == Some(true) {
                        // xinetd reads no further once a service says `disable = yes`:
                        // later lines are neither checked nor reported.
                        break;
                    }
                }
                if !entry.dropped {
                    self.drafts.push(d);
                }
            }
        }
    }

    /// Defaults, enabling and disabling, required attributes. None after a fatal `defaults` error.
    pub fn finish(self, findings: &mut Vec<Finding>) -> Option<Config> {
        if self.fatal {
            return None;
        }
        let mut ctx = Ctx {
            findings,
            env: self.env,
        };
        Some(finish(self.drafts, &self.defaults, &mut ctx))
    }
}

/// Applies one attribute line to a draft.
fn apply(d: &mut Draft, a: &Attr, in_defaults: bool, ctx: &mut Ctx<'_>) {
    let Some((defaults_ok, count, modifiable)) = attribute(&a.name) else {
        if in_defaults {
            ctx.warn(
                a.name_span,
                format!("attribute: {} should not be in default section", a.name),
            );
        } else {
            ctx.warn(a.name_span, format!("bad service attribute: {}", a.name));
        }
        return;
    };
    if in_defaults && !defaults_ok {
        ctx.warn(
            a.name_span,
            format!("attribute: {} should not be in default section", a.name),
        );
        return;
    }
    if !in_defaults && (a.name == "enabled" || a.name == "disabled") {
        ctx.warn(a.name_span, format!("bad service attribute: {}", a.name));
        return;
    }
    let n = a.values.len();
    match count {
        Count::Exact(k) if n != k => {
            ctx.warn(
                a.span,
                format!(
                    "attribute {} expects {} values and {} values were specified",
                    a.name, k, n
                ),
            );
            return;
        }
        Count::AtLeastOne if n == 0 => {
            ctx.warn(
                a.span,
                format!(
                    "attribute {} expects at least 1 value and none was given.",
                    a.name
                ),
            );
            fail(d, a, ctx);
            return;
        }
        _ => {}
    }
    if a.op != Op::Set && !modifiable {
        ctx.warn(
            a.span,
            format!(
                "Service {}: operator '{}' cannot be used for attribute '{}'",
                d.name,
                a.op.as_str(),
                a.name
            ),
        );
        return;
    }
    // X-DEF-2: inside defaults, `=` on a set-valued attribute accumulates.
    let op = if in_defaults && modifiable && a.op == Op::Set {
        Op::Add
    } else {
        a.op
    };
    if a.op == Op::Set && !(in_defaults && modifiable) && d.seen.iter().any(|s| s == &a.name) {
        ctx.warn(
            a.span,
            format!("Service {}: attribute already set: {}", d.name, a.name),
        );
        return;
    }
    d.seen.push(a.name.clone());
    if parse_value(d, a, op, ctx).is_err() {
        fail(d, a, ctx);
    }
}

fn fail(d: &mut Draft, a: &Attr, ctx: &mut Ctx<'_>) {
    ctx.err(
        a.span,
        format!("Error parsing attribute {} - DISABLING SERVICE", a.name),
    );
    d.failed = true;
}

fn first(a: &Attr) -> &str {
    a.values.first().map(|v| v.text.as_str()).unwrap_or("")
}

fn yes_no(a: &Attr, ctx: &mut Ctx<'_>, what: &str) -> Result<bool, ()> {
    match first(a) {
        "yes" => Ok(true),
        "no" => Ok(false),
        v => {
            let msg = if what.is_empty() {
                format!("Bad value: {v}")
            } else {
                format!("Bad value for {what}: {v}")
            };
            ctx.err(a.span, msg);
            Err(())
        }
    }
}

/// The unsigned decimal number xinetd's parse_base10 accepts.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn limit(a: &Attr, ctx: &mut Ctx<'_>, what: &str) -> Result<Option<u32>, ()> {
    let v = first(a);
    if v == "UNLIMITED" {
        return Ok(None);
    }
    number(v)
        .map(Some)
        .ok_or_else(|| ctx.err(a.span, format!("{what}: {v}")))
}

/// `<num>[k|K|m|M]` as rlimits and log file sizes are written.
fn size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024u64),
        'm' | 'M' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

fn parse_value(d: &mut Draft, a: &Attr, op: Op, ctx: &mut Ctx<'_>) -> Result<(), ()> {
    let v = first(a).to_string();
    match a.name.as_str() {
        "id" => d.id = Some(v),
        "type" => {
            let mut t = ServiceTypes::default();
            for w in a.texts() {
                match w {
                    "RPC" => t.rpc = true,
                    "INTERNAL" => t.internal = true,
                    "UNLISTED" => t.unlisted = true,
                    "SPECIAL" => t.special = true,
                    "TCPMUX" => t.tcpmux = true,
                    "TCPMUXPLUS" => t.tcpmuxplus = true,
                    _ => {
                        ctx.warn(a.span, format!("Bad service type: {w}"));
                        return Err(());
                    }
                }
            }
            d.types = Some(t);
        }
        "flags" => {
            let mut f = Flags::default();
            for w in a.texts() {
                match w {
                    "REUSE" => f.reuse = true,
                    "INTERCEPT" => f.intercept = true,
                    "NORETRY" => f.noretry = true,
                    "IDONLY" => f.idonly = true,
                    "NAMEINARGS" => f.nameinargs = true,
                    "NODELAY" => f.nodelay = true,
                    "KEEPALIVE" => f.keepalive = true,
                    "NOLIBWRAP" => f.nolibwrap = true,
                    "SENSOR" => f.sensor = true,
                    "IPv4" => f.ipv4 = true,
                    "IPv6" => f.ipv6 = true,
                    "LABELED" => f.labeled = true,
                    _ => {
                        ctx.warn(a.span, format!("Bad service flag: {w}"));
                        return Err(());
                    }
                }
            }
            d.flags = Some(f);
        }
        "disable" => d.disable = Some(yes_no(a, ctx, "")?),
        "socket_type" => match v.as_str() {
            "stream" | "dgram" | "raw" | "seqpacket" => d.socket_type = Some((v, a.span)),
            _ => {
                ctx.err(a.span, format!("Bad socket type: {v}"));
                return Err(());
            }
        },
        "protocol" => {
            if !protocol_known(&v) {
                ctx.err(a.span, format!("Protocol {v} not in /etc/protocols"));
                return Err(());
            }
            d.protocol = Some(v);
        }
        "wait" => d.wait = Some(yes_no(a, ctx, "wait")?),
        "user" => match crate::sys::privilege::lookup_user(&v) {
            Ok(Some(acc)) => d.user = Some((acc.name, acc.uid, acc.gid)),
            _ if number(&v).is_some() => {
                let uid = number(&v).unwrap_or(0);
                d.user = Some((v.clone(), uid, uid));
            }
            _ => {
                ctx.err(a.span, format!("Unknown user: {v}"));
                return Err(());
            }
        },
        "group" => match crate::sys::privilege::lookup_group(&v) {
            Ok(Some(gid)) => d.group = Some(gid),
            _ => {
                ctx.err(a.span, format!("Unknown group: {v}"));
                return Err(());
            }
        },
        "groups" => d.groups = Some(yes_no(a, ctx, "groups")?),
        "server" => {
            if nix::unistd::access(v.as_str(), nix::unistd::AccessFlags::X_OK).is_err() {
                ctx.err(a.span, format!("Server {v} is not executable"));
                return Err(());
            }
            d.server = Some(PathBuf::from(v));
        }
        "server_args" => d.server_args = Some(a.texts().iter().map(|s| s.to_string()).collect()),
        "port" => match number(&v).filter(|&p| p < 65536) {
            Some(p) => d.port = Some(p as u16),
            None => {
                ctx.err(a.span, "port number is invalid".into());
                return Err(());
            }
        },
        "instances" => d.instances = Some(limit(a, ctx, "Number of instances is invalid")?),
        "per_source" => {
            d.per_source = Some(limit(a, ctx, "Number of per source instances is invalid")?)
        }
        "cps" => {
            let vals = a.texts();
            let rate = number(vals[0])
                .ok_or_else(|| ctx.err(a.span, "cps argument not a number".into()))?;
            let wait = number(vals[1])
                .ok_or_else(|| ctx.err(a.span, "cps time argument not a number".into()))?;
            d.cps = Some((rate, wait));
        }
        "max_load" => {
            let f: f64 = v
                .parse()
                .map_err(|_| ctx.err(a.span, "error reading max_load argument".into()))?;
            if f == 0.0 {
                ctx.err(a.span, "error parsing max_load argument".into());
                return Err(());
            }
            d.max_load = Some(f);
        }
        "only_from" | "no_access" => {
            let list = if a.name == "only_from" {
                &mut d.only_from
            } else {
                &mut d.no_access
            };
            let mut cur = if op == Op::Set {
                Vec::new()
            } else {
                list.clone().unwrap_or_default()
            };
            for w in &a.values {
                if w.text.contains(',') && !w.text.contains('{') {
                    ctx.err(
                        w.span,
                        format!("Address: {} has a comma in it - remove the comma", w.text),
                    );
                    return Err(());
                }
                let p = AddrPattern::parse(&w.text)
                    .map_err(|_| ctx.err(w.span, format!("Failed adding: {}", w.text)))?;
                if op == Op::Remove {
                    cur.retain(|q| q != &p);
                } else if !cur.contains(&p) {
                    cur.push(p);
                }
            }
            *list = Some(cur);
        }
        "access_times" => {
            let mut out = Vec::new();
            for w in &a.values {
                match TimeRange::parse(&w.text) {
                    Some(r) => out.push(r),
                    None => {
                        ctx.err(w.span, format!("Bad time interval: {}", w.text));
                        return Err(());
                    }
                }
            }
            d.access_times = Some(out);
        }
        "log_type" => d.log_type = Some(parse_log_type(a, ctx)?),
        "log_on_success" => {
            let mut f = if op == Op::Set {
                SuccessFlags::default()
            } else {
                d.log_on_success.unwrap_or_default()
            };
            let on = op != Op::Remove;
            for w in a.texts() {
                match w {
                    "PID" => f.pid = on,
                    "HOST" => f.host = on,
                    "USERID" => f.userid = on,
                    "EXIT" => f.exit = on,
                    "DURATION" => f.duration = on,
                    "TRAFFIC" => f.traffic = on,
                    _ => {
                        ctx.warn(a.span, format!("Bad log_on_success flag: {w}"));
                        return Err(());
                    }
                }
            }
            d.log_on_success = Some(f);
        }
        "log_on_failure" => {
            let mut f = if op == Op::Set {
                FailureFlags::default()
            } else {
                d.log_on_failure.unwrap_or_default()
            };
            let on = op != Op::Remove;
            for w in a.texts() {
                match w {
                    "HOST" => f.host = on,
                    "USERID" => f.userid = on,
                    "ATTEMPT" => f.attempt = on,
                    // RECORD existed in older releases; xinetd 2.3.14 still accepts the word.
                    "RECORD" => {}
                    _ => {
                        ctx.warn(a.span, format!("Bad log_on_failure flag: {w}"));
                        return Err(());
                    }
                }
            }
            d.log_on_failure = Some(f);
        }
        "rpc_version" | "rpc_number" => d.rpc = true,
        "env" => {
            if op == Op::Remove {
                ctx.warn(
                    a.span,
                    "operator '-=' not supported for env attribute".into(),
                );
                return Err(());
            }
            let mut cur = if op == Op::Set {
                Vec::new()
            } else {
                d.env.clone().unwrap_or_default()
            };
            for w in a.texts() {
                if !w.contains('=') {
                    ctx.err(a.span, format!("{w} has no '='"));
                    return Err(());
                }
                cur.push(w.to_string());
            }
            d.env = Some(cur);
        }
        "passenv" => {
            let mut cur = if op == Op::Set {
                Vec::new()
            } else {
                d.passenv.clone().unwrap_or_default()
            };
            for w in a.texts() {
                let found = cur.iter().any(|c| c == w);
                if op == Op::Remove {
                    cur.retain(|c| c != w);
                } else if !found {
                    if !ctx.env.iter().any(|(k, _)| k == w) {
                        ctx.warn(a.span, format!("undefined environment variable: {w}"));
                        continue;
                    }
                    cur.push(w.to_string());
                }
            }
            d.passenv = Some(cur);
        }
        "redirect" => {
            let vals = a.texts();
            let (host, port) = match vals.as_slice() {
                [h, p] => (h.to_string(), p.to_string()),
                [hp] => match hp.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p.to_string()),
                    None => {
                        ctx.err(a.span, "port number invalid".into());
                        return Err(());
                    }
                },
                _ => {
                    ctx.err(a.span, "port number invalid".into());
                    return Err(());
                }
            };
            let port = number(&port)
                .filter(|&p| p > 0)
                .or_else(|| services_port(&port, "tcp").map(u32::from))
                .ok_or_else(|| ctx.err(a.span, "port number invalid".into()))?;
            if port >= 65536 {
                ctx.err(a.span, "port number too large".into());
                return Err(());
            }
            d.redirect = Some((host, port as u16));
        }
        "bind" | "interface" => {
            let ip = v.parse::<IpAddr>().ok().or_else(|| {
                (v.as_str(), 0u16)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut it| it.next())
                    .map(|sa| sa.ip())
            });
            match ip {
                Some(ip) => d.bind = Some(ip),
                None => {
                    ctx.err(a.span, format!("bad address: {v}"));
                    return Err(());
                }
            }
        }
        "banner" => d.banner = Some(PathBuf::from(v)),
        "banner_success" => d.banner_success = Some(PathBuf::from(v)),
        "banner_fail" => d.banner_fail = Some(PathBuf::from(v)),
        "nice" => match v.parse::<i32>() {
            Ok(n) => d.nice = Some(n),
            Err(_) => {
                ctx.err(a.span, format!("Bad value for nice: {v}"));
                return Err(());
            }
        },
        "umask" => match u32::from_str_radix(&v, 8) {
            Ok(m) if m <= 0o777 => d.umask = Some(m),
            _ => {
                ctx.err(a.span, format!("umask argument is invalid: {v}"));
                return Err(());
            }
        },
        "rlimit_as" | "rlimit_cpu" | "rlimit_data" | "rlimit_rss" | "rlimit_stack"
        | "rlimit_files" => {
            let kind = match a.name.as_str() {
                "rlimit_as" => RlimitKind::As,
                "rlimit_cpu" => RlimitKind::Cpu,
                "rlimit_data" => RlimitKind::Data,
                "rlimit_rss" => RlimitKind::Rss,
                "rlimit_stack" => RlimitKind::Stack,
                _ => RlimitKind::Files,
            };
            let val = if v == "UNLIMITED" {
                None
            } else {
                Some(size(&v).ok_or_else(|| ctx.err(a.span, format!("Failed to get limit: {v}")))?)
            };
            d.rlimits.retain(|(k, _)| *k != kind);
            d.rlimits.push((kind, val));
        }
        "deny_time" => {
            d.deny_time = Some(match v.as_str() {
                "FOREVER" => -1,
                "NEVER" => 0,
                _ => match v.parse::<i64>() {
                    Ok(n) if n >= 0 => n,
                    _ => {
                        ctx.err(a.span, format!("deny_time argument is invalid: {v}"));
                        return Err(());
                    }
                },
            })
        }
        "v6only" => d.v6only = Some(yes_no(a, ctx, "v6only")?),
        "libwrap" => d.libwrap = Some(v),
        "enabled" | "disabled" => {
            let list = if a.name == "enabled" {
                &mut d.enabled
            } else {
                &mut d.disabled
            };
            let mut cur = list.clone().unwrap_or_default();
            for w in a.texts() {
                if op == Op::Remove {
                    cur.retain(|c| c != w);
                } else {
                    cur.push(w.to_string());
                }
            }
            *list = Some(cur);
        }
        _ => {}
    }
    Ok(())
}

fn parse_log_type(a: &Attr, ctx: &mut Ctx<'_>) -> Result<LogTarget, ()> {
    let vals = a.texts();
    match vals[0] {
        "FILE" => {
            if !(2..=4).contains(&vals.len()) {
                ctx.err(a.span, "wrong number of arguments".into());
                return Err(());
            }
            let soft = match vals.get(2) {
                Some(s) => {
                    Some(size(s).ok_or_else(|| ctx.err(a.span, "soft limit is invalid".into()))?)
                }
                None => None,
            };
            let hard = match (vals.get(3), soft) {
                (Some(h), Some(s)) => {
                    let h =
                        size(h).ok_or_else(|| ctx.err(a.span, "hard limit is invalid".into()))?;
                    if h < s {
                        ctx.err(
                            a.span,
                            format!("hard limit ({h}) is less than soft limit ({s})"),
                        );
                        return Err(());
                    }
                    Some(h)
                }
                // hard = soft + 1%, the extra clamped to 5K..20K (xinetd.conf(5)).
                (None, Some(s)) => Some(s + (s / 100).clamp(5 * 1024, 20 * 1024)),
                _ => None,
            };
            Ok(LogTarget::File {
                path: PathBuf::from(vals[1]),
                soft,
                hard,
            })
        }
        "SYSLOG" => {
            if !(2..=3).contains(&vals.len()) {
                ctx.err(a.span, "wrong number of arguments".into());
                return Err(());
            }
            let facility = syslog_facility(vals[1])
                .ok_or_else(|| ctx.err(a.span, format!("Unknown syslog facility: {}", vals[1])))?;
            let (level, level_name) = match vals.get(2) {
                Some(l) => (
                    syslog_level(l)
                        .ok_or_else(|| ctx.err(a.span, format!("Unknown syslog level: {l}")))?,
                    l.to_string(),
                ),
                None => (Level::Info, "info".to_string()),
            };
            Ok(LogTarget::Syslog {
                facility,
                facility_name: vals[1].to_string(),
                level,
                level_name,
            })
        }
        t => {
            ctx.err(a.span, format!("Unknown log type: {t}"));
            Err(())
        }
    }
}

/// xinetd's facility names (lower case only, as its name table has them).
pub fn syslog_facility(name: &str) -> Option<i32> {
    const NAMES: &[&str] = &[
        "daemon", "auth", "authpriv", "user", "mail", "lpr", "news", "uucp", "ftp", "local0",
        "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];
    if NAMES.contains(&name) {
        syslog::facility_from_name(name)
    } else {
        None
    }
}

fn syslog_level(name: &str) -> Option<Level> {
    const NAMES: &[&str] = &[
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    if NAMES.contains(&name) {
        syslog::level_from_name(name)
    } else {
        None
    }
}

fn protocol_known(name: &str) -> bool {
    if matches!(name, "tcp" | "udp") {
        return true;
    }
    std::fs::read_to_string("/etc/protocols")
        .map(|t| {
            t.lines().any(|l| {
                let l = l.split('#').next().unwrap_or("");
                let mut w = l.split_whitespace();
                let first = w.next();
                let _num = w.next();
                first == Some(name) || w.any(|alias| alias == name)
            })
        })
        .unwrap_or(false)
}

/// The port of `name`/`proto` in /etc/services (names and aliases).
pub fn services_port(name: &str, proto: &str) -> Option<u16> {
    let text = std::fs::read_to_string("/etc/services").ok()?;
    for l in text.lines() {
        let l = l.split('#').next().unwrap_or("");
        let mut w = l.split_whitespace();
        let (Some(n), Some(pp)) = (w.next(), w.next()) else {
            continue;
        };
        let Some((port, p)) = pp.split_once('/') else {
            continue;
        };
        if p == proto && (n == name || w.any(|alias| alias == name)) {
            return port.parse().ok();
        }
    }
    None
}

/// The internal services built in (X-REQ note).
pub const INTERNAL_SERVICES: &[&str] = &["echo", "discard", "chargen", "daytime", "time"];

/// Scalars from defaults, built-in values, required attributes, enable and disable.
fn finish(drafts: Vec<Draft>, defaults: &Draft, ctx: &mut Ctx<'_>) -> Config {
    let mut config = Config::default();
    // X-EN-2: `enabled` in defaults overrides everything, then `disable`, then
    // `disabled`. Disabled services are removed before their attributes are checked.
    let mut kept: Vec<Service> = Vec::new();
    for d in drafts {
        let id = d.id.clone().unwrap_or_else(|| d.name.clone());
        let head = d.head.unwrap_or(Span::new(crate::diag::FileId(0), 0, 0));
        let off = match &defaults.enabled {
            Some(list) => !list.iter().any(|i| i == &id),
            None => d.disable.unwrap_or(false),
        } || defaults
            .disabled
            .as_ref()
            .is_some_and(|l| l.iter().any(|i| i == &id));
        if d.failed || off {
            if d.disable != Some(true) {
                ctx.findings
                    .push(Finding::plain(Level::Debug, format!("removing {}", d.name)));
            }
            let why = if d.failed {
                "a rejected attribute value"
            } else {
                "disabled"
            };
            config.dropped.push((d.name.clone(), why.into()));
            continue;
        }
        match complete(&d, defaults, &id, head, ctx) {
            Some(s) => kept.push(s),
            None => config
                .dropped
                .push((d.name.clone(), "missing or inconsistent attributes".into())),
        }
    }
    // X-EN-3: one enabled service per address, port and protocol.
    for s in kept {
        let dup = config
            .services
            .iter()
            .find(|o| o.listen_text() == s.listen_text());
        if let Some(o) = dup {
            let msg = if o.id == s.id {
                format!(
                    "service: {} id: {} not unique or is a duplicate - DISABLING",
                    s.name, s.id
                )
            } else {
                format!(
                    "service: {} id: {} is unique but its identical to service: {} id: {} - DISABLING",
                    s.name, s.id, o.name, o.id
                )
            };
            ctx.findings.push(Finding::at(Level::Err, s.head, msg));
            config.dropped.push((s.name.clone(), "duplicate".into()));
        } else {
            config.services.push(s);
        }
    }
    config
}

fn complete(
    d: &Draft,
    defaults: &Draft,
    id: &str,
    head: Span,
    ctx: &mut Ctx<'_>,
) -> Option<Service> {
    let types = d.types.unwrap_or_default();
    let flags = d.flags.unwrap_or_default();
    let missing = |ctx: &mut Ctx<'_>, attr: &str| {
        ctx.err(
            head,
            format!("Service {id} missing attribute {attr} - DISABLING"),
        );
    };
    if types.rpc || d.rpc {
        ctx.warn(
            head,
            format!("Service {id}: RPC services are not supported by this xinetd - DISABLING"),
        );
        return None;
    }
    if types.tcpmux || types.tcpmuxplus {
        ctx.warn(
            head,
            format!("Service {id}: TCPMUX services are not supported by this xinetd - DISABLING"),
        );
        return None;
    }
    let mut ok = true;
    if d.socket_type.is_none() {
        missing(ctx, "socket_type");
        ok = false;
    }
    if d.wait.is_none() {
        missing(ctx, "wait");
        ok = false;
    }
    if !types.internal {
        if d.user.is_none() {
            missing(ctx, "user");
            ok = false;
        }
        if d.server.is_none() && d.redirect.is_none() {
            missing(ctx, "server");
            ok = false;
        }
    }
    if types.unlisted {
        if d.protocol.is_none() && d.socket_type.is_none() {
            missing(ctx, "protocol");
            ok = false;
        }
        if d.port.is_none() {
            ctx.err(
                head,
                format!("Unlisted service: {} must have a port entry", d.name),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let (st_text, st_span) = d.socket_type.clone()?;
    let socket_type = match st_text.as_str() {
        "stream" => SocketType::Stream,
        "dgram" => SocketType::Dgram,
        other => {
            ctx.err(
                st_span,
                format!("Service {id}: socket_type {other} is not supported by this xinetd (stream and dgram only) - DISABLING"),
            );
            return None;
        }
    };
    let protocol = match d.protocol.as_deref() {
        Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        None => match socket_type {
            SocketType::Stream => Protocol::Tcp,
            SocketType::Dgram => Protocol::Udp,
        },
        Some(p) => {
            ctx.err(
                head,
                format!("Service {id}: protocol {p} is not supported by this xinetd - DISABLING"),
            );
            return None;
        }
    };
    if flags.ipv4 && flags.ipv6 {
        ctx.err(
            head,
            format!(
                "Service {} specified as both IPv4 and IPv6 - DISABLING",
                d.name
            ),
        );
        return None;
    }
    let port = if types.unlisted {
        d.port.unwrap_or(0)
    } else {
        match services_port(&d.name, protocol.as_str()) {
            Some(p) => {
                if let Some(given) = d.port {
                    if given != p {
                        ctx.err(
                            head,
                            format!("Service {} expects port {}, not {}", d.name, p, given),
                        );
                        return None;
                    }
                }
                p
            }
            None => match d.port {
                // 2.3.14 insists on /etc/services for listed services; a port
                // given in the file is enough for newer releases and for us.
                Some(p) => p,
                None => {
                    ctx.err(
                        head,
                        format!(
                            "service/protocol combination not in /etc/services: {}/{}",
                            d.name,
                            protocol.as_str()
                        ),
                    );
                    return None;
                }
            },
        }
    };
    if types.internal
        && d.server.is_none()
        && d.redirect.is_none()
        && !INTERNAL_SERVICES.contains(&d.name.as_str())
    {
        ctx.err(
            head,
            format!("Service {}: no such internal service - DISABLING", d.name),
        );
        return None;
    }
    if flags.nameinargs && d.server_args.as_ref().is_none_or(|a| a.is_empty()) {
        ctx.err(
            head,
            "Must specify server args if using NAMEINARGS flag".to_string(),
        );
        return None;
    }
    let args = d.server_args.clone().unwrap_or_default();
    let argv = if flags.nameinargs {
        args
    } else {
        let base = d
            .server
            .as_ref()
            .and_then(|s| s.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| d.name.clone());
        std::iter::once(base).chain(args).collect()
    };
    Some(Service {
        name: d.name.clone(),
        id: id.to_string(),
        head,
        socket_type,
        protocol,
        wait: d.wait.unwrap_or(false),
        types,
        flags,
        user: d.user.clone(),
        group: d.group,
        groups: d.groups.or(defaults.groups).unwrap_or(false),
        server: d.server.clone(),
        argv,
        port,
        bind: d.bind.or(defaults.bind),
        v6only: d.v6only.or(defaults.v6only).unwrap_or(false),
        only_from: d.only_from.clone(),
        no_access: d.no_access.clone().unwrap_or_default(),
        access_times: d.access_times.clone().unwrap_or_default(),
        instances: d.instances.or(defaults.instances).unwrap_or(None),
        per_source: d.per_source.or(defaults.per_source).unwrap_or(None),
        cps: d.cps.or(defaults.cps).unwrap_or((50, 10)),
        max_load: d.max_load.or(defaults.max_load).unwrap_or(0.0),
        env: d.env.clone().unwrap_or_default(),
        passenv: d.passenv.clone(),
        umask: d.umask.or(defaults.umask),
        nice: d.nice,
        rlimits: d.rlimits.clone(),
        redirect: d.redirect.clone(),
        banner: d.banner.clone(),
        banner_success: d.banner_success.clone(),
        banner_fail: d.banner_fail.clone(),
        log_type: d.log_type.clone().or(defaults.log_type.clone()),
        log_on_success: d.log_on_success.unwrap_or_default(),
        log_on_failure: d.log_on_failure.unwrap_or_default(),
        deny_time: d.deny_time,
        libwrap: d.libwrap.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::load;

    fn load_text(text: &str) -> super::super::Loaded {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("xinetd.conf");
        std::fs::write(&p, text).unwrap();
        load(&p, &[("PATH".into(), "/bin".into())])
    }

    fn messages(l: &super::super::Loaded) -> Vec<String> {
        l.findings.iter().map(|f| f.message.clone()).collect()
    }

    const CENTOS: &str = "defaults\n{\n\tlog_type\t= SYSLOG daemon info\n\tlog_on_failure\t= HOST\n\tlog_on_success\t= PID HOST DURATION EXIT\n\tcps\t\t= 50 10\n\tinstances\t= 50\n\tper_source\t= 10\n\tv6only\t\t= no\n\tgroups\t\t= yes\n\tumask\t\t= 002\n}\n";
    const TFTP: &str = "service tftp\n{\n\tdisable\t= no\n\tsocket_type\t\t= dgram\n\tprotocol\t\t= udp\n\twait\t\t\t= yes\n\tuser\t\t\t= root\n\tserver\t\t\t= /bin/true\n\tserver_args\t\t= -s /tftpboot\n\tper_source\t\t= 11\n\tcps\t\t\t= 100 2\n\tflags\t\t\t= IPv4\n}\n";

    #[test]
    fn centos_defaults_merge_into_tftp() {
        let l = load_text(&format!("{CENTOS}{TFTP}"));
        let c = l.config.as_ref().unwrap();
        assert_eq!(c.services.len(), 1, "{:?}", messages(&l));
        let s = &c.services[0];
        assert_eq!(s.port, 69);
        assert_eq!(s.per_source, Some(11));
        assert_eq!(s.cps, (100, 2));
        assert_eq!(s.instances, Some(50));
        assert_eq!(s.umask, Some(0o002));
        assert!(s.groups && s.wait && !s.is_ipv6());
        assert_eq!(s.argv, vec!["true", "-s", "/tftpboot"]);
        assert!(s.log_on_success.pid && s.log_on_success.exit && s.log_on_failure.host);
        assert_eq!(s.listen_text(), "0.0.0.0:69/udp");
    }

    #[test]
    fn disable_yes_removes_and_enabled_overrides() {
        // The line chkconfig writes stands first; xinetd reads nothing after it.
        let t = TFTP.replace("disable\t= no", "disable = yes\n\tbogus = 1");
        let l = load_text(&format!("{CENTOS}{t}"));
        assert!(l.config.as_ref().unwrap().services.is_empty());
        assert!(messages(&l).is_empty(), "{:?}", messages(&l));
        // `enabled` overrides a `disable = yes` that comes after the other attributes.
        let t = TFTP
            .replace("\tdisable\t= no\n", "")
            .replace("}\n", "\tdisable = yes\n}\n");
        let l = load_text(&format!("defaults\n{{\n enabled = tftp\n}}\n{t}"));
        assert_eq!(l.config.as_ref().unwrap().services.len(), 1);
        let l = load_text(&format!("defaults\n{{\n enabled =\n}}\n{TFTP}"));
        assert!(l.config.as_ref().unwrap().services.is_empty());
        let l = load_text(&format!("defaults\n{{\n disabled = tftp\n}}\n{TFTP}"));
        assert!(l.config.as_ref().unwrap().services.is_empty());
    }

    #[test]
    fn set_valued_attributes_inherit_add_and_remove() {
        let svc = "service echo\n{\n type = INTERNAL\n socket_type = stream\n wait = no\n only_from += 10.0.0.2\n only_from -= 10.0.0.1\n log_on_success -= PID\n}\n";
        let l = load_text(&format!("defaults\n{{\n only_from = 10.0.0.1\n only_from = 10.0.0.3\n log_on_success = PID HOST\n}}\n{svc}"));
        let s = &l.config.as_ref().unwrap().services[0];
        let texts: Vec<_> = s
            .only_from
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| p.text())
            .collect();
        assert_eq!(texts, vec!["10.0.0.3/32", "10.0.0.2/32"]);
        assert!(!s.log_on_success.pid && s.log_on_success.host);
    }

    #[test]
    fn xinetd_warnings_and_errors_keep_their_words() {
        let text = "service foo\n{\n socket_type = stream\n wait = no\n wait = yes\n user = root\n server = /bin/cat\n port = 7777\n type = UNLISTED\n flags += IPv4\n bogus = 1\n cps = 1\n}\nservice bar\n{\n socket_type = stream\n wait = maybe\n user = root\n server = /bin/cat\n}\n";
        let l = load_text(text);
        let m = messages(&l);
        for want in [
            "Service foo: attribute already set: wait",
            "Service foo: operator '+=' cannot be used for attribute 'flags'",
            "bad service attribute: bogus",
            "attribute cps expects 2 values and 1 values were specified",
            "Bad value for wait: maybe",
            "Error parsing attribute wait - DISABLING SERVICE",
            "removing bar",
        ] {
            assert!(m.contains(&want.to_string()), "missing {want:?} in {m:?}");
        }
        let c = l.config.unwrap();
        assert_eq!(c.services.len(), 1);
        assert!(!c.services[0].wait, "first value kept");
    }

    #[test]
    fn rejected_value_in_defaults_is_fatal() {
        let l = load_text("defaults\n{\n instances = lots\n}\n");
        assert!(l.is_fatal());
        assert!(messages(&l).contains(
            &"A fatal error was encountered while parsing the default section. xinetd will exit."
                .into()
        ));
    }

    #[test]
    fn missing_attributes_and_unsupported_socket_types() {
        let l = load_text("service x\n{\n type = UNLISTED\n socket_type = raw\n wait = no\n user = root\n server = /bin/cat\n port = 1\n}\nservice y\n{\n socket_type = stream\n}\n");
        let m = messages(&l);
        assert!(
            m.iter()
                .any(|m| m.contains("socket_type raw is not supported")),
            "{m:?}"
        );
        assert!(
            m.contains(&"Service y missing attribute wait - DISABLING".into()),
            "{m:?}"
        );
        assert!(l.config.unwrap().services.is_empty());
    }

    #[test]
    fn duplicate_port_is_refused() {
        let s = |id: &str| {
            format!("service echo\n{{\n id = {id}\n type = INTERNAL\n socket_type = stream\n wait = no\n}}\n")
        };
        let l = load_text(&format!("{}{}", s("a"), s("b")));
        assert_eq!(l.config.as_ref().unwrap().services.len(), 1);
        assert!(messages(&l)
            .iter()
            .any(|m| m.contains("is unique but its identical to service: echo id: a")));
    }

    #[test]
    fn nameinargs_builds_argv_from_args() {
        let l = load_text("service x\n{\n type = UNLISTED\n port = 5000\n socket_type = stream\n wait = no\n user = root\n server = /bin/echo\n server_args = hello world\n}\nservice y\n{\n type = UNLISTED\n port = 5001\n socket_type = stream\n wait = no\n user = root\n flags = NAMEINARGS\n server = /bin/echo\n server_args = echo hi\n}\n");
        let c = l.config.unwrap();
        assert_eq!(c.services[0].argv, vec!["echo", "hello", "world"]);
        assert_eq!(c.services[1].argv, vec!["echo", "hi"]);
        assert_eq!(c.services[1].libwrap_name(), "echo");
    }
}
