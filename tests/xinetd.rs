//! pxesuite's xinetd with real clients and the real peers, each test in
//! namespaces it creates: the CentOS tftp service starting the real
//! tftpd-hpa, stream and internal services, a differential against the real
//! xinetd 2.3.15 on the limits and access lists (same config, same client
//! sequence, same log lines modulo pid and time), reload, and chkconfig-style
//! enablement (reference C-4).

use crate::harness::peers;
use crate::harness::*;
use crate::require;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Runs `f` on a thread that has entered namespace `ns`; sockets it creates stay in that namespace.
fn in_ns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{}", ns.name());
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("namespace file");
        nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("client thread")
}

/// What a client saw from one connection attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// The server answered (its first line).
    Served(String),
    /// Accepted, then closed without a byte (a refusal after accept).
    Closed,
    /// The connection was refused (the service's socket was closed).
    Refused,
}

/// Connects from `src` (a loopback address) to 127.0.0.1:`port` inside `ns`.
fn connect(ns: &Netns, src: Ipv4Addr, port: u16) -> Option<TcpStream> {
    in_ns(ns, move || {
        use nix::sys::socket::*;
        let fd: OwnedFd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .ok()?;
        bind(fd.as_raw_fd(), &SockaddrIn::from(SocketAddrV4::new(src, 0))).ok()?;
        let dst = SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        nix::sys::socket::connect(fd.as_raw_fd(), &dst).ok()?;
        let s = TcpStream::from(fd);
        // Only a bound against a hung server: a loaded machine can be slow, and a
        // timeout would read as a refusal.
        s.set_read_timeout(Some(SLOW)).ok()?;
        Some(s)
    })
}

/// Sends `msg` (if any) and reads the first line of the answer.
fn talk(s: &mut TcpStream, msg: &str) -> Seen {
    if !msg.is_empty() && s.write_all(msg.as_bytes()).is_err() {
        return Seen::Closed;
    }
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got.extend_from_slice(&b[..n]);
                if got.contains(&b'\n') {
                    break;
                }
            }
        }
    }
    if got.is_empty() {
        Seen::Closed
    } else {
        let text = String::from_utf8_lossy(&got).into_owned();
        Seen::Served(text.lines().next().unwrap_or("").to_string())
    }
}

/// One connection: connect, talk, close.
fn once(ns: &Netns, src: Ipv4Addr, port: u16, msg: &str) -> Seen {
    match connect(ns, src, port) {
        None => Seen::Refused,
        Some(mut s) => talk(&mut s, msg),
    }
}

/// A super-server (ours or the real one) in its own namespace, logging to files.
struct Side {
    ns: Netns,
    dir: ScratchDir,
    daemon: Daemon,
}

impl Side {
    /// Starts `program -dontfork -filelog prog.log -f xinetd.conf` with `conf`
    /// (where `{DIR}` stands for the side's scratch directory).
    fn start(label: &str, program: &str, conf: &str, ports: &[u16]) -> Side {
        Side::start_wrapped(label, program, conf, ports, None)
    }

