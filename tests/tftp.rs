//! in.tftpd against real clients and against tftpd-hpa itself, each test in
//! namespaces it creates: byte-identical files for tftp-hpa's tftp, atftp,
//! curl and busybox; the CentOS xinetd service; a packet-level differential;
//! an attack suite; and a multi-homed server.

use crate::harness::peers;
use crate::harness::*;
use crate::require;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The marker inside the file outside the root that no reply may ever carry.
const SECRET: &[u8] = b"PXESUITE-SECRET-7f3a9c";

/// Two namespaces over a veth: the server with `srv_addrs` (CIDR), the client at 192.168.0.50.
struct Lab {
    srv: Netns,
    cli: Netns,
    sif: String,
    cif: String,
    dir: ScratchDir,
}

impl Lab {
    fn new(srv_addrs: &[&str]) -> Lab {
        let srv = Netns::new("tsrv").expect("server namespace");
        let cli = Netns::new("tcli").expect("client namespace");
        let (sif, cif) = (unique_name("ts"), unique_name("tc"));
        veth(&srv, &sif, srv_addrs[0], &cli, &cif, "192.168.0.50/24").expect("veth");
        for a in &srv_addrs[1..] {
            srv.ip(&["addr", "add", a, "dev", &sif])
                .expect("second address");
        }
        let dir = ScratchDir::new("tftp").expect("scratch");
        // The root must be reachable by nobody once the servers drop privileges.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Lab {
            srv,
            cli,
            sif,
            cif,
            dir,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("tftpboot")
    }

    /// Starts a server in the server namespace with its own syslog sink.
    fn start(&self, program: &Path, args: &[String], sink: &SyslogSink) -> Daemon {
        Daemon::spawn(
            "tftpd",
            Some(&self.srv),
            Some(sink),
            &program.display().to_string(),
            args,
        )
        .expect("spawn")
    }

    /// Ours, standalone in the foreground on `addr`:69 with `-s root`.
    fn ours(&self, addr: &str, extra: &[&str], sink: &SyslogSink) -> Daemon {
        let mut a = args(&["-L", "-a", &format!("{addr}:69")]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(args(&["-s", &self.root().display().to_string()]));
        let d = self.start(&ours("in.tftpd"), &a, sink);
        assert!(
            wait_udp_port(&self.srv, 69, READY),
            "ours did not bind: {:?}",
            sink.lines()
        );
        d
    }

    /// tftpd-hpa 5.2, standalone in the foreground on `addr`:69 with `-s root`.
    fn hpa(&self, addr: &str, extra: &[&str], sink: &SyslogSink) -> Daemon {
        let mut a = args(&["-L", "-a", &format!("{addr}:69")]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(args(&["-s", &self.root().display().to_string()]));
        self.start(Path::new(peers::HPA_TFTPD), &a, sink)
    }

    /// Starts `program args` with private copies of /etc/hosts.allow and
    /// /etc/hosts.deny bind-mounted over the real ones (in the sink's own mount namespace).
    fn start_wrapped(
        &self,
        program: &Path,
        a: &[String],
        sink: &SyslogSink,
        allow: &Path,
        deny: &Path,
    ) -> Daemon {
        let mut full = args(&[
            "-c",
            "mount --bind \"$1\" /etc/hosts.allow && mount --bind \"$2\" /etc/hosts.deny && shift 2 && exec \"$@\"",
            "sh",
            &allow.display().to_string(),
            &deny.display().to_string(),
            &program.display().to_string(),
        ]);
        full.extend(a.iter().cloned());
        Daemon::spawn("tftpd", Some(&self.srv), Some(sink), "/bin/sh", &full).expect("spawn")
    }

    /// Runs `f` on a thread that has joined the client namespace.
    fn in_client<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.cli.name());
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("netns file");
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("client thread")
    }
}

