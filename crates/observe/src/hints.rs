//! Name hints for unbound events: `update-event: unbound — did you mean update_event?`, or
//! which form of a Laravel name would have matched. Each distinct (channel, event) pair is
//! looked at once, when it first arrives unbound; the answers are kept, bounded in count.

use bounded::{Limits, Weigh, WeighedMap};

use super::binding::Bindings;
use protocol::limits::cut_name;
use protocol::{laravel, suggest};

/// Most (channel, event) pairs kept; later ones get no hint (a flood of distinct names
/// costs nothing more).
pub const MAX_HINTS: usize = 1000;
/// The pairs and their hints, in bytes (names cut to `MAX_KEPT_NAME_CHARS` characters).
pub const HINTS: Limits = Limits::new(MAX_HINTS, 1 << 20);

/// A hint: in full (inspect, `--json`), short (the log pane), and shortest (the narrow
/// events pane: just what was probably meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub text: String,
    pub short: String,
    pub pane: String,
}

/// A hint found, or that there is none.
#[derive(Debug, Clone)]
struct Found(Option<Hint>);

impl Weigh for Found {
    fn weight(&self) -> usize {
        size_of::<Found>()
            + self
                .0
                .as_ref()
                .map_or(0, |h| h.text.len() + h.short.len() + h.pane.len())
    }
}

/// The hints found so far, by (channel, event) with both names cut: a [`WeighedMap`] capped
/// at [`HINTS`].
#[derive(Debug)]
pub struct Hints {
    found: WeighedMap<(String, String), Found>,
    /// New pairs not looked at because the map was full (no search is made for them).
    refused: u64,
}

impl Default for Hints {
    fn default() -> Hints {
        Hints {
            found: WeighedMap::new(HINTS),
            refused: 0,
        }
    }
}

impl Hints {
    /// The hint for an unbound event, worked out on its first arrival only. A name longer
    /// than the protocol allows is looked at as it is kept, cut, and so is close to no bound
    /// name.
    pub fn note(&mut self, bindings: &Bindings, channel: &str, event: &str) -> Option<&Hint> {
        let key = (cut_name(channel).into_owned(), cut_name(event).into_owned());
        if !self.found.contains_key(&key) {
            if self.found.len() >= HINTS.items {
                self.refused += 1;
                return None;
            }
            let (c, e) = (&key.0, &key.1);
            let hint = find(bindings, Some(c.as_str()).filter(|c| *c != "-"), e);
            if self.found.insert(key.clone(), Found(hint)).is_err() {
                return None;
            }
        }
        self.found.get(&key)?.0.as_ref()
    }

    /// The hint already found for this pair.
    pub fn get(&self, channel: &str, event: &str) -> Option<&Hint> {
        let key = (cut_name(channel).into_owned(), cut_name(event).into_owned());
        self.found.get(&key)?.0.as_ref()
    }

    /// How many pairs were looked at.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The bytes the pairs and their hints take.
    pub fn bytes(&self) -> usize {
        self.found.bytes()
    }

    /// The pairs not kept: refused by the map's caps, or not looked at because it was full.
    pub fn drops(&self) -> bounded::Drops {
        let mut drops = self.found.drops();
        drops.items += self.refused;
        drops
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
    fn a_name_longer_than_the_protocol_allows_is_kept_cut_and_not_hinted() {
        let b = bindings(&["update_event=log"]);
        let mut hints = Hints::default();
        let x = "x".repeat(1 << 20);
        for n in 0..1200 {
            let long = format!("update-event{n}{x}");
            assert_eq!(hints.note(&b, "c", &long), None);
        }
        assert!(hints.bytes() <= HINTS.bytes && hints.len() <= MAX_HINTS);
        assert!(hints.bytes() < 1000 * 1000, "1 MiB names are kept cut");
        let mut hints = Hints::default();
        assert!(hints.note(&b, "c", "update-event").is_some());
        // A misspelt event on a channel of a megabyte still gets its hint, the channel cut.
        assert!(hints.note(&b, &x, "update-event").is_some());
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
        // Past the bound, a new name gets no hint, and nothing is kept for it; each one
        // turned away is counted (the dashboard says so).
        assert!(hints.note(&b, "d", "update-event").is_none());
        assert_eq!(hints.len(), MAX_HINTS);
        assert_eq!(hints.drops().items, 11 + 1);
    }
}
