//! What an item weighs: the bytes it holds, inline and on the heap.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The bytes a value holds. It need not be exact, but it must grow with what a stranger
/// controls (text, data, lists), so that a cap in bytes bounds the memory they can take.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for String {
    fn weight(&self) -> usize {
        size_of::<String>() + self.len()
    }
}

impl Weigh for str {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for Box<str> {
    fn weight(&self) -> usize {
        size_of::<Box<str>>() + self.len()
    }
}

impl Weigh for Arc<str> {
    fn weight(&self) -> usize {
        size_of::<Arc<str>>() + self.len()
    }
}

impl Weigh for Vec<u8> {
    fn weight(&self) -> usize {
        size_of::<Vec<u8>>() + self.len()
    }
}

impl Weigh for Cow<'_, str> {
    fn weight(&self) -> usize {
        size_of::<Cow<'_, str>>() + self.len()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn weight(&self) -> usize {
        match self {
            Some(t) => t.weight(),
            None => size_of::<Option<T>>(),
        }
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weight(&self) -> usize {
        self.0.weight() + self.1.weight()
    }
}

impl<A: Weigh, B: Weigh, C: Weigh> Weigh for (A, B, C) {
    fn weight(&self) -> usize {
        self.0.weight() + self.1.weight() + self.2.weight()
    }
}

impl<K: Weigh, V: Weigh> Weigh for BTreeMap<K, V> {
    fn weight(&self) -> usize {
        size_of::<Self>()
            + self
                .iter()
                .map(|(k, v)| k.weight() + v.weight())
                .sum::<usize>()
    }
}

impl<K: Weigh> Weigh for BTreeSet<K> {
    fn weight(&self) -> usize {
        size_of::<Self>() + self.iter().map(Weigh::weight).sum::<usize>()
    }
}

/// Plain values weigh their size.
macro_rules! sized {
    ($($t:ty),*) => {
        $(impl Weigh for $t {
            fn weight(&self) -> usize {
                size_of::<$t>()
            }
        })*
    };
}

sized!(
    (),
    bool,
    u8,
    u16,
    u32,
    u64,
    usize,
    i64,
    f64,
    std::time::Instant,
    std::time::SystemTime,
    std::time::Duration
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_weighs_its_bytes_and_its_handle() {
        assert_eq!("abc".to_owned().weight(), size_of::<String>() + 3);
        assert!(Some("x".repeat(1000)).weight() > 1000);
        let mut m = BTreeMap::new();
        m.insert("k".to_owned(), "v".repeat(10));
        assert!(m.weight() > 11);
    }
}