fn write(p: &Path, data: &[u8], mode: u32) {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, data).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Varied bytes: a wrong or missing block anywhere shows.
fn payload(n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// The tree both servers serve: boot files, in-root links, a directory, a
/// private file, escaping links, and the secret one level above the root.
fn populate(lab: &Lab) -> Vec<u8> {
    let root = lab.root();
    let boot = payload(200_000);
    write(&root.join("pxelinux.0"), &boot, 0o644);
    write(
        &root.join("pxelinux.cfg/default"),
        b"default linux\nlabel linux\n  kernel vmlinuz\r\n",
        0o644,
    );
    write(
        &root.join("small.txt"),
        b"line one\nline two\r\nend\n",
        0o644,
    );
    write(&root.join("private"), b"not for the world", 0o600);
    write(&lab.dir.path().join("secret"), SECRET, 0o644);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        root.join("pxelinux.cfg"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    symlink("default", root.join("pxelinux.cfg/01-52-54-00-12-34-56")).unwrap();
    symlink("pxelinux.0", root.join("inlink")).unwrap();
    symlink("../secret", root.join("escape")).unwrap();
    symlink(lab.dir.path().join("secret"), root.join("escape-abs")).unwrap();
    symlink("..", root.join("uplink")).unwrap();
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    boot
}

fn rrq(name: &[u8], mode: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(name);
    v.push(0);
    v.extend_from_slice(mode.as_bytes());
    v.push(0);
    for (k, val) in opts {
        v.extend_from_slice(k.as_bytes());
        v.push(0);
        v.extend_from_slice(val.as_bytes());
        v.push(0);
    }
    v
}

/// What a server answered to one scripted exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    /// Each reply's bytes (an OACK is followed by the DATA answering our ACK 0).
    replies: Vec<Vec<u8>>,
    /// The address every reply came from.
    from: Vec<SocketAddr>,
}

/// Sends `packet` to `server`:69, collects the first reply (and after an OACK
/// the first DATA), then ends the transfer with an ERROR so nothing lingers.
fn exchange(server: Ipv4Addr, packet: &[u8]) -> Answer {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    s.send_to(packet, SocketAddrV4::new(server, 69)).unwrap();
    let mut buf = vec![0u8; 70_000];
    let mut ans = Answer {
        replies: vec![],
        from: vec![],
    };
    if let Ok((n, from)) = s.recv_from(&mut buf) {
        ans.replies.push(buf[..n].to_vec());
        ans.from.push(from);
        if buf[1] == 6 {
            s.send_to(&[0, 4, 0, 0], from).unwrap();
            if let Ok((n, from2)) = s.recv_from(&mut buf) {
                ans.replies.push(buf[..n].to_vec());
                ans.from.push(from2);
            }
        }
        if buf[1] == 3 || buf[1] == 6 {
            let _ = s.send_to(b"\x00\x05\x00\x00done\x00", from);
        }
    }
    ans
}

fn show(a: &Answer) -> String {
    a.replies
        .iter()
        .map(|r| {
            String::from_utf8_lossy(&r[..r.len().min(60)])
                .escape_debug()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn need(list: &[&str]) -> Option<String> {
    peers::blocker(list)
}

/// Real clients get byte-identical files from ours (standalone): tftp-hpa's
/// tftp in octet and netascii, atftp with blksize and windowsize (RFC 7440),
/// curl with --tftp-blksize, busybox tftp with -b; an upload with -c.
#[test]
fn real_clients_get_identical_files() {
    let blocker = need(&[peers::TFTP, peers::ATFTP, peers::CURL, peers::BUSYBOX]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let boot = populate(&lab);
    let incoming = lab.root().join("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    std::fs::set_permissions(&incoming, std::fs::Permissions::from_mode(0o777)).unwrap();
    let sink = SyslogSink::new().unwrap();
    let _d = lab.ours("192.168.0.1", &["-v", "-c"], &sink);
    let out = lab.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let o = |n: &str| out.join(n).display().to_string();
    let run = |prog: &str, a: &[&str]| {
        let r = lab.cli.cmd(prog).args(a).output().unwrap();
        assert!(
            r.status.success(),
            "{prog} {a:?}: {}{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
    };
    run(
        peers::TFTP,
        &[
            "192.168.0.1",
            "-m",
            "octet",
            "-c",
            "get",
            "pxelinux.0",
            &o("hpa"),
        ],
    );
    assert!(
        std::fs::read(o("hpa")).unwrap() == boot,
        "tftp octet differs"
    );
    run(
        peers::TFTP,
        &[
            "192.168.0.1",
            "-m",
            "netascii",
            "-c",
            "get",
            "small.txt",
            &o("hpa.txt"),
        ],
    );
    assert_eq!(
        std::fs::read(o("hpa.txt")).unwrap(),
        std::fs::read(lab.root().join("small.txt")).unwrap()
    );
    for (bs, ws) in [("1468", "16"), ("512", "1"), ("8", "4")] {
        let f = o(&format!("atftp-{bs}-{ws}"));
        run(
            peers::ATFTP,
            &[
                "--option",
                &format!("blksize {bs}"),
                "--option",
                &format!("windowsize {ws}"),
                "-g",
                "-r",
                "pxelinux.0",
                "-l",
                &f,
                "192.168.0.1",
            ],
        );
        assert!(
            std::fs::read(&f).unwrap() == boot,
            "atftp blksize {bs} windowsize {ws} differs"
        );
    }
    run(
        peers::CURL,
        &[
            "-sS",
            "--max-time",
            "30",
            "--tftp-blksize",
            "1468",
            "-o",
            &o("curl"),
            "tftp://192.168.0.1/pxelinux.cfg/01-52-54-00-12-34-56",
        ],
    );
    assert_eq!(
        std::fs::read(o("curl")).unwrap(),
        std::fs::read(lab.root().join("pxelinux.cfg/default")).unwrap()
    );
    run(
        peers::CURL,
        &[
            "-sS",
            "--max-time",
            "30",
            "--tftp-blksize",
            "1468",
            "-o",
            &o("curl.0"),
            "tftp://192.168.0.1/pxelinux.0",
        ],
    );
    assert!(std::fs::read(o("curl.0")).unwrap() == boot, "curl differs");
    run(
        peers::BUSYBOX,
        &[
            "tftp",
            "-b",
            "1468",
            "-g",
            "-r",
            "pxelinux.0",
            "-l",
            &o("bb"),
            "192.168.0.1",
        ],
    );
    assert!(std::fs::read(o("bb")).unwrap() == boot, "busybox differs");
    // Upload with -c into a world-writable directory.
    let up = payload(70_000);
    write(&out.join("up"), &up, 0o644);
    run(
        peers::TFTP,
        &[
            "192.168.0.1",
            "-m",
            "octet",
            "-c",
            "put",
            &o("up"),
            "incoming/up.bin",
        ],
    );
    assert!(
        std::fs::read(incoming.join("up.bin")).unwrap() == up,
        "upload differs"
    );
    // T-LOG-1 at -v: one notice per request, with tftp-hpa's words.
    let rec = sink.wait_for(READY, |r| {
        r.ident == "in.tftpd" && r.msg == "RRQ from 192.168.0.50 filename pxelinux.0"
    });
    assert!(rec.is_some(), "{:?}", sink.lines());
    assert!(rec
        .map(|r| r.pid.is_some() && r.facility == 3)
        .unwrap_or(false));
    assert!(sink
        .wait_for_msg(READY, "WRQ from 192.168.0.50 filename incoming/up.bin")
        .is_some());
}

/// T-RUN-1, T-INETD-2: under the real xinetd with the CentOS service file
/// (plus `-t 1`), clients are served and the server exits after lingering.
#[test]
fn t_inetd_2_served_under_real_xinetd_and_exits_after_linger() {
    let blocker = need(&[peers::XINETD, peers::CURL, peers::TFTP]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let conf = crate::foundation::xinetd_tree(lab.dir.path(), &ours("in.tftpd"), "-t 1 -v ");
    let boot = populate(&lab);
    let sink = SyslogSink::new().unwrap();
    let _x = Daemon::spawn(
        "xinetd",
        Some(&lab.srv),
        Some(&sink),
        peers::XINETD,
        &args(&[
            "-dontfork",
            "-f",
            &conf.display().to_string(),
            "-pidfile",
            &lab.dir.path().join("x.pid").display().to_string(),
        ]),
    )
    .unwrap();
    assert!(
        wait_udp_port(&lab.srv, 69, READY),
        "xinetd did not bind: {:?}",
        sink.lines()
    );
    let got = lab.dir.path().join("got");
    let r = lab
        .cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(&got)
        .arg("tftp://192.168.0.1/pxelinux.0")
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(std::fs::read(&got).unwrap() == boot);
    let r = lab
        .cli
        .cmd(peers::TFTP)
        .args(["192.168.0.1", "-m", "netascii", "-c", "get", "small.txt"])
        .arg(lab.dir.path().join("got.txt"))
        .output()
        .unwrap();
    assert!(r.status.success());
    assert!(
        sink.wait_for(READY, |r| r.ident == "in.tftpd"
            && r.msg.starts_with("RRQ from 192.168.0.50"))
            .is_some(),
        "{:?}",
        sink.lines()
    );
    // With -t 1 the server exits once idle; xinetd logs its EXIT.
    let exit = sink.wait_for(Duration::from_secs(30), |r| {
        r.ident == "xinetd" && r.msg.starts_with("EXIT: tftp")
    });
    assert!(exit.is_some(), "no EXIT: {:?}", sink.lines());
    assert!(exit.map(|r| r.msg.contains("status=0")).unwrap_or(false));
}

/// The differential: the same scripted requests to tftpd-hpa and to ours get
/// the same replies (OACK contents, error codes and texts, first DATA).
/// Deliberate difference: ours grants `windowsize` (RFC 7440), tftpd-hpa ignores it.
#[test]
fn differential_against_tftpd_hpa() {
    let blocker = need(&[peers::HPA_TFTPD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.ours("192.168.0.1", &[], &s1);
    let _h = lab.hpa("192.168.0.2", &[], &s2);
    assert!(wait_until(READY, || lab
        .srv
        .udp_ports()
        .iter()
        .filter(|&&p| p == 69)
        .count()
        == 2));
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "blksize 8",
            rrq(b"pxelinux.0", "octet", &[("blksize", "8")]),
        ),
        (
            "blksize 1468",
            rrq(b"pxelinux.0", "octet", &[("blksize", "1468")]),
        ),
        (
            "blksize 65464",
            rrq(b"pxelinux.0", "octet", &[("blksize", "65464")]),
        ),
        (
            "blksize 70000",
            rrq(b"pxelinux.0", "octet", &[("blksize", "70000")]),
        ),
        (
            "blksize 7",
            rrq(b"pxelinux.0", "octet", &[("blksize", "7")]),
        ),
        (
            "tsize octet",
            rrq(b"pxelinux.0", "octet", &[("tsize", "0")]),
        ),
        (
            "tsize netascii",
            rrq(b"small.txt", "netascii", &[("tsize", "0")]),
        ),
        ("netascii data", rrq(b"small.txt", "netascii", &[])),
        (
            "tsize+blksize",
            rrq(
                b"pxelinux.0",
                "octet",
                &[("tsize", "0"), ("blksize", "1432")],
            ),
        ),
        (
            "timeout 0",
            rrq(b"pxelinux.0", "octet", &[("timeout", "0")]),
        ),
        (
            "timeout 3",
            rrq(b"pxelinux.0", "octet", &[("timeout", "3")]),
        ),
        (
            "utimeout",
            rrq(b"pxelinux.0", "octet", &[("utimeout", "50000")]),
        ),
        (
            "rollover",
            rrq(b"pxelinux.0", "octet", &[("rollover", "1")]),
        ),
        (
            "blksize2",
            rrq(b"pxelinux.0", "octet", &[("blksize2", "1000")]),
        ),
        (
            "unknown option",
            rrq(b"pxelinux.0", "octet", &[("foo", "bar")]),
        ),
        (
            "non-numeric value",
            rrq(b"pxelinux.0", "octet", &[("blksize", "abc")]),
        ),
        (
            "mixed case option",
            rrq(b"pxelinux.0", "octet", &[("BlkSize", "600")]),
        ),
        (
            "dangling option",
            b"\x00\x01pxelinux.0\x00octet\x00blksize\x00600\x00tsize\x00".to_vec(),
        ),
        ("mode OCTET", rrq(b"pxelinux.0", "OCTET", &[])),
        ("mode mail", rrq(b"pxelinux.0", "mail", &[])),
        ("missing mode", b"\x00\x01pxelinux.0\x00".to_vec()),
        ("empty request", b"\x00\x01".to_vec()),
        ("opcode 3", b"\x00\x03\x00\x01abc".to_vec()),
        ("opcode 4", b"\x00\x04\x00\x01".to_vec()),
        ("opcode 5", b"\x00\x05\x00\x01x\x00".to_vec()),
        ("opcode 9", b"\x00\x09pxelinux.0\x00octet\x00".to_vec()),
        ("one byte", b"\x01".to_vec()),
        ("truncated ack", b"\x00\x04\x00".to_vec()),
        ("directory", rrq(b"pxelinux.cfg", "octet", &[])),
        (
            "directory tsize",
            rrq(b"pxelinux.cfg", "octet", &[("tsize", "0")]),
        ),
        ("missing file", rrq(b"nope", "octet", &[])),
        ("wrq without -c", b"\x00\x02new\x00octet\x00".to_vec()),
    ];
    // Ours answers windowsize with an OACK; tftpd-hpa ignores the option (checked apart below).
    let window = rrq(b"pxelinux.0", "octet", &[("windowsize", "4")]);
    let mut mismatches = Vec::new();
    for (name, pkt) in cases.drain(..) {
        let p2 = pkt.clone();
        let theirs = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 2), &p2));
        let p1 = pkt.clone();
        let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &p1));
        if mine.replies != theirs.replies {
            mismatches.push(format!(
                "{name}:\n  tftpd-hpa: {}\n  ours:      {}",
                show(&theirs),
                show(&mine)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &window));
    assert_eq!(mine.replies[0], b"\x00\x06windowsize\x004\x00");
}

/// The attack suite (T-ACC-1, T-ACC-4, T-REQ-3): each request goes to
/// tftpd-hpa and to ours; both must send the same bytes, none may carry the
/// secret, and the negative controls must be served by both.
#[test]
fn t_acc_attack_suite_matches_tftpd_hpa_and_never_leaks() {
    let blocker = need(&[peers::HPA_TFTPD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.ours("192.168.0.1", &["-vv"], &s1);
    let _h = lab.hpa("192.168.0.2", &[], &s2);
    assert!(wait_until(READY, || lab
        .srv
        .udp_ports()
        .iter()
        .filter(|&&p| p == 69)
        .count()
        == 2));
    let secret_abs = lab.dir.path().join("secret").display().to_string();
    let long = "a".repeat(300);
    let deep = "d/".repeat(2100);
    let attacks: Vec<(&str, Vec<u8>)> = vec![
        ("traversal", rrq(b"../secret", "octet", &[])),
        ("traversal", rrq(b"../../secret", "octet", &[])),
        ("traversal", rrq(b"pxelinux.cfg/../../secret", "octet", &[])),
        ("traversal", rrq(b"/../secret", "octet", &[])),
        ("traversal", rrq(b"./../secret", "octet", &[])),
        ("traversal", rrq(b"..//secret", "octet", &[])),
        (
            "traversal",
            rrq(b"../../../../../../etc/passwd", "octet", &[]),
        ),
        ("absolute", rrq(b"/etc/passwd", "octet", &[])),
        ("absolute", rrq(b"//etc//passwd", "octet", &[])),
        ("absolute", rrq(secret_abs.as_bytes(), "octet", &[])),
        ("absolute", rrq(b"/proc/self/environ", "octet", &[])),
        ("symlink", rrq(b"escape", "octet", &[])),
        ("symlink", rrq(b"escape-abs", "octet", &[])),
        ("symlink", rrq(b"uplink/secret", "octet", &[])),
        ("symlink", rrq(b"uplink/uplink/secret", "octet", &[])),
        ("symlink", rrq(b"loop1", "octet", &[])),
        ("encoding", rrq(b"%2e%2e/secret", "octet", &[])),
        ("encoding", rrq(b"..%2fsecret", "octet", &[])),
        ("encoding", rrq(b"..\\secret", "octet", &[])),
        ("encoding", rrq(b"\xc0\xae\xc0\xae/secret", "octet", &[])),
        ("encoding", rrq(b"..\xc0\xafsecret", "octet", &[])),
        ("nul", b"\x00\x01pxelinux.0\x00../secret\x00".to_vec()),
        ("nul", b"\x00\x01\x00../secret\x00octet\x00".to_vec()),
        ("nul", b"\x00\x01../secret\x00\x00octet\x00".to_vec()),
        ("length", rrq(long.as_bytes(), "octet", &[])),
        ("length", rrq(deep.as_bytes(), "octet", &[])),
        ("permissions", rrq(b"private", "octet", &[])),
        ("permissions", rrq(b"private", "netascii", &[])),
        ("writes", b"\x00\x02newfile\x00octet\x00".to_vec()),
        ("writes", b"\x00\x02pxelinux.0\x00octet\x00".to_vec()),
        ("writes", b"\x00\x02../secret\x00octet\x00".to_vec()),
        ("writes", b"\x00\x02escape\x00octet\x00".to_vec()),
        ("directory", rrq(b"pxelinux.cfg", "octet", &[])),
        ("directory", rrq(b"uplink", "octet", &[])),
    ];
    assert!(attacks.len() >= 30);
    let controls: Vec<(&str, Vec<u8>)> = vec![
        ("in-root symlink", rrq(b"inlink", "octet", &[])),
        (
            "per-MAC symlink",
            rrq(b"pxelinux.cfg/01-52-54-00-12-34-56", "octet", &[]),
        ),
        (
            "nested directory",
            rrq(b"pxelinux.cfg/default", "octet", &[]),
        ),
        ("absolute inside root", rrq(b"/pxelinux.0", "octet", &[])),
    ];
    let mut problems = Vec::new();
    for (cat, pkt) in attacks.iter().chain(controls.iter()) {
        let (p1, p2) = (pkt.clone(), pkt.clone());
        let theirs = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 2), &p2));
        let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &p1));
        let leak = mine
            .replies
            .iter()
            .chain(theirs.replies.iter())
            .any(|r| r.windows(SECRET.len()).any(|w| w == SECRET));
        let name = String::from_utf8_lossy(&pkt[..pkt.len().min(50)])
            .escape_debug()
            .to_string();
        if leak {
            problems.push(format!("{cat} {name}: SECRET CROSSED THE WIRE"));
        }
        if mine.replies != theirs.replies {
            problems.push(format!(
                "{cat} {name}:\n  tftpd-hpa: {}\n  ours:      {}",
                show(&theirs),
                show(&mine)
            ));
        }
        let is_control = controls.iter().any(|(_, c)| c == pkt);
        let served = mine.replies.first().map(|r| r[1] == 3).unwrap_or(false);
        if is_control != served {
            problems.push(format!(
                "{cat} {name}: served={served}, expected {is_control}: {}",
                show(&mine)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Refusals are logged at -vv as tftp-hpa does (T-LOG-1).
    assert!(
        s1.wait_for_msg(READY, "sending NAK (1, File not found) to 192.168.0.50")
            .is_some(),
        "{:?}",
        s1.lines()
    );
}

/// A multi-homed server: every reply to a client that talked to the second
/// address comes from the second address (T-REQ-1), also with --single-port.
#[test]
fn multi_homed_replies_come_from_the_address_used() {
    let blocker = need(&[]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.9/24"]);
    populate(&lab);
    let _ = &lab.sif;
    for single in [false, true] {
        let sink = SyslogSink::new().unwrap();
        let extra: &[&str] = if single { &["--single-port"] } else { &[] };
        let mut d = lab.ours("0.0.0.0", extra, &sink);
        for addr in [Ipv4Addr::new(192, 168, 0, 9), Ipv4Addr::new(192, 168, 0, 1)] {
            let got = lab.in_client(move || {
                // A whole lock-step transfer: every packet's source is recorded.
                let s = UdpSocket::bind("0.0.0.0:0").unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                s.send_to(
                    &rrq(b"pxelinux.0", "octet", &[("blksize", "1468")]),
                    SocketAddrV4::new(addr, 69),
                )
                .unwrap();
                let mut buf = vec![0u8; 2000];
                let mut froms = Vec::new();
                let mut data = Vec::new();
                loop {
                    let (n, from) = s.recv_from(&mut buf).expect("reply");
                    froms.push(from);
                    match buf[1] {
                        6 => {
                            s.send_to(&[0, 4, 0, 0], from).unwrap();
                        }
                        3 => {
                            data.extend_from_slice(&buf[4..n]);
                            s.send_to(&[0, 4, buf[2], buf[3]], from).unwrap();
                            if n - 4 < 1468 {
                                break;
                            }
                        }
                        _ => panic!("unexpected reply {:?}", &buf[..n]),
                    }
                }
                (froms, data)
            });
            assert!(
                got.0.iter().all(|f| f.ip() == std::net::IpAddr::V4(addr)),
                "single={single}: {:?}",
                got.0
            );
            if single {
                assert!(
                    got.0.iter().all(|f| f.port() == 69),
                    "single-port: {:?}",
                    got.0
                );
            }
            assert_eq!(got.1.len(), 200_000);
        }
        d.kill();
        assert!(wait_until(READY, || !lab.srv.udp_ports().contains(&69)));
    }
}

/// T-CC-1 and T-CLI-1: --check-config validates like a start and exits with the real codes.
#[test]
fn t_cc_1_check_config_exit_codes() {
    let dir = ScratchDir::new("tcc").unwrap();
    let map = dir.path().join("map");
    std::fs::write(&map, "r ^/tftpboot/ \nrz bad\n").unwrap();
    let run = |a: &[&str]| {
        std::process::Command::new(ours("in.tftpd"))
            .args(a)
            .output()
            .unwrap()
    };
    let d = dir.path().display().to_string();
    assert_eq!(run(&["--check-config", "-s", &d]).status.code(), Some(0));
    assert_eq!(run(&["--check-config", "-s"]).status.code(), Some(64));
    assert_eq!(
        run(&["--check-config", "-s", "/nonexistent-pxesuite"])
            .status
            .code(),
        Some(66)
    );
    assert_eq!(
        run(&["--check-config", "-u", "no-such-user-pxesuite", "-s", &d])
            .status
            .code(),
        Some(67)
    );
    let bad = run(&["--check-config", "-m", &map.display().to_string(), "-s", &d]);
    assert_eq!(bad.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("Remap command \"rz\" on line 2 contains invalid char \"z\""));
    assert_eq!(run(&["--check-config", "-T", "5"]).status.code(), Some(64));
    let v = run(&["-V"]);
    assert!(String::from_utf8_lossy(&v.stdout)
        .starts_with("tftp-hpa 5.2, with remap, with tcpwrappers"));
}

/// T-MAP and T-LOG-1: with the same map file and `-v -v -v`, ours and
/// tftpd-hpa send the same replies and log the same lines, in the same order
/// (remap traces, `RRQ from … remapped to …`, `sending NAK …`).
#[test]
fn t_map_and_t_log_match_tftpd_hpa_at_vvv() {
    let blocker = need(&[peers::HPA_TFTPD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    let map = lab.dir.path().join("tftpd.map");
    std::fs::write(
        &map,
        "# CentOS habits: DHCP filenames with the /tftpboot prefix\n\
         r ^/tftpboot/ \n\
         rg \\\\ /\n\
         a \\.\\./ Go away\n\
         ri ^PXELINUX pxelinux   # case-insensitive\n\
         e ^pxelinux\\.0$\n\
         r ^mac-(..)(..)$ pxelinux.cfg/01-\\1-\\2\n\
         rs ^again/ \n\
         r ^ip$ \\i-\\x\n\
         aP .\n",
    )
    .unwrap();
    let m = map.display().to_string();
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.ours("192.168.0.1", &["-v", "-v", "-v", "-m", &m], &s1);
    let _h = lab.hpa("192.168.0.2", &["-v", "-v", "-v", "-m", &m], &s2);
    assert!(wait_until(READY, || lab
        .srv
        .udp_ports()
        .iter()
        .filter(|&&p| p == 69)
        .count()
        == 2));
    let names: Vec<&[u8]> = vec![
        b"/tftpboot/pxelinux.0",
        b"PXELINUX.0",
        b"..//etc",
        b"pxelinux.cfg\\default",
        b"mac-5254",
        b"again/inlink",
        b"ip",
        b"nope",
        b"ctl\x01\x1b[31mred\nfake: line\xff",
    ];
    for (i, n) in names.iter().enumerate() {
        let pkt = rrq(n, "octet", &[]);
        let (p1, p2) = (pkt.clone(), pkt.clone());
        let theirs = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 2), &p2));
        let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &p1));
        assert_eq!(
            mine.replies,
            theirs.replies,
            "request {i} {:?}:\n{}\n{}",
            String::from_utf8_lossy(n),
            show(&theirs),
            show(&mine)
        );
    }
    let wpkt = b"\x00\x02upload.bin\x00octet\x00".to_vec();
    let (w1, w2) = (wpkt.clone(), wpkt.clone());
    let theirs = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 2), &w2));
    let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &w1));
    assert_eq!(
        mine.replies,
        theirs.replies,
        "{}\n{}",
        show(&theirs),
        show(&mine)
    );
    // Both sinks must have every line by now: wait for the last NAK in each.
    for s in [&s1, &s2] {
        assert!(
            s.wait_for_msg(READY, "sending NAK (2, Access denied)")
                .is_some(),
            "{:?}",
            s.lines()
        );
    }
    let lines = |s: &SyslogSink| -> Vec<(u8, String)> {
        s.records()
            .into_iter()
            .filter(|r| r.ident == "in.tftpd")
            .map(|r| (r.severity, r.msg))
            .collect()
    };
    // Deliberate difference: tftpd-hpa logs a name's control bytes raw (a
    // forged line or terminal escape in the log); ours writes them as octal escapes.
    let ctl = |v: Vec<(u8, String)>| -> Vec<(u8, String)> {
        v.into_iter().filter(|(_, m)| !m.contains("ctl")).collect()
    };
    assert_eq!(ctl(lines(&s1)), ctl(lines(&s2)));
    let mine = lines(&s1);
    assert!(
        mine.iter()
            .any(|(_, m)| m
                == "RRQ from 192.168.0.50 filename ctl\\001\\033[31mred\\012fake: line\\377"),
        "{mine:?}"
    );
    assert!(mine
        .iter()
        .all(|(_, m)| !m.trim_end_matches('\n').chars().any(|c| c.is_control())));
}

