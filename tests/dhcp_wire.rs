//! The DHCP groundwork against real clients, in namespaces: our packet
//! socket receives a real udhcpc's messages, our codec decodes them, and the
//! OFFER and ACK the test builds with the codec and sends through the packet
//! socket (link-level unicast to `chaddr`, or broadcast when the client sets
//! the broadcast flag) make udhcpc bind with exactly the seed's values. Also:
//! kernel-sent UDP over a veth is accepted thanks to `PACKET_AUXDATA`, and
//! the raw ICMP socket tells a used address from an unused one.

use crate::harness::peers::{self, parse_env};
use crate::harness::*;
use crate::require;
use pxesuite::dhcp::wire::{self, options, MessageType, Packet};
use pxesuite::sys::icmp::IcmpSocket;
use pxesuite::sys::packet::{self, Datagram, PacketSocket, BROADCAST_MAC};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
const OFFERED: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 150);

/// Runs `f` on a thread that has entered `ns`'s network namespace. Sockets
/// made there stay in that namespace wherever they are used later.
fn in_netns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{}", ns.name());
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .unwrap_or_else(|e| panic!("setns {path}: {e}"));
        f()
    })
    .join()
    .expect("namespace thread panicked")
}

/// Two namespaces joined by a veth: the server at 192.168.0.1/24, the client without an address.
fn server_and_client() -> (Netns, Netns, String, String) {
    let srv = Netns::new("wsrv").expect("server namespace");
    let cli = Netns::new("wcli").expect("client namespace");
    let (sif, cif) = (unique_name("ws"), unique_name("wc"));
    veth(&srv, &sif, "192.168.0.1/24", &cli, &cif, "").expect("veth");
    (srv, cli, sif, cif)
}

fn open_packet_socket(srv: &Netns, sif: &str) -> PacketSocket {
    let sif = sif.to_string();
    let sock = in_netns(srv, move || PacketSocket::open(&sif, 67)).expect("packet socket");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    sock
}

fn mac_of(ns: &Netns, ifname: &str) -> [u8; 6] {
    let ifname = ifname.to_string();
    in_netns(ns, move || packet::interface(&ifname))
        .expect("interface")
        .mac
        .expect("a MAC")
}

/// Receives until a datagram satisfies `want`, or `READY` passes. Frames the
/// socket drops are reported, so a checksum problem shows in the failure.
fn recv_until(
    sock: &PacketSocket,
    want: impl Fn(&Datagram, &[u8]) -> bool,
) -> Option<(Datagram, Vec<u8>)> {
    recv_within(sock, READY, want)
}

/// `recv_until` with its own bound.
fn recv_within(
    sock: &PacketSocket,
    bound: Duration,
    want: impl Fn(&Datagram, &[u8]) -> bool,
) -> Option<(Datagram, Vec<u8>)> {
    let deadline = Instant::now() + bound;
    let mut buf = vec![0u8; 4096];
    while Instant::now() < deadline {
        match sock.recv(&mut buf) {
            Ok(Ok(d)) => {
                if want(&d, &buf) {
                    return Some((d, buf));
                }
            }
            Ok(Err(why)) => eprintln!("dropped a frame: {why}"),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("recv: {e}"),
        }
    }
    None
}

/// The next DHCP message of type `t` (and transaction `xid`, if given).
fn recv_dhcp(sock: &PacketSocket, t: MessageType, xid: Option<u32>) -> (Datagram, Packet) {
    let (d, buf) = recv_until(sock, |d, buf| {
        wire::decode(&buf[d.payload.clone()])
            .is_ok_and(|p| p.options.message_type() == Some(t) && xid.is_none_or(|x| x == p.xid))
    })
    .unwrap_or_else(|| panic!("no {t:?} within {READY:?}"));
    let p = wire::decode(&buf[d.payload.clone()]).expect("decoded above");
    (d, p)
}

/// The seed's reply (etc/dhcpd.conf): routers, DNS, broadcast, lease 1800,
/// next-server 192.168.0.1, filename pxelinux.0.
fn seed_reply(req: &Packet, t: MessageType) -> Packet {
    let mut r = Packet::reply_to(req);
    r.yiaddr = OFFERED;
    r.siaddr = SERVER;
    assert!(r.set_file_name(b"pxelinux.0"));
    let o = &mut r.options;
    o.set_message_type(t);
    o.set_ip(options::SERVER_ID, SERVER);
    o.set_u32(options::LEASE_TIME, 1800);
    o.set_ip(options::SUBNET_MASK, Ipv4Addr::new(255, 255, 255, 0));
    o.set_ip(options::ROUTERS, SERVER);
    o.set_ip(options::DOMAIN_NAME_SERVERS, SERVER);
    o.set_ip(options::BROADCAST_ADDRESS, Ipv4Addr::new(192, 168, 0, 255));
    r
}

/// Sends a reply the way ISC dhcpd on Linux does for a client without an
/// address (RFC 2131 §4.1): broadcast when the client asked for it, else
/// link-level unicast to `chaddr` and `yiaddr`.
fn send_reply(sock: &PacketSocket, req: &Packet, reply: &Packet) {
    let mut out = Vec::new();
    let enc = wire::encode_reply_options(
        reply,
        req.options.parameter_request_list(),
        req.options.max_message_size(),
        &mut out,
    );
    assert!(enc.dropped.is_empty(), "{:?}", enc.dropped);
    assert!(out.len() >= wire::MIN_BOOTP_LEN);
    let (mac, ip) = if req.broadcast() {
        (BROADCAST_MAC, Ipv4Addr::BROADCAST)
    } else {
        let mut m = [0u8; 6];
        m.copy_from_slice(&req.chaddr[..6]);
        (m, reply.yiaddr)
    };
    sock.send(
        mac,
        SocketAddrV4::new(SERVER, 67),
        SocketAddrV4::new(ip, 68),
        &out,
    )
    .expect("send reply");
}

