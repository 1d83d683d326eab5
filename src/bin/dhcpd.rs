//! `dhcpd`: pxesuite's drop-in for ISC dhcpd (3.0.5 command line, 4.4
//! language): checks configurations (`-t`, `-T`, `--check-config`) and
//! serves DHCP with the start-up sequence of reference D-ST.

use pxesuite::dhcp::conf::{self, report};
use pxesuite::dhcp::leases;
use pxesuite::dhcp::server::start;
use pxesuite::sys::syslog::{self, Level};
use std::path::PathBuf;

/// CentOS 5 paths (reference D-F-1), overridden by the environment (D-F-3).
const PATH_DHCPD_CONF: &str = "/etc/dhcpd.conf";
const PATH_DHCPD_DB: &str = "/var/lib/dhcpd/dhcpd.leases";

const USAGE: &[&str] = &[
    "Usage: dhcpd [-p <UDP port #>] [-d] [-f]",
    "             [-cf config-file] [-lf lease-file]",
    "\t\t   [-tf trace-output-file]",
    "\t\t   [-play trace-input-file]",
    "             [-t] [-T] [-s server] [if0 [...ifN]]",
];

#[derive(Default)]
struct Args {
    test: bool,
    test_leases: bool,
    check_config: bool,
    quiet: bool,
    cf: Option<PathBuf>,
    lf: Option<PathBuf>,
    pf: Option<PathBuf>,
    port: Option<String>,
    foreground: bool,
    debug: bool,
    serve_failover_pools: bool,
    interfaces: Vec<String>,
}

enum Parsed {
    Run(Args),
    Version,
    Usage,
}

fn parse_args(argv: &[String]) -> Parsed {
    let mut a = Args::default();
    let mut it = argv.iter().skip(1);
    while let Some(w) = it.next() {
        match w.as_str() {
            "-t" => a.test = true,
            "-T" => {
                a.test = true;
                a.test_leases = true
            }
            "-q" => a.quiet = true,
            "--check-config" => a.check_config = true,
            "--version" => return Parsed::Version,
            "-d" => a.debug = true,
            "-f" => a.foreground = true,
            "--serve-failover-pools" => a.serve_failover_pools = true,
            "-4" | "--no-pid" => {}
            "-cf" | "-lf" | "-pf" | "-p" | "-s" | "-tf" | "-play" | "-user" | "-group"
            | "-chroot" => {
                let Some(v) = it.next() else {
                    return Parsed::Usage;
                };
                match w.as_str() {
                    "-cf" => a.cf = Some(PathBuf::from(v)),
                    "-lf" => a.lf = Some(PathBuf::from(v)),
                    "-pf" => a.pf = Some(PathBuf::from(v)),
                    "-p" => a.port = Some(v.clone()),
                    _ => {}
                }
            }
            s if s.starts_with('-') => return Parsed::Usage,
            name => a.interfaces.push(name.to_string()),
        }
    }
    Parsed::Run(a)
}

/// Writes a line to stderr unless quiet, and to syslog at LOG_ERR.
struct Out {
    quiet: bool,
}

impl Out {
    fn both(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
        syslog::log(Level::Err, line);
    }

    fn stderr(&self, text: &str) {
        if !self.quiet {
            eprint!("{text}");
        }
    }

