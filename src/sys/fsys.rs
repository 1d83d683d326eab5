//! File-system calls std does not offer: `openat2(2)` with `RESOLVE_IN_ROOT`,
//! which resolves a path as if the directory were the root (`..` stops there,
//! absolute symlinks restart there), and `strerror` for the exact texts
//! tftp-hpa puts in error packets.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// How to open a file for `open_in_root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Read,
    /// Write-only; `create` adds O_CREAT, `truncate` O_TRUNC; new files get `0666 & !umask`.
    Write {
        create: bool,
        truncate: bool,
    },
}

fn flags(mode: OpenMode) -> libc::c_int {
    let base = libc::O_CLOEXEC | libc::O_NOCTTY;
    match mode {
        OpenMode::Read => base | libc::O_RDONLY,
        OpenMode::Write { create, truncate } => {
            let mut f = base | libc::O_WRONLY;
            if create {
                f |= libc::O_CREAT;
            }
            if truncate {
                f |= libc::O_TRUNC;
            }
            f
        }
    }
}

/// `struct open_how` (openat2(2)); libc's is non-exhaustive, so we spell out the same layout.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Opens `path` beneath `root` as if `root` were `/` (openat2 `RESOLVE_IN_ROOT`,
/// plus `RESOLVE_NO_MAGICLINKS` so `/proc` links cannot point outside).
pub fn open_in_root(root: &File, path: &[u8], mode: OpenMode) -> io::Result<File> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
    let how = OpenHow {
        flags: flags(mode) as u64,
        mode: if matches!(mode, OpenMode::Write { create: true, .. }) {
            0o666
        } else {
            0
        },
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    loop {
        // SAFETY: openat2(2) with a valid directory fd, a NUL-terminated path and an
        // open_how of the size we pass; the returned fd is owned by the File below.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd >= 0 {
            // SAFETY: the kernel just returned this new descriptor to us.
            return Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd as i32) }));
        }
        let e = io::Error::last_os_error();
        // EAGAIN: a concurrent rename raced the `..` check; retrying is what the man page advises.
        if e.raw_os_error() != Some(libc::EAGAIN) && e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Opens `path` the ordinary way (no `-s`), with the same flags.
pub fn open_plain(path: &[u8], mode: OpenMode) -> io::Result<File> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
    // SAFETY: open(2) with a NUL-terminated path; the fd is owned by the File below.
    let fd = unsafe { libc::open(c.as_ptr(), flags(mode), 0o666 as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor the kernel just returned.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Opens `name` read-only relative to the directory `dir` (openat(2)); a map
/// file stays reachable this way after the process has chrooted elsewhere.
pub fn open_at(dir: &File, name: &[u8]) -> io::Result<File> {
    let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
    // SAFETY: openat(2) with a valid directory fd and a NUL-terminated name; the fd is owned below.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor the kernel just returned.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// The C library's message for `errno`, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 128];
    // SAFETY: the XSI strerror_r(3) writes a NUL-terminated string of at most buf.len() bytes.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `io::Error` as strerror text (tftp-hpa's `%m`).
pub fn error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => strerror(n),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_texts_match_libc() {
        assert_eq!(strerror(libc::EACCES), "Permission denied");
        assert_eq!(strerror(libc::EISDIR), "Is a directory");
    }

    #[test]
    fn resolves_inside_root_only() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/f"), b"in").unwrap();
        std::fs::write(d.path().join("secret"), b"out").unwrap();
        std::os::unix::fs::symlink("/sub/f", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../secret", root.join("esc")).unwrap();
        let r = File::open(&root).unwrap();
        let read = |p: &[u8]| {
            open_in_root(&r, p, OpenMode::Read).map(|f| std::io::read_to_string(f).unwrap())
        };
        assert_eq!(read(b"/sub/f").unwrap(), "in");
        assert_eq!(read(b"sub/../sub/f").unwrap(), "in");
        assert_eq!(read(b"abs").unwrap(), "in");
        assert_eq!(
            read(b"../secret").unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
        assert_eq!(read(b"esc").unwrap_err().raw_os_error(), Some(libc::ENOENT));
    }
}
