//! The foundation's proof that the harness works with every kind of peer:
//! a real udhcpc gets a lease from the real ISC dhcpd, and a real curl
//! fetches a file from tftpd-hpa started by the real xinetd, all inside
//! namespaces these tests create.

use crate::harness::peers::{self, parse_env};
use crate::harness::*;
use crate::require;
use std::path::Path;

/// The repository's copy of the reference deployment (`etc/`).
fn etc(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Two namespaces joined by a veth: the server at 192.168.0.1/24, the client without an address.
fn server_and_client() -> (Netns, Netns, String, String) {
    let srv = Netns::new("srv").expect("server namespace");
    let cli = Netns::new("cli").expect("client namespace");
    let (sif, cif) = (unique_name("vs"), unique_name("vc"));
    veth(&srv, &sif, "192.168.0.1/24", &cli, &cif, "").expect("veth");
    (srv, cli, sif, cif)
}

#[test]
fn udhcpc_gets_the_seed_lease_from_isc_dhcpd() {
    require!(
        peers::blocker(&[peers::ISC_DHCPD, peers::UDHCPC]).is_none(),
        "{}",
        peers::blocker(&[peers::ISC_DHCPD, peers::UDHCPC]).unwrap_or_default()
    );
    let dir = ScratchDir::new("fdhcp").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sink = SyslogSink::new().unwrap();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(&conf, etc("dhcpd.conf")).unwrap();
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(&leases, "").unwrap();
    let a = |p: &Path| p.display().to_string();
    let mut dhcpd = Daemon::spawn(
        "isc-dhcpd",
        Some(&srv),
        Some(&sink),
        peers::ISC_DHCPD,
        &[
            "-4".into(),
            "-f".into(),
            "-cf".into(),
            a(&conf),
            "-lf".into(),
            a(&leases),
            "-pf".into(),
            a(&dir.path().join("dhcpd.pid")),
            sif.clone(),
        ],
    )
    .unwrap();
    let ready = sink.wait_for(READY, |r| {
        r.ident == "dhcpd" && r.msg.starts_with("Server starting service")
    });
    assert!(
        ready.is_some(),
        "ISC dhcpd did not start: {:?} {:?} {}",
        dhcpd.try_status(),
        sink.lines(),
        dhcpd.stderr()
    );

    let out = dir.path().join("bound.env");
    let script = peers::udhcpc_script(dir.path(), &out).unwrap();
    let client = cli
        .cmd(peers::UDHCPC)
        .args(["-f", "-q", "-n", "-t", "5", "-T", "3", "-i", &cif, "-s"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "udhcpc failed: {}",
        String::from_utf8_lossy(&client.stderr)
    );
    let env = parse_env(&std::fs::read_to_string(&out).unwrap());
    let ip: std::net::Ipv4Addr = env["ip"].parse().unwrap();
    assert!(
        (128..=220).contains(&ip.octets()[3]) && ip.octets()[..3] == [192, 168, 0],
        "{ip}"
    );
    assert_eq!(env["siaddr"], "192.168.0.1", "next-server");
    assert_eq!(env["boot_file"], "pxelinux.0", "filename");
    assert_eq!(env["router"], "192.168.0.1");
    assert_eq!(env["dns"], "192.168.0.1");
    assert_eq!(env["lease"], "1800");
    assert_eq!(env["subnet"], "255.255.255.0");
    assert_eq!(env["serverid"], "192.168.0.1");
    let ack = format!("DHCPACK on {ip} to ");
    assert!(
        sink.wait_for_msg(READY, &ack).is_some(),
        "no ACK logged: {:?}",
        sink.lines()
    );
    // the lease is on disk before the ACK leaves (ISC fsyncs per ACK)
    assert!(std::fs::read_to_string(&leases)
        .unwrap()
        .contains(&format!("lease {ip} {{")));
}

/// Lays out a tftpboot root and the CentOS xinetd tree pointing at it, with
/// `server` as the TFTP server binary; returns the xinetd.conf path.
pub fn xinetd_tree(dir: &Path, server: &Path, extra_args: &str) -> std::path::PathBuf {
    let root = dir.join("tftpboot");
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    let xd = dir.join("xinetd.d");
    std::fs::create_dir_all(&xd).unwrap();
    let service = etc("xinetd.d/tftp")
        .replace("/usr/sbin/in.tftpd", &server.display().to_string())
        .replace(
            "-s /tftpboot",
            &format!("{extra_args}-s {}", root.display()),
        );
    std::fs::write(xd.join("tftp"), service).unwrap();
    let conf = dir.join("xinetd.conf");
    std::fs::write(
        &conf,
        etc("xinetd.conf").replace("/etc/xinetd.d", &xd.display().to_string()),
    )
    .unwrap();
    conf
}

#[test]
fn curl_fetches_from_tftpd_hpa_started_by_real_xinetd() {
    require!(
        peers::blocker(&[peers::XINETD, peers::HPA_TFTPD, peers::CURL]).is_none(),
        "{}",
        peers::blocker(&[peers::XINETD, peers::HPA_TFTPD, peers::CURL]).unwrap_or_default()
    );
    let dir = ScratchDir::new("fxin").unwrap();
    let (srv, cli, _sif, cif) = server_and_client();
    cli.addr(&cif, "192.168.0.50/24").unwrap();
    let conf = xinetd_tree(dir.path(), Path::new(peers::HPA_TFTPD), "");
    // 200 KiB of varied bytes: many blocks, and a wrong byte anywhere shows.
    let payload: Vec<u8> = (0..204_800u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("tftpboot/pxelinux.0"), &payload).unwrap();
    let sink = SyslogSink::new().unwrap();
    let _xinetd = Daemon::spawn(
        "xinetd",
        Some(&srv),
        Some(&sink),
        peers::XINETD,
        &args(&[
            "-dontfork",
            "-f",
            &conf.display().to_string(),
            "-pidfile",
            &dir.path().join("x.pid").display().to_string(),
        ]),
    )
    .unwrap();
    assert!(
        wait_udp_port(&srv, 69, READY),
        "xinetd did not bind UDP 69: {:?}",
        sink.lines()
    );
    let got = dir.path().join("got");
    let out = cli
        .cmd(peers::CURL)
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(&got)
        .arg("tftp://192.168.0.1/pxelinux.0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&got).unwrap(), payload, "file differs");
    let start = sink.wait_for(READY, |r| {
        r.ident == "xinetd" && r.msg.starts_with("START: tftp")
    });
    assert!(
        start.is_some(),
        "xinetd logged no START: {:?}",
        sink.lines()
    );
    // a missing file is refused with TFTP error 1
    let out = cli
        .cmd(peers::CURL)
        .args([
            "-sS",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "tftp://192.168.0.1/pxelinux.cfg/01-aa",
        ])
        .output()
        .unwrap();
    // curl's exit 68 is CURLE_TFTP_NOTFOUND: the server answered with error 1.
    assert_eq!(
        out.status.code(),
        Some(68),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our binaries exist under their drop-in names and, until their issues land, say so with exit 64.
#[test]
fn binaries_answer_to_their_dropin_names() {
    for name in ["dhcpd", "xinetd", "in.tftpd"] {
        let p = ours(name);
        assert!(p.exists(), "{}", p.display());
        assert_eq!(p.file_name().unwrap().to_str().unwrap(), name);
    }
}

/// I-2, I-3: the starting command returns only once the daemon is up, with its
/// exit status as the verdict; the pid file is `<pid>\n`, mode 0644 even under
/// umask 077; SIGTERM stops the daemon (I-4). The daemon is this test binary
/// re-executed with `PXESUITE_DAEMON_CHILD` set, using `sys::daemon::detach`.
#[test]
fn daemon_detach_reports_readiness_and_writes_the_pid_file_i_2_i_3() {
    if let Ok(pidfile) = std::env::var("PXESUITE_DAEMON_CHILD") {
        daemon_child(Path::new(&pidfile));
    }
    let dir = ScratchDir::new("fdmn").unwrap();
    let pidfile = dir.path().join("d.pid");
    let exe = std::env::current_exe().unwrap();
    let run = |fail: bool| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg("ulimit -S -c 0 >/dev/null 2>&1; umask 077; exec \"$0\" --exact foundation::daemon_detach_reports_readiness_and_writes_the_pid_file_i_2_i_3 --test-threads=1 --nocapture")
            .arg(&exe)
            .env("PXESUITE_DAEMON_CHILD", &pidfile)
            .env("PXESUITE_DAEMON_FAIL", if fail { "1" } else { "" })
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
    };
    // a start-up failure reaches the starting command as the daemon's code
    assert_eq!(run(true).code(), Some(3));
    assert!(!pidfile.exists());
    let st = run(false);
    assert_eq!(st.code(), Some(0));
    // the pid file exists as soon as the starting command has returned
    let text = std::fs::read_to_string(&pidfile).unwrap();
    let pid: u32 = text.trim_end().parse().unwrap();
    assert_eq!(text, format!("{pid}\n"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pidfile).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(pxesuite::sys::pidfile::is_alive(pid));
    pxesuite::sys::signals::kill(pid, libc::SIGTERM).unwrap();
    assert!(
        wait_until(READY, || !pxesuite::sys::pidfile::is_alive(pid)),
        "daemon ignored SIGTERM"
    );
}

fn daemon_child(pidfile: &Path) -> ! {
    let fail = std::env::var("PXESUITE_DAEMON_FAIL")
        .map(|v| v == "1")
        .unwrap_or(false);
    let readiness = match pxesuite::sys::daemon::detach() {
        Ok(r) => r,
        Err(_) => std::process::exit(70),
    };
    if fail {
        readiness.fail(3);
        std::process::exit(3);
    }
    let signals = pxesuite::sys::signals::SignalPipe::new(&[libc::SIGTERM]).unwrap();
    if pxesuite::sys::pidfile::write(pidfile, std::process::id()).is_err() {
        readiness.fail(1);
        std::process::exit(1);
    }
    readiness.ready();
    loop {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&signals),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE);
        if signals.drain().contains(&libc::SIGTERM) {
            std::process::exit(0);
        }
    }
}

/// The privilege helpers drop groups, gid and uid in that order and prove
/// root cannot come back (the order in.tftpd's T-REQ-1 needs). Runs in a
/// re-executed copy of this test binary, since a process cannot undo it.
#[test]
fn privilege_drop_clears_groups_and_proves_root_is_gone() {
    if std::env::var("PXESUITE_DROP_CHILD").is_ok() {
        let code = match pxesuite::sys::privilege::drop_to(65534, 65534, &[]) {
            Err(_) => 2,
            Ok(()) => match pxesuite::sys::privilege::verify_dropped() {
                Err(_) => 3,
                Ok(()) => {
                    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                    let ids_ok = status.lines().any(|l| {
                        l.split_whitespace().collect::<Vec<_>>()
                            == ["Uid:", "65534", "65534", "65534", "65534"]
                    }) && status.lines().any(|l| {
                        l.split_whitespace().collect::<Vec<_>>()
                            == ["Gid:", "65534", "65534", "65534", "65534"]
                    }) && status.lines().any(|l| l.trim_end() == "Groups:");
                    if ids_ok {
                        0
                    } else {
                        4
                    }
                }
            },
        };
        std::process::exit(code);
    }
    require!(pxesuite::sys::is_root(), "needs root to drop privileges");
    let st = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "foundation::privilege_drop_clears_groups_and_proves_root_is_gone",
            "--test-threads=1",
        ])
        .env("PXESUITE_DROP_CHILD", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        st.code(),
        Some(0),
        "0 = dropped; 2 = drop failed; 3 = root regained; 4 = ids or groups wrong"
    );
}

/// A daemon started before any syslog socket exists logs once one appears,
/// with the ident it asked for and no pid (ISC dhcpd 3.0.5's `dhcpd:`, D-ST-2),
/// through `sys::syslog`. The child is this test binary re-executed in a
/// sandbox whose `/dev/log` leads to a sink that is bound only later.
#[test]
fn syslog_works_once_the_socket_appears_d_st_2() {
    if std::env::var("PXESUITE_SYSLOG_CHILD").is_ok() {
        pxesuite::sys::syslog::open("dhcpd", false, libc::LOG_DAEMON);
        pxesuite::sys::syslog::log(pxesuite::sys::syslog::Level::Info, "lost: no socket yet");
        println!("pxesuite-first-logged");
        // wait for the parent's word that the socket exists
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        pxesuite::sys::syslog::log(
            pxesuite::sys::syslog::Level::Info,
            "DHCPDISCOVER from 52:54:00:00:00:01 via eth0",
        );
        std::process::exit(0);
    }
    require!(
        namespace_blocker().is_none(),
        "{}",
        namespace_blocker().unwrap_or_default()
    );
    let mut sink = SyslogSink::unbound().unwrap();
    let exe = std::env::current_exe().unwrap().display().to_string();
    let mut cmd = command(
        None,
        Some(&sink),
        &exe,
        &args(&[
            "--exact",
            "foundation::syslog_works_once_the_socket_appears_d_st_2",
            "--test-threads=1",
            "--nocapture",
        ]),
    );
    let mut child = cmd
        .env("PXESUITE_SYSLOG_CHILD", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The child's stdout shows when it has logged its first message.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    while !first.contains("pxesuite-first-logged") {
        first.clear();
        if std::io::BufRead::read_line(&mut out, &mut first).unwrap() == 0 {
            break;
        }
    }
    sink.bind().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"go\n").unwrap();
    assert!(child.wait().unwrap().success());
    let rec = sink
        .wait_for_msg(READY, "DHCPDISCOVER")
        .expect("the record after the socket appeared");
    assert_eq!(rec.ident, "dhcpd");
    assert_eq!(rec.pid, None, "3.0.5 dhcpd logs without a pid");
    assert_eq!(rec.facility, 3, "daemon facility");
    assert!(sink.lines().iter().all(|l| !l.contains("lost")));
}

