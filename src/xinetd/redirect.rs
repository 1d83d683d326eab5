//! `redirect = host port`: the forked child connects to the target and
//! copies bytes both ways until both directions are closed (a TCP proxy, as
//! xinetd.conf(5) describes it). One poll loop, no threads.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;

/// Connects to `host:port` and relays between it and `client` until both sides close.
pub fn relay(client: &mut TcpStream, host: &str, port: u16) -> io::Result<()> {
    let target = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address for the redirect target"))?;
    let mut server = TcpStream::connect(target)?;
    let mut open = [true, true]; // client→server, server→client
    let mut buf = vec![0u8; 16384];
    while open[0] || open[1] {
        let (c_ready, s_ready) = {
            let mut fds = Vec::new();
            if open[0] {
                fds.push(PollFd::new(client.as_fd(), PollFlags::POLLIN));
            }
            if open[1] {
                fds.push(PollFd::new(server.as_fd(), PollFlags::POLLIN));
            }
            poll(&mut fds, PollTimeout::NONE).map_err(io::Error::from)?;
            let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
            let mut it = fds.iter();
            let c = if open[0] {
                it.next().is_some_and(ready)
            } else {
                false
            };
            let s = if open[1] {
                it.next().is_some_and(ready)
            } else {
                false
            };
            (c, s)
        };
        if c_ready && !copy_once(client, &mut server, &mut buf)? {
            open[0] = false;
            let _ = server.shutdown(Shutdown::Write);
        }
        if s_ready && !copy_once(&mut server, client, &mut buf)? {
            open[1] = false;
            let _ = client.shutdown(Shutdown::Write);
        }
    }
    Ok(())
}

/// Copies one read's worth; false at end of stream.
fn copy_once(from: &mut TcpStream, to: &mut TcpStream, buf: &mut [u8]) -> io::Result<bool> {
    match from.read(buf) {
        Ok(0) => Ok(false),
        Ok(n) => {
            to.write_all(&buf[..n])?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn relays_both_ways() {
        let target = TcpListener::bind("127.0.0.1:0").unwrap();
        let tport = target.local_addr().unwrap().port();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = target.accept().unwrap();
            let mut b = Vec::new();
            s.read_to_end(&mut b).unwrap();
            s.write_all(&b).unwrap();
        });
        let front = TcpListener::bind("127.0.0.1:0").unwrap();
        let fport = front.local_addr().unwrap().port();
        let proxy = std::thread::spawn(move || {
            let (mut c, _) = front.accept().unwrap();
            relay(&mut c, "127.0.0.1", tport).unwrap();
        });
        let mut c = TcpStream::connect(("127.0.0.1", fport)).unwrap();
        c.write_all(b"through the proxy").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"through the proxy");
        echo.join().unwrap();
        proxy.join().unwrap();
    }
}
