//! The lab's QEMU PXE boot as a test: a guest with iPXE firmware boots the
//! reference deployment in BIOS and UEFI mode, and the boot path shows which
//! server answered each step and pxelinux's config search order (P-CFG).

use crate::harness::*;
use pxesuite::lab::boot::{self, Firmware, Impl, LabConfig, Step};
use std::time::Duration;

/// Which implementation runs dhcpd, xinetd and in.tftpd.
#[derive(Clone, Copy)]
struct Stack {
    dhcpd: Impl,
    xinetd: Impl,
    tftpd: Impl,
}

const REAL_PEERS: Stack = Stack {
    dhcpd: Impl::Real,
    xinetd: Impl::Real,
    tftpd: Impl::Real,
};
const OUR_TFTPD_UNDER_REAL_XINETD: Stack = Stack {
    dhcpd: Impl::Real,
    xinetd: Impl::Real,
    tftpd: Impl::Ours,
};
const ALL_OURS: Stack = Stack {
    dhcpd: Impl::Ours,
    xinetd: Impl::Ours,
    tftpd: Impl::Ours,
};

fn lab_config(firmware: Firmware, stack: Stack) -> LabConfig {
    LabConfig {
        firmware,
        our_bin_dir: ours("in.tftpd")
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
        timeout: Duration::from_secs(400),
        dhcpd: stack.dhcpd,
        xinetd: stack.xinetd,
        tftpd: stack.tftpd,
        ..LabConfig::default()
    }
}

fn tftp_files(steps: &[Step]) -> Vec<(String, bool)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Tftp { file, found } => Some((file.clone(), *found)),
            _ => None,
        })
        .collect()
}

fn run_lab(cfg: &LabConfig) -> Option<boot::LabReport> {
    if let Some(b) = namespace_blocker() {
        skip("lab", &b);
        return None;
    }
    let missing = boot::missing_requirements(cfg);
    if !missing.is_empty() {
        skip(
            "lab",
            &format!("missing {} (run tests/deps.sh)", missing.join(", ")),
        );
        return None;
    }
    let report = boot::run(cfg).expect("lab run");
    eprintln!("{}", report.render());
    assert!(
        report.booted(),
        "the guest did not boot:\n{}",
        report.render()
    );
    Some(report)
}

/// Which program ran each component, and that each answered its step.
fn assert_components(report: &boot::LabReport, stack: Stack) {
    let comp: std::collections::BTreeMap<_, _> = report.components.iter().cloned().collect();
    let is = |name: &str, imp: Impl, real: &str| match imp {
        Impl::Ours => {
            comp[name].starts_with("pxesuite (") && comp[name].contains(&format!("/{name} "))
                || comp[name].ends_with(&format!("/{name})"))
        }
        Impl::Real => comp[name].starts_with(real),
    };
    assert!(is("dhcpd", stack.dhcpd, "ISC dhcpd"), "{comp:?}");
    assert!(is("xinetd", stack.xinetd, "xinetd 2.3"), "{comp:?}");
    assert!(is("in.tftpd", stack.tftpd, "tftpd-hpa"), "{comp:?}");
    // dhcpd answered, xinetd started the TFTP server, which served the NBP
    assert!(report
        .steps
        .iter()
        .any(|s| matches!(s, Step::Dhcp(m) if m.starts_with("DHCPACK on 192.168.0."))));
    assert!(report
        .steps
        .iter()
        .any(|s| matches!(s, Step::Xinetd(m) if m.starts_with("START: tftp"))));
}

/// The seed's deployment, BIOS, through the real peers: pxelinux.0,
/// ldlinux.c32, then the P-CFG search down to `default`, then the label's
/// kernel and initrd.
#[test]
fn lab_bios_boots_through_the_real_peers_with_the_seed_search_order() {
    let cfg = lab_config(Firmware::Bios, REAL_PEERS);
    let Some(report) = run_lab(&cfg) else { return };
    assert_components(&report, REAL_PEERS);
    assert_seed_search_order(&report);
}

