//! The decisions: one request, the model, the lease view and the clock in;
//! the reply, the lease changes and ISC's log lines out. Nothing here does
//! I/O, so every rule is unit-tested.
//!
//! The rules follow RFC 2131 §4.3 as ISC dhcpd applies them: a client gets
//! its previous address back, then a requested free address, then the
//! free address unused longest, then an abandoned one; a REQUEST for an
//! address on another network, or one leased to someone else, is NAKed only
//! where the server is `authoritative`.

use super::binding::{mac_text, Binding, State};
use super::optenc;
use crate::dhcp::conf::model::{Config, Exec, OptionValue, ParamValue, ScopeId};
use crate::dhcp::conf::values::Value;
use crate::dhcp::wire::options as opt;
use crate::dhcp::wire::{MessageType, Packet};
use crate::sys::syslog::Level;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Every lease the server knows, by address.
pub type LeaseView = BTreeMap<Ipv4Addr, Binding>;

/// How long an offer holds its address (D-B-2).
pub const OFFER_HOLD: i64 = 120;
pub const DEFAULT_LEASE_TIME: u32 = 43200;
pub const MAX_LEASE_TIME: u32 = 86400;

/// A request as it arrived.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub packet: &'a Packet,
    /// The receiving interface's name and its (first) IPv4 address.
    pub iface: &'a str,
    pub iface_addr: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

/// What to do about one request.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub reply: Option<Packet>,
    /// Lease records to store; `durable` ones go to disk before the reply.
    pub changes: Vec<Binding>,
    pub durable: bool,
    pub log: Vec<LogLine>,
}

impl Decision {
    fn info(&mut self, s: String) {
        self.log.push(LogLine {
            level: Level::Info,
            text: s,
        });
    }
    fn err(&mut self, s: String) {
        self.log.push(LogLine {
            level: Level::Err,
            text: s,
        });
    }
}

/// The client as the request names it.
struct Client<'a> {
    uid: Option<&'a [u8]>,
    htype: u8,
    hw: &'a [u8],
    mac: String,
}

/// Where the request came from in the model.
struct Network {
    subnet: usize,
    via: String,
}

pub fn decide(req: &Incoming<'_>, model: &Config, view: &LeaseView, now: i64) -> Decision {
    let p = req.packet;
    let mut d = Decision::default();
    let Some(mt) = p.options.message_type() else {
        return d; // BOOTP is a later part; ignored here.
    };
    let client = Client {
        uid: p.options.client_id(),
        htype: p.htype,
        hw: p.hardware_address(),
        mac: if p.hlen == 0 {
            "<no identifier>".into()
        } else {
            mac_text(p.hardware_address())
        },
    };
    let via = if p.giaddr.is_unspecified() {
        req.iface.to_string()
    } else {
        p.giaddr.to_string()
    };
    let locator = if p.giaddr.is_unspecified() {
        req.iface_addr
    } else {
        p.giaddr
    };
    let Some(subnet) = subnet_index(model, locator) else {
        d.info(format!(
            "{} from {} via {}: unknown network segment",
            mt.log_name(),
            client.mac,
            via
        ));
        return d;
    };
    let net = Network { subnet, via };
    match mt {
        MessageType::Discover => discover(req, model, view, now, &client, &net, &mut d),
        MessageType::Request => request(req, model, view, now, &client, &net, &mut d),
        MessageType::Release => release(req, view, now, &client, &net, &mut d),
        MessageType::Decline => decline(req, view, now, &client, &net, &mut d),
        MessageType::Inform => inform(req, model, &client, &net, &mut d),
        _ => {}
    }
    d
}

fn subnet_index(model: &Config, a: Ipv4Addr) -> Option<usize> {
    model
        .subnets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.contains(a))
        .max_by_key(|(_, s)| s.prefix_len())
        .map(|(i, _)| i)
}

/// ` (name) ` or a single space, as ISC prints the host part.
fn host_part(b: Option<&Binding>) -> String {
    match b.and_then(|b| b.hostname.as_deref()) {
        Some(h) if h.len() <= 64 && h.bytes().all(|c| (0x20..0x7f).contains(&c)) => {
            format!(" ({h}) ")
        }
        Some(_) => " (Hostname Unsuitable for Printing) ".into(),
        None => " ".into(),
    }
}

