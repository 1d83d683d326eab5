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
