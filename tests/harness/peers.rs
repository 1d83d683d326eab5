//! The real programs used as peers and clients, by their Debian paths, and
//! small starters for the common cases.

use super::*;

/// ISC dhcpd 4.4 (isc-dhcp-server).
pub const ISC_DHCPD: &str = "/usr/sbin/dhcpd";
/// xinetd 2.3.15 (xinetd).
pub const XINETD: &str = "/usr/sbin/xinetd";
/// tftpd-hpa 5.2 (tftpd-hpa).
pub const HPA_TFTPD: &str = "/usr/sbin/in.tftpd";
/// dnsmasq (dnsmasq-base).
pub const DNSMASQ: &str = "/usr/sbin/dnsmasq";
/// udhcpc (udhcpc).
pub const UDHCPC: &str = "/sbin/udhcpc";
/// ISC dhclient (isc-dhcp-client).
pub const DHCLIENT: &str = "/sbin/dhclient";
/// tftp-hpa's client (tftp-hpa).
pub const TFTP: &str = "/usr/bin/tftp";
pub const ATFTP: &str = "/usr/bin/atftp";
pub const CURL: &str = "/usr/bin/curl";
pub const BUSYBOX: &str = "/bin/busybox";

/// The first of `paths` that is missing, if any.
pub fn missing(paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| p.to_string())
}

/// Requirements for a namespace test that uses `peers`: none missing → None.
pub fn blocker(peers_needed: &[&str]) -> Option<String> {
    if let Some(b) = namespace_blocker() {
        return Some(b);
    }
    missing(peers_needed).map(|p| format!("missing peer {p} (run tests/run.sh, which installs it)"))
}

/// A udhcpc script that writes the `bound` environment to `out` as `key=value` lines.
pub fn udhcpc_script(dir: &Path, out: &Path) -> std::io::Result<PathBuf> {
    let script = dir.join("udhcpc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in bound|renew) {{ echo event=$1; echo ip=$ip; echo subnet=$subnet; echo router=$router; echo dns=$dns; echo siaddr=$siaddr; echo boot_file=$boot_file; echo lease=$lease; echo serverid=$serverid; echo broadcast=$broadcast; }} > {}.tmp && mv {}.tmp {} ;; esac\nexit 0\n",
            out.display(),
            out.display(),
            out.display()
        ),
    )?;
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(script)
}

/// Parses `key=value` lines.
pub fn parse_env(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
