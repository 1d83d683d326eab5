//! The decisions against the seed configuration and small variations.

use super::*;
use crate::dhcp::conf;
use crate::dhcp::wire::BROADCAST_FLAG;

const SEED: &str = r#"
ddns-update-style interim;
allow booting;
allow bootp;
next-server 192.168.0.1;
filename "pxelinux.0";
default-lease-time 1800;
max-lease-time 7200;
ping-check true;
option domain-name-servers 192.168.0.1;
subnet 192.168.0.0 netmask 255.255.255.0
{
range 192.168.0.128 192.168.0.130;
option routers 192.168.0.1;
option broadcast-address 192.168.0.255;
}
host fixed1 { hardware ethernet 02:00:00:00:00:99; fixed-address 192.168.0.50; }
"#;

const NOW: i64 = 1_800_000_000;
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);

fn model(text: &str) -> Config {
    let l = conf::load_str("test.conf", text, false);
    assert!(!l.has_errors(), "{}", conf::report::diagnostics_text(&l));
    l.model
}

fn packet(mt: MessageType, mac_last: u8) -> Packet {
    let mut p = Packet {
        op: crate::dhcp::wire::BOOTREQUEST,
        htype: 1,
        hlen: 6,
        xid: 0x1234,
        ..Packet::default()
    };
    p.chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, mac_last]);
    p.options.set_message_type(mt);
    p
}

fn run(m: &Config, view: &mut LeaseView, p: &Packet, now: i64) -> Decision {
    let inc = Incoming {
        packet: p,
        iface: "eth0",
        iface_addr: SERVER,
    };
    let d = decide(&inc, m, view, now);
    for b in &d.changes {
        view.insert(b.addr, b.clone());
    }
    d
}

fn lines(d: &Decision) -> Vec<&str> {
    d.log.iter().map(|l| l.text.as_str()).collect()
}

fn dora(m: &Config, view: &mut LeaseView, mac_last: u8) -> (Decision, Decision) {
    let mut disc = packet(MessageType::Discover, mac_last);
    disc.options
        .set(opt::PARAMETER_REQUEST_LIST, vec![1, 3, 6, 28, 51, 67]);
    let offer = run(m, view, &disc, NOW);
    let yi = offer
        .reply
        .as_ref()
        .map(|r| r.yiaddr)
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mut req = packet(MessageType::Request, mac_last);
    req.options.set_ip(opt::SERVER_ID, SERVER);
    req.options.set_ip(opt::REQUESTED_ADDRESS, yi);
    let ack = run(m, view, &req, NOW + 1);
    (offer, ack)
}

#[test]
fn dora_gives_the_seed_options_and_boot_fields() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    let (offer, ack) = dora(&m, &mut view, 1);
    let o = offer.reply.clone().expect("offer");
    assert_eq!(o.options.message_type(), Some(MessageType::Offer));
    assert_eq!(o.yiaddr, Ipv4Addr::new(192, 168, 0, 128));
    assert_eq!(o.siaddr, SERVER);
    assert_eq!(o.file_name(), b"pxelinux.0");
    assert_eq!(o.options.server_id(), Some(SERVER));
    assert_eq!(o.options.lease_time(), Some(1800));
    assert_eq!(o.options.ip_of(opt::ROUTERS), Some(SERVER));
    assert_eq!(o.options.ip_of(opt::DOMAIN_NAME_SERVERS), Some(SERVER));
    assert_eq!(
        o.options.ip_of(opt::BROADCAST_ADDRESS),
        Some(Ipv4Addr::new(192, 168, 0, 255))
    );
    assert_eq!(
        o.options.ip_of(opt::SUBNET_MASK),
        Some(Ipv4Addr::new(255, 255, 255, 0))
    );
    assert_eq!(o.options.get(opt::BOOTFILE_NAME), Some(&b"pxelinux.0"[..]));
    assert!(!offer.durable);
    let mut disc = packet(MessageType::Discover, 5);
    disc.options.set(opt::PARAMETER_REQUEST_LIST, vec![3, 1]);
    let o = run(&m, &mut view, &disc, NOW).reply.expect("offer");
    assert_eq!(
        o.options.codes(),
        [53, 54, 51, 1, 3],
        "only what the client asked, besides the must-haves"
    );
    assert_eq!(
        lines(&offer),
        [
            "DHCPDISCOVER from 02:00:00:00:00:01 via eth0",
            "DHCPOFFER on 192.168.0.128 to 02:00:00:00:00:01 via eth0"
        ]
    );
    let a = ack.reply.clone().expect("ack");
    assert_eq!(a.options.message_type(), Some(MessageType::Ack));
    assert_eq!(a.yiaddr, Ipv4Addr::new(192, 168, 0, 128));
    assert!(
        a.options.get(opt::BOOTFILE_NAME).is_none(),
        "67 only when asked"
    );
    assert!(ack.durable);
    assert_eq!(
        lines(&ack),
        [
            "DHCPREQUEST for 192.168.0.128 (192.168.0.1) from 02:00:00:00:00:01 via eth0",
            "DHCPACK on 192.168.0.128 to 02:00:00:00:00:01 via eth0"
        ]
    );
    let b = &view[&Ipv4Addr::new(192, 168, 0, 128)];
    assert_eq!(b.state, State::Active);
    assert_eq!(b.ends, NOW + 1 + 1800);
}

