//! Exponential back-off with jitter: base, 2×base, 4×base … capped, plus up to half again at
//! random so that many clients do not reconnect in step. Reset when a connection ends after
//! lasting 30 s: one that dies sooner counts as a failed attempt.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The delay before the next attempt; each call doubles the next one.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let capped = exp.min(self.max);
        let jitter = capped.mul_f64(rand::random::<f64>() * 0.5);
        (capped + jitter).min(self.max)
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for n in 0..10u32 {
            let d = b.next_delay();
            let floor = Duration::from_secs(1 << n).min(Duration::from_secs(60));
            assert!(
                d >= floor && d <= (floor.mul_f64(1.5)).min(Duration::from_secs(60)),
                "{n}: {d:?}"
            );
        }
        assert_eq!(b.next_delay(), Duration::from_secs(60));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(1500));
    }
}