/// dnsmasq as a peer: a real dhclient gets a lease with the boot file, and the
/// real tftp-hpa client fetches that file from dnsmasq's TFTP server.
#[test]
fn dhclient_and_tftp_client_against_dnsmasq() {
    let need = [peers::DNSMASQ, peers::DHCLIENT, peers::TFTP];
    require!(
        peers::blocker(&need).is_none(),
        "{}",
        peers::blocker(&need).unwrap_or_default()
    );
    let dir = ScratchDir::new("fdnsm").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let root = dir.path().join("tftpboot");
    std::fs::create_dir_all(&root).unwrap();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
    std::fs::write(root.join("pxelinux.0"), &payload).unwrap();
    let dnsmasq = Daemon::spawn(
        "dnsmasq",
        Some(&srv),
        None,
        peers::DNSMASQ,
        &peers::dnsmasq_args(dir.path(), &sif, &root),
    )
    .unwrap();
    assert!(
        wait_udp_port(&srv, 67, READY) && wait_udp_port(&srv, 69, READY),
        "dnsmasq: {}",
        dnsmasq.stderr()
    );

    let out = dir.path().join("bound.env");
    let script = peers::dhclient_script(dir.path(), &out).unwrap();
    let st = cli
        .cmd(peers::DHCLIENT)
        .arg("-1")
        .arg("-sf")
        .arg(&script)
        .arg("-lf")
        .arg(dir.path().join("dhclient.leases"))
        .arg("-pf")
        .arg(dir.path().join("dhclient.pid"))
        .arg(&cif)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "dhclient: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let env = parse_env(&std::fs::read_to_string(&out).unwrap());
    assert!(env["ip"].starts_with("192.168.0."), "{env:?}");
    assert_eq!(env["filename"], "pxelinux.0");
    assert_eq!(env["next_server"], "192.168.0.1");

    cli.addr(&cif, &format!("{}/24", env["ip"])).unwrap();
    let got = dir.path().join("got");
    let st = cli
        .cmd(peers::TFTP)
        .args(["-m", "binary", "192.168.0.1", "-c", "get", "pxelinux.0"])
        .arg(&got)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "tftp: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(std::fs::read(&got).unwrap(), payload);
}

