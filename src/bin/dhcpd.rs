//! `dhcpd`: pxesuite's drop-in for ISC dhcpd (3.0.5 command line, 4.4 language).
//! Until the server lands it prints its usage and exits 64.

fn main() {
    let flags = [
        pxesuite::cli::Flag {
            name: "-p",
            arg: Some("port"),
            help: "UDP port to listen on",
        },
        pxesuite::cli::Flag {
            name: "-d",
            arg: None,
            help: "log to stderr, stay in the foreground",
        },
        pxesuite::cli::Flag {
            name: "-f",
            arg: None,
            help: "stay in the foreground",
        },
        pxesuite::cli::Flag {
            name: "-q",
            arg: None,
            help: "quiet",
        },
        pxesuite::cli::Flag {
            name: "-t",
            arg: None,
            help: "test the configuration",
        },
        pxesuite::cli::Flag {
            name: "-T",
            arg: None,
            help: "test the configuration and lease file",
        },
        pxesuite::cli::Flag {
            name: "-cf",
            arg: Some("config-file"),
            help: "",
        },
        pxesuite::cli::Flag {
            name: "-lf",
            arg: Some("lease-file"),
            help: "",
        },
        pxesuite::cli::Flag {
            name: "-pf",
            arg: Some("pid-file"),
            help: "",
        },
    ];
    eprintln!(
        "{} [if0 [...ifN]]",
        pxesuite::cli::usage_line("dhcpd", &flags)
    );
    eprintln!("dhcpd: not implemented yet in this build of pxesuite");
    std::process::exit(pxesuite::cli::EX_USAGE);
}
