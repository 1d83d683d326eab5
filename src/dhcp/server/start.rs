//! The server's start-up after the configuration is read (reference D-ST-8
//! to D-ST-12): replay and rewrite the lease file, pick the interfaces,
//! fork unless `-f`/`-d`, guard and write the pid file, then serve until
//! SIGTERM or SIGINT. Returns the exit status.

use super::binding::Binding;
use super::engine::LeaseView;
use super::runtime::{self, Listener, Shared};
use crate::dhcp::conf::model::{Config, ParamValue};
use crate::dhcp::conf::report;
use crate::dhcp::leases::{self, store};
use crate::sys::packet::{self, PacketSocket};
use crate::sys::syslog::{self, Level};
use crate::sys::{daemon, pidfile, signals};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the command line (and environment) decided.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub config_path: PathBuf,
    pub lease_file: PathBuf,
    pub pid_file: PathBuf,
    /// `-p` as given (checked here).
    pub port: Option<String>,
    pub foreground: bool,
    pub debug: bool,
    pub quiet: bool,
    pub interfaces: Vec<String>,
    /// Serve pools under a `failover peer` although pxesuite does not
    /// speak the failover protocol.
    pub serve_failover_pools: bool,
}

fn info(s: &str) {
    syslog::log(Level::Info, s);
}

fn err(s: &str) {
    syslog::log(Level::Err, s);
}

/// `log_fatal`: the message, the trailer, exit status 1.
fn fatal(lines: &[&str]) -> i32 {
    for l in lines {
        err(l);
    }
    for l in report::TRAILER {
        err(l);
    }
    1
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The server port: `-p`, then `DHCPD_PORT`, then 67.
fn server_port(opts: &Options) -> Result<u16, String> {
    let given = opts
        .port
        .clone()
        .or_else(|| std::env::var("DHCPD_PORT").ok());
    match given {
        None => Ok(67),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(format!("{p}: not a valid UDP port")),
        },
    }
}

/// Pools under a `failover peer`, named for the refusal: `peer (range)`.
pub fn failover_pools(model: &Config) -> Vec<String> {
    model
        .pools
        .iter()
        .filter_map(|p| {
            let peer = p.failover_peer.as_ref()?;
            let range = p
                .ranges
                .first()
                .map(|r| format!("{} - {}", r.low, r.high))
                .unwrap_or_default();
            Some(format!("pool {range} under failover peer \"{peer}\""))
        })
        .collect()
}

