//! A small flag table shared by the programs' hand-written argument parsers:
//! each program keeps its original's quirks (ISC's `-cf FILE` words, tftp-hpa's
//! getopt set, xinetd's single-dash long words), and the same table prints the usage.

/// One flag of a program, for usage text and man pages.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub name: &'static str,
    pub arg: Option<&'static str>,
    pub help: &'static str,
}

/// Renders `usage: prog [flags]` wrapped at 79 columns.
pub fn usage_line(prog: &str, flags: &[Flag]) -> String {
    let mut out = format!("Usage: {prog}");
    let mut width = out.len();
    for f in flags {
        let item = match f.arg {
            Some(a) => format!(" [{} {}]", f.name, a),
            None => format!(" [{}]", f.name),
        };
        if width + item.len() > 79 {
            out.push_str("\n       ");
            width = 7;
        }
        width += item.len();
        out.push_str(&item);
    }
    out
}

/// Exit status for bad usage (sysexits EX_USAGE), used by programs not yet built.
pub const EX_USAGE: i32 = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_wraps_and_lists_flags() {
        let flags = [
            Flag {
                name: "-d",
                arg: None,
                help: "",
            },
            Flag {
                name: "-cf",
                arg: Some("config-file"),
                help: "",
            },
        ];
        assert_eq!(
            usage_line("dhcpd", &flags),
            "Usage: dhcpd [-d] [-cf config-file]"
        );
    }
}
