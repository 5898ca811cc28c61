//! Every default of the command line, in one place. The clap attributes show
//! them in `--help`; the plans fall back on them when nothing else sets a value.
//!
//! Sizes and durations are written as the text `--help` shows (and parsed once, by the
//! flag's own parser); a unit test checks that the texts agree with the engine's numbers.

/// `--log-level`, for `--log-file`.
pub const LOG_LEVEL: &str = "info";
/// `--discover-interval`.
pub const DISCOVER_INTERVAL: &str = "2s";
/// `--fps`.
pub const FPS: u32 = 30;
/// `--log-capacity`, `--log-bytes` (16 MiB), `--history` and `--max-rows`: the dashboard's
/// own bounds, kept where the dashboard is.
pub use tui::watch::ticker::{HISTORY, MAX_ROWS};
pub use tui::watch::{LOG_BYTES, LOG_CAPACITY};
/// `--max-buffer`: the engine's queue budget ([`client::DEFAULT_QUEUE_BYTES`]).
pub const MAX_BUFFER: &str = "64MiB";
/// `--max-message` ([`client::DEFAULT_MAX_MESSAGE`]).
pub const MAX_MESSAGE: &str = "1MiB";
/// `replay --speed`: real time.
pub const REPLAY_SPEED: f64 = 1.0;
/// `demo --listen`: a free port on 127.0.0.1.
pub const DEMO_LISTEN: &str = "127.0.0.1:0";
/// `demo --interval`.
pub const DEMO_INTERVAL: &str = "300ms";
/// What the demo (and `stocks`, by default) publishes and watches: the seed's channel and
/// event.
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

/// `serve`'s durations and sizes, as `--help` shows them; the server owns the values
/// (`server::ServerConfig::DEFAULT_*` and its limits' own), and a test holds these to them.
pub const SERVE_ACTIVITY_TIMEOUT: &str = "120s";
pub const SERVE_PONG_TIMEOUT: &str = "30s";
pub const SERVE_CACHE_TTL: &str = "30m";
pub const SERVE_CLOSE_TIMEOUT: &str = "1s";
pub const SERVE_HEADER_TIMEOUT: &str = "10s";
pub const SERVE_BODY_TIMEOUT: &str = "10s";
pub const SERVE_IDLE_TIMEOUT: &str = "5s";
pub const WEBHOOK_QUEUE_BYTES: &str = "4MiB";
pub const WEBHOOK_TIMEOUT: &str = "5s";
pub const WEBHOOK_RETRY_FOR: &str = "30s";

/// `stocks --interval`.
pub const STOCKS_INTERVAL: &str = "5s";
/// `check --for`.
pub const CHECK_WINDOW: &str = "30s";

/// A fresh observer id: [`OBSERVER_PREFIX`] and eight hex digits.
pub fn observer_id() -> String {
    format!("{OBSERVER_PREFIX}{:08x}", rand::random::<u32>())
}

/// `probe --interval`: one canary a second.
pub const PROBE_INTERVAL: &str = "1s";
/// `probe --loss-after`: a canary not received within this is lost.
pub const PROBE_LOSS_AFTER: &str = "5s";
/// `probe --settle`: how long presence lists may differ before it counts.
pub const PROBE_SETTLE: &str = "3s";
/// `probe --warn-latency` and `--crit-latency` (p99).
pub const PROBE_WARN_LATENCY: &str = "250ms";
pub const PROBE_CRIT_LATENCY: &str = "1s";
/// `probe --summary-every`.
pub const PROBE_SUMMARY_EVERY: &str = "10s";
/// `probe --channel`: this and eight hex digits.
pub const PROBE_CHANNEL_PREFIX: &str = "private-tickertape-probe-";
/// The presence channel every node joins: this and the canary channel's suffix.
pub const PROBE_PRESENCE_PREFIX: &str = "presence-tickertape-probe-";
/// The user id of node N on the presence channel: this and N.
pub const PROBE_USER_PREFIX: &str = "probe-";

