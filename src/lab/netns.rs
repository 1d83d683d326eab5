//! Network namespaces, veth pairs, bridges and tap devices with short unique
//! names (interface names are limited to 15 characters), deleted on drop.

use std::io;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call, at most 15 characters: `prefix`
/// (cut to 5) + pid in base 36 + a counter in base 36.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let p: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(5)
        .collect();
    format!("{p}{}x{}", base36(std::process::id()), base36(n))
        .chars()
        .take(15)
        .collect()
}

fn base36(mut v: u32) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = Vec::new();
    loop {
        s.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Runs a command and returns its stdout; a non-zero exit is an error carrying stderr.
pub fn run(cmd: &mut Command) -> io::Result<String> {
    let out: Output = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> io::Result<String> {
    run(Command::new("ip").args(args))
}

/// A network namespace created by us and deleted (with every process in it) on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `unique_name(prefix)` with loopback up.
    pub fn new(prefix: &str) -> io::Result<Netns> {
        let name = unique_name(prefix);
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside this namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `program args…` inside the namespace and returns its stdout.
    pub fn run(&self, program: &str, args: &[&str]) -> io::Result<String> {
        run(self.cmd(program).args(args))
    }

    /// Runs `ip args…` inside the namespace.
    pub fn ip(&self, args: &[&str]) -> io::Result<String> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// Adds an address (CIDR) to an interface and brings it up.
    pub fn addr(&self, ifname: &str, cidr: &str) -> io::Result<()> {
        self.ip(&["addr", "add", cidr, "dev", ifname])?;
        self.ip(&["link", "set", ifname, "up"])?;
        Ok(())
    }

    pub fn up(&self, ifname: &str) -> io::Result<()> {
        self.ip(&["link", "set", ifname, "up"]).map(|_| ())
    }

    /// Creates a bridge in this namespace.
    pub fn bridge(&self, ifname: &str) -> io::Result<()> {
        self.ip(&["link", "add", ifname, "type", "bridge"])?;
        // No STP delay: ports forward at once.
        self.ip(&[
            "link",
            "set",
            ifname,
            "type",
            "bridge",
            "forward_delay",
            "0",
            "stp_state",
            "0",
        ])?;
        self.up(ifname)
    }

    /// Creates a tap device (for QEMU) and enslaves it to `bridge` if given.
    pub fn tap(&self, ifname: &str, bridge: Option<&str>) -> io::Result<()> {
        self.ip(&["tuntap", "add", "dev", ifname, "mode", "tap"])?;
        if let Some(br) = bridge {
            self.ip(&["link", "set", ifname, "master", br])?;
        }
        self.up(ifname)
    }

    /// Pids of the processes inside the namespace.
    pub fn pids(&self) -> Vec<u32> {
        ip(&["netns", "pids", &self.name])
            .map(|s| {
                s.split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The UDP ports bound in this namespace (from its `/proc/net/udp`).
    pub fn udp_ports(&self) -> Vec<u16> {
        self.bound_ports("/proc/net/udp", None)
    }

    /// The TCP ports listening in this namespace.
    pub fn tcp_listen_ports(&self) -> Vec<u16> {
        self.bound_ports("/proc/net/tcp", Some("0A"))
    }

    fn bound_ports(&self, table: &str, state: Option<&str>) -> Vec<u16> {
        let text = self.run("cat", &[table]).unwrap_or_default();
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let local = cols.get(1)?;
                if let Some(st) = state {
                    if cols.get(3)? != &st {
                        return None;
                    }
                }
                let port = local.rsplit(':').next()?;
                u16::from_str_radix(port, 16).ok()
            })
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for pid in self.pids() {
            let _ = crate::sys::signals::kill(pid, libc::SIGKILL);
        }
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Connects two namespaces with a veth pair; addresses are CIDR or empty for none.
pub fn veth(
    a: &Netns,
    a_if: &str,
    a_addr: &str,
    b: &Netns,
    b_if: &str,
    b_addr: &str,
) -> io::Result<()> {
    ip(&[
        "link",
        "add",
        a_if,
        "netns",
        a.name(),
        "type",
        "veth",
        "peer",
        "name",
        b_if,
        "netns",
        b.name(),
    ])?;
    for (ns, ifn, addr) in [(a, a_if, a_addr), (b, b_if, b_addr)] {
        if addr.is_empty() {
            ns.up(ifn)?;
        } else {
            ns.addr(ifn, addr)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_fit_ifnamsiz_and_differ() {
        let a = unique_name("dhcpdtest");
        let b = unique_name("dhcpdtest");
        assert!(a.len() <= 15 && b.len() <= 15, "{a} {b}");
        assert_ne!(a, b);
        assert!(a.starts_with("dhcpd"));
    }
}
