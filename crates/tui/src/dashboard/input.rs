//! Keys: what each action does to the state. Typing after `/` or `f` edits the query; the
//! inspect view and the help overlay take the keys they need and close with Esc.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::effects::Effect;
use super::export;
use super::form::{Form, Outcome};
use super::keys::{self, Action};
use super::logview::{Filter, contains_ci};
use super::overlay::{InputKind, Overlay};
use super::state::{Focus, Frozen, State};
use super::{help, view};

impl State {
    /// Handles a key press; what the run loop is to do comes back as a value.
    pub fn key(&mut self, key: &KeyEvent) -> Option<Effect> {
        match self.overlay.take() {
            None => self.main_key(key),
            Some(overlay) => {
                let (overlay, effect) = self.overlay_key(overlay, key);
                self.overlay = overlay;
                effect
            }
        }
    }

    /// A key while an overlay is open: the overlay it leaves open, and an effect.
    fn overlay_key(
        &mut self,
        overlay: Overlay,
        key: &KeyEvent,
    ) -> (Option<Overlay>, Option<Effect>) {
        let overlay = match overlay {
            Overlay::Input(kind, text) => return (self.type_key(kind, text, key), None),
            Overlay::Form(mut form) => {
                return match form.key(key) {
                    Outcome::Editing => (Some(Overlay::Form(form)), None),
                    Outcome::Cancelled => (None, None),
                    Outcome::Send(request) => (None, Some(Effect::Trigger(request))),
                };
            }
            other => other,
        };
        let Some(action) = self.options.keys.action(key) else {
            return (Some(overlay), None);
        };
        if action == Action::Quit {
            return (None, Some(Effect::Quit));
        }
        let scrolled = |scroll: u16| match action {
            Action::Down => Some(scroll.saturating_add(1)),
            Action::Up => Some(scroll.saturating_sub(1)),
            Action::PageDown => Some(scroll.saturating_add(10)),
            Action::PageUp => Some(scroll.saturating_sub(10)),
            Action::Top => Some(0),
            _ => None,
        };
        let open = match overlay {
            Overlay::Help { .. } if matches!(action, Action::Help | Action::Back) => None,
            // Drawing stops at the last line; this bounds how far past it a key can go.
            Overlay::Help { scroll } => Some(Overlay::Help {
                scroll: match action {
                    Action::Bottom => u16::MAX,
                    _ => scrolled(scroll).unwrap_or(scroll),
                }
                .min(keys::ACTIONS.len() as u16 + 2),
            }),
            Overlay::Chart(_) if matches!(action, Action::Back | Action::Open) => None,
            Overlay::Inspect { .. } if matches!(action, Action::Back | Action::Open) => None,
            Overlay::Inspect { seq, scroll } => Some(Overlay::Inspect {
                seq,
                scroll: scrolled(scroll).unwrap_or(scroll),
            }),
            other => Some(other),
        };
        (open, None)
    }