#[test]
fn two_clients_get_two_addresses_and_a_client_gets_its_own_back() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    let (_, a1) = dora(&m, &mut view, 1);
    let (_, a2) = dora(&m, &mut view, 2);
    let y1 = a1.reply.map(|r| r.yiaddr);
    let y2 = a2.reply.map(|r| r.yiaddr);
    assert_ne!(y1, y2);
    let (o, _) = dora(&m, &mut view, 1);
    assert_eq!(o.reply.map(|r| r.yiaddr), y1);
}

#[test]
fn host_declaration_gets_its_fixed_address_and_no_lease_record() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    let (o, a) = dora(&m, &mut view, 0x99);
    assert_eq!(
        o.reply.map(|r| r.yiaddr),
        Some(Ipv4Addr::new(192, 168, 0, 50))
    );
    assert_eq!(
        a.reply.map(|r| r.yiaddr),
        Some(Ipv4Addr::new(192, 168, 0, 50))
    );
    assert!(view.is_empty());
}

#[test]
fn requested_free_address_is_honoured_and_lease_time_is_capped() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    let mut disc = packet(MessageType::Discover, 3);
    disc.options
        .set_ip(opt::REQUESTED_ADDRESS, Ipv4Addr::new(192, 168, 0, 130));
    disc.options.set_u32(opt::LEASE_TIME, 100_000);
    let r = run(&m, &mut view, &disc, NOW).reply.expect("offer");
    assert_eq!(r.yiaddr, Ipv4Addr::new(192, 168, 0, 130));
    assert_eq!(r.options.lease_time(), Some(7200));
}

#[test]
fn pool_exhaustion_logs_no_free_leases() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    for i in 1..=3 {
        dora(&m, &mut view, i);
    }
    let d = run(&m, &mut view, &packet(MessageType::Discover, 9), NOW);
    assert!(d.reply.is_none());
    assert_eq!(
        lines(&d),
        ["DHCPDISCOVER from 02:00:00:00:00:09 via eth0: network 192.168.0.0/24: no free leases"]
    );
    assert_eq!(d.log[0].level, Level::Err);
}

#[test]
fn init_reboot_on_a_wrong_network_is_naked_only_when_authoritative() {
    let mut req = packet(MessageType::Request, 4);
    req.options
        .set_ip(opt::REQUESTED_ADDRESS, Ipv4Addr::new(10, 9, 9, 9));
    let m = model(SEED);
    let d = run(&m, &mut LeaseView::new(), &req, NOW);
    assert!(d.reply.is_none());
    assert_eq!(
        lines(&d),
        ["DHCPREQUEST for 10.9.9.9 from 02:00:00:00:00:04 via eth0: ignored (not authoritative)."]
    );
    let m = model(&format!("authoritative;\n{SEED}"));
    let d = run(&m, &mut LeaseView::new(), &req, NOW);
    let r = d.reply.clone().expect("nak");
    assert_eq!(r.options.message_type(), Some(MessageType::Nak));
    assert_eq!(r.flags & BROADCAST_FLAG, BROADCAST_FLAG);
    assert_eq!(
        lines(&d),
        [
            "DHCPREQUEST for 10.9.9.9 from 02:00:00:00:00:04 via eth0: wrong network.",
            "DHCPNAK on 10.9.9.9 to 02:00:00:00:00:04 via eth0"
        ]
    );
}

