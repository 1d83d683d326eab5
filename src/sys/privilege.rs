//! Dropping root in OpenBSD's order (STYLE.md §6): chroot, clear supplementary
//! groups, setresgid, setresuid, then prove that root cannot come back.

use std::io;
use std::path::Path;

/// A resolved account (in.tftpd `-u`, xinetd `user`/`group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Looks a user up by name or decimal uid.
pub fn lookup_user(name: &str) -> io::Result<Option<Account>> {
    let user = match name.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(name),
    }
    .map_err(io::Error::from)?;
    Ok(user.map(|u| Account {
        name: u.name,
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
    }))
}

/// Looks a group up by name or decimal gid.
pub fn lookup_group(name: &str) -> io::Result<Option<u32>> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(Some(gid));
    }
    let g = nix::unistd::Group::from_name(name).map_err(io::Error::from)?;
    Ok(g.map(|g| g.gid.as_raw()))
}

/// chroot(2) into `dir` and make `/` the working directory.
pub fn chroot(dir: &Path) -> io::Result<()> {
    nix::unistd::chroot(dir).map_err(io::Error::from)?;
    nix::unistd::chdir("/").map_err(io::Error::from)?;
    Ok(())
}

/// Clears supplementary groups (or sets `groups`), then sets real, effective
/// and saved gid and uid. Order matters: after setresuid we could no longer change groups.
pub fn drop_to(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    let gs: Vec<nix::unistd::Gid> = groups
        .iter()
        .map(|&g| nix::unistd::Gid::from_raw(g))
        .collect();
    nix::unistd::setgroups(&gs).map_err(io::Error::from)?;
    let g = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setresgid(g, g, g).map_err(io::Error::from)?;
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u).map_err(io::Error::from)?;
    Ok(())
}

/// Fails if this process could become root again (after a drop to a non-root uid).
pub fn verify_dropped() -> io::Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Err(io::Error::other("still running as root"));
    }
    // setuid(0) must fail now; if it succeeds something is badly wrong.
    if nix::unistd::setuid(nix::unistd::Uid::from_raw(0)).is_ok() {
        return Err(io::Error::other("root privileges could be regained"));
    }
    Ok(())
}

/// Sets PR_SET_NO_NEW_PRIVS so no exec can gain privileges again.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl(2) PR_SET_NO_NEW_PRIVS takes only integer arguments.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_root_by_name_and_number() {
        let r = lookup_user("root").unwrap().unwrap();
        assert_eq!(r.uid, 0);
        assert_eq!(lookup_user("0").unwrap().unwrap().name, "root");
        assert!(lookup_user("no-such-user-pxesuite").unwrap().is_none());
        assert_eq!(lookup_group("0").unwrap(), Some(0));
    }
}
