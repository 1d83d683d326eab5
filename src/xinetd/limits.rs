//! The per-service limits exactly as xinetd 2.3.14 counts them (X-LIM):
//! connections per second, instances and per_source, and the 1-minute load.
//! Pure: the caller passes the time and the counts.

use std::net::IpAddr;

/// xinetd's cps counters for one service (X-LIM-cps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cps {
    count: u32,
    start: u64,
    started: bool,
}

impl Cps {
    /// Counts one connection at `now` (seconds). True when the service must be
    /// deactivated: within a window of `rate` seconds (sic: xinetd compares the
    /// elapsed seconds with the rate number), `count / max(1, elapsed) > rate`.
    pub fn trips(&mut self, now: u64, rate: u32) -> bool {
        if !self.started {
            self.started = true;
            self.count = 1;
            self.start = now;
            return false;
        }
        let elapsed = now.saturating_sub(self.start);
        if elapsed < u64::from(rate) {
            self.count += 1;
            let secs = elapsed.max(1);
            u64::from(self.count) / secs > u64::from(rate)
        } else {
            self.start = now;
            self.count = 1;
            false
        }
    }
}

/// X-LIM-instances: refuse when `running >= instances` (None = UNLIMITED).
pub fn instances_exceeded(running: usize, limit: Option<u32>) -> bool {
    limit.is_some_and(|l| running >= l as usize)
}

/// X-LIM-per_source: refuse when the running servers with this peer address reach the limit.
pub fn per_source_exceeded<'a>(
    peers: impl Iterator<Item = &'a IpAddr>,
    peer: IpAddr,
    limit: Option<u32>,
) -> bool {
    match limit {
        None => false,
        Some(l) => {
            let want = crate::xinetd::access::canonical(peer);
            peers
                .filter(|p| crate::xinetd::access::canonical(**p) == want)
                .count()
                >= l as usize
        }
    }
}

/// max_load: refuse when the 1-minute load average is at or above it (0 = off).
pub fn load_exceeded(load: f64, max_load: f64) -> bool {
    max_load > 0.0 && load >= max_load
}

/// The 1-minute load average from `/proc/loadavg`.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|w| w.parse().ok()))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cps_5_trips_on_the_sixth_connection_in_one_second() {
        let mut c = Cps::default();
        let trips: Vec<bool> = (0..8).map(|_| c.trips(1000, 5)).collect();
        assert_eq!(
            trips,
            vec![false, false, false, false, false, true, true, true]
        );
    }

    #[test]
    fn cps_2_5_three_in_a_second_trips() {
        let mut c = Cps::default();
        assert!(!c.trips(10, 2));
        assert!(!c.trips(10, 2));
        assert!(c.trips(10, 2));
    }

    #[test]
    fn cps_window_restarts_after_rate_seconds() {
        let mut c = Cps::default();
        assert!(!c.trips(0, 2));
        assert!(!c.trips(1, 2));
        assert!(!c.trips(5, 2)); // elapsed 5 >= 2: a new window
        assert!(!c.trips(5, 2));
        assert!(c.trips(5, 2));
    }

    #[test]
    fn instance_and_source_limits() {
        assert!(!instances_exceeded(1, Some(2)));
        assert!(instances_exceeded(2, Some(2)));
        assert!(!instances_exceeded(999, None));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let m: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let running = [a, m, b];
        assert!(per_source_exceeded(running.iter(), a, Some(2)));
        assert!(!per_source_exceeded(running.iter(), b, Some(2)));
        assert!(load_exceeded(3.0, 2.5) && !load_exceeded(3.0, 0.0));
    }
}
