//! Our dhcpd serving real clients (udhcpc, dhclient) in namespaces this
//! module creates, with the seed configuration; the lease file it writes
//! is checked by the real ISC dhcpd (`-T`).

use crate::harness::peers::{self, parse_env};
use crate::harness::*;
use crate::require;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

fn etc(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Lab {
    dir: ScratchDir,
    srv: Netns,
    cli: Netns,
    sif: String,
    cif: String,
    sink: SyslogSink,
    conf: PathBuf,
    leases: PathBuf,
    flags: Vec<String>,
}

impl Lab {
    fn new(prefix: &str, extra_conf: &str) -> Lab {
        Lab::with_conf(prefix, &format!("{}\n{extra_conf}", etc("dhcpd.conf")), &[])
    }

    fn with_conf(prefix: &str, conf_text: &str, flags: &[&str]) -> Lab {
        let dir = ScratchDir::new(prefix).unwrap();
        let srv = Netns::new("dsrv").expect("server namespace");
        let cli = Netns::new("dcli").expect("client namespace");
        let (sif, cif) = (unique_name("vs"), unique_name("vc"));
        veth(&srv, &sif, "192.168.0.1/24", &cli, &cif, "").expect("veth");
        let sink = SyslogSink::new().unwrap();
        let conf = dir.path().join("dhcpd.conf");
        std::fs::write(&conf, conf_text).unwrap();
        let leases = dir.path().join("dhcpd.leases");
        std::fs::write(&leases, "").unwrap();
        Lab {
            dir,
            srv,
            cli,
            sif,
            cif,
            sink,
            conf,
            leases,
            flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn spawn(&self) -> Daemon {
        let a = |p: &Path| p.display().to_string();
        let mut args = self.flags.clone();
        args.extend([
            "-d".into(),
            "-cf".into(),
            a(&self.conf),
            "-lf".into(),
            a(&self.leases),
            "-pf".into(),
            a(&self.dir.path().join("dhcpd.pid")),
            self.sif.clone(),
        ]);
        Daemon::spawn(
            "dhcpd",
            Some(&self.srv),
            Some(&self.sink),
            &a(&ours("dhcpd")),
            &args,
        )
        .unwrap()
    }

    /// Starts our dhcpd in the foreground and waits for its interface lines.
    fn start(&self) -> Daemon {
        let mut d = self.spawn();
        let listening = format!("dhcpd: Listening on LPF/{}/", self.sif);
        let count = || {
            self.sink
                .lines()
                .iter()
                .filter(|l| l.starts_with(&listening))
                .count()
        };
        let before = count();
        let up = wait_until(READY, || count() > before).then_some(());
        assert!(
            up.is_some(),
            "our dhcpd did not start: {:?} {:?} {}",
            d.try_status(),
            self.sink.lines(),
            d.stderr()
        );
        d
    }

    fn stop(&self, mut d: Daemon) {
        d.signal(libc::SIGTERM).unwrap();
        let st = d.wait_exit(READY);
        assert!(
            st.is_some_and(|s| s.success()),
            "dhcpd did not exit cleanly on SIGTERM: {st:?} {}",
            d.stderr()
        );
    }

    /// One udhcpc run; the BOUND environment.
    fn udhcpc(&self, tag: &str) -> std::collections::BTreeMap<String, String> {
        let out = self.dir.path().join(format!("bound-{tag}.env"));
        let script = peers::udhcpc_script(self.dir.path(), &out).unwrap();
        let client = self
            .cli
            .cmd(peers::UDHCPC)
            .args([
                "-f", "-q", "-n", "-t", "5", "-T", "3", "-i", &self.cif, "-s",
            ])
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            client.status.success(),
            "udhcpc failed: {} / log: {:?}",
            String::from_utf8_lossy(&client.stderr),
            self.sink.lines()
        );
        parse_env(&std::fs::read_to_string(&out).unwrap())
    }

    fn set_client_mac(&self, mac: &str) {
        self.cli
            .ip(&["link", "set", "dev", &self.cif, "address", mac])
            .unwrap();
    }
}

fn blocker() -> Option<String> {
    peers::blocker(&[peers::UDHCPC, peers::ISC_DHCPD])
}

/// udhcpc gets the seed's lease (routers, DNS, broadcast, lease time,
/// siaddr, file), the ACK is logged in ISC's words after the lease is on
/// disk, a second client gets another address, and the real ISC dhcpd
/// accepts the lease file we wrote (`dhcpd -T`, D-L-2).
#[test]
fn udhcpc_gets_the_seed_lease_and_isc_accepts_our_lease_file() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::new("d6a", "");
    lab.set_client_mac("02:00:00:00:06:01");
    let d = lab.start();
    let env = lab.udhcpc("one");
    let ip: Ipv4Addr = env["ip"].parse().unwrap();
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
    assert_eq!(env["broadcast"], "192.168.0.255");
    assert_eq!(env["serverid"], "192.168.0.1");
    let ack = format!("DHCPACK on {ip} to 02:00:00:00:06:01 via {}", lab.sif);
    assert!(
        lab.sink.wait_for_msg(READY, &ack).is_some(),
        "no ACK logged: {:?}",
        lab.sink.lines()
    );
    let offer = format!("DHCPOFFER on {ip} to 02:00:00:00:06:01 via {}", lab.sif);
    assert!(lab.sink.lines().iter().any(|l| l.contains(&offer)));
    let text = std::fs::read_to_string(&lab.leases).unwrap();
    assert!(text.contains(&format!("lease {ip} {{")), "{text}");

    lab.set_client_mac("02:00:00:00:06:02");
    let env2 = lab.udhcpc("two");
    assert_ne!(env2["ip"], env["ip"], "two clients, two addresses");
    lab.stop(d);

    let check = std::process::Command::new(peers::ISC_DHCPD)
        .args(["-4", "-T", "-cf"])
        .arg(&lab.conf)
        .arg("-lf")
        .arg(&lab.leases)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "ISC dhcpd -T refused our lease file: {}\n{}",
        String::from_utf8_lossy(&check.stderr),
        std::fs::read_to_string(&lab.leases).unwrap_or_default()
    );
    assert!(
        lab.dir.path().join("dhcpd.leases~").exists(),
        "D-L-5 backup"
    );
}