    /// As `start`, with `/etc/hosts.allow` and `/etc/hosts.deny` replaced (in a
    /// private mount namespace) by the given texts when `wrap` is set.
    fn start_wrapped(
        label: &str,
        program: &str,
        conf: &str,
        ports: &[u16],
        wrap: Option<(&str, &str)>,
    ) -> Side {
        let ns = Netns::new("xd").expect("namespace");
        let dir = ScratchDir::new("xd").expect("scratch dir");
        let conf_path = dir.path().join("xinetd.conf");
        let text = conf.replace("{DIR}", &dir.path().display().to_string());
        std::fs::write(&conf_path, text).unwrap();
        let xargs = args(&[
            "-dontfork",
            "-filelog",
            &dir.path().join("prog.log").display().to_string(),
            "-f",
            &conf_path.display().to_string(),
        ]);
        let daemon = match wrap {
            None => Daemon::spawn(label, Some(&ns), None, program, &xargs),
            Some((allow, deny)) => {
                let (a, d) = (dir.path().join("hosts.allow"), dir.path().join("hosts.deny"));
                std::fs::write(&a, allow).unwrap();
                std::fs::write(&d, deny).unwrap();
                let mut cmd = ns.cmd("unshare");
                cmd.args([
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    "sh",
                    "-c",
                    "mount --bind \"$1\" /etc/hosts.allow && mount --bind \"$2\" /etc/hosts.deny && shift 2 && exec \"$@\"",
                    "sh",
                ]);
                cmd.arg(&a).arg(&d).arg(program).args(&xargs);
                Daemon::spawn_command(label, &mut cmd)
            }
        }
        .expect("start xinetd");
        let side = Side { ns, dir, daemon };
        for &p in ports {
            assert!(
                wait_tcp_port(&side.ns, p, READY),
                "{label} did not listen on {p}: {}",
                side.prog_log()
            );
        }
        side
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn prog_log(&self) -> String {
        std::fs::read_to_string(self.path("prog.log")).unwrap_or_default()
    }

    fn svc_log(&self) -> String {
        std::fs::read_to_string(self.path("svc.log")).unwrap_or_default()
    }

    /// Waits until the service log holds `n` lines containing `needle`.
    fn wait_svc(&self, needle: &str, n: usize) -> bool {
        wait_until(SLOW, || self.svc_log().matches(needle).count() >= n)
    }

    fn wait_prog(&self, needle: &str, n: usize) -> bool {
        wait_until(SLOW, || self.prog_log().matches(needle).count() >= n)
    }
}

/// Service records without time and pid: `START: burst pid=N from=127.0.0.1`.
fn normalize_svc(log: &str) -> Vec<String> {
    let mut out: Vec<String> = log
        .lines()
        .map(|l| {
            let body = l.split_once(": ").map(|(_, b)| b).unwrap_or(l);
            body.split(' ')
                .map(|w| {
                    if w.starts_with("pid=") && w != "pid=0" {
                        "pid=N".to_string()
                    } else if w.starts_with("duration=") {
                        "duration=D".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    out.sort();
    out
}

/// Program messages about limits and access, without stamp and pid.
fn normalize_prog(log: &str, keep: &[&str]) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.split_once("]: ").map(|(_, b)| b.to_string()))
        .filter(|b| keep.iter().any(|k| b.contains(k)))
        .collect()
}

fn differential_blocker() -> Option<String> {
    peers::blocker(&[peers::XINETD])
}

fn ours_path() -> String {
    ours("xinetd").display().to_string()
}

/// The bound for waits that include a server's whole run on a busy machine.
const SLOW: std::time::Duration = std::time::Duration::from_secs(90);

const LOOP1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const LOOP2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const LOOP3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// The defaults both sides share: every record to one file.
const DEFAULTS: &str = "defaults\n{\n\tlog_type\t= FILE {DIR}/svc.log\n\tlog_on_success\t= PID HOST DURATION EXIT\n\tlog_on_failure\t= HOST\n}\n";

/// X-LIM-cps, X-LIM-order: `cps = 5 3` under a burst of 15 sequential connections:
/// ours and xinetd 2.3.15 accept and refuse the same ones and log the same lines.
#[test]
fn x_lim_cps_burst_matches_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let conf = format!(
        "{DEFAULTS}service burst\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7101\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/echo\n\tserver_args\t= hi\n\tcps\t\t= 5 3\n\tflags\t\t= IPv4\n}}\n"
    );
    let run = |label: &str, program: String| {
        let side = Side::start(label, &program, &conf, &[7101]);
        let seen: Vec<Seen> = (0..15).map(|_| once(&side.ns, LOOP1, 7101, "")).collect();
        // Re-activation after the 3 s pause, announced in the program log.
        assert!(
            side.wait_prog("Activating service burst", 1),
            "{label}: {}",
            side.prog_log()
        );
        assert!(wait_tcp_port(&side.ns, 7101, READY));
        let after = once(&side.ns, LOOP1, 7101, "");
        assert!(
            side.wait_svc("EXIT: burst", 6),
            "{label}: {}",
            side.svc_log()
        );
        (seen, after, side)
    };
    let ((seen, after, side), (their_seen, their_after, their_svc, their_prog)) =
        std::thread::scope(|s| {
            let theirs = s.spawn(|| {
                let (seen, after, side) = run("xinetd", peers::XINETD.to_string());
                (seen, after, side.svc_log(), side.prog_log())
            });
            let mine = run("ours", ours_path());
            (mine, theirs.join().expect("real xinetd side"))
        });
    let served = Seen::Served("hi".into());
    let mut want = vec![served.clone(); 5];
    want.push(Seen::Closed);
    want.extend(std::iter::repeat_n(Seen::Refused, 9));
    assert_eq!(
        their_seen, want,
        "the real xinetd's sequence changed: {their_prog}"
    );
    assert_eq!(seen, their_seen, "accepted/refused sequence");
    assert_eq!((after.clone(), their_after), (served.clone(), served));
    assert_eq!(
        normalize_svc(&side.svc_log()),
        normalize_svc(&their_svc),
        "service records"
    );
    let keep = ["Deactivating", "Activating"];
    assert_eq!(
        normalize_prog(&side.prog_log(), &keep),
        normalize_prog(&their_prog, &keep)
    );
    assert!(side
        .prog_log()
        .contains("Deactivating service burst due to excessive incoming connections.  Restarting in 3 seconds."));
}

/// Runs the same scenario against ours and the real xinetd and compares what clients saw and the logs.
fn differential<F>(conf: &str, ports: &[u16], scenario: F, keep: &[&str])
where
    F: Fn(&Side) -> Vec<Seen> + Sync,
{
    differential_wrapped(conf, ports, scenario, keep, None)
}

fn differential_wrapped<F>(
    conf: &str,
    ports: &[u16],
    scenario: F,
    keep: &[&str],
    wrap: Option<(&str, &str)>,
) where
    F: Fn(&Side) -> Vec<Seen> + Sync,
{
    let ((seen, side), (their_seen, their_svc, their_prog)) = std::thread::scope(|s| {
        let theirs = s.spawn(|| {
            let side = Side::start_wrapped("xinetd", peers::XINETD, conf, ports, wrap);
            let seen = scenario(&side);
            (seen, side.svc_log(), side.prog_log())
        });
        let side = Side::start_wrapped("ours", &ours_path(), conf, ports, wrap);
        let seen = scenario(&side);
        ((seen, side), theirs.join().expect("real xinetd side"))
    });
    assert_eq!(
        seen, their_seen,
        "client outcomes; real xinetd log: {their_prog}"
    );
    assert_eq!(
        normalize_svc(&side.svc_log()),
        normalize_svc(&their_svc),
        "service records\nours:\n{}\ntheirs:\n{their_svc}",
        side.svc_log()
    );
    assert_eq!(
        normalize_prog(&side.prog_log(), keep),
        normalize_prog(&their_prog, keep)
    );
}

/// X-LIM-per_source: with `per_source = 2` and long-running servers, the third
/// concurrent connection from one address is refused; a second address is not;
/// after one ends, the address is served again.
#[test]
fn x_lim_per_source_matches_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let conf = format!(
        "{DEFAULTS}service keeper\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7102\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/cat\n\tper_source\t= 2\n\tflags\t\t= IPv4\n}}\n"
    );
    differential(
        &conf,
        &[7102],
        |side: &Side| {
            let mut a = connect(&side.ns, LOOP1, 7102).expect("a");
            let mut b = connect(&side.ns, LOOP1, 7102).expect("b");
            let mut seen = vec![talk(&mut a, "a\n"), talk(&mut b, "b\n")];
            seen.push(once(&side.ns, LOOP1, 7102, "c\n"));
            let mut d = connect(&side.ns, LOOP2, 7102).expect("d");
            seen.push(talk(&mut d, "d\n"));
            drop(a);
            assert!(side.wait_svc("EXIT: keeper", 1), "{}", side.svc_log());
            seen.push(once(&side.ns, LOOP1, 7102, "e\n"));
            drop((b, d));
            assert!(side.wait_svc("EXIT: keeper", 4), "{}", side.svc_log());
            seen
        },
        &[],
    );
}

/// X-LIM-instances: `instances = 2` refuses a third concurrent server whatever its source.
#[test]
fn x_lim_instances_matches_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let conf = format!(
        "{DEFAULTS}service pair\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7103\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/cat\n\tinstances\t= 2\n\tflags\t\t= IPv4\n}}\n"
    );
    differential(
        &conf,
        &[7103],
        |side: &Side| {
            let mut a = connect(&side.ns, LOOP1, 7103).expect("a");
            let mut b = connect(&side.ns, LOOP2, 7103).expect("b");
            let mut seen = vec![talk(&mut a, "a\n"), talk(&mut b, "b\n")];
            seen.push(once(&side.ns, LOOP3, 7103, "c\n"));
            drop(a);
            assert!(side.wait_svc("EXIT: pair", 1), "{}", side.svc_log());
            seen.push(once(&side.ns, LOOP3, 7103, "d\n"));
            drop(b);
            assert!(side.wait_svc("EXIT: pair", 3), "{}", side.svc_log());
            seen
        },
        &[],
    );
}

/// X-ACC-1: only_from and no_access, including both lists matching (denied,
/// with xinetd's message), and access_times outside the window; a refused
/// connection to a forking service logs START, FAIL and EXIT.
#[test]
fn x_acc_only_from_no_access_access_times_match_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let t = pxesuite::sys::clock::now();
    let closed = format!("{}:00-{}:30", (t.hour + 2) % 24, (t.hour + 2) % 24);
    let conf = format!(
        "{DEFAULTS}service guarded\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7104\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/echo\n\tserver_args\t= welcome\n\tonly_from\t= 127.0.0.1 127.0.0.2\n\tno_access\t= 127.0.0.2\n\tflags\t\t= IPv4\n}}\nservice night\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7105\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/echo\n\tserver_args\t= late\n\taccess_times\t= {closed}\n\tflags\t\t= IPv4\n}}\n"
    );
    differential(
        &conf,
        &[7104, 7105],
        |side: &Side| {
            let seen = vec![
                once(&side.ns, LOOP1, 7104, ""),
                once(&side.ns, LOOP2, 7104, ""),
                once(&side.ns, LOOP3, 7104, ""),
                once(&side.ns, LOOP1, 7105, ""),
            ];
            assert!(side.wait_svc("EXIT: guarded", 3), "{}", side.svc_log());
            assert!(side.wait_svc("FAIL: night", 1), "{}", side.svc_log());
            seen
        },
        &["match equally"],
    );
}

