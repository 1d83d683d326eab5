//! `xinetd`: pxesuite's drop-in for xinetd 2.3.14 (reference section 3).
//! Start-up order per X-ST: options, logging, umask, fork (unless `-d` or
//! `-dontfork`) before the configuration is read, pid file, then the loop.

use pxesuite::sys::syslog::Level;
use pxesuite::xinetd::cli;
use pxesuite::xinetd::log::{Logger, ProgramSink};
use pxesuite::xinetd::{report, supervisor::Supervisor};
use std::path::Path;

fn main() {
    pxesuite::sys::spawn::close_inherited_fds();
    let _ = pxesuite::sys::ensure_std_fds();
    pxesuite::sys::spawn::raise_nofile(1024);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match cli::parse(&args) {
        Ok(o) => o,
        Err(_) => {
            eprintln!("{}", cli::USAGE);
            std::process::exit(1);
        }
    };
    if opts.shutdownprocs {
        eprintln!("The shutdownprocs option has been deprecated.");
    }
    if opts.version {
        eprintln!(
            "xinetd Version {} {}",
            pxesuite::xinetd::VERSION,
            pxesuite::xinetd::OPTIONS
        );
        std::process::exit(0);
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    if opts.check_config {
        let inetd = opts.inetd_compat.then_some(Path::new("/etc/inetd.conf"));
        let r = report::check_with(&opts.config, &env, Path::new("/etc"), inetd);
        print!("{}", r.stdout);
        eprint!("{}", r.stderr);
        std::process::exit(r.status);
    }
    let mut bad_facility = None;
    let sink = if opts.debug {
        ProgramSink::Debug
    } else if let Some(f) = &opts.filelog {
        ProgramSink::File(f.clone())
    } else {
        let fac = match &opts.syslog {
            None => libc_daemon(),
            Some(name) => match pxesuite::xinetd::conf::check::syslog_facility(name) {
                Some(f) => f,
                None => {
                    bad_facility = Some(name.clone());
                    libc_daemon()
                }
            },
        };
        ProgramSink::Syslog(fac)
    };
    if let ProgramSink::File(p) = &sink {
        if std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .is_err()
        {
            eprintln!("xinetd: msg_init failed: can't open log file");
            std::process::exit(1);
        }
    }
    let logger = Logger::new(sink);
    if let Some(name) = bad_facility {
        logger.msg(Level::Err, &format!("Bad syslog facility: {name}"));
    }
    let old = pxesuite::sys::set_umask(0o022);
    pxesuite::sys::set_umask(old | 0o022);
    if !opts.debug && !opts.dontfork {
        if let Err(e) = pxesuite::sys::daemon::fork_and_forget() {
            logger.msg(Level::Crit, &format!("fork: {e}. Exiting..."));
            std::process::exit(0);
        }
        pxesuite::sys::daemon::redirect_stdio_to_null();
    }
    if let Some(p) = &opts.pidfile {
        if pxesuite::sys::pidfile::write(p, std::process::id()).is_err() {
            logger.msg(
                Level::Debug,
                &format!("{}: cannot write pid file", p.display()),
            );
        }
    }
    let pidfile = opts.pidfile.clone();
    let mut sup = match Supervisor::start(opts, logger, env) {
        Ok(s) => s,
        Err(code) => {
            if let Some(p) = &pidfile {
                let _ = pxesuite::sys::pidfile::remove(p);
            }
            std::process::exit(code);
        }
    };
    std::process::exit(sup.run());
}

fn libc_daemon() -> i32 {
    pxesuite::sys::syslog::facility_from_name("daemon").unwrap_or(3 << 3)
}
