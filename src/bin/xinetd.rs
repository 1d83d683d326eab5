//! `xinetd`: pxesuite's drop-in for xinetd 2.3.14.
//! Until the super-server lands it prints its usage and exits 64.

fn main() {
    eprintln!("Usage: xinetd [-d] [-f config_file] [-pidfile pid_file] [-dontfork] [-stayalive] [-syslog facility] [-filelog file] [-limit proc_limit] [-logprocs limit] [-version] [-inetd_compat]");
    eprintln!("xinetd: not implemented yet in this build of pxesuite");
    std::process::exit(pxesuite::cli::EX_USAGE);
}
