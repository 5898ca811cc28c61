//! When a screen may draw, and how it timed itself (`watch --stats FILE`).
//!
//! The frame cap is exact: at most `fps` frames in any one-second window. Data redraws are
//! paced one and a half frame times apart, so a stream alone uses two thirds of the cap and
//! leaves room for keys: a key press is drawn at once unless the window is full.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const WINDOW: Duration = Duration::from_secs(1);
/// Key latencies kept for the percentiles (a sample beyond this would not change them much).
const MAX_SAMPLES: usize = 100_000;

/// Decides when the next frame may be drawn.
#[derive(Debug)]
pub struct Pacer {
    cap: usize,
    /// The spacing of data redraws.
    data_spacing: Duration,
    /// The last `cap` draws.
    recent: VecDeque<Instant>,
}

impl Pacer {
    pub fn new(fps: u32) -> Pacer {
        let fps = fps.clamp(1, 240);
        Pacer {
            cap: fps as usize,
            data_spacing: WINDOW * 3 / (fps * 2),
            recent: VecDeque::with_capacity(fps as usize),
        }
    }

    /// The earliest a frame may be drawn without breaking the cap.
    pub fn allowed_at(&self, now: Instant) -> Instant {
        match self.recent.front() {
            Some(&oldest) if self.recent.len() >= self.cap => (oldest + WINDOW).max(now),
            _ => now,
        }
    }

    /// When a redraw is due: at once for a key press, one and a half frame times after the
    /// last draw for data, and never above the cap.
    pub fn due(&self, now: Instant, urgent: bool) -> Instant {
        let paced = match (urgent, self.recent.back()) {
            (false, Some(&last)) => last + self.data_spacing,
            _ => now,
        };
        paced.max(self.allowed_at(now))
    }

    pub fn drew(&mut self, at: Instant) {
        if self.recent.len() >= self.cap {
            self.recent.pop_front();
        }
        self.recent.push_back(at);
    }
}

/// What `--stats` reports: frames, their rate, key-to-frame latency and CPU time.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    fps_cap: u32,
    frames: u64,
    draw_time: Duration,
    /// Draws in the last second, for the highest rate over any one-second window.
    window: VecDeque<Instant>,
    max_in_window: usize,
    /// Keys read but not yet on screen.
    pending_keys: Vec<Instant>,
    key_latency: Vec<Duration>,
    keys: u64,
}

impl Stats {
    pub fn new(fps_cap: u32, now: Instant) -> Stats {
        Stats {
            started: now,
            fps_cap,
            frames: 0,
            draw_time: Duration::ZERO,
            window: VecDeque::new(),
            max_in_window: 0,
            pending_keys: Vec::new(),
            key_latency: Vec::new(),
            keys: 0,
        }
    }

    /// A key was read at `at`.
    pub fn key(&mut self, at: Instant) {
        self.keys += 1;
        if self.pending_keys.len() < MAX_SAMPLES {
            self.pending_keys.push(at);
        }
    }

    /// A frame began at `began` and was written to the terminal at `done`.
    pub fn drawn(&mut self, began: Instant, done: Instant) {
        self.frames += 1;
        self.draw_time += done.saturating_duration_since(began);
        while self
            .window
            .front()
            .is_some_and(|&t| began.saturating_duration_since(t) >= WINDOW)
        {
            self.window.pop_front();
        }
        self.window.push_back(began);
        self.max_in_window = self.max_in_window.max(self.window.len());
        for k in self.pending_keys.drain(..) {
            if self.key_latency.len() < MAX_SAMPLES {
                self.key_latency.push(done.saturating_duration_since(k));
            }
        }
    }