/// X-ACC-2: tcp_wrappers with the server's base name as daemon name, and
/// NOLIBWRAP turning them off: same outcomes and log lines as the real xinetd.
#[test]
fn x_acc_2_tcp_wrappers_match_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let conf = format!(
        "{DEFAULTS}service wrapped\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7106\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/echo\n\tserver_args\t= wrapped\n\tflags\t\t= IPv4\n}}\nservice open\n{{\n\ttype\t\t= UNLISTED\n\tport\t\t= 7107\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/echo\n\tserver_args\t= open\n\tflags\t\t= IPv4 NOLIBWRAP\n}}\n"
    );
    differential_wrapped(
        &conf,
        &[7106, 7107],
        |side: &Side| {
            let seen = vec![
                once(&side.ns, LOOP1, 7106, ""),
                once(&side.ns, LOOP2, 7106, ""),
                once(&side.ns, LOOP3, 7106, ""),
                once(&side.ns, LOOP1, 7107, ""),
            ];
            assert!(side.wait_svc("EXIT: ", 4), "{}", side.svc_log());
            let want = [
                Seen::Closed,
                Seen::Served("wrapped".into()),
                Seen::Closed,
                Seen::Served("open".into()),
            ];
            assert_eq!(seen, want, "{}\n{}", side.prog_log(), side.svc_log());
            seen
        },
        &["libwrap refused"],
        Some((
            "# test\necho: 127.0.0.2\n",
            "echo: ALL EXCEPT 127.0.0.3\nALL: 127.0.0.3\n",
        )),
    );
}

/// Two namespaces joined by a veth: the server at 192.168.0.1/24, the client at 192.168.0.50/24.
fn server_and_client() -> (Netns, Netns) {
    let srv = Netns::new("xsrv").expect("server namespace");
    let cli = Netns::new("xcli").expect("client namespace");
    let (sif, cif) = (unique_name("vs"), unique_name("vc"));
    veth(&srv, &sif, "192.168.0.1/24", &cli, &cif, "192.168.0.50/24").expect("veth");
    (srv, cli)
}

/// Starts our xinetd in `srv` on `conf` (foreground), logging to `sink` and its own messages to a file.
fn start_ours(srv: &Netns, sink: &SyslogSink, conf: &Path, dir: &Path) -> Daemon {
    Daemon::spawn(
        "ours",
        Some(srv),
        Some(sink),
        &ours_path(),
        &args(&[
            "-dontfork",
            "-filelog",
            &dir.join("prog.log").display().to_string(),
            "-f",
            &conf.display().to_string(),
            "-pidfile",
            &dir.join("xinetd.pid").display().to_string(),
        ]),
    )
    .expect("start our xinetd")
}

/// X-F-3, X-LIM-dgram-wait: the CentOS tftp service file (cps = 100 2,
/// per_source = 11, flags = IPv4) makes our xinetd start the real tftpd-hpa,
/// and the real tftp-hpa client and curl fetch a file through it.
#[test]
fn x_f_3_tftp_client_fetches_through_ours_and_real_in_tftpd() {
    let need = [peers::HPA_TFTPD, peers::TFTP, peers::CURL];
    require!(
        peers::blocker(&need).is_none(),
        "{}",
        peers::blocker(&need).unwrap_or_default()
    );
    let dir = ScratchDir::new("xtftp").unwrap();
    let (srv, cli) = server_and_client();
    let conf = crate::foundation::xinetd_tree(dir.path(), Path::new(peers::HPA_TFTPD), "");
    let payload: Vec<u8> = (0..150_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    std::fs::write(dir.path().join("tftpboot/pxelinux.0"), &payload).unwrap();
    let sink = SyslogSink::new().unwrap();
    let _x = start_ours(&srv, &sink, &conf, dir.path());
    assert!(
        wait_udp_port(&srv, 69, READY),
        "no UDP 69: {:?}",
        sink.lines()
    );
    let got = dir.path().join("got-tftp");
    let out = cli
        .cmd(peers::TFTP)
        .args(["-m", "binary", "192.168.0.1", "-c", "get", "pxelinux.0"])
        .arg(&got)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tftp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&got).unwrap(),
        payload,
        "tftp client got other bytes"
    );
    let got2 = dir.path().join("got-curl");
    let out = cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(&got2)
        .arg("tftp://192.168.0.1/pxelinux.0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&got2).unwrap(), payload);
    let start = sink.wait_for(READY, |r| {
        r.ident == "xinetd" && r.msg.starts_with("START: tftp pid=")
    });
    let start = start.unwrap_or_else(|| panic!("no START line: {:?}", sink.lines()));
    assert!(start.msg.ends_with(" from=192.168.0.50"), "{}", start.msg);
    // One lingering in.tftpd served both clients: a single START (X-LIM-dgram-wait).
    let starts = sink
        .lines()
        .iter()
        .filter(|l| l.contains("START: tftp"))
        .count();
    assert_eq!(starts, 1, "{:?}", sink.lines());
}

