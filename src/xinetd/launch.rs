//! The spawn plan for one server: argv, environment (X-ENV), the socket on
//! fds 0/1/2 (X-FD), user, group and supplementary groups, umask, nice and
//! rlimits. Building it touches nothing; `sys::spawn` carries it out.

use crate::sys::spawn::{Credentials, Plan, Resource};
use crate::xinetd::conf::model::{RlimitKind, Service};
use std::os::fd::RawFd;

/// Builds the plan for `service` serving `peer` (numeric text) on `fd`.
/// `xinetd_env` is xinetd's own environment; `groups_of` resolves a user's
/// supplementary groups (initgroups) when `groups = yes`.
pub fn plan(
    service: &Service,
    xinetd_env: &[(String, String)],
    peer: &str,
    fd: RawFd,
    groups_of: impl Fn(&str, u32) -> Vec<u32>,
) -> Option<Plan> {
    let program = service.server.clone()?;
    let mut env: Vec<String> = match &service.passenv {
        None => xinetd_env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        Some(names) => xinetd_env
            .iter()
            .filter(|(k, _)| names.iter().any(|n| n == k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
    };
    for e in &service.env {
        let name = e.split('=').next().unwrap_or("");
        env.retain(|x| x.split('=').next() != Some(name));
        env.push(e.clone());
    }
    env.retain(|x| !x.starts_with("REMOTE_HOST="));
    env.push(format!("REMOTE_HOST={peer}"));
    let credentials = service.user.as_ref().map(|(name, uid, primary)| {
        let gid = service.group.unwrap_or(*primary);
        let groups = if service.groups {
            groups_of(name, gid)
        } else {
            Vec::new()
        };
        Credentials {
            uid: *uid,
            gid,
            groups,
        }
    });
    let rlimits = service
        .rlimits
        .iter()
        .map(|(k, v)| {
            let r = match k {
                RlimitKind::As => Resource::As,
                RlimitKind::Cpu => Resource::Cpu,
                RlimitKind::Data => Resource::Data,
                RlimitKind::Rss => Resource::Rss,
                RlimitKind::Stack => Resource::Stack,
                RlimitKind::Files => Resource::Nofile,
            };
            (r, *v)
        })
        .collect();
    Some(Plan {
        program,
        argv: service.argv.clone(),
        env,
        stdio: Some(fd),
        credentials,
        umask: service.umask,
        nice: service.nice,
        rlimits,
        setsid: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xinetd::conf::load;

    fn service(extra: &str) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c");
        std::fs::write(
            &p,
            format!("service x\n{{\n type = UNLISTED\n port = 5000\n socket_type = stream\n wait = no\n user = root\n groups = yes\n server = /bin/echo\n server_args = a b\n{extra}}}\n"),
        )
        .unwrap();
        let env = vec![
            ("PATH".to_string(), "/bin".to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        load(&p, &env).config.unwrap().services.remove(0)
    }

    #[test]
    fn environment_follows_passenv_and_env() {
        let xenv = vec![
            ("PATH".to_string(), "/bin".to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        let p = plan(&service(""), &xenv, "10.0.0.1", 5, |_, g| vec![g, 7]).unwrap();
        assert_eq!(p.env, vec!["PATH=/bin", "LANG=C", "REMOTE_HOST=10.0.0.1"]);
        assert_eq!(p.argv, vec!["echo", "a", "b"]);
        assert_eq!(p.credentials.unwrap().groups, vec![0, 7]);
        let s = service(" passenv = LANG\n env = FOO=bar LANG=fr\n");
        let p = plan(&s, &xenv, "::1", 5, |_, g| vec![g]).unwrap();
        assert_eq!(p.env, vec!["FOO=bar", "LANG=fr", "REMOTE_HOST=::1"]);
        let s = service(" passenv =\n umask = 077\n nice = 5\n rlimit_cpu = 20\n");
        let p = plan(&s, &xenv, "::1", 5, |_, g| vec![g]).unwrap();
        assert_eq!(p.env, vec!["REMOTE_HOST=::1"]);
        assert_eq!((p.umask, p.nice), (Some(0o077), Some(5)));
        assert_eq!(p.rlimits, vec![(Resource::Cpu, Some(20))]);
    }
}
