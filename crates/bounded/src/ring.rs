//! [`Bounded`]: a FIFO capped in items and bytes, for one owner (a ring of log lines, a
//! backlog); [`crate::queue`] shares one between tasks.

use std::collections::VecDeque;

use crate::{Cause, Drops, Limits, Overflow, Oversize, Weigh};

/// A FIFO of at most `limits.items` items weighing at most `limits.bytes` bytes.
///
/// With [`Overflow::DropOldest`] it is a ring: a new item evicts the oldest until it fits.
/// Otherwise a new item that does not fit is refused. Either way the weight held never
/// passes the cap, and every item refused or evicted is counted in [`Bounded::drops`].
#[derive(Debug, Clone)]
pub struct Bounded<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    limits: Limits,
    overflow: Overflow,
    oversize: Oversize,
    drops: Drops,
}

/// An item [`Bounded::push`] did not take, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected<T> {
    pub item: T,
    pub cause: Cause,
}

impl<T: Weigh> Bounded<T> {
    pub fn new(limits: Limits, overflow: Overflow) -> Bounded<T> {
        let limits = Limits::new(limits.items, limits.bytes);
        Bounded {
            items: VecDeque::new(),
            bytes: 0,
            limits,
            overflow,
            oversize: Oversize::Refuse,
            drops: Drops::default(),
        }
    }

    /// The same, with `oversize` saying what becomes of an item heavier than the byte cap.
    pub fn with_oversize(mut self, oversize: Oversize) -> Bounded<T> {
        self.oversize = oversize;
        self
    }

    pub fn oversize(&self) -> Oversize {
        self.oversize
    }

    /// Whether an item of `weight` is too heavy ever to be stored.
    pub(crate) fn never_fits(&self, weight: usize) -> bool {
        weight > self.limits.bytes && self.oversize == Oversize::Refuse
    }

    /// Adds `item` at the back, as the overflow policy says. A refused item comes back;
    /// it is counted as dropped unless the policy is [`Overflow::Block`] (then the caller
    /// keeps it and decides).
    pub fn push(&mut self, item: T) -> Result<(), Rejected<T>> {
        let weight = item.weight();
        self.push_weighed(item, weight)
    }

    pub(crate) fn push_weighed(&mut self, item: T, weight: usize) -> Result<(), Rejected<T>> {
        if self.never_fits(weight) {
            self.drops.count(Cause::Oversize);
            return Err(Rejected {
                item,
                cause: Cause::Oversize,
            });
        }
        if let Some(cause) = self.lacks_room(weight) {
            match self.overflow {
                Overflow::DropOldest => {
                    while let Some(cause) = self.lacks_room(weight) {
                        self.pop();
                        self.drops.count(cause);
                    }
                }
                Overflow::DropNewest => {
                    self.drops.count(cause);
                    return Err(Rejected { item, cause });
                }
                Overflow::Block => return Err(Rejected { item, cause }),
            }
        }
        self.bytes += weight;
        self.items.push_back((item, weight));
        Ok(())
    }

    /// What would stop an item of `weight` bytes from fitting now, if anything. With
    /// [`Oversize::Alone`] an empty FIFO takes any one item.
    pub fn lacks_room(&self, weight: usize) -> Option<Cause> {
        if self.items.len() >= self.limits.items {
            Some(Cause::Items)
        } else if self.bytes + weight > self.limits.bytes
            && !(self.oversize == Oversize::Alone && self.items.is_empty())
        {
            Some(Cause::Bytes)
        } else {
            None
        }
    }

    /// Takes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.pop_weighed().map(|(item, _)| item)
    }

    /// Moves every item of `other` to the back, oldest first, when all of them fit now
    /// beside `held` (items and bytes taken from here and not yet given back): one move of
    /// the lot instead of a push each. False, with nothing moved, when they do not all fit
    /// (then each is pushed as the policy says). Every item fits when all do, so none is
    /// too heavy.
    pub(crate) fn append_if_room(&mut self, other: &mut Bounded<T>, held: (usize, usize)) -> bool {
        let items = self.items.len() + held.0 + other.items.len();
        let bytes = self.bytes + held.1 + other.bytes;
        if items > self.limits.items || bytes > self.limits.bytes {
            return false;
        }
        self.bytes += std::mem::take(&mut other.bytes);
        self.items.append(&mut other.items);
        true
    }

    pub(crate) fn pop_weighed(&mut self) -> Option<(T, usize)> {
        let (item, weight) = self.items.pop_front()?;
        self.bytes -= weight;
        Some((item, weight))
    }

    /// Puts an item back at the front (one just popped that could not be handed on). It
    /// is refused, uncounted, when the front has no room for it any more.
    pub fn push_front(&mut self, item: T) -> Result<(), Rejected<T>> {
        let weight = item.weight();
        if let Some(cause) = self
            .lacks_room(weight)
            .or_else(|| self.never_fits(weight).then_some(Cause::Oversize))
        {
            return Err(Rejected { item, cause });
        }
        self.bytes += weight;
        self.items.push_front((item, weight));
        Ok(())
    }

    /// Counts a drop that happened outside (an item the owner chose not to push).
    pub fn count_drop(&mut self, cause: Cause) {
        self.drops.count(cause);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes held, as the items weighed when they came in.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// Everything refused or evicted so far.
    pub fn drops(&self) -> Drops {
        self.drops
    }

    /// At most half full, in items and in bytes.
    pub fn is_half_empty(&self) -> bool {
        self.items.len() <= self.limits.items / 2 && self.bytes <= self.limits.bytes / 2
    }

    pub fn front(&self) -> Option<&T> {
        self.items.front().map(|(t, _)| t)
    }

    pub fn back(&self) -> Option<&T> {
        self.items.back().map(|(t, _)| t)
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index).map(|(t, _)| t)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone {
        self.items.iter().map(|(t, _)| t)
    }

    /// The index of the first item for which `pred` is false (items sorted by `pred`).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        self.items.partition_point(|(t, _)| pred(t))
    }

    /// Empties it; the drop counts stay.
    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    /// Takes every item, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.bytes = 0;
        self.items.drain(..).map(|(t, _)| t)
    }
}

