//! Durations on the command line: `20s`, `2m`, `1h30m`, `500ms`; a bare number means seconds.

use std::time::Duration;

/// A duration of at most ten years: every duration flag is added to a clock reading, and a
/// larger one would overflow it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = if let Ok(secs) = text.parse::<f64>() {
        if !(0.0..1e9).contains(&secs) {
            return Err(format!("{text:?} is not a duration in seconds"));
        }
        Duration::from_secs_f64(secs)
    } else {
        humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration ({e}); try 20s, 2m or 1h"))?
    };
    if d > LONGEST {
        return Err(format!("{text:?} is too long: give at most 10 years"));
    }
    Ok(d)
}

/// The longest interval or offset any flag takes: ten years.
const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A period between repeated actions: at least 1 ms, at most ten years.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(1) {
        return Err(format!("{text:?} is too short: give at least 1ms"));
    }
    Ok(d)
}

/// A replay speed: a factor from 0.001 (a thousand times slower) to 1 000 000.
pub fn parse_speed(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if (0.001..=1_000_000.0).contains(&s) => Ok(s),
        _ => Err(format!("{text:?} is not a speed from 0.001 to 1000000")),
    }
}

/// Where a replay starts: an offset from the recording's first line, or a point in time.
pub use observe::replay::Start as ReplayFrom;

pub fn parse_replay_from(text: &str) -> Result<ReplayFrom, String> {
    if let Ok(d) = parse_duration(text) {
        return if d <= LONGEST {
            Ok(ReplayFrom::Offset(d))
        } else {
            Err(format!(
                "{text:?} is past the end of any recording: give at most 10 years"
            ))
        };
    }
    protocol::time_text::parse_rfc3339(text)
        .map(ReplayFrom::Time)
        .ok_or_else(|| format!("{text:?}: give an RFC 3339 time or an offset like 30s"))
}

/// A server timeout: from 10 ms to 1 h. Zero would cut every client off and hours would
/// let a slow client hold its connection for good.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    const LEAST: Duration = Duration::from_millis(10);
    const MOST: Duration = Duration::from_secs(3600);
    let d = parse_duration(text)?;
    if d < LEAST {
        Err(format!(
            "{text:?} is too short for a timeout; the least is 10ms"
        ))
    } else if d > MOST {
        Err(format!("{text:?} is too long for a timeout; at most 1h"))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_values_are_usage_errors() {
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("0s").is_err());
        assert_eq!(parse_interval("1ms"), Ok(Duration::from_millis(1)));
        assert!(parse_interval("300000000000y").is_err());
        assert!(parse_speed("1e-30").is_err());
        assert!(parse_speed("inf").is_err());
        assert!(parse_speed("NaN").is_err());
        assert_eq!(parse_speed("10"), Ok(10.0));
        assert!(parse_replay_from("300000000000y").is_err());
        assert_eq!(
            parse_replay_from("2m"),
            Ok(ReplayFrom::Offset(Duration::from_secs(120)))
        );
        assert!(matches!(
            parse_replay_from("2026-11-28T10:00:00Z"),
            Ok(ReplayFrom::Time(_))
        ));
    }

    #[test]
    fn forms() {
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("NaN").is_err());
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("1s"), Ok(Duration::from_secs(1)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("1ms").is_err());
        assert!(parse_timeout("2h").is_err());
    }
}
