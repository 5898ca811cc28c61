//! Channel and event names shared between the events that carry them, rather than copied
//! into a new string for each.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A channel or event name: a shared, immutable string. Cloning it copies a pointer, and
/// it is one pointer (not a pointer and a length), so that an event, which holds two,
/// moves without a call to copy memory.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<String>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared string itself: the same one for the same name, event after event, while
    /// the name is in use (so its identity tells a run of one name).
    pub fn shared(&self) -> &Arc<String> {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::new(s.to_owned()))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::new(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        Arc::unwrap_or_clone(n.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The last few names seen, so that a stream of events under the same names shares them
/// instead of allocating two strings per event. A fixed number of slots, each holding a
/// name of at most [`Names::LONGEST`] bytes: what it keeps is bounded whatever the wire
/// sends. A longer name, or one that misses, is simply made anew.
#[derive(Debug, Default)]
pub(crate) struct Names {
    slots: [Option<Name>; Names::SLOTS],
    /// The slot the next new name replaces (round robin).
    next: usize,
    /// The names of the last frame read with a shape ([`protocol::frame::Scanner`]): the
    /// shape's generation, the channel and the event. A shape is at most 512 bytes around
    /// the data, so the names kept alive here are that short.
    shaped: Option<(u64, Option<Name>, Name)>,
}

impl Names {
    const SLOTS: usize = 8;
    /// Pusher caps channel names at 164 bytes and event names at 200.
    pub(crate) const LONGEST: usize = 200;

    /// `text` as a shared name: one already held when equal, else a new one, kept.
    pub(crate) fn get(&mut self, text: &str) -> Name {
        if let Some(hit) = self.slots.iter().flatten().find(|n| n.as_str() == text) {
            return hit.clone();
        }
        let name = Name::from(text);
        if text.len() <= Self::LONGEST {
            self.slots[self.next] = Some(name.clone());
            self.next = (self.next + 1) % Self::SLOTS;
        }
        name
    }
}

impl Names {
    /// A frame's channel and event names, as [`Names::get`] gives them. Frames read with
    /// the same shape (`shape`, the scanner's generation) have the same names, so after
    /// the first such frame they are not looked up.
    pub(crate) fn of_frame(
        &mut self,
        shape: Option<u64>,
        channel: Option<&str>,
        event: &str,
    ) -> (Option<Name>, Name) {
        if let (Some(g), Some((seen, c, e))) = (shape, &self.shaped)
            && g == *seen
        {
            return (c.clone(), e.clone());
        }
        let names = (channel.map(|c| self.get(c)), self.get(event));
        self.shaped = shape.map(|g| (g, names.0.clone(), names.1.clone()));
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_of_a_known_shape_takes_its_names_without_a_lookup() {
        let mut names = Names::default();
        let (c, e) = names.of_frame(Some(3), Some("stock_ticker"), "update_event");
        // Frames of shape 3 have these names: whatever is passed, they are not read.
        let (c2, e2) = names.of_frame(Some(3), Some("ignored"), "ignored");
        assert!(Arc::ptr_eq(&e.0, &e2.0) && c == c2);
        let (c3, e3) = names.of_frame(Some(4), None, "other");
        assert_eq!((c3, e3.as_str()), (None, "other"));
        let (_, e4) = names.of_frame(None, None, "update_event");
        assert!(Arc::ptr_eq(&e.0, &e4.0), "still shared through the table");
        // A frame of no shape forgets the last shape's names.
        assert_eq!(names.of_frame(Some(4), None, "x").1, "x");
    }

    #[test]
    fn an_equal_name_is_shared_and_the_table_stays_fixed() {
        let mut names = Names::default();
        let a = names.get("stock_ticker");
        let b = names.get("stock_ticker");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        for i in 0..1000 {
            assert_eq!(names.get(&format!("e{i}")), format!("e{i}"));
        }
        assert_eq!(names.slots.iter().flatten().count(), Names::SLOTS);
        // Over the cap: made, not kept.
        let long = "x".repeat(Names::LONGEST + 1);
        let _ = names.get(&long);
        assert!(
            names
                .slots
                .iter()
                .flatten()
                .all(|n| n.len() <= Names::LONGEST)
        );
        let again = names.get("e999");
        assert!(Arc::ptr_eq(&again.0, &names.get("e999").0));
    }
}
