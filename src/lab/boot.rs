//! The lab's PXE boot: lays out the reference deployment (`etc/`) in a
//! scratch directory, starts dhcpd and xinetd (which starts in.tftpd) in a
//! throw-away namespace with a bridge and a tap, boots a QEMU guest with iPXE
//! firmware from it, and reconstructs the boot path from the daemons' syslog
//! records and the guest's serial console.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cpio::{self, Entry};
use super::netns::{unique_name, Netns};
use super::proc::{wait_udp_port, Daemon};
use super::sink::{Record, ScratchDir, SyslogSink};

/// The line the guest's `/init` prints once the kernel and initrd have booted.
pub const MARKER: &str = "PXESUITE-LAB-MARKER";

/// Which implementation runs a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Real,
}

/// Firmware of the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// Everything the lab needs to know; `Default` is the built-in lab.
#[derive(Debug, Clone)]
pub struct LabConfig {
    pub firmware: Firmware,
    pub mac: [u8; 6],
    pub per_mac: bool,
    pub hex_ip: Option<String>,
    pub dhcpd: Impl,
    pub xinetd: Impl,
    pub tftpd: Impl,
    /// The repository's `etc/` (reference deployment).
    pub etc_dir: PathBuf,
    /// The guest kernel (a Debian vmlinuz).
    pub kernel: PathBuf,
    /// Our binaries: dhcpd, xinetd, in.tftpd (a link named `in.tftpd`).
    pub our_bin_dir: PathBuf,
    pub timeout: Duration,
    pub keep: bool,
}

impl Default for LabConfig {
    fn default() -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        LabConfig {
            firmware: Firmware::Bios,
            mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            per_mac: false,
            hex_ip: None,
            // Each component defaults to pxesuite's once its replacement has landed.
            dhcpd: Impl::Ours,
            xinetd: Impl::Ours,
            tftpd: Impl::Ours,
            etc_dir: manifest.join("etc"),
            kernel: manifest.join("target/lab-cache/vmlinuz"),
            our_bin_dir: std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from(".")),
            timeout: Duration::from_secs(300),
            keep: false,
        }
    }
}

/// One step of the boot path as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A dhcpd log line (DHCPDISCOVER, DHCPOFFER, …).
    Dhcp(String),
    /// xinetd started a server.
    Xinetd(String),
    /// A TFTP read request and whether the file was served.
    Tftp { file: String, found: bool },
    /// Any other line from a daemon worth showing (errors).
    Other(String),
}

/// What the lab saw.
#[derive(Debug, Clone)]
pub struct LabReport {
    pub components: Vec<(String, String)>,
    pub steps: Vec<Step>,
    pub marker: Option<String>,
    pub label: Option<String>,
    pub elapsed: Duration,
    pub accel: String,
    pub console_tail: Vec<String>,
    pub workdir: PathBuf,
}

impl LabReport {
    pub fn booted(&self) -> bool {
        self.marker.is_some()
    }

    /// The report as the lab prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("components:\n");
        for (k, v) in &self.components {
            out.push_str(&format!("  {k:<9} {v}\n"));
        }
        out.push_str("boot path:\n");
        for s in &self.steps {
            match s {
                Step::Dhcp(m) => out.push_str(&format!("  dhcp      {m}\n")),
                Step::Xinetd(m) => out.push_str(&format!("  xinetd    {m}\n")),
                Step::Tftp { file, found } => out.push_str(&format!(
                    "  tftp      RRQ {file:<40} {}\n",
                    if *found { "found" } else { "not found" }
                )),
                Step::Other(m) => out.push_str(&format!("  log       {m}\n")),
            }
        }
        match (&self.marker, &self.label) {
            (Some(m), label) => {
                out.push_str(&format!(
                    "  label     {}\n",
                    label.as_deref().unwrap_or("?")
                ));
                out.push_str(&format!("  guest     {m}\n"));
                out.push_str(&format!(
                    "result: booted in {:.1} s ({})\n",
                    self.elapsed.as_secs_f64(),
                    self.accel
                ));
            }
            (None, _) => {
                out.push_str("guest console (last lines):\n");
                for l in &self.console_tail {
                    out.push_str(&format!("  | {l}\n"));
                }
                out.push_str(&format!(
                    "result: NO BOOT within {:.0} s ({}); lab directory {}\n",
                    self.elapsed.as_secs_f64(),
                    self.accel,
                    self.workdir.display()
                ));
            }
        }
        out
    }
}

