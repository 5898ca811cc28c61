//! Durations on the command line: `20s`, `2m`, `1h30m`, `500ms`; a bare number means seconds.

use std::time::Duration;

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return if (0.0..1e9).contains(&secs) {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(format!("{text:?} is not a duration in seconds"))
        };
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration ({e}); try 20s, 2m or 1h"))
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
