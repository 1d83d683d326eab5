//! The running server: one receiver thread per interface on an AF_PACKET
//! socket, the shared lease view, and the lease writer. A request is
//! decided under the view's lock; a lease that must be durable is committed
//! (appended and fsynced) before the reply leaves, and a failed commit means
//! no reply.

use super::binding::Binding;
use super::engine::{self, Incoming, LeaseView};
use crate::dhcp::conf::model::Config;
use crate::dhcp::leases::store::{format_lease, LeaseWriter};
use crate::dhcp::wire::{self, MessageType, Packet, BOOTREQUEST};
use crate::sys::packet::{PacketSocket, BROADCAST_MAC};
use crate::sys::syslog::{self, Level};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One interface the server listens on.
#[derive(Debug)]
pub struct Listener {
    pub name: String,
    pub addr: Ipv4Addr,
    pub socket: PacketSocket,
}

/// What every receiver shares.
#[derive(Debug)]
pub struct Shared {
    pub model: Config,
    pub view: Mutex<LeaseView>,
    pub writer: LeaseWriter,
    /// The client port replies go to (68, or `-p` + 1).
    pub client_port: u16,
    pub server_port: u16,
    pub stop: AtomicBool,
    /// When the lease file was last rewritten (compacted).
    pub last_rewrite: Mutex<i64>,
}

/// ISC rewrites the lease file at the first commit an hour after the last
/// rewrite (D-L-5).
pub const REWRITE_INTERVAL: i64 = 3600;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Workers deciding and answering requests; several let commits that
/// wait for the disk share one fsync.
pub const WORKERS: usize = 4;
/// Requests waiting for a worker before new ones are dropped.
const QUEUE: usize = 1024;

type Work = (Arc<Listener>, Packet);

/// Starts a receiver thread per listener and the worker pool. The handles
/// come receivers first: once they have stopped, the workers finish the
/// queue and stop too.
pub fn start(shared: Arc<Shared>, listeners: Vec<Listener>) -> Vec<JoinHandle<()>> {
    let (tx, rx) = mpsc::sync_channel::<Work>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let mut handles: Vec<JoinHandle<()>> = listeners
        .into_iter()
        .filter_map(|l| {
            let s = Arc::clone(&shared);
            let tx = tx.clone();
            let l = Arc::new(l);
            std::thread::Builder::new()
                .name(format!("rx-{}", l.name))
                .spawn(move || receive_loop(&s, &l, &tx))
                .ok()
        })
        .collect();
    drop(tx);
    for i in 0..WORKERS {
        let s = Arc::clone(&shared);
        let rx = Arc::clone(&rx);
        if let Ok(h) = std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker_loop(&s, &rx))
        {
            handles.push(h);
        }
    }
    handles
}

fn worker_loop(shared: &Shared, rx: &Mutex<mpsc::Receiver<Work>>) {
    loop {
        let next = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        match next {
            Ok((l, p)) => handle(shared, &l, &p),
            Err(_) => return,
        }
    }
}

fn receive_loop(shared: &Shared, l: &Arc<Listener>, tx: &mpsc::SyncSender<Work>) {
    let _ = l.socket.set_read_timeout(Some(Duration::from_millis(250)));
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        let dg = match l.socket.recv(&mut buf) {
            Ok(Ok(dg)) => dg,
            Ok(Err(_)) => continue, // a malformed frame: dropped
            Err(_) => continue,     // timeout or a transient error
        };
        if dg.udp.dst_port != shared.server_port {
            continue;
        }
        let Some(payload) = buf.get(dg.payload.clone()) else {
            continue;
        };
        let Ok(p) = wire::decode(payload) else {
            continue;
        };
        if p.op != BOOTREQUEST {
            continue;
        }
        // A full queue drops the request; the client retransmits.
        let _ = tx.try_send((Arc::clone(l), p));
    }
}

