//! Pid files as SysV init's `daemon`, `killproc` and `status` read them
//! (reference I-3): `<pid>\n`, mode 0644, whatever the caller's umask.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `<pid>\n` to `path` with mode 0644, replacing any old file.
pub fn write(path: &Path, pid: u32) -> io::Result<()> {
    // Remove first so a stale file owned by someone else or with other modes is not reused.
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    // The umask may have cleared bits from the mode given to open(2).
    f.set_permissions(fs::Permissions::from_mode(0o644))?;
    f.write_all(format!("{pid}\n").as_bytes())?;
    Ok(())
}

/// Reads the first pid of the file's first line, as `killproc` does.
pub fn read(path: &Path) -> io::Result<Option<u32>> {
    let text = fs::read_to_string(path)?;
    Ok(text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|w| w.parse().ok()))
}

/// True if `/proc/<pid>` exists, the test `daemon` and `status` use.
pub fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The pid named by the file if that process is alive and is not us.
pub fn running_other(path: &Path) -> Option<u32> {
    match read(path) {
        Ok(Some(pid)) if pid != std::process::id() && is_alive(pid) => Some(pid),
        _ => None,
    }
}

pub fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_pid_newline_mode_0644_despite_umask() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pid");
        let old = crate::sys::set_umask(0o077);
        let r = write(&p, 4242);
        crate::sys::set_umask(old);
        r.unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "4242\n");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(read(&p).unwrap(), Some(4242));
    }

    #[test]
    fn running_other_ignores_self_and_dead() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pid");
        write(&p, std::process::id()).unwrap();
        assert_eq!(running_other(&p), None);
        fs::write(&p, "999999999\n").unwrap();
        assert_eq!(running_other(&p), None);
        fs::write(&p, "1 2 3\n").unwrap();
        assert_eq!(running_other(&p), Some(1));
    }
}
