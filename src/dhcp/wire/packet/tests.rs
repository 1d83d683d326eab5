//! Codec tests from hand-built byte sequences, round trips, and properties.

use super::*;
use crate::dhcp::wire::options::*;
use proptest::prelude::*;

/// The fixed header of a client message: xid 0x3903f326, chaddr 00:0c:29:aa:bb:cc.
fn header(op: u8, flags: u16) -> Vec<u8> {
    let mut b = vec![op, 1, 6, 0, 0x39, 0x03, 0xf3, 0x26, 0, 3];
    b.extend_from_slice(&flags.to_be_bytes());
    b.extend_from_slice(&[0; 16]); // ciaddr yiaddr siaddr giaddr
    b.extend_from_slice(&[0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]);
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&[0; 64 + 128]);
    assert_eq!(b.len(), HEADER_LEN);
    b
}

/// A PXE ROM's DISCOVER as the bytes stand on the wire.
fn pxe_discover() -> Vec<u8> {
    let mut b = header(BOOTREQUEST, BROADCAST_FLAG);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[53, 1, 1]);
    b.extend_from_slice(&[57, 2, 0x04, 0xec]);
    b.extend_from_slice(&[55, 7, 1, 3, 43, 60, 66, 67, 128]);
    b.extend_from_slice(&[97, 17, 0]);
    b.extend(0x10..0x20u8);
    b.extend_from_slice(&[94, 3, 1, 2, 1]);
    b.extend_from_slice(&[93, 2, 0, 0]);
    b.push(60);
    let vc = b"PXEClient:Arch:00000:UNDI:002001";
    b.push(vc.len() as u8);
    b.extend_from_slice(vc);
    b.push(END);
    // PXE ROMs pad their requests with zeros
    b.resize(548, 0);
    b
}

#[test]
fn decodes_a_pxe_discover() {
    let p = decode(&pxe_discover()).unwrap();
    assert_eq!(p.op, BOOTREQUEST);
    assert_eq!(p.xid, 0x3903f326);
    assert_eq!(p.secs, 3);
    assert!(p.broadcast());
    assert_eq!(p.hardware_address(), &[0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]);
    let o = &p.options;
    assert_eq!(o.message_type(), Some(MessageType::Discover));
    assert_eq!(o.max_message_size(), Some(1260));
    assert_eq!(
        o.parameter_request_list(),
        Some(&[1, 3, 43, 60, 66, 67, 128][..])
    );
    assert_eq!(o.client_arch(), Some(vec![0]));
    assert_eq!(o.client_ndi(), Some((1, 2, 1)));
    assert_eq!(o.client_uuid().map(|u| u.1[0]), Some(0x10));
    assert_eq!(
        o.vendor_class(),
        Some(&b"PXEClient:Arch:00000:UNDI:002001"[..])
    );
    assert_eq!(o.codes(), vec![53, 57, 55, 97, 94, 93, 60]);
    assert_eq!(p.overloaded, 0);
    assert!(p.cookie);
}

#[test]
fn round_trips_a_pxe_discover() {
    let p = decode(&pxe_discover()).unwrap();
    let mut out = Vec::new();
    encode(&p, &mut out);
    assert_eq!(decode(&out).unwrap(), p);
    // the encoding is the original up to END; the rest is padding
    let end = pxe_discover().iter().rposition(|&b| b == END).unwrap();
    assert_eq!(out[..=end], pxe_discover()[..=end]);
}

#[test]
fn rejects_short_and_overrunning_packets_with_their_offset() {
    let e = decode(&[0; 100]).unwrap_err();
    assert_eq!(e.offset, 100);
    assert!(matches!(e.kind, DecodeErrorKind::TooShort { len: 100 }));

    let mut b = header(BOOTREQUEST, 0);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[53, 1, 1, 12, 9, b'a', b'b']);
    let e = decode(&b).unwrap_err();
    assert_eq!(e.offset, 243);
    assert_eq!(e.kind, DecodeErrorKind::OptionOverrun { code: 12, len: 9 });
    assert!(e.to_string().contains("at byte 243"), "{e}");

    let mut b = header(BOOTREQUEST, 0);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[0, 0, 12]);
    let e = decode(&b).unwrap_err();
    assert_eq!(e.offset, 242);
    assert_eq!(e.kind, DecodeErrorKind::MissingLength { code: 12 });
}

