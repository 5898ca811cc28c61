//! Queues, rings and maps bounded in items **and** in bytes, with counted overflow.
//!
//! Everything that holds what strangers send (frames, events, names, log lines, webhook
//! bodies) is one of these types, so that a bound is a property of the type rather than of
//! each call site:
//! - [`Bounded`]: a FIFO (a queue or a ring) with an [`Overflow`] policy;
//! - [`queue`]: a [`Bounded`] shared between tasks and threads, with waiting on both ends;
//! - [`FanIn`]: several queues, each with caps of its own, taken in turn by one receiver;
//! - [`WeighedMap`]: a sorted map whose keys and values are weighed, capped in entries and
//!   bytes;
//! - [`PairCounts`]: sums under pairs of names in a [`WeighedMap`], a run under one pair
//!   counted without a lookup.
//!
//! Each item is weighed once, when it comes in ([`Weigh`]), and the weight is kept beside
//! it, so the total can never drift. An item heavier than the whole byte cap is never
//! stored: it is refused and counted as [`Cause::Oversize`]. So the weight held is always
//! at most the cap, whatever comes in, and every refusal or eviction is counted by cause
//! ([`Drops`]) for whoever shows it. A queue that must still carry such an item (one frame
//! bigger than a small send queue) says [`Oversize::Alone`]: the item then waits for an
//! empty queue and travels alone, so the weight held is at most the cap or one item.

mod fan_in;
mod map;
mod pairs;
mod queue;
mod ring;
mod weigh;

pub use fan_in::FanIn;
pub use map::{NamePair, WeighedMap};
pub use pairs::{Keep, PairCounts, RUN_NAMES_BYTES, Tally};
pub use queue::{Held, Receiver, Sender, TryRecvError, TrySendError, queue, queue_with};
pub use ring::{Bounded, Rejected};
pub use weigh::Weigh;

/// The two caps of a bounded type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most items (entries, for a map). At least 1.
    pub items: usize,
    /// Most bytes, as the items weigh them. At least 1.
    pub bytes: usize,
}

impl Limits {
    pub const fn new(items: usize, bytes: usize) -> Limits {
        Limits {
            items: if items == 0 { 1 } else { items },
            bytes: if bytes == 0 { 1 } else { bytes },
        }
    }
}

/// What happens to an item that does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The sender waits for room ([`Sender::send`]); a sender that cannot wait
    /// ([`Sender::try_send`], [`Bounded::push`]) gets the item back, uncounted: it decides.
    Block,
    /// The new item is refused and counted.
    DropNewest,
    /// The oldest items are evicted, and counted, until the new one fits (a ring).
    DropOldest,
}

/// What becomes of an item heavier than the whole byte cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Oversize {
    /// Never stored: refused and counted as [`Cause::Oversize`].
    #[default]
    Refuse,
    /// Stored only into an empty queue (held items included), where it is alone; into a
    /// queue that holds anything it does not fit, as if over the byte cap.
    Alone,
}

/// Why an item was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The cap in items was reached.
    Items,
    /// The cap in bytes was reached.
    Bytes,
    /// The item alone weighs more than the byte cap: it is never stored.
    Oversize,
}

/// Items dropped, by cause. Counts only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    pub items: u64,
    pub bytes: u64,
    pub oversize: u64,
}

impl Drops {
    pub fn total(&self) -> u64 {
        self.items + self.bytes + self.oversize
    }

    pub(crate) fn count(&mut self, cause: Cause) {
        let n = match cause {
            Cause::Items => &mut self.items,
            Cause::Bytes => &mut self.bytes,
            Cause::Oversize => &mut self.oversize,
        };
        *n = n.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    //! Every bounded type fed a stream of 1 MB items stays under its caps.
    use super::*;

    const MB: usize = 1 << 20;

    fn megabytes(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("{i}").repeat(MB / 2 + (i % 3) * MB / 4))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
        #[test]
        fn every_type_stays_under_its_caps_under_1_mb_items(
            cap_mb in 1usize..6,
            items in 1usize..8,
            policy in 0usize..3,
        ) {
            let limits = Limits::new(items, cap_mb * MB);
            let overflow = [Overflow::Block, Overflow::DropNewest, Overflow::DropOldest][policy];
            let mut ring = Bounded::new(limits, overflow);
            let (tx, mut rx) = queue(limits, overflow);
            let mut map = WeighedMap::new(limits);
            let mut held = None;
            for (i, item) in megabytes(20).enumerate() {
                let _ = ring.push(item.clone());
                let _ = tx.try_send(item.clone());
                let _ = map.insert(item.clone(), item);
                if i % 5 == 0 {
                    // A receiver that holds what it took while new items keep coming.
                    held = rx.take_held();
                }
                proptest::prop_assert!(ring.bytes() <= limits.bytes && ring.len() <= items);
                proptest::prop_assert!(tx.bytes() <= limits.bytes);
                proptest::prop_assert!(map.bytes() <= limits.bytes && map.len() <= items);
            }
            drop(held);
        }
    }
}
