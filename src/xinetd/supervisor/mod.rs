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
use std::rc::Rc;

mod reload;
mod request;
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
    /// Shared with its running children: a request clones the handle, not the service.
    svc: Rc<Service>,
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
    svc: Rc<Service>,
    peer: IpAddr,
    started: Instant,
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
                    svc: Rc::new(svc),
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
        // Without a log target the line would be dropped: do not format it.
        if svc.log_type.is_some() && svc.log_on_failure.any() {
            self.logger.record(
                svc.log_type.as_ref(),
                &log::fail_line(&svc.id, reason, &peer_text(svc, peer), &svc.log_on_failure),
            );
        }
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
