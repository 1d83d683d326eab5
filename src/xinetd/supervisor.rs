//! The single-threaded supervisor (reference 3.4, 3.5, 3.10, 3.12): one poll
//! loop over every service socket and the signal self-pipe. For each request
//! it runs xinetd's parent-side checks in xinetd's order (cps, max_load,
//! access_times, instances, per_source, `-limit`), forks, and in the child
//! makes the address and tcp_wrappers checks before it execs the server.
//! No threads: work after fork in a threaded process could deadlock.

use crate::sys::signals::{self, SignalPipe};
use crate::sys::spawn::{self, Exit, Forked};
use crate::sys::syslog::Level;
use crate::xinetd::access::{self, AddrVerdict};
use crate::xinetd::cli::Options;
use crate::xinetd::conf::model::{Config, Service, SocketType};
use crate::xinetd::conf::{self, parse::errno_text};
use crate::xinetd::internal::{self, Internal};
use crate::xinetd::launch;
use crate::xinetd::limits::{self, Cps};
use crate::xinetd::log::{self, Ended, Logger};
use crate::xinetd::wrappers;
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The path of the SIGUSR1 state dump (X-F-1).
pub const DUMP_FILE: &str = "/var/run/xinetd.dump";

/// A service's listening socket.
#[derive(Debug)]
enum Listener {
    Stream(TcpListener),
    Dgram(UdpSocket),
}

impl Listener {
    fn raw(&self) -> i32 {
        match self {
            Listener::Stream(l) => l.as_raw_fd(),
            Listener::Dgram(u) => u.as_raw_fd(),
        }
    }
    fn owned_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Listener::Stream(l) => l.as_fd(),
            Listener::Dgram(u) => u.as_fd(),
        }
    }
}

/// A service that is configured and (normally) listening.
#[derive(Debug)]
struct Active {
    key: u64,
    svc: Service,
    sock: Option<Listener>,
    /// A `wait = yes` server owns the socket: not watched until it exits.
    suspended: bool,
    cps: Cps,
    /// Set while deactivated by cps.
    reactivate_at: Option<Instant>,
    /// X-LIM-dgram-log: when a refused (address, port) was last logged.
    dgram_refusals: HashMap<SocketAddr, Instant>,
}

/// A running server.
#[derive(Debug, Clone)]
struct Child {
    service_key: u64,
    svc: Service,
    peer: IpAddr,
    started: Instant,
}

/// Why the loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Exit(i32),
}

/// The running super-server.
#[derive(Debug)]
pub struct Supervisor {
    opts: Options,
    logger: Logger,
    env: Vec<(String, String)>,
    services: Vec<Active>,
    children: HashMap<u32, Child>,
    signals: SignalPipe,
    next_key: u64,
    hosts_dir: PathBuf,
    /// SENSOR trips: addresses refused by every service, until the instant (None = forever).
    sensor_denied: HashMap<IpAddr, Option<Instant>>,
    /// The last accept found the backlog empty.
    pending_empty: bool,
}

fn peer_text(svc: &Service, peer: IpAddr) -> String {
    if svc.is_ipv6() {
        match peer {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().to_string(),
            v6 => v6.to_string(),
        }
    } else {
        access::canonical(peer).to_string()
    }
}

fn minute_of_day() -> u16 {
    let t = crate::sys::clock::now();
    (t.hour * 60 + t.minute) as u16
}

/// Opens a service's socket (X-ST-6).
fn open_socket(svc: &Service) -> std::io::Result<Listener> {
    let ip = match svc.bind {
        Some(ip) => ip,
        None if svc.is_ipv6() => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    };
    let addr = SocketAddr::new(ip, svc.port);
    let stream = svc.socket_type == SocketType::Stream;
    let fd: OwnedFd = crate::sys::inet::bind(addr, stream, svc.v6only, 64)?;
    Ok(if stream {
        let l = TcpListener::from(fd);
        // Only xinetd accepts on a `wait = no` listener (it is close-on-exec), so it
        // may be non-blocking; a `wait = yes` server gets its listener as it expects it.
        if !svc.wait {
            l.set_nonblocking(true)?;
        }
        Listener::Stream(l)
    } else {
        Listener::Dgram(UdpSocket::from(fd))
    })
}