/// A host declaration for the client with a fixed address in `subnet`.
fn fixed_host(model: &Config, c: &Client<'_>, subnet: usize) -> Option<(ScopeId, Ipv4Addr)> {
    let sn = model.subnets.get(subnet)?;
    let by_id = c
        .uid
        .into_iter()
        .flat_map(|u| model.hosts_by_client_id(u))
        .collect::<Vec<_>>();
    let by_hw = model.hosts_by_hardware(c.htype, c.hw).collect::<Vec<_>>();
    by_id.into_iter().chain(by_hw).find_map(|h| {
        h.fixed_addresses.iter().find_map(|v| match v {
            Value::Ip(a) if sn.contains(*a) => Some((h.scope, *a)),
            _ => None,
        })
    })
}

/// A host declaration for the client without a fixed address (its scope
/// still applies) — or none.
fn any_host(model: &Config, c: &Client<'_>) -> Option<ScopeId> {
    c.uid
        .and_then(|u| model.hosts_by_client_id(u).next())
        .or_else(|| model.hosts_by_hardware(c.htype, c.hw).next())
        .map(|h| h.scope)
}

/// The scope an address's lease gets its parameters from: its pool, else
/// its subnet.
fn scope_of(model: &Config, subnet: usize, a: Ipv4Addr) -> ScopeId {
    let Some(sn) = model.subnets.get(subnet) else {
        return Config::GLOBAL;
    };
    for pi in &sn.pools {
        if let Some(pool) = model.pools.get(*pi) {
            if pool.ranges.iter().any(|r| r.contains(a)) {
                return pool.scope;
            }
        }
    }
    sn.scope
}

fn in_ranges(model: &Config, subnet: usize, a: Ipv4Addr) -> bool {
    model.ranges_of_subnet(subnet).iter().any(|r| r.contains(a))
}

fn authoritative(model: &Config, scope: ScopeId) -> bool {
    matches!(
        model.param(scope, "authoritative"),
        Some(ParamValue::Flag(true))
    )
}

