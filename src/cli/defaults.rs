//! Every default of `watch`, `replay` and `demo`, in one place. The clap attributes show
//! them in `--help`; the plans fall back on them when nothing else sets a value.
//!
//! Sizes and durations are written as the text `--help` shows (and parsed once, by the
//! flag's own parser); a unit test checks that the texts agree with the engine's numbers.

/// `--discover-interval`.
pub const DISCOVER_INTERVAL: &str = "2s";
/// `--fps`.
pub const FPS: u32 = 30;
/// `--log-capacity`.
pub const LOG_CAPACITY: usize = 10_000;
/// `--log-bytes`: 16 MiB.
pub const LOG_BYTES: usize = 16 << 20;
/// `--history`.
pub const HISTORY: usize = 300;
/// `--max-rows`.
pub const MAX_ROWS: usize = 1_000;
/// `--max-buffer`: the engine's queue budget ([`crate::client::DEFAULT_QUEUE_BYTES`]).
pub const MAX_BUFFER: &str = "64MiB";
/// `--max-message` ([`crate::client::DEFAULT_MAX_MESSAGE`]).
pub const MAX_MESSAGE: &str = "1MiB";
/// `replay --speed`: real time.
pub const REPLAY_SPEED: f64 = 1.0;
/// `demo --listen`: a free port on 127.0.0.1.
pub const DEMO_LISTEN: &str = "127.0.0.1:0";
/// `demo --interval`.
pub const DEMO_INTERVAL: &str = "300ms";
/// What the demo publishes and watches: the seed's channel and event.
pub const DEMO_CHANNEL: &str = "stock_ticker";
pub const DEMO_EVENT: &str = "update_event";
/// Where the demo's events carry their publish time (`stocks --ts`).
pub const DEMO_TS_FIELD: &str = "ts";
/// The user id `watch --all` joins presence channels under, unless one is given: it says
/// to everyone listing the members what this member is. A random suffix follows.
pub const OBSERVER_PREFIX: &str = "tickertape-observer-";

/// `webhooks --listen`: a port beside the embedded server's 6001.
pub const WEBHOOKS_LISTEN: &str = "127.0.0.1:6010";
/// `webhooks --max-body`: Pusher's bodies are a few KiB; client events can carry 10 KiB each.
pub const WEBHOOKS_MAX_BODY: &str = "1MiB";
/// `webhooks --body-timeout` (and its header deadline, as `serve --header-timeout`).
pub const WEBHOOKS_BODY_TIMEOUT: &str = "10s";
/// `webhooks --max-queue`: bytes of lines waiting for stdout; past it, webhooks are counted
/// as not shown instead.
pub const WEBHOOKS_MAX_QUEUE: &str = "16MiB";
/// `webhooks --max-connections` and requests read at once.
pub const WEBHOOKS_MAX_CONNECTIONS: usize = 256;

/// A fresh observer id: [`OBSERVER_PREFIX`] and eight hex digits.
pub fn observer_id() -> String {
    format!("{OBSERVER_PREFIX}{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_agree_with_the_engine() {
        use crate::cli::{duration, size};
        assert_eq!(
            size::parse_size(MAX_BUFFER),
            Ok(crate::client::DEFAULT_QUEUE_BYTES)
        );
        assert_eq!(
            size::parse_size(MAX_MESSAGE),
            Ok(crate::client::DEFAULT_MAX_MESSAGE)
        );
        assert!(duration::parse_interval(DISCOVER_INTERVAL).is_ok());
        assert!(duration::parse_interval(DEMO_INTERVAL).is_ok());
        assert!(DEMO_LISTEN.parse::<std::net::SocketAddr>().is_ok());
        assert!(crate::dashboard::binding::FieldPath::parse(DEMO_TS_FIELD).is_ok());
        assert!(observer_id().starts_with(OBSERVER_PREFIX));
        assert!(WEBHOOKS_LISTEN.parse::<std::net::SocketAddr>().is_ok());
        assert!(size::parse_size(WEBHOOKS_MAX_BODY).is_ok());
        assert!(size::parse_size(WEBHOOKS_MAX_QUEUE).is_ok());
        assert!(duration::parse_timeout(WEBHOOKS_BODY_TIMEOUT).is_ok());
    }
}
