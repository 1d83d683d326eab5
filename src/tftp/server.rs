//! Serving: start-up in tftp-hpa's order (T-REQ-1: directory, map file,
//! user, hosts.allow/deny, then chroot and the drop to `-u`), inetd
//! `wait = yes` mode (T-INETD: the socket is fd 0, linger `-t` seconds) and
//! standalone `-l`. In both, the started process only reads requests and the
//! transfers run in a child it forked, so they outlive it as tftp-hpa's
//! per-request children do; the child has a fixed pool of worker threads.
//! Each worker runs an epoll loop over many transfers, so a slow or vanished
//! client never stalls another. Every transfer has its own ephemeral socket
//! bound to the address the request was sent to (or, with `--single-port`,
//! shares the listening socket). Hot files are kept in memory and shared.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddrV4, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver as ChanRx, Sender as ChanTx};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::access::LiveHostsAccess;
use super::config::{self, Config};
use super::fs::FileAccess;
use super::options::{self, Limits};
use super::remap::{self, Outcome, RemapTable};
use super::transfer::{
    FileSource, FinishWrite, MemSource, NetasciiSink, NetasciiSource, Params, PlainSink, Receiver,
    Sender, Source, Step,
};
use super::wire::{self, Direction, Mode, Packet};
use crate::sys::syslog::{self, Level};
use crate::sys::udp::PktSocket;

/// The daemon name tcp_wrappers rules are written for.
pub const DAEMON_NAME: &str = "in.tftpd";

/// Largest datagram we accept (a 65464-byte block plus headers).
const MAX_PACKET: usize = 65536;

/// A hot file is kept in memory if it is at most this big…
const CACHE_FILE_MAX: u64 = 8 << 20;
/// …and all cached files together stay under this.
const CACHE_TOTAL_MAX: u64 = 32 << 20;

/// A fatal start-up or serving error: exit code and log text.
#[derive(Debug)]
pub struct Fatal {
    pub code: i32,
    pub message: String,
}

fn fatal(code: i32, message: impl Into<String>) -> Fatal {
    Fatal {
        code,
        message: message.into(),
    }
}

/// Everything a worker needs to turn a request into a transfer.
#[derive(Debug)]
struct Shared {
    access: FileAccess,
    hosts: LiveHostsAccess,
    remap: RwLock<Arc<RemapTable>>,
    map_dir: Option<(File, Vec<u8>)>,
    limits: Limits,
    retransmit_us: u64,
    verbosity: u32,
    port_range: Option<(u16, u16)>,
    cache: Mutex<Cache>,
    active: AtomicUsize,
    /// Woken when a transfer ends (inetd mode waits for the last one).
    done_tx: UnixDatagram,
}

/// A file's identity and version: device, inode, size, mtime seconds and nanoseconds.
type FileKey = (u64, u64, u64, i64, i64);

/// Contents of recently served files with their last use.
#[derive(Debug, Default)]
struct Cache {
    files: HashMap<FileKey, (Arc<Vec<u8>>, u64)>,
    total: u64,
    tick: u64,
}

impl Cache {
    fn get_or_load(&mut self, f: &mut File, meta: &std::fs::Metadata) -> Option<Arc<Vec<u8>>> {
        if !meta.is_file() || meta.size() > CACHE_FILE_MAX {
            return None;
        }
        let key = (
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        );
        self.tick += 1;
        if let Some((data, used)) = self.files.get_mut(&key) {
            *used = self.tick;
            return Some(data.clone());
        }
        let mut buf = Vec::with_capacity(meta.size() as usize);
        f.read_to_end(&mut buf).ok()?;
        if buf.len() as u64 != meta.size() {
            return None;
        }
        while self.total + meta.size() > CACHE_TOTAL_MAX {
            let oldest = self
                .files
                .iter()
                .min_by_key(|(_, (_, u))| *u)
                .map(|(k, _)| *k)?;
            if let Some((d, _)) = self.files.remove(&oldest) {
                self.total -= d.len() as u64;
            }
        }
        let data = Arc::new(buf);
        self.total += meta.size();
        self.files.insert(key, (data.clone(), self.tick));
        Some(data)
    }
}

/// One received request, handed from the listener to a worker.
#[derive(Debug)]
struct Job {
    packet: Vec<u8>,
    peer: SocketAddrV4,
    local: Ipv4Addr,
}

/// How a transfer talks to its client.
#[derive(Debug)]
enum Endpoint {
    Own(UdpSocket),
    /// `--single-port`: replies leave from the listening socket.
    Shared,
}

enum Machine {
    Read(Sender),
    Write(Receiver),
}

impl Machine {
    fn start(&mut self) -> Step {
        match self {
            Machine::Read(s) => s.start(),
            Machine::Write(r) => r.start(),
        }
    }
    fn on_packet(&mut self, p: &[u8]) -> Step {
        match self {
            Machine::Read(s) => s.on_packet(p),
            Machine::Write(r) => r.on_packet(p),
        }
    }
    fn on_timeout(&mut self) -> Step {
        match self {
            Machine::Read(s) => s.on_timeout(),
            Machine::Write(r) => r.on_timeout(),
        }
    }
    fn outbox(&self) -> Vec<&[u8]> {
        match self {
            Machine::Read(s) => s.outbox(),
            Machine::Write(r) => r.outbox(),
        }
    }
    fn timeout_us(&self) -> u64 {
        match self {
            Machine::Read(s) => s.timeout_us(),
            Machine::Write(r) => r.timeout_us(),
        }
    }
}