#[test]
fn accepts_a_missing_end_and_garbage_after_end() {
    let mut b = header(BOOTREQUEST, 0);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[53, 1, 3]);
    assert_eq!(
        decode(&b).unwrap().options.message_type(),
        Some(MessageType::Request)
    );
    b.extend_from_slice(&[END, 12, 200, 1]);
    assert_eq!(decode(&b).unwrap().options.codes(), vec![53]);
}

#[test]
fn bootp_without_cookie_has_no_options() {
    let mut b = header(BOOTREQUEST, 0);
    b.extend_from_slice(&[0; 64]);
    let p = decode(&b).unwrap();
    assert!(!p.cookie);
    assert!(p.options.is_empty());
    // exactly the fixed header is a packet too
    assert!(decode(&b[..HEADER_LEN]).is_ok());
}

#[test]
fn concatenates_split_instances_across_overloaded_fields() {
    // RFC 3396 §7: options field, then file, then sname.
    let mut b = header(BOOTREPLY, 0);
    b[FILE_AT..FILE_AT + 6].copy_from_slice(&[43, 2, b'c', b'd', 12, 1]);
    b[FILE_AT + 6] = b'h';
    b[FILE_AT + 7] = END;
    b[SNAME_AT..SNAME_AT + 5].copy_from_slice(&[43, 2, b'e', b'f', END]);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[53, 1, 2, 52, 1, 3, 43, 2, b'a', b'b', END]);
    let p = decode(&b).unwrap();
    assert_eq!(p.overloaded, 3);
    assert_eq!(p.options.get(43), Some(&b"abcdef"[..]));
    assert_eq!(p.options.get(12), Some(&b"h"[..]));
    assert_eq!(p.options.codes(), vec![53, 43, 12]);
    assert_eq!(p.file, [0; 128]);
    assert_eq!(p.sname, [0; 64]);
    assert!(!p.options.contains(OVERLOAD));
}

#[test]
fn a_bad_option_inside_file_names_its_offset() {
    let mut b = header(BOOTREPLY, 0);
    b[FILE_AT..FILE_AT + 2].copy_from_slice(&[12, 200]);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[52, 1, 1, END]);
    let e = decode(&b).unwrap_err();
    assert_eq!(e.offset, FILE_AT);
}

#[test]
fn without_overload_file_and_sname_are_names() {
    let mut b = header(BOOTREPLY, 0);
    b[FILE_AT..FILE_AT + 10].copy_from_slice(b"pxelinux.0");
    b[SNAME_AT..SNAME_AT + 3].copy_from_slice(b"srv");
    b.extend_from_slice(&MAGIC_COOKIE);
    b.push(END);
    let p = decode(&b).unwrap();
    assert_eq!(p.file_name(), b"pxelinux.0");
    assert_eq!(p.server_name(), b"srv");
}

fn seed_offer() -> Packet {
    let req = decode(&pxe_discover()).unwrap();
    let mut r = Packet::reply_to(&req);
    r.yiaddr = Ipv4Addr::new(192, 168, 0, 128);
    r.siaddr = Ipv4Addr::new(192, 168, 0, 1);
    assert!(r.set_file_name(b"pxelinux.0"));
    let o = &mut r.options;
    o.set_ip(SUBNET_MASK, Ipv4Addr::new(255, 255, 255, 0));
    o.set_ip(ROUTERS, Ipv4Addr::new(192, 168, 0, 1));
    o.set_ip(DOMAIN_NAME_SERVERS, Ipv4Addr::new(192, 168, 0, 1));
    o.set_ip(BROADCAST_ADDRESS, Ipv4Addr::new(192, 168, 0, 255));
    o.set_u32(LEASE_TIME, 1800);
    o.set_ip(SERVER_ID, Ipv4Addr::new(192, 168, 0, 1));
    o.set_message_type(MessageType::Offer);
    r
}