    /// A key on the main screen.
    fn main_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        let action = self.options.keys.action(key)?;
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Back => {
                // Esc clears what narrows or marks the log: the filter and the search.
                self.filter = None;
                self.search = None;
            }
            Action::Pause => {
                self.paused = match self.paused.take() {
                    Some(_) => None,
                    None => Some(Frozen {
                        ticker: self.ticker.clone(),
                        log: self.log.clone(),
                        since: 0,
                    }),
                }
            }
            Action::FocusNext | Action::FocusPrev => {
                self.focus = match self.focus {
                    Focus::Ticker => Focus::Log,
                    Focus::Log => Focus::Ticker,
                }
            }
            Action::Sort => self.sort = self.sort.next(),
            Action::Clear => {
                self.ticker.clear();
                self.log.clear();
                self.counts.clear();
                self.uncounted = 0;
                self.selected = 0;
                self.log_selected = None;
                self.paused = None;
            }
            Action::Search => self.overlay = Some(Overlay::Input(InputKind::Search, String::new())),
            Action::Filter => {
                let current = self
                    .filter
                    .as_ref()
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                self.overlay = Some(Overlay::Input(InputKind::Filter, current));
            }
            Action::Export => {
                let log = self.visible().1;
                let positions = self.log_positions();
                return Some(Effect::Export(export::records(
                    positions.iter().map(|&p| &log[p]),
                )));
            }
            Action::Trigger => self.overlay = Some(Overlay::Form(self.new_form())),
            Action::SearchNext => self.jump_to_match(true),
            Action::SearchPrev => self.jump_to_match(false),
            Action::Open if self.focus == Focus::Ticker => {
                let rows = self.visible().0.sorted(self.sort);
                self.overlay = rows
                    .get(self.selected.min(rows.len().saturating_sub(1)))
                    .map(|r| Overlay::Chart(r.key.clone()));
            }
            Action::Open => {
                let positions = self.log_positions();
                if let Some(i) = self.selected_index(&positions) {
                    let seq = self.visible().1[positions[i]].seq;
                    self.overlay = Some(Overlay::Inspect { seq, scroll: 0 });
                }
            }
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(10),
            Action::PageUp => self.step(-10),
            Action::Top => self.step(isize::MIN / 2),
            Action::Bottom => match self.focus {
                Focus::Ticker => self.selected = self.visible().0.len().saturating_sub(1),
                Focus::Log => self.log_selected = None,
            },
        }
        None
    }

    /// The form as it opens: on the selected log line's channel, else the first subscribed,
    /// sending through the connection that line or channel came from.
    fn new_form(&self) -> Form {
        let positions = self.log_positions();
        let selected = self
            .log_selected
            .and_then(|_| self.selected_index(&positions))
            .map(|i| self.visible().1[positions[i]].channel.as_str());
        // A line of tickertape's own (a state change) names its connection, not a channel:
        // the form takes that connection and the first channel subscribed through it.
        let (conn, label, channel) = match selected.map(|c| self.connections.target(c)) {
            Some((conn, label, name)) if name == "tickertape" || name == "-" => {
                let prefix = label.as_ref().map(|l| format!("{l}/"));
                let first = self.status.channels.keys().find_map(|c| match &prefix {
                    Some(p) => c.strip_prefix(p.as_str()),
                    None => Some(c.as_str()),
                });
                (conn, label, first.unwrap_or_default())
            }
            Some(target) => target,
            None => {
                let first = self.status.channels.keys().next();
                self.connections.target(first.map_or("", String::as_str))
            }
        };
        Form::new(channel.to_owned()).via(conn, label)
    }

    /// Keeps what scrolls within what the screen, `area` in all, shows: a key past the end of
    /// the help does not leave keys to undo before it moves again.
    pub fn fit(&mut self, area: ratatui::layout::Rect) {
        let most = help::most(self, view::overlay_area(area));
        if let Some(Overlay::Help { scroll }) = &mut self.overlay {
            *scroll = (*scroll).min(most);
        }
    }

    /// A mouse wheel turn over a pane: focus it and move its selection.
    pub fn wheel(&mut self, pane: Focus, by: isize) {
        if self.overlay.is_some() {
            return;
        }
        self.focus = pane;
        self.step(by);
    }

    /// A click: focus the pane; on the ticker, select the clicked row (`row` counts from the
    /// first data row).
    pub fn click(&mut self, pane: Focus, row: Option<usize>) {
        if self.overlay.is_some() {
            return;
        }
        self.focus = pane;
        if let (Focus::Ticker, Some(r)) = (pane, row) {
            self.selected = r.min(self.visible().0.len().saturating_sub(1));
        }
    }

    /// Moves the selection of the focused pane.
    fn step(&mut self, by: isize) {
        match self.focus {
            Focus::Ticker => {
                let rows = self.visible().0.len();
                self.selected = self
                    .selected
                    .saturating_add_signed(by)
                    .min(rows.saturating_sub(1));
            }
            Focus::Log => {
                let positions = self.log_positions();
                let Some(i) = self.selected_index(&positions) else {
                    return;
                };
                let to = i.saturating_add_signed(by).min(positions.len() - 1);
                self.log_selected = Some(self.visible().1[positions[to]].seq);
            }
        }
    }

    /// Typing after `/` or `f`: the input stays open until Enter or Esc.
    fn type_key(&mut self, kind: InputKind, mut text: String, key: &KeyEvent) -> Option<Overlay> {
        match key.code {
            KeyCode::Esc => return None,
            KeyCode::Enter => {
                match kind {
                    InputKind::Search => {
                        self.search = (!text.is_empty()).then(|| text.to_lowercase());
                        self.focus = Focus::Log;
                        self.jump_to_match(false);
                    }
                    InputKind::Filter => {
                        self.filter = (!text.trim().is_empty()).then(|| Filter::parse(&text));
                        self.log_selected = None;
                    }
                }
                return None;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if text.len() < 200 => text.push(c),
            _ => {}
        }
        Some(Overlay::Input(kind, text))
    }

    /// Selects the next (older is "previous") log line that matches the search.
    fn jump_to_match(&mut self, forward: bool) {
        let Some(needle) = self.search.clone() else {
            return;
        };
        let positions = self.log_positions();
        let Some(i) = self.selected_index(&positions) else {
            return;
        };
        let log = self.visible().1;
        let hit = if forward {
            (i + 1..positions.len()).find(|&j| contains_ci(&log[positions[j]], &needle))
        } else {
            (0..=i).rev().find(|&j| {
                contains_ci(&log[positions[j]], &needle) && (j < i || self.log_selected.is_none())
            })
        };
        if let Some(seq) = hit.map(|j| log[positions[j]].seq) {
            self.focus = Focus::Log;
            self.log_selected = Some(seq);
        }
    }
}