#[test]
fn request_for_someone_elses_address_is_naked_when_authoritative() {
    let m = model(&format!("authoritative;\n{SEED}"));
    let mut view = LeaseView::new();
    dora(&m, &mut view, 1);
    let mut req = packet(MessageType::Request, 2);
    req.options
        .set_ip(opt::REQUESTED_ADDRESS, Ipv4Addr::new(192, 168, 0, 128));
    let d = run(&m, &mut view, &req, NOW + 5);
    assert_eq!(
        d.reply.and_then(|r| r.options.message_type()),
        Some(MessageType::Nak)
    );
}

#[test]
fn renewing_extends_and_release_frees() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    dora(&m, &mut view, 1);
    let a = Ipv4Addr::new(192, 168, 0, 128);
    let mut renew = packet(MessageType::Request, 1);
    renew.ciaddr = a;
    let d = run(&m, &mut view, &renew, NOW + 900);
    assert_eq!(
        d.reply.map(|r| (r.options.message_type(), r.yiaddr)),
        Some((Some(MessageType::Ack), a))
    );
    assert_eq!(view[&a].ends, NOW + 900 + 1800);
    let mut rel = packet(MessageType::Release, 1);
    rel.ciaddr = a;
    let d = run(&m, &mut view, &rel, NOW + 1000);
    assert!(d.reply.is_none() && d.durable);
    assert_eq!(
        lines(&d),
        ["DHCPRELEASE of 192.168.0.128 from 02:00:00:00:00:01 via eth0 (found)"]
    );
    assert_eq!(view[&a].state, State::Free);
}

#[test]
fn decline_abandons_and_abandoned_addresses_come_last() {
    let m = model(SEED);
    let mut view = LeaseView::new();
    dora(&m, &mut view, 1);
    let a = Ipv4Addr::new(192, 168, 0, 128);
    let mut dec = packet(MessageType::Decline, 1);
    dec.options.set_ip(opt::REQUESTED_ADDRESS, a);
    let d = run(&m, &mut view, &dec, NOW + 2);
    assert_eq!(view[&a].state, State::Abandoned);
    assert!(lines(&d).contains(&"Abandoning IP address 192.168.0.128: declined."));
    let o = run(&m, &mut view, &packet(MessageType::Discover, 1), NOW + 3);
    assert_eq!(
        o.reply.map(|r| r.yiaddr),
        Some(Ipv4Addr::new(192, 168, 0, 129))
    );
}

#[test]
fn inform_is_answered_only_when_authoritative() {
    let mut inf = packet(MessageType::Inform, 7);
    inf.ciaddr = Ipv4Addr::new(192, 168, 0, 77);
    let d = run(&model(SEED), &mut LeaseView::new(), &inf, NOW);
    assert!(d.reply.is_none());
    let d = run(
        &model(&format!("authoritative;\n{SEED}")),
        &mut LeaseView::new(),
        &inf,
        NOW,
    );
    let r = d.reply.clone().expect("ack");
    assert_eq!(r.options.message_type(), Some(MessageType::Ack));
    assert!(r.options.lease_time().is_none());
    assert_eq!(r.ciaddr, inf.ciaddr);
    assert_eq!(
        lines(&d),
        [
            "DHCPINFORM from 192.168.0.77 via eth0",
            "DHCPACK to 192.168.0.77 (02:00:00:00:00:07) via eth0"
        ]
    );
}

#[test]
fn unknown_segment_is_logged_and_dropped() {
    let m = model(SEED);
    let p = packet(MessageType::Discover, 1);
    let inc = Incoming {
        packet: &p,
        iface: "eth1",
        iface_addr: Ipv4Addr::new(10, 1, 1, 1),
    };
    let d = decide(&inc, &m, &LeaseView::new(), NOW);
    assert!(d.reply.is_none());
    assert_eq!(
        lines(&d),
        ["DHCPDISCOVER from 02:00:00:00:00:01 via eth1: unknown network segment"]
    );
}
