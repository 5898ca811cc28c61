//! The connection's state where it can be read at 80 columns: every change as a line in the
//! log, and a refusal that ends the connection (`pusher:error 4001: App key … does not
//! exist`) in full, wrapped, across the top of the ticker until the connection comes back.
//! The same refusal decides the exit status, as it does for `--json`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::kit::{Slot, Theme};
use client::{ConnectionState, StateChange};
use protocol::safe_text::terminal_safe;

/// Most lines the refusal takes from the ticker.
const MAX_LINES: u16 = 4;

/// The refusal that stands after `change`: a new one, the one before while the connection
/// stays down, none once it is trying again or back.
pub(super) fn after(before: Option<String>, change: &StateChange) -> Option<String> {
    match change.refusal() {
        Some(why) => Some(why),
        None if matches!(
            change.current,
            ConnectionState::Connecting | ConnectionState::Connected
        ) =>
        {
            None
        }
        None => before,
    }
}

/// How many rows `text` takes wrapped at word boundaries at `width` (greedily, as the
/// paragraph wraps it), at most [`MAX_LINES`].
fn rows(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let (mut rows, mut used) = (1usize, 0usize);
    for word in text.split(' ') {
        let mut len = word.chars().count();
        let need = if used == 0 { len } else { used + 1 + len };
        if need <= width {
            used = need;
            continue;
        }
        if used > 0 {
            rows += 1;
        }
        // A word longer than the line is cut across lines.
        while len > width {
            rows += 1;
            len -= width;
        }
        used = len;
        if rows >= usize::from(MAX_LINES) {
            break;
        }
    }
    rows.min(usize::from(MAX_LINES)) as u16
}

/// The ticker band less the refusal's lines: (banner, ticker). No banner while connected,
/// and none when the ticker would be left too small to read.
pub(super) fn split(refused: Option<&str>, ticker: Rect) -> (Option<Rect>, Rect) {
    let Some(text) = refused else {
        return (None, ticker);
    };
    let n = rows(text, ticker.width);
    if ticker.height < n + 3 {
        return (None, ticker);
    }
    let [banner, rest] =
        Layout::vertical([Constraint::Length(n), Constraint::Min(0)]).areas(ticker);
    (Some(banner), rest)
}

pub(super) fn draw(frame: &mut Frame, text: &str, t: &Theme, area: Rect) {
    let line = Line::styled(terminal_safe(text).into_owned(), t.style(Slot::Error));
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::Reason;

    fn change(current: ConnectionState, reason: Option<Reason>) -> StateChange {
        StateChange {
            previous: ConnectionState::Connecting,
            current,
            reason,
            retry_in: None,
            socket_id: None,
            url: String::new(),
        }
    }

    #[test]
    fn only_an_end_the_user_did_not_ask_for_is_a_refusal() {
        let e4001 = Reason::PusherError {
            code: Some(4001),
            message: "App key x does not exist".into(),
        };
        assert_eq!(
            change(ConnectionState::Disconnected, Some(e4001.clone()))
                .refusal()
                .as_deref(),
            Some("connection refused: pusher:error 4001: App key x does not exist")
        );
        assert_eq!(
            change(
                ConnectionState::Failed,
                Some(Reason::Config("bad URL".into()))
            )
            .refusal()
            .as_deref(),
            Some("connection failed: bad URL")
        );
        assert_eq!(
            change(ConnectionState::Disconnected, Some(Reason::Requested)).refusal(),
            None
        );
        for s in [
            ConnectionState::Connecting,
            ConnectionState::Unavailable,
            ConnectionState::Connected,
        ] {
            assert_eq!(change(s, Some(e4001.clone())).refusal(), None);
        }
    }

    #[test]
    fn the_banner_wraps_and_leaves_the_ticker_room() {
        let area = Rect::new(0, 1, 80, 12);
        let text = "x".repeat(100);
        assert_eq!(rows("aaaa bbbb", 9), 1);
        assert_eq!(rows("aaaa bbbbb", 9), 2);
        assert_eq!(rows(&"w ".repeat(40), 80), 1);
        let (banner, rest) = split(Some(&text), area);
        assert_eq!(banner, Some(Rect::new(0, 1, 80, 2)));
        assert_eq!(rest, Rect::new(0, 3, 80, 10));
        assert_eq!(split(None, area), (None, area));
        assert_eq!(
            split(Some(&"y".repeat(10_000)), area).0.unwrap().height,
            MAX_LINES
        );
        assert_eq!(split(Some("z"), Rect::new(0, 1, 80, 3)).0, None);
    }
}