/// Decides, commits and answers one request.
pub fn handle(shared: &Shared, l: &Listener, p: &Packet) {
    let inc = Incoming {
        packet: p,
        iface: &l.name,
        iface_addr: l.addr,
    };
    let decision = {
        let Ok(mut view) = shared.view.lock() else {
            return;
        };
        let d = engine::decide(&inc, &shared.model, &view, now());
        for b in &d.changes {
            view.insert(b.addr, b.clone());
        }
        d
    };
    // The request line and its outcome: the last line (ACK) waits for the disk.
    let (before, after) = if decision.durable && decision.reply.is_some() {
        let n = decision.log.len().saturating_sub(1);
        decision.log.split_at(n)
    } else {
        (&decision.log[..], &[][..])
    };
    for line in before {
        syslog::log(line.level, &line.text);
    }
    if decision.durable {
        let text: String = decision
            .changes
            .iter()
            .map(|b: &Binding| format_lease(b.addr, &b.to_lease()))
            .collect();
        if let Err(e) = shared.writer.commit(text) {
            for b in &decision.changes {
                syslog::log(
                    Level::Err,
                    &format!("write_lease: unable to write lease {}: {e}", b.addr),
                );
            }
            if let Some(first) = decision.log.first() {
                syslog::log(
                    Level::Err,
                    &format!("{}: database update failed", first.text),
                );
            }
            return;
        }
    }
    for line in after {
        syslog::log(line.level, &line.text);
    }
    if decision.durable {
        maybe_rewrite(shared);
    }
    if let Some(reply) = decision.reply {
        send(shared, l, p, &reply);
    }
}

/// The hourly compaction: the view as it is now replaces the file.
fn maybe_rewrite(shared: &Shared) {
    let t = now();
    {
        let Ok(mut last) = shared.last_rewrite.lock() else {
            return;
        };
        if t - *last <= REWRITE_INTERVAL {
            return;
        }
        *last = t;
    }
    let records = match shared.view.lock() {
        Ok(view) => view.values().map(|b| (b.addr, b.to_lease())).collect(),
        Err(_) => return,
    };
    match shared.writer.rewrite(records, t) {
        Ok(lines) => {
            for l in lines {
                syslog::log(Level::Info, &l);
            }
        }
        Err(e) => syslog::log(Level::Err, &format!("Can't create new lease file: {e}")),
    }
}

/// Sends a reply per RFC 2131 §4.1: a NAK or a broadcast-flag request by
/// broadcast, a client with an address (ciaddr) by unicast to it, and
/// otherwise by link-level unicast to chaddr with yiaddr as destination.
fn send(shared: &Shared, l: &Listener, req: &Packet, reply: &Packet) {
    let prl = req.options.parameter_request_list();
    let mut out = Vec::new();
    wire::encode_reply_options(reply, prl, req.options.max_message_size(), &mut out);
    let mut chaddr = [0u8; 6];
    if req.hlen == 6 {
        chaddr.copy_from_slice(&req.chaddr[..6]);
    }
    let is_nak = reply.options.message_type() == Some(MessageType::Nak);
    let (mac, dst) = if !req.giaddr.is_unspecified() {
        // Relayed requests need routing; answered by a later part.
        return;
    } else if is_nak || req.broadcast() || req.hlen != 6 {
        (BROADCAST_MAC, Ipv4Addr::BROADCAST)
    } else if !req.ciaddr.is_unspecified() {
        (chaddr, req.ciaddr)
    } else if !reply.yiaddr.is_unspecified() {
        (chaddr, reply.yiaddr)
    } else {
        (BROADCAST_MAC, Ipv4Addr::BROADCAST)
    };
    let src = SocketAddrV4::new(l.addr, shared.server_port);
    let dst = SocketAddrV4::new(dst, shared.client_port);
    if let Err(e) = l.socket.send(mac, src, dst, &out) {
        syslog::log(Level::Err, &format!("send_packet: {e}"));
    }
}