fn mac_string(mac: &[u8; 6], sep: &str) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

const PXELINUX_0: &str = "/usr/lib/PXELINUX/pxelinux.0";
const LDLINUX_C32: &str = "/usr/lib/syslinux/modules/bios/ldlinux.c32";
const SYSLINUX_EFI: &str = "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi";
const LDLINUX_E64: &str = "/usr/lib/syslinux/modules/efi64/ldlinux.e64";
const OVMF: &str = "/usr/share/ovmf/OVMF.fd";
const BUSYBOX: &str = "/bin/busybox";
const QEMU: &str = "qemu-system-x86_64";

/// What is missing on this machine for the lab, if anything.
pub fn missing_requirements(cfg: &LabConfig) -> Vec<String> {
    let mut need: Vec<PathBuf> = vec![
        PXELINUX_0.into(),
        LDLINUX_C32.into(),
        BUSYBOX.into(),
        cfg.kernel.clone(),
    ];
    if cfg.firmware == Firmware::Uefi {
        need.extend([SYSLINUX_EFI.into(), LDLINUX_E64.into(), OVMF.into()]);
    }
    for (imp, real) in [
        (cfg.dhcpd, "/usr/sbin/dhcpd"),
        (cfg.xinetd, "/usr/sbin/xinetd"),
        (cfg.tftpd, "/usr/sbin/in.tftpd"),
    ] {
        if imp == Impl::Real {
            need.push(real.into());
        }
    }
    let mut missing: Vec<String> = need
        .into_iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        missing.push(QEMU.to_string());
    }
    missing
}

/// Builds the guest's initrd: busybox and an `/init` that prints the marker
/// with the kernel command line (which carries pxelinux's `BOOTIF=` and `ip=`) and powers off.
pub fn build_initrd() -> io::Result<Vec<u8>> {
    let busybox = fs::read(BUSYBOX)?;
    let init = format!(
        "#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\n\
         echo \"{MARKER} $(/bin/busybox cat /proc/cmdline)\"\n\
         /bin/busybox poweroff -f\n"
    );
    Ok(cpio::write_newc(&[
        Entry::Dir {
            path: "bin".into(),
            mode: 0o755,
        },
        Entry::Dir {
            path: "dev".into(),
            mode: 0o755,
        },
        Entry::CharDev {
            path: "dev/console".into(),
            mode: 0o600,
            major: 5,
            minor: 1,
        },
        Entry::Dir {
            path: "proc".into(),
            mode: 0o755,
        },
        Entry::File {
            path: "bin/busybox".into(),
            mode: 0o755,
            data: busybox,
        },
        Entry::Symlink {
            path: "bin/sh".into(),
            target: "busybox".into(),
        },
        Entry::File {
            path: "init".into(),
            mode: 0o755,
            data: init.into_bytes(),
        },
    ]))
}

fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", from.display())))?;
    fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o644))
}

