//! Whether each connection of a run ever came up, and, for one that never did, the last
//! reason it gave. A run that ends with a connection never established did not do what it
//! was asked: `watch` exits 1 then, headless or on the dashboard, as for a refusal. Pure:
//! fed the engines' items.

use client::{Conn, ConnectionState, Item, Labels, Reason};
use protocol::safe_text::terminal_safe;

/// The longest reason kept (it comes from the network or the server).
const MAX_REASON: usize = 300;

#[derive(Debug, Clone, Default)]
struct One {
    up: bool,
    /// The last reason it gave for not being up.
    why: Option<String>,
}

/// Each connection of a run: up at least once, or why not.
#[derive(Debug, Clone)]
pub struct Reach {
    conns: Vec<One>,
}

impl Reach {
    /// The run's connections (one when `labels` names none).
    pub fn new(labels: &Labels) -> Reach {
        Reach {
            conns: vec![One::default(); labels.len().max(1)],
        }
    }

    /// One item of connection `conn`; only its states count.
    pub fn note(&mut self, conn: Conn, item: &Item) {
        let (Item::State(change), Some(one)) = (item, self.conns.get_mut(usize::from(conn))) else {
            return;
        };
        if change.current == ConnectionState::Connected {
            one.up = true;
        } else if let Some(reason) = &change.reason
            && *reason != Reason::Requested
        {
            let text = reason.to_string();
            one.why = Some(terminal_safe(&text).chars().take(MAX_REASON).collect());
        }
    }

    /// The first connection that never came up, said with its last reason:
    /// `never connected to eu: Connection refused (os error 111)`.
    pub fn never(&self, labels: &Labels) -> Option<String> {
        let (i, one) = self.conns.iter().enumerate().find(|(_, c)| !c.up)?;
        let to = Conn::try_from(i)
            .ok()
            .and_then(|c| labels.get(c))
            .map_or(String::new(), |l| format!(" to {}", terminal_safe(l)));
        let why = one.why.as_deref().unwrap_or("no answer yet");
        Some(format!("never connected{to}: {why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::StateChange;

    fn state(current: ConnectionState, reason: Option<Reason>) -> Item {
        Item::State(Box::new(StateChange {
            previous: ConnectionState::Connecting,
            current,
            reason,
            retry_in: None,
            socket_id: None,
            url: String::new(),
        }))
    }

    #[test]
    fn a_connection_never_up_is_said_with_its_last_reason() {
        let one = Labels::default();
        let mut r = Reach::new(&one);
        assert_eq!(
            r.never(&one).as_deref(),
            Some("never connected: no answer yet")
        );
        r.note(0, &state(ConnectionState::Connecting, None));
        let refused = Reason::Io("Connection refused (os error 111)\u{1b}[2J".into());
        r.note(0, &state(ConnectionState::Unavailable, Some(refused)));
        r.note(
            0,
            &state(ConnectionState::Disconnected, Some(Reason::Requested)),
        );
        let said = r.never(&one).unwrap();
        assert!(
            said.starts_with("never connected: Connection refused (os error 111)"),
            "{said}"
        );
        assert!(!said.contains('\u{1b}'), "{said}");
        r.note(0, &state(ConnectionState::Connected, None));
        r.note(0, &state(ConnectionState::Unavailable, None));
        assert_eq!(r.never(&one), None, "up once is enough");

        let two = Labels::new(vec!["eu".into(), "us".into()]);
        let mut r = Reach::new(&two);
        r.note(0, &state(ConnectionState::Connected, None));
        r.note(7, &state(ConnectionState::Connected, None));
        assert_eq!(
            r.never(&two).as_deref(),
            Some("never connected to us: no answer yet")
        );
    }
}