impl Supervisor {
    /// Loads the configuration and activates its services; Err(exit code) when xinetd would give up.
    pub fn start(
        opts: Options,
        logger: Logger,
        env: Vec<(String, String)>,
    ) -> Result<Supervisor, i32> {
        let sigs = [
            signals::SIGHUP,
            signals::SIGUSR1,
            signals::SIGUSR2,
            signals::SIGTERM,
            signals::SIGQUIT,
            signals::SIGCHLD,
            signals::SIGINT,
        ];
        let signals = match SignalPipe::new(&sigs) {
            Ok(s) => s,
            Err(e) => {
                logger.msg(Level::Crit, &format!("signal set-up failed: {e}"));
                return Err(1);
            }
        };
        let mut sup = Supervisor {
            opts,
            logger,
            env,
            services: Vec::new(),
            children: HashMap::new(),
            signals,
            next_key: 1,
            hosts_dir: PathBuf::from("/etc"),
            sensor_denied: HashMap::new(),
            pending_empty: false,
        };
        let loaded = conf::load_with(&sup.opts.config, &sup.env, sup.inetd_conf());
        sup.log_findings(&loaded);
        let Some(config) = loaded.config else {
            sup.logger
                .msg(Level::Crit, "couldn't get configuration. Exiting...");
            return Err(1);
        };
        for svc in config.services {
            sup.activate_new(svc);
        }
        let n = sup.available();
        if n == 0 && !sup.opts.stayalive {
            sup.logger.msg(Level::Crit, "no services. Exiting...");
            return Err(1);
        }
        let _ = std::env::set_current_dir("/");
        sup.logger.msg(
            Level::Notice,
            &format!(
                "xinetd Version {} started with {} labeled-networking options compiled in.",
                crate::xinetd::VERSION,
                crate::xinetd::OPTIONS
            ),
        );
        let plural = if n == 1 { "service" } else { "services" };
        sup.logger.msg(
            Level::Notice,
            &format!("Started working: {n} available {plural}"),
        );
        Ok(sup)
    }

