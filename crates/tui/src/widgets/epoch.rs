//! Instants shown as wall-clock times: an [`Instant`] and the wall-clock time it was, so
//! that every later (or earlier) instant maps to a time of day without asking the clock
//! again. Tests pin the wall-clock time to draw the same screen every run.

use std::time::{Instant, SystemTime};

use observe::output::lines::clock;

/// An instant and the wall-clock time then.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    at: Instant,
    wall: SystemTime,
}

impl Epoch {
    pub fn new(at: Instant, wall: SystemTime) -> Epoch {
        Epoch { at, wall }
    }

    /// The wall-clock time at `at`.
    pub fn wall(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.at) {
            Some(d) => self.wall + d,
            None => self.wall - self.at.saturating_duration_since(at),
        }
    }

    /// `10:00:03`: `at` as a time of day (UTC), to the second.
    pub fn time_of_day(&self, at: Instant) -> String {
        clock(self.wall(at)).chars().take(8).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn instants_before_and_after_the_epoch_map_to_their_wall_clock_times() {
        let at = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(36_003);
        let epoch = Epoch::new(at, wall);
        assert_eq!(
            epoch.wall(at + Duration::from_secs(2)),
            wall + Duration::from_secs(2)
        );
        assert_eq!(epoch.time_of_day(at + Duration::from_secs(2)), "10:00:05");
        if let Some(before) = at.checked_sub(Duration::from_secs(3)) {
            assert_eq!(epoch.time_of_day(before), "10:00:00");
        }
    }
}
