//! `in.tftpd`: pxesuite's drop-in for tftp-hpa's TFTP server. Built as
//! `in-tftpd` (Cargo forbids '.') and installed or linked as `in.tftpd`.
//! Flags in, library call, exit code out; diagnostics go to syslog only
//! (reference T-RUN-2), with `--check-config` also printing them.

use pxesuite::sys::syslog::{self, Level};
use pxesuite::tftp::{config, server};

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let ident = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or("in.tftpd").to_string())
        .unwrap_or_else(|| "in.tftpd".to_string());
    let _ = pxesuite::sys::ensure_std_fds();
    syslog::open(&ident, true, libc_daemon_facility());
    let cfg = match config::parse_args(argv.get(1..).unwrap_or(&[])) {
        Ok(c) => c,
        Err(e) => {
            let check = argv.iter().any(|a| a == "--check-config");
            syslog::set_stderr(check);
            syslog::log(Level::Err, &e.message);
            std::process::exit(e.code);
        }
    };
    if cfg.version {
        println!("{}", config::VERSION);
        std::process::exit(0);
    }
    if cfg.help {
        println!("{}", config::USAGE);
        std::process::exit(0);
    }
    if cfg.check_config {
        syslog::set_stderr(true);
    }
    let prepared = match server::prepare(cfg.clone()) {
        Ok(p) => p,
        Err(f) => {
            for line in f.message.lines() {
                syslog::log(Level::Err, line);
            }
            std::process::exit(f.code);
        }
    };
    if cfg.check_config {
        eprintln!("in.tftpd: configuration OK");
        std::process::exit(0);
    }
    match server::serve(prepared) {
        Ok(code) => std::process::exit(code),
        Err(f) => {
            syslog::log(Level::Err, &f.message);
            std::process::exit(f.code);
        }
    }
}

/// LOG_DAEMON (syslog(3)), the facility tftp-hpa logs on.
fn libc_daemon_facility() -> i32 {
    pxesuite::sys::syslog::facility_from_name("daemon").unwrap_or(3 << 3)
}