#[test]
fn replies_are_padded_to_300_bytes() {
    let r = seed_offer();
    let mut out = Vec::new();
    let e = encode_reply_options(&r, Some(&[1, 3, 6, 28]), None, &mut out);
    assert_eq!(out.len(), MIN_BOOTP_LEN);
    assert_eq!(e.len, MIN_BOOTP_LEN);
    assert_eq!(e.overload, 0);
    let back = decode(&out).unwrap();
    assert_eq!(back.op, BOOTREPLY);
    assert_eq!(back.xid, 0x3903f326);
    assert!(back.broadcast());
    assert_eq!(back.file_name(), b"pxelinux.0");
    assert_eq!(back.options.codes(), vec![53, 54, 51, 1, 3, 6, 28]);
    // the options field starts with the message type, in bytes
    assert_eq!(out[OPTIONS_AT..OPTIONS_AT + 3], [53, 1, 2]);
}

#[test]
fn long_options_are_split_and_rejoined() {
    let mut p = Packet::default();
    let long: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    p.options.set(VENDOR_ENCAPSULATED_OPTIONS, long.clone());
    p.options.set(MESSAGE_TYPE, vec![1]);
    let mut out = Vec::new();
    let e = encode_limited(&p, 1500, &mut out);
    assert!(e.dropped.is_empty());
    assert_eq!(e.overload, 0);
    // three instances: 255 + 255 + 90
    assert_eq!(out[OPTIONS_AT..OPTIONS_AT + 2], [43, 255]);
    assert_eq!(out[OPTIONS_AT + 257..OPTIONS_AT + 259], [43, 255]);
    assert_eq!(out[OPTIONS_AT + 514..OPTIONS_AT + 516], [43, 90]);
    let back = decode(&out).unwrap();
    assert_eq!(back.options.get(43), Some(&long[..]));
    assert_eq!(back, p);
}

#[test]
fn overloads_only_when_the_options_do_not_fit() {
    let mut p = seed_offer();
    p.file = [0; 128];
    // 300 bytes of options: more than the 307 the options field has after
    // the seed's options.
    p.options.set(HOST_NAME, vec![b'x'; 200]);
    p.options.set(MESSAGE, vec![b'm'; 100]);
    let mut out = Vec::new();
    let big = encode_limited(&p, 1500, &mut out);
    assert_eq!(big.overload, 0, "fits in 1500");
    let e = encode_limited(&p, 576, &mut out);
    assert!(out.len() <= 548, "{}", out.len());
    assert!(e.dropped.is_empty(), "{:?}", e.dropped);
    assert_eq!(e.overload, 1);
    let back = decode(&out).unwrap();
    assert_eq!(back.overloaded, 1);
    assert_eq!(back.options, p.options);
    // `file` is in use: only `sname` can take options
    assert!(p.set_file_name(b"pxelinux.0"));
    let e = encode_limited(&p, 576, &mut out);
    assert_eq!(e.overload, 2);
    let back = decode(&out).unwrap();
    assert_eq!(back.file_name(), b"pxelinux.0");
    assert_eq!(back.options.get(MESSAGE).map(|m| m.len()), Some(100));
}

#[test]
fn options_that_do_not_fit_are_dropped_last_first() {
    let mut p = seed_offer();
    p.set_server_name(b"srv");
    p.options.set(HOST_NAME, vec![b'x'; 250]);
    p.options.set(MESSAGE, vec![b'm'; 250]);
    let mut out = Vec::new();
    let e = encode_limited(&p, 576, &mut out);
    assert_eq!(e.dropped, vec![MESSAGE]);
    let back = decode(&out).unwrap();
    assert_eq!(back.options.get(HOST_NAME).map(|h| h.len()), Some(250));
    assert!(!back.options.contains(MESSAGE));
    assert_eq!(back.options.message_type(), Some(MessageType::Offer));
    assert!(out.len() <= 548);
}

#[test]
fn a_value_too_long_for_any_one_area_is_split_across_them() {
    let mut p = Packet::default();
    p.options.set_message_type(MessageType::Ack);
    p.options.set(43, vec![7; 255]);
    p.options.set(HOST_NAME, vec![b'h'; 200]);
    let mut out = Vec::new();
    let e = encode_limited(&p, 576, &mut out);
    assert!(e.dropped.is_empty(), "{:?}", e.dropped);
    assert_ne!(e.overload, 0);
    assert_eq!(decode(&out).unwrap().options, p.options);
}