fn param_u32(model: &Config, scope: ScopeId, name: &str) -> Option<u32> {
    match model.param(scope, name) {
        Some(ParamValue::Values(v)) => match v.first() {
            Some(Value::Int(n)) => u32::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    }
}

fn param_text(model: &Config, scope: ScopeId, name: &str) -> Option<String> {
    match model.param(scope, name) {
        Some(ParamValue::Word(w)) => Some(w.clone()),
        Some(ParamValue::Values(v)) => match v.first() {
            Some(Value::Text(t)) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn param_ip(model: &Config, scope: ScopeId, name: &str) -> Option<Ipv4Addr> {
    match model.param(scope, name) {
        Some(ParamValue::Values(v)) => v.iter().find_map(|x| match x {
            Value::Ip(a) => Some(*a),
            _ => None,
        }),
        _ => None,
    }
}

/// The lease the client holds (or was offered) in `subnet`: its most
/// recent one.
fn client_lease<'v>(
    model: &Config,
    view: &'v LeaseView,
    c: &Client<'_>,
    subnet: usize,
) -> Option<&'v Binding> {
    let sn = model.subnets.get(subnet)?;
    view.values()
        .filter(|b| sn.contains(b.addr) && b.state != State::Abandoned)
        .filter(|b| b.owned_by(c.uid, c.htype, c.hw))
        .max_by_key(|b| (b.cltt.max(b.offered_until - OFFER_HOLD), b.ends))
}

/// Whether `a` may be given to this client now.
fn usable_by(view: &LeaseView, a: Ipv4Addr, c: &Client<'_>, now: i64) -> bool {
    match view.get(&a) {
        None => true,
        Some(b) => b.owned_by(c.uid, c.htype, c.hw) || b.available(now),
    }
}

/// A new address for the client from the subnet's ranges, as ISC picks:
/// the requested one if free, then a never-used one, then the free lease
/// unused longest, then an abandoned one (logged).
fn allocate(
    model: &Config,
    view: &LeaseView,
    c: &Client<'_>,
    subnet: usize,
    wanted: Option<Ipv4Addr>,
    now: i64,
    d: &mut Decision,
) -> Option<Ipv4Addr> {
    if let Some(w) = wanted {
        if in_ranges(model, subnet, w)
            && usable_by(view, w, c, now)
            && view.get(&w).map(|b| b.state) != Some(State::Abandoned)
        {
            return Some(w);
        }
    }
    let ranges = model.ranges_of_subnet(subnet);
    let mut oldest: Option<&Binding> = None;
    let mut abandoned: Option<&Binding> = None;
    for r in &ranges {
        let (lo, hi) = (u32::from(r.low), u32::from(r.high));
        for n in lo..=hi {
            let a = Ipv4Addr::from(n);
            match view.get(&a) {
                None => {
                    if !is_fixed_somewhere(model, a) {
                        return Some(a);
                    }
                }
                Some(b) if b.available(now) => {
                    if oldest.is_none_or(|o| b.ends < o.ends) {
                        oldest = Some(b);
                    }
                }
                Some(b) if b.state == State::Abandoned && b.offered_until <= now => {
                    if abandoned.is_none_or(|o| b.ends < o.ends) {
                        abandoned = Some(b);
                    }
                }
                Some(_) => {}
            }
        }
    }
    if let Some(b) = oldest {
        return Some(b.addr);
    }
    if let Some(b) = abandoned {
        d.err(format!("Reclaiming abandoned lease {}.", b.addr));
        return Some(b.addr);
    }
    None
}

fn is_fixed_somewhere(model: &Config, a: Ipv4Addr) -> bool {
    model
        .hosts
        .iter()
        .any(|h| h.fixed_addresses.contains(&Value::Ip(a)))
}

/// The lease time granted: what the client asked, capped by max and raised
/// to min; the default when it asked nothing.
fn lease_time(model: &Config, scope: ScopeId, asked: Option<u32>) -> u32 {
    let default = param_u32(model, scope, "default-lease-time").unwrap_or(DEFAULT_LEASE_TIME);
    let max = param_u32(model, scope, "max-lease-time").unwrap_or(MAX_LEASE_TIME.max(default));
    let min = param_u32(model, scope, "min-lease-time").unwrap_or(0);
    let t = match asked {
        Some(a) => a.min(max),
        None => default,
    };
    t.max(min)
}

/// The reply's header fields and options for a lease (or an INFORM, with
/// `lease` None) from `scope` outwards.
fn build_reply(
    req: &Incoming<'_>,
    model: &Config,
    scope: ScopeId,
    mt: MessageType,
    yiaddr: Ipv4Addr,
    lease: Option<u32>,
    subnet: usize,
) -> Packet {
    let p = req.packet;
    let mut r = Packet::reply_to(p);
    r.yiaddr = yiaddr;
    if mt == MessageType::Ack && lease.is_none() {
        r.ciaddr = p.ciaddr;
    }
    r.siaddr = param_ip(model, scope, "next-server").unwrap_or(Ipv4Addr::UNSPECIFIED);
    let filename = param_text(model, scope, "filename");
    if let Some(f) = &filename {
        r.set_file_name(f.as_bytes());
    }
    if let Some(s) = param_text(model, scope, "server-name") {
        r.set_server_name(s.as_bytes());
    }
    r.options.set_message_type(mt);
    r.options.set_ip(opt::SERVER_ID, req.iface_addr);
    if let Some(t) = lease {
        r.options.set_u32(opt::LEASE_TIME, t);
    }
    if let Some(sn) = model.subnets.get(subnet) {
        r.options.set_ip(opt::SUBNET_MASK, sn.mask);
    }
    for (code, data) in scope_options(model, scope) {
        if matches!(
            code,
            opt::MESSAGE_TYPE | opt::SERVER_ID | opt::LEASE_TIME | opt::OVERLOAD
        ) {
            continue;
        }
        r.options.set(code, data);
    }
    let prl = p.options.parameter_request_list().unwrap_or(&[]);
    if prl.contains(&opt::BOOTFILE_NAME) {
        if let Some(f) = filename {
            if !r.options.contains(opt::BOOTFILE_NAME) {
                r.options.set(opt::BOOTFILE_NAME, f.into_bytes());
            }
        }
    } else {
        r.options.remove(opt::BOOTFILE_NAME);
    }
    // With a parameter request list, only what was asked is sent, besides
    // what every reply carries (as ISC dhcpd does).
    if let Some(prl) = p.options.parameter_request_list() {
        let keep = |c: u8| {
            prl.contains(&c)
                || matches!(
                    c,
                    opt::MESSAGE_TYPE
                        | opt::SERVER_ID
                        | opt::LEASE_TIME
                        | opt::RENEWAL_TIME
                        | opt::REBINDING_TIME
                        | opt::MESSAGE
                        | opt::AGENT_INFO
                )
        };
        for c in r.options.codes() {
            if !keep(c) {
                r.options.remove(c);
            }
        }
    }
    // Old PXE ROMs take a trailing NUL as part of the name.
    if let Some(v) = r.options.get(opt::BOOTFILE_NAME) {
        let trimmed: Vec<u8> = v
            .iter()
            .copied()
            .rev()
            .skip_while(|&b| b == 0)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        r.options.set(opt::BOOTFILE_NAME, trimmed);
    }
    if p.options.client_id().is_some() || mt == MessageType::Nak {
        // RFC 6842 is later; ISC 3.0.5 does not echo the client identifier.
    }
    r
}

/// Unconditional `dhcp` options visible from `scope`, inner scopes winning.
fn scope_options(model: &Config, scope: ScopeId) -> Vec<(u8, Vec<u8>)> {
    let mut chain = model.ancestry(scope);
    chain.reverse();
    let mut out: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    for s in chain {
        let Some(sc) = model.scope(s) else { continue };
        for e in &sc.stmts {
            let Exec::Option(o) = e else { continue };
            if o.space != "dhcp" {
                continue;
            }
            let Ok(code) = u8::try_from(o.code) else {
                continue;
            };
            let OptionValue::Typed(vals) = &o.value else {
                continue;
            };
            let Some(def) = model.options.by_code("dhcp", o.code) else {
                continue;
            };
            if let Some(bytes) = optenc::encode(&def.ty, vals) {
                out.insert(code, bytes);
            }
        }
    }
    out.into_iter().collect()
}

/// A DHCPNAK as ISC sends it: message type and server identifier only.
fn nak(req: &Incoming<'_>) -> Packet {
    let mut r = Packet::reply_to(req.packet);
    r.options.set_message_type(MessageType::Nak);
    r.options.set_ip(opt::SERVER_ID, req.iface_addr);
    // A NAK is always broadcast when the client is not reachable by unicast.
    r.set_broadcast(true);
    r
}

fn client_hostname(p: &Packet) -> Option<String> {
    p.options
        .host_name()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_end_matches('\0')
                .to_string()
        })
        .filter(|h| !h.is_empty())
}