/// Stream services: a small script (env and REMOTE_HOST reach it), /bin/echo
/// with NAMEINARGS, and the internal echo, chargen, daytime, time and discard
/// services answer real clients (busybox nc, curl) and a UDP client.
#[test]
fn stream_script_echo_and_internal_services_answer_clients() {
    require!(
        peers::blocker(&[peers::BUSYBOX, peers::CURL]).is_none(),
        "{}",
        peers::blocker(&[peers::BUSYBOX, peers::CURL]).unwrap_or_default()
    );
    let dir = ScratchDir::new("xstr").unwrap();
    let (srv, cli) = server_and_client();
    let script = dir.path().join("hello.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nread name\necho \"hello $name from $REMOTE_HOST $GREETING $(id -un)\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = dir.path().join("xinetd.conf");
    let internal = |name: &str, st: &str| {
        format!("service {name}\n{{\n\tid = {name}-{st}\n\ttype = INTERNAL\n\tsocket_type = {st}\n\twait = {}\n\tflags = IPv4\n}}\n", if st == "dgram" { "yes" } else { "no" })
    };
    let mut text = format!(
        "defaults\n{{\n\tlog_type = SYSLOG daemon info\n\tlog_on_success = PID HOST EXIT\n\tlog_on_failure = HOST\n}}\nservice hello\n{{\n\ttype = UNLISTED\n\tport = 7200\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = {}\n\tenv = GREETING=howdy\n\tflags = IPv4\n}}\nservice say\n{{\n\ttype = UNLISTED\n\tport = 7201\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = /bin/echo\n\tserver_args = echo said so\n\tflags = IPv4 NAMEINARGS\n}}\n",
        script.display()
    );
    let banner = dir.path().join("banner");
    std::fs::write(&banner, "BANNER\n").unwrap();
    text.push_str(&format!(
        "service fwd\n{{\n\ttype = UNLISTED\n\tport = 7202\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tredirect = 127.0.0.1 7201\n\tbanner = {}\n\tflags = IPv4\n}}\n",
        banner.display()
    ));
    // X-LOG-3: an IPv6 (dual-stack) service logs IPv4 peers as ::ffff:a.b.c.d.
    text.push_str("service six\n{\n\ttype = UNLISTED\n\tport = 7203\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = /bin/echo\n\tserver_args = six\n\tflags = IPv6\n}\n");
    for (n, st) in [
        ("echo", "stream"),
        ("chargen", "stream"),
        ("daytime", "stream"),
        ("time", "stream"),
        ("discard", "stream"),
        ("echo", "dgram"),
        ("daytime", "dgram"),
        ("time", "dgram"),
    ] {
        text.push_str(&internal(n, st));
    }
    std::fs::write(&conf, text).unwrap();
    // The script must be readable and executable by nobody.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let sink = SyslogSink::new().unwrap();
    let _x = start_ours(&srv, &sink, &conf, dir.path());
    for p in [7200, 7201, 7202, 7, 19, 13, 37, 9] {
        assert!(
            wait_tcp_port(&srv, p, READY),
            "port {p}: {}",
            std::fs::read_to_string(dir.path().join("prog.log")).unwrap_or_default()
        );
    }
    let nc = |port: &str, input: &str| {
        let mut child = cli
            .cmd(peers::BUSYBOX)
            .args(["nc", "192.168.0.1", port])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
    };
    assert_eq!(
        nc("7200", "world\n"),
        "hello world from 192.168.0.50 howdy nobody\n"
    );
    assert_eq!(nc("7201", ""), "said so\n");
    assert!(wait_until(READY, || srv
        .run("cat", &["/proc/net/tcp6"])
        .unwrap_or_default()
        .contains(":1C23 ")));
    assert_eq!(nc("7203", ""), "six\n");
    assert!(
        sink.wait_for_msg(READY, "START: six pid=")
            .is_some_and(|r| r.msg.ends_with(" from=::ffff:192.168.0.50")),
        "{:?}",
        sink.lines()
    );
    // redirect: a TCP proxy to the `say` service, after the banner.
    assert_eq!(nc("7202", ""), "BANNER\nsaid so\n");
    assert_eq!(nc("7", "ping\n"), "ping\n");
    let day = nc("13", "");
    assert!(
        day.ends_with("\r\n") && day.split(' ').count() == 5,
        "daytime {day:?}"
    );
    let cg = match once(&srv, LOOP1, 19, "") {
        Seen::Served(line) => line,
        other => panic!("chargen: {other:?}"),
    };
    assert!(
        cg.starts_with(" !\"#$%&'()*+,-./0123456789"),
        "chargen {cg:?}"
    );
    // UDP internal services, from a client socket in the client namespace.
    let replies = in_ns(&cli, || {
        let u = UdpSocket::bind("192.168.0.50:0").unwrap();
        u.set_read_timeout(Some(READY)).unwrap();
        let mut out = Vec::new();
        for (port, msg) in [(7u16, &b"udp-echo"[..]), (13, b"x"), (37, b"x")] {
            u.send_to(msg, SocketAddr::from(([192, 168, 0, 1], port)))
                .unwrap();
            let mut b = [0u8; 512];
            let n = u.recv(&mut b).unwrap_or(0);
            out.push(b[..n].to_vec());
        }
        out
    });
    assert_eq!(replies[0], b"udp-echo");
    assert!(String::from_utf8_lossy(&replies[1]).ends_with("\r\n"));
    assert_eq!(replies[2].len(), 4);
    let secs =
        u32::from_be_bytes([replies[2][0], replies[2][1], replies[2][2], replies[2][3]]) as u64;
    let now = pxesuite::sys::clock::epoch_secs() + 2_208_988_800;
    assert!(secs.abs_diff(now) < 60, "time {secs} vs {now}");
    assert!(
        sink.wait_for_msg(READY, "START: hello pid=").is_some(),
        "{:?}",
        sink.lines()
    );
    assert!(
        sink.wait_for_msg(READY, "START: daytime-stream pid=0 from=192.168.0.50")
            .is_some(),
        "{:?}",
        sink.lines()
    );
    assert!(
        sink.wait_for_msg(READY, "EXIT: echo-stream status=0")
            .is_some(),
        "{:?}",
        sink.lines()
    );
}

/// The inode of the TCP socket listening on `port` in `ns` (from its /proc/net/tcp).
fn listen_inode(ns: &Netns, port: u16) -> Option<String> {
    let text = ns.run("cat", &["/proc/net/tcp"]).ok()?;
    text.lines().skip(1).find_map(|l| {
        let c: Vec<&str> = l.split_whitespace().collect();
        let p = u16::from_str_radix(c.get(1)?.rsplit(':').next()?, 16).ok()?;
        (p == port && *c.get(3)? == "0A").then(|| c.get(9).map(|s| s.to_string()))?
    })
}

/// X-RC-1, X-DEAD: services added, changed, disabled and removed over three
/// reloads while a long-lived connection to an unchanged service keeps
/// working and its listening socket keeps its inode.
#[test]
fn x_rc_reloads_keep_unchanged_services_and_their_connections() {
    require!(
        namespace_blocker().is_none(),
        "{}",
        namespace_blocker().unwrap_or_default()
    );
    let svc = |name: &str, port: u16, extra: &str| {
        format!("service {name}\n{{\n\ttype = UNLISTED\n\tport = {port}\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = /bin/cat\n\tflags = IPv4\n{extra}}}\n")
    };
    let keep = svc("keep", 7301, "");
    let conf0 = format!("{DEFAULTS}{keep}{}", svc("gone", 7302, ""));
    let side = Side::start("ours", &ours_path(), &conf0, &[7301, 7302]);
    let conf_path = side.path("xinetd.conf");
    let write = |text: String| {
        std::fs::write(
            &conf_path,
            text.replace("{DIR}", &side.dir.path().display().to_string()),
        )
        .unwrap()
    };
    let inode = listen_inode(&side.ns, 7301).expect("inode of keep");
    let mut long = connect(&side.ns, LOOP1, 7301).expect("long-lived connection");
    assert_eq!(talk(&mut long, "0\n"), Seen::Served("0".into()));
    let mut held = connect(&side.ns, LOOP1, 7302).expect("connection to gone");
    assert_eq!(talk(&mut held, "g\n"), Seen::Served("g".into()));
    let mut barred = connect(&side.ns, LOOP2, 7302).expect("second connection to gone");
    assert_eq!(talk(&mut barred, "b\n"), Seen::Served("b".into()));
    let reloads = [
        // 1: add `fresh`; change `gone` so that 127.0.0.2 is barred (X-RC-3: its server is killed).
        format!(
            "{DEFAULTS}{keep}{}{}",
            svc("gone", 7302, "\tinstances = 4\n\tno_access = 127.0.0.2\n"),
            svc("fresh", 7303, "")
        ),
        // 2: disable `fresh`, remove `gone` (its running server is killed).
        format!(
            "{DEFAULTS}{keep}{}",
            svc("fresh", 7303, "\tdisable = yes\n")
        ),
        // 3: `fresh` back on another port.
        format!("{DEFAULTS}{keep}{}", svc("fresh", 7304, "")),
    ];
    for (i, text) in reloads.into_iter().enumerate() {
        write(text);
        side.daemon.signal(libc::SIGHUP).unwrap();
        assert!(
            side.wait_prog("Reconfigured:", i + 1),
            "reload {}: {}",
            i + 1,
            side.prog_log()
        );
        assert_eq!(
            talk(&mut long, &format!("{}\n", i + 1)),
            Seen::Served(format!("{}", i + 1)),
            "after reload {}",
            i + 1
        );
        assert_eq!(
            listen_inode(&side.ns, 7301).as_deref(),
            Some(inode.as_str()),
            "keep's socket after reload {}",
            i + 1
        );
        match i {
            0 => {
                assert_eq!(
                    talk(&mut barred, "x\n"),
                    Seen::Closed,
                    "barred server still running"
                );
                assert_eq!(talk(&mut held, "h\n"), Seen::Served("h".into()));
                assert!(wait_tcp_port(&side.ns, 7303, READY));
                assert_eq!(once(&side.ns, LOOP1, 7303, "f\n"), Seen::Served("f".into()));
                assert!(
                    side.prog_log()
                        .contains("Reconfigured: new=1 old=2 dropped=0 (services)"),
                    "{}",
                    side.prog_log()
                );
            }
            1 => {
                assert!(wait_until(READY, || !side
                    .ns
                    .tcp_listen_ports()
                    .contains(&7302)));
                assert!(!side.ns.tcp_listen_ports().contains(&7303));
                assert!(
                    side.wait_svc("signal=9", 1),
                    "the removed service's server was not killed: {}",
                    side.svc_log()
                );
                assert!(
                    side.prog_log().contains("Sending signal 9 to gone server "),
                    "{}",
                    side.prog_log()
                );
                assert_eq!(talk(&mut held, "x\n"), Seen::Closed);
            }
            _ => {
                assert!(wait_tcp_port(&side.ns, 7304, READY));
                assert_eq!(once(&side.ns, LOOP1, 7304, "z\n"), Seen::Served("z".into()));
            }
        }
    }
}

/// What `chkconfig NAME on|off` does to an xinetd service file (reference C-4):
/// every `disable` line dropped, `\tdisable\t= no|yes` inserted after the `{`
/// line, written through a dotted temp file (mode 0644) and renamed, then a reload.
fn chkconfig(dir: &Path, name: &str, on: bool) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("disable") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.starts_with('{') {
            out.push_str(if on {
                "\tdisable\t= no\n"
            } else {
                "\tdisable\t= yes\n"
            });
        }
    }
    let tmp = dir.join(format!("{name}.Xq3Zr1"));
    std::fs::write(&tmp, out).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