struct Transfer {
    endpoint: Endpoint,
    peer: SocketAddrV4,
    local: Ipv4Addr,
    machine: Machine,
    deadline: Instant,
}

fn send_on(
    endpoint: &Endpoint,
    shared_sock: Option<&PktSocket>,
    buf: &[u8],
    peer: SocketAddrV4,
    local: Ipv4Addr,
) {
    let r = match endpoint {
        Endpoint::Own(s) => s.send(buf).map(|_| ()),
        Endpoint::Shared => match shared_sock {
            Some(s) => s.send_from(buf, peer, Some(local)).map(|_| ()),
            None => Ok(()),
        },
    };
    if let Err(e) = r {
        // A vanished client (ECONNREFUSED from an ICMP error) ends nothing here: the retransmit timer does.
        if e.kind() != io::ErrorKind::ConnectionRefused {
            syslog::log(
                Level::Warning,
                &format!("tftpd: write: {}", crate::sys::fsys::error_text(&e)),
            );
        }
    }
}

fn log_nak(sh: &Shared, code: u16, msg: &str, peer: SocketAddrV4) {
    if sh.verbosity >= 2 {
        syslog::log(
            Level::Info,
            &format!("sending NAK ({code}, {msg}) to {}", peer.ip()),
        );
    }
}

/// Creates the transfer socket: bound to the address the request was sent to,
/// on an ephemeral port or one from `-R`, connected to the client (T-REQ-1).
fn transfer_socket(
    local: Ipv4Addr,
    peer: SocketAddrV4,
    range: Option<(u16, u16)>,
) -> io::Result<UdpSocket> {
    let sock = match range {
        None => UdpSocket::bind(SocketAddrV4::new(local, 0))?,
        Some((from, to)) => {
            let span = u32::from(to - from) + 1;
            let start = (std::process::id().wrapping_add(peer.port() as u32)) % span;
            let mut found = None;
            for i in 0..span {
                let port = from + ((start + i) % span) as u16;
                if let Ok(s) = UdpSocket::bind(SocketAddrV4::new(local, port)) {
                    found = Some(s);
                    break;
                }
            }
            found.ok_or_else(|| io::Error::from(io::ErrorKind::AddrInUse))?
        }
    };
    sock.connect(peer)?;
    let _ = crate::sys::sockopt::set_pmtudisc_dont(sock.as_fd());
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// Turns a request into a running transfer, or answers it with an error.
fn begin(sh: &Shared, job: Job, shared_sock: Option<&PktSocket>) -> Option<Transfer> {
    let Job {
        packet,
        peer,
        local,
    } = job;
    if !sh.hosts.permits(DAEMON_NAME, *peer.ip()) {
        syslog::log(
            Level::Warning,
            &format!("connection refused from {}", peer.ip()),
        );
        return None;
    }
    let endpoint = match shared_sock {
        Some(_) => Endpoint::Shared,
        None => match transfer_socket(local, peer, sh.port_range) {
            Ok(s) => Endpoint::Own(s),
            Err(e) => {
                syslog::log(
                    Level::Err,
                    &format!("bind: {}", crate::sys::fsys::error_text(&e)),
                );
                return None;
            }
        },
    };
    let nak = |code: u16, msg: &str| {
        log_nak(sh, code, msg, peer);
        send_on(
            &endpoint,
            shared_sock,
            &wire::error_packet(code, msg),
            peer,
            local,
        );
    };
    let req = match wire::decode(&packet) {
        Ok(Packet::Request(r)) => r,
        Ok(_) => return None,
        Err(e) => {
            if let Some((code, msg)) = e.reply() {
                nak(code, msg);
            }
            return None;
        }
    };
    let table = sh.remap.read().map(|t| t.clone()).unwrap_or_default();
    let mut name = req.filename.clone();
    if !table.is_empty() {
        let verbose = sh.verbosity >= 3;
        let mut trace = |l: String| {
            if verbose {
                syslog::log(Level::Info, &l);
            }
        };
        match table.apply(&req.filename, req.direction, *peer.ip(), &mut trace) {
            Outcome::Name(n) => name = n,
            Outcome::Denied(msg) => {
                // tftp-hpa refuses before its request line: nothing but the NAK is logged.
                nak(2, &String::from_utf8_lossy(&msg));
                return None;
            }
            Outcome::Loop { last } => {
                syslog::log(
                    Level::Warning,
                    &format!(
                        "remap: Breaking loop, input = {}, last = {}",
                        remap::log_safe(&req.filename),
                        remap::log_safe(&last)
                    ),
                );
                nak(2, "Remap table failure");
                return None;
            }
        }
    }
    log_request(sh, &req, &name, peer);
    let base_us = sh.retransmit_us;
    let machine = match req.direction {
        Direction::Read => {
            let (mut file, meta) = match sh.access.open_read(&name) {
                Ok(x) => x,
                Err(n) => {
                    nak(n.code, &n.message);
                    return None;
                }
            };
            let neg = match options::negotiate(&req, meta.size(), &sh.limits) {
                Ok(n) => n,
                Err(r) => {
                    nak(8, r.0);
                    return None;
                }
            };
            let cached = sh
                .cache
                .lock()
                .ok()
                .and_then(|mut c| c.get_or_load(&mut file, &meta));
            let raw: Box<dyn Source> = match cached {
                Some(data) => Box::new(MemSource::new(data)),
                None => Box::new(FileSource::new(file)),
            };
            let source: Box<dyn Source> = match req.mode {
                Mode::Octet => raw,
                Mode::Netascii => Box::new(NetasciiSource::new(BoxedSource(raw))),
            };
            let p = Params {
                blksize: neg.blksize,
                windowsize: neg.windowsize,
                rollover: neg.rollover,
                timeout_us: neg.timeout_us.unwrap_or(base_us),
            };
            Machine::Read(Sender::new(source, p, oack_bytes(&neg.oack)))
        }
        Direction::Write => {
            let neg = match options::negotiate(&req, 0, &sh.limits) {
                Ok(n) => n,
                Err(r) => {
                    nak(8, r.0);
                    return None;
                }
            };
            let file = match sh.access.open_write(&name) {
                Ok(f) => f,
                Err(n) => {
                    nak(n.code, &n.message);
                    return None;
                }
            };
            let sink: Box<dyn FinishWrite> = match req.mode {
                Mode::Octet => Box::new(PlainSink(io::BufWriter::new(file))),
                Mode::Netascii => Box::new(NetasciiSink(super::netascii::Decoder::new(
                    io::BufWriter::new(file),
                ))),
            };
            let p = Params {
                blksize: neg.blksize,
                windowsize: 1,
                rollover: neg.rollover,
                timeout_us: neg.timeout_us.unwrap_or(base_us),
            };
            Machine::Write(Receiver::new(sink, p, oack_bytes(&neg.oack)))
        }
    };
    Some(Transfer {
        endpoint,
        peer,
        local,
        machine,
        deadline: Instant::now(),
    })
}

/// Lets a boxed source be wrapped by the netascii converter.
struct BoxedSource(Box<dyn Source>);

impl Source for BoxedSource {
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
        self.0.fill(buf, n)
    }
}

