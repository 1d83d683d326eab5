//! in.tftpd's command line: tftp-hpa's getopt set (short flags may be
//! bundled, arguments attached or separate) and its long names, every check
//! with tftp-hpa's text and sysexits code (reference 5.2, T-CLI-1), plus
//! pxesuite's `--check-config` (T-CC-1) and `--single-port`.

use std::path::PathBuf;

use super::options;

pub const EX_OK: i32 = 0;
pub const EX_USAGE: i32 = 64;
pub const EX_NOINPUT: i32 = 66;
pub const EX_NOUSER: i32 = 67;
pub const EX_OSERR: i32 = 71;
pub const EX_IOERR: i32 = 74;
pub const EX_CONFIG: i32 = 78;

/// The usage line tftp-hpa 0.42 logs for a bad flag (T-CLI-1).
pub const USAGE: &str = "Usage: in.tftpd [-vcl][-a address][-m mappings][-u user][-t inetd_timeout][-T pkt_timeout][-r option...] [-s] [directory ...]";

/// Version text printed by `-V` (T-CLI: tftp-hpa prints its version and build features).
pub const VERSION: &str = "tftp-hpa 5.2, with remap, with tcpwrappers (pxesuite)";

/// Everything the flags say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub standalone: bool,
    pub foreground: bool,
    pub address: Option<String>,
    pub create: bool,
    pub secure: bool,
    pub user: String,
    pub umask: Option<u32>,
    pub permissive: bool,
    /// `-t`: inetd linger in seconds.
    pub linger_s: u64,
    /// `-T`: initial retransmit timeout in µs.
    pub retransmit_us: u64,
    pub map_file: Option<PathBuf>,
    pub verbosity: u32,
    pub refused: Vec<String>,
    pub max_blksize: u64,
    pub port_range: Option<(u16, u16)>,
    pub pidfile: Option<PathBuf>,
    pub ipv4_only: bool,
    pub ipv6_only: bool,
    pub dirs: Vec<PathBuf>,
    pub version: bool,
    pub help: bool,
    pub check_config: bool,
    /// pxesuite: serve every transfer from the listening port (as dnsmasq's `--tftp-single-port`).
    pub single_port: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            standalone: false,
            foreground: false,
            address: None,
            create: false,
            secure: false,
            user: "nobody".into(),
            umask: None,
            permissive: false,
            linger_s: 900,
            retransmit_us: options::DEFAULT_TIMEOUT_US,
            map_file: None,
            verbosity: 0,
            refused: Vec::new(),
            max_blksize: options::MAX_BLKSIZE,
            port_range: None,
            pidfile: None,
            ipv4_only: false,
            ipv6_only: false,
            dirs: Vec::new(),
            version: false,
            help: false,
            check_config: false,
            single_port: false,
        }
    }
}

/// A refused command line: the exit code and the message to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub code: i32,
    pub message: String,
}

fn fail(code: i32, message: impl Into<String>) -> ConfigError {
    ConfigError {
        code,
        message: message.into(),
    }
}

/// C's `atoi`: leading blanks, a sign, digits; anything else stops it (garbage is 0).
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for c in d.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

const WITH_ARG: &str = "aBmPrRtTuU";
const NO_ARG: &str = "46chlLpsvV";

fn long_to_short(name: &str) -> Option<char> {
    Some(match name {
        "ipv4" => '4',
        "ipv6" => '6',
        "create" => 'c',
        "help" => 'h',
        "listen" => 'l',
        "foreground" => 'L',
        "permissive" => 'p',
        "secure" => 's',
        "verbose" => 'v',
        "version" => 'V',
        "address" => 'a',
        "blocksize" => 'B',
        "map-file" => 'm',
        "pidfile" => 'P',
        "refuse" => 'r',
        "port-range" => 'R',
        "timeout" => 't',
        "retransmit" => 'T',
        "user" => 'u',
        "umask" => 'U',
        _ => return None,
    })
}