/// C-4, X-DEAD: `chkconfig tftp on` then `off`, done as chkconfig does it,
/// turns the tftp service on and off live; `off` kills the lingering in.tftpd.
#[test]
fn c_4_chkconfig_turns_tftp_on_and_off_live() {
    let need = [peers::HPA_TFTPD, peers::CURL];
    require!(
        peers::blocker(&need).is_none(),
        "{}",
        peers::blocker(&need).unwrap_or_default()
    );
    let dir = ScratchDir::new("xchk").unwrap();
    let (srv, cli) = server_and_client();
    let conf = crate::foundation::xinetd_tree(dir.path(), Path::new(peers::HPA_TFTPD), "");
    let xd = dir.path().join("xinetd.d");
    chkconfig(&xd, "tftp", false);
    // A leftover temp file from an interrupted chkconfig run must be ignored (X-SYN-3).
    std::fs::write(xd.join("tftp.AbC123"), "service tftp\n{\n\tbroken\n").unwrap();
    std::fs::write(dir.path().join("tftpboot/pxelinux.0"), b"boot me\n").unwrap();
    let sink = SyslogSink::new().unwrap();
    let x = start_ours(&srv, &sink, &conf, dir.path());
    let prog = || std::fs::read_to_string(dir.path().join("prog.log")).unwrap_or_default();
    assert!(
        wait_until(READY, || prog()
            .contains("Started working: 0 available services")),
        "{}",
        prog()
    );
    assert!(!srv.udp_ports().contains(&69));

    chkconfig(&xd, "tftp", true);
    assert!(std::fs::read_to_string(xd.join("tftp"))
        .unwrap()
        .contains("{\n\tdisable\t= no\n"));
    x.signal(libc::SIGHUP).unwrap();
    assert!(
        wait_udp_port(&srv, 69, READY),
        "tftp not on after chkconfig on: {}",
        prog()
    );
    let out = cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "tftp://192.168.0.1/pxelinux.0"])
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        b"boot me\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sink.wait_for_msg(READY, "START: tftp pid=").is_some());

    chkconfig(&xd, "tftp", false);
    x.signal(libc::SIGHUP).unwrap();
    assert!(
        wait_until(READY, || !srv.udp_ports().contains(&69)),
        "tftp still bound after off: {}",
        prog()
    );
    assert!(
        wait_until(READY, || prog()
            .contains("Sending signal 9 to tftp server ")),
        "{}",
        prog()
    );
    assert!(
        sink.wait_for_msg(READY, "EXIT: tftp signal=9").is_some(),
        "{:?}",
        sink.lines()
    );
    assert!(
        prog().contains("Reconfigured: new=0 old=0 dropped=1 (services)"),
        "{}",
        prog()
    );
}