    /// The report, as one JSON object.
    pub fn report(&self, now: Instant, events: u64, dropped: u64, cpu: Option<Duration>) -> Value {
        let secs = now.saturating_duration_since(self.started).as_secs_f64();
        let mut lat = self.key_latency.clone();
        lat.sort_unstable();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map(|d| round3(d.as_secs_f64() * 1000.0))
        };
        json!({
            "seconds": round3(secs),
            "events": events,
            "dropped": dropped,
            "frames": self.frames,
            "fps_cap": self.fps_cap,
            "fps_mean": round3(self.frames as f64 / secs.max(1e-9)),
            "fps_max_1s": self.max_in_window,
            "draw_ms_mean": round3(self.draw_time.as_secs_f64() * 1000.0 / self.frames.max(1) as f64),
            "keys": self.keys,
            "key_to_frame_ms": { "p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0) },
            "cpu_seconds": cpu.map(|d| round3(d.as_secs_f64())),
            "cpu_percent": cpu.map(|d| round3(100.0 * d.as_secs_f64() / secs.max(1e-9))),
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// This process's CPU time (user + system), where `/proc` tells it.
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_proc_stat(&stat)
}

/// utime and stime from `/proc/PID/stat`, in USER_HZ (100 per second on Linux).
fn parse_proc_stat(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws whenever allowed, urgently or not, and checks every one-second window.
    fn max_in_any_window(fps: u32, urgent: bool) -> usize {
        let mut pacer = Pacer::new(fps);
        let t0 = Instant::now();
        let mut now = t0;
        let mut draws = Vec::new();
        while now < t0 + Duration::from_secs(5) {
            let at = pacer.due(now, urgent);
            pacer.drew(at);
            draws.push(at);
            now = at + Duration::from_micros(100);
        }
        draws
            .iter()
            .map(|&s| draws.iter().filter(|&&d| d >= s && d < s + WINDOW).count())
            .max()
            .unwrap()
    }

    #[test]
    fn the_cap_holds_in_every_window_even_for_a_flood_of_keys() {
        assert_eq!(max_in_any_window(30, true), 30);
        assert!(max_in_any_window(30, false) <= 30);
        assert_eq!(max_in_any_window(1, true), 1);
    }

    #[test]
    fn a_key_is_drawn_at_once_below_the_cap_and_data_waits_a_frame() {
        let mut pacer = Pacer::new(30);
        let t0 = Instant::now();
        assert_eq!(pacer.due(t0, false), t0);
        pacer.drew(t0);
        let later = t0 + Duration::from_millis(5);
        assert_eq!(pacer.due(later, true), later);
        assert_eq!(pacer.due(later, false), t0 + Duration::from_millis(50));
    }

    #[test]
    fn keys_at_ten_a_second_are_never_held_back_by_a_stream() {
        let mut pacer = Pacer::new(30);
        let t0 = Instant::now();
        let mut now = t0;
        let mut next_key = t0;
        while now < t0 + Duration::from_secs(5) {
            let key = now >= next_key;
            let at = pacer.due(now, key);
            if key {
                assert_eq!(at, now, "a key waited");
                next_key += Duration::from_millis(100);
            }
            pacer.drew(at);
            now = (at + Duration::from_millis(1)).min(next_key.max(at));
        }
    }

    #[test]
    fn stats_time_keys_to_the_frame_that_shows_them() {
        let t0 = Instant::now();
        let mut stats = Stats::new(30, t0);
        stats.key(t0 + Duration::from_millis(10));
        stats.drawn(
            t0 + Duration::from_millis(12),
            t0 + Duration::from_millis(14),
        );
        for i in 0..40 {
            let at = t0 + Duration::from_millis(20 + i * 10);
            stats.drawn(at, at);
        }
        let r = stats.report(
            t0 + Duration::from_secs(2),
            7,
            0,
            Some(Duration::from_millis(500)),
        );
        assert_eq!(r["frames"], 41);
        assert_eq!(r["keys"], 1);
        assert_eq!(r["key_to_frame_ms"]["p99"], 4.0);
        assert_eq!(r["fps_max_1s"], 41); // 12 ms .. 410 ms, all within one second
        assert_eq!(r["cpu_percent"], 25.0);
    }

    #[test]
    fn proc_stat_with_spaces_in_the_name() {
        let line = "42 (tick tape) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_proc_stat(line), Some(Duration::from_secs(3)));
    }
}