/// A host declaration's fixed address, and a client keeps its dynamic
/// address across a restart (the lease file is replayed at start).
#[test]
fn host_gets_fixed_address_and_a_client_keeps_its_address_across_restart() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::new(
        "d6b",
        "host fixed1 { hardware ethernet 02:00:00:00:06:99; fixed-address 192.168.0.50; }\n",
    );
    lab.set_client_mac("02:00:00:00:06:99");
    let d = lab.start();
    assert_eq!(lab.udhcpc("fixed")["ip"], "192.168.0.50");
    lab.set_client_mac("02:00:00:00:06:03");
    let first = lab.udhcpc("dyn")["ip"].clone();
    lab.stop(d);
    let d = lab.start();
    assert!(
        lab.sink
            .lines()
            .iter()
            .any(|l| l.contains("Wrote 1 leases to leases file.")),
        "{:?}",
        lab.sink.lines()
    );
    // Another client first, so a fresh allocation would not pick `first`.
    lab.set_client_mac("02:00:00:00:06:04");
    let other = lab.udhcpc("other")["ip"].clone();
    assert_ne!(other, first);
    lab.set_client_mac("02:00:00:00:06:03");
    assert_eq!(lab.udhcpc("again")["ip"], first);
    lab.stop(d);
}

/// dhclient (ISC's client) gets a lease with the boot fields.
#[test]
fn dhclient_gets_the_seed_lease() {
    let b = peers::blocker(&[peers::DHCLIENT]);
    require!(b.is_none(), "{}", b.unwrap_or_default());
    let lab = Lab::new("d6c", "");
    let d = lab.start();
    let out = lab.dir.path().join("dhclient.env");
    let script = peers::dhclient_script(lab.dir.path(), &out).unwrap();
    let a = |p: &Path| p.display().to_string();
    let client = lab
        .cli
        .cmd(peers::DHCLIENT)
        .args([
            "-1".to_string(),
            "-d".into(),
            "-sf".into(),
            a(&script),
            "-lf".into(),
            a(&lab.dir.path().join("dhclient.leases")),
            "-pf".into(),
            a(&lab.dir.path().join("dhclient.pid")),
            lab.cif.clone(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut client = scopeguard(client);
    let got = wait_until(READY, || out.exists());
    let _ = client.0.kill();
    let _ = client.0.wait();
    assert!(got, "dhclient got no lease: {:?}", lab.sink.lines());
    let env = parse_env(&std::fs::read_to_string(&out).unwrap());
    assert!(env["ip"].starts_with("192.168.0."), "{env:?}");
    assert_eq!(env["filename"], "pxelinux.0");
    assert_eq!(env["next_server"], "192.168.0.1");
    assert_eq!(env["serverid"], "192.168.0.1");
    assert_eq!(env["router"], "192.168.0.1");
    lab.stop(d);
}

/// Kills the child on drop, so a failed assertion leaves no client behind.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

/// A lease file whose last record was cut short (a crash mid-write) is
/// read up to the damage with a warning; the server starts, keeps the
/// intact leases, and the rewritten file is clean for ISC dhcpd (D-L-4).
#[test]
fn a_truncated_last_record_is_recovered_with_a_warning() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::new("d6d", "");
    lab.set_client_mac("02:00:00:00:06:05");
    let d = lab.start();
    let first = lab.udhcpc("a")["ip"].clone();
    lab.set_client_mac("02:00:00:00:06:06");
    let second = lab.udhcpc("b")["ip"].clone();
    lab.stop(d);
    let text = std::fs::read_to_string(&lab.leases).unwrap();
    let cut = text
        .rfind(&format!("lease {second} {{"))
        .expect("second lease written");
    std::fs::write(&lab.leases, &text[..cut + 30]).unwrap();
    let d = lab.start();
    assert!(
        lab.sink
            .lines()
            .iter()
            .any(|l| l.contains("damaged records skipped")),
        "{:?}",
        lab.sink.lines()
    );
    lab.set_client_mac("02:00:00:00:06:05");
    assert_eq!(lab.udhcpc("a2")["ip"], first);
    lab.stop(d);
    let check = std::process::Command::new(peers::ISC_DHCPD)
        .args(["-4", "-T", "-cf"])
        .arg(&lab.conf)
        .arg("-lf")
        .arg(&lab.leases)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

const FAILOVER_CONF: &str = r#"
ddns-update-style none;
next-server 192.168.0.1;
filename "pxelinux.0";
failover peer "fo" {
  primary;
  address 192.168.0.1;
  port 647;
  peer address 192.168.0.2;
  peer port 647;
  max-response-delay 60;
  max-unacked-updates 10;
  mclt 3600;
  split 128;
  load balance max seconds 3;
}
subnet 192.168.0.0 netmask 255.255.255.0 {
  option routers 192.168.0.1;
  pool {
    failover peer "fo";
    deny dynamic bootp clients;
    range 192.168.0.128 192.168.0.140;
  }
}
"#;

/// A pool under a failover peer is refused at start (exit 1, the reason in
/// syslog) unless `--serve-failover-pools` is given; then it is served.
#[test]
fn a_failover_pool_is_refused_without_the_override_and_served_with_it() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::with_conf("d6e", FAILOVER_CONF, &[]);
    let mut d = lab.spawn();
    let st = d.wait_exit(READY);
    assert_eq!(st.and_then(|s| s.code()), Some(1), "{}", d.stderr());
    assert!(
        lab.sink.lines().iter().any(|l| l.contains(
            "Refusing to serve pool 192.168.0.128 - 192.168.0.140 under failover peer \"fo\""
        )),
        "{:?}",
        lab.sink.lines()
    );
    let lab = Lab::with_conf("d6f", FAILOVER_CONF, &["--serve-failover-pools"]);
    let d = lab.start();
    let env = lab.udhcpc("fo");
    assert!(env["ip"].starts_with("192.168.0.1"), "{env:?}");
    lab.stop(d);
}

/// Multi-homed (D-IF-1, D-IF-2): with no interface named, the server
/// listens on every broadcast interface with a subnet; each client gets an
/// address and server identifier of its own subnet, and an interface with
/// no subnet declaration is ignored with ISC's notice.
#[test]
fn multi_homed_clients_get_their_own_subnet_and_server_id() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let dir = ScratchDir::new("d6g").unwrap();
    let srv = Netns::new("dsrv").expect("server namespace");
    let cli1 = Netns::new("dcl1").expect("client namespace");
    let cli2 = Netns::new("dcl2").expect("client namespace");
    let (s1, c1) = (unique_name("vs"), unique_name("vc"));
    let (s2, c2) = (unique_name("vs"), unique_name("vc"));
    let (s3, c3) = (unique_name("vs"), unique_name("vc"));
    veth(&srv, &s1, "192.168.0.1/24", &cli1, &c1, "").expect("veth 1");
    veth(&srv, &s2, "10.77.0.1/24", &cli2, &c2, "").expect("veth 2");
    veth(&srv, &s3, "172.16.9.1/24", &cli2, &c3, "").expect("veth 3");
    let sink = SyslogSink::new().unwrap();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        format!(
            "{}\nsubnet 10.77.0.0 netmask 255.255.255.0 {{ range 10.77.0.100 10.77.0.110; option routers 10.77.0.1; }}\n",
            etc("dhcpd.conf")
        ),
    )
    .unwrap();
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(&leases, "").unwrap();
    let a = |p: &Path| p.display().to_string();
    let mut d = Daemon::spawn(
        "dhcpd",
        Some(&srv),
        Some(&sink),
        &a(&ours("dhcpd")),
        &[
            "-d".into(),
            "-cf".into(),
            a(&conf),
            "-lf".into(),
            a(&leases),
            "-pf".into(),
            a(&dir.path().join("dhcpd.pid")),
        ],
    )
    .unwrap();
    let up = sink.wait_for_msg(READY, "Sending on   Socket/fallback/fallback-net");
    assert!(up.is_some(), "{:?} {}", sink.lines(), d.stderr());
    let lines = sink.lines();
    for s in [&s1, &s2] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("Listening on LPF/{s}/"))),
            "{lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("No subnet declaration for {s3} (172.16.9.1)."))),
        "{lines:?}"
    );
    let run = |ns: &Netns, ifname: &str, tag: &str| {
        let out = dir.path().join(format!("bound-{tag}.env"));
        let script = peers::udhcpc_script(dir.path(), &out).unwrap();
        let client = ns
            .cmd(peers::UDHCPC)
            .args(["-f", "-q", "-n", "-t", "5", "-T", "3", "-i", ifname, "-s"])
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            client.status.success(),
            "udhcpc on {ifname}: {:?}",
            sink.lines()
        );
        parse_env(&std::fs::read_to_string(&out).unwrap())
    };
    let e1 = run(&cli1, &c1, "one");
    assert!(e1["ip"].starts_with("192.168.0."), "{e1:?}");
    assert_eq!(e1["serverid"], "192.168.0.1");
    let e2 = run(&cli2, &c2, "two");
    assert!(e2["ip"].starts_with("10.77.0.1"), "{e2:?}");
    assert_eq!(e2["serverid"], "10.77.0.1");
    assert_eq!(e2["router"], "10.77.0.1");
    d.signal(libc::SIGTERM).unwrap();
    assert!(d.wait_exit(READY).is_some_and(|s| s.success()));
}

