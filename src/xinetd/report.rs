//! `xinetd --check-config` (X-CC): loads the whole tree the way the daemon
//! would, prints each problem as FILE:LINE:COL (through `diag`) with xinetd's
//! own words, then per service the effective attributes, what it would listen
//! on and the tcp_wrappers rules that apply. Binds nothing.
//!
//! Exit status: 0 when every configured, enabled service would start; 1 when
//! xinetd itself would give up (main file unreadable, error in `defaults`);
//! 2 when only some services would be dropped.

use crate::sys::syslog::Level;
use crate::xinetd::conf::model::Service;
use crate::xinetd::conf::{self, Loaded};
use crate::xinetd::wrappers;
use std::path::Path;

/// Exit status when some services would be dropped but xinetd would run.
pub const EXIT_SOME_DROPPED: i32 = 2;

/// The report: text for stdout, text for stderr, exit status.
#[derive(Debug)]
pub struct Report {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Runs the check on `config` with xinetd's environment `env`, reading tcp_wrappers files in `hosts_dir`.
pub fn check(config: &Path, env: &[(String, String)], hosts_dir: &Path) -> Report {
    check_with(config, env, hosts_dir, None)
}

/// As `check`, also reading an inetd.conf (`-inetd_compat`).
pub fn check_with(
    config: &Path,
    env: &[(String, String)],
    hosts_dir: &Path,
    inetd_conf: Option<&Path>,
) -> Report {
    let loaded = conf::load_with(config, env, inetd_conf);
    let mut stderr = String::new();
    for f in loaded.findings.iter().filter(|f| f.level != Level::Debug) {
        let d = f.diagnostic();
        stderr.push_str(&crate::diag::render(&d, &loaded.map));
    }
    let mut stdout = String::new();
    let status = match &loaded.config {
        None => {
            stderr.push_str("couldn't get configuration. Exiting...\n");
            1
        }
        Some(c) => {
            let (allow, deny) = wrappers::load(hosts_dir);
            let local = local_addresses();
            let mut unbindable = Vec::new();
            for s in &c.services {
                // A bind address that is not on this host fails at start (X-ST-6).
                if let Some(ip) = s.bind {
                    if !ip.is_unspecified() && !local.contains(&ip) {
                        stderr.push_str(&crate::diag::render(
                            &crate::diag::Diagnostic::error(
                                "xinetd",
                                Some(s.head),
                                format!(
                                    "bind failed (Cannot assign requested address (errno = 99)). service = {}",
                                    s.id
                                ),
                            )
                            .with_note(None, format!("Service {} failed to start and is deactivated.", s.id)),
                            &loaded.map,
                        ));
                        unbindable.push((
                            s.name.clone(),
                            format!("{ip} is not an address of this host"),
                        ));
                        continue;
                    }
                }
                stdout.push_str(&describe(s, &loaded, &allow, &deny));
            }
            let dropped: Vec<(String, String)> = c
                .dropped
                .iter()
                .cloned()
                .chain(unbindable.iter().cloned())
                .collect();
            let failed = dropped.iter().filter(|(_, why)| why != "disabled").count();
            for (name, why) in &dropped {
                stdout.push_str(&format!("# service {name} will not run: {why}\n"));
            }
            let n = c.services.len() - unbindable.len();
            stdout.push_str(&format!(
                "{} available {}, {} not started\n",
                n,
                if n == 1 { "service" } else { "services" },
                dropped.len()
            ));
            if failed == 0 {
                0
            } else {
                EXIT_SOME_DROPPED
            }
        }
    };
    Report {
        stdout,
        stderr,
        status,
    }
}

/// The addresses configured on this host's interfaces.
fn local_addresses() -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs {
            if let Some(sa) = a.address {
                if let Some(v4) = sa.as_sockaddr_in() {
                    out.push(std::net::IpAddr::V4(v4.ip()));
                } else if let Some(v6) = sa.as_sockaddr_in6() {
                    out.push(std::net::IpAddr::V6(v6.ip()));
                }
            }
        }
    }
    out
}

fn join(v: &[&str]) -> String {
    v.join(" ")
}