#[test]
fn zero_length_options_survive() {
    let mut p = Packet::default();
    p.options.set(80, Vec::new()); // rapid commit (RFC 4039)
    let mut out = Vec::new();
    encode(&p, &mut out);
    assert_eq!(decode(&out).unwrap().options.get(80), Some(&[][..]));
}

#[test]
fn max_message_size_below_576_counts_as_576() {
    let p = seed_offer();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    encode_limited(&p, 100, &mut a);
    encode_limited(&p, 576, &mut b);
    assert_eq!(a, b);
}

#[test]
fn fuzz_entry_point_takes_anything() {
    assert!(!crate::dhcp::wire::fuzz_decode(&[]));
    assert!(crate::dhcp::wire::fuzz_decode(&pxe_discover()));
}

fn arb_packet() -> impl Strategy<Value = Packet> {
    let opts = proptest::collection::vec(
        (1u8..=254, proptest::collection::vec(any::<u8>(), 0..300)),
        0..8,
    );
    (
        any::<[u8; 4]>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        any::<[u8; 16]>(),
        any::<bool>(),
        any::<bool>(),
        opts,
    )
        .prop_map(|(h, xid, secs, flags, chaddr, file, sname, opts)| {
            let mut p = Packet {
                op: h[0],
                htype: h[1],
                hlen: h[2],
                hops: h[3],
                xid,
                secs,
                flags,
                chaddr,
                ciaddr: Ipv4Addr::from(xid),
                ..Packet::default()
            };
            if file {
                p.set_file_name(b"pxelinux.0");
            }
            if sname {
                p.set_server_name(b"boot");
            }
            for (code, data) in opts {
                if code != OVERLOAD {
                    p.options.append(code, &data);
                }
            }
            p
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = crate::dhcp::wire::fuzz_decode(&b);
    }

    #[test]
    fn arbitrary_bytes_after_a_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600), ov in 0u8..=3) {
        let mut b = header(BOOTREQUEST, 0);
        b[FILE_AT..FILE_AT + tail.len().min(128)].copy_from_slice(&tail[..tail.len().min(128)]);
        b.extend_from_slice(&MAGIC_COOKIE);
        b.extend_from_slice(&[52, 1, ov]);
        b.extend_from_slice(&tail);
        let _ = crate::dhcp::wire::fuzz_decode(&b);
    }

    /// What decodes, encodes to something that decodes to the same packet.
    #[test]
    fn decode_encode_decode_is_stable(b in proptest::collection::vec(any::<u8>(), 236..700)) {
        if let Ok(p1) = decode(&b) {
            let mut out = Vec::new();
            let e = encode_limited(&p1, 65535, &mut out);
            let p2 = decode(&out).unwrap();
            if e.dropped.is_empty() {
                prop_assert_eq!(&p2.options, &p1.options);
            }
            let mut out2 = Vec::new();
            encode_limited(&p2, 65535, &mut out2);
            prop_assert_eq!(out, out2);
        }
    }

    /// Every packet round-trips within the client's size, or names what it dropped.
    #[test]
    fn encoded_packets_round_trip_within_size(p in arb_packet(), mms in 576u16..1500) {
        let mut out = Vec::new();
        let e = encode_limited(&p, mms, &mut out);
        prop_assert!(out.len() >= MIN_BOOTP_LEN);
        prop_assert!(out.len() <= (mms as usize - 28).max(MIN_BOOTP_LEN));
        let back = decode(&out).unwrap();
        prop_assert_eq!(back.xid, p.xid);
        prop_assert_eq!(back.chaddr, p.chaddr);
        prop_assert_eq!(back.flags, p.flags);
        if e.overload & 1 == 0 { prop_assert_eq!(back.file, p.file); }
        if e.overload & 2 == 0 { prop_assert_eq!(back.sname, p.sname); }
        let kept: Options = p.options.iter().filter(|o| !e.dropped.contains(&o.code)).cloned().collect();
        prop_assert_eq!(back.options, kept);
    }
}