/// Lays out tftpboot and the configs under `dir`; returns (dhcpd.conf, xinetd.conf).
fn lay_out(cfg: &LabConfig, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let root = dir.join("tftpboot");
    let cfgdir = root.join("pxelinux.cfg");
    fs::create_dir_all(&cfgdir)?;
    let etc = &cfg.etc_dir;
    copy_file(
        &etc.join("tftpboot/pxelinux.cfg/default"),
        &cfgdir.join("default"),
    )?;
    copy_file(&etc.join("tftpboot/boot.msg"), &root.join("boot.msg"))?;
    copy_file(Path::new(PXELINUX_0), &root.join("pxelinux.0"))?;
    copy_file(Path::new(LDLINUX_C32), &root.join("ldlinux.c32"))?;
    if cfg.firmware == Firmware::Uefi {
        copy_file(Path::new(SYSLINUX_EFI), &root.join("syslinux.efi"))?;
        copy_file(Path::new(LDLINUX_E64), &root.join("ldlinux.e64"))?;
    }
    copy_file(&cfg.kernel, &root.join("vmlinuz"))?;
    fs::write(root.join("initrd.img"), build_initrd()?)?;
    let label_cfg = |label: &str| {
        format!(
            "default {label}\nlabel {label}\nkernel vmlinuz\nappend initrd=initrd.img console=ttyS0 panic=-1 pxesuite.label={label}\nipappend 3\n"
        )
    };
    if cfg.per_mac {
        fs::write(
            cfgdir.join(format!("01-{}", mac_string(&cfg.mac, "-"))),
            label_cfg("permac"),
        )?;
    }
    if let Some(prefix) = &cfg.hex_ip {
        fs::write(cfgdir.join(prefix), label_cfg("hexip"))?;
    }

    let mut dhcpd_conf = fs::read_to_string(etc.join("dhcpd.conf"))?;
    if cfg.firmware == Firmware::Uefi {
        // The UEFI guest gets the EFI loader through a host declaration (a
        // per-host boot file, as CentOS-5-era sites wrote them); selection by
        // client architecture (option 93) needs conditional evaluation in dhcpd.
        dhcpd_conf = format!(
            "{dhcpd_conf}\nhost lab-guest {{\n  hardware ethernet {};\n  filename \"syslinux.efi\";\n}}\n",
            mac_string(&cfg.mac, ":")
        );
    }
    let dconf = dir.join("dhcpd.conf");
    fs::write(&dconf, dhcpd_conf)?;
    fs::write(dir.join("dhcpd.leases"), "")?;

    let xd = dir.join("xinetd.d");
    fs::create_dir_all(&xd)?;
    let tftpd = match cfg.tftpd {
        Impl::Real => PathBuf::from("/usr/sbin/in.tftpd"),
        Impl::Ours => cfg.our_bin_dir.join("in.tftpd"),
    };
    // `-v -v` makes both TFTP servers log each request and each refusal (T-LOG-1).
    let service = fs::read_to_string(etc.join("xinetd.d/tftp"))?
        .replace("/usr/sbin/in.tftpd", &tftpd.display().to_string())
        .replace("-s /tftpboot", &format!("-v -v -s {}", root.display()));
    fs::write(xd.join("tftp"), service)?;
    let xconf = dir.join("xinetd.conf");
    fs::write(
        &xconf,
        fs::read_to_string(etc.join("xinetd.conf"))?
            .replace("/etc/xinetd.d", &xd.display().to_string()),
    )?;
    Ok((dconf, xconf))
}

