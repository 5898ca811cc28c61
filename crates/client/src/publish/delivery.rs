//! What a publish reached: subscribers per channel, from the `subscription_count` the server
//! answers, and for a channel nobody listens to, the occupied channels it probably meant.

use std::collections::HashMap;

use super::RestClient;
use protocol::rest::occupied_channels;
use protocol::safe_text::terminal_safe;
use protocol::suggest::Index;

/// Said once when the server's answer lacks the count.
pub const COUNTING_OFF: &str = "the server did not report subscription_count, so whether anyone \
     received the event is unknown (on Pusher, turn on subscription counting in the app's settings)";

/// At most this many channels are reported one by one; the rest are counted.
pub const MAX_LINES: usize = 20;
/// At most this many occupied channels are compared for suggestions.
const MAX_OCCUPIED: usize = 10_000;

/// Channels in the order they were first published to, with what their events reached.
#[derive(Debug, Default)]
pub struct Tally {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

#[derive(Debug)]
struct Entry {
    channel: String,
    events: u64,
    /// The fewest subscribers any of its events reached, of those the server counted.
    fewest: Option<u64>,
    /// Some event's answer had no count.
    uncounted: bool,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Tally {
    /// One event published on `channel`, which reached `count` subscribers if the server said.
    pub fn record(&mut self, channel: &str, count: Option<u64>) {
        let i = *self.index.entry(channel.to_owned()).or_insert_with(|| {
            self.entries.push(Entry {
                channel: channel.to_owned(),
                events: 0,
                fewest: None,
                uncounted: false,
            });
            self.entries.len() - 1
        });
        let e = &mut self.entries[i];
        e.events += 1;
        match count {
            Some(n) => e.fewest = Some(e.fewest.map_or(n, |f| f.min(n))),
            None => e.uncounted = true,
        }
    }

    /// Channels where an event reached no one.
    pub fn unreached(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.fewest == Some(0))
            .map(|e| e.channel.as_str())
            .collect()
    }

    /// Whether the server left the count out of some answer.
    pub fn uncounted(&self) -> bool {
        self.entries.iter().any(|e| e.uncounted)
    }

    /// The report: one line per channel (at most [`MAX_LINES`]), and [`COUNTING_OFF`] once
    /// if it applies.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.entries.iter().take(MAX_LINES) {
            let channel = terminal_safe(&e.channel);
            let events = if e.events > 1 {
                format!(" ({})", plural(e.events, "event", "events"))
            } else {
                String::new()
            };
            match e.fewest {
                // Servers count after delivering (sockudo does): a subscriber that took the
                // event and left at once is not in the count, so 0 is what was counted, not
                // proof that nobody received it.
                Some(0) => out.push(format!(
                    "{channel} has no subscribers: the server counted 0 subscribers just after \
                     publishing {}(one that took {} and left at once is not counted)",
                    if e.events > 1 {
                        format!("each of the {} events ", e.events)
                    } else {
                        String::new()
                    },
                    if e.events > 1 { "them" } else { "the event" }
                )),
                Some(n) => out.push(format!(
                    "delivered to {} on {channel}{events}",
                    plural(n, "subscriber", "subscribers")
                )),
                None => {}
            }
        }
        if self.entries.len() > MAX_LINES {
            let more = self.entries.len() - MAX_LINES;
            out.push(format!(
                "… and {more} more {}",
                if more == 1 { "channel" } else { "channels" }
            ));
        }
        if self.uncounted() {
            out.push(COUNTING_OFF.to_owned());
        }
        out
    }
}

/// What the publisher probably meant, for channels nobody listens to: the occupied channels
/// (`GET /channels`, asked once per run) with similar names, as `did you mean …?` lines, from
/// one [`Index`] of them. Failures to list them are said, never fatal.
pub async fn hints(client: &RestClient, unreached: &[&str]) -> Vec<String> {
    if unreached.is_empty() {
        return Vec::new();
    }
    let occupied = match client.channels(None, None).await {
        Ok(answer) => occupied_channels(&answer, MAX_OCCUPIED),
        Err(e) => {
            return vec![format!(
                "cannot list the occupied channels to suggest one: {}",
                terminal_safe(&e.to_string())
            )];
        }
    };
    if occupied.is_empty() {
        return vec![
            "no channel of this app is occupied: is the subscriber connected to the same app \
             (key, cluster or host)?"
                .to_owned(),
        ];
    }
    // One listing and one index per run, however many channels reached no one: each question
    // then looks only at the names of a near length.
    let index = Index::new(occupied.iter().map(String::as_str));
    let mut out = Vec::new();
    for channel in unreached.iter().take(MAX_LINES) {
        let found = index.suggest(channel);
        let lead = if unreached.len() > 1 {
            format!("{}: ", terminal_safe(channel))
        } else {
            String::new()
        };
        if found.is_empty() {
            out.push(format!("{lead}no occupied channel has a similar name"));
        }
        for s in found {
            out.push(format!("{lead}{}", terminal_safe(&s.hint())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_counts_per_channel() {
        let mut t = Tally::default();
        t.record("stock_ticker", Some(3));
        t.record("one", Some(1));
        t.record("stock-ticker", Some(0));
        t.record("batch", Some(2));
        t.record("batch", Some(2));
        t.record("empty", Some(0));
        t.record("empty", Some(0));
        assert_eq!(
            t.lines(),
            [
                "delivered to 3 subscribers on stock_ticker",
                "delivered to 1 subscriber on one",
                "stock-ticker has no subscribers: the server counted 0 subscribers just after \
                 publishing (one that took the event and left at once is not counted)",
                "delivered to 2 subscribers on batch (2 events)",
                "empty has no subscribers: the server counted 0 subscribers just after publishing \
                 each of the 2 events (one that took them and left at once is not counted)",
            ]
        );
        assert_eq!(t.unreached(), ["stock-ticker", "empty"]);
        assert!(!t.uncounted());
    }

    #[test]
    fn a_missing_count_is_said_once_and_many_channels_are_cut() {
        let mut t = Tally::default();
        for i in 0..MAX_LINES + 5 {
            t.record(&format!("c{i}"), None);
        }
        let lines = t.lines();
        assert_eq!(lines, ["… and 5 more channels", COUNTING_OFF]);
        assert!(t.unreached().is_empty() && t.uncounted());
    }
}