/// The lab's default: pxesuite's dhcpd, xinetd and in.tftpd, BIOS, the same
/// boot path as with the real peers.
#[test]
fn lab_default_bios_boots_through_our_dhcpd_xinetd_and_in_tftpd() {
    let cfg = lab_config(Firmware::Bios, ALL_OURS);
    assert_eq!((cfg.dhcpd, cfg.xinetd, cfg.tftpd), {
        let d = LabConfig::default();
        (d.dhcpd, d.xinetd, d.tftpd)
    });
    let Some(report) = run_lab(&cfg) else { return };
    assert_components(&report, ALL_OURS);
    assert_seed_search_order(&report);
}

fn assert_seed_search_order(report: &boot::LabReport) {
    assert_eq!(report.label.as_deref(), Some("linux"));
    let files = tftp_files(&report.steps);
    let names: Vec<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
    let first_cfg = names
        .iter()
        .position(|f| f.starts_with("pxelinux.cfg/"))
        .expect("a config request");
    assert_eq!(&names[..2], &["pxelinux.0", "ldlinux.c32"]);
    assert_eq!(names[first_cfg], "pxelinux.cfg/01-52-54-00-12-34-56");
    // the eight hex-IP prefixes, longest first, all missing, then default found
    let hex: Vec<&(String, bool)> = files[first_cfg + 1..first_cfg + 9].iter().collect();
    for (i, (f, found)) in hex.iter().enumerate() {
        assert_eq!(f.len(), "pxelinux.cfg/".len() + 8 - i, "{f}");
        assert!(f.starts_with("pxelinux.cfg/C0A8") || i >= 4, "{f}");
        assert!(!found, "{f} should be missing");
    }
    assert_eq!(
        files[first_cfg + 9],
        ("pxelinux.cfg/default".to_string(), true)
    );
    assert!(files.contains(&("vmlinuz".to_string(), true)));
    assert!(files.contains(&("initrd.img".to_string(), true)));
    let marker = report.marker.clone().unwrap_or_default();
    assert!(marker.contains("BOOTIF=01-52-54-00-12-34-56"), "{marker}");
}

/// A hex-IP prefix config (`C0A800`, all of 192.168.0.x) is found before
/// `default`; our in.tftpd under the real xinetd.
#[test]
fn lab_bios_our_in_tftpd_under_real_xinetd_finds_the_hex_ip_config() {
    let mut cfg = lab_config(Firmware::Bios, OUR_TFTPD_UNDER_REAL_XINETD);
    cfg.hex_ip = Some("C0A800".into());
    cfg.mac = [0x52, 0x54, 0x00, 0xab, 0xcd, 0x01];
    let Some(report) = run_lab(&cfg) else { return };
    assert_components(&report, OUR_TFTPD_UNDER_REAL_XINETD);
    assert_eq!(report.label.as_deref(), Some("hexip"));
    let files = tftp_files(&report.steps);
    assert!(
        files.contains(&("pxelinux.cfg/C0A800".to_string(), true)),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|(f, _)| f == "pxelinux.cfg/default"),
        "{files:?}"
    );
}

/// UEFI (OVMF + iPXE) through the real peers: the guest's host declaration
/// gives syslinux.efi, which finds the per-MAC config.
#[test]
fn lab_uefi_boots_syslinux_efi_through_the_real_peers() {
    uefi_per_mac(REAL_PEERS);
}

/// UEFI with our in.tftpd under the real xinetd.
#[test]
fn lab_uefi_our_in_tftpd_under_real_xinetd() {
    uefi_per_mac(OUR_TFTPD_UNDER_REAL_XINETD);
}

/// UEFI with the lab's default: our dhcpd, xinetd and in.tftpd.
#[test]
fn lab_default_uefi_boots_through_our_dhcpd_xinetd_and_in_tftpd() {
    uefi_per_mac(ALL_OURS);
}

fn uefi_per_mac(stack: Stack) {
    let mut cfg = lab_config(Firmware::Uefi, stack);
    cfg.per_mac = true;
    let Some(report) = run_lab(&cfg) else { return };
    assert_components(&report, stack);
    assert_eq!(report.label.as_deref(), Some("permac"));
    let files = tftp_files(&report.steps);
    assert_eq!(
        files.first(),
        Some(&("syslinux.efi".to_string(), true)),
        "{files:?}"
    );
    assert!(
        files.contains(&("ldlinux.e64".to_string(), true)),
        "{files:?}"
    );
    assert!(
        files.contains(&("pxelinux.cfg/01-52-54-00-12-34-56".to_string(), true)),
        "{files:?}"
    );
}