/// Renewing and releasing with a real client: udhcpc renews on SIGUSR1
/// (a unicast DHCPREQUEST with ciaddr, no server identifier) and releases
/// on exit with `-R`; the server logs ISC's lines for both and the
/// release reaches the lease file.
#[test]
fn udhcpc_renews_and_releases() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::new("d6h", "");
    lab.set_client_mac("02:00:00:00:06:07");
    let d = lab.start();
    let out = lab.dir.path().join("bound-renew.env");
    let script = peers::udhcpc_script(lab.dir.path(), &out).unwrap();
    let a = |p: &Path| p.display().to_string();
    let mut client = Daemon::spawn(
        "udhcpc",
        Some(&lab.cli),
        None,
        peers::UDHCPC,
        &[
            "-f".into(),
            "-R".into(),
            "-t".into(),
            "5".into(),
            "-T".into(),
            "3".into(),
            "-i".into(),
            lab.cif.clone(),
            "-s".into(),
            a(&script),
        ],
    )
    .unwrap();
    let acked = lab
        .sink
        .wait_for_msg(READY, "DHCPACK on 192.168.0.128 to 02:00:00:00:06:07");
    assert!(acked.is_some(), "{:?}", lab.sink.lines());
    assert!(wait_until(READY, || out.exists()));
    // The script only records; give the interface its address as a real
    // script would, so the unicast renewal can be sent and answered.
    lab.cli.addr(&lab.cif, "192.168.0.128/24").unwrap();
    client.signal(libc::SIGUSR1).unwrap();
    let renew = format!(
        "DHCPREQUEST for 192.168.0.128 from 02:00:00:00:06:07 via {}",
        lab.sif
    );
    assert!(
        lab.sink.wait_for_msg(READY, &renew).is_some(),
        "{:?}",
        lab.sink.lines()
    );
    let acks = || {
        lab.sink
            .lines()
            .iter()
            .filter(|l| l.contains("DHCPACK on 192.168.0.128 to 02:00:00:00:06:07"))
            .count()
    };
    assert!(wait_until(READY, || acks() >= 2), "{:?}", lab.sink.lines());
    client.signal(libc::SIGTERM).unwrap();
    let released = format!(
        "DHCPRELEASE of 192.168.0.128 from 02:00:00:00:06:07 via {} (found)",
        lab.sif
    );
    assert!(
        lab.sink.wait_for_msg(READY, &released).is_some(),
        "{:?}",
        lab.sink.lines()
    );
    let _ = client.wait_exit(READY);
    lab.stop(d);
    let file = leases_of(&lab.leases);
    let l = &file[&Ipv4Addr::new(192, 168, 0, 128)];
    assert_eq!(l.binding_state.as_deref(), Some("free"));
}

