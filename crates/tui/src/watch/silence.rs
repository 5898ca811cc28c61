//! How long each subscribed channel has gone without an event: `stock_ticker: silent 2m13s`.
//! The clock starts at the subscription and restarts with each event; a channel is called
//! silent after [`SILENT_AFTER`]. The view reads it with the frame's `now`, and the run loop's
//! once-a-second redraw keeps the count moving.

use std::time::{Duration, Instant};

use bounded::{Limits, WeighedMap};
use client::Conn;

/// No event for this long and a channel is silent.
pub const SILENT_AFTER: Duration = Duration::from_secs(10);

/// Most channels followed, and the bytes their names take (the subscriptions are bounded
/// already; this is a second fence).
const MAX_CHANNELS: Limits = Limits::new(1000, 1 << 20);

/// A channel of a connection (its name cut).
pub(super) type Channel = (Conn, String);

#[derive(Debug, Clone)]
pub struct Silence {
    /// Subscribed channel → its last event, or its subscription when none came yet.
    last: WeighedMap<Channel, Instant>,
}

impl Default for Silence {
    fn default() -> Silence {
        Silence {
            last: WeighedMap::new(MAX_CHANNELS),
        }
    }
}

impl Silence {
    /// The channel is subscribed: its clock starts now, unless it runs already (a
    /// resubscription after a reconnect does not make a silent channel look live).
    pub fn subscribed(&mut self, channel: Channel, now: Instant) {
        if !self.last.contains_key(&channel) {
            let _ = self.last.insert(channel, now);
        }
    }

    /// The channel is no longer subscribed (left, or its subscription failed).
    pub fn gone(&mut self, channel: &Channel) {
        self.last.remove(channel);
    }

    /// An event came on the channel.
    pub fn event(&mut self, channel: &Channel, now: Instant) {
        self.last.update(channel, |at| *at = now);
    }

    /// The silent channels and for how long, by connection and name.
    pub fn silent(&self, now: Instant) -> impl Iterator<Item = (&Channel, Duration)> {
        self.last
            .iter()
            .map(move |(c, at)| (c, now.saturating_duration_since(*at)))
            .filter(|(_, d)| *d >= SILENT_AFTER)
    }

    /// Channels not followed (past the caps).
    pub fn dropped(&self) -> u64 {
        self.last.drops().total()
    }

    /// The bytes its names weigh.
    pub fn bytes(&self) -> usize {
        self.last.bytes()
    }

    /// How long this channel has been silent, if it is.
    pub fn silent_for(&self, channel: &Channel, now: Instant) -> Option<Duration> {
        let d = now.saturating_duration_since(*self.last.get(channel)?);
        (d >= SILENT_AFTER).then_some(d)
    }

    pub fn any_silent(&self, now: Instant) -> bool {
        self.silent(now).next().is_some()
    }
}

/// A silence's length to the second: `45s`, `2m13s`, `1h04m`, `3d02h`.
pub(super) fn length(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_silent_from_its_subscription_or_its_last_event() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let c = |name: &str| (0, name.to_owned());
        let mut silence = Silence::default();
        silence.subscribed(c("a"), t0);
        silence.subscribed(c("b"), t0);
        silence.event(&c("b"), at(5));
        silence.event(&c("unsubscribed"), at(5));
        assert!(!silence.any_silent(at(9)));
        assert_eq!(silence.silent_for(&c("a"), at(10)), Some(at(10) - t0));
        assert_eq!(silence.silent_for(&c("b"), at(10)), None);
        let all: Vec<_> = silence.silent(at(133)).collect();
        assert_eq!(
            all,
            [
                (&c("a"), Duration::from_secs(133)),
                (&c("b"), Duration::from_secs(128))
            ]
        );
        // A resubscription keeps the clock; leaving stops it.
        silence.subscribed(c("a"), at(130));
        assert_eq!(
            silence.silent_for(&c("a"), at(133)),
            Some(Duration::from_secs(133))
        );
        silence.gone(&c("a"));
        assert_eq!(silence.silent_for(&c("a"), at(133)), None);
    }

    #[test]
    fn lengths_to_the_second() {
        let l = |s| length(Duration::from_secs(s));
        assert_eq!(
            [
                l(0),
                l(45),
                l(133),
                l(3600 + 4 * 60 + 9),
                l(2 * 86_400 + 3 * 3600)
            ],
            ["0s", "45s", "2m13s", "1h04m", "2d03h"]
        );
    }
}