/// tftpd-hpa standalone as a peer (FIELD-NOTES: `-l -L -s ROOT -a ADDR:69`),
/// fetched by atftp with blksize negotiated.
#[test]
fn atftp_fetches_from_tftpd_hpa_standalone() {
    let need = [peers::HPA_TFTPD, peers::ATFTP];
    require!(
        peers::blocker(&need).is_none(),
        "{}",
        peers::blocker(&need).unwrap_or_default()
    );
    let dir = ScratchDir::new("fatftp").unwrap();
    let (srv, cli, _sif, cif) = server_and_client();
    cli.addr(&cif, "192.168.0.60/24").unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i ^ (i >> 9)) as u8).collect();
    std::fs::write(root.join("vmlinuz"), &payload).unwrap();
    let sink = SyslogSink::new().unwrap();
    let _hpa = Daemon::spawn(
        "tftpd-hpa",
        Some(&srv),
        Some(&sink),
        peers::HPA_TFTPD,
        &args(&[
            "-l",
            "-L",
            "-v",
            "-s",
            &root.display().to_string(),
            "-a",
            "192.168.0.1:69",
        ]),
    )
    .unwrap();
    assert!(
        wait_udp_port(&srv, 69, READY),
        "tftpd-hpa did not bind: {:?}",
        sink.lines()
    );
    let got = dir.path().join("got");
    let st = cli
        .cmd(peers::ATFTP)
        .args(["--option", "blksize 1468", "-g", "-r", "vmlinuz", "-l"])
        .arg(&got)
        .args(["192.168.0.1", "69"])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "atftp: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(std::fs::read(&got).unwrap(), payload);
    let rrq = sink.wait_for_msg(READY, "RRQ from 192.168.0.60 filename vmlinuz");
    assert!(rrq.is_some(), "{:?}", sink.lines());
}