/// hosts.allow/deny (T-REQ-1): a denied client gets no reply at all from
/// either server and is logged as refused; an allowed one, and one that
/// hosts.allow lets in despite hosts.deny, are served by both.
#[test]
fn t_req_1_hosts_deny_refuses_like_tftpd_hpa() {
    let blocker = need(&[peers::HPA_TFTPD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    for a in ["192.168.0.51/24", "192.168.0.52/24"] {
        lab.cli.ip(&["addr", "add", a, "dev", &lab.cif]).unwrap();
    }
    let allow = lab.dir.path().join("hosts.allow");
    let deny = lab.dir.path().join("hosts.deny");
    std::fs::write(&allow, "# local exceptions\nin.tftpd: 192.168.0.52\n").unwrap();
    std::fs::write(
        &deny,
        "in.tftpd: 192.168.0.50, 10.0.0.0/255.0.0.0\nALL: 192.168.0.52\n",
    )
    .unwrap();
    let root = lab.root().display().to_string();
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.start_wrapped(
        &ours("in.tftpd"),
        &args(&["-L", "-a", "192.168.0.1:69", "-s", &root]),
        &s1,
        &allow,
        &deny,
    );
    let _h = lab.start_wrapped(
        Path::new(peers::HPA_TFTPD),
        &args(&["-L", "-a", "192.168.0.2:69", "-s", &root]),
        &s2,
        &allow,
        &deny,
    );
    assert!(
        wait_until(READY, || lab
            .srv
            .udp_ports()
            .iter()
            .filter(|&&p| p == 69)
            .count()
            == 2),
        "{:?} {:?}",
        s1.lines(),
        s2.lines()
    );
    for (from, served) in [
        ("192.168.0.50", false),
        ("192.168.0.51", true),
        ("192.168.0.52", true),
    ] {
        for server in [Ipv4Addr::new(192, 168, 0, 1), Ipv4Addr::new(192, 168, 0, 2)] {
            let src: Ipv4Addr = from.parse().unwrap();
            let got = lab.in_client(move || {
                let s = UdpSocket::bind(SocketAddrV4::new(src, 0)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(1500)))
                    .unwrap();
                s.send_to(
                    &rrq(b"pxelinux.0", "octet", &[]),
                    SocketAddrV4::new(server, 69),
                )
                .unwrap();
                let mut buf = [0u8; 600];
                let r = s
                    .recv_from(&mut buf)
                    .ok()
                    .map(|(n, f)| (buf[..n].to_vec(), f));
                if let Some((_, f)) = &r {
                    let _ = s.send_to(b"\x00\x05\x00\x00done\x00", f);
                }
                r
            });
            let was_served = got.as_ref().map(|(b, _)| b[1] == 3).unwrap_or(false);
            assert_eq!(was_served, served, "{from} -> {server}: {got:?}");
            if !served {
                assert!(got.is_none(), "a refused client got a reply: {got:?}");
            }
        }
    }
    // Like libwrap, ours reads the files again when they change: lifting the
    // denial takes effect without a restart, for both servers.
    std::fs::write(&deny, "in.tftpd: 10.0.0.0/255.0.0.0\n").unwrap();
    for server in [Ipv4Addr::new(192, 168, 0, 1), Ipv4Addr::new(192, 168, 0, 2)] {
        let got = lab.in_client(move || {
            let s = UdpSocket::bind("192.168.0.50:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.send_to(
                &rrq(b"pxelinux.0", "octet", &[]),
                SocketAddrV4::new(server, 69),
            )
            .unwrap();
            let mut buf = [0u8; 600];
            let r = s
                .recv_from(&mut buf)
                .ok()
                .map(|(n, f)| (buf[..n].to_vec(), f));
            if let Some((_, f)) = &r {
                let _ = s.send_to(b"\x00\x05\x00\x00done\x00", f);
            }
            r
        });
        assert_eq!(got.map(|(b, _)| b[1]), Some(3), "{server} after the edit");
    }
    // tftpd-hpa 5.2 names its own address in this line (observed: `connection
    // refused from 192.168.0.2`); ours names the refused client, as the reference says.
    let r = s1.wait_for(READY, |r| {
        r.ident == "in.tftpd" && r.msg == "connection refused from 192.168.0.50"
    });
    assert!(
        r.map(|r| r.severity == 4).unwrap_or(false),
        "{:?}",
        s1.lines()
    );
    let r = s2.wait_for(READY, |r| {
        r.ident == "in.tftpd" && r.msg.starts_with("connection refused from ")
    });
    assert!(
        r.map(|r| r.severity == 4).unwrap_or(false),
        "{:?}",
        s2.lines()
    );
}

/// A scripted lock-step client: sends `first` to `server`:69 and then plays
/// `script` step by step against the server's transfer port, returning every
/// packet it received in order.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Acknowledge the block of the last DATA (or 0 after an OACK) `n` times.
    Ack(usize),
    /// Send an ACK for this block number.
    AckBlock(u16),
    /// Send an ERROR (code 0).
    Error,
    /// Receive one packet.
    Recv,
}