/// Parses the arguments after argv[0].
pub fn parse_args(args: &[String]) -> Result<Config, ConfigError> {
    let mut c = Config::default();
    let mut i = 0;
    let mut rest: Vec<String> = Vec::new();
    let mut flags: Vec<(char, Option<String>)> = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            rest.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match name {
                "check-config" => c.check_config = true,
                "single-port" => c.single_port = true,
                "verbosity" => {
                    let v = inline.or_else(|| args.get(i).cloned().inspect(|_| i += 1));
                    let v = v.ok_or_else(|| fail(EX_USAGE, USAGE))?;
                    // Applied in order with the -v flags.
                    flags.push(('=', Some(v)));
                }
                _ => {
                    let s = long_to_short(name).ok_or_else(|| fail(EX_USAGE, USAGE))?;
                    let v = if WITH_ARG.contains(s) {
                        let v = inline.or_else(|| args.get(i).cloned().inspect(|_| i += 1));
                        Some(v.ok_or_else(|| fail(EX_USAGE, USAGE))?)
                    } else {
                        None
                    };
                    flags.push((s, v));
                }
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let f = chars[k];
                k += 1;
                if WITH_ARG.contains(f) {
                    let attached: String = chars[k..].iter().collect();
                    let v = if !attached.is_empty() {
                        attached
                    } else {
                        let v = args.get(i).cloned().ok_or_else(|| fail(EX_USAGE, USAGE))?;
                        i += 1;
                        v
                    };
                    flags.push((f, Some(v)));
                    break;
                } else if NO_ARG.contains(f) {
                    flags.push((f, None));
                } else {
                    return Err(fail(EX_USAGE, USAGE));
                }
            }
            continue;
        }
        rest.push(a.clone());
    }
    for (f, v) in flags {
        let v = v.unwrap_or_default();
        match f {
            '4' => c.ipv4_only = true,
            '6' => c.ipv6_only = true,
            'c' => c.create = true,
            'h' => c.help = true,
            'l' => c.standalone = true,
            'L' => {
                c.standalone = true;
                c.foreground = true;
            }
            'p' => c.permissive = true,
            's' => c.secure = true,
            'v' => c.verbosity += 1,
            '=' => c.verbosity = atoi(&v).max(0) as u32,
            'V' => c.version = true,
            'a' => c.address = Some(v),
            'B' => {
                let n = atoi(&v);
                if !(512..=options::MAX_BLKSIZE as i64).contains(&n) {
                    return Err(fail(
                        EX_USAGE,
                        format!(
                            "Bad maximum blocksize value (range 512-{}): {v}",
                            options::MAX_BLKSIZE
                        ),
                    ));
                }
                c.max_blksize = n as u64;
            }
            'm' => {
                if c.map_file.is_some() {
                    return Err(fail(EX_USAGE, "Multiple -m options"));
                }
                c.map_file = Some(PathBuf::from(v));
            }
            'P' => c.pidfile = Some(PathBuf::from(v)),
            'r' => {
                let l = v.to_ascii_lowercase();
                if !options::KNOWN.contains(&l.as_str()) {
                    return Err(fail(EX_USAGE, format!("Unknown option: {v}")));
                }
                c.refused.push(l);
            }
            'R' => {
                let bad = || fail(EX_USAGE, format!("Bad port range: {v}"));
                let (a, b) = v.split_once(':').ok_or_else(bad)?;
                let (a, b) = (
                    a.parse::<u32>().map_err(|_| bad())?,
                    b.parse::<u32>().map_err(|_| bad())?,
                );
                if b >= 65535 || a > b {
                    return Err(bad());
                }
                c.port_range = Some((a as u16, b as u16));
            }
            't' => c.linger_s = atoi(&v).max(0) as u64,
            'T' => {
                let n = atoi(&v);
                if !(10_000..=255_000_000).contains(&n) || v.trim().parse::<i64>().is_err() {
                    return Err(fail(EX_USAGE, format!("Bad timeout value: {v}")));
                }
                c.retransmit_us = n as u64;
            }
            'u' => c.user = v,
            'U' => {
                let m = u32::from_str_radix(&v, 8)
                    .map_err(|_| fail(EX_USAGE, format!("Invalid umask: {v}")))?;
                if m > 0o777 {
                    return Err(fail(EX_USAGE, format!("Invalid umask: {v}")));
                }
                c.umask = Some(m);
            }
            _ => return Err(fail(EX_USAGE, USAGE)),
        }
    }
    c.dirs = rest.into_iter().map(PathBuf::from).collect();
    if c.secure && !c.version && !c.help {
        if c.dirs.is_empty() {
            return Err(fail(EX_USAGE, "no -s directory"));
        }
        if c.dirs.len() > 1 {
            return Err(fail(EX_USAGE, "too many -s directories"));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Config, ConfigError> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_arguments_never_panic(a in proptest::collection::vec("[-a-zA-Z0-9:=./]{0,8}", 0..6)) {
            let _ = parse_args(&a);
        }
    }

    #[test]
    fn centos_xinetd_arguments() {
        let c = p(&["-s", "/tftpboot"]).unwrap();
        assert!(c.secure && !c.standalone);
        assert_eq!(c.dirs, vec![PathBuf::from("/tftpboot")]);
        assert_eq!(c.linger_s, 900);
        assert_eq!(c.user, "nobody");
    }

    #[test]
    fn bundled_attached_and_long_flags() {
        let c = p(&[
            "-vvLs",
            "-unobody",
            "-a",
            "10.0.0.1:69",
            "--refuse",
            "TSIZE",
            "--verbosity=4",
            "/r",
        ])
        .unwrap();
        assert_eq!(c.verbosity, 4);
        assert!(c.standalone && c.foreground && c.secure);
        assert_eq!(c.refused, vec!["tsize"]);
        assert_eq!(c.address.as_deref(), Some("10.0.0.1:69"));
        assert_eq!(p(&["-t", "junk"]).unwrap().linger_s, 0);
    }

    /// T-CLI-1: each refusal has tftp-hpa's text and sysexits code.
    #[test]
    fn t_cli_1_errors_and_exit_codes() {
        let e = |a: &[&str]| p(a).unwrap_err();
        assert_eq!(e(&["-Z"]), fail(64, USAGE));
        assert_eq!(e(&["-s"]).message, "no -s directory");
        assert_eq!(e(&["-s", "a", "b"]).message, "too many -s directories");
        assert_eq!(e(&["-T", "5"]).message, "Bad timeout value: 5");
        assert_eq!(
            e(&["-B", "70000"]).message,
            "Bad maximum blocksize value (range 512-65464): 70000"
        );
        assert_eq!(e(&["-R", "9:8"]).message, "Bad port range: 9:8");
        assert_eq!(e(&["-U", "9"]).message, "Invalid umask: 9");
        assert_eq!(e(&["-r", "foo"]).message, "Unknown option: foo");
        assert_eq!(e(&["-m", "a", "-m", "b"]).message, "Multiple -m options");
        assert!(e(&["-Z"]).code == EX_USAGE);
    }
}