fn oack_bytes(opts: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<u8>> {
    if opts.is_empty() {
        return None;
    }
    let mut v = Vec::new();
    wire::encode(
        &Packet::Oack {
            options: opts.to_vec(),
        },
        &mut v,
    );
    Some(v)
}

/// T-LOG-1: `RRQ from %s filename %s[ remapped to %s]` at verbosity 1, with a trailing newline.
fn log_request(sh: &Shared, req: &wire::Request, name: &[u8], peer: SocketAddrV4) {
    if sh.verbosity < 1 {
        return;
    }
    let orig = remap::log_safe(&req.filename);
    let msg = if name != req.filename.as_slice() {
        format!(
            "{} from {} filename {} remapped to {}\n",
            req.direction.name(),
            peer.ip(),
            orig,
            remap::log_safe(name)
        )
    } else {
        format!(
            "{} from {} filename {}\n",
            req.direction.name(),
            peer.ip(),
            orig
        )
    };
    syslog::log(Level::Notice, &msg);
}

/// Applies a step's outcome; false when the transfer is over.
fn act(sh: &Shared, t: &mut Transfer, step: Step, shared_sock: Option<&PktSocket>) -> bool {
    match step {
        Step::Send => {
            for p in t.machine.outbox() {
                send_on(&t.endpoint, shared_sock, p, t.peer, t.local);
            }
            t.deadline = Instant::now() + Duration::from_micros(t.machine.timeout_us());
            true
        }
        Step::Ignore => true,
        Step::Finished => false,
        Step::Failed { reply, log } => {
            if let Some((code, msg)) = reply {
                log_nak(sh, code, &msg, t.peer);
                send_on(
                    &t.endpoint,
                    shared_sock,
                    &wire::error_packet(code, &msg),
                    t.peer,
                    t.local,
                );
            }
            if let Some(l) = log {
                syslog::log(Level::Warning, &l);
            }
            false
        }
    }
}

/// A worker: an epoll loop over its transfers' sockets and a wake-up socket
/// for new jobs. Timers are checked when the earliest deadline passes.
struct Worker {
    sh: Arc<Shared>,
    jobs: ChanRx<Job>,
    wake: UnixDatagram,
    transfers: HashMap<u64, Transfer>,
    next_token: u64,
}

/// The token of the wake-up socket; transfers count from 1.
const WAKE: u64 = 0;

impl Worker {
    fn finish(&self, n: usize) {
        if n > 0 {
            self.sh.active.fetch_sub(n, Ordering::SeqCst);
            let _ = self.sh.done_tx.send(&[1]);
        }
    }

    fn run(mut self) {
        let ep = match crate::sys::epoll::Epoll::new() {
            Ok(e) => e,
            Err(e) => {
                syslog::log(Level::Err, &format!("epoll: {e}"));
                return;
            }
        };
        if ep.add(self.wake.as_fd(), WAKE).is_err() {
            return;
        }
        let mut buf = vec![0u8; MAX_PACKET];
        let mut ready = Vec::new();
        let mut next_deadline: Option<Instant> = None;
        loop {
            let timeout_ms = match next_deadline {
                None => -1,
                Some(d) => {
                    d.saturating_duration_since(Instant::now())
                        .as_millis()
                        .min(60_000) as i32
                        + 1
                }
            };
            if ep.wait(&mut ready, timeout_ms).is_err() {
                continue;
            }
            let mut ended = 0;
            for &token in &ready {
                if token == WAKE {
                    let mut b = [0u8; 64];
                    while self.wake.recv(&mut b).is_ok() {}
                    loop {
                        match self.jobs.try_recv() {
                            Ok(job) => {
                                if let Some(d) = self.start_job(job, &ep) {
                                    next_deadline = Some(next_deadline.map_or(d, |n| n.min(d)));
                                }
                            }
                            Err(std::sync::mpsc::TryRecvError::Empty) => break,
                            Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                        }
                    }
                    continue;
                }
                let Some(t) = self.transfers.get_mut(&token) else {
                    continue;
                };
                // One datagram per readiness: a lock-step client has at most one
                // queued, and epoll (level-triggered) reports the socket again if more wait.
                let mut alive = true;
                if let Endpoint::Own(s) = &t.endpoint {
                    if let Ok(n) = s.recv(&mut buf) {
                        let step = t.machine.on_packet(&buf[..n]);
                        alive = act(&self.sh, t, step, None);
                    }
                }
                if alive {
                    next_deadline = Some(next_deadline.map_or(t.deadline, |n| n.min(t.deadline)));
                } else {
                    if let Some(t) = self.transfers.remove(&token) {
                        if let Endpoint::Own(s) = &t.endpoint {
                            let _ = ep.delete(s.as_fd());
                        }
                    }
                    ended += 1;
                }
            }
            let now = Instant::now();
            if next_deadline.is_some_and(|d| now >= d) {
                // A deadline passed: fire every expired timer and find the next one.
                let mut gone = Vec::new();
                let mut earliest: Option<Instant> = None;
                for (&token, t) in self.transfers.iter_mut() {
                    if now >= t.deadline {
                        let step = t.machine.on_timeout();
                        if !act(&self.sh, t, step, None) {
                            gone.push(token);
                            continue;
                        }
                    }
                    earliest = Some(earliest.map_or(t.deadline, |e| e.min(t.deadline)));
                }
                for token in gone {
                    if let Some(t) = self.transfers.remove(&token) {
                        if let Endpoint::Own(s) = &t.endpoint {
                            let _ = ep.delete(s.as_fd());
                        }
                    }
                    ended += 1;
                }
                next_deadline = earliest;
            }
            self.finish(ended);
        }
    }

    /// Starts a job; returns its first deadline if it became a running transfer.
    fn start_job(&mut self, job: Job, ep: &crate::sys::epoll::Epoll) -> Option<Instant> {
        let Some(mut t) = begin(&self.sh, job, None) else {
            self.finish(1);
            return None;
        };
        let step = t.machine.start();
        if !act(&self.sh, &mut t, step, None) {
            self.finish(1);
            return None;
        }
        self.next_token += 1;
        let token = self.next_token;
        if let Endpoint::Own(s) = &t.endpoint {
            if ep.add(s.as_fd(), token).is_err() {
                self.finish(1);
                return None;
            }
        }
        let d = t.deadline;
        self.transfers.insert(token, t);
        Some(d)
    }
}

/// The handles the listener uses to give work to the pool.
struct Pool {
    workers: Vec<(ChanTx<Job>, UnixDatagram)>,
    next: usize,
}

impl Pool {
    fn start(sh: &Arc<Shared>, n: usize) -> io::Result<Pool> {
        let mut workers = Vec::new();
        for _ in 0..n {
            let (tx, rx) = channel();
            let (wa, wb) = UnixDatagram::pair()?;
            wb.set_nonblocking(true)?;
            let w = Worker {
                sh: sh.clone(),
                jobs: rx,
                wake: wb,
                transfers: HashMap::new(),
                next_token: WAKE,
            };
            std::thread::Builder::new()
                .name("tftp-worker".into())
                .spawn(move || w.run())?;
            workers.push((tx, wa));
        }
        Ok(Pool { workers, next: 0 })
    }

    fn submit(&mut self, sh: &Shared, job: Job) {
        sh.active.fetch_add(1, Ordering::SeqCst);
        let i = self.next % self.workers.len();
        self.next = self.next.wrapping_add(1);
        let (tx, wake) = &self.workers[i];
        if tx.send(job).is_ok() {
            let _ = wake.send(&[1]);
        } else {
            sh.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads and parses the map file (T-MAP-4 messages; 66 unreadable, 78 bad).
pub fn load_map(path: &std::path::Path) -> Result<RemapTable, Fatal> {
    let text = std::fs::read(path).map_err(|e| {
        fatal(
            config::EX_NOINPUT,
            format!(
                "Cannot open map file: {}: {}",
                path.display(),
                crate::sys::fsys::error_text(&e)
            ),
        )
    })?;
    remap::parse(&text).map_err(|errs| fatal(config::EX_CONFIG, errs.join("\n")))
}

/// Re-reads the map file through its directory's descriptor (SIGHUP in standalone mode).
fn reload_map(path: &std::path::Path, dir: &File, name: &[u8]) -> Result<RemapTable, Fatal> {
    let text = crate::sys::fsys::open_at(dir, name)
        .and_then(|mut f| {
            let mut v = Vec::new();
            f.read_to_end(&mut v).map(|_| v)
        })
        .map_err(|e| {
            fatal(
                config::EX_NOINPUT,
                format!(
                    "Cannot open map file: {}: {}",
                    path.display(),
                    crate::sys::fsys::error_text(&e)
                ),
            )
        })?;
    remap::parse(&text).map_err(|errs| fatal(config::EX_CONFIG, errs.join("\n")))
}

/// Parses `-a [addr][:port]` (IPv4 or a host name; port number or service name).
fn parse_address(a: Option<&str>) -> Result<SocketAddrV4, Fatal> {
    let a = a.unwrap_or("");
    let (host, port) = match a.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => (a, ""),
    };
    let port: u16 = if port.is_empty() || port == "tftp" {
        69
    } else {
        port.parse().map_err(|_| {
            fatal(
                config::EX_NOINPUT,
                format!("cannot resolve local bind port: {port}"),
            )
        })?
    };
    let ip = if host.is_empty() {
        Ipv4Addr::UNSPECIFIED
    } else if let Ok(ip) = host.parse() {
        ip
    } else {
        (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut it| {
                it.find_map(|s| match s {
                    std::net::SocketAddr::V4(v) => Some(*v.ip()),
                    _ => None,
                })
            })
            .ok_or_else(|| {
                fatal(
                    config::EX_NOINPUT,
                    format!("cannot resolve local bind address: {host}"),
                )
            })?
    };
    Ok(SocketAddrV4::new(ip, port))
}

/// What `main` needs after the checks: the pieces start-up built.
#[derive(Debug)]
pub struct Prepared {
    cfg: Config,
    /// The map file's directory and name, kept so SIGHUP can re-read it after chroot.
    map_dir: Option<(File, Vec<u8>)>,
    account: Option<crate::sys::privilege::Account>,
    hosts: LiveHostsAccess,
    map: RemapTable,
    root_dir: Option<std::path::PathBuf>,
}

/// Everything `--check-config` validates and a start needs, in T-REQ-1 order:
/// the `-s` directory, the map file, the `-u` user, then hosts.allow/deny.
pub fn prepare(cfg: Config) -> Result<Prepared, Fatal> {
    let root_dir = if cfg.secure {
        let d = cfg.dirs.first().cloned().unwrap_or_default();
        std::fs::read_dir(&d).map_err(|e| {
            fatal(
                config::EX_NOINPUT,
                format!("{}: {}", d.display(), crate::sys::fsys::error_text(&e)),
            )
        })?;
        Some(std::fs::canonicalize(&d).unwrap_or(d))
    } else {
        None
    };
    let map = match &cfg.map_file {
        Some(p) => load_map(p)?,
        None => RemapTable::default(),
    };
    let account = match crate::sys::privilege::lookup_user(&cfg.user) {
        Ok(Some(a)) => Some(a),
        Ok(None) => {
            return Err(fatal(
                config::EX_NOUSER,
                format!("no user {}: Success", cfg.user),
            ))
        }
        Err(e) => {
            return Err(fatal(
                config::EX_NOUSER,
                format!("no user {}: {}", cfg.user, crate::sys::fsys::error_text(&e)),
            ))
        }
    };
    let hosts = LiveHostsAccess::open_etc();
    let map_dir = cfg.map_file.as_ref().and_then(|p| {
        let name = p.file_name()?.as_encoded_bytes().to_vec();
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        File::open(dir).ok().map(|d| (d, name))
    });
    Ok(Prepared {
        cfg,
        map_dir,
        account,
        hosts,
        map,
        root_dir,
    })
}

/// Chroot (with `-s`), then clear groups, setgid, setuid, and prove root is
/// gone. Returns true if the process is now chrooted. Run as non-root (tests,
/// a user's own server) nothing can be dropped, and the root stays a
/// directory that openat2 resolves beneath.
fn drop_privileges(
    root_dir: Option<&std::path::Path>,
    account: Option<&crate::sys::privilege::Account>,
) -> Result<bool, Fatal> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(false);
    }
    let mut chrooted = false;
    if let Some(dir) = root_dir {
        crate::sys::privilege::chroot(dir).map_err(|e| {
            fatal(
                config::EX_OSERR,
                format!("chroot: {}", crate::sys::fsys::error_text(&e)),
            )
        })?;
        chrooted = true;
    }
    if let Some(a) = account {
        crate::sys::privilege::drop_to(a.uid, a.gid, &[]).map_err(|e| {
            fatal(
                config::EX_OSERR,
                format!(
                    "cannot drop privileges: {}",
                    crate::sys::fsys::error_text(&e)
                ),
            )
        })?;
        if a.uid != 0 {
            crate::sys::privilege::verify_dropped()
                .map_err(|e| fatal(config::EX_OSERR, format!("cannot drop privileges: {e}")))?;
        }
        let _ = crate::sys::privilege::set_no_new_privs();
    }
    Ok(chrooted)
}

fn build_shared(
    cfg: &Config,
    map_dir: Option<(File, Vec<u8>)>,
    root: Option<File>,
    hosts: LiveHostsAccess,
    map: RemapTable,
) -> Result<(Arc<Shared>, UnixDatagram), Fatal> {
    let access = match root {
        Some(f) => FileAccess::secure(f, cfg.permissive, cfg.create),
        None => FileAccess::plain(
            cfg.dirs
                .iter()
                .map(|d| d.as_os_str().as_encoded_bytes().to_vec())
                .collect(),
            cfg.permissive,
            cfg.create,
        ),
    };
    let (done_tx, done_rx) =
        UnixDatagram::pair().map_err(|e| fatal(config::EX_OSERR, format!("socket: {e}")))?;
    let _ = done_tx.set_nonblocking(true);
    let _ = done_rx.set_nonblocking(true);
    let sh = Shared {
        access,
        hosts,
        remap: RwLock::new(Arc::new(map)),
        map_dir,
        limits: Limits {
            max_blksize: cfg.max_blksize,
            refused: cfg.refused.clone(),
            max_windowsize: options::MAX_WINDOWSIZE,
        },
        retransmit_us: cfg.retransmit_us,
        verbosity: cfg.verbosity,
        port_range: cfg.port_range,
        cache: Mutex::new(Cache::default()),
        active: AtomicUsize::new(0),
        done_tx,
    };
    Ok((Arc::new(sh), done_rx))
}

/// Number of worker threads: enough that one busy disk read never idles the rest.
fn pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

/// Points fds 1 and 2 at /dev/null (inetd passes the socket on all three, T-INETD-1).
fn redirect_out_err() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
        let _ = nix::unistd::dup2(null.as_raw_fd(), 2);
    }
}