fn script(server: Ipv4Addr, first: Vec<u8>, steps: Vec<Step>) -> Vec<Vec<u8>> {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.send_to(&first, SocketAddrV4::new(server, 69)).unwrap();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut tid: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 70_000];
    for st in steps {
        match st {
            Step::Recv => match s.recv_from(&mut buf) {
                Ok((n, from)) => {
                    tid.get_or_insert(from);
                    got.push(buf[..n].to_vec());
                }
                Err(_) => got.push(b"TIMEOUT".to_vec()),
            },
            Step::Ack(times) => {
                let last = got.last().cloned().unwrap_or_default();
                let block = if last.get(1) == Some(&3) {
                    [last[2], last[3]]
                } else {
                    [0, 0]
                };
                for _ in 0..times {
                    s.send_to(&[0, 4, block[0], block[1]], tid.unwrap())
                        .unwrap();
                }
            }
            Step::AckBlock(b) => {
                let b = b.to_be_bytes();
                s.send_to(&[0, 4, b[0], b[1]], tid.unwrap()).unwrap();
            }
            Step::Error => {
                s.send_to(b"\x00\x05\x00\x00stop\x00", tid.unwrap())
                    .unwrap();
            }
        }
    }
    got
}

/// T-XFER-3, T-OPT-4, T-XFER-1 against tftpd-hpa: a duplicate ACK is never
/// answered with a duplicate DATA; an ACK of the wrong block after an OACK
/// gets the OACK again; an ERROR after the OACK ends the transfer with
/// tftp-hpa's warning; block numbers wrap past 65535; and uploads with `-c`
/// (octet, netascii, OACK for blksize and tsize) give the same files and modes.
#[test]
fn t_xfer_mechanics_and_writes_match_tftpd_hpa() {
    let blocker = need(&[peers::HPA_TFTPD, peers::TFTP]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    let wrap: Vec<u8> = payload(8 * 65_540 + 3);
    write(&lab.root().join("wrap.bin"), &wrap, 0o644);
    for d in ["in-ours", "in-hpa"] {
        let p = lab.root().join(d);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.ours("192.168.0.1", &["-c"], &s1);
    let _h = lab.hpa("192.168.0.2", &["-c"], &s2);
    assert!(wait_until(READY, || lab
        .srv
        .udp_ports()
        .iter()
        .filter(|&&p| p == 69)
        .count()
        == 2));
    let ours_ip = Ipv4Addr::new(192, 168, 0, 1);
    let hpa_ip = Ipv4Addr::new(192, 168, 0, 2);
    use Step::*;
    let cases: Vec<(&str, Vec<u8>, Vec<Step>)> = vec![
        (
            "duplicate ACK",
            rrq(b"small.txt", "octet", &[("blksize", "8")]),
            vec![
                Recv,
                Ack(1),
                Recv,
                Ack(2),
                Recv,
                Ack(1),
                Recv,
                Ack(1),
                Error,
            ],
        ),
        (
            "wrong ACK after OACK",
            rrq(b"small.txt", "octet", &[("blksize", "8")]),
            vec![Recv, AckBlock(1), Recv, Error],
        ),
        (
            "ERROR after OACK",
            rrq(b"pxelinux.0", "octet", &[("tsize", "0")]),
            vec![Recv, Error],
        ),
        (
            "WRQ OACK",
            b"\x00\x02in-X/opt.bin\x00octet\x00blksize\x001000\x00tsize\x00123\x00".to_vec(),
            vec![Recv, Error],
        ),
    ];
    for (name, first, steps) in cases {
        let (f1, f2, st1, st2) = (
            first.clone(),
            first.replace_dir("in-hpa"),
            steps.clone(),
            steps.clone(),
        );
        let f1 = f1.replace_dir("in-ours");
        let theirs = lab.in_client(move || script(hpa_ip, f2, st2));
        let mine = lab.in_client(move || script(ours_ip, f1, st1));
        if name == "wrong ACK after OACK" {
            // Deliberate difference: tftpd-hpa 5.2 "resends the OACK" from the buffer
            // the client's ACK was read into, so the client gets its own ACK back
            // followed by the OACK's tail (observed). Ours resends the OACK itself.
            assert_eq!(theirs[1][..4], [0, 4, 0, 1], "{theirs:?}");
            assert_eq!(mine, vec![mine[0].clone(), mine[0].clone()], "{name}");
            assert_eq!(mine[0], theirs[0], "{name}");
            continue;
        }
        assert_eq!(mine, theirs, "{name}");
        assert!(!mine.iter().any(|p| p == b"TIMEOUT"), "{name}: {mine:?}");
    }
    for s in [&s1, &s2] {
        let r = s.wait_for(READY, |r| {
            r.ident == "in.tftpd" && r.msg == "tftp: client does not accept options"
        });
        assert!(
            r.map(|r| r.severity == 4).unwrap_or(false),
            "{:?}",
            s.lines()
        );
    }
    // Past block 65535 (T-XFER-1): the whole file arrives and block 65536 is numbered 0.
    let got = lab.in_client(move || {
        let mut steps = vec![Recv];
        for _ in 0..65_541 {
            steps.push(Ack(1));
            steps.push(Recv);
        }
        steps.push(Ack(1));
        script(
            ours_ip,
            rrq(b"wrap.bin", "octet", &[("blksize", "8")]),
            steps,
        )
    });
    assert_eq!(got[0], b"\x00\x06blksize\x008\x00");
    assert_eq!(&got[65_535][..4], &[0, 3, 255, 255]);
    assert_eq!(&got[65_536][..4], &[0, 3, 0, 0]);
    let data: Vec<u8> = got[1..].iter().flat_map(|p| p[4..].to_vec()).collect();
    assert!(
        data == wrap,
        "wrapped transfer differs ({} of {} bytes)",
        data.len(),
        wrap.len()
    );
    // Uploads with tftp-hpa's client, octet and netascii, to each server.
    let text = b"first\nsecond\r\nthird\rlast\n".to_vec();
    write(&lab.dir.path().join("up.txt"), &text, 0o644);
    write(&lab.dir.path().join("up.bin"), &wrap, 0o644);
    for (server, dir) in [("192.168.0.1", "in-ours"), ("192.168.0.2", "in-hpa")] {
        for (mode, file) in [("octet", "up.bin"), ("netascii", "up.txt")] {
            let r = lab
                .cli
                .cmd(peers::TFTP)
                .args([server, "-m", mode, "-c", "put"])
                .arg(lab.dir.path().join(file))
                .arg(format!("{dir}/{file}"))
                .output()
                .unwrap();
            assert!(
                r.status.success(),
                "{server} {mode}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
        }
    }
    for f in ["up.bin", "up.txt", "opt.bin"] {
        let (a, b) = (
            lab.root().join("in-ours").join(f),
            lab.root().join("in-hpa").join(f),
        );
        let (ma, mb) = (
            std::fs::metadata(&a).unwrap(),
            std::fs::metadata(&b).unwrap(),
        );
        assert_eq!(
            ma.permissions().mode() & 0o7777,
            mb.permissions().mode() & 0o7777,
            "{f} mode"
        );
        assert_eq!(
            std::os::unix::fs::MetadataExt::uid(&ma),
            std::os::unix::fs::MetadataExt::uid(&mb),
            "{f} owner"
        );
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "{f} differs"
        );
    }
    assert_eq!(
        std::fs::read(lab.root().join("in-ours/up.txt")).unwrap(),
        text
    );
}

/// Puts a request's `in-X/` directory placeholder in place.
trait ReplaceDir {
    fn replace_dir(self, dir: &str) -> Vec<u8>;
}

impl ReplaceDir for Vec<u8> {
    fn replace_dir(self, dir: &str) -> Vec<u8> {
        match self.windows(5).position(|w| w == b"in-X/") {
            Some(i) => {
                let mut v = self[..i].to_vec();
                v.extend_from_slice(dir.as_bytes());
                v.extend_from_slice(&self[i + 4..]);
                v
            }
            None => self,
        }
    }
}

/// Runs `f` on a thread that has joined `ns`'s network namespace; processes
/// spawned there start in that namespace too.
fn in_netns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{}", ns.name());
    std::thread::spawn(move || {
        let f_ns = std::fs::File::open(&path).expect("netns file");
        nix::sched::setns(f_ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("netns thread")
}

/// T-INETD-1/2 without a super-server: the socket is fd 0 with a request
/// already queued; `-t 0` serves that request, then exits 0 once idle.
#[test]
fn t_inetd_2_serves_the_queued_request_then_exits_with_t_0() {
    let blocker = need(&[]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    populate(&lab);
    let sock = in_netns(&lab.srv, || UdpSocket::bind("192.168.0.1:69").unwrap());
    let client = lab.in_client(|| {
        let c = UdpSocket::bind("0.0.0.0:0").unwrap();
        c.send_to(&rrq(b"small.txt", "octet", &[]), "192.168.0.1:69")
            .unwrap();
        c
    });
    let root = lab.root().display().to_string();
    let mut child = in_netns(&lab.srv, move || {
        std::process::Command::new(ours("in.tftpd"))
            .args(["-t", "0", "-s", &root])
            .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(sock)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    });
    let got = lab.in_client(move || {
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 600];
        let (n, from) = client.recv_from(&mut buf).expect("DATA 1");
        client.send_to(&[0, 4, 0, 1], from).unwrap();
        buf[..n].to_vec()
    });
    assert_eq!(&got[..4], &[0, 3, 0, 1]);
    assert_eq!(
        &got[4..],
        std::fs::read(lab.root().join("small.txt"))
            .unwrap()
            .as_slice()
    );
    let mut status = None;
    assert!(wait_until(READY, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    }));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

/// Standalone `-l` (T-CLI): the starting command exits 0 once the server is up,
/// the pid file names the live server, transfers come from the `-R` range,
/// and the server runs as `nobody` inside its root (T-REQ-1).
#[test]
fn standalone_detaches_writes_pid_file_and_drops_privileges() {
    let blocker = need(&[]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    populate(&lab);
    let pidfile = lab.dir.path().join("in.tftpd.pid");
    let out = lab
        .srv
        .cmd(&ours("in.tftpd").display().to_string())
        .args(["-l", "-a", "192.168.0.1:69", "-R", "40000:40009", "-P"])
        .arg(&pidfile)
        .arg("-s")
        .arg(lab.root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nobody = pxesuite::sys::privilege::lookup_user("nobody")
        .unwrap()
        .unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        field("Uid:").split_whitespace().skip(1).collect::<Vec<_>>(),
        vec![nobody.uid.to_string(); 4]
    );
    assert_eq!(
        field("Gid:").split_whitespace().skip(1).collect::<Vec<_>>(),
        vec![nobody.gid.to_string(); 4]
    );
    assert_eq!(
        field("Groups:").split_whitespace().count(),
        1,
        "{}",
        field("Groups:")
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/root")).unwrap(),
        std::fs::canonicalize(lab.root()).unwrap()
    );
    let a = lab.in_client(|| {
        exchange(
            Ipv4Addr::new(192, 168, 0, 1),
            &rrq(b"small.txt", "octet", &[]),
        )
    });
    assert_eq!(a.replies.first().map(|r| r[1]), Some(3), "{a:?}");
    assert!((40000..=40009).contains(&a.from[0].port()), "{:?}", a.from);
    assert_eq!(
        a.from[0].ip(),
        std::net::IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1))
    );
    let _ = pxesuite::sys::signals::kill(pid, libc::SIGTERM);
}

/// T-INETD-3: a standalone server re-reads its map file on SIGHUP, even
/// though the file lies outside the root it has chrooted into.
#[test]
fn t_inetd_3_standalone_rereads_the_map_file_on_sighup() {
    let blocker = need(&[]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    populate(&lab);
    let map = lab.dir.path().join("tftpd.map");
    write(&map, b"r ^old$ small.txt\n", 0o644);
    let sink = SyslogSink::new().unwrap();
    let d = lab.ours("192.168.0.1", &["-m", &map.display().to_string()], &sink);
    let get = |name: &'static [u8]| {
        lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &rrq(name, "octet", &[])))
            .replies
            .first()
            .map(|r| r[1])
    };
    assert_eq!(get(b"old"), Some(3));
    assert_eq!(get(b"new"), Some(5));
    // Replaced the way editors do: a new file renamed over the old one.
    let tmp = lab.dir.path().join("tftpd.map.new");
    write(&tmp, b"r ^new$ small.txt\n", 0o644);
    std::fs::rename(&tmp, &map).unwrap();
    d.signal(libc::SIGHUP).unwrap();
    assert!(
        wait_until(READY, || get(b"new") == Some(3)),
        "{:?}",
        sink.lines()
    );
    assert_eq!(get(b"old"), Some(5));
}

/// What `chkconfig tftp off` does in the middle of a boot storm (T-INETD):
/// xinetd deactivates the service and SIGKILLs the in.tftpd it started; as
/// with tftp-hpa's forked children, the transfer already running finishes,
/// and requests after that go unanswered.
#[test]
fn t_inetd_chkconfig_off_mid_transfer_lets_it_finish() {
    let blocker = need(&[peers::XINETD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let conf = crate::foundation::xinetd_tree(lab.dir.path(), &ours("in.tftpd"), "");
    let boot = populate(&lab);
    let sink = SyslogSink::new().unwrap();
    let xinetd = Daemon::spawn(
        "xinetd",
        Some(&lab.srv),
        Some(&sink),
        peers::XINETD,
        &args(&[
            "-dontfork",
            "-f",
            &conf.display().to_string(),
            "-pidfile",
            &lab.dir.path().join("x.pid").display().to_string(),
        ]),
    )
    .unwrap();
    assert!(
        wait_udp_port(&lab.srv, 69, READY),
        "xinetd did not bind: {:?}",
        sink.lines()
    );
    let (client, from_client, to_client) = paused_fetch(&lab);
    from_client
        .recv_timeout(Duration::from_secs(30))
        .expect("transfer started");
    let service = lab.dir.path().join("xinetd.d/tftp");
    let text = std::fs::read_to_string(&service).unwrap();
    let off: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("disable") {
                "\tdisable\t\t\t= yes".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&service, off + "\n").unwrap();
    xinetd.signal(libc::SIGHUP).unwrap();
    assert!(
        sink.wait_for_msg(READY, "service tftp deactivated")
            .is_some(),
        "{:?}",
        sink.lines()
    );
    to_client.send(()).unwrap();
    let data = client.join().unwrap();
    assert!(
        data == boot,
        "the running transfer did not finish ({} of {} bytes)",
        data.len(),
        boot.len()
    );
    let after = lab.in_client(|| {
        exchange(
            Ipv4Addr::new(192, 168, 0, 1),
            &rrq(b"pxelinux.0", "octet", &[]),
        )
    });
    assert!(
        after.replies.is_empty(),
        "served after chkconfig off: {after:?}"
    );
}

/// The differential again with `-c -p -U 027 -B 1024 -r tsize` on both
/// servers: capped and refused options, permissive reads and writes, and the
/// umask of created files.
#[test]
fn differential_with_flags_against_tftpd_hpa() {
    let blocker = need(&[peers::HPA_TFTPD]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24", "192.168.0.2/24"]);
    populate(&lab);
    for d in ["in-ours", "in-hpa"] {
        let p = lab.root().join(d);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let flags = ["-c", "-p", "-U", "027", "-B", "1024", "-r", "tsize"];
    let (s1, s2) = (SyslogSink::new().unwrap(), SyslogSink::new().unwrap());
    let _o = lab.ours("192.168.0.1", &flags, &s1);
    let _h = lab.hpa("192.168.0.2", &flags, &s2);
    assert!(wait_until(READY, || lab
        .srv
        .udp_ports()
        .iter()
        .filter(|&&p| p == 69)
        .count()
        == 2));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "blksize over -B",
            rrq(b"pxelinux.0", "octet", &[("blksize", "2000")]),
        ),
        (
            "blksize2 over -B",
            rrq(b"pxelinux.0", "octet", &[("blksize2", "2000")]),
        ),
        (
            "refused tsize",
            rrq(b"pxelinux.0", "octet", &[("tsize", "0")]),
        ),
        (
            "refused tsize, netascii",
            rrq(b"small.txt", "netascii", &[("tsize", "0")]),
        ),
        (
            "refused and invalid",
            rrq(b"pxelinux.0", "octet", &[("tsize", "0"), ("blksize", "7")]),
        ),
        ("private with -p", rrq(b"private", "octet", &[])),
        ("wrq new", b"\x00\x02in-X/new.bin\x00octet\x00".to_vec()),
        (
            "wrq netascii tsize",
            b"\x00\x02in-X/n.txt\x00netascii\x00tsize\x0010\x00".to_vec(),
        ),
        (
            "wrq blksize",
            b"\x00\x02in-X/b.bin\x00octet\x00blksize\x009000\x00".to_vec(),
        ),
        (
            "wrq over a root file",
            b"\x00\x02pxelinux.0\x00octet\x00".to_vec(),
        ),
        ("wrq a directory", b"\x00\x02in-X\x00octet\x00".to_vec()),
        (
            "wrq missing directory",
            b"\x00\x02nodir/x\x00octet\x00".to_vec(),
        ),
    ];
    let mut mismatches = Vec::new();
    for (name, pkt) in cases {
        let (p1, p2) = (
            pkt.clone().replace_dir("in-ours"),
            pkt.replace_dir("in-hpa"),
        );
        let theirs = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 2), &p2));
        let mine = lab.in_client(move || exchange(Ipv4Addr::new(192, 168, 0, 1), &p1));
        if mine.replies != theirs.replies {
            mismatches.push(format!(
                "{name}:\n  tftpd-hpa: {}\n  ours:      {}",
                show(&theirs),
                show(&mine)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    for f in ["new.bin", "n.txt", "b.bin"] {
        let (a, b) = (
            lab.root().join("in-ours").join(f),
            lab.root().join("in-hpa").join(f),
        );
        let (ma, mb) = (
            std::fs::metadata(&a).unwrap(),
            std::fs::metadata(&b).unwrap(),
        );
        assert_eq!(
            ma.permissions().mode() & 0o7777,
            mb.permissions().mode() & 0o7777,
            "{f} mode"
        );
    }
}

/// Starts fetching pxelinux.0 (blksize 1468) from 192.168.0.1 in the client
/// namespace and pauses after block 3 until told to go on; returns the
/// thread (yielding the bytes received), the "paused" signal and the "go on" sender.
fn paused_fetch(
    lab: &Lab,
) -> (
    std::thread::JoinHandle<Vec<u8>>,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let (to_main, from_client) = std::sync::mpsc::channel::<()>();
    let (to_client, from_main) = std::sync::mpsc::channel::<()>();
    let path = format!("/var/run/netns/{}", lab.cli.name());
    let client = std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).unwrap();
        nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.send_to(
            &rrq(b"pxelinux.0", "octet", &[("blksize", "1468")]),
            "192.168.0.1:69",
        )
        .unwrap();
        let mut buf = vec![0u8; 2000];
        let (_, tid) = s.recv_from(&mut buf).expect("OACK");
        s.send_to(&[0, 4, 0, 0], tid).unwrap();
        let mut data = Vec::new();
        let mut expected: u16 = 1;
        let mut paused = false;
        loop {
            let (n, _) = s.recv_from(&mut buf).expect("DATA");
            let block = u16::from_be_bytes([buf[2], buf[3]]);
            if buf[1] != 3 || block != expected {
                continue; // a retransmission while we paused
            }
            data.extend_from_slice(&buf[4..n]);
            if !paused && expected == 3 {
                // The transfer is running: let the test switch the service off first.
                paused = true;
                to_main.send(()).unwrap();
                from_main.recv().unwrap();
            }
            s.send_to(&[0, 4, buf[2], buf[3]], tid).unwrap();
            expected = expected.wrapping_add(1);
            if n - 4 < 1468 {
                break;
            }
        }
        data
    });
    (client, from_client, to_client)
}

/// Standalone: SIGTERM (what `killproc` sends) stops the listener at once,
/// and a transfer already running finishes, as with tftp-hpa's children.
#[test]
fn standalone_sigterm_lets_running_transfers_finish() {
    let blocker = need(&[]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let boot = populate(&lab);
    let sink = SyslogSink::new().unwrap();
    let mut d = lab.ours("192.168.0.1", &[], &sink);
    let (client, from_client, to_client) = paused_fetch(&lab);
    from_client
        .recv_timeout(Duration::from_secs(30))
        .expect("transfer started");
    d.signal(libc::SIGTERM).unwrap();
    assert!(
        d.wait_exit(READY).is_some_and(|s| s.success()),
        "the listener did not exit 0"
    );
    assert!(
        wait_until(READY, || !lab.srv.udp_ports().contains(&69)),
        "port 69 still bound"
    );
    to_client.send(()).unwrap();
    let data = client.join().unwrap();
    assert!(
        data == boot,
        "the running transfer did not finish ({} of {} bytes)",
        data.len(),
        boot.len()
    );
}

/// A vanished client never stalls the others: with 50 transfers whose
/// clients never acknowledge anything (each held by retransmission timers),
/// a real client still gets its file.
#[test]
fn vanished_clients_never_stall_the_others() {
    let blocker = need(&[peers::CURL]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let boot = populate(&lab);
    let sink = SyslogSink::new().unwrap();
    let _d = lab.ours("192.168.0.1", &[], &sink);
    let held = lab.in_client(|| {
        (0..50)
            .map(|_| {
                let s = UdpSocket::bind("0.0.0.0:0").unwrap();
                s.send_to(&rrq(b"pxelinux.0", "octet", &[]), "192.168.0.1:69")
                    .unwrap();
                s
            })
            .collect::<Vec<_>>()
    });
    let got = lab.dir.path().join("got");
    let r = lab
        .cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(&got)
        .arg("tftp://192.168.0.1/pxelinux.0")
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(std::fs::read(&got).unwrap() == boot);
    drop(held);
}

/// Malformed datagrams are dropped or refused and never stop the server:
/// after 3000 random packets (random opcodes, lengths and bytes, to port 69
/// and to a running transfer's port) it still serves a file.
#[test]
fn garbage_never_stops_the_server() {
    let blocker = need(&[peers::CURL]);
    require!(blocker.is_none(), "{}", blocker.unwrap_or_default());
    let lab = Lab::new(&["192.168.0.1/24"]);
    let boot = populate(&lab);
    let sink = SyslogSink::new().unwrap();
    let mut d = lab.ours("192.168.0.1", &["-v", "-v", "-m", "/dev/null"], &sink);
    lab.in_client(|| {
        // A transfer whose port also receives garbage.
        let t = UdpSocket::bind("0.0.0.0:0").unwrap();
        t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        t.send_to(&rrq(b"pxelinux.0", "octet", &[]), "192.168.0.1:69")
            .unwrap();
        let mut buf = [0u8; 600];
        let (_, tid) = t.recv_from(&mut buf).unwrap();
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..3000 {
            let len = (next() % 600) as usize;
            let mut p: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 2 {
                p[0] = 0;
                p[1] = (next() % 8) as u8;
            }
            let dest = if i % 3 == 0 {
                tid
            } else {
                "192.168.0.1:69".parse().unwrap()
            };
            let _ = s.send_to(&p, dest);
        }
    });
    let got = lab.dir.path().join("got");
    let r = lab
        .cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(&got)
        .arg("tftp://192.168.0.1/pxelinux.0")
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(std::fs::read(&got).unwrap() == boot);
    assert!(d.try_status().is_none(), "the server exited");
}