    fn syslog(&self, line: &str) {
        syslog::log(Level::Err, line);
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    syslog::open("dhcpd", false, libc_daemon());
    syslog::set_stderr(false);
    let args = match parse_args(&argv) {
        Parsed::Run(a) => a,
        Parsed::Version => {
            eprintln!(
                "pxesuite dhcpd {} (ISC dhcpd 3.0.5 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            std::process::exit(0);
        }
        Parsed::Usage => {
            let out = Out { quiet: false };
            out.both(&format!("pxesuite dhcpd {}", env!("CARGO_PKG_VERSION")));
            for l in USAGE {
                out.both(l);
            }
            std::process::exit(1);
        }
    };
    let out = Out { quiet: args.quiet };
    if !args.quiet && !args.check_config {
        out.both(&format!(
            "pxesuite dhcpd {} (ISC dhcpd 3.0.5 compatible)",
            env!("CARGO_PKG_VERSION")
        ));
    }
    let cf = args
        .cf
        .clone()
        .or_else(|| std::env::var_os("PATH_DHCPD_CONF").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(PATH_DHCPD_CONF));
    let loaded = conf::load_file(&cf);

    out.stderr(&report::diagnostics_text(&loaded));
    for l in report::isc_lines(&loaded) {
        out.syslog(&l);
    }
    if let Some(summary) = report::summary_line(&loaded) {
        out.both(&summary);
        if !args.check_config {
            for l in report::TRAILER {
                out.both(l);
            }
        }
        std::process::exit(1);
    }

    if args.check_config {
        let warnings = report::not_implemented_warnings(&loaded);
        for w in &warnings {
            out.stderr(&pxesuite::diag::render(w, &loaded.map));
        }
        if !args.quiet {
            print!("{}", conf::summary::render(&loaded.model));
            println!("{}: configuration OK", cf.display());
        }
        std::process::exit(0);
    }

    if args.test_leases {
        let lf = lease_file_path(&args, &loaded);
        match leases::load_file(&lf) {
            Err(e) => {
                out.both(&format!(
                    "Can't open lease database {}: {} --",
                    lf.display(),
                    conf::load::strerror(&e)
                ));
                out.both("  check for failed database rewrite attempt!");
                out.both("Please read the dhcpd.leases manual page if you");
                out.both("don't know what to do about this.");
                for l in report::TRAILER {
                    out.both(l);
                }
                std::process::exit(1);
            }
            Ok(l) => {
                out.stderr(&l.diagnostics_text());
                for line in l.isc_lines() {
                    out.syslog(&line);
                }
                if l.has_errors() {
                    out.both(report::ERRORS_ENCOUNTERED);
                    for t in report::TRAILER {
                        out.both(t);
                    }
                    std::process::exit(1);
                }
            }
        }
        std::process::exit(0);
    }
    if args.test {
        std::process::exit(0);
    }
    let _ = &out;
    let opts = start::Options {
        config_path: cf.clone(),
        lease_file: lease_file_path(&args, &loaded),
        pid_file: pid_file_path(&args, &loaded),
        port: args.port.clone(),
        foreground: args.foreground,
        debug: args.debug,
        quiet: args.quiet,
        interfaces: args.interfaces.clone(),
        serve_failover_pools: args.serve_failover_pools,
    };
    std::process::exit(start::run(&opts, loaded.model));
}

/// The pid file in use: `pid-file-name` wins over `-pf`, which wins over
/// `PATH_DHCPD_PID` and the built-in path (D-F-3).
fn pid_file_path(args: &Args, loaded: &conf::Loaded) -> PathBuf {
    if let Some(conf::model::ParamValue::Word(w)) = loaded
        .model
        .param(conf::model::Config::GLOBAL, "pid-file-name")
    {
        return PathBuf::from(w);
    }
    args.pf
        .clone()
        .or_else(|| std::env::var_os("PATH_DHCPD_PID").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/dhcpd.pid"))
}

/// The lease file in use: `lease-file-name` in the config wins over `-lf`,
/// which wins over `PATH_DHCPD_DB` and the built-in path (D-F-3).
fn lease_file_path(args: &Args, loaded: &conf::Loaded) -> PathBuf {
    if let Some(conf::model::ParamValue::Word(w)) = loaded
        .model
        .param(conf::model::Config::GLOBAL, "lease-file-name")
    {
        return PathBuf::from(w);
    }
    args.lf
        .clone()
        .or_else(|| std::env::var_os("PATH_DHCPD_DB").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(PATH_DHCPD_DB))
}

fn libc_daemon() -> i32 {
    pxesuite::sys::syslog::facility_from_name("daemon").unwrap_or(3 << 3)
}
