//! Which file a request may touch and how it is opened (reference T-ACC):
//! with `-s` every name resolves inside the root as in a chroot (openat2
//! `RESOLVE_IN_ROOT` on the root's descriptor, which is `/` itself once the
//! process has chrooted), so in-root symlinks work and nothing leaves it;
//! without `-s` tftp-hpa's textual checks apply. Permission rules and error
//! texts are tftp-hpa's; the file is opened first and then fstat'ed.

use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::sys::fsys::{self, OpenMode};

/// An error packet to send: TFTP code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nak {
    pub code: u16,
    pub message: String,
}

impl Nak {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        Nak {
            code,
            message: message.into(),
        }
    }

    /// tftp-hpa's mapping of an open error (T-ACC-3).
    pub fn from_io(e: &io::Error) -> Self {
        match e.raw_os_error() {
            Some(2) | Some(20) => Nak::new(1, "File not found"), // ENOENT, ENOTDIR
            Some(28) => Nak::new(3, "Disk full or allocation exceeded"), // ENOSPC
            Some(17) => Nak::new(6, "File already exists"),      // EEXIST
            _ => Nak::new(0, fsys::error_text(e)),
        }
    }
}

/// The access policy from the command line.
#[derive(Debug)]
pub struct FileAccess {
    /// `-s`: the root's descriptor.
    root: Option<File>,
    /// Without `-s`: directories that absolute names must start with (none: any).
    dirs: Vec<Vec<u8>>,
    /// `-p`: no world-read/world-write checks; WRQ truncates with O_TRUNC.
    permissive: bool,
    /// `-c`: WRQ may create files.
    create: bool,
}

impl FileAccess {
    /// With `-s`: names resolve under `root`.
    pub fn secure(root: File, permissive: bool, create: bool) -> Self {
        FileAccess {
            root: Some(root),
            dirs: Vec::new(),
            permissive,
            create,
        }
    }

    /// Without `-s`: absolute names only, limited to `dirs` if any are given.
    pub fn plain(dirs: Vec<Vec<u8>>, permissive: bool, create: bool) -> Self {
        FileAccess {
            root: None,
            dirs,
            permissive,
            create,
        }
    }

    /// T-ACC-2: the textual checks made when there is no root.
    fn check_name(&self, name: &[u8]) -> Result<(), Nak> {
        if self.root.is_some() {
            return Ok(());
        }
        if name.first() != Some(&b'/') {
            return Err(Nak::new(2, "Only absolute filenames allowed"));
        }
        if name.windows(4).any(|w| w == b"/../") {
            return Err(Nak::new(2, "Reverse path not allowed"));
        }
        // A plain prefix test, as tftp-hpa's: /tftpboot2/x passes for /tftpboot.
        if !self.dirs.is_empty() && !self.dirs.iter().any(|d| name.starts_with(d)) {
            return Err(Nak::new(2, "Forbidden directory"));
        }
        Ok(())
    }

    fn open(&self, name: &[u8], mode: OpenMode) -> Result<File, Nak> {
        self.check_name(name)?;
        let r = match &self.root {
            Some(root) => fsys::open_in_root(root, name, mode),
            None => fsys::open_plain(name, mode),
        };
        r.map_err(|e| Nak::from_io(&e))
    }

    /// Opens a file for an RRQ; returns it with its metadata.
    pub fn open_read(&self, name: &[u8]) -> Result<(File, std::fs::Metadata), Nak> {
        let f = self.open(name, OpenMode::Read)?;
        let meta = f.metadata().map_err(|e| Nak::from_io(&e))?;
        if !self.permissive && meta.permissions().mode() & 0o004 == 0 {
            return Err(Nak::new(2, "File must have global read permissions"));
        }
        Ok((f, meta))
    }