fn leases_of(p: &Path) -> std::collections::BTreeMap<Ipv4Addr, pxesuite::dhcp::leases::Lease> {
    pxesuite::dhcp::leases::load_file(p).unwrap().leases
}

/// Crash durability (D-L-3): in each cycle a client is acknowledged, then
/// the server is killed with SIGKILL at once; after the restart every lease
/// any client was ever acknowledged is in the file with its client's
/// hardware address. The client's BOUND state is the ground truth (it
/// binds only on a DHCPACK).
#[test]
fn every_acknowledged_lease_survives_kill_9() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let cycles: u8 = if in_ci() { 20 } else { 30 };
    let lab = Lab::new("d6i", "");
    let mut acked: Vec<(Ipv4Addr, Vec<u8>)> = Vec::new();
    for i in 0..cycles {
        let mut d = lab.start();
        let mac = [2, 0, 0, 0, 0x69, i];
        let mac_text: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
        lab.set_client_mac(&mac_text.join(":"));
        let env = lab.udhcpc(&format!("c{i}"));
        acked.push((env["ip"].parse().unwrap(), mac.to_vec()));
        d.kill();
        let file = leases_of(&lab.leases);
        for (ip, hw) in &acked {
            let l = file.get(ip).unwrap_or_else(|| {
                panic!(
                    "cycle {i}: acknowledged lease {ip} lost: {}\n{:?}",
                    std::fs::read_to_string(&lab.leases).unwrap_or_default(),
                    lab.sink.lines()
                )
            });
            assert_eq!(
                l.hardware.as_ref().map(|(_, h)| h),
                Some(hw),
                "cycle {i}: {ip}"
            );
        }
    }
}