fn describe(
    s: &Service,
    loaded: &Loaded,
    allow: &[wrappers::Rule],
    deny: &[wrappers::Rule],
) -> String {
    let mut o = format!(
        "service {} (id {}) at {}\n",
        s.name,
        s.id,
        loaded.map.position(s.head)
    );
    let mut line = |k: &str, v: String| o.push_str(&format!("\t{k:<16}{v}\n"));
    line("listens on", s.listen_text());
    line("socket_type", s.socket_type.as_str().into());
    line("protocol", s.protocol.as_str().into());
    line("wait", if s.wait { "yes" } else { "no" }.into());
    if s.is_internal() {
        line("type", "INTERNAL".into());
    }
    if !s.flags.names().is_empty() {
        line("flags", join(&s.flags.names()));
    }
    if let Some((name, uid, gid)) = &s.user {
        line(
            "user",
            format!("{name} (uid {uid}, gid {})", s.group.unwrap_or(*gid)),
        );
    }
    line("groups", if s.groups { "yes" } else { "no" }.into());
    if let Some(server) = &s.server {
        line("server", server.display().to_string());
        line("argv", s.argv.join(" "));
    }
    if let Some((h, p)) = &s.redirect {
        line("redirect", format!("{h} {p}"));
    }
    let lim = |v: Option<u32>| {
        v.map(|n| n.to_string())
            .unwrap_or_else(|| "UNLIMITED".into())
    };
    line("instances", lim(s.instances));
    line("per_source", lim(s.per_source));
    line("cps", format!("{} {}", s.cps.0, s.cps.1));
    if s.max_load > 0.0 {
        line("max_load", s.max_load.to_string());
    }
    if let Some(list) = &s.only_from {
        line(
            "only_from",
            list.iter().map(|p| p.text()).collect::<Vec<_>>().join(" "),
        );
    }
    if !s.no_access.is_empty() {
        line(
            "no_access",
            s.no_access
                .iter()
                .map(|p| p.text())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if !s.access_times.is_empty() {
        line(
            "access_times",
            s.access_times
                .iter()
                .map(|t| t.text())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    match &s.log_type {
        None => line("log_type", "none".into()),
        Some(crate::xinetd::conf::model::LogTarget::Syslog {
            facility_name,
            level_name,
            ..
        }) => line("log_type", format!("SYSLOG {facility_name} {level_name}")),
        Some(crate::xinetd::conf::model::LogTarget::File { path, .. }) => {
            line("log_type", format!("FILE {}", path.display()))
        }
    }
    line("log_on_success", join(&s.log_on_success.names()));
    line("log_on_failure", join(&s.log_on_failure.names()));
    if let Some(m) = s.umask {
        line("umask", format!("{m:03o}"));
    }
    if let Some(n) = s.nice {
        line("nice", n.to_string());
    }
    if !s.env.is_empty() {
        line("env", s.env.join(" "));
    }
    if let Some(p) = &s.passenv {
        line("passenv", p.join(" "));
    }
    if s.flags.nolibwrap {
        line("tcp_wrappers", "off (NOLIBWRAP)".into());
    } else {
        let name = s.libwrap_name();
        let a = wrappers::rules_for(allow, &name);
        let d = wrappers::rules_for(deny, &name);
        if a.is_empty() && d.is_empty() {
            line("tcp_wrappers", format!("{name}: no rule applies"));
        }
        for r in a {
            line(
                "tcp_wrappers",
                format!("{name}: hosts.allow:{}: {}", r.line, r.text),
            );
        }
        for r in d {
            line(
                "tcp_wrappers",
                format!("{name}: hosts.deny:{}: {}", r.line, r.text),
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_positions_and_effective_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("xinetd.d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(
            d.join("tftp"),
            "service tftp\n{\n\tsocket_type = dgram\n\twait = yes\n\tuser = root\n\tserver = /bin/true\n\tserver_args = -s /tftpboot\n\tcps = 100\n}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("bad"),
            "service bad\n{\n\tsocket_type = stream\n\twait = perhaps\n}\n",
        )
        .unwrap();
        let main = dir.path().join("xinetd.conf");
        std::fs::write(
            &main,
            format!(
                "defaults\n{{\n\tinstances = 50\n}}\nincludedir {}\n",
                d.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("hosts.deny"), "true: ALL\n").unwrap();
        let r = check(&main, &[], dir.path());
        let bad = format!(
            "{}:4:2: error: Bad value for wait: perhaps",
            d.join("bad").display()
        );
        assert!(r.stderr.contains(&bad), "{}", r.stderr);
        let cps = format!(
            "{}:8:2: warning: attribute cps expects 2 values and 1 values were specified",
            d.join("tftp").display()
        );
        assert!(r.stderr.contains(&cps), "{}", r.stderr);
        assert!(
            r.stdout.contains("\tlistens on      0.0.0.0:69/udp\n"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("\tinstances       50\n"), "{}", r.stdout);
        assert!(
            r.stdout
                .contains("\ttcp_wrappers    true: hosts.deny:1: true: ALL\n"),
            "{}",
            r.stdout
        );
        assert_eq!(r.status, EXIT_SOME_DROPPED);
    }

    #[test]
    fn unreadable_main_file_exits_1() {
        let r = check(
            Path::new("/nonexistent/xinetd.conf"),
            &[],
            Path::new("/nonexistent"),
        );
        assert_eq!(r.status, 1);
        assert!(
            r.stderr.contains("open( /nonexistent/xinetd.conf ) failed"),
            "{}",
            r.stderr
        );
    }
}
