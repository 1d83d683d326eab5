//! xinetd 2.3.14's command line (reference 3.3, X-CLI-1): single-dash words
//! matched exactly, ending at the first word that does not start with `-`;
//! unknown dashed words are silently ignored. `--check-config` is ours.

use crate::cli::Flag;
use std::path::PathBuf;

/// The flag table: it feeds the usage text and the man page.
pub const FLAGS: &[Flag] = &[
    Flag {
        name: "-d",
        arg: None,
        help: "debug: stay in the foreground, messages to the terminal",
    },
    Flag {
        name: "-f",
        arg: Some("config_file"),
        help: "configuration file (default /etc/xinetd.conf)",
    },
    Flag {
        name: "-filelog",
        arg: Some("filename"),
        help: "own messages to this file",
    },
    Flag {
        name: "-syslog",
        arg: Some("facility"),
        help: "own messages to syslog on this facility",
    },
    Flag {
        name: "-reuse",
        arg: None,
        help: "accepted and ignored",
    },
    Flag {
        name: "-limit",
        arg: Some("proc_limit"),
        help: "most servers running at once",
    },
    Flag {
        name: "-pidfile",
        arg: Some("filename"),
        help: "write the pid here",
    },
    Flag {
        name: "-logprocs",
        arg: Some("limit"),
        help: "most concurrent ident lookups",
    },
    Flag {
        name: "-shutdownprocs",
        arg: Some("limit"),
        help: "deprecated",
    },
    Flag {
        name: "-cc",
        arg: Some("interval"),
        help: "periodic consistency check",
    },
];

/// xinetd's usage line, word for word (X-CLI-1).
pub const USAGE: &str = "Usage: xinetd [-d] [-f config_file] [-filelog filename] [-syslog facility] [-reuse] [-limit proc_limit] [-pidfile filename] [-logprocs limit] [-shutdownprocs limit] [-cc interval]";

/// The parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub debug: bool,
    pub config: PathBuf,
    pub filelog: Option<PathBuf>,
    pub syslog: Option<String>,
    pub pidfile: Option<PathBuf>,
    pub stayalive: bool,
    pub dontfork: bool,
    pub limit: Option<u32>,
    pub logprocs: Option<u32>,
    pub cc: Option<u32>,
    pub version: bool,
    pub inetd_compat: bool,
    pub check_config: bool,
    /// `-shutdownprocs` was given: print the deprecation note.
    pub shutdownprocs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debug: false,
            config: PathBuf::from("/etc/xinetd.conf"),
            filelog: None,
            syslog: None,
            pidfile: None,
            stayalive: false,
            dontfork: false,
            limit: None,
            logprocs: None,
            cc: None,
            version: false,
            inetd_compat: false,
            check_config: false,
            shutdownprocs: false,
        }
    }
}

/// Bad usage: print `USAGE` and exit 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError;

fn num(v: Option<&String>) -> Result<u32, UsageError> {
    v.and_then(|s| s.parse().ok()).ok_or(UsageError)
}

/// Parses argv without argv[0].
pub fn parse(args: &[String]) -> Result<Options, UsageError> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_str();
        if !w.starts_with('-') {
            return Err(UsageError);
        }
        let next = args.get(i + 1);
        let mut takes = true;
        match w {
            "-d" => {
                o.debug = true;
                takes = false;
            }
            "-f" => o.config = PathBuf::from(next.ok_or(UsageError)?),
            "-filelog" => o.filelog = Some(PathBuf::from(next.ok_or(UsageError)?)),
            "-syslog" => o.syslog = Some(next.ok_or(UsageError)?.clone()),
            "-pidfile" => o.pidfile = Some(PathBuf::from(next.ok_or(UsageError)?)),
            "-limit" => o.limit = Some(num(next)?),
            "-logprocs" => o.logprocs = Some(num(next)?),
            "-cc" => o.cc = Some(num(next)?),
            "-shutdownprocs" => {
                num(next)?;
                o.shutdownprocs = true;
            }
            "-stayalive" => {
                o.stayalive = true;
                takes = false;
            }
            "-dontfork" => {
                o.dontfork = true;
                o.stayalive = true;
                takes = false;
            }
            "-version" => {
                o.version = true;
                takes = false;
            }
            "-inetd_compat" => {
                o.inetd_compat = true;
                takes = false;
            }
            "--check-config" => {
                o.check_config = true;
                takes = false;
            }
            // -reuse and every other dashed word: accepted and ignored.
            _ => takes = false,
        }
        i += if takes { 2 } else { 1 };
    }
    if o.filelog.is_some() && o.syslog.is_some() {
        return Err(UsageError);
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn init_script_command_line() {
        let o = parse(&a("-stayalive -pidfile /var/run/xinetd.pid")).unwrap();
        assert!(o.stayalive && !o.dontfork);
        assert_eq!(o.pidfile.unwrap(), PathBuf::from("/var/run/xinetd.pid"));
        assert_eq!(o.config, PathBuf::from("/etc/xinetd.conf"));
    }

    #[test]
    fn quirks_of_the_original() {
        assert!(parse(&a("-bogus -reuse")).is_ok());
        assert_eq!(parse(&a("stray")), Err(UsageError));
        assert_eq!(parse(&a("-limit x")), Err(UsageError));
        assert_eq!(parse(&a("-f")), Err(UsageError));
        assert_eq!(parse(&a("-filelog f -syslog daemon")), Err(UsageError));
        let o = parse(&a("-dontfork -f x.conf --check-config")).unwrap();
        assert!(o.dontfork && o.stayalive && o.check_config);
    }

    #[test]
    fn usage_table_names_every_flag() {
        for f in FLAGS {
            assert!(USAGE.contains(f.name), "{}", f.name);
        }
    }
}
