//! POSIX extended regular expressions through libc's `regcomp`/`regexec`,
//! the engine tftp-hpa's remap rules are written for (reference T-MAP-1):
//! using the C library keeps every bracket class and repetition rule exactly
//! as admins' existing map files expect.

use std::ffi::CString;
use std::mem::MaybeUninit;

/// A compiled POSIX ERE.
pub struct Regex {
    re: Box<libc::regex_t>,
}

// SAFETY: a compiled regex_t is only read by regexec(3), which POSIX requires
// to be thread-safe; we never mutate it after regcomp.
unsafe impl Send for Regex {}
// SAFETY: as above, regexec takes a const regex_t.
unsafe impl Sync for Regex {}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Regex")
    }
}

/// Up to ten match offsets: whole match then groups 1–9; `None` for a group that did not take part.
pub type Captures = [Option<(usize, usize)>; 10];

impl Regex {
    /// Compiles `pattern` as an extended regex; the error is regerror(3)'s text.
    pub fn new(pattern: &[u8], icase: bool) -> Result<Regex, String> {
        let c = CString::new(pattern).map_err(|_| "pattern contains NUL".to_string())?;
        let mut re: Box<MaybeUninit<libc::regex_t>> = Box::new(MaybeUninit::uninit());
        let mut flags = libc::REG_EXTENDED;
        if icase {
            flags |= libc::REG_ICASE;
        }
        // SAFETY: regcomp(3) initialises the regex_t it is given; `c` is NUL-terminated.
        let rc = unsafe { libc::regcomp(re.as_mut_ptr(), c.as_ptr(), flags) };
        if rc != 0 {
            let mut buf = [0u8; 256];
            // SAFETY: regerror(3) writes at most buf.len() bytes, NUL-terminated; the
            // regex_t is valid to pass to regerror even after a failed regcomp.
            let n = unsafe { libc::regerror(rc, re.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(n.min(buf.len()));
            return Err(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        // SAFETY: regcomp returned 0, so the value is initialised; the layout is the same.
        let re = unsafe { Box::from_raw(Box::into_raw(re).cast::<libc::regex_t>()) };
        Ok(Regex { re })
    }

    /// Matches `text` (which must not contain NUL); returns the captures of the first match.
    pub fn captures(&self, text: &[u8]) -> Option<Captures> {
        let c = CString::new(text).ok()?;
        let mut m: [libc::regmatch_t; 10] = [libc::regmatch_t {
            rm_so: -1,
            rm_eo: -1,
        }; 10];
        // SAFETY: the regex was compiled by regcomp; `m` has room for 10 matches as stated.
        let rc = unsafe { libc::regexec(&*self.re, c.as_ptr(), m.len(), m.as_mut_ptr(), 0) };
        if rc != 0 {
            return None;
        }
        let mut out: Captures = [None; 10];
        for (o, r) in out.iter_mut().zip(m.iter()) {
            if r.rm_so >= 0 && r.rm_eo >= r.rm_so {
                *o = Some((r.rm_so as usize, r.rm_eo as usize));
            }
        }
        Some(out)
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: the regex_t was initialised by a successful regcomp and is freed once.
        unsafe { libc::regfree(&mut *self.re) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_syntax_groups_and_case() {
        let re = Regex::new(b"^(pxelinux)\\.(0|cfg)", false).unwrap();
        let c = re.captures(b"pxelinux.0").unwrap();
        assert_eq!(c[0], Some((0, 10)));
        assert_eq!(c[1], Some((0, 8)));
        assert_eq!(c[2], Some((9, 10)));
        assert!(re.captures(b"PXELINUX.0").is_none());
        assert!(Regex::new(b"^PXE", true)
            .unwrap()
            .captures(b"pxe")
            .is_some());
        assert!(Regex::new(b"(", false).is_err());
    }
}
