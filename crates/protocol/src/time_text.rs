//! Times as text, for every layer: RFC 3339 with milliseconds, and the clock part of it.

use std::time::SystemTime;

/// `2026-11-28T10:00:00.123Z`.
pub fn rfc3339_millis(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// `HH:MM:SS.mmm` of a time, in UTC.
pub fn clock(time: SystemTime) -> String {
    let text = rfc3339_millis(time);
    text.get(11..23).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_clock_is_the_time_of_day_of_the_rfc3339_form() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        assert_eq!(rfc3339_millis(t), "2026-11-18T11:06:40.123Z");
        assert_eq!(clock(t), "11:06:40.123");
    }
}
