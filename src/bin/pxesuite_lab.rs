//! `pxesuite-lab`: PXE-boots a QEMU guest through the reference deployment in
//! a throw-away namespace and prints the boot path. Exit 0 when the guest
//! booted, 1 when it did not, 64 on bad usage.

use pxesuite::lab::boot::{self, Firmware, Impl, LabConfig};
use std::time::Duration;

const USAGE: &str =
    "usage: pxesuite-lab [--bios|--uefi] [--mac MAC] [--per-mac] [--hex-ip [PREFIX]]
                    [--dhcpd ours|isc (ours)] [--xinetd ours|real (ours)] [--tftpd ours|hpa (ours)]
                    [--etc DIR] [--kernel FILE] [--bin-dir DIR] [--timeout SECS] [--keep]";

fn parse(args: &[String]) -> Result<LabConfig, String> {
    let mut cfg = LabConfig::default();
    let mut i = 0;
    let value = |i: &mut usize| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[*i - 1]))
    };
    while i < args.len() {
        match args[i].as_str() {
            "--bios" => cfg.firmware = Firmware::Bios,
            "--uefi" => cfg.firmware = Firmware::Uefi,
            "--per-mac" => cfg.per_mac = true,
            "--keep" => cfg.keep = true,
            "--hex-ip" => {
                let next = args.get(i + 1).filter(|a| !a.starts_with("--"));
                match next {
                    Some(p) if p.len() <= 8 && p.chars().all(|c| c.is_ascii_hexdigit()) => {
                        cfg.hex_ip = Some(p.to_ascii_uppercase());
                        i += 1;
                    }
                    Some(p) => {
                        return Err(format!(
                            "--hex-ip: {p} is not an upper-case hex prefix of up to 8 digits"
                        ))
                    }
                    None => cfg.hex_ip = Some("C0A800".into()),
                }
            }
            "--mac" => {
                let v = value(&mut i)?;
                cfg.mac = pxesuite::pxelinux::parse_mac(&v).ok_or(format!("--mac: bad MAC {v}"))?;
            }
            "--dhcpd" => {
                cfg.dhcpd = match value(&mut i)?.as_str() {
                    "ours" => Impl::Ours,
                    "isc" => Impl::Real,
                    v => return Err(format!("--dhcpd: {v}: expected ours or isc")),
                }
            }
            "--xinetd" => {
                cfg.xinetd = match value(&mut i)?.as_str() {
                    "ours" => Impl::Ours,
                    "real" => Impl::Real,
                    v => return Err(format!("--xinetd: {v}: expected ours or real")),
                }
            }
            "--tftpd" => {
                cfg.tftpd = match value(&mut i)?.as_str() {
                    "ours" => Impl::Ours,
                    "hpa" => Impl::Real,
                    v => return Err(format!("--tftpd: {v}: expected ours or hpa")),
                }
            }
            "--etc" => cfg.etc_dir = value(&mut i)?.into(),
            "--kernel" => cfg.kernel = value(&mut i)?.into(),
            "--bin-dir" => cfg.our_bin_dir = value(&mut i)?.into(),
            "--timeout" => {
                let v = value(&mut i)?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--timeout: {v} is not a number of seconds"))?;
                cfg.timeout = Duration::from_secs(secs);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
        i += 1;
    }
    Ok(cfg)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("pxesuite-lab: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 64 });
        }
    };
    if !pxesuite::sys::is_root() {
        eprintln!("pxesuite-lab: must run as root (it creates a network namespace)");
        std::process::exit(1);
    }
    println!(
        "pxesuite lab: PXE boot of the reference deployment ({}), in a throw-away namespace",
        match cfg.firmware {
            Firmware::Bios => "BIOS",
            Firmware::Uefi => "UEFI",
        }
    );
    match boot::run(&cfg) {
        Ok(report) => {
            print!("{}", report.render());
            std::process::exit(if report.booted() { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("pxesuite-lab: {e}");
            std::process::exit(1);
        }
    }
}
