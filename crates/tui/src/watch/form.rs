//! `t`: the trigger form, the Debug Console's Event Creator in the terminal. Three fields
//! (channel, event, JSON data), checked before anything is sent. An event named `client-*`
//! goes over the socket as a client event (private and presence channels only, as the
//! protocol says); any other through the signed REST API, when the secret is known. Editing
//! only: sending is an effect (`effects.rs`).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use client::Conn;
use protocol::channel::{is_client_event, validate_channel, validate_event};

pub const FIELDS: [&str; 3] = ["channel", "event", "data"];

/// Most bytes a field takes.
pub const MAX_FIELD: usize = 10_240;

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub values: [String; 3],
    pub focus: usize,
    pub error: Option<String>,
    /// The connection it sends through, and its label when there are several.
    pub conn: Conn,
    pub via: Option<String>,
}

/// A checked request, ready to send through connection `conn`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub channel: String,
    pub event: String,
    pub data: serde_json::Value,
    pub conn: Conn,
    /// The connection's label, with several.
    pub via: Option<String>,
}

/// What a key did to the form.
pub enum Outcome {
    Editing,
    Cancelled,
    Send(Request),
}

impl Form {
    pub fn new(channel: String) -> Form {
        Form {
            values: [channel, String::new(), "{}".into()],
            focus: 1,
            error: None,
            conn: 0,
            via: None,
        }
    }

    /// The same form, sending through connection `conn` (labelled `label`).
    pub fn via(mut self, conn: Conn, label: Option<String>) -> Form {
        self.conn = conn;
        self.via = label;
        self
    }

    pub fn key(&mut self, key: &KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % FIELDS.len(),
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + FIELDS.len() - 1) % FIELDS.len()
            }
            KeyCode::Enter => match self.check() {
                Ok(request) => return Outcome::Send(request),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Backspace => {
                self.values[self.focus].pop();
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL)
                    && self.values[self.focus].len() < MAX_FIELD =>
            {
                self.values[self.focus].push(c);
                self.error = None;
            }
            _ => {}
        }
        Outcome::Editing
    }

    /// Pasted text into the focused field, as typed: its line breaks are spaces (JSON takes
    /// them as such), its control characters dropped; it never sends.
    pub fn paste(&mut self, text: &str) {
        let field = &mut self.values[self.focus];
        for c in crate::kit::pasted(text) {
            if field.len() >= MAX_FIELD {
                break;
            }
            field.push(c);
        }
        self.error = None;
    }

    fn check(&self) -> Result<Request, String> {
        let [channel, event, data] = &self.values;
        let info = validate_channel(channel.trim(), false).map_err(|e| format!("channel: {e}"))?;
        validate_event(event.trim()).map_err(|e| format!("event: {e}"))?;
        if is_client_event(event.trim()) && !info.allows_client_events() {
            return Err("client-* events go only to private and presence channels".into());
        }
        let data = serde_json::from_str(data).map_err(|e| format!("data is not JSON: {e}"))?;
        Ok(Request {
            channel: channel.trim().to_owned(),
            event: event.trim().to_owned(),
            data,
            conn: self.conn,
            via: self.via.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(form: &mut Form, text: &str) -> Option<Outcome> {
        let mut last = None;
        for c in text.chars() {
            last = Some(form.key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        last
    }

    fn enter(form: &mut Form) -> Outcome {
        form.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    }

    #[test]
    fn checks_before_sending() {
        let mut f = Form::new("stock_ticker".into());
        assert_eq!(f.focus, 1, "the event field first");
        assert!(matches!(enter(&mut f), Outcome::Editing));
        assert!(
            f.error.as_ref().unwrap().starts_with("event:"),
            "{:?}",
            f.error
        );
        press(&mut f, "update_event");
        f.key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        f.key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        press(&mut f, "\"name\":1");
        assert!(matches!(enter(&mut f), Outcome::Editing));
        assert!(f.error.as_ref().unwrap().starts_with("data is not JSON"));
        f.values[2] = r#"{"name":"ACME","price":1}"#.into();
        match enter(&mut f) {
            Outcome::Send(r) => assert_eq!(
                (
                    r.channel.as_str(),
                    r.event.as_str(),
                    r.data["price"].as_i64()
                ),
                ("stock_ticker", "update_event", Some(1))
            ),
            _ => panic!("not sent"),
        }
        let mut f = Form::new("stock_ticker".into());
        press(&mut f, "client-x");
        assert!(matches!(enter(&mut f), Outcome::Editing));
        assert!(f.error.as_ref().unwrap().contains("private and presence"));
        f.values[0] = "bad name".into();
        assert!(matches!(enter(&mut f), Outcome::Editing));
        assert!(f.error.as_ref().unwrap().starts_with("channel:"));
        assert!(matches!(
            f.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            Outcome::Cancelled
        ));
    }
}