/// A full DORA with a real udhcpc; `extra` are more udhcpc flags.
fn udhcpc_binds_through_our_packet_socket(tag: &str, extra: &[&str], broadcast: bool) {
    let dir = ScratchDir::new(tag).unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let client_mac = mac_of(&cli, &cif);

    let out = dir.path().join("bound.env");
    let script = peers::udhcpc_script(dir.path(), &out).unwrap();
    let mut cmd = cli.cmd(peers::UDHCPC);
    cmd.args(["-f", "-q", "-n", "-t", "5", "-T", "3", "-i", &cif])
        .args(extra)
        .arg("-s")
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let client = cmd.spawn().expect("udhcpc");

    let (d, discover) = recv_dhcp(&sock, MessageType::Discover, None);
    assert_eq!(d.src_mac, client_mac, "Ethernet source");
    assert_eq!(d.ip.src, Ipv4Addr::UNSPECIFIED);
    assert_eq!(d.ip.dst, Ipv4Addr::BROADCAST);
    assert_eq!((d.udp.src_port, d.udp.dst_port), (68, 67));
    assert_eq!(discover.op, wire::BOOTREQUEST);
    assert_eq!(discover.hardware_address(), &client_mac[..], "chaddr");
    assert_eq!(discover.broadcast(), broadcast, "broadcast flag");
    let prl = discover
        .options
        .parameter_request_list()
        .expect("a parameter request list")
        .to_vec();
    for code in [1, 3, 6, 28] {
        assert!(
            prl.contains(&code),
            "udhcpc asks for option {code}: {prl:?}"
        );
    }
    let mut cid = vec![1u8];
    cid.extend_from_slice(&client_mac);
    assert_eq!(discover.options.client_id(), Some(&cid[..]), "client id");

    send_reply(&sock, &discover, &seed_reply(&discover, MessageType::Offer));

    let (_, request) = recv_dhcp(&sock, MessageType::Request, Some(discover.xid));
    assert_eq!(request.options.server_id(), Some(SERVER));
    assert_eq!(request.options.requested_address(), Some(OFFERED));
    send_reply(&sock, &request, &seed_reply(&request, MessageType::Ack));

    let done = client.wait_with_output().expect("udhcpc exit");
    assert!(
        done.status.success(),
        "udhcpc failed: {}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    let env = parse_env(&std::fs::read_to_string(&out).expect("udhcpc ran its script"));
    assert_eq!(env["event"], "bound");
    assert_eq!(env["ip"], "192.168.0.150");
    assert_eq!(env["subnet"], "255.255.255.0");
    assert_eq!(env["router"], "192.168.0.1");
    assert_eq!(env["dns"], "192.168.0.1");
    assert_eq!(env["broadcast"], "192.168.0.255");
    assert_eq!(env["lease"], "1800");
    assert_eq!(env["serverid"], "192.168.0.1");
    assert_eq!(env["siaddr"], "192.168.0.1", "next-server");
    assert_eq!(env["boot_file"], "pxelinux.0", "filename");
}

/// udhcpc leaves the broadcast flag clear: replies go by link-level unicast to chaddr.
#[test]
fn udhcpc_binds_with_link_level_unicast_replies() {
    let b = peers::blocker(&[peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    udhcpc_binds_through_our_packet_socket("wuni", &[], false);
}

/// `-B` sets the broadcast flag: replies go to ff:ff:ff:ff:ff:ff and
/// 255.255.255.255. The client also presents itself as a PXE client, and the
/// codec reads those options from the real packet.
#[test]
fn udhcpc_binds_with_broadcast_replies() {
    let b = peers::blocker(&[peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    udhcpc_binds_through_our_packet_socket(
        "wbc",
        &[
            "-B",
            "-V",
            "PXEClient:Arch:00007:UNDI:003016",
            "-x",
            "0x5d:0007",
        ],
        true,
    );
}

/// A PXE-looking DISCOVER from udhcpc decodes with its vendor class and
/// architecture (the options the PXE classes of part 2 match on).
#[test]
fn decodes_pxe_options_from_a_real_client() {
    let b = peers::blocker(&[peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let mut client = cli
        .cmd(peers::UDHCPC)
        .args(["-f", "-q", "-n", "-t", "1", "-T", "1", "-i", &cif])
        .args(["-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007"])
        .args(["-s", "/bin/true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("udhcpc");
    let (_, discover) = recv_dhcp(&sock, MessageType::Discover, None);
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!(
        discover.options.vendor_class(),
        Some(&b"PXEClient:Arch:00007:UNDI:003016"[..])
    );
    assert_eq!(discover.options.client_arch(), Some(vec![7]));
}

/// A datagram the kernel of the client namespace sends over the veth (a
/// unicast renewal from an ordinary UDP socket bound to port 68) reaches
/// the packet socket with its UDP checksum not yet computed. It is accepted
/// intact only because the socket reads `PACKET_AUXDATA`: verified as it
/// stands on the wire, its checksum is wrong.
#[test]
fn kernel_sent_udp_over_a_veth_is_accepted_with_auxdata() {
    let b = namespace_blocker();
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let (srv, cli, sif, cif) = server_and_client();
    cli.addr(&cif, "192.168.0.50/24").unwrap();
    let sock = open_packet_socket(&srv, &sif);
    let client_mac = mac_of(&cli, &cif);

    let mut renew = Packet {
        xid: 0x5eed_0001,
        ciaddr: Ipv4Addr::new(192, 168, 0, 50),
        ..Packet::default()
    };
    renew.chaddr[..6].copy_from_slice(&client_mac);
    renew.options.set_message_type(MessageType::Request);
    renew.options.set(options::HOST_NAME, b"renewer".to_vec());
    let mut bytes = Vec::new();
    wire::encode(&renew, &mut bytes);
    let sent = bytes.clone();
    let client = in_netns(&cli, move || {
        let s = UdpSocket::bind("192.168.0.50:68").expect("bind 68");
        // The filter keeps other ports out: only the second datagram passes.
        s.send_to(&sent, "192.168.0.1:69").expect("send");
        s.send_to(&sent, "192.168.0.1:67").expect("send");
        s
    });

    let (d, buf) =
        recv_until(&sock, |_, _| true).expect("the kernel-sent renewal was not received");
    assert_eq!(
        d.udp.dst_port, 67,
        "the BPF filter let another port through"
    );
    assert_eq!(&buf[d.payload.clone()], &bytes[..], "payload intact");
    assert_eq!(d.ip.src, Ipv4Addr::new(192, 168, 0, 50));
    assert_eq!(d.ip.dst, SERVER);
    assert_eq!(d.src_mac, client_mac);
    assert!(
        d.checksum_not_ready,
        "the kernel marked the frame CSUMNOTREADY"
    );
    let p = wire::decode(&buf[d.payload.clone()]).unwrap();
    assert_eq!(p.xid, 0x5eed_0001);
    assert_eq!(p.options.host_name(), Some(&b"renewer"[..]));
    // Without the aux data the frame would be dropped.
    assert_eq!(
        packet::parse_frame(&buf[..d.payload.end], false),
        Err(packet::FrameError::UdpChecksum)
    );

    // The other way: a frame we build is taken by the client kernel's UDP
    // stack, which verifies both checksums.
    sock.send(
        d.src_mac,
        SocketAddrV4::new(SERVER, 67),
        SocketAddrV4::new(d.ip.src, 68),
        b"reply",
    )
    .expect("send");
    client.set_read_timeout(Some(READY)).unwrap();
    let mut got = [0u8; 16];
    let (n, from) = client
        .recv_from(&mut got)
        .expect("the client kernel took our frame");
    assert_eq!(&got[..n], b"reply");
    assert_eq!(from, std::net::SocketAddr::from((SERVER, 67)));
}

/// Waits for an echo reply that answers (addr, id, seq), up to `wait`.
fn echo_answered(s: &IcmpSocket, addr: Ipv4Addr, id: u16, seq: u16, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        while let Some(r) = s.recv_reply().expect("recv") {
            if r.answers(addr, id, seq) {
                return true;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut fds = [nix::poll::PollFd::new(
            s.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let ms = left.as_millis().min(1000) as u16;
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
    }
}

/// Ping-check's socket (D-P-2, D-P-3): an address in use in another
/// namespace answers the echo; an unused one does not within ISC's default
/// one-second ping timeout.
#[test]
fn ping_check_tells_a_used_address_from_an_unused_one() {
    let b = namespace_blocker();
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let (srv, cli, _sif, cif) = server_and_client();
    cli.addr(&cif, "192.168.0.50/24").unwrap();
    let s = in_netns(&srv, IcmpSocket::open).expect("raw ICMP socket");
    let id = (std::process::id() & 0xffff) as u16;
    let used = Ipv4Addr::new(192, 168, 0, 50);
    let unused = Ipv4Addr::new(192, 168, 0, 77);

    s.send_echo(used, id, 1).unwrap();
    assert!(
        echo_answered(&s, used, id, 1, READY),
        "{used} did not answer"
    );
    s.send_echo(unused, id, 2).unwrap();
    assert!(
        !echo_answered(&s, unused, id, 2, Duration::from_secs(1)),
        "{unused} answered"
    );
    // A reply is matched by its sequence too: the used address answers
    // sequence 3, which does not answer sequence 4.
    s.send_echo(used, id, 3).unwrap();
    assert!(echo_answered(&s, used, id, 3, READY));
    assert!(!echo_answered(&s, used, id, 4, Duration::from_millis(200)));
}

/// The codec against the real ISC dhcpd 4.4 on the seed config: its OFFER
/// and ACK to a udhcpc, captured by our packet socket in the client
/// namespace, decode with the seed's values, re-encode to the very same
/// bytes, and list their options in the order `order_reply_options` gives
/// for udhcpc's parameter request list.
#[test]
fn isc_dhcpd_replies_decode_and_reencode_byte_for_byte() {
    let b = peers::blocker(&[peers::ISC_DHCPD, peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wisc").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let requests = open_packet_socket(&srv, &sif);
    let replies = {
        let cif = cif.clone();
        let s = in_netns(&cli, move || PacketSocket::open(&cif, 68)).expect("packet socket");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s
    };
    let sink = SyslogSink::new().unwrap();
    let conf = dir.path().join("dhcpd.conf");
    let seed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/dhcpd.conf"),
    )
    .unwrap();
    std::fs::write(&conf, seed).unwrap();
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(&leases, "").unwrap();
    let a = |p: &std::path::Path| p.display().to_string();
    let _dhcpd = Daemon::spawn(
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
    assert!(
        sink.wait_for(READY, |r| r.msg.starts_with("Server starting service"))
            .is_some(),
        "ISC dhcpd did not start: {:?}",
        sink.lines()
    );
    let client = cli
        .cmd(peers::UDHCPC)
        .args([
            "-f",
            "-q",
            "-n",
            "-t",
            "5",
            "-T",
            "3",
            "-i",
            &cif,
            "-s",
            "/bin/true",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("udhcpc");

    let (_, discover) = recv_dhcp(&requests, MessageType::Discover, None);
    let prl = discover
        .options
        .parameter_request_list()
        .unwrap_or_default()
        .to_vec();
    for t in [MessageType::Offer, MessageType::Ack] {
        let (d, buf) = recv_until(&replies, |d, buf| {
            d.udp.src_port == 67
                && wire::decode(&buf[d.payload.clone()])
                    .is_ok_and(|p| p.options.message_type() == Some(t) && p.xid == discover.xid)
        })
        .unwrap_or_else(|| panic!("no {t:?} from ISC dhcpd: {:?}", sink.lines()));
        let isc = &buf[d.payload.clone()];
        eprintln!(
            "ISC {t:?}: {} bytes, options {:?}, prl {prl:?}",
            isc.len(),
            wire::decode(isc).map(|p| p.options.codes())
        );
        let p = wire::decode(isc).unwrap();
        assert_eq!(p.siaddr, SERVER, "next-server");
        assert_eq!(p.file_name(), b"pxelinux.0");
        assert_eq!(p.options.server_id(), Some(SERVER));
        assert_eq!(p.options.lease_time(), Some(1800));
        assert_eq!(p.options.ips_of(options::ROUTERS), Some(vec![SERVER]));
        assert!(isc.len() >= wire::MIN_BOOTP_LEN, "{} bytes", isc.len());
        let mut ours = Vec::new();
        wire::encode(&p, &mut ours);
        assert_eq!(ours, isc, "{t:?} re-encoded differs");
        assert_eq!(
            wire::order_reply_options(&p.options, Some(&prl)).codes(),
            p.options.codes(),
            "{t:?}: ISC's option order for PRL {prl:?}"
        );
    }
    let done = client.wait_with_output().expect("udhcpc");
    assert!(done.status.success());
}

/// Option overload with a real client (RFC 2131 §4.1): an ACK whose options
/// do not fit udhcpc's maximum message size carries some of them in `sname`
/// (`file` holds pxelinux.0), and udhcpc reads them from there.
#[test]
fn udhcpc_reads_options_overloaded_into_sname() {
    let b = peers::blocker(&[peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wovl").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let out = dir.path().join("bound.env");
    let script = dir.path().join("udhcpc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = bound ] && {{ echo ip=$ip; echo router=$router; echo hostname=$hostname; echo domain=$domain; echo boot_file=$boot_file; echo broadcast=$broadcast; }} > {o}.tmp && mv {o}.tmp {o}\nexit 0\n",
            o = out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let client = cli
        .cmd(peers::UDHCPC)
        .args(["-f", "-q", "-n", "-t", "5", "-T", "3", "-i", &cif, "-s"])
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("udhcpc");

    // 249 characters in labels of 9, and a 40-character domain: together
    // more than the 307 bytes the options field of a 576-byte message holds.
    let hostname: String = (0..25)
        .map(|i| format!("n{i:08}"))
        .collect::<Vec<_>>()
        .join(".");
    let domain = "overloaded-into-sname.pxe.example.org.uk";
    assert_eq!((hostname.len(), domain.len()), (249, 40));
    let big = |req: &Packet, t: MessageType| {
        let mut r = seed_reply(req, t);
        r.options
            .set(options::HOST_NAME, hostname.as_bytes().to_vec());
        r.options.set(15, domain.as_bytes().to_vec());
        r
    };
    let (_, discover) = recv_dhcp(&sock, MessageType::Discover, None);
    assert!(discover.options.max_message_size().unwrap_or(576) < 1000);
    send_reply(&sock, &discover, &big(&discover, MessageType::Offer));
    let (_, request) = recv_dhcp(&sock, MessageType::Request, Some(discover.xid));
    let ack = big(&request, MessageType::Ack);
    let mut bytes = Vec::new();
    let enc = wire::encode_reply_options(
        &ack,
        request.options.parameter_request_list(),
        request.options.max_message_size(),
        &mut bytes,
    );
    assert_eq!(enc.overload, 2, "sname carries options");
    assert!(bytes.len() <= 548, "{} bytes", bytes.len());
    send_reply(&sock, &request, &ack);

    let done = client.wait_with_output().expect("udhcpc exit");
    assert!(
        done.status.success(),
        "udhcpc failed: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let env = parse_env(&std::fs::read_to_string(&out).expect("udhcpc ran its script"));
    assert_eq!(env["ip"], "192.168.0.150");
    assert_eq!(env["router"], "192.168.0.1");
    assert_eq!(env["hostname"], hostname);
    assert_eq!(env["domain"], domain, "read from sname");
    assert_eq!(env["broadcast"], "192.168.0.255");
    assert_eq!(env["boot_file"], "pxelinux.0");
}

/// The interface facts the server starts from (D-IF-1): index, MAC, flags,
/// MTU, and every IPv4 address with its netmask, an alias counted under its
/// base interface.
#[test]
fn interface_facts_in_a_namespace() {
    let b = namespace_blocker();
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let (srv, _cli, sif, _cif) = server_and_client();
    srv.ip(&[
        "addr",
        "add",
        "10.9.0.1/16",
        "dev",
        &sif,
        "label",
        &format!("{sif}:1"),
    ])
    .unwrap();
    let name = sif.clone();
    let all = in_netns(&srv, packet::interfaces).expect("interfaces");
    let i = all.iter().find(|i| i.name == name).expect("the veth");
    assert!(i.up && i.running && i.broadcast && !i.loopback && !i.point_to_point);
    assert!(i.index > 0);
    assert_eq!(i.mtu, Some(1500));
    assert_eq!(i.mac, Some(mac_of(&srv, &sif)));
    assert_eq!(
        i.addrs,
        vec![
            (SERVER, Ipv4Addr::new(255, 255, 255, 0)),
            (Ipv4Addr::new(10, 9, 0, 1), Ipv4Addr::new(255, 255, 0, 0)),
        ]
    );
    assert!(all
        .iter()
        .any(|i| i.loopback && i.addrs.iter().any(|a| a.0.is_loopback())));
    assert!(
        !all.iter().any(|i| i.name.contains(':')),
        "aliases are merged"
    );
}

/// ISC's own client: a real dhclient binds with the seed's values from the
/// OFFER and ACK the codec builds and the packet socket sends.
#[test]
fn dhclient_binds_through_our_packet_socket() {
    let b = peers::blocker(&[peers::DHCLIENT]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wdhcl").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let client_mac = mac_of(&cli, &cif);
    let out = dir.path().join("bound.env");
    let script = peers::dhclient_script(dir.path(), &out).unwrap();
    let mut cmd = cli.cmd(peers::DHCLIENT);
    cmd.arg("-1")
        .arg("-sf")
        .arg(&script)
        .arg("-lf")
        .arg(dir.path().join("dhclient.leases"))
        .arg("-pf")
        .arg(dir.path().join("dhclient.pid"))
        .arg(&cif);
    // dhclient returns once bound (it goes to the background then); it runs
    // on its own thread while the test serves it.
    let client = std::thread::spawn(move || cmd.output());

    let (_, discover) = recv_dhcp(&sock, MessageType::Discover, None);
    assert_eq!(discover.hardware_address(), &client_mac[..]);
    send_reply(&sock, &discover, &seed_reply(&discover, MessageType::Offer));
    let (_, request) = recv_dhcp(&sock, MessageType::Request, Some(discover.xid));
    assert_eq!(request.options.server_id(), Some(SERVER));
    assert_eq!(request.options.requested_address(), Some(OFFERED));
    send_reply(&sock, &request, &seed_reply(&request, MessageType::Ack));

    let st = client
        .join()
        .expect("dhclient thread")
        .expect("dhclient ran");
    assert!(
        st.status.success(),
        "dhclient: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let env = parse_env(&std::fs::read_to_string(&out).expect("dhclient ran its script"));
    assert_eq!(env["reason"], "BOUND");
    assert_eq!(env["ip"], "192.168.0.150");
    assert_eq!(env["mask"], "255.255.255.0");
    assert_eq!(env["router"], "192.168.0.1");
    assert_eq!(env["filename"], "pxelinux.0");
    assert_eq!(env["next_server"], "192.168.0.1");
    assert_eq!(env["serverid"], "192.168.0.1");
}

const QEMU: &str = "/usr/bin/qemu-system-x86_64";
const IPXE_ROM: &str = "/usr/lib/ipxe/qemu/pxe-e1000.rom";
const IPXE_EFI_ROM: &str = "/usr/lib/ipxe/qemu/efi-e1000.rom";
const OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// A real PXE ROM: QEMU's BIOS iPXE (e1000) on a tap in the server
/// namespace. Its DISCOVER decodes with the PXE options (60, 93, 94, 97, and
/// iPXE's user class 77), it REQUESTs the address our OFFER carried, and
/// after our ACK it asks 192.168.0.1 (siaddr) by TFTP for pxelinux.0 (file).
#[test]
fn ipxe_takes_our_offer_and_ack_and_fetches_the_boot_file() {
    let b = peers::blocker(&[QEMU, IPXE_ROM]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    ipxe_boots_from_our_replies(None, 0, "pxelinux.0");
}

/// The same with UEFI firmware (OVMF and iPXE's EFI driver): the client
/// says architecture 7 (EFI x86-64) and fetches the EFI loader it is given.
#[test]
fn uefi_ipxe_takes_our_offer_and_ack_and_fetches_the_boot_file() {
    let b = peers::blocker(&[QEMU, IPXE_EFI_ROM, OVMF]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    ipxe_boots_from_our_replies(Some(OVMF), 7, "syslinux.efi");
}

/// Boots QEMU (`bios` firmware, else SeaBIOS) into iPXE, answers it with
/// the seed's values and `file`, and checks its DISCOVER says `arch`.
fn ipxe_boots_from_our_replies(bios: Option<&str>, arch: u16, file: &str) {
    let srv = Netns::new("wipxe").expect("namespace");
    let (br, tap) = (unique_name("wbr"), unique_name("wtap"));
    srv.bridge(&br).unwrap();
    srv.addr(&br, "192.168.0.1/24").unwrap();
    srv.tap(&tap, Some(&br)).unwrap();
    let sock = open_packet_socket(&srv, &br);
    let tftp = in_netns(&srv, || UdpSocket::bind("192.168.0.1:69")).expect("bind 69");
    tftp.set_read_timeout(Some(READY)).unwrap();
    let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    let mut qemu = srv
        .cmd(QEMU)
        .args(["-machine", "pc", "-m", "128", "-display", "none"])
        .args(["-serial", "null", "-monitor", "none", "-no-reboot"])
        .args(["-boot", "n", "-accel", "tcg"])
        .args(bios.map(|b| vec!["-bios", b]).unwrap_or_default())
        .arg("-netdev")
        .arg(format!("tap,id=n0,ifname={tap},script=no,downscript=no"))
        .args(["-device", "e1000,netdev=n0,mac=52:54:00:12:34:56"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("qemu");

    // Firmware start-up under TCG takes a while: a generous bound, never
    // needed to pass.
    let boot = Duration::from_secs(120);
    let discover = recv_within(&sock, boot, |d, buf| {
        wire::decode(&buf[d.payload.clone()])
            .is_ok_and(|p| p.options.message_type() == Some(MessageType::Discover))
    });
    let Some((d, buf)) = discover else {
        let _ = qemu.kill();
        let out = qemu.wait_with_output().expect("qemu output");
        panic!(
            "no DISCOVER from iPXE: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let discover = wire::decode(&buf[d.payload]).expect("decoded above");
    assert_eq!(discover.hardware_address(), &mac[..]);
    let o = &discover.options;
    let vendor = format!("PXEClient:Arch:{arch:05}:UNDI:");
    assert!(
        o.vendor_class()
            .is_some_and(|v| v.starts_with(vendor.as_bytes())),
        "{:?}",
        o.vendor_class().map(String::from_utf8_lossy)
    );
    assert_eq!(o.client_arch(), Some(vec![arch]), "client architecture");
    assert!(o.client_ndi().is_some(), "option 94");
    assert!(o.client_uuid().is_some_and(|u| u.0 == 0), "option 97");
    assert_eq!(o.user_class(), Some(&b"iPXE"[..]));
    let prl = o.parameter_request_list().unwrap_or_default();
    assert!(prl.contains(&67) && prl.contains(&66), "{prl:?}");

    let reply = |req: &Packet, t: MessageType| {
        let mut r = seed_reply(req, t);
        assert!(r.set_file_name(file.as_bytes()));
        r
    };
    // Serve as a server does until the TFTP request comes: every DISCOVER
    // gets an OFFER and every REQUEST an ACK, so a reply the slow emulated
    // guest missed is answered again when it retransmits.
    send_reply(&sock, &discover, &reply(&discover, MessageType::Offer));
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    tftp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut request = None;
    let mut rrq = [0u8; 600];
    let deadline = Instant::now() + boot;
    let got = loop {
        match tftp.recv_from(&mut rrq) {
            Ok(got) => break Some(got),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("tftp socket: {e}"),
        }
        if Instant::now() >= deadline {
            break None;
        }
        let mut buf = vec![0u8; 2048];
        let Ok(Ok(d)) = sock.recv(&mut buf) else {
            continue;
        };
        let Ok(p) = wire::decode(&buf[d.payload]) else {
            continue;
        };
        match p.options.message_type() {
            Some(MessageType::Discover) => send_reply(&sock, &p, &reply(&p, MessageType::Offer)),
            Some(MessageType::Request) => {
                send_reply(&sock, &p, &reply(&p, MessageType::Ack));
                request.get_or_insert(p);
            }
            _ => {}
        }
    };
    let _ = qemu.kill();
    let _ = qemu.wait();
    let request = request.expect("no REQUEST from iPXE after our OFFER");
    assert_eq!(request.options.requested_address(), Some(OFFERED));
    assert_eq!(request.options.server_id(), Some(SERVER));
    let (n, from) = got.expect("no TFTP request from iPXE after our ACK");
    assert_eq!(
        from.ip(),
        std::net::IpAddr::V4(OFFERED),
        "iPXE took our address"
    );
    let want = format!("\0\x01{file}\0");
    assert!(
        rrq[..n].starts_with(want.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&rrq[..n])
    );
}

/// The option table's names and codes are ISC's: a real dhclient (whose
/// option table is ISC's own, shared with dhcpd 4.4) is told to `request`
/// every name in our table, and the parameter request list in its DISCOVER
/// carries exactly our codes, in order.
#[test]
fn option_table_agrees_with_isc() {
    let b = peers::blocker(&[peers::DHCLIENT]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wtab").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let names: Vec<&str> = wire::table::STANDARD.iter().map(|d| d.name).collect();
    let codes: Vec<u8> = wire::table::STANDARD.iter().map(|d| d.code).collect();
    let conf = dir.path().join("dhclient.conf");
    std::fs::write(&conf, format!("request {};\n", names.join(", "))).unwrap();
    let mut client = cli
        .cmd(peers::DHCLIENT)
        .args(["-1", "-d", "-cf"])
        .arg(&conf)
        .args(["-sf", "/bin/true", "-lf"])
        .arg(dir.path().join("dhclient.leases"))
        .arg("-pf")
        .arg(dir.path().join("dhclient.pid"))
        .arg(&cif)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dhclient");
    let got = recv_within(&sock, READY, |d, buf| {
        wire::decode(&buf[d.payload.clone()])
            .is_ok_and(|p| p.options.message_type() == Some(MessageType::Discover))
    });
    let _ = client.kill();
    let out = client.wait_with_output().expect("dhclient");
    let (d, buf) = got.unwrap_or_else(|| {
        panic!(
            "no DISCOVER from dhclient: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let p = wire::decode(&buf[d.payload]).unwrap();
    let prl = p.options.parameter_request_list().unwrap_or_default();
    let mismatched: Vec<String> = names
        .iter()
        .zip(&codes)
        .zip(prl)
        .filter(|((_, ours), isc)| ours != isc)
        .map(|((name, ours), isc)| format!("{name}: ours {ours}, ISC {isc}"))
        .collect();
    assert!(mismatched.is_empty(), "{mismatched:#?}");
    assert_eq!(prl, &codes[..]);
}

/// A sample value of `atom` in dhcpd.conf syntax and its wire bytes.
fn sample(atom: wire::table::Atom, i: u8) -> (String, Vec<u8>) {
    use wire::table::Atom::*;
    match atom {
        IpAddress => (format!("10.1.2.{i}"), vec![10, 1, 2, i]),
        Ip6Address => {
            let mut b = vec![0x20, 0x01, 0x0d, 0xb8];
            b.resize(15, 0);
            b.push(i);
            (format!("2001:db8::{i:x}"), b)
        }
        Uint8 => (format!("{i}"), vec![i]),
        Uint16 => ("258".into(), vec![1, 2]),
        Uint32 => ("16909060".into(), vec![1, 2, 3, 4]),
        Int32 => ("-2".into(), vec![0xff, 0xff, 0xff, 0xfe]),
        Boolean => ("true".into(), vec![1]),
        Text | String => ("\"abc\"".into(), b"abc".to_vec()),
        // dhcpd.conf writes a single domain name bare, a list quoted.
        DomainName => ("example.org".into(), b"\x07example\x03org\x00".to_vec()),
        DomainList => ("\"example.org\"".into(), b"\x07example\x03org\x00".to_vec()),
    }
}

/// A sample value of an option type, or None where ISC's syntax is special.
fn sample_value(ty: wire::OptionType) -> Option<(String, Vec<u8>)> {
    use wire::OptionType::*;
    let join = |parts: Vec<(String, Vec<u8>)>, sep: &str| {
        let text: Vec<String> = parts.iter().map(|p| p.0.clone()).collect();
        (
            text.join(sep),
            parts.into_iter().flat_map(|p| p.1).collect(),
        )
    };
    Some(match ty {
        One(a) => sample(a, 1),
        Array(a) => join(vec![sample(a, 1), sample(a, 2)], ", "),
        IpAddressPairs => join(
            vec![
                sample(wire::table::Atom::IpAddress, 1),
                sample(wire::table::Atom::IpAddress, 2),
            ],
            " ",
        ),
        Record(atoms) => join(atoms.iter().map(|&a| sample(a, 1)).collect(), " "),
        RecordThenArray(atoms, each) => {
            let (head, mut bytes) = join(atoms.iter().map(|&a| sample(a, 1)).collect(), " ");
            let (tail, more) = join(vec![sample(each, 1), sample(each, 2)], ", ");
            bytes.extend(more);
            (format!("{head} {tail}"), bytes)
        }
        Encapsulated => return None,
    })
}

/// The option table's types are ISC's: dhclient is told to `send` a sample
/// value of every option (written as dhcpd.conf writes it), and what ISC's
/// parser put on the wire is the value our type says. Options the client
/// protocol itself uses (50–61) and encapsulations are left out.
#[test]
fn option_types_agree_with_isc() {
    let b = peers::blocker(&[peers::DHCLIENT]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wtyp").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let defs: Vec<_> = wire::table::STANDARD
        .iter()
        .filter(|d| !(50..=61).contains(&d.code))
        .filter_map(|d| sample_value(d.ty).map(|v| (d, v)))
        .collect();
    let mut wrong = Vec::new();
    // A few options at a time, so every DISCOVER fits 576 bytes.
    for (round, group) in defs.chunks(20).enumerate() {
        let conf = dir.path().join(format!("dhclient{round}.conf"));
        let text: String = group
            .iter()
            .map(|(d, (v, _))| format!("send {} {};\n", d.name, v))
            .collect();
        std::fs::write(&conf, format!("{text}request subnet-mask;\n")).unwrap();
        let mut client = cli
            .cmd(peers::DHCLIENT)
            .args(["-1", "-d", "-cf"])
            .arg(&conf)
            .args(["-sf", "/bin/true", "-lf"])
            .arg(dir.path().join("dhclient.leases"))
            .arg("-pf")
            .arg(dir.path().join("dhclient.pid"))
            .arg(&cif)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dhclient");
        let got = recv_within(&sock, READY, |d, buf| {
            wire::decode(&buf[d.payload.clone()])
                .is_ok_and(|p| p.options.message_type() == Some(MessageType::Discover))
        });
        let _ = client.kill();
        let out = client.wait_with_output().expect("dhclient");
        let (d, buf) = got.unwrap_or_else(|| {
            panic!(
                "no DISCOVER from dhclient for\n{text}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(".conf line "),
            "ISC refused a sample value: {stderr}"
        );
        let p = wire::decode(&buf[d.payload]).unwrap();
        for (def, (text, bytes)) in group {
            let sent = p.options.get(def.code);
            if sent != Some(&bytes[..]) || !def.ty.valid_length(bytes.len()) {
                wrong.push(format!(
                    "{} {} ({:?}): `{text}` sent as {sent:?}, expected {bytes:?}",
                    def.code, def.name, def.ty
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A real renewal (RFC 2131 §4.4.5): udhcpc, bound and configured, is told
/// to renew (SIGUSR1) and unicasts its REQUEST from the kernel's UDP stack,
/// so it reaches the packet socket with its checksum not ready; it decodes
/// intact, and our unicast ACK (built with its checksums) is accepted by
/// udhcpc's ordinary UDP socket.
#[test]
fn udhcpc_renews_through_our_packet_socket() {
    let b = peers::blocker(&[peers::UDHCPC]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wren").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let client_mac = mac_of(&cli, &cif);
    let out = dir.path().join("event.env");
    let script = dir.path().join("udhcpc.sh");
    // On bound the script configures the address, as a real one does: a
    // renewal leaves from it.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in bound) ip addr add $ip/24 dev $interface ;; esac\ncase \"$1\" in bound|renew) {{ echo event=$1; echo ip=$ip; echo lease=$lease; echo serverid=$serverid; }} > {o}.tmp && mv {o}.tmp {o} ;; esac\nexit 0\n",
            o = out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut client = cli
        .cmd(peers::UDHCPC)
        .args(["-f", "-t", "5", "-T", "3", "-i", &cif, "-s"])
        .arg(&script)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("udhcpc");
    let event = || {
        std::fs::read_to_string(&out)
            .map(|t| parse_env(&t))
            .unwrap_or_default()
    };

    let (_, discover) = recv_dhcp(&sock, MessageType::Discover, None);
    send_reply(&sock, &discover, &seed_reply(&discover, MessageType::Offer));
    let (_, request) = recv_dhcp(&sock, MessageType::Request, Some(discover.xid));
    send_reply(&sock, &request, &seed_reply(&request, MessageType::Ack));
    assert!(
        wait_until(READY, || event().get("event").map(String::as_str)
            == Some("bound")),
        "udhcpc did not bind"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(client.id() as i32),
        nix::sys::signal::Signal::SIGUSR1,
    )
    .expect("SIGUSR1");
    let (d, renew) = recv_dhcp(&sock, MessageType::Request, None);
    assert!(d.checksum_not_ready, "a kernel-sent renewal");
    assert_eq!(d.ip.src, OFFERED);
    assert_eq!(d.ip.dst, SERVER, "unicast to the server");
    assert_eq!(d.src_mac, client_mac);
    assert_eq!(renew.ciaddr, OFFERED);
    assert_eq!(renew.options.server_id(), None, "RENEWING has no server id");
    assert_eq!(renew.options.requested_address(), None);
    assert_eq!(renew.hardware_address(), &client_mac[..]);

    // busybox 1.35 opens its listening UDP socket only after it has sent
    // the renewal: an ACK that came sooner would find no socket. (A real
    // server answers after its lease is on disk.) Wait for the socket.
    assert!(
        wait_udp_port(&cli, 68, READY),
        "udhcpc opened no UDP socket for the reply"
    );
    // The ACK goes to ciaddr (RFC 2131 §4.1), at the link level to chaddr.
    let mut ack = seed_reply(&renew, MessageType::Ack);
    ack.ciaddr = renew.ciaddr;
    ack.options.set_u32(options::LEASE_TIME, 3600);
    let mut bytes = Vec::new();
    wire::encode_reply_options(
        &ack,
        renew.options.parameter_request_list(),
        renew.options.max_message_size(),
        &mut bytes,
    );
    sock.send(
        client_mac,
        SocketAddrV4::new(SERVER, 67),
        SocketAddrV4::new(renew.ciaddr, 68),
        &bytes,
    )
    .expect("send ACK");
    let renewed = wait_until(READY, || {
        event().get("event").map(String::as_str) == Some("renew")
    });
    let _ = client.kill();
    let _ = client.wait();
    assert!(renewed, "udhcpc did not take the renewal ACK");
    let env = event();
    assert_eq!(env["ip"], "192.168.0.150");
    assert_eq!(env["lease"], "3600");
    assert_eq!(env["serverid"], "192.168.0.1");
}

/// The option table is complete: an ACK carrying every code of the `dhcp`
/// space is given to a real dhclient, which writes the options to its lease
/// file under ISC's names, or as `unknown-N` where ISC has none. The codes
/// ISC names are exactly the codes in our table. (The codes the client
/// protocol itself uses, 50–61, are left out.)
#[test]
fn option_table_is_complete_against_isc() {
    let b = peers::blocker(&[peers::DHCLIENT]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let dir = ScratchDir::new("wall").unwrap();
    let (srv, cli, sif, cif) = server_and_client();
    let sock = open_packet_socket(&srv, &sif);
    let conf = dir.path().join("dhclient.conf");
    std::fs::write(&conf, "request subnet-mask;\n").unwrap();
    let codes: Vec<u8> = (1..=254u8).filter(|c| !(50..=61).contains(c)).collect();
    let mut isc_named = Vec::new();
    let mut isc_unknown = Vec::new();
    // A share of the codes at a time, so every ACK fits one frame.
    for (round, group) in codes.chunks(70).enumerate() {
        let leases = dir.path().join(format!("dhclient{round}.leases"));
        let mut client = cli
            .cmd(peers::DHCLIENT)
            .args(["-1", "-d", "-cf"])
            .arg(&conf)
            .args(["-sf", "/bin/true", "-lf"])
            .arg(&leases)
            .arg("-pf")
            .arg(dir.path().join("dhclient.pid"))
            .arg(&cif)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dhclient");
        let reply = |req: &Packet, t: MessageType| {
            let mut r = seed_reply(req, t);
            for &c in group {
                let value = wire::table::by_code(c)
                    .and_then(|d| sample_value(d.ty))
                    .map(|v| v.1)
                    .unwrap_or_else(|| vec![10, 0, 0, c]);
                r.options.set(c, value);
            }
            r
        };
        let (_, discover) = recv_dhcp(&sock, MessageType::Discover, None);
        let mut out = Vec::new();
        let enc = wire::encode_reply_options(
            &reply(&discover, MessageType::Ack),
            None,
            Some(1500),
            &mut out,
        );
        assert!(enc.dropped.is_empty(), "{:?}", enc.dropped);
        let send = |req: &Packet, r: &Packet| {
            let mut bytes = Vec::new();
            wire::encode_reply_options(r, None, Some(1500), &mut bytes);
            let mut m = [0u8; 6];
            m.copy_from_slice(&req.chaddr[..6]);
            sock.send(
                m,
                SocketAddrV4::new(SERVER, 67),
                SocketAddrV4::new(r.yiaddr, 68),
                &bytes,
            )
            .expect("send");
        };
        send(&discover, &reply(&discover, MessageType::Offer));
        let (_, request) = recv_dhcp(&sock, MessageType::Request, Some(discover.xid));
        send(&request, &reply(&request, MessageType::Ack));
        let written = wait_until(READY, || {
            std::fs::read_to_string(&leases).is_ok_and(|t| t.contains("renew "))
        });
        let _ = client.kill();
        let _ = client.wait();
        assert!(written, "dhclient wrote no lease");
        let text = std::fs::read_to_string(&leases).unwrap();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("option ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or_default();
            match name.strip_prefix("unknown-") {
                Some(n) => isc_unknown.push(n.parse::<u8>().expect("a code")),
                None => isc_named.push(name.to_string()),
            }
        }
    }
    // Every code went out and came back, named or not.
    let ours: Vec<&str> = codes
        .iter()
        .filter_map(|&c| wire::table::by_code(c).map(|d| d.name))
        .collect();
    let missing: Vec<&u8> = codes
        .iter()
        .filter(|c| !isc_unknown.contains(c) && wire::table::by_code(**c).is_none())
        .collect();
    let extra: Vec<&&str> = ours
        .iter()
        .filter(|n| !isc_named.iter().any(|i| i == **n))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "codes ISC names that our table lacks: {missing:?}; our names ISC did not write: {extra:?}\nISC named: {isc_named:?}"
    );
}