fn discover(
    req: &Incoming<'_>,
    model: &Config,
    view: &LeaseView,
    now: i64,
    c: &Client<'_>,
    net: &Network,
    d: &mut Decision,
) {
    let p = req.packet;
    let existing = client_lease(model, view, c, net.subnet);
    let line = format!(
        "DHCPDISCOVER from {}{}via {}",
        c.mac,
        host_part(existing),
        net.via
    );
    let (addr, scope, fixed) = if let Some((hscope, a)) = fixed_host(model, c, net.subnet) {
        (a, hscope, true)
    } else {
        let prev = existing
            .filter(|b| in_ranges(model, net.subnet, b.addr))
            .filter(|b| usable_by(view, b.addr, c, now))
            .map(|b| b.addr);
        let wanted = p.options.requested_address();
        let a = match prev {
            Some(a) => Some(a),
            None => allocate(model, view, c, net.subnet, wanted, now, d),
        };
        let Some(a) = a else {
            let name = shared_name(model, net.subnet);
            d.err(format!("{line}: network {name}: no free leases"));
            return;
        };
        let scope = any_host(model, c).unwrap_or_else(|| scope_of(model, net.subnet, a));
        (a, scope, false)
    };
    let t = lease_time(model, scope, p.options.lease_time());
    let mut b = view
        .get(&addr)
        .cloned()
        .unwrap_or_else(|| Binding::new(addr));
    if !fixed {
        if !b.owned_by(c.uid, c.htype, c.hw) {
            b.hostname = None;
        }
        b.htype = c.htype;
        b.hw = c.hw.to_vec();
        b.uid = c.uid.map(<[u8]>::to_vec);
        if let Some(h) = client_hostname(p) {
            b.hostname = Some(h);
        }
        b.offered_until = now + OFFER_HOLD;
        d.changes.push(b.clone());
    }
    d.info(line);
    let hp = if fixed {
        " ".to_string()
    } else {
        host_part(Some(&b))
    };
    d.info(format!(
        "DHCPOFFER on {addr} to {}{hp}via {}",
        c.mac, net.via
    ));
    d.reply = Some(build_reply(
        req,
        model,
        scope,
        MessageType::Offer,
        addr,
        Some(t),
        net.subnet,
    ));
}

