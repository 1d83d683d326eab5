//! One address's lease as the server holds it, and its conversion to and
//! from the lease file's record (`leases::Lease`).

use crate::dhcp::leases::{Lease, LeaseTime};
use std::net::Ipv4Addr;

/// `binding state` values the server produces or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Free,
    Active,
    Expired,
    Released,
    Abandoned,
    Backup,
    Bootp,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Free => "free",
            State::Active => "active",
            State::Expired => "expired",
            State::Released => "released",
            State::Abandoned => "abandoned",
            State::Backup => "backup",
            State::Bootp => "bootp",
        }
    }

    pub fn from_name(s: &str) -> State {
        match s {
            "active" => State::Active,
            "expired" => State::Expired,
            "released" => State::Released,
            "abandoned" => State::Abandoned,
            "backup" => State::Backup,
            "bootp" => State::Bootp,
            _ => State::Free,
        }
    }
}

/// A lease record. Times are seconds since the epoch (UTC); `i64::MAX`
/// stands for `never`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub addr: Ipv4Addr,
    pub state: State,
    pub starts: i64,
    pub ends: i64,
    pub cltt: i64,
    /// Set when the lease left the active state (release or expiry).
    pub tstp: i64,
    pub htype: u8,
    pub hw: Vec<u8>,
    pub uid: Option<Vec<u8>>,
    pub hostname: Option<String>,
    /// An offer holds the address until this time; never written to disk.
    pub offered_until: i64,
    /// Lines of the record the server does not interpret, kept as read.
    pub other: Vec<String>,
}

pub const NEVER: i64 = i64::MAX;

impl Binding {
    pub fn new(addr: Ipv4Addr) -> Binding {
        Binding {
            addr,
            state: State::Free,
            starts: 0,
            ends: 0,
            cltt: 0,
            tstp: 0,
            htype: 1,
            hw: Vec::new(),
            uid: None,
            hostname: None,
            offered_until: 0,
            other: Vec::new(),
        }
    }

    /// The state as of `now`: an active lease past its end is expired.
    pub fn state_at(&self, now: i64) -> State {
        match self.state {
            State::Active | State::Bootp if self.ends != NEVER && self.ends <= now => {
                State::Expired
            }
            s => s,
        }
    }

    /// Whether the lease belongs to the client with this uid or hardware
    /// address (a uid, when both sides have one, decides).
    pub fn owned_by(&self, uid: Option<&[u8]>, htype: u8, hw: &[u8]) -> bool {
        match (uid, self.uid.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => !self.hw.is_empty() && self.htype == htype && self.hw == hw,
        }
    }

    /// Free for anyone at `now`: not active, not abandoned, not held by an offer.
    pub fn available(&self, now: i64) -> bool {
        matches!(
            self.state_at(now),
            State::Free | State::Expired | State::Released
        ) && self.offered_until <= now
    }

    pub fn from_lease(l: &Lease, addr: Ipv4Addr) -> Binding {
        let t = |x: Option<LeaseTime>| match x {
            Some(LeaseTime::At(s)) => s,
            Some(LeaseTime::Never) => NEVER,
            None => 0,
        };
        let (htype, hw) = match &l.hardware {
            Some((kind, bytes)) => (htype_of(kind), bytes.clone()),
            None => (1, Vec::new()),
        };
        let mut state = l
            .binding_state
            .as_deref()
            .map(State::from_name)
            .unwrap_or(State::Free);
        if l.binding_state.is_none() && l.other.iter().any(|o| o.trim() == "abandoned;") {
            state = State::Abandoned;
        }
        Binding {
            addr,
            state,
            starts: t(l.starts),
            ends: t(l.ends),
            cltt: t(l.cltt),
            tstp: t(l.tstp),
            htype,
            hw,
            uid: l.uid.clone(),
            hostname: l.client_hostname.clone(),
            offered_until: 0,
            other: l.other.clone(),
        }
    }
}

impl Binding {
    /// The record as the lease file holds it.
    pub fn to_lease(&self) -> Lease {
        let t = |x: i64| match x {
            0 => None,
            NEVER => Some(LeaseTime::Never),
            s => Some(LeaseTime::At(s)),
        };
        let next = match self.state {
            State::Active | State::Bootp => Some("free".to_string()),
            _ => None,
        };
        Lease {
            address: Some(self.addr),
            starts: t(self.starts),
            ends: t(self.ends),
            tstp: t(self.tstp),
            cltt: t(self.cltt),
            binding_state: Some(self.state.name().to_string()),
            next_binding_state: next,
            hardware: (!self.hw.is_empty())
                .then(|| (hardware_kind(self.htype).to_string(), self.hw.clone())),
            uid: self.uid.clone(),
            client_hostname: self.hostname.clone(),
            other: self.other.clone(),
            ..Lease::default()
        }
    }
}

fn htype_of(kind: &str) -> u8 {
    match kind {
        "token-ring" => 6,
        "fddi" => 8,
        "infiniband" => 32,
        _ => 1,
    }
}

/// The `hardware` keyword for an ARP type.
pub fn hardware_kind(htype: u8) -> &'static str {
    match htype {
        6 => "token-ring",
        8 => "fddi",
        32 => "infiniband",
        _ => "ethernet",
    }
}

/// `print_hw_addr`: lower-case hex pairs joined by colons.
pub fn mac_text(hw: &[u8]) -> String {
    hw.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_lease_past_its_end_is_expired_and_available() {
        let mut b = Binding::new(Ipv4Addr::new(10, 0, 0, 5));
        b.state = State::Active;
        b.ends = 100;
        assert_eq!(b.state_at(50), State::Active);
        assert!(!b.available(50));
        assert_eq!(b.state_at(100), State::Expired);
        assert!(b.available(100));
    }

    #[test]
    fn uid_decides_ownership_when_both_have_one() {
        let mut b = Binding::new(Ipv4Addr::new(10, 0, 0, 5));
        b.hw = vec![1, 2, 3, 4, 5, 6];
        b.uid = Some(vec![1, 1, 2, 3, 4, 5, 6]);
        assert!(b.owned_by(Some(&[1, 1, 2, 3, 4, 5, 6]), 1, &[9; 6]));
        assert!(!b.owned_by(Some(&[7]), 1, &[1, 2, 3, 4, 5, 6]));
        assert!(b.owned_by(None, 1, &[1, 2, 3, 4, 5, 6]));
        assert_eq!(mac_text(&b.hw), "01:02:03:04:05:06");
    }

    #[test]
    fn a_binding_survives_the_lease_record() {
        let mut b = Binding::new(Ipv4Addr::new(10, 0, 0, 5));
        b.state = State::Active;
        b.starts = 10;
        b.ends = 20;
        b.cltt = 10;
        b.hw = vec![1, 2, 3, 4, 5, 6];
        b.uid = Some(vec![1, 1, 2]);
        b.hostname = Some("n1".into());
        let back = Binding::from_lease(&b.to_lease(), b.addr);
        assert_eq!(back, b);
    }
}