    /// `/etc/inetd.conf` when `-inetd_compat` was given.
    fn inetd_conf(&self) -> Option<&'static std::path::Path> {
        self.opts
            .inetd_compat
            .then_some(std::path::Path::new("/etc/inetd.conf"))
    }

    fn log_findings(&self, loaded: &conf::Loaded) {
        for f in &loaded.findings {
            self.logger.msg(f.level, &f.log_text(&loaded.map));
        }
    }

    fn available(&self) -> usize {
        self.services
            .iter()
            .filter(|a| a.sock.is_some() || a.suspended || a.reactivate_at.is_some())
            .count()
    }

    fn activate_new(&mut self, svc: Service) {
        let key = self.next_key;
        self.next_key += 1;
        match open_socket(&svc) {
            Ok(sock) => {
                // Only the debug mode (-d) names each service it starts, as xinetd does.
                if self.opts.debug {
                    self.logger
                        .msg(Level::Debug, &format!("Started service: {}", svc.id));
                }
                self.services.push(Active {
                    key,
                    svc,
                    sock: Some(sock),
                    suspended: false,
                    cps: Cps::default(),
                    reactivate_at: None,
                    dgram_refusals: HashMap::new(),
                });
            }
            Err(e) => {
                self.logger.msg(
                    Level::Err,
                    &format!("bind failed ({}). service = {}", errno_text(&e), svc.id),
                );
                self.logger.msg(
                    Level::Err,
                    &format!("Service {} failed to start and is deactivated.", svc.id),
                );
            }
        }
    }

    /// The inode of each listening socket by service id (for tests and the dump).
    pub fn socket_inodes(&self) -> Vec<(String, i32)> {
        self.services
            .iter()
            .filter_map(|a| a.sock.as_ref().map(|s| (a.svc.id.clone(), s.raw())))
            .collect()
    }

    /// Runs until a signal ends xinetd; returns the exit code.
    pub fn run(&mut self) -> i32 {
        loop {
            let now = Instant::now();
            let timeout = self
                .services
                .iter()
                .filter_map(|a| a.reactivate_at)
                .map(|t| t.saturating_duration_since(now))
                .min();
            let watched: Vec<(u64, i32)> = self
                .services
                .iter()
                .filter(|a| !a.suspended)
                .filter_map(|a| a.sock.as_ref().map(|s| (a.key, s.raw())))
                .collect();
            let ready = {
                let mut fds = vec![nix::poll::PollFd::new(
                    self.signals.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                )];
                for a in self.services.iter().filter(|a| !a.suspended) {
                    if let Some(s) = &a.sock {
                        fds.push(nix::poll::PollFd::new(
                            s.owned_fd(),
                            nix::poll::PollFlags::POLLIN,
                        ));
                    }
                }
                let t = match timeout {
                    Some(d) => {
                        nix::poll::PollTimeout::try_from(d.as_millis().min(60_000) as i32 + 1)
                            .unwrap_or(nix::poll::PollTimeout::NONE)
                    }
                    None => nix::poll::PollTimeout::NONE,
                };
                match nix::poll::poll(&mut fds, t) {
                    Ok(_) => fds
                        .iter()
                        .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                        .collect::<Vec<bool>>(),
                    Err(_) => vec![false; fds.len()],
                }
            };
            if ready.first().copied().unwrap_or(false) {
                for sig in self.signals.drain() {
                    if let Some(code) = self.on_signal(sig) {
                        return code;
                    }
                }
            }
            self.reactivate_due();
            for (i, (key, raw)) in watched.iter().enumerate() {
                if ready.get(i + 1).copied().unwrap_or(false) {
                    // The service may have changed since poll (a signal reloaded it).
                    let still = self.services.iter().any(|a| {
                        a.key == *key
                            && !a.suspended
                            && a.sock.as_ref().is_some_and(|s| s.raw() == *raw)
                    });
                    if still {
                        // Drain the backlog of a `wait = no` stream service a few
                        // connections at a time, so one busy service cannot starve the others.
                        self.pending_empty = false;
                        for _ in 0..8 {
                            if !self.handle(*key) || self.pending_empty {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    fn on_signal(&mut self, sig: i32) -> Option<i32> {
        match sig {
            signals::SIGCHLD => self.reap(),
            signals::SIGHUP | signals::SIGUSR2 => return self.reload(),
            signals::SIGUSR1 => self.dump(),
            signals::SIGTERM => {
                self.reap();
                for (pid, c) in &self.children {
                    if c.svc.is_internal() || c.svc.redirect.is_some() {
                        let _ = signals::kill(*pid, signals::SIGTERM);
                    }
                }
                self.logger.msg(Level::Warning, "Exiting...");
                self.remove_pidfile();
                return Some(0);
            }
            signals::SIGQUIT => {
                self.logger.msg(Level::Warning, "Exiting...");
                self.remove_pidfile();
                return Some(0);
            }
            signals::SIGINT if self.opts.debug => {
                self.logger.msg(Level::Warning, "Exiting...");
                self.remove_pidfile();
                return Some(1);
            }
            other => self.logger.msg(
                Level::Notice,
                &format!("Unexpected signal {} ({})", other, signal_name(other)),
            ),
        }
        None
    }

    fn remove_pidfile(&self) {
        if let Some(p) = &self.opts.pidfile {
            let _ = crate::sys::pidfile::remove(p);
        }
    }

    /// Reopens services whose cps pause is over.
    fn reactivate_due(&mut self) {
        let now = Instant::now();
        for a in self.services.iter_mut() {
            if a.reactivate_at.is_some_and(|t| t <= now) {
                a.reactivate_at = None;
                match open_socket(&a.svc) {
                    Ok(s) => {
                        a.sock = Some(s);
                        self.logger
                            .msg(Level::Err, &format!("Activating service {}", a.svc.name));
                    }
                    Err(_) => self.logger.msg(
                        Level::Err,
                        &format!("Error activating service {}", a.svc.name),
                    ),
                }
            }
        }
    }

    fn running_of(&self, key: u64) -> impl Iterator<Item = &Child> {
        self.children.values().filter(move |c| c.service_key == key)
    }

    /// Refuses with a FAIL line (to the service's log target).
    fn fail(&self, svc: &Service, reason: &str, peer: IpAddr) {
        if svc.log_on_failure.any() {
            self.logger.record(
                svc.log_type.as_ref(),
                &log::fail_line(&svc.id, reason, &peer_text(svc, peer), &svc.log_on_failure),
            );
        }
    }

    /// One readable service socket.
    /// Handles one request; true when a `wait = no` stream connection was
    /// accepted, so that more may be pending in the backlog.
    fn handle(&mut self, key: u64) -> bool {
        let Some(idx) = self.services.iter().position(|a| a.key == key) else {
            return false;
        };
        let accepted = matches!(&self.services[idx].sock, Some(Listener::Stream(_)))
            && !self.services[idx].svc.wait;
        self.handle_one(idx, key);
        accepted
    }

    fn handle_one(&mut self, idx: usize, key: u64) {
        // 1. The "connection": accept, or peek at the datagram's source.
        let (conn, peer) = {
            let a = &self.services[idx];
            match &a.sock {
                Some(Listener::Stream(l)) if !a.svc.wait => match l.accept() {
                    Ok((s, addr)) => (Some(s), addr),
                    Err(e) => {
                        // EMFILE (24) / ENFILE (23): xinetd deactivates the service like cps does.
                        if matches!(e.raw_os_error(), Some(23) | Some(24)) {
                            self.deactivate(idx, "no available descriptors");
                        }
                        self.pending_empty = true;
                        return;
                    }
                },
                Some(Listener::Stream(_)) => {
                    // wait = yes stream: the server accepts; we only learn nothing of the peer.
                    (
                        None,
                        SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
                    )
                }
                Some(Listener::Dgram(u)) => {
                    let mut b = [0u8; 1];
                    match u.peek_from(&mut b) {
                        Ok((_, addr)) => (None, addr),
                        Err(_) => {
                            // An error queued on the socket (ICMP): reading it clears it.
                            let _ = u.recv_from(&mut [0u8; 1]);
                            return;
                        }
                    }
                }
                None => return,
            }
        };
        let peer_ip = peer.ip();
        let svc = self.services[idx].svc.clone();
        let mut conn = conn;
        if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner) {
            send_file(c, b);
        }
        if svc.flags.sensor {
            self.trip_sensor(&svc, peer_ip);
            self.discard_datagrams(idx);
            return;
        }
        let internal = if svc.is_internal() && svc.server.is_none() && svc.redirect.is_none() {
            Internal::from_name(&svc.name)
        } else {
            None
        };
        let forks = match internal {
            None => true,
            Some(i) => svc.socket_type == SocketType::Stream && i.forks_for_stream(),
        };
        // 2. Parent-side checks, in xinetd's order (X-LIM).
        let now_secs = crate::sys::clock::epoch_secs();
        let refusal: Option<&str> = if self.services[idx].cps.trips(now_secs, svc.cps.0) {
            self.fail(&svc, "connections per second", peer_ip);
            self.deactivate(idx, "");
            drop(conn);
            return;
        } else if svc.max_load > 0.0 && limits::load_exceeded(limits::load_average(), svc.max_load)
        {
            self.logger.msg(
                Level::Err,
                &format!(
                    "refused connect from {} due to excessive load",
                    peer_text(&svc, peer_ip)
                ),
            );
            Some("load")
        } else if !svc.access_times.is_empty()
            && !access::check_time(&svc.access_times, minute_of_day())
        {
            Some("time")
        } else if self.sensor_denies(peer_ip) {
            Some("address")
        } else if forks && limits::instances_exceeded(self.running_of(key).count(), svc.instances) {
            Some("service_limit")
        } else if forks
            && limits::per_source_exceeded(
                self.running_of(key).map(|c| &c.peer),
                peer_ip,
                svc.per_source,
            )
        {
            Some("per_source_limit")
        } else if forks
            && self
                .opts
                .limit
                .is_some_and(|l| self.children.len() >= l as usize)
        {
            Some("process_limit")
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.fail(&svc, reason, peer_ip);
            if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_fail) {
                send_file(c, b);
            }
            drop(conn);
            self.discard_datagrams(idx);
            return;
        }
        match internal {
            Some(which) if !forks => self.serve_in_loop(idx, which, conn, peer),
            _ => self.spawn(idx, internal, conn, peer),
        }
    }

    /// A SENSOR service was touched: its peer is refused everywhere for `deny_time` minutes.
    fn trip_sensor(&mut self, svc: &Service, peer: IpAddr) {
        let until = match svc.deny_time {
            Some(0) => return,
            Some(m) if m > 0 => Some(Instant::now() + Duration::from_secs(m as u64 * 60)),
            _ => None,
        };
        let peer = access::canonical(peer);
        self.sensor_denied.insert(peer, until);
        self.logger.msg(
            Level::Info,
            &format!(
                "Adding {peer} to the global_no_access list (sensor {})",
                svc.id
            ),
        );
        self.fail(svc, "address", peer);
    }

    fn sensor_denies(&mut self, peer: IpAddr) -> bool {
        let now = Instant::now();
        self.sensor_denied
            .retain(|_, until| until.is_none_or(|t| t > now));
        self.sensor_denied.contains_key(&access::canonical(peer))
    }

    /// cps tripped (or accept ran out of descriptors): close the socket for the service's wait time.
    fn deactivate(&mut self, idx: usize, _why: &str) {
        let a = &mut self.services[idx];
        let wait = a.svc.cps.1;
        a.sock = None;
        a.reactivate_at = Some(Instant::now() + Duration::from_secs(u64::from(wait)));
        let name = a.svc.name.clone();
        self.logger.msg(
            Level::Err,
            &format!("Deactivating service {name} due to excessive incoming connections.  Restarting in {wait} seconds."),
        );
    }

    /// X-LIM-drain, kept for refused datagrams and `wait = no`: empty the queue.
    fn discard_datagrams(&self, idx: usize) {
        if let Some(Listener::Dgram(u)) = &self.services[idx].sock {
            if u.set_nonblocking(true).is_ok() {
                let mut b = [0u8; 2048];
                while u.recv_from(&mut b).is_ok() {}
                let _ = u.set_nonblocking(false);
            }
        }
    }

    /// daytime, time (and every dgram internal service) answered without forking.
    fn serve_in_loop(
        &mut self,
        idx: usize,
        which: Internal,
        conn: Option<TcpStream>,
        peer: SocketAddr,
    ) {
        let svc = self.services[idx].svc.clone();
        if svc.log_on_success.any() {
            self.logger.record(
                svc.log_type.as_ref(),
                &log::start_line(&svc.id, 0, &peer_text(&svc, peer.ip()), &svc.log_on_success),
            );
        }
        let verdict = access::check_address(svc.only_from.as_deref(), &svc.no_access, peer.ip());
        let reply = |input: &[u8], n: usize| -> Option<Vec<u8>> {
            match which {
                Internal::Echo => Some(input.to_vec()),
                Internal::Discard => None,
                Internal::Chargen => Some(internal::chargen_datagram(n)),
                Internal::Daytime => Some(internal::daytime_reply(
                    &crate::sys::clock::now(),
                    &crate::sys::clock::zone(),
                )),
                Internal::Time => {
                    Some(internal::time_reply(crate::sys::clock::epoch_secs()).to_vec())
                }
            }
        };
        match conn {
            Some(mut s) => {
                if self.address_refused(&svc, &verdict, peer.ip()) {
                    return;
                }
                if let Some(r) = reply(&[], 0) {
                    let _ = s.write_all(&r);
                }
            }
            None => {
                if let Some(Listener::Dgram(u)) = &self.services[idx].sock {
                    let mut b = vec![0u8; 65536];
                    if let Ok((n, from)) = u.recv_from(&mut b) {
                        if verdict == AddrVerdict::Allowed {
                            if let Some(r) = reply(&b[..n], n) {
                                let _ = u.send_to(&r, from);
                            }
                        } else if self.dgram_refusal_due(idx, from) {
                            self.address_refused(&svc, &verdict, peer.ip());
                        }
                    }
                }
                self.discard_datagrams(idx);
            }
        }
    }

    /// X-LIM-dgram-log: a refused datagram source is logged at most once a minute.
    fn dgram_refusal_due(&mut self, idx: usize, from: SocketAddr) -> bool {
        let now = Instant::now();
        let seen = &mut self.services[idx].dgram_refusals;
        seen.retain(|_, t| now.duration_since(*t) < Duration::from_secs(60));
        if seen.contains_key(&from) {
            return false;
        }
        seen.insert(from, now);
        true
    }

    /// Logs an address refusal (X-ACC-1); true when refused.
    fn address_refused(&self, svc: &Service, verdict: &AddrVerdict, peer: IpAddr) -> bool {
        match verdict {
            AddrVerdict::Allowed => false,
            AddrVerdict::Denied => {
                self.fail(svc, "address", peer);
                true
            }
            AddrVerdict::DeniedBothMatch => {
                self.logger.msg(
                    Level::Err,
                    &format!(
                        "Service={}: only_from list and no_access list match equally the address {}",
                        svc.id,
                        peer_text(svc, peer)
                    ),
                );
                self.fail(svc, "address", peer);
                true
            }
        }
    }

    /// 3. Fork; 4. in the child: address check, tcp_wrappers, then exec (or serve internally).
    fn spawn(
        &mut self,
        idx: usize,
        internal: Option<Internal>,
        conn: Option<TcpStream>,
        peer: SocketAddr,
    ) {
        let svc = self.services[idx].svc.clone();
        let key = self.services[idx].key;
        let ptext = peer_text(&svc, peer.ip());
        let sock_fd = match (&conn, &self.services[idx].sock) {
            (Some(c), _) => c.as_raw_fd(),
            (None, Some(l)) => l.raw(),
            (None, None) => return,
        };
        let plan = launch::plan(&svc, &self.env, &ptext, sock_fd, spawn::user_groups);
        match spawn::fork() {
            Err(e) => {
                self.logger
                    .msg(Level::Err, &format!("fork failed: {}", errno_text(&e)));
                self.fail(&svc, "fork", peer.ip());
            }
            Ok(Forked::Parent(pid)) => {
                self.children.insert(
                    pid,
                    Child {
                        service_key: key,
                        svc: svc.clone(),
                        peer: peer.ip(),
                        started: Instant::now(),
                    },
                );
                // A `wait = no` datagram server must read its datagram before the
                // socket is watched again, or every poll would start another one:
                // such services are also watched again only when the server exits.
                if svc.wait || svc.socket_type == SocketType::Dgram {
                    self.services[idx].suspended = true;
                }
                if svc.log_on_success.any() {
                    self.logger.record(
                        svc.log_type.as_ref(),
                        &log::start_line(&svc.id, pid, &ptext, &svc.log_on_success),
                    );
                }
                drop(conn);
            }
            Ok(Forked::Child) => {
                for sig in [
                    signals::SIGHUP,
                    signals::SIGUSR1,
                    signals::SIGUSR2,
                    signals::SIGTERM,
                    signals::SIGQUIT,
                    signals::SIGCHLD,
                    signals::SIGINT,
                ] {
                    signals::set_default(sig);
                }
                let code = self.child(idx, internal, conn, peer, plan);
                spawn::exit_now(code);
            }
        }
    }

    /// The child's work before exec. Returns the exit code if it does not exec.
    fn child(
        &self,
        idx: usize,
        internal: Option<Internal>,
        mut conn: Option<TcpStream>,
        peer: SocketAddr,
        plan: Option<crate::sys::spawn::Plan>,
    ) -> i32 {
        let svc = &self.services[idx].svc;
        let consume = |conn: &mut Option<TcpStream>| {
            // A refused `wait = yes` datagram must not stay queued: nothing drains it later.
            if let (true, Some(Listener::Dgram(u))) = (svc.wait, &self.services[idx].sock) {
                let _ = u.recv_from(&mut [0u8; 1]);
            }
            if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_fail) {
                send_file(c, b);
            }
        };
        let verdict = if peer.ip().is_unspecified() {
            AddrVerdict::Allowed
        } else {
            access::check_address(svc.only_from.as_deref(), &svc.no_access, peer.ip())
        };
        if self.address_refused(svc, &verdict, peer.ip()) {
            consume(&mut conn);
            return 0;
        }
        if !svc.flags.nolibwrap && !peer.ip().is_unspecified() {
            let (allow, deny) = wrappers::load(&self.hosts_dir);
            let name = svc.libwrap_name();
            if !wrappers::allowed(&allow, &deny, &name, peer.ip()) {
                self.logger.msg(
                    Level::Info,
                    &format!(
                        "libwrap refused connection to {} (libwrap={}) from {}",
                        svc.id,
                        name,
                        peer_text(svc, peer.ip())
                    ),
                );
                self.fail(svc, "libwrap", peer.ip());
                consume(&mut conn);
                return 0;
            }
        }
        if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_success) {
            send_file(c, b);
        }
        if let Some(which) = internal {
            if let Some(mut s) = conn {
                internal::serve_stream(which, &mut s);
            }
            return 0;
        }
        if let (Some((host, port)), Some(c)) = (&svc.redirect, conn.as_mut()) {
            return match crate::xinetd::redirect::relay(c, host, *port) {
                Ok(()) => 0,
                Err(e) => {
                    self.logger.msg(
                        Level::Err,
                        &format!("redirect to {host} {port} failed: {}", errno_text(&e)),
                    );
                    1
                }
            };
        }
        let Some(plan) = plan else { return 1 };
        if let Err(e) = spawn::apply_credentials(&plan) {
            self.logger.msg(
                Level::Err,
                &format!("setuid/setgid failed for {}: {}", svc.id, errno_text(&e)),
            );
            return 1;
        }
        let e = spawn::exec(&plan);
        self.logger.msg(
            Level::Err,
            &format!(
                "execv( {} ) failed: {}",
                plan.program.display(),
                errno_text(&e)
            ),
        );
        1
    }

    /// Reaps ended servers: EXIT lines, resume `wait = yes` services (no drain: Project decision).
    fn reap(&mut self) {
        for (pid, how) in spawn::reap() {
            let Some(c) = self.children.remove(&pid) else {
                continue;
            };
            let svc = &c.svc;
            if log::wants_exit(&svc.log_on_success) {
                let ended = match how {
                    Exit::Status(n) => Ended::Status(n),
                    Exit::Signal(n) => Ended::Signal(n),
                };
                let secs = c.started.elapsed().as_secs();
                self.logger.record(
                    svc.log_type.as_ref(),
                    &log::exit_line(&svc.id, ended, pid, secs, &svc.log_on_success),
                );
            }
            if let Some(a) = self.services.iter_mut().find(|a| a.key == c.service_key) {
                if a.svc.wait || a.svc.socket_type == SocketType::Dgram {
                    a.suspended = false;
                }
            }
        }
    }

    /// SIGHUP/SIGUSR2 (X-RC): keep unchanged services' sockets, close removed ones, open new ones.
    fn reload(&mut self) -> Option<i32> {
        self.logger.msg(Level::Notice, "Starting reconfiguration");
        let loaded = conf::load_with(&self.opts.config, &self.env, self.inetd_conf());
        self.log_findings(&loaded);
        if loaded.map.files().next().is_none() {
            self.logger.msg(Level::Warning, "reconfiguration failed");
            return None;
        }
        let Some(Config { services: new, .. }) = loaded.config else {
            // An error inside defaults ends xinetd, on a reload too (X-SYN-5, X-RC-2).
            self.logger
                .msg(Level::Crit, "couldn't get configuration. Exiting...");
            self.remove_pidfile();
            return Some(1);
        };
        self.logger.msg(Level::Debug, "Swapping defaults");
        let old = std::mem::take(&mut self.services);
        let mut new_left: Vec<Option<Service>> = new.into_iter().map(Some).collect();
        let (mut kept, mut dropped) = (0, 0);
        for mut a in old {
            let same = new_left.iter_mut().find(|n| {
                n.as_ref().is_some_and(|n| {
                    n.id == a.svc.id && n.name == a.svc.name && n.socket_key() == a.svc.socket_key()
                })
            });
            match same.and_then(|s| s.take()) {
                Some(n) => {
                    self.logger
                        .msg(Level::Debug, &format!("readjusting service {}", a.svc.id));
                    a.svc = n;
                    kept += 1;
                    self.recheck_running(&a);
                    self.services.push(a);
                }
                None => {
                    dropped += 1;
                    self.retire(&a);
                }
            }
        }
        let mut added = 0;
        for n in new_left.into_iter().flatten() {
            added += 1;
            self.activate_new(n);
        }
        self.logger.msg(
            Level::Notice,
            &format!("Reconfigured: new={added} old={kept} dropped={dropped} (services)"),
        );
        if self.available() == 0 && !self.opts.stayalive {
            self.logger
                .msg(Level::Crit, "No available services. Exiting");
            self.remove_pidfile();
            return Some(1);
        }
        None
    }

    /// X-RC-3: the running servers of a kept service are checked again against
    /// its new address lists, access times and instance limit; those that no
    /// longer pass are killed.
    fn recheck_running(&mut self, a: &Active) {
        let svc = &a.svc;
        let mut running: Vec<(u32, Instant, IpAddr)> = self
            .children
            .iter()
            .filter(|(_, c)| c.service_key == a.key)
            .map(|(p, c)| (*p, c.started, c.peer))
            .collect();
        running.sort_by_key(|(_, started, _)| *started);
        let in_time = access::check_time(&svc.access_times, minute_of_day());
        let limit = svc.instances.map(|l| l as usize).unwrap_or(usize::MAX);
        let sig = if svc.is_internal() {
            signals::SIGTERM
        } else {
            9
        };
        for (n, (pid, _, peer)) in running.into_iter().enumerate() {
            let addr_ok = peer.is_unspecified()
                || access::check_address(svc.only_from.as_deref(), &svc.no_access, peer)
                    == AddrVerdict::Allowed;
            if !(addr_ok && in_time && n < limit) {
                self.logger.msg(
                    Level::Warning,
                    &format!("Sending signal {} to {} server {}", sig, svc.name, pid),
                );
                let _ = signals::kill(pid, sig);
            }
        }
    }

    /// A service removed by a reload: its servers are killed (X-DEAD).
    fn retire(&mut self, a: &Active) {
        let sig = if a.svc.is_internal() {
            signals::SIGTERM
        } else {
            9
        };
        let pids: Vec<u32> = self
            .children
            .iter()
            .filter(|(_, c)| c.service_key == a.key)
            .map(|(p, _)| *p)
            .collect();
        for pid in pids {
            self.logger.msg(
                Level::Warning,
                &format!("Sending signal {} to {} server {}", sig, a.svc.name, pid),
            );
            let _ = signals::kill(pid, sig);
        }
        self.logger
            .msg(Level::Debug, &format!("service {} deactivated", a.svc.id));
    }

    /// SIGUSR1: append a state dump (X-SIG).
    fn dump(&self) {
        let mut text = format!(
            "INTERNAL STATE DUMP: xinetd Version {}\nCurrent time: {}\n\n",
            crate::xinetd::VERSION,
            log::stamp()
        );
        for a in &self.services {
            let running: Vec<String> = self.running_of(a.key).map(|c| c.peer.to_string()).collect();
            text.push_str(&format!(
                "Service = {}\n\tid = {}\n\tlistening = {}\n\tstate = {}\n\trunning servers = {}\n\n",
                a.svc.name,
                a.svc.id,
                a.svc.listen_text(),
                if a.suspended {
                    "suspended"
                } else if a.sock.is_some() {
                    "active"
                } else {
                    "deactivated"
                },
                running.len()
            ));
        }
        text.push_str("END OF DUMP\n\n");
        let ok = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(DUMP_FILE)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if ok.is_ok() {
            self.logger.msg(
                Level::Info,
                &format!("generated state dump in file {DUMP_FILE}"),
            );
        }
    }
}

/// Sends a banner file as-is; a missing file sends nothing.
fn send_file(conn: &mut TcpStream, path: &std::path::Path) {
    if let Ok(bytes) = std::fs::read(path) {
        let _ = conn.write_all(&bytes);
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| match s {
            nix::sys::signal::Signal::SIGINT => "Interrupt".to_string(),
            other => other.as_str().to_string(),
        })
        .unwrap_or_else(|_| "Unknown signal".into())
}
