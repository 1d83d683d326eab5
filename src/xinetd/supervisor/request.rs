//! One request, xinetd's way (reference X-LIM): the parent-side checks in
//! order, the fork, the child's address and tcp_wrappers checks before exec,
//! internal services served from the loop, and reaping ended servers.

use super::*;

impl Supervisor {
    /// Handles one request; true when a `wait = no` stream connection was
    /// accepted, so that more may be pending in the backlog.
    pub(super) fn handle(&mut self, key: u64) -> bool {
        let Some(idx) = self.services.iter().position(|a| a.key == key) else {
            return false;
        };
        let accepted = matches!(&self.services[idx].sock, Some(Listener::Stream(_)))
            && !self.services[idx].svc.wait;
        self.handle_one(idx, key);
        accepted
    }

    /// One readable service socket.
    fn handle_one(&mut self, idx: usize, key: u64) {
        // 1. The "connection": accept, or peek at the datagram's source.
        let (conn, peer) = {
            let a = &self.services[idx];
            match &a.sock {
                Some(Listener::Stream(l)) if !a.svc.wait => match l.accept() {
                    Ok((s, addr)) => {
                        // flags NODELAY and KEEPALIVE apply to the connection the server gets.
                        crate::sys::inet::set_stream_options(
                            &s,
                            a.svc.flags.nodelay,
                            a.svc.flags.keepalive,
                        );
                        (Some(s), addr)
                    }
                    Err(e) => {
                        // EMFILE (24) / ENFILE (23): xinetd deactivates the service like cps does.
                        if matches!(e.raw_os_error(), Some(23) | Some(24)) {
                            self.deactivate(idx, "no available descriptors");
                        }
                        self.pending_empty = true;
                        return;
                    }
                },
                Some(Listener::Stream(_)) => {
                    // wait = yes stream: the server accepts; we only learn nothing of the peer.
                    (
                        None,
                        SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
                    )
                }
                Some(Listener::Dgram(u)) => {
                    let mut b = [0u8; 1];
                    match u.peek_from(&mut b) {
                        Ok((_, addr)) => (None, addr),
                        Err(_) => {
                            // An error queued on the socket (ICMP): reading it clears it.
                            let _ = u.recv_from(&mut [0u8; 1]);
                            return;
                        }
                    }
                }
                None => return,
            }
        };
        let peer_ip = peer.ip();
        let svc = self.services[idx].svc.clone();
        let mut conn = conn;
        if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner) {
            send_file(c, b);
        }
        if svc.flags.sensor {
            self.trip_sensor(&svc, peer_ip);
            self.discard_datagrams(idx);
            return;
        }
        let internal = if svc.is_internal() && svc.server.is_none() && svc.redirect.is_none() {
            Internal::from_name(&svc.name)
        } else {
            None
        };
        let forks = match internal {
            None => true,
            Some(i) => svc.socket_type == SocketType::Stream && i.forks_for_stream(),
        };
        // 2. Parent-side checks, in xinetd's order (X-LIM).
        let now_secs = crate::sys::clock::epoch_secs();
        let refusal: Option<&str> = if self.services[idx].cps.trips(now_secs, svc.cps.0) {
            self.fail(&svc, "connections per second", peer_ip);
            self.deactivate(idx, "");
            drop(conn);
            return;
        } else if svc.max_load > 0.0 && limits::load_exceeded(limits::load_average(), svc.max_load)
        {
            self.logger.msg(
                Level::Err,
                &format!(
                    "refused connect from {} due to excessive load",
                    peer_text(&svc, peer_ip)
                ),
            );
            Some("load")
        } else if !svc.access_times.is_empty()
            && !access::check_time(&svc.access_times, minute_of_day())
        {
            Some("time")
        } else if self.sensor_denies(peer_ip) {
            Some("address")
        } else if forks && limits::instances_exceeded(self.running_of(key).count(), svc.instances) {
            Some("service_limit")
        } else if forks
            && limits::per_source_exceeded(
                self.running_of(key).map(|c| &c.peer),
                peer_ip,
                svc.per_source,
            )
        {
            Some("per_source_limit")
        } else if forks
            && self
                .opts
                .limit
                .is_some_and(|l| self.children.len() >= l as usize)
        {
            Some("process_limit")
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.fail(&svc, reason, peer_ip);
            if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_fail) {
                send_file(c, b);
            }
            drop(conn);
            self.discard_datagrams(idx);
            return;
        }
        match internal {
            Some(which) if !forks => self.serve_in_loop(idx, which, conn, peer),
            _ => self.spawn(idx, internal, conn, peer),
        }
    }

    /// A SENSOR service was touched: its peer is refused everywhere for `deny_time` minutes.
    fn trip_sensor(&mut self, svc: &Service, peer: IpAddr) {
        let until = match svc.deny_time {
            Some(0) => return,
            Some(m) if m > 0 => Some(Instant::now() + Duration::from_secs(m as u64 * 60)),
            _ => None,
        };
        let peer = access::canonical(peer);
        self.sensor_denied.insert(peer, until);
        self.logger.msg(
            Level::Info,
            &format!(
                "Adding {peer} to the global_no_access list (sensor {})",
                svc.id
            ),
        );
        self.fail(svc, "address", peer);
    }

    fn sensor_denies(&mut self, peer: IpAddr) -> bool {
        let now = Instant::now();
        self.sensor_denied
            .retain(|_, until| until.is_none_or(|t| t > now));
        self.sensor_denied.contains_key(&access::canonical(peer))
    }

    /// cps tripped (or accept ran out of descriptors): close the socket for the service's wait time.
    fn deactivate(&mut self, idx: usize, _why: &str) {
        let a = &mut self.services[idx];
        let wait = a.svc.cps.1;
        a.sock = None;
        a.reactivate_at = Some(Instant::now() + Duration::from_secs(u64::from(wait)));
        let name = a.svc.name.clone();
        self.logger.msg(
            Level::Err,
            &format!("Deactivating service {name} due to excessive incoming connections.  Restarting in {wait} seconds."),
        );
    }

    /// X-LIM-drain, kept for refused datagrams and `wait = no`: empty the queue.
    fn discard_datagrams(&self, idx: usize) {
        if let Some(Listener::Dgram(u)) = &self.services[idx].sock {
            if u.set_nonblocking(true).is_ok() {
                let mut b = [0u8; 2048];
                while u.recv_from(&mut b).is_ok() {}
                let _ = u.set_nonblocking(false);
            }
        }
    }

    /// daytime, time (and every dgram internal service) answered without forking.
    fn serve_in_loop(
        &mut self,
        idx: usize,
        which: Internal,
        conn: Option<TcpStream>,
        peer: SocketAddr,
    ) {
        let svc = self.services[idx].svc.clone();
        if svc.log_on_success.any() {
            self.logger.record(
                svc.log_type.as_ref(),
                &log::start_line(&svc.id, 0, &peer_text(&svc, peer.ip()), &svc.log_on_success),
            );
        }
        let verdict = access::check_address(svc.only_from.as_deref(), &svc.no_access, peer.ip());
        let reply = |input: &[u8], n: usize| -> Option<Vec<u8>> {
            match which {
                Internal::Echo => Some(input.to_vec()),
                Internal::Discard => None,
                Internal::Chargen => Some(internal::chargen_datagram(n)),
                Internal::Daytime => Some(internal::daytime_reply(
                    &crate::sys::clock::now(),
                    &crate::sys::clock::zone(),
                )),
                Internal::Time => {
                    Some(internal::time_reply(crate::sys::clock::epoch_secs()).to_vec())
                }
            }
        };
        match conn {
            Some(mut s) => {
                if self.address_refused(&svc, &verdict, peer.ip()) {
                    return;
                }
                if let Some(r) = reply(&[], 0) {
                    let _ = s.write_all(&r);
                }
            }
            None => {
                if let Some(Listener::Dgram(u)) = &self.services[idx].sock {
                    let mut b = vec![0u8; 65536];
                    if let Ok((n, from)) = u.recv_from(&mut b) {
                        if verdict == AddrVerdict::Allowed {
                            if let Some(r) = reply(&b[..n], n) {
                                let _ = u.send_to(&r, from);
                            }
                        } else if self.dgram_refusal_due(idx, from) {
                            self.address_refused(&svc, &verdict, peer.ip());
                        }
                    }
                }
                self.discard_datagrams(idx);
            }
        }
    }

    /// X-LIM-dgram-log: a refused datagram source is logged at most once a minute.
    fn dgram_refusal_due(&mut self, idx: usize, from: SocketAddr) -> bool {
        let now = Instant::now();
        let seen = &mut self.services[idx].dgram_refusals;
        seen.retain(|_, t| now.duration_since(*t) < Duration::from_secs(60));
        if seen.contains_key(&from) {
            return false;
        }
        seen.insert(from, now);
        true
    }

    /// Logs an address refusal (X-ACC-1); true when refused.
    fn address_refused(&self, svc: &Service, verdict: &AddrVerdict, peer: IpAddr) -> bool {
        match verdict {
            AddrVerdict::Allowed => false,
            AddrVerdict::Denied => {
                self.fail(svc, "address", peer);
                true
            }
            AddrVerdict::DeniedBothMatch => {
                self.logger.msg(
                    Level::Err,
                    &format!(
                        "Service={}: only_from list and no_access list match equally the address {}",
                        svc.id,
                        peer_text(svc, peer)
                    ),
                );
                self.fail(svc, "address", peer);
                true
            }
        }
    }

    /// 3. Fork; 4. in the child: address check, tcp_wrappers, then exec (or serve internally).
    fn spawn(
        &mut self,
        idx: usize,
        internal: Option<Internal>,
        conn: Option<TcpStream>,
        peer: SocketAddr,
    ) {
        let svc = self.services[idx].svc.clone();
        let key = self.services[idx].key;
        let sock_fd = match (&conn, &self.services[idx].sock) {
            (Some(c), _) => c.as_raw_fd(),
            (None, Some(l)) => l.raw(),
            (None, None) => return,
        };
        match spawn::fork() {
            Err(e) => {
                self.logger
                    .msg(Level::Err, &format!("fork failed: {}", errno_text(&e)));
                self.fail(&svc, "fork", peer.ip());
            }
            Ok(Forked::Parent(pid)) => {
                self.children.insert(
                    pid,
                    Child {
                        service_key: key,
                        svc: svc.clone(),
                        peer: peer.ip(),
                        started: Instant::now(),
                    },
                );
                // A `wait = no` datagram server must read its datagram before the
                // socket is watched again, or every poll would start another one:
                // such services are also watched again only when the server exits.
                if svc.wait || svc.socket_type == SocketType::Dgram {
                    self.services[idx].suspended = true;
                }
                if svc.log_type.is_some() && svc.log_on_success.any() {
                    self.logger.record(
                        svc.log_type.as_ref(),
                        &log::start_line(
                            &svc.id,
                            pid,
                            &peer_text(&svc, peer.ip()),
                            &svc.log_on_success,
                        ),
                    );
                }
                drop(conn);
            }
            Ok(Forked::Child) => {
                for sig in [
                    signals::SIGHUP,
                    signals::SIGUSR1,
                    signals::SIGUSR2,
                    signals::SIGTERM,
                    signals::SIGQUIT,
                    signals::SIGCHLD,
                    signals::SIGINT,
                ] {
                    signals::set_default(sig);
                }
                let code = self.child(idx, internal, conn, peer, sock_fd);
                spawn::exit_now(code);
            }
        }
    }

    /// The child's work before exec. Returns the exit code if it does not exec.
    fn child(
        &self,
        idx: usize,
        internal: Option<Internal>,
        mut conn: Option<TcpStream>,
        peer: SocketAddr,
        sock_fd: std::os::fd::RawFd,
    ) -> i32 {
        let svc = &self.services[idx].svc;
        let consume = |conn: &mut Option<TcpStream>| {
            // A refused `wait = yes` datagram must not stay queued: nothing drains it later.
            if let (true, Some(Listener::Dgram(u))) = (svc.wait, &self.services[idx].sock) {
                let _ = u.recv_from(&mut [0u8; 1]);
            }
            if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_fail) {
                send_file(c, b);
            }
        };
        let verdict = if peer.ip().is_unspecified() {
            AddrVerdict::Allowed
        } else {
            access::check_address(svc.only_from.as_deref(), &svc.no_access, peer.ip())
        };
        if self.address_refused(svc, &verdict, peer.ip()) {
            consume(&mut conn);
            return 0;
        }
        if !svc.flags.nolibwrap && !peer.ip().is_unspecified() {
            let (allow, deny) = wrappers::load(&self.hosts_dir);
            let name = svc.libwrap_name();
            if !wrappers::allowed(&allow, &deny, &name, peer.ip()) {
                self.logger.msg(
                    Level::Info,
                    &format!(
                        "libwrap refused connection to {} (libwrap={}) from {}",
                        svc.id,
                        name,
                        peer_text(svc, peer.ip())
                    ),
                );
                self.fail(svc, "libwrap", peer.ip());
                consume(&mut conn);
                return 0;
            }
        }
        if let (Some(c), Some(b)) = (conn.as_mut(), &svc.banner_success) {
            send_file(c, b);
        }
        if let Some(which) = internal {
            if let Some(mut s) = conn {
                internal::serve_stream(which, &mut s);
            }
            return 0;
        }
        if let (Some((host, port)), Some(c)) = (&svc.redirect, conn.as_mut()) {
            return match crate::xinetd::redirect::relay(c, host, *port) {
                Ok(()) => 0,
                Err(e) => {
                    self.logger.msg(
                        Level::Err,
                        &format!("redirect to {host} {port} failed: {}", errno_text(&e)),
                    );
                    1
                }
            };
        }
        // Built here rather than before the fork: the parent goes back to its
        // sockets sooner, and the child's copy of everything it reads is the same.
        let ptext = peer_text(svc, peer.ip());
        let Some(plan) = launch::plan(svc, &self.env, &ptext, sock_fd, spawn::user_groups) else {
            return 1;
        };
        if let Err(e) = spawn::apply_credentials(&plan) {
            self.logger.msg(
                Level::Err,
                &format!("setuid/setgid failed for {}: {}", svc.id, errno_text(&e)),
            );
            return 1;
        }
        let e = spawn::exec(&plan);
        self.logger.msg(
            Level::Err,
            &format!(
                "execv( {} ) failed: {}",
                plan.program.display(),
                errno_text(&e)
            ),
        );
        1
    }

    /// Reaps ended servers: EXIT lines, resume `wait = yes` services (no drain: Project decision).
    pub(super) fn reap(&mut self) {
        for (pid, how) in spawn::reap() {
            let Some(c) = self.children.remove(&pid) else {
                continue;
            };
            let svc = &c.svc;
            if svc.log_type.is_some() && log::wants_exit(&svc.log_on_success) {
                let ended = match how {
                    Exit::Status(n) => Ended::Status(n),
                    Exit::Signal(n) => Ended::Signal(n),
                };
                let secs = c.started.elapsed().as_secs();
                self.logger.record(
                    svc.log_type.as_ref(),
                    &log::exit_line(&svc.id, ended, pid, secs, &svc.log_on_success),
                );
            }
            if let Some(a) = self.services.iter_mut().find(|a| a.key == c.service_key) {
                if a.svc.wait || a.svc.socket_type == SocketType::Dgram {
                    a.suspended = false;
                }
            }
        }
    }
}

/// Sends a banner file as-is; a missing file sends nothing.
fn send_file(conn: &mut TcpStream, path: &std::path::Path) {
    if let Ok(bytes) = std::fs::read(path) {
        let _ = conn.write_all(&bytes);
    }
}