    /// Opens a file for a WRQ (T-ACC-3, T-ACC-4).
    pub fn open_write(&self, name: &[u8]) -> Result<File, Nak> {
        let f = self.open(
            name,
            OpenMode::Write {
                create: self.create,
                truncate: self.permissive,
            },
        )?;
        if !self.permissive {
            let meta = f.metadata().map_err(|e| Nak::from_io(&e))?;
            if meta.mode() & 0o002 == 0 {
                return Err(Nak::new(2, "File must have global write permissions"));
            }
            f.set_len(0)
                .map_err(|_| Nak::new(2, "Cannot reset file size"))?;
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, FileAccess) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
        let w = |p: &std::path::Path, mode: u32| {
            std::fs::write(p, b"data").unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        w(&root.join("pxelinux.0"), 0o644);
        w(&root.join("pxelinux.cfg/default"), 0o644);
        w(&root.join("private"), 0o640);
        w(&root.join("drop"), 0o666);
        w(&d.path().join("secret"), 0o644);
        symlink("default", root.join("pxelinux.cfg/01-52-54-00-12-34-56")).unwrap();
        symlink("/pxelinux.0", root.join("abs-link")).unwrap();
        symlink("../../secret", root.join("pxelinux.cfg/escape")).unwrap();
        symlink("/etc/passwd", root.join("passwd")).unwrap();
        let acc = FileAccess::secure(File::open(&root).unwrap(), false, false);
        (d, acc)
    }

    fn code(r: Result<(File, std::fs::Metadata), Nak>) -> Result<(), Nak> {
        r.map(|_| ())
    }

    /// T-ACC-1: in-root links are served, `..` and escaping links are "File not found".
    #[test]
    fn t_acc_1_paths_stay_inside_the_root() {
        let (_d, acc) = tree();
        assert!(acc.open_read(b"pxelinux.0").is_ok());
        assert!(acc.open_read(b"/pxelinux.0").is_ok());
        assert!(acc.open_read(b"pxelinux.cfg/01-52-54-00-12-34-56").is_ok());
        assert!(acc.open_read(b"abs-link").is_ok());
        let nf = Err(Nak::new(1, "File not found"));
        assert_eq!(code(acc.open_read(b"../secret")), nf);
        assert_eq!(code(acc.open_read(b"pxelinux.cfg/escape")), nf);
        assert_eq!(code(acc.open_read(b"passwd")), nf);
        assert_eq!(code(acc.open_read(b"pxelinux.0/x")), nf);
    }

    /// T-ACC-4: world-readable rule unless -p.
    #[test]
    fn t_acc_4_world_read_and_write_bits() {
        let (d, acc) = tree();
        assert_eq!(
            code(acc.open_read(b"private")),
            Err(Nak::new(2, "File must have global read permissions"))
        );
        assert_eq!(
            acc.open_write(b"pxelinux.0").unwrap_err(),
            Nak::new(2, "File must have global write permissions")
        );
        assert!(acc.open_write(b"drop").is_ok());
        assert_eq!(
            acc.open_write(b"new").unwrap_err(),
            Nak::new(1, "File not found")
        );
        let p = FileAccess::secure(File::open(d.path().join("root")).unwrap(), true, true);
        assert!(p.open_read(b"private").is_ok());
        assert!(p.open_write(b"new").is_ok());
    }

    /// T-ACC-2: without -s only absolute names, no /../, and the directory prefix.
    #[test]
    fn t_acc_2_textual_checks_without_a_root() {
        let acc = FileAccess::plain(vec![b"/tftpboot".to_vec()], false, false);
        let e = |n: &[u8]| code(acc.open_read(n)).unwrap_err().message;
        assert_eq!(e(b"pxelinux.0"), "Only absolute filenames allowed");
        assert_eq!(e(b"/tftpboot/../etc/passwd"), "Reverse path not allowed");
        assert_eq!(e(b"/etc/passwd"), "Forbidden directory");
        assert_eq!(e(b"/tftpboot2/none"), "File not found");
    }
}
