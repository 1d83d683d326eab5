//! Property tests: no input makes the dhcpd.conf or dhcpd.leases parser
//! panic, whether random or a mutation of a real configuration, and a
//! configuration with one bogus keyword injected is refused with a position.

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../../compat/dhcpd/ok/centos5-sample.conf"),
    include_str!("../../../compat/dhcpd/ok/pxelinux-options.conf"),
    include_str!("../../../compat/dhcpd/ok/uefi-bios-class.conf"),
    include_str!("../../../compat/dhcpd/ok/on-commit-log.conf"),
    include_str!("../../../compat/dhcpd/ok/failover-pair.conf"),
    include_str!("../../../compat/dhcpd/ok/switch-case.conf"),
    include_str!("../../../compat/dhcpd/ok/ddns-key-zone.conf"),
];

const LEASES: &str = "lease 10.0.0.5 {\n  starts 4 2026/11/26 10:00:00;\n  ends never;\n  binding state active;\n  hardware ethernet 00:11:22:33:44:55;\n  uid \"\\001abc\";\n  on expiry { set x = 1; }\n}\nfailover peer \"f\" state { my state normal at 4 2026/11/26 10:00:00; }\n";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Applies byte-level edits to a seed.
fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for &(pos, op, byte) in edits {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let i = pos % b.len();
        match op % 4 {
            0 => {
                b.remove(i);
            }
            1 => b.insert(i, byte),
            2 => b[i] = byte,
            _ => b.truncate(i),
        }
    }
    b
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        super::fuzz_parse(&data);
        crate::dhcp::leases::fuzz_parse(&data);
    }

    #[test]
    fn random_token_soup_never_panics(words in proptest::collection::vec(
        prop_oneof![
            Just("subnet"), Just("host"), Just("{"), Just("}"), Just(";"), Just("option"), Just("if"),
            Just("else"), Just("("), Just(")"), Just("\""), Just("10.0.0.1"), Just("netmask"), Just("="),
            Just("range"), Just("pool"), Just("class"), Just("match"), Just("exists"), Just("and"), Just(","),
            Just("code"), Just("array"), Just("of"), Just("lease"), Just("starts"), Just("#"), Just("\n"),
            Just("failover"), Just("peer"), Just("key"), Just("zone"), Just("include"), Just("switch"), Just("case"),
        ], 0..120)) {
        let text = words.join(" ");
        super::fuzz_parse(text.as_bytes());
        crate::dhcp::leases::fuzz_parse(text.as_bytes());
    }

    #[test]
    fn mutated_configs_never_panic(seed in 0..SEEDS.len(), edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let data = mutate(SEEDS[seed], &edits);
        super::fuzz_parse(&data);
    }

    #[test]
    fn mutated_leases_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let data = mutate(LEASES, &edits);
        crate::dhcp::leases::fuzz_parse(&data);
    }

    /// After hickory's unknown-key test: one bogus keyword injected before any
    /// line of a checked-in config is refused, with a position.
    #[test]
    fn an_injected_bogus_keyword_is_refused_with_a_position(seed in 0..SEEDS.len(), line in any::<usize>()) {
        let text = SEEDS[seed];
        let lines: Vec<&str> = text.lines().collect();
        let at = line % lines.len().max(1);
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            if i == at {
                out.push_str("bogus-keyword 1;\n");
            }
            out.push_str(l);
            out.push('\n');
        }
        let loaded = super::load_str("x.conf", &out, false);
        let first = loaded.errors().next();
        prop_assert!(first.is_some(), "accepted:\n{}", out);
        prop_assert!(first.and_then(|f| f.diag.span).is_some());
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!(
        "if {}known{} {{ }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let loaded = super::load_str("x.conf", &deep, false);
    assert!(loaded.has_errors());
    let nots = format!("if {}known {{ }}\n", "not ".repeat(100_000));
    assert!(super::load_str("x.conf", &nots, false).has_errors());
    let braces = "{".repeat(100_000);
    super::fuzz_parse(braces.as_bytes());
    crate::dhcp::leases::fuzz_parse(braces.as_bytes());
    let blocks = "group { ".repeat(50_000);
    super::fuzz_parse(blocks.as_bytes());
}