/// Daemon mode as the init script runs it (D-ST-10, D-ST-11, D-SIG): the
/// parent exits 0, the child writes the pid file and serves; a second start
/// is refused with ISC's message before it touches the lease file; SIGTERM
/// to the pid in the file ends the server.
#[test]
fn daemon_mode_writes_the_pid_file_and_refuses_a_second_server() {
    require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
    let lab = Lab::new("d6j", "");
    let pidf = lab.dir.path().join("dhcpd.pid");
    let a = |p: &Path| p.display().to_string();
    let args = vec![
        "-cf".to_string(),
        a(&lab.conf),
        "-lf".into(),
        a(&lab.leases),
        "-pf".into(),
        a(&pidf),
        lab.sif.clone(),
    ];
    let mut parent = Daemon::spawn(
        "dhcpd",
        Some(&lab.srv),
        Some(&lab.sink),
        &a(&ours("dhcpd")),
        &args,
    )
    .unwrap();
    let st = parent.wait_exit(READY);
    assert_eq!(st.and_then(|s| s.code()), Some(0), "{}", parent.stderr());
    let pid_of = || {
        std::fs::read_to_string(&pidf)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
    };
    assert!(wait_until(READY, || pid_of().is_some()), "no pid file");
    let pid = pid_of().unwrap_or(0);
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    lab.set_client_mac("02:00:00:00:06:0a");
    let ip = lab.udhcpc("daemon")["ip"].clone();
    let mut second = Daemon::spawn(
        "dhcpd2",
        Some(&lab.srv),
        Some(&lab.sink),
        &a(&ours("dhcpd")),
        &args,
    )
    .unwrap();
    let st = second.wait_exit(READY);
    assert_eq!(st.and_then(|s| s.code()), Some(1));
    assert!(
        lab.sink
            .lines()
            .iter()
            .any(|l| l.contains("There's already a DHCP server running.")),
        "{:?}",
        lab.sink.lines()
    );
    assert!(std::fs::read_to_string(&lab.leases)
        .unwrap()
        .contains(&format!("lease {ip} {{")));
    pxesuite::sys::signals::kill(pid, libc::SIGTERM).unwrap();
    assert!(
        wait_until(READY, || !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)),
        "dhcpd did not exit on SIGTERM"
    );
}