/// True when KVM can be used: the device opens and the CPU has vmx or svm.
fn kvm_usable() -> bool {
    let cpu = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = cpu.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let virt = flags.split_whitespace().any(|f| f == "vmx" || f == "svm");
    virt && fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

/// Runs the lab once.
pub fn run(cfg: &LabConfig) -> io::Result<LabReport> {
    let missing = missing_requirements(cfg);
    if !missing.is_empty() {
        return Err(io::Error::other(format!(
            "missing: {} (run tests/deps.sh)",
            missing.join(", ")
        )));
    }
    // Our binaries are named in config files read from other directories: absolute paths only.
    let mut cfg = cfg.clone();
    cfg.our_bin_dir = fs::canonicalize(&cfg.our_bin_dir).unwrap_or(cfg.our_bin_dir.clone());
    let cfg = &cfg;
    let mut scratch = ScratchDir::new("lab")?;
    if cfg.keep {
        scratch.keep();
    }
    let dir = scratch.path().to_path_buf();
    let (dconf, xconf) = lay_out(cfg, &dir)?;

    let ns = Netns::new("lab")?;
    let br = unique_name("br");
    let tap = unique_name("tap");
    ns.bridge(&br)?;
    ns.addr(&br, "192.168.0.1/24")?;
    ns.tap(&tap, Some(&br))?;
    let sink = SyslogSink::new()?;

    let bin = |imp: Impl, ours: &str, real: &str| match imp {
        Impl::Ours => cfg.our_bin_dir.join(ours).display().to_string(),
        Impl::Real => real.to_string(),
    };
    let dhcpd_bin = bin(cfg.dhcpd, "dhcpd", "/usr/sbin/dhcpd");
    let xinetd_bin = bin(cfg.xinetd, "xinetd", "/usr/sbin/xinetd");
    let s = |p: &Path| p.display().to_string();
    let mut components = vec![
        (
            "dhcpd".to_string(),
            describe(cfg.dhcpd, &dhcpd_bin, "ISC dhcpd 4.4"),
        ),
        (
            "xinetd".to_string(),
            describe(cfg.xinetd, &xinetd_bin, "xinetd 2.3.15"),
        ),
        (
            "in.tftpd".to_string(),
            describe(
                cfg.tftpd,
                &bin(cfg.tftpd, "in.tftpd", "/usr/sbin/in.tftpd"),
                "tftpd-hpa 5.2",
            ),
        ),
    ];
    let mut dargs = vec!["-f".to_string()];
    if cfg.dhcpd == Impl::Real {
        dargs.push("-4".into());
    }
    dargs.extend([
        "-cf".into(),
        s(&dconf),
        "-lf".into(),
        s(&dir.join("dhcpd.leases")),
        "-pf".into(),
        s(&dir.join("dhcpd.pid")),
        br.clone(),
    ]);
    let mut dhcpd = Daemon::spawn("dhcpd", Some(&ns), Some(&sink), &dhcpd_bin, &dargs)?;
    let xargs = vec![
        "-dontfork".to_string(),
        "-f".into(),
        s(&xconf),
        "-pidfile".into(),
        s(&dir.join("xinetd.pid")),
    ];
    let mut xinetd = Daemon::spawn("xinetd", Some(&ns), Some(&sink), &xinetd_bin, &xargs)?;
    // dhcpd is ready once it has announced its sockets (ISC's and ours log the
    // same lines; ours listens on packet sockets only, so UDP 67 may stay unbound).
    let dhcpd_ready = sink
        .wait_for(Duration::from_secs(20), |r| {
            r.ident == "dhcpd" && r.msg.starts_with("Sending on   Socket/fallback")
        })
        .is_some();
    let xinetd_ready = dhcpd_ready && wait_udp_port(&ns, 69, Duration::from_secs(20));
    for (d, ready, what) in [
        (&mut dhcpd, dhcpd_ready, "announce its sockets"),
        (&mut xinetd, xinetd_ready, "bind UDP 69"),
    ] {
        if !ready {
            let status = d.try_status();
            return Err(io::Error::other(format!(
                "{} did not {what}: status {:?}; stderr: {}; syslog: {:?}",
                d.name,
                status,
                d.stderr().trim(),
                sink.lines()
            )));
        }
    }

    let accel = if kvm_usable() { "kvm" } else { "tcg" };
    components.push((
        "guest".into(),
        format!(
            "QEMU {} firmware, MAC {}, accel {accel}",
            match cfg.firmware {
                Firmware::Bios => "BIOS (iPXE)",
                Firmware::Uefi => "UEFI (OVMF + iPXE)",
            },
            mac_string(&cfg.mac, ":")
        ),
    ));
    let mut qargs: Vec<String> = [
        "-machine",
        "q35",
        "-m",
        "512",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-no-reboot",
        "-boot",
        "n",
        "-accel",
        accel,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    qargs[1] = "pc".into();
    if cfg.firmware == Firmware::Uefi {
        qargs.extend(["-bios".into(), OVMF.into()]);
    }
    qargs.extend([
        "-netdev".into(),
        format!("tap,id=n0,ifname={tap},script=no,downscript=no"),
        "-device".into(),
        format!("e1000,netdev=n0,mac={}", mac_string(&cfg.mac, ":")),
    ]);
    let started = Instant::now();
    let mut qemu = ns
        .cmd(QEMU)
        .args(&qargs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (tx, rx) = mpsc::channel::<String>();
    if let Some(out) = qemu.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
                let l = String::from_utf8_lossy(&line).replace(['\r', '\u{1b}'], "");
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut marker = None;
    let mut console: Vec<String> = Vec::new();
    let deadline = started + cfg.timeout;
    while marker.is_none() {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(line) => {
                if let Some(pos) = line.find(MARKER) {
                    marker = Some(line[pos..].trim().to_string());
                }
                console.push(line);
            }
            Err(_) => break,
        }
    }
    let elapsed = started.elapsed();
    let _ = qemu.kill();
    let _ = qemu.wait();
    if console.is_empty() {
        if let Some(mut e) = qemu.stderr.take() {
            let mut s = String::new();
            let _ = io::Read::read_to_string(&mut e, &mut s);
            console.extend(s.lines().map(String::from));
        }
    }
    let label = marker.as_ref().and_then(|m| {
        m.split_whitespace()
            .find_map(|w| w.strip_prefix("pxesuite.label=").map(String::from))
    });
    let steps = boot_path(&sink.records());
    drop(dhcpd);
    drop(xinetd);
    let tail = console.len().saturating_sub(25);
    Ok(LabReport {
        components,
        steps,
        marker,
        label,
        elapsed,
        accel: accel.to_string(),
        console_tail: console[tail..].to_vec(),
        workdir: dir,
    })
}

fn describe(imp: Impl, path: &str, real_name: &str) -> String {
    match imp {
        Impl::Ours => format!("pxesuite ({path})"),
        Impl::Real => format!("{real_name} ({path})"),
    }
}

/// Turns the daemons' syslog records into boot steps. A TFTP request is "not
/// found" when the server's next record about that client is a NAK (tftp-hpa
/// logs `RRQ from IP filename F` at -v and `sending NAK (code, text) to IP` at -vv).
pub fn boot_path(records: &[Record]) -> Vec<Step> {
    let mut steps = Vec::new();
    // index in `steps` of the last RRQ per client address still waiting for its outcome
    let mut pending: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        let msg = r.msg.trim_end();
        if r.ident == "dhcpd" {
            if msg.starts_with("DHCP")
                || msg.starts_with("BOOTREQUEST")
                || msg.starts_with("BOOTREPLY")
            {
                steps.push(Step::Dhcp(msg.to_string()));
            }
        } else if r.ident == "xinetd" {
            if msg.starts_with("START:") || msg.starts_with("FAIL:") {
                steps.push(Step::Xinetd(msg.to_string()));
            }
        } else if r.ident.contains("tftpd") {
            if let Some(rest) = msg.strip_prefix("RRQ from ") {
                if let Some((client, file)) = rest.split_once(" filename ") {
                    let file = file
                        .split(" remapped to ")
                        .next()
                        .unwrap_or(file)
                        .to_string();
                    pending.insert(client.to_string(), steps.len());
                    steps.push(Step::Tftp { file, found: true });
                }
            } else if let Some(rest) = msg.strip_prefix("sending NAK (") {
                let client = rest.rsplit(" to ").next().unwrap_or("").to_string();
                if let Some(i) = pending.remove(&client) {
                    if let Some(Step::Tftp { found, .. }) = steps.get_mut(i) {
                        *found = false;
                    }
                }
            } else if r.severity <= 4 {
                steps.push(Step::Other(r.line()));
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ident: &str, msg: &str) -> Record {
        Record {
            facility: 3,
            severity: 6,
            ident: ident.into(),
            pid: Some(1),
            msg: msg.into(),
        }
    }

    #[test]
    fn boot_path_pairs_naks_with_requests_per_client() {
        let recs = [
            rec("dhcpd", "DHCPDISCOVER from 52:54:00:12:34:56 via br0"),
            rec("xinetd", "START: tftp pid=9 from=192.168.0.220"),
            rec("in.tftpd", "RRQ from 192.168.0.220 filename pxelinux.0\n"),
            rec(
                "in.tftpd",
                "RRQ from 192.168.0.220 filename pxelinux.cfg/01-52-54-00-12-34-56",
            ),
            rec(
                "in.tftpd",
                "sending NAK (1, File not found) to 192.168.0.220",
            ),
            rec(
                "in.tftpd",
                "RRQ from 192.168.0.220 filename pxelinux.cfg/default",
            ),
        ];
        let steps = boot_path(&recs);
        assert_eq!(steps.len(), 5);
        assert_eq!(
            steps[2],
            Step::Tftp {
                file: "pxelinux.0".into(),
                found: true
            }
        );
        assert_eq!(
            steps[3],
            Step::Tftp {
                file: "pxelinux.cfg/01-52-54-00-12-34-56".into(),
                found: false
            }
        );
        assert_eq!(
            steps[4],
            Step::Tftp {
                file: "pxelinux.cfg/default".into(),
                found: true
            }
        );
    }

    #[test]
    fn initrd_has_init_and_console() {
        if !Path::new(BUSYBOX).exists() {
            return; // the lab's own test covers this on machines with busybox
        }
        let img = build_initrd().unwrap();
        let s = String::from_utf8_lossy(&img);
        assert!(s.contains("dev/console") && s.contains(MARKER));
    }
}