pub fn run(opts: &Options, model: Config) -> i32 {
    syslog::set_stderr(!opts.quiet);
    if let Some(ParamValue::Word(f)) = model.param(Config::GLOBAL, "log-facility") {
        if let Some(fac) = syslog::facility_from_name(f) {
            syslog::reopen(false, fac);
        }
    }
    let fo = failover_pools(&model);
    if !fo.is_empty() && !opts.serve_failover_pools {
        for p in &fo {
            err(&format!(
                "Refusing to serve {p}: pxesuite does not speak the failover protocol yet, and two servers leasing one pool is worse than one."
            ));
        }
        return fatal(&[
            "Pass --serve-failover-pools to serve such pools from this server alone (stop the peer first).",
        ]);
    }
    let port = match server_port(opts) {
        Ok(p) => p,
        Err(e) => return fatal(&[&e]),
    };
    // The pid-file guard of D-ST-11, done here as well, before the lease
    // file is touched: a second start must not rewrite the file under a
    // running server (4.4 also refuses before the parent exits).
    if let Some(other) = pidfile::running_other(&opts.pid_file) {
        if other != std::process::id() {
            return fatal(&["There's already a DHCP server running."]);
        }
    }
    // D-ST-8: the lease database.
    let lf = &opts.lease_file;
    let file = match leases::load_file(lf) {
        Ok(f) => f,
        Err(e) => {
            let first = format!(
                "Can't open lease database {}: {} --",
                lf.display(),
                crate::dhcp::conf::load::strerror(&e)
            );
            return fatal(&[
                &first,
                "  check for failed database rewrite attempt!",
                "Please read the dhcpd.leases manual page if you",
                "don't know what to do about this.",
            ]);
        }
    };
    if file.has_errors() {
        for l in file.isc_lines() {
            err(&l);
        }
        err(&format!(
            "{}: damaged records skipped; the rest of the file was read and will be rewritten.",
            lf.display()
        ));
    }
    let mut view = LeaseView::new();
    for (a, l) in &file.leases {
        view.insert(*a, Binding::from_lease(l, *a));
    }
    let records: Vec<(Ipv4Addr, leases::Lease)> =
        view.values().map(|b| (b.addr, b.to_lease())).collect();
    match store::rewrite(lf, records.iter().map(|(a, l)| (*a, l)), now()) {
        Ok((n, warnings)) => {
            for w in warnings {
                err(&w);
            }
            info(&format!("Wrote {n} leases to leases file."));
        }
        Err(e) => {
            return fatal(&[&format!("Can't create new lease file: {e}")]);
        }
    }
    // D-ST-9: interfaces.
    let listeners = match listeners(opts, &model, port) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // D-ST-10: fork unless -f or -d.
    if !opts.foreground && !opts.debug {
        if let Err(e) = daemon::fork_and_forget() {
            return fatal(&[&format!("Can't fork daemon: {e}")]);
        }
    }
    syslog::set_stderr(opts.debug && !opts.quiet);
    // D-ST-11: the pid file guard.
    let me = std::process::id();
    if let Some(other) = pidfile::running_other(&opts.pid_file) {
        if other != me {
            return fatal(&["There's already a DHCP server running."]);
        }
    }
    let _ = pidfile::remove(&opts.pid_file);
    if let Err(e) = pidfile::write(&opts.pid_file, me) {
        err(&format!(
            "Can't create PID file {}: {e}",
            opts.pid_file.display()
        ));
    }
    if !opts.foreground && !opts.debug {
        daemon::redirect_stdio_to_null();
    }
    let sigs = match signals::SignalPipe::new(&[libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => return fatal(&[&format!("Can't set up signal handling: {e}")]),
    };
    let writer = match store::LeaseWriter::start(lf) {
        Ok(w) => w,
        Err(_) => return fatal(&[&format!("Can't open {} for append.", lf.display())]),
    };
    let shared = Arc::new(Shared {
        model,
        view: Mutex::new(view),
        writer,
        client_port: port.wrapping_add(1),
        server_port: port,
        stop: AtomicBool::new(false),
        last_rewrite: Mutex::new(now()),
    });
    let threads = runtime::start(Arc::clone(&shared), listeners);
    // Every committed lease is already on disk, so stopping only has to
    // let the receivers finish the request in hand.
    while sigs.drain().is_empty() {
        std::thread::sleep(Duration::from_millis(100));
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    0
}

/// The interfaces to serve (D-IF): the named ones, or every broadcast
/// interface that is up and has an address; those without a subnet are
/// skipped with ISC's notice.
fn listeners(opts: &Options, model: &Config, port: u16) -> Result<Vec<Listener>, i32> {
    let all = match packet::interfaces() {
        Ok(a) => a,
        Err(e) => return Err(fatal(&[&format!("Can't list interfaces: {e}")])),
    };
    let mut chosen = Vec::new();
    if opts.interfaces.is_empty() {
        for i in &all {
            if i.up
                && i.broadcast
                && !i.loopback
                && !i.point_to_point
                && !i.addrs.is_empty()
                && !i.name.starts_with("dummy")
            {
                chosen.push(i.clone());
            }
        }
    } else {
        for name in &opts.interfaces {
            let base = name.split(':').next().unwrap_or(name);
            match all.iter().find(|i| i.name == base) {
                Some(i) if i.up && !i.addrs.is_empty() => chosen.push(i.clone()),
                _ => return Err(fatal(&[&format!("{name}: not found")])),
            }
        }
    }
    let mut out = Vec::new();
    for i in chosen {
        let hit = i
            .addrs
            .iter()
            .find_map(|(a, _)| model.subnet_for(*a).map(|s| (*a, s)));
        let Some((addr, subnet)) = hit else {
            let first = i
                .addrs
                .first()
                .map(|(a, _)| a.to_string())
                .unwrap_or_default();
            for l in [
                String::new(),
                format!("No subnet declaration for {} ({first}).", i.name),
                format!("** Ignoring requests on {}.  If this is not what", i.name),
                "   you want, please write a subnet declaration".to_string(),
                "   in your dhcpd.conf file for the network segment".to_string(),
                format!("   to which interface {} is attached. **", i.name),
                String::new(),
            ] {
                err(&l);
            }
            continue;
        };
        let net = match subnet
            .shared_network
            .and_then(|n| model.shared_networks.get(n))
        {
            Some(s) => s.name.clone(),
            None => format!("{}/{}", subnet.net, subnet.prefix_len()),
        };
        let socket = match PacketSocket::open(&i.name, port) {
            Ok(s) => s,
            Err(e) => {
                return Err(fatal(&[&format!(
                    "Can't open packet socket on {}: {e}",
                    i.name
                )]))
            }
        };
        if !opts.quiet {
            let mac = crate::dhcp::server::binding::mac_text(&socket.mac());
            info(&format!("Listening on LPF/{}/{mac}/{net}", i.name));
            info(&format!("Sending on   LPF/{}/{mac}/{net}", i.name));
        }
        out.push(Listener {
            name: i.name.clone(),
            addr,
            socket,
        });
    }
    if out.is_empty() {
        err("");
        return Err(fatal(&["Not configured to listen on any interfaces!"]));
    }
    if !opts.quiet {
        info("Sending on   Socket/fallback/fallback-net");
    }
    Ok(out)
}
