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
/// Largest presence member's `user_info` any observer keeps, in bytes of its JSON text:
/// soketi's 2 KB, twice Pusher's 1 KB. A larger one came from a stranger and is cut
/// ([`cut_member_info`]).
pub const MAX_MEMBER_INFO_BYTES: usize = 2048;

/// Largest `pusher:subscribe` a client sends, in bytes: Reverb's `max_message_size` (10 000)
/// and Pusher's 10 KB per message. A grant that makes a larger one (a `channel_data` with a
/// huge `user_info`) would get the socket closed (1009) and the client back to the auth
/// endpoint on every reconnect; it is refused before it is sent.
pub const MAX_SUBSCRIBE_BYTES: usize = 10_000;

/// What marks a name or text that was cut.
pub const CUT_MARK: &str = "…";

/// A name from the wire as an observer keeps it: whole when it has at most
/// [`MAX_KEPT_NAME_CHARS`] characters, else its first ones and [`CUT_MARK`]. It looks at no
/// more than that many characters, whatever the name's length.
pub fn cut_name(name: &str) -> std::borrow::Cow<'_, str> {
    // No more bytes than the limit in characters: nothing to count (every event's names).
    if name.len() <= MAX_KEPT_NAME_CHARS {
        return std::borrow::Cow::Borrowed(name);
    }
    match name.char_indices().nth(MAX_KEPT_NAME_CHARS) {
        None => std::borrow::Cow::Borrowed(name),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}{CUT_MARK}", &name[..at])),
    }
}

/// A member's `user_info` as an observer keeps it: unchanged when its JSON text has at most
/// [`MAX_MEMBER_INFO_BYTES`] bytes; else a string that says so first (so that a view that cuts
/// it again still shows why), then the text's start:
/// `"[user_info of 40960 bytes, cut to 2048] {\"name\":\"xxx…"`. `None` when it fits.
pub fn cut_member_info(info: &serde_json::Value) -> Option<serde_json::Value> {
    /// Keeps the first `max` bytes written and counts them all.
    struct Head {
        kept: Vec<u8>,
        max: usize,
        total: usize,
    }
    impl std::io::Write for Head {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            let room = self.max.saturating_sub(self.kept.len()).min(data.len());
            self.kept.extend_from_slice(&data[..room]);
            self.total += data.len();
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Small values (nearly all of them) are not written out at all.
    if matches!(
        info,
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_)
    ) {
        return None;
    }
    let mut head = Head {
        kept: Vec::new(),
        max: MAX_MEMBER_INFO_BYTES,
        total: 0,
    };
    let _ = serde_json::to_writer(&mut head, info);
    if head.total <= MAX_MEMBER_INFO_BYTES {
        return None;
    }
    let text = String::from_utf8_lossy(&head.kept);
    // A character cut in two at the end shows as U+FFFD; drop it.
    let text = text.trim_end_matches('\u{fffd}');
    Some(serde_json::Value::String(format!(
        "[user_info of {} bytes, cut to {MAX_MEMBER_INFO_BYTES}] {text}{CUT_MARK}",
        head.total
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_and_short_ones_kept_whole() {
        assert_eq!(cut_name("stock_ticker"), "stock_ticker");
        let exact = "é".repeat(MAX_KEPT_NAME_CHARS);
        assert_eq!(cut_name(&exact), exact.as_str());
        let long = "é".repeat(1 << 20);
        let cut = cut_name(&long);
        assert_eq!(cut.chars().count(), MAX_KEPT_NAME_CHARS + 1);
        assert!(cut.ends_with(CUT_MARK));
    }

    #[test]
    fn big_member_info_is_cut_and_says_so() {
        let small = serde_json::json!({"name": "Ann"});
        assert_eq!(cut_member_info(&small), None);
        let big = serde_json::json!({"name": "é".repeat(20_000)});
        let cut = cut_member_info(&big).unwrap();
        let text = cut.as_str().unwrap();
        assert!(
            text.starts_with("[user_info of 40011 bytes, cut to 2048] {\"name\":\"éé"),
            "{text}"
        );
        assert!(text.ends_with(CUT_MARK), "{text}");
        assert!(text.len() < MAX_MEMBER_INFO_BYTES + 100);
    }
}
