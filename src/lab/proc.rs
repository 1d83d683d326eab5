//! Starting daemons, peers and clients inside a namespace, optionally with a
//! private `/dev/log` that leads to a `SyslogSink`, and stopping them on drop.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::netns::Netns;
use super::sink::{ScratchDir, SyslogSink};

/// The shell that gives a process its own `/dev`: a tmpfs with links to the
/// real devices (seen through a private bind mount) and `/dev/log` leading to the sink.
const PRIVATE_DEV: &str = r#"set -e
sock="$1"; real="$2"; shift 2
mount --make-rprivate / 2>/dev/null || true
mount --rbind /dev "$real"
mount -t tmpfs -o mode=755 pxesuite-dev /dev
for n in null zero full random urandom tty ptmx kvm net pts shm fd stdin stdout stderr; do
  if [ -e "$real/$n" ] || [ -L "$real/$n" ]; then ln -s "$real/$n" "/dev/$n"; fi
done
ln -s "$sock" /dev/log
exec "$@""#;

/// Wraps `program args` so that it runs inside `ns` (if any) with the sink as `/dev/log` (if any).
pub fn command(
    ns: Option<&Netns>,
    sink: Option<&SyslogSink>,
    program: &str,
    args: &[String],
) -> Command {
    let mut inner: Vec<String> = Vec::new();
    if let Some(s) = sink {
        inner.extend(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                PRIVATE_DEV,
                "sh",
            ]
            .map(String::from),
        );
        inner.push(s.socket_path().display().to_string());
        inner.push(s.dir().join("realdev").display().to_string());
    }
    inner.push(program.to_string());
    inner.extend(args.iter().cloned());
    let mut cmd = match ns {
        Some(n) => n.cmd(&inner[0]),
        None => Command::new(&inner[0]),
    };
    cmd.args(&inner[1..]);
    cmd
}

/// A started process whose output goes to files; killed on drop.
#[derive(Debug)]
pub struct Daemon {
    pub name: String,
    child: Child,
    out_dir: ScratchDir,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// Starts `program args` (see `command`) with stdout and stderr captured.
    pub fn spawn(
        name: &str,
        ns: Option<&Netns>,
        sink: Option<&SyslogSink>,
        program: &str,
        args: &[String],
    ) -> io::Result<Daemon> {
        let mut cmd = command(ns, sink, program, args);
        Self::spawn_command(name, &mut cmd)
    }

    /// Starts a prepared command with stdout and stderr captured.
    pub fn spawn_command(name: &str, cmd: &mut Command) -> io::Result<Daemon> {
        let out_dir = ScratchDir::new("out")?;
        let stdout = File::create(out_dir.path().join("stdout"))?;
        let stderr = File::create(out_dir.path().join("stderr"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {name}: {e}")))?;
        Ok(Daemon {
            name: name.to_string(),
            child,
            out_dir,
            status: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout_path(&self) -> PathBuf {
        self.out_dir.path().join("stdout")
    }

    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path())
    }

    pub fn stderr(&self) -> String {
        read_lossy(&self.out_dir.path().join("stderr"))
    }

    /// The exit status if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let found = wait_until(timeout, || self.try_status().is_some());
        if found {
            self.status
        } else {
            None
        }
    }

    /// Sends a signal to the started process (not to the wrapped grandchild when sandboxed).
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        crate::sys::signals::kill(self.child.id(), sig)
    }

    pub fn kill(&mut self) {
        if self.try_status().is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes. For readiness
/// conditions that have no event to wait on (a port appearing in /proc/net/udp).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until something in `ns` has UDP `port` bound.
pub fn wait_udp_port(ns: &Netns, port: u16, timeout: Duration) -> bool {
    wait_until(timeout, || ns.udp_ports().contains(&port))
}

/// Waits until something in `ns` listens on TCP `port`.
pub fn wait_tcp_port(ns: &Netns, port: u16, timeout: Duration) -> bool {
    wait_until(timeout, || ns.tcp_listen_ports().contains(&port))
}
