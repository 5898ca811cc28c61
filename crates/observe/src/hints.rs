//! Name hints for unbound events: `update-event: unbound — did you mean update_event?`, or
//! which form of a Laravel name would have matched. Each distinct (channel, event) pair is
//! looked at once, when it first arrives unbound; the answers are kept, bounded in count.

use std::collections::HashMap;

use super::binding::Bindings;
use protocol::{laravel, suggest};

/// Most (channel, event) pairs kept; later ones get no hint (a flood of distinct names
/// costs nothing more).
pub const MAX_HINTS: usize = 1000;

/// Longest channel or event name, in bytes, that is looked at (and kept): the protocol's
/// names are at most 200 characters, so a longer one from a hostile server is close to no
/// bound name, and keeping it would make the cache hold up to `MAX_HINTS` × a whole message.
const MAX_NAME_BYTES: usize = 4 * protocol::limits::MAX_KEPT_NAME_CHARS;

/// A hint: in full (inspect, `--json`), short (the log pane), and shortest (the narrow
/// events pane: just what was probably meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub text: String,
    pub short: String,
    pub pane: String,
}

/// The hints found so far: channel → event → hint (or none).
#[derive(Debug, Default)]
pub struct Hints {
    found: HashMap<String, HashMap<String, Option<Hint>>>,
    len: usize,
}

impl Hints {
    /// The hint for an unbound event, worked out on its first arrival only.
    pub fn note(&mut self, bindings: &Bindings, channel: &str, event: &str) -> Option<&Hint> {
        let known = self
            .found
            .get(channel)
            .is_some_and(|events| events.contains_key(event));
        if !known {
            if self.len >= MAX_HINTS
                || channel.len() > MAX_NAME_BYTES
                || event.len() > MAX_NAME_BYTES
            {
                return None;
            }
            let hint = find(bindings, Some(channel).filter(|c| *c != "-"), event);
            self.found
                .entry(channel.to_owned())
                .or_default()
                .insert(event.to_owned(), hint);
            self.len += 1;
        }
        self.get(channel, event)
    }

    /// The hint already found for this pair.
    pub fn get(&self, channel: &str, event: &str) -> Option<&Hint> {
        self.found.get(channel)?.get(event)?.as_ref()
    }

    /// How many pairs were looked at.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why `event` on `channel` is probably meant for one of the bindings: a Laravel or Echo
/// form of a bound name first, then the event bound on another channel only, then a close
/// spelling. `None` when nothing is close.
pub fn find(bindings: &Bindings, channel: Option<&str>, event: &str) -> Option<Hint> {
    let rules = bindings.rules();
    let here = |c: &Option<String>| c.is_none() || c.as_deref() == channel;
    let names: Vec<&str> = rules
        .iter()
        .filter(|b| here(&b.channel))
        .filter_map(|b| b.event.as_deref())
        .collect();
    for bound in &names {
        if let Some(text) = laravel::hint(event, bound) {
            return Some(Hint {
                text,
                short: format!("Laravel: bind {event}"),
                pane: format!("bind {event}"),
            });
        }
    }
    if let Some(other) = rules
        .iter()
        .filter(|b| b.event.as_deref() == Some(event))
        .find_map(|b| b.channel.as_deref())
    {
        return Some(Hint {
            text: format!("{event} is bound on {other} only"),
            short: format!("bound on {other} only"),
            pane: format!("bound on {other}"),
        });
    }
    let best = suggest::suggest_event(event, names).into_iter().next()?;
    Some(Hint {
        text: best.event_hint(),
        short: format!("did you mean {}?", best.name),
        pane: format!("{}?", best.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::Binding;

    fn bindings(rules: &[&str]) -> Bindings {
        Bindings::new(rules.iter().map(|r| Binding::parse(r).unwrap()).collect())
    }

    #[test]
    fn a_name_longer_than_the_protocol_allows_is_neither_hinted_nor_kept() {
        let b = bindings(&["update_event=log"]);
        let mut hints = Hints::default();
        let long = format!("update-event{}", "x".repeat(1 << 20));
        assert_eq!(hints.note(&b, "c", &long), None);
        assert_eq!(hints.note(&b, &long, "update-event"), None);
        assert!(hints.is_empty(), "a 1 MiB name is not kept");
        assert!(hints.note(&b, "c", "update-event").is_some());
    }

    #[test]
    fn a_misspelt_event_gets_the_bound_name() {
        let b = bindings(&["stock_ticker/update_event=log", "noise=ignore"]);
        let h = find(&b, Some("stock_ticker"), "update-event").unwrap();
        assert_eq!(h.text, "did you mean update_event?");
        assert_eq!(h.short, "did you mean update_event?");
        assert_eq!(find(&b, Some("stock_ticker"), "weather"), None);
        // A binding on another channel is not what a misspelling on this one meant...
        assert_eq!(find(&b, Some("other"), "update-event"), None);
        // ...but the right name on the wrong channel says where it is bound.
        assert_eq!(
            find(&b, Some("other"), "update_event").unwrap().short,
            "bound on stock_ticker only"
        );
    }

    #[test]
    fn laravel_names() {
        let b = bindings(&["OrderShipped=log"]);
        let h = find(&b, Some("orders"), r"App\Events\OrderShipped").unwrap();
        assert_eq!(h.short, r"Laravel: bind App\Events\OrderShipped");
        assert!(
            h.text.contains("unless the event defines broadcastAs()"),
            "{h:?}"
        );
        let b = bindings(&[r"orders/App\Events\OrderShipped=log"]);
        let h = find(&b, Some("orders"), "OrderShipped").unwrap();
        assert!(h.text.contains("listen('.OrderShipped')"), "{h:?}");
    }

    #[test]
    fn each_pair_is_looked_at_once_and_the_count_is_bounded() {
        let b = bindings(&["update_event=log"]);
        let mut hints = Hints::default();
        for _ in 0..3 {
            assert!(hints.note(&b, "c", "update-event").is_some());
        }
        assert_eq!(hints.len(), 1);
        for i in 0..MAX_HINTS + 10 {
            hints.note(&b, "c", &format!("e{i}"));
        }
        assert_eq!(hints.len(), MAX_HINTS);
        assert!(hints.get("c", "update-event").is_some());
        // Past the bound, a new name gets no hint, and nothing is kept for it.
        assert!(hints.note(&b, "d", "update-event").is_none());
        assert_eq!(hints.len(), MAX_HINTS);
    }
}
