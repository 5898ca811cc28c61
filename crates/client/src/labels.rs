//! The labels of a run's connections: `watch` with several `--profile` or `--node` tags each
//! item with its connection's index ([`Conn`]), and front ends look the label up here. With
//! one connection there is no label at all, so its output is exactly a single run's.

use std::sync::Arc;

use super::feed::Conn;

/// Most connections in one run: the tag is a byte, and a status bar holds a few.
pub const MAX_CONNECTIONS: usize = 16;

/// The connections' labels, by index; cheap to clone. Empty with one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Arc<[String]>);

impl Labels {
    /// The table for these connections: none for one (or none), else each one's label.
    pub fn new(labels: Vec<String>) -> Labels {
        if labels.len() <= 1 {
            return Labels::default();
        }
        Labels(labels.into())
    }

    /// The label of the connection tagged `conn`; `None` with one connection.
    pub fn get(&self, conn: Conn) -> Option<&str> {
        if self.0.is_empty() {
            return None;
        }
        // A tag out of the table (not sent by tickertape) still gets a label.
        Some(self.0.get(usize::from(conn)).map_or("?", String::as_str))
    }

    /// More than one connection: front ends label what they show.
    pub fn is_multi(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The index of `label`, if it is one of these.
    pub fn index(&self, label: &str) -> Option<Conn> {
        self.0
            .iter()
            .position(|l| l == label)
            .and_then(|i| Conn::try_from(i).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_connection_has_no_label() {
        let one = Labels::new(vec!["eu".into()]);
        assert_eq!(one.get(0), None);
        assert!(!one.is_multi());
        let two = Labels::new(vec!["eu".into(), "us".into()]);
        assert_eq!(
            (two.get(0), two.get(1), two.get(9)),
            (Some("eu"), Some("us"), Some("?"))
        );
        assert_eq!(two.index("us"), Some(1));
    }
}