fn shared_name(model: &Config, subnet: usize) -> String {
    match model.subnets.get(subnet) {
        Some(sn) => match sn.shared_network.and_then(|i| model.shared_networks.get(i)) {
            Some(s) => s.name.clone(),
            None => format!("{}/{}", sn.net, sn.prefix_len()),
        },
        None => String::new(),
    }
}

fn request(
    req: &Incoming<'_>,
    model: &Config,
    view: &LeaseView,
    now: i64,
    c: &Client<'_>,
    net: &Network,
    d: &mut Decision,
) {
    let p = req.packet;
    let sid = p.options.server_id();
    let addr = if !p.ciaddr.is_unspecified() {
        p.ciaddr
    } else if let Some(a) = p.options.requested_address() {
        a
    } else {
        return;
    };
    let existing = view.get(&addr).filter(|b| b.owned_by(c.uid, c.htype, c.hw));
    let line = format!(
        "DHCPREQUEST for {addr}{} from {}{}via {}",
        sid.map(|s| format!(" ({s})")).unwrap_or_default(),
        c.mac,
        host_part(client_lease(model, view, c, net.subnet)),
        net.via
    );
    let subnet_scope = model
        .subnets
        .get(net.subnet)
        .map(|s| s.scope)
        .unwrap_or(Config::GLOBAL);
    let auth = authoritative(model, subnet_scope);
    // Selecting another server's offer: forget ours silently.
    if let Some(s) = sid {
        if s != req.iface_addr {
            if let Some(b) = existing {
                if b.state_at(now) != State::Active {
                    let mut b = b.clone();
                    b.offered_until = 0;
                    d.changes.push(b);
                }
            }
            return;
        }
    }
    let on_net = model
        .subnets
        .get(net.subnet)
        .is_some_and(|sn| sn.contains(addr));
    if !on_net {
        if auth {
            d.info(format!("{line}: wrong network."));
            d.info(format!("DHCPNAK on {addr} to {} via {}", c.mac, net.via));
            d.reply = Some(nak(req));
        } else {
            d.info(format!("{line}: ignored (not authoritative)."));
        }
        return;
    }
    let fixed = fixed_host(model, c, net.subnet);
    let (scope, fixed_ok) = match fixed {
        Some((hs, fa)) if fa == addr => (hs, true),
        Some(_) => {
            d.info(format!("{line}: lease {addr} unavailable."));
            d.info(format!("DHCPNAK on {addr} to {} via {}", c.mac, net.via));
            d.reply = Some(nak(req));
            return;
        }
        None => (
            any_host(model, c).unwrap_or_else(|| scope_of(model, net.subnet, addr)),
            false,
        ),
    };
    if !fixed_ok {
        let in_range = in_ranges(model, net.subnet, addr);
        if !in_range {
            if auth {
                d.info(format!("{line}: lease {addr} unavailable."));
                d.info(format!("DHCPNAK on {addr} to {} via {}", c.mac, net.via));
                d.reply = Some(nak(req));
            } else {
                d.info(format!("{line}: unknown lease {addr}."));
            }
            return;
        }
        let usable = usable_by(view, addr, c, now)
            && view.get(&addr).map(|b| b.state) != Some(State::Abandoned)
            || existing.is_some();
        if !usable {
            if auth {
                d.info(format!("{line}: lease {addr} unavailable."));
                d.info(format!("DHCPNAK on {addr} to {} via {}", c.mac, net.via));
                d.reply = Some(nak(req));
            } else {
                d.info(format!("{line}: ignored (not authoritative)."));
            }
            return;
        }
        // A client in INIT-REBOOT or SELECTING that already holds another
        // active lease here gives that one up.
    }
    let t = lease_time(model, scope, p.options.lease_time());
    d.info(line);
    let hp;
    if !fixed_ok {
        let mut b = view
            .get(&addr)
            .cloned()
            .unwrap_or_else(|| Binding::new(addr));
        if !b.owned_by(c.uid, c.htype, c.hw) {
            b.hostname = None;
        }
        b.state = State::Active;
        b.starts = now;
        b.cltt = now;
        b.ends = now + i64::from(t);
        b.tstp = 0;
        b.offered_until = 0;
        b.htype = c.htype;
        b.hw = c.hw.to_vec();
        b.uid = c.uid.map(<[u8]>::to_vec);
        if let Some(h) = client_hostname(p) {
            b.hostname = Some(h);
        }
        hp = host_part(Some(&b));
        d.changes.push(b);
        d.durable = true;
    } else {
        hp = " ".into();
    }
    d.info(format!("DHCPACK on {addr} to {}{hp}via {}", c.mac, net.via));
    d.reply = Some(build_reply(
        req,
        model,
        scope,
        MessageType::Ack,
        addr,
        Some(t),
        net.subnet,
    ));
}

