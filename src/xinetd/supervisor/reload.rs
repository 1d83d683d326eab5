//! Reconfiguration (SIGHUP/SIGUSR2, reference X-RC): unchanged services keep
//! their sockets and servers, removed ones close and their servers are killed
//! (X-DEAD), new ones open; and the SIGUSR1 state dump.

use super::*;

impl Supervisor {
    /// SIGHUP/SIGUSR2 (X-RC): keep unchanged services' sockets, close removed ones, open new ones.
    pub(super) fn reload(&mut self) -> Option<i32> {
        self.logger.msg(Level::Notice, "Starting reconfiguration");
        let loaded = conf::load_with(&self.opts.config, &self.env, self.inetd_conf());
        self.log_findings(&loaded);
        if loaded.map.files().next().is_none() {
            self.logger.msg(Level::Warning, "reconfiguration failed");
            return None;
        }
        let Some(Config { services: new, .. }) = loaded.config else {
            // An error inside defaults ends xinetd, on a reload too (X-SYN-5, X-RC-2).
            self.logger
                .msg(Level::Crit, "couldn't get configuration. Exiting...");
            self.remove_pidfile();
            return Some(1);
        };
        self.logger.msg(Level::Debug, "Swapping defaults");
        let old = std::mem::take(&mut self.services);
        let mut new_left: Vec<Option<Service>> = new.into_iter().map(Some).collect();
        let (mut kept, mut dropped) = (0, 0);
        for mut a in old {
            let same = new_left.iter_mut().find(|n| {
                n.as_ref().is_some_and(|n| {
                    n.id == a.svc.id && n.name == a.svc.name && n.socket_key() == a.svc.socket_key()
                })
            });
            match same.and_then(|s| s.take()) {
                Some(n) => {
                    self.logger
                        .msg(Level::Debug, &format!("readjusting service {}", a.svc.id));
                    a.svc = Rc::new(n);
                    kept += 1;
                    self.recheck_running(&a);
                    self.services.push(a);
                }
                None => {
                    dropped += 1;
                    self.retire(&a);
                }
            }
        }
        let mut added = 0;
        for n in new_left.into_iter().flatten() {
            added += 1;
            self.activate_new(n);
        }
        self.logger.msg(
            Level::Notice,
            &format!("Reconfigured: new={added} old={kept} dropped={dropped} (services)"),
        );
        if self.available() == 0 && !self.opts.stayalive {
            self.logger
                .msg(Level::Crit, "No available services. Exiting");
            self.remove_pidfile();
            return Some(1);
        }
        None
    }

    /// X-RC-3: the running servers of a kept service are checked again against
    /// its new address lists, access times and instance limit; those that no
    /// longer pass are killed.
    fn recheck_running(&mut self, a: &Active) {
        let svc = &a.svc;
        let mut running: Vec<(u32, Instant, IpAddr)> = self
            .children
            .iter()
            .filter(|(_, c)| c.service_key == a.key)
            .map(|(p, c)| (*p, c.started, c.peer))
            .collect();
        running.sort_by_key(|(_, started, _)| *started);
        let in_time = access::check_time(&svc.access_times, minute_of_day());
        let limit = svc.instances.map(|l| l as usize).unwrap_or(usize::MAX);
        let sig = if svc.is_internal() {
            signals::SIGTERM
        } else {
            9
        };
        for (n, (pid, _, peer)) in running.into_iter().enumerate() {
            let addr_ok = peer.is_unspecified()
                || access::check_address(svc.only_from.as_deref(), &svc.no_access, peer)
                    == AddrVerdict::Allowed;
            if !(addr_ok && in_time && n < limit) {
                self.logger.msg(
                    Level::Warning,
                    &format!("Sending signal {} to {} server {}", sig, svc.name, pid),
                );
                let _ = signals::kill(pid, sig);
            }
        }
    }

    /// A service removed by a reload: its servers are killed (X-DEAD).
    fn retire(&mut self, a: &Active) {
        let sig = if a.svc.is_internal() {
            signals::SIGTERM
        } else {
            9
        };
        let pids: Vec<u32> = self
            .children
            .iter()
            .filter(|(_, c)| c.service_key == a.key)
            .map(|(p, _)| *p)
            .collect();
        for pid in pids {
            self.logger.msg(
                Level::Warning,
                &format!("Sending signal {} to {} server {}", sig, a.svc.name, pid),
            );
            let _ = signals::kill(pid, sig);
        }
        self.logger
            .msg(Level::Debug, &format!("service {} deactivated", a.svc.id));
    }

    /// SIGUSR1: append a state dump (X-SIG).
    pub(super) fn dump(&self) {
        let mut text = format!(
            "INTERNAL STATE DUMP: xinetd Version {}\nCurrent time: {}\n\n",
            crate::xinetd::VERSION,
            log::stamp()
        );
        for a in &self.services {
            let running: Vec<String> = self.running_of(a.key).map(|c| c.peer.to_string()).collect();
            text.push_str(&format!(
                "Service = {}\n\tid = {}\n\tlistening = {}\n\tstate = {}\n\trunning servers = {}\n\n",
                a.svc.name,
                a.svc.id,
                a.svc.listen_text(),
                if a.suspended {
                    "suspended"
                } else if a.sock.is_some() {
                    "active"
                } else {
                    "deactivated"
                },
                running.len()
            ));
        }
        text.push_str("END OF DUMP\n\n");
        let ok = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(DUMP_FILE)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if ok.is_ok() {
            self.logger.msg(
                Level::Info,
                &format!("generated state dump in file {DUMP_FILE}"),
            );
        }
    }
}