/// X-CC-1 and the corpus: `--check-config` on every standalone xinetd file of
/// ../shared/corpus starts the same services the real xinetd started there
/// (ignoring services whose server, user or bind address is absent on this host).
#[test]
fn x_cc_check_config_agrees_with_the_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    require!(corpus.join("EXPECTED.tsv").exists(), "no ../shared/corpus");
    let expected = std::fs::read_to_string(corpus.join("EXPECTED.tsv")).unwrap();
    let mut checked = 0;
    for row in expected.lines().filter(|l| l.starts_with("xinetd/")) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, verdict, note) = (cols[0], cols[2], cols.get(5).copied().unwrap_or(""));
        // Main files include /etc/xinetd.d, where the real run had the entry's folder
        // mounted: point a copy at the folder instead.
        let scratch = ScratchDir::new("xcc").unwrap();
        let mut path = corpus.join(file);
        if file.ends_with("/xinetd.conf") {
            let folder = path.parent().unwrap().join("xinetd.d");
            let text = std::fs::read_to_string(&path).unwrap();
            let copy = scratch.path().join("xinetd.conf");
            std::fs::write(
                &copy,
                text.replace("/etc/xinetd.d", &folder.display().to_string()),
            )
            .unwrap();
            path = copy;
        }
        let started: Vec<&str> = note
            .split("started: ")
            .nth(1)
            .and_then(|s| s.split(" (").next())
            .map(|s| {
                if s == "none" {
                    vec![]
                } else {
                    s.split(',').collect()
                }
            })
            .unwrap_or_default();
        let out = std::process::Command::new(ours("xinetd"))
            .args(["--check-config", "-f"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut ours_started: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("service "))
            .filter_map(|l| {
                l.split("(id ")
                    .nth(1)
                    .and_then(|r| r.split(')').next())
                    .map(String::from)
            })
            .collect();
        ours_started.sort();
        let mut want: Vec<String> = started.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(
            ours_started,
            want,
            "{file}\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = out.status.code();
        if verdict == "accepted" {
            assert!(
                status == Some(0),
                "{file}: exit {status:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} corpus rows checked");
}

/// X-ST-4, X-INIT-4, I-2, I-3, X-SIG: started as the init script does, xinetd
/// forks before reading its configuration (so the command exits 0 even with a
/// broken service file), writes the forked pid to the pid file, runs as a
/// process named `xinetd`, logs its start to syslog, and on SIGTERM logs
/// `Exiting...`, removes the pid file and ends.
#[test]
fn x_st_4_forks_before_reading_config_and_stops_on_sigterm() {
    require!(
        namespace_blocker().is_none(),
        "{}",
        namespace_blocker().unwrap_or_default()
    );
    let dir = ScratchDir::new("xst").unwrap();
    let srv = Netns::new("xst").expect("namespace");
    let xd = dir.path().join("xinetd.d");
    std::fs::create_dir_all(&xd).unwrap();
    std::fs::write(
        xd.join("broken"),
        "service broken\n{\n\tsocket_type = stream\n\twait = perhaps\n}\n",
    )
    .unwrap();
    std::fs::write(
        xd.join("echo"),
        "service echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\twait = no\n\tflags = IPv4\n}\n",
    )
    .unwrap();
    let conf = dir.path().join("xinetd.conf");
    std::fs::write(&conf, format!("includedir {}\n", xd.display())).unwrap();
    let pidfile = dir.path().join("xinetd.pid");
    let sink = SyslogSink::new().unwrap();
    let mut starter = Daemon::spawn(
        "xinetd",
        Some(&srv),
        Some(&sink),
        &ours_path(),
        &args(&[
            "-stayalive",
            "-pidfile",
            &pidfile.display().to_string(),
            "-f",
            &conf.display().to_string(),
        ]),
    )
    .unwrap();
    let status = starter
        .wait_exit(READY)
        .expect("the starting command returns");
    assert!(status.success(), "start exit {status:?}");
    assert!(
        sink.wait_for_msg(READY, "Started working: 1 available service")
            .is_some(),
        "{:?}",
        sink.lines()
    );
    let bad = sink
        .wait_for_msg(READY, "Bad value for wait: perhaps [file=")
        .expect("config error in syslog");
    assert_eq!(bad.ident, "xinetd");
    assert_eq!(bad.severity, 3, "LOG_ERR");
    let pid = pxesuite::sys::pidfile::read(&pidfile)
        .unwrap()
        .expect("pid in the pid file");
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{pid}\n")
    );
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap()
            .trim(),
        "xinetd"
    );
    assert_eq!(
        Some(pid),
        sink.records()
            .iter()
            .find(|r| r.msg.starts_with("Started working"))
            .and_then(|r| r.pid)
    );
    assert!(wait_tcp_port(&srv, 7, READY));
    assert_eq!(once(&srv, LOOP1, 7, "hi\n"), Seen::Served("hi".into()));
    pxesuite::sys::signals::kill(pid, libc::SIGTERM).unwrap();
    assert!(
        sink.wait_for_msg(READY, "Exiting...").is_some(),
        "{:?}",
        sink.lines()
    );
    assert!(
        wait_until(READY, || !pxesuite::sys::pidfile::is_alive(pid)),
        "still running after SIGTERM"
    );
    assert!(!pidfile.exists(), "pid file left behind");
}