/// A fresh probe id: eight hex digits (in the channel names and in every canary).
pub fn probe_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_agree_with_the_engine() {
        use crate::cli::{duration, size};
        assert_eq!(
            size::parse_size(MAX_BUFFER),
            Ok(client::DEFAULT_QUEUE_BYTES)
        );
        assert_eq!(
            size::parse_size(MAX_MESSAGE),
            Ok(client::DEFAULT_MAX_MESSAGE)
        );
        assert!(duration::parse_interval(DISCOVER_INTERVAL).is_ok());
        assert_eq!(
            LOG_LEVEL.parse::<tracing::Level>().ok(),
            Some(tracing::Level::INFO)
        );
        assert!(duration::parse_interval(DEMO_INTERVAL).is_ok());
        assert!(DEMO_LISTEN.parse::<std::net::SocketAddr>().is_ok());
        assert!(observe::binding::FieldPath::parse(DEMO_TS_FIELD).is_ok());
        assert!(observer_id().starts_with(OBSERVER_PREFIX));
        for d in [
            PROBE_INTERVAL,
            PROBE_LOSS_AFTER,
            PROBE_SETTLE,
            PROBE_WARN_LATENCY,
            PROBE_CRIT_LATENCY,
            PROBE_SUMMARY_EVERY,
        ] {
            assert!(duration::parse_interval(d).is_ok(), "{d}");
        }
        let channel = format!("{PROBE_CHANNEL_PREFIX}{}", probe_id());
        assert!(protocol::channel::validate_channel(&channel, false).is_ok());
        assert!(WEBHOOKS_LISTEN.parse::<std::net::SocketAddr>().is_ok());
        assert!(size::parse_size(WEBHOOKS_MAX_BODY).is_ok());
        assert!(size::parse_size(WEBHOOKS_MAX_QUEUE).is_ok());
        assert!(duration::parse_timeout(WEBHOOKS_BODY_TIMEOUT).is_ok());
        assert!(duration::parse_interval(STOCKS_INTERVAL).is_ok());
        assert!(duration::parse_interval(CHECK_WINDOW).is_ok());
    }

    /// `serve`'s texts say the server's own defaults.
    #[test]
    fn serves_texts_agree_with_the_server() {
        use crate::cli::{duration, size};
        use server::CacheLimits;
        use server::webhooks::{QueueLimits, WebhookLimits};
        use server::{Limits, ServerConfig};
        let d = |text| duration::parse_duration(text).unwrap();
        let t = |text| duration::parse_timeout(text).unwrap();
        assert_eq!(
            d(SERVE_ACTIVITY_TIMEOUT),
            ServerConfig::DEFAULT_ACTIVITY_TIMEOUT
        );
        assert_eq!(d(SERVE_PONG_TIMEOUT), ServerConfig::DEFAULT_PONG_TIMEOUT);
        assert_eq!(d(SERVE_CACHE_TTL), CacheLimits::DEFAULT_TTL);
        assert_eq!(d(SERVE_CLOSE_TIMEOUT), ServerConfig::DEFAULT_CLOSE_TIMEOUT);
        assert_eq!(t(SERVE_HEADER_TIMEOUT), Limits::DEFAULT_HEADER_TIMEOUT);
        assert_eq!(t(SERVE_BODY_TIMEOUT), Limits::DEFAULT_BODY_TIMEOUT);
        assert_eq!(t(SERVE_IDLE_TIMEOUT), Limits::DEFAULT_IDLE_TIMEOUT);
        assert_eq!(
            size::parse_size(WEBHOOK_QUEUE_BYTES),
            Ok(QueueLimits::DEFAULT_BYTES)
        );
        assert_eq!(t(WEBHOOK_TIMEOUT), WebhookLimits::DEFAULT_TIMEOUT);
        assert_eq!(t(WEBHOOK_RETRY_FOR), WebhookLimits::DEFAULT_RETRY_FOR);
    }
}