mod differential {
    //! A PXE ROM's DISCOVER sent raw from the client namespace to the real
    //! ISC dhcpd and to ours with the seed configuration: the OFFERs must
    //! carry the same message type, header fields and options in the same
    //! order. ISC's address choice is its own (it hands out the top of the
    //! range first, we the bottom), so `yiaddr` is only checked to be in range.

    use super::*;
    use pxesuite::dhcp::wire::{self, options as opt, MessageType, Packet};
    use pxesuite::sys::packet::{PacketSocket, BROADCAST_MAC};
    use std::net::SocketAddrV4;
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

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

    const MAC: [u8; 6] = [2, 0, 0, 0, 6, 0x42];

    fn pxe_discover(xid: u32) -> Packet {
        let mut p = Packet {
            op: wire::BOOTREQUEST,
            htype: 1,
            hlen: 6,
            xid,
            ..Packet::default()
        };
        p.chaddr[..6].copy_from_slice(&MAC);
        p.set_broadcast(true);
        p.options.set_message_type(MessageType::Discover);
        p.options.set_u16(opt::MAX_MESSAGE_SIZE, 1260);
        p.options.set(
            opt::PARAMETER_REQUEST_LIST,
            vec![
                1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 43, 54, 60, 66, 67, 128, 129, 130, 131,
                132, 133, 134, 135,
            ],
        );
        p.options.set(opt::CLIENT_NDI, vec![1, 2, 1]);
        p.options.set(opt::CLIENT_ARCH, vec![0, 0]);
        p.options.set(
            opt::VENDOR_CLASS,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        );
        p
    }

    /// Sends the DISCOVER and returns the OFFER and its encoded length.
    fn offer_from(lab: &Lab, xid: u32) -> (Packet, usize) {
        reply_from(lab, pxe_discover(xid), MessageType::Offer)
    }

    /// Sends `req` (again every 2 s) until a reply of type `want` comes.
    fn reply_from(lab: &Lab, req: Packet, want: MessageType) -> (Packet, usize) {
        let (cli, cif, sink) = (&lab.cli, &lab.cif, &lab.sink);
        let cif = cif.to_string();
        let xid = req.xid;
        in_netns(cli, move || {
            let sock = PacketSocket::open(&cif, 68).expect("client packet socket");
            sock.set_read_timeout(Some(Duration::from_millis(300)))
                .expect("timeout");
            let mut out = Vec::new();
            wire::encode(&req, &mut out);
            let deadline = Instant::now() + READY;
            let mut next_send = Instant::now();
            let mut buf = vec![0u8; 4096];
            while Instant::now() < deadline {
                if Instant::now() >= next_send {
                    sock.send(
                        BROADCAST_MAC,
                        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
                        SocketAddrV4::new(Ipv4Addr::BROADCAST, 67),
                        &out,
                    )
                    .expect("send");
                    next_send = Instant::now() + Duration::from_secs(2);
                }
                if let Ok(Ok(d)) = sock.recv(&mut buf) {
                    let body = &buf[d.payload.clone()];
                    if let Ok(p) = wire::decode(body) {
                        if p.xid == xid && p.options.message_type() == Some(want) {
                            return Some((p, body.len()));
                        }
                    }
                }
            }
            None
        })
        .unwrap_or_else(|| panic!("no {want:?} within {READY:?}: {:?}", sink.lines()))
    }

    fn isc_reply(lab: &Lab, req: Packet, want: MessageType) -> (Packet, usize) {
        let a = |p: &Path| p.display().to_string();
        let mut d = Daemon::spawn(
            "isc-dhcpd",
            Some(&lab.srv),
            Some(&lab.sink),
            peers::ISC_DHCPD,
            &[
                "-4".into(),
                "-f".into(),
                "-cf".into(),
                a(&lab.conf),
                "-lf".into(),
                a(&lab.leases),
                "-pf".into(),
                a(&lab.dir.path().join("isc.pid")),
                lab.sif.clone(),
            ],
        )
        .unwrap();
        let ready = lab.sink.wait_for(READY, |r| {
            r.ident == "dhcpd" && r.msg.starts_with("Server starting service")
        });
        assert!(ready.is_some(), "ISC dhcpd did not start: {}", d.stderr());
        let o = reply_from(lab, req, want);
        d.kill();
        o
    }