fn release(
    req: &Incoming<'_>,
    view: &LeaseView,
    now: i64,
    c: &Client<'_>,
    net: &Network,
    d: &mut Decision,
) {
    let p = req.packet;
    if p.options.requested_address().is_some() {
        d.info(format!(
            "DHCPRELEASE from {} specified requested-address.",
            c.mac
        ));
    }
    let addr = p.ciaddr;
    let found = view
        .get(&addr)
        .filter(|b| b.owned_by(c.uid, c.htype, c.hw) && b.state_at(now) == State::Active);
    d.info(format!(
        "DHCPRELEASE of {addr} from {}{}via {} ({}found)",
        c.mac,
        host_part(found),
        net.via,
        if found.is_some() { "" } else { "not " }
    ));
    if let Some(b) = found {
        let mut b = b.clone();
        b.state = State::Free;
        b.ends = now;
        b.tstp = now;
        b.hostname = None;
        b.offered_until = 0;
        d.changes.push(b);
        d.durable = true;
    }
}

fn decline(
    req: &Incoming<'_>,
    view: &LeaseView,
    now: i64,
    c: &Client<'_>,
    net: &Network,
    d: &mut Decision,
) {
    let Some(addr) = req.packet.options.requested_address() else {
        return;
    };
    let lease = view.get(&addr).filter(|b| b.owned_by(c.uid, c.htype, c.hw));
    let status = if lease.is_some() {
        "abandoned"
    } else {
        "not found"
    };
    d.info(format!(
        "DHCPDECLINE of {addr} from {}{}via {}: {status}",
        c.mac,
        host_part(lease),
        net.via
    ));
    if let Some(b) = lease {
        d.err(format!("Abandoning IP address {addr}: declined."));
        let mut b = b.clone();
        b.state = State::Abandoned;
        b.hw.clear();
        b.uid = None;
        b.hostname = None;
        b.ends = now;
        b.offered_until = 0;
        d.changes.push(b);
        d.durable = true;
    }
}

fn inform(req: &Incoming<'_>, model: &Config, c: &Client<'_>, net: &Network, d: &mut Decision) {
    let p = req.packet;
    let ci = p.ciaddr;
    if ci.is_unspecified() {
        d.info(format!(
            "DHCPINFORM from {} via {}: ignored (null source address).",
            c.mac, net.via
        ));
        return;
    }
    d.info(format!("DHCPINFORM from {ci} via {}", net.via));
    let Some(sidx) = subnet_index(model, ci) else {
        d.info(format!(
            "DHCPINFORM from {ci} via {}: unknown subnet for address {ci}",
            net.via
        ));
        return;
    };
    let scope = model
        .subnets
        .get(sidx)
        .map(|s| s.scope)
        .unwrap_or(Config::GLOBAL);
    if !authoritative(model, scope) {
        let sn = model.subnets.get(sidx);
        d.info(format!(
            "DHCPINFORM from {ci} via {}: not authoritative for subnet {}",
            net.via,
            sn.map(|s| s.net.to_string()).unwrap_or_default()
        ));
        return;
    }
    let scope = any_host(model, c).unwrap_or_else(|| scope_of(model, sidx, ci));
    let mut r = build_reply(
        req,
        model,
        scope,
        MessageType::Ack,
        Ipv4Addr::UNSPECIFIED,
        None,
        sidx,
    );
    r.ciaddr = ci;
    d.info(format!("DHCPACK to {ci} ({}) via {}", c.mac, net.via));
    d.reply = Some(r);
}

#[cfg(test)]
mod tests;
