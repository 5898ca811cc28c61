//! Numeric limits from the protocol reference (§8) and pusher-js defaults (§5, §9).

/// Longest channel name that libraries and self-hosted servers accept.
pub const MAX_CHANNEL_NAME_LEN: usize = 200;
/// Longest event name.
pub const MAX_EVENT_NAME_LEN: usize = 200;
/// Largest `data` of one triggered event, in bytes (Pusher answers 413 above it).
pub const MAX_EVENT_DATA_BYTES: usize = 10 * 1024;
/// Most channels one trigger may name.
pub const MAX_TRIGGER_CHANNELS: usize = 100;
/// Most events in one `batch_events` call.
pub const MAX_BATCH_EVENTS: usize = 10;
/// Most distinct users on one presence channel.
pub const MAX_PRESENCE_MEMBERS: usize = 100;
/// Longest presence user id.
pub const MAX_USER_ID_LEN: usize = 128;
/// How far a REST `auth_timestamp` may be from the server's clock, in seconds.
pub const REST_TIMESTAMP_WINDOW_SECS: u64 = 600;
/// Client events one connection may send per second.
pub const CLIENT_EVENTS_PER_SECOND: u32 = 10;
/// pusher-js's default activity timeout, in seconds.
pub const DEFAULT_ACTIVITY_TIMEOUT_SECS: u64 = 120;
/// How long to wait for a pong before giving the connection up, in seconds.
pub const DEFAULT_PONG_TIMEOUT_SECS: u64 = 30;
/// Longest name from the wire (channel, event, member) that any observer keeps, in
/// characters: the protocol's own longest. A longer one came from a stranger and is cut.
pub const MAX_KEPT_NAME_CHARS: usize = 200;