/// X-CLI-1 and -version: the original's usage line and exit status, unknown
/// dashed words ignored, the version on stderr.
#[test]
fn x_cli_1_usage_and_version() {
    let out = std::process::Command::new(ours("xinetd"))
        .arg("stray")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("Usage: xinetd [-d] [-f config_file] [-filelog filename]"));
    let out = std::process::Command::new(ours("xinetd"))
        .args(["-bogus", "-version"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "xinetd Version 2.3.14 libwrap loadavg\n"
    );
}

/// Connections per second that `clients` concurrent loops get from a stream
/// service whose server is /bin/true (connect, read to EOF, repeat).
fn spawn_rate(ns: &Netns, port: u16, clients: usize, secs: f64) -> f64 {
    let path = format!("/var/run/netns/{}", ns.name());
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let file = std::fs::File::open(&path).expect("namespace file");
                nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
                let start = std::time::Instant::now();
                let mut done = 0u64;
                while start.elapsed().as_secs_f64() < secs {
                    if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                        let _ = s.set_read_timeout(Some(READY));
                        let mut b = [0u8; 64];
                        while matches!(s.read(&mut b), Ok(n) if n > 0) {}
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    total as f64 / secs
}

/// First-byte latencies (ms) of `n` sequential TFTP reads through a super-server
/// whose in.tftpd exits after each request (`-t 0`), so every request starts a server.
fn tftp_first_byte(ns: &Netns, n: usize) -> Vec<f64> {
    in_ns(ns, move || {
        let mut out = Vec::new();
        for _ in 0..n {
            let u = UdpSocket::bind("127.0.0.1:0").unwrap();
            u.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let t = std::time::Instant::now();
            u.send_to(b"\x00\x01small\x00octet\x00", "127.0.0.1:69")
                .unwrap();
            let mut b = [0u8; 600];
            // The client's own retransmission after 1 s, as tftp clients do.
            let mut got = u.recv_from(&mut b);
            if got.is_err() {
                u.send_to(b"\x00\x01small\x00octet\x00", "127.0.0.1:69")
                    .unwrap();
                got = u.recv_from(&mut b);
            }
            if let Ok((len, from)) = got {
                out.push(t.elapsed().as_secs_f64() * 1000.0);
                if len >= 4 {
                    let _ = u.send_to(&[0, 4, b[2], b[3]], from);
                }
            } else {
                out.push(f64::INFINITY);
            }
        }
        out
    })
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s.get(i).copied().unwrap_or(f64::NAN)
}

/// The benchmark behind tests/bench/xinetd.sh (not a test: run with --ignored):
/// ours against the real xinetd in one run.
#[test]
#[ignore]
fn bench_xinetd_spawn_rate_and_tftp_latency() {
    require!(
        peers::blocker(&[peers::XINETD, peers::HPA_TFTPD]).is_none(),
        "{}",
        peers::blocker(&[peers::XINETD, peers::HPA_TFTPD]).unwrap_or_default()
    );
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let requests: usize = std::env::var("BENCH_TFTP_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let root = ScratchDir::new("xbench").unwrap();
    std::fs::write(root.path().join("small"), b"a small file\n").unwrap();
    std::fs::set_permissions(
        root.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let conf = format!(
        "defaults\n{{\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n}}\nservice spawn\n{{\n\ttype = UNLISTED\n\tport = 7400\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = /bin/true\n\tcps = 1000000 1\n\tflags = IPv4\n}}\nservice tftp\n{{\n\tsocket_type = dgram\n\tprotocol = udp\n\twait = yes\n\tuser = root\n\tserver = {}\n\tserver_args = -t 0 -s {}\n\tcps = 1000000 1\n\tflags = IPv4\n}}\n",
        peers::HPA_TFTPD,
        root.path().display()
    );
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "# xinetd benchmark: ours = pxesuite xinetd, theirs = {}",
        peers::XINETD
    );
    println!("# spawn rate: {rounds} interleaved rounds of {secs} s each, server /bin/true");
    let sides: Vec<(&str, Side)> = [("theirs", peers::XINETD.to_string()), ("ours", ours_path())]
        .into_iter()
        .map(|(label, program)| {
            let side = Side::start(label, &program, &conf, &[7400]);
            assert!(wait_udp_port(&side.ns, 69, READY));
            (label, side)
        })
        .collect();
    for clients in [1, 8] {
        let mut all: Vec<(&str, Vec<f64>)> = sides.iter().map(|(l, _)| (*l, Vec::new())).collect();
        for round in 0..rounds {
            for (i, (label, side)) in sides.iter().enumerate() {
                let rate = spawn_rate(&side.ns, 7400, clients, secs);
                println!("{label}\tspawn_rate\tclients={clients}\tround={round}\t{rate:.0} conn/s");
                all[i].1.push(rate);
            }
        }
        for (label, rates) in &all {
            println!(
                "{label}\tspawn_rate\tclients={clients}\tmedian\t{:.0} conn/s",
                percentile(rates, 0.5)
            );
        }
    }
    for (label, side) in &sides {
        let lat = tftp_first_byte(&side.ns, requests);
        let slow = lat.iter().filter(|&&ms| ms > 500.0).count();
        println!(
            "{label}\ttftp_first_byte\trequests={requests}\tp50={:.2} ms\tp99={:.2} ms\tmax={:.2} ms\tover_500ms={slow}",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            percentile(&lat, 1.0)
        );
    }
}

/// X-SIG, X-RC-2: SIGUSR1 appends a state dump to /var/run/xinetd.dump (a
/// private /var/run here), a reload whose main file is gone keeps the old
/// services ("reconfiguration failed"), SIGINT is logged and ignored, and
/// SIGQUIT ends xinetd at once.
#[test]
fn x_sig_dump_failed_reload_and_quit() {
    require!(
        namespace_blocker().is_none(),
        "{}",
        namespace_blocker().unwrap_or_default()
    );
    let ns = Netns::new("xsig").expect("namespace");
    let dir = ScratchDir::new("xsig").unwrap();
    let conf = dir.path().join("xinetd.conf");
    std::fs::write(
        &conf,
        "service echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\twait = no\n\tflags = IPv4\n}\n",
    )
    .unwrap();
    let log = dir.path().join("prog.log");
    let mut cmd = ns.cmd("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs pxesuite-run /run && { [ -L /var/run ] || mount -t tmpfs pxesuite-vrun /var/run; } && exec \"$@\"",
        "sh",
    ]);
    cmd.arg(ours_path())
        .args(["-dontfork", "-filelog"])
        .arg(&log)
        .arg("-f")
        .arg(&conf);
    let mut x = Daemon::spawn_command("ours", &mut cmd).unwrap();
    let prog = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(wait_tcp_port(&ns, 7, READY), "{}", prog());
    x.signal(libc::SIGUSR1).unwrap();
    assert!(
        wait_until(READY, || prog()
            .contains("generated state dump in file /var/run/xinetd.dump")),
        "{}",
        prog()
    );
    // Through /proc/PID/root an absolute symlink (/var/run -> /run) would lead back to our own /run.
    let var_run = if Path::new("/var/run").is_symlink() {
        "run"
    } else {
        "var/run"
    };
    let dump =
        std::fs::read_to_string(format!("/proc/{}/root/{var_run}/xinetd.dump", x.pid())).unwrap();
    assert!(
        dump.starts_with("INTERNAL STATE DUMP: xinetd Version 2.3.14\n"),
        "{dump}"
    );
    assert!(
        dump.contains("Service = echo\n") && dump.ends_with("END OF DUMP\n\n"),
        "{dump}"
    );
    x.signal(libc::SIGINT).unwrap();
    assert!(
        wait_until(READY, || prog().contains("Unexpected signal 2 (Interrupt)")),
        "{}",
        prog()
    );
    std::fs::remove_file(&conf).unwrap();
    x.signal(libc::SIGHUP).unwrap();
    assert!(
        wait_until(READY, || prog().contains("reconfiguration failed")),
        "{}",
        prog()
    );
    assert!(prog().contains(&format!(
        "open( {} ) failed: No such file or directory (errno = 2)",
        conf.display()
    )));
    assert_eq!(once(&ns, LOOP1, 7, "still\n"), Seen::Served("still".into()));
    x.signal(libc::SIGQUIT).unwrap();
    let status = x.wait_exit(READY).expect("xinetd ends on SIGQUIT");
    assert_eq!(status.code(), Some(0));
    assert!(prog().contains("Exiting..."));
}

/// X-CC-1, X-F-2, X-F-3: `--check-config` on the reference deployment's tree
/// prints tftp's effective attributes (defaults merged) and what it listens on, exit 0.
#[test]
fn x_cc_check_config_on_the_reference_tree() {
    let dir = ScratchDir::new("xccref").unwrap();
    let conf = crate::foundation::xinetd_tree(dir.path(), Path::new("/bin/true"), "");
    let out = std::process::Command::new(ours("xinetd"))
        .arg("--check-config")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "\tlistens on      0.0.0.0:69/udp\n",
        "\tper_source      11\n",
        "\tcps             100 2\n",
        "\tinstances       50\n",
        "\tumask           002\n",
        "\tlog_type        SYSLOG daemon info\n",
        "\tlog_on_success  PID HOST EXIT DURATION\n",
        "\targv            true -s ",
        "1 available service, 0 not started\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

/// X-SYN-1..5, X-EN-2, X-LOG-1: a tree full of mistakes (missing values,
/// attributes set twice, `+=` where it is not allowed, a glued operator, bad
/// values, unknown attributes, an included directory with a temp file)
/// yields the same program messages, in the same order and with the same
/// `[file=] [line=]`, from ours and from the real xinetd.
#[test]
fn x_syn_config_messages_match_real_xinetd() {
    require!(
        differential_blocker().is_none(),
        "{}",
        differential_blocker().unwrap_or_default()
    );
    let svc = "service empty\n{\n\tdisable\t\t= no\n\tid\t\t=\n\ttype\t\t=\n\twait\t\t=\n\tsocket_type\t=\n\tuser\t\t=\n\tserver\t\t=\n\tport\t\t=\n\tflags\t\t=\n\tonly_from\t=\n\tcps\t\t=\n\tinstances\t=\n\tper_source\t=\n\tumask\t\t=\n\tgroups\t\t= \n}\nservice foo\n{\n\tsocket_type = stream\n\twait = no\n\twait = yes\n\tuser = nobody\n\tserver = /bin/cat\n\tport = 7777\n\ttype = UNLISTED\n\tflags += IPv4\n\tdisable=no\n\tbogus = 1\n}\nservice bar\n{\n\tsocket_type = stream\n\twait = maybe\n\tuser = nobody\n\tserver = /bin/cat\n}\nservice quiet\n{\n\tdisable = yes\n\tserver = /nonexistent\n}\nservice echo\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n\twait = no\n\tlog_on_success += HOST\n\tflags = IPv4\n\tmdns = yes\n}\nservice cat\n{\n\tsocket_type = stream\n\twait = no\n\tuser = nobody\n\tserver = /bin/cat\n\tport = 7108\n\ttype = UNLISTED\n\tcps = 1\n\tflags = IPv4\n}\n";
    let run = |label: &str, program: &str| {
        let side_dir = ScratchDir::new("xsyn").unwrap();
        let d = side_dir.path().join("xinetd.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("svc"), svc).unwrap();
        std::fs::write(d.join("svc.Zq81Ab"), "this is not read\n").unwrap();
        let conf = format!(
            "defaults\n{{\n\tinstances = 5\n\tbogus = 2\n}}\nincludedir {}\n",
            d.display()
        );
        let side = Side::start(label, program, &conf, &[7, 7108]);
        assert!(
            side.wait_prog("Started working:", 1),
            "{label}: {}",
            side.prog_log()
        );
        let dir_text = side_dir.path().display().to_string();
        let lines: Vec<String> = side
            .prog_log()
            .lines()
            .filter_map(|l| {
                l.split_once("]: ")
                    .map(|(_, b)| b.replace(&dir_text, "DIR"))
            })
            .filter(|b| !b.contains("started with libwrap"))
            .collect();
        (lines, side.dir.path().display().to_string())
    };
    let (theirs, their_dir) = run("xinetd", peers::XINETD);
    let (ours, our_dir) = run("ours", &ours_path());
    let theirs: Vec<String> = theirs
        .into_iter()
        .map(|l| l.replace(&their_dir, "SIDE"))
        .collect();
    let ours: Vec<String> = ours
        .into_iter()
        .map(|l| l.replace(&our_dir, "SIDE"))
        .collect();
    assert!(theirs.len() >= 20, "{theirs:#?}");
    assert_eq!(ours, theirs);
}