impl<T> std::ops::Index<usize> for Bounded<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        &self.items[index].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> String {
        "x".repeat(n)
    }

    const S: usize = size_of::<String>();

    #[test]
    fn a_ring_evicts_the_oldest_and_counts_them_by_cause() {
        let mut r = Bounded::new(Limits::new(3, 1 << 20), Overflow::DropOldest);
        for n in 0..5 {
            r.push(n.to_string()).unwrap();
        }
        assert_eq!(r.iter().cloned().collect::<Vec<_>>(), ["2", "3", "4"]);
        assert_eq!(r.drops().items, 2);
        let mut r = Bounded::new(Limits::new(100, 2 * (S + 10)), Overflow::DropOldest);
        r.push(text(10)).unwrap();
        r.push(text(10)).unwrap();
        r.push(text(10)).unwrap();
        assert_eq!((r.len(), r.drops().bytes), (2, 1));
    }

    #[test]
    fn drop_newest_refuses_and_block_hands_back_uncounted() {
        let mut r = Bounded::new(Limits::new(1, 1 << 20), Overflow::DropNewest);
        r.push(text(1)).unwrap();
        let e = r.push(text(2)).unwrap_err();
        assert_eq!(
            (e.item.len(), e.cause, r.drops().items),
            (2, Cause::Items, 1)
        );
        let mut r = Bounded::new(Limits::new(1, 1 << 20), Overflow::Block);
        r.push(text(1)).unwrap();
        assert_eq!(r.push(text(2)).unwrap_err().cause, Cause::Items);
        assert_eq!(r.drops().total(), 0);
    }

    #[test]
    fn an_item_heavier_than_the_cap_is_never_stored() {
        for overflow in [Overflow::Block, Overflow::DropNewest, Overflow::DropOldest] {
            let mut r = Bounded::new(Limits::new(10, 1000), overflow);
            r.push(text(10)).unwrap();
            assert_eq!(r.push(text(2000)).unwrap_err().cause, Cause::Oversize);
            assert_eq!((r.len(), r.drops().oversize), (1, 1));
        }
    }

    #[test]
    fn pop_and_push_front_keep_the_weight() {
        let mut r = Bounded::new(Limits::new(2, 1 << 20), Overflow::Block);
        r.push(text(5)).unwrap();
        r.push(text(6)).unwrap();
        let first = r.pop().unwrap();
        assert_eq!(r.bytes(), S + 6);
        r.push_front(first).unwrap();
        assert_eq!((r.bytes(), r[0].len()), (2 * S + 11, 5));
        assert!(r.push_front(text(1)).is_err());
        assert_eq!(r.drain().count(), 2);
        assert_eq!(r.bytes(), 0);
    }

    #[test]
    fn an_oversize_item_may_travel_alone() {
        for overflow in [Overflow::Block, Overflow::DropNewest, Overflow::DropOldest] {
            let mut r = Bounded::new(Limits::new(10, 100), overflow).with_oversize(Oversize::Alone);
            r.push(text(10)).unwrap();
            let heavy = r.push(text(500));
            if overflow == Overflow::DropOldest {
                assert!(heavy.is_ok(), "the ring makes room by evicting");
                assert_eq!(r.len(), 1);
            } else {
                assert_eq!(heavy.unwrap_err().cause, Cause::Bytes);
                r.pop();
                r.push(text(500)).unwrap();
                assert_eq!(r.push(text(1)).unwrap_err().cause, Cause::Bytes);
            }
            assert_eq!(r.drops().oversize, 0);
        }
    }

    proptest::proptest! {
        #[test]
        fn an_oversize_item_is_always_alone(
            sizes in proptest::collection::vec(0usize..300, 0..100),
            items in 1usize..10,
            bytes in 1usize..400,
        ) {
            let mut r = Bounded::new(Limits::new(items, bytes), Overflow::DropNewest)
                .with_oversize(Oversize::Alone);
            for (i, n) in sizes.iter().enumerate() {
                let _ = r.push(text(*n));
                if i % 3 == 0 {
                    r.pop();
                }
                proptest::prop_assert!(r.len() <= items);
                proptest::prop_assert!(r.bytes() <= bytes || r.len() == 1);
            }
        }

        #[test]
        fn the_caps_hold_whatever_comes(
            sizes in proptest::collection::vec(0usize..3000, 0..200),
            items in 1usize..20,
            bytes in 1usize..5000,
            policy in 0u8..3,
        ) {
            let overflow = [Overflow::Block, Overflow::DropNewest, Overflow::DropOldest][policy as usize];
            let mut r = Bounded::new(Limits::new(items, bytes), overflow);
            let mut refused = 0u64;
            for (i, n) in sizes.iter().enumerate() {
                if r.push(text(*n)).is_err() && overflow == Overflow::Block {
                    refused += 1;
                }
                if i % 7 == 0 {
                    r.pop();
                }
                proptest::prop_assert!(r.len() <= items && r.bytes() <= bytes);
                proptest::prop_assert_eq!(r.bytes(), r.iter().map(Weigh::weight).sum::<usize>());
            }
            if overflow == Overflow::Block {
                proptest::prop_assert_eq!(r.drops().items + r.drops().bytes, 0);
                proptest::prop_assert!(refused >= r.drops().oversize);
            }
        }
    }
}