/// Serves until told to stop; returns the exit code.
pub fn serve(prepared: Prepared) -> Result<i32, Fatal> {
    let Prepared {
        cfg,
        map_dir,
        account,
        hosts,
        map,
        root_dir,
    } = prepared;
    if cfg.pidfile.is_some() && !cfg.standalone {
        syslog::log(Level::Warning, "not in standalone mode, ignoring pid file");
    }
    match cfg.umask {
        Some(m) => {
            crate::sys::set_umask(m);
        }
        // Without -p, tftp-hpa creates files 0666 (umask 0).
        None if !cfg.permissive => {
            crate::sys::set_umask(0);
        }
        None => {}
    }
    let mut readiness = None;
    let listener = if cfg.standalone {
        let addr = parse_address(cfg.address.as_deref())?;
        let sock = PktSocket::bind(addr).map_err(|e| {
            fatal(
                config::EX_OSERR,
                format!(
                    "cannot bind to local socket: {}",
                    crate::sys::fsys::error_text(&e)
                ),
            )
        })?;
        if !cfg.foreground {
            readiness = Some(
                crate::sys::daemon::detach()
                    .map_err(|e| fatal(config::EX_OSERR, format!("cannot daemonize: {e}")))?,
            );
        }
        if let Some(pf) = &cfg.pidfile {
            if let Err(e) = crate::sys::pidfile::write(pf, std::process::id()) {
                syslog::log(
                    Level::Err,
                    &format!(
                        "cannot open pid file '{}' for writing: {}",
                        pf.display(),
                        crate::sys::fsys::error_text(&e)
                    ),
                );
            }
        }
        sock
    } else {
        // T-INETD-2: only IPv4 datagram sockets are served from inetd.
        use nix::sys::socket::SockaddrLike;
        let family = nix::sys::socket::getsockname::<nix::sys::socket::SockaddrStorage>(0)
            .map_err(|e| fatal(config::EX_IOERR, format!("recvfrom: {e}")))?
            .family();
        if family != Some(nix::sys::socket::AddressFamily::Inet) {
            return Err(fatal(
                76,
                "received address was not AF_INET, please check your inetd config",
            ));
        }
        // SAFETY: under inetd `wait = yes` fd 0 is the service's UDP socket (T-INETD-1)
        // and nothing else in this process uses it.
        let sock = unsafe { PktSocket::from_raw(0) }.map_err(|e| {
            fatal(
                config::EX_IOERR,
                format!("recvfrom: {}", crate::sys::fsys::error_text(&e)),
            )
        })?;
        redirect_out_err();
        sock
    };
    let _ = listener.set_pmtudisc_dont();
    // /dev/null is opened before chroot: the detached server points its stdio at it once ready.
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .ok();
    // The root's descriptor is opened before chroot; after it, `/` is the same directory.
    let chrooted = drop_privileges(root_dir.as_deref(), account.as_ref())?;
    let root = match &root_dir {
        Some(d) => {
            let path = if chrooted {
                std::path::Path::new("/")
            } else {
                d.as_path()
            };
            Some(File::open(path).map_err(|e| {
                fatal(
                    config::EX_NOINPUT,
                    format!("{}: {}", d.display(), crate::sys::fsys::error_text(&e)),
                )
            })?)
        }
        None => None,
    };
    let (sh, done_rx) = build_shared(&cfg, map_dir, root, hosts, map)?;
    if let Some(r) = readiness.take() {
        r.ready();
        if let Some(null) = &devnull {
            for fd in 0..3 {
                let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    drop(devnull);
    let new_sigs = || {
        crate::sys::signals::SignalPipe::new(&[
            crate::sys::signals::SIGHUP,
            crate::sys::signals::SIGTERM,
            crate::sys::signals::SIGINT,
        ])
        .map_err(|e| fatal(config::EX_OSERR, format!("signals: {e}")))
    };
    if cfg.single_port {
        let sigs = new_sigs()?;
        return Ok(single_port_loop(&cfg, &sh, &listener, &sigs, &done_rx));
    }
    let code = serve_split(&cfg, &sh, listener, done_rx, new_sigs)?;
    if let (true, Some(pf)) = (cfg.standalone, &cfg.pidfile) {
        // Best effort: after chroot and the drop to `-u` the file is usually out of
        // reach; SysV `killproc` removes it itself (reference I-4).
        let _ = crate::sys::pidfile::remove(pf);
    }
    Ok(code)
}

/// Both modes split the work as tftp-hpa does: this process (the one inetd
/// started, or whose pid is in the pid file) reads requests and, in inetd
/// mode, lingers; the transfers run in a child process, forked before any
/// thread starts, that owns the worker pool. When this process exits (idle,
/// SIGHUP in inetd mode, SIGTERM) or is killed (xinetd sends SIGKILL when
/// `chkconfig tftp off` deactivates the service), the child finishes the
/// transfers it has and exits, as tftp-hpa's per-request children do.
fn serve_split(
    cfg: &Config,
    sh: &Arc<Shared>,
    listener: PktSocket,
    done_rx: UnixDatagram,
    new_sigs: impl Fn() -> Result<crate::sys::signals::SignalPipe, Fatal>,
) -> Result<i32, Fatal> {
    use crate::sys::process::{fork_single_threaded, ignore_sigchld, Forked};
    let (mut feed, take) = std::os::unix::net::UnixStream::pair()
        .map_err(|e| fatal(config::EX_OSERR, format!("socket: {e}")))?;
    let _ = ignore_sigchld();
    match fork_single_threaded().map_err(|e| fatal(config::EX_OSERR, format!("fork: {e}")))? {
        Forked::Child => {
            drop(feed);
            drop(listener);
            let sigs = crate::sys::signals::SignalPipe::new(&[crate::sys::signals::SIGHUP])
                .map_err(|e| fatal(config::EX_OSERR, format!("signals: {e}")))?;
            Ok(transfer_process(cfg, sh, take, &done_rx, &sigs))
        }
        Forked::Parent { child } => {
            drop(take);
            let sigs = new_sigs()?;
            Ok(listen_loop(
                cfg,
                sh,
                &listener,
                &sigs,
                Some(child),
                |job| match io::Write::write_all(&mut feed, &encode_job(&job)) {
                    Ok(()) => true,
                    Err(e) => {
                        syslog::log(
                            Level::Err,
                            &format!("fork: {}", crate::sys::fsys::error_text(&e)),
                        );
                        false
                    }
                },
            ))
        }
    }
}

/// A job on the pipe to the transfer process: length, peer, local address, datagram.
fn encode_job(job: &Job) -> Vec<u8> {
    let mut v = Vec::with_capacity(14 + job.packet.len());
    v.extend_from_slice(&(job.packet.len() as u32).to_be_bytes());
    v.extend_from_slice(&job.peer.ip().octets());
    v.extend_from_slice(&job.peer.port().to_be_bytes());
    v.extend_from_slice(&job.local.octets());
    v.extend_from_slice(&job.packet);
    v
}

fn read_job(r: &mut impl Read) -> io::Result<Job> {
    let mut head = [0u8; 14];
    r.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len > MAX_PACKET {
        return Err(io::Error::other("oversized job"));
    }
    let mut packet = vec![0u8; len];
    r.read_exact(&mut packet)?;
    Ok(Job {
        packet,
        peer: SocketAddrV4::new(
            Ipv4Addr::new(head[4], head[5], head[6], head[7]),
            u16::from_be_bytes([head[8], head[9]]),
        ),
        local: Ipv4Addr::new(head[10], head[11], head[12], head[13]),
    })
}

/// The transfer process: runs the pool on the jobs it is fed and re-reads
/// the map file on SIGHUP (forwarded by the reading process); when the
/// feeding process is gone, finishes the running transfers and exits 0.
fn transfer_process(
    cfg: &Config,
    sh: &Arc<Shared>,
    mut take: std::os::unix::net::UnixStream,
    done_rx: &UnixDatagram,
    sigs: &crate::sys::signals::SignalPipe,
) -> i32 {
    let mut pool = match Pool::start(sh, pool_size()) {
        Ok(p) => p,
        Err(e) => {
            syslog::log(Level::Err, &format!("threads: {e}"));
            return config::EX_OSERR;
        }
    };
    loop {
        let (jr, sr) = {
            let mut fds = [
                PollFd::new(take.as_fd(), PollFlags::POLLIN),
                PollFd::new(sigs.as_fd(), PollFlags::POLLIN),
            ];
            if let Err(e) = poll(&mut fds, PollTimeout::NONE) {
                if e == nix::errno::Errno::EINTR {
                    continue;
                }
                break;
            }
            let has = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
            (has(&fds[0]), has(&fds[1]))
        };
        if sr && !sigs.drain().is_empty() {
            reload_from_signal(cfg, sh);
        }
        if jr {
            // A frame is written whole by the reading process; EOF means it is gone.
            match read_job(&mut take) {
                Ok(job) => pool.submit(sh, job),
                Err(_) => break,
            }
        }
    }
    while sh.active.load(Ordering::SeqCst) > 0 {
        let mut fds = [PollFd::new(done_rx.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::NONE);
        let mut b = [0u8; 64];
        while done_rx.recv(&mut b).is_ok() {}
    }
    0
}

/// Re-reads the map file (standalone SIGHUP); a bad new file keeps the old rules.
fn reload_from_signal(cfg: &Config, sh: &Shared) {
    if let (Some(p), Some((dir, name))) = (&cfg.map_file, &sh.map_dir) {
        match reload_map(p, dir, name) {
            Ok(t) => {
                if let Ok(mut m) = sh.remap.write() {
                    *m = Arc::new(t);
                }
            }
            Err(e) => {
                for line in e.message.lines() {
                    syslog::log(Level::Err, line);
                }
            }
        }
    }
}

/// The address replies leave from: where the request went, unless that was a broadcast.
fn reply_address(r: &crate::sys::udp::Received) -> Ipv4Addr {
    match r.local {
        Some(a) if !a.is_broadcast() && !a.is_multicast() && !a.is_unspecified() => a,
        _ => r.spec_dst.unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

/// What a signal means (T-INETD-3): true to exit now. In standalone mode
/// SIGHUP re-reads the map file where requests are remapped: in the
/// transfer process if there is one, else here.
fn handle_signals(
    cfg: &Config,
    sh: &Shared,
    sigs: &crate::sys::signals::SignalPipe,
    child: Option<u32>,
) -> bool {
    for s in sigs.drain() {
        if s == crate::sys::signals::SIGHUP && cfg.standalone {
            match child {
                Some(pid) => {
                    let _ = crate::sys::signals::kill(pid, crate::sys::signals::SIGHUP);
                }
                None => reload_from_signal(cfg, sh),
            }
        } else {
            return true;
        }
    }
    false
}

/// Receives requests on the listening socket and hands them on. In inetd
/// mode, exits after `-t` idle seconds once no transfer runs.
fn listen_loop(
    cfg: &Config,
    sh: &Shared,
    listener: &PktSocket,
    sigs: &crate::sys::signals::SignalPipe,
    child: Option<u32>,
    mut submit: impl FnMut(Job) -> bool,
) -> i32 {
    let linger = Duration::from_secs(cfg.linger_s);
    let mut last = Instant::now();
    let mut buf = vec![0u8; MAX_PACKET];
    loop {
        let timeout = if cfg.standalone {
            PollTimeout::NONE
        } else {
            // With `-t 0` this still looks once, so the request that woke us is served.
            let left = linger.saturating_sub(last.elapsed());
            PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::NONE)
        };
        let (lr, sr) = {
            let mut fds = [
                PollFd::new(listener.as_fd(), PollFlags::POLLIN),
                PollFd::new(sigs.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    syslog::log(Level::Err, &format!("select loop: {e}"));
                    return config::EX_IOERR;
                }
            }
            let has = |f: &PollFd| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
            (has(&fds[0]), has(&fds[1]))
        };
        // SIGTERM, and SIGHUP in inetd mode (T-INETD-3): exit now; the transfer
        // process finishes what it has.
        if sr && handle_signals(cfg, sh, sigs, child) {
            return 0;
        }
        if !cfg.standalone && !lr && !sr && last.elapsed() >= linger {
            // T-INETD-2: no request for `-t` seconds.
            return 0;
        }
        if lr {
            match listener.recv(&mut buf) {
                Ok(r) => {
                    last = Instant::now();
                    let job = Job {
                        packet: buf[..r.len].to_vec(),
                        peer: r.peer,
                        local: reply_address(&r),
                    };
                    if !submit(job) {
                        return config::EX_OSERR;
                    }
                }
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    syslog::log(
                        Level::Err,
                        &format!("recvfrom: {}", crate::sys::fsys::error_text(&e)),
                    );
                    return config::EX_IOERR;
                }
            }
        }
    }
}

/// `--single-port`: one loop owns the listening socket and every transfer;
/// datagrams from a client with a running transfer go to it, others are requests.
fn single_port_loop(
    cfg: &Config,
    sh: &Shared,
    listener: &PktSocket,
    sigs: &crate::sys::signals::SignalPipe,
    done_rx: &UnixDatagram,
) -> i32 {
    let _ = done_rx;
    let linger = Duration::from_secs(cfg.linger_s);
    let mut last = Instant::now();
    let mut buf = vec![0u8; MAX_PACKET];
    let mut transfers: HashMap<SocketAddrV4, Transfer> = HashMap::new();
    loop {
        let now = Instant::now();
        let mut wait = transfers
            .values()
            .map(|t| t.deadline.saturating_duration_since(now))
            .min();
        if !cfg.standalone && transfers.is_empty() {
            // With `-t 0` this still looks once, so the request that woke us is served.
            let left = linger.saturating_sub(last.elapsed());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        let timeout = wait
            .map(|d| {
                PollTimeout::try_from(d.as_micros().div_ceil(1000).min(60_000) as i32)
                    .unwrap_or(PollTimeout::NONE)
            })
            .unwrap_or(PollTimeout::NONE);
        let (lr, sr) = {
            let mut fds = [
                PollFd::new(listener.as_fd(), PollFlags::POLLIN),
                PollFd::new(sigs.as_fd(), PollFlags::POLLIN),
            ];
            if let Err(e) = poll(&mut fds, timeout) {
                if e != nix::errno::Errno::EINTR {
                    syslog::log(Level::Err, &format!("select loop: {e}"));
                    return config::EX_IOERR;
                }
                continue;
            }
            let has = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
            (has(&fds[0]), has(&fds[1]))
        };
        if sr && handle_signals(cfg, sh, sigs, None) {
            return 0;
        }
        if !cfg.standalone && !lr && transfers.is_empty() && last.elapsed() >= linger {
            return 0;
        }
        if lr {
            if let Ok(r) = listener.recv(&mut buf) {
                let pkt = &buf[..r.len];
                let is_request = matches!(wire::opcode(pkt), Some(wire::RRQ) | Some(wire::WRQ));
                if let (false, Some(t)) = (is_request, transfers.get_mut(&r.peer)) {
                    let step = t.machine.on_packet(pkt);
                    if !act(sh, t, step, Some(listener)) {
                        transfers.remove(&r.peer);
                    }
                } else if !is_request {
                    // DATA/ACK for no transfer: dropped, as tftp-hpa's port 69 does.
                } else {
                    last = Instant::now();
                    let job = Job {
                        packet: pkt.to_vec(),
                        peer: r.peer,
                        local: reply_address(&r),
                    };
                    if let Some(mut t) = begin(sh, job, Some(listener)) {
                        let step = t.machine.start();
                        if act(sh, &mut t, step, Some(listener)) {
                            transfers.insert(r.peer, t);
                        }
                    }
                }
            }
        }
        let now = Instant::now();
        let due: Vec<SocketAddrV4> = transfers
            .iter()
            .filter(|(_, t)| now >= t.deadline)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(t) = transfers.get_mut(&k) {
                let step = t.machine.on_timeout();
                if !act(sh, t, step, Some(listener)) {
                    transfers.remove(&k);
                }
            }
        }
    }
}