    /// The differential (PXE DISCOVER → OFFER), seed configuration.
    #[test]
    fn pxe_offer_matches_isc_dhcpd() {
        require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
        let isc_lab = Lab::new("d6k", "");
        let (isc, isc_len) = isc_reply(&isc_lab, pxe_discover(0x15c0), MessageType::Offer);
        let lab = Lab::new("d6l", "");
        let d = lab.start();
        let (ours, ours_len) = offer_from(&lab, 0x15c1);
        lab.stop(d);
        // One difference on purpose: with `filename` set and option 67
        // requested, ISC 4.4 leaves option 67 out; we send it (without a
        // trailing NUL) as PXE ROMs that read only the option expect.
        let codes = |p: &Packet| {
            let mut c = p.options.codes();
            c.retain(|&x| x != opt::BOOTFILE_NAME);
            c
        };
        assert_eq!(
            ours.options.get(opt::BOOTFILE_NAME),
            Some(&b"pxelinux.0"[..])
        );
        assert_eq!(
            codes(&ours),
            codes(&isc),
            "option order\nours {ours:?}\nisc {isc:?}"
        );
        for c in codes(&isc) {
            if c == opt::LEASE_TIME || c == opt::SERVER_ID {
                assert_eq!(ours.options.get(c), isc.options.get(c), "option {c}");
            }
        }
        assert_eq!(ours.siaddr, isc.siaddr);
        assert_eq!(ours.file_name(), isc.file_name());
        assert_eq!(ours.flags, isc.flags);
        assert!(ours_len >= 300 && isc_len >= 300, "{ours_len} {isc_len}");
        let in_range = |a: Ipv4Addr| (128..=220).contains(&a.octets()[3]);
        assert!(in_range(ours.yiaddr) && in_range(isc.yiaddr));
    }

    /// INIT-REBOOT for an address on another network with `authoritative;`:
    /// both servers NAK by broadcast with the same options, and both log
    /// the same two lines.
    #[test]
    fn init_reboot_on_a_wrong_network_naks_like_isc_dhcpd() {
        require!(blocker().is_none(), "{}", blocker().unwrap_or_default());
        let req = |xid: u32| {
            let mut p = pxe_discover(xid);
            p.options.set_message_type(MessageType::Request);
            p.options
                .set_ip(opt::REQUESTED_ADDRESS, Ipv4Addr::new(10, 9, 9, 9));
            p.options.remove(opt::PARAMETER_REQUEST_LIST);
            p.set_broadcast(false);
            p
        };
        // `authoritative;` before the subnet: ISC takes it into a subnet only
        // when it comes first.
        let conf = format!("authoritative;\n{}", etc("dhcpd.conf"));
        let lab = Lab::with_conf("d6n", &conf, &[]);
        let d = lab.start();
        let (ours, len) = reply_from(&lab, req(0x4e42), MessageType::Nak);
        lab.stop(d);
        let isc_lab = Lab::with_conf("d6m", &conf, &[]);
        let (isc, _) = isc_reply(&isc_lab, req(0x4e41), MessageType::Nak);
        assert_eq!(
            ours.options.codes(),
            isc.options.codes(),
            "ours {ours:?}\nisc {isc:?}"
        );
        assert_eq!(ours.options.server_id(), isc.options.server_id());
        assert_eq!((ours.yiaddr, ours.siaddr), (isc.yiaddr, isc.siaddr));
        assert!(len >= 300);
        for (l, iface) in [(&isc_lab, &isc_lab.sif), (&lab, &lab.sif)] {
            let lines = l.sink.lines();
            for want in [
                format!(
                    "DHCPREQUEST for 10.9.9.9 from 02:00:00:00:06:42 via {iface}: wrong network."
                ),
                format!("DHCPNAK on 10.9.9.9 to 02:00:00:00:06:42 via {iface}"),
            ] {
                assert!(
                    lines.iter().any(|x| x.ends_with(&want)),
                    "{want} not in {lines:?}"
                );
            }
        }
    }
}
