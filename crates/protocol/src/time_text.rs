//! Times as text, for every layer: RFC 3339 with milliseconds, and the clock part of it;
//! RFC 3339 read back whatever its offset.

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

/// An RFC 3339 time: `2026-11-28T10:00:00Z`, with fractions of a second, any offset
/// (`+02:00`), and a lowercase `t` or `z`, as the RFC allows. `None` when it is not one (or
/// is before 1970).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let time =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    let since = time - time::OffsetDateTime::UNIX_EPOCH;
    let since = std::time::Duration::try_from(since).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(since)
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

    #[test]
    fn rfc3339_is_read_whatever_its_offset() {
        let z = parse_rfc3339("2026-11-28T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-28T12:00:00+02:00"), Some(z));
        assert_eq!(parse_rfc3339("2026-11-28t10:00:00z"), Some(z));
        assert_eq!(parse_rfc3339(" 2026-11-28T09:00:00-01:00 "), Some(z));
        assert_eq!(
            parse_rfc3339("2026-11-28T10:00:00.123Z"),
            Some(z + Duration::from_millis(123))
        );
        assert_eq!(
            rfc3339_millis(parse_rfc3339("2026-11-29T09:59:00+23:59").unwrap()),
            "2026-11-28T10:00:00.000Z"
        );
        for bad in [
            "2026-11-28",
            "2026-11-28T10:00:00",
            "1969-12-31T23:59:59Z",
            "x",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
