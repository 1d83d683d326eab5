//! The TFTP server (`in.tftpd`): wire codec, transfer state machine, remap
//! rules, file access under the root, standalone and inetd serving.
//! Filled in by the TFTP issue; the foundation only reserves the place.
