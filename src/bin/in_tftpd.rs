//! `in.tftpd`: pxesuite's drop-in for tftp-hpa's TFTP server. Built as
//! `in-tftpd` (Cargo forbids '.') and installed or linked as `in.tftpd`.
//! Until the server lands it prints its usage and exits 64 (EX_USAGE).

fn main() {
    let prog = std::env::args()
        .next()
        .map(|a| a.rsplit('/').next().unwrap_or("in.tftpd").to_string())
        .unwrap_or_else(|| "in.tftpd".to_string());
    eprintln!("Usage: {prog} [-cv][-u user][-U umask][-s][-r option...][-m remap file][-t timeout][-T timeout][-B blksize][-R portrange] [directory ...]");
    eprintln!("{prog}: not implemented yet in this build of pxesuite");
    std::process::exit(pxesuite::cli::EX_USAGE);
}
