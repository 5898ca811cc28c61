//! Publish-to-receive latency, from a timestamp field the publisher puts in each event
//! (`tickertape stocks --ts` writes `ts`), and windows of it for p50/p99/max.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Milliseconds from the publish timestamp at `pointer` to `received`. The timestamp is
/// milliseconds since the epoch, or seconds when it is small enough to be seconds.
pub fn latency_ms(data: &Value, pointer: &str, received: SystemTime) -> Option<f64> {
    let ts = match data.pointer(pointer)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let ts_ms = if ts < 1e11 { ts * 1000.0 } else { ts };
    let received_ms = received.duration_since(UNIX_EPOCH).ok()?.as_secs_f64() * 1000.0;
    let latency = received_ms - ts_ms;
    // A clock far apart gives nonsense, not a latency.
    (latency.is_finite() && latency.abs() < 86_400_000.0).then_some(latency)
}

/// The last samples of one event type.
#[derive(Debug, Clone, Default)]
pub struct Window {
    samples: VecDeque<f64>,
}

/// Samples kept per window.
pub const WINDOW: usize = 500;

/// p50, p99 and max of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub samples: usize,
}

impl Window {
    pub fn push(&mut self, ms: f64) {
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(ms);
    }

    pub fn summary(&self) -> Option<Summary> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Some(Summary {
            p50: at(0.5),
            p99: at(0.99),
            max: sorted[sorted.len() - 1],
            samples: sorted.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn latency_from_ms_or_seconds() {
        let received = UNIX_EPOCH + Duration::from_millis(1_795_000_000_250);
        assert_eq!(
            latency_ms(&json!({"ts": 1_795_000_000_000u64}), "/ts", received),
            Some(250.0)
        );
        assert_eq!(
            latency_ms(&json!({"ts": 1_795_000_000}), "/ts", received),
            Some(250.0)
        );
        assert_eq!(
            latency_ms(
                &json!({"meta": {"ts": "1795000000100"}}),
                "/meta/ts",
                received
            ),
            Some(150.0)
        );
        assert_eq!(latency_ms(&json!({"ts": "soon"}), "/ts", received), None);
        assert_eq!(latency_ms(&json!({}), "/ts", received), None);
        assert_eq!(
            latency_ms(&json!({"ts": 5}), "/ts", received),
            None,
            "a clock decades off"
        );
    }

    #[test]
    fn windows_summarise_and_stay_bounded() {
        let mut w = Window::default();
        assert_eq!(w.summary(), None);
        for n in 0..1000 {
            w.push(n as f64);
        }
        let s = w.summary().unwrap();
        assert_eq!((s.samples, s.max), (WINDOW, 999.0));
        assert_eq!(s.p50, 750.0);
        assert_eq!(
            s.p99, 994.0,
            "nearest rank: index round(499 × 0.99) of 500..=999"
        );
    }
}
