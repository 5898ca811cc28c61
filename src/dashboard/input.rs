//! Keys: what each action does to the state. Typing after `/` or `f` edits the query; the
//! inspect view and the help overlay take the keys they need and close with Esc.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::form::{Form, Outcome};
use super::keys::{self, Action};
use super::logview::{Filter, contains_ci};
use super::state::{Focus, Frozen, InputKind, State};

impl State {
    /// Handles a key press.
    pub fn key(&mut self, key: &KeyEvent) {
        if self.input.is_some() {
            return self.type_key(key);
        }
        if let Some(form) = &mut self.form {
            match form.key(key) {
                Outcome::Editing => {}
                Outcome::Cancelled => self.form = None,
                Outcome::Send(request) => {
                    self.form = None;
                    self.trigger_requested = Some(request);
                }
            }
            return;
        }
        let Some(action) = keys::action(key) else {
            return;
        };
        if self.help {
            match action {
                Action::Quit => self.quit = true,
                Action::Help | Action::Back => self.help = false,
                _ => {}
            }
            return;
        }
        if self.chart.is_some() {
            match action {
                Action::Quit => self.quit = true,
                Action::Back | Action::Open => self.chart = None,
                _ => {}
            }
            return;
        }
        if let Some((seq, scroll)) = self.inspect {
            self.inspect = match action {
                Action::Quit => {
                    self.quit = true;
                    None
                }
                Action::Back | Action::Open => None,
                Action::Down => Some((seq, scroll.saturating_add(1))),
                Action::Up => Some((seq, scroll.saturating_sub(1))),
                Action::PageDown => Some((seq, scroll.saturating_add(10))),
                Action::PageUp => Some((seq, scroll.saturating_sub(10))),
                Action::Top => Some((seq, 0)),
                _ => Some((seq, scroll)),
            };
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::Back => self.filter = None,
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
                self.selected = 0;
                self.log_selected = None;
                self.paused = None;
            }
            Action::Search => self.input = Some((InputKind::Search, String::new())),
            Action::Filter => {
                let current = self
                    .filter
                    .as_ref()
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                self.input = Some((InputKind::Filter, current));
            }
            Action::Export => self.export_requested = true,
            Action::Trigger => self.form = Some(Form::new(self.default_channel())),
            Action::SearchNext => self.jump_to_match(true),
            Action::SearchPrev => self.jump_to_match(false),
            Action::Open if self.focus == Focus::Ticker => {
                let rows = self.visible().0.sorted(self.sort);
                self.chart = rows
                    .get(self.selected.min(rows.len().saturating_sub(1)))
                    .map(|r| r.key.clone());
            }
            Action::Open => {
                let positions = self.log_positions();
                if let Some(i) = self.selected_index(&positions) {
                    self.inspect = Some((self.visible().1[positions[i]].seq, 0));
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
    }

    /// The channel the form starts with: the selected log line's, else the first subscribed.
    fn default_channel(&self) -> String {
        let positions = self.log_positions();
        let selected = self
            .log_selected
            .and_then(|_| self.selected_index(&positions))
            .map(|i| self.visible().1[positions[i]].channel.clone())
            .filter(|c| c != "tickertape" && c != "-");
        selected
            .or_else(|| self.status.channels.keys().next().cloned())
            .unwrap_or_default()
    }

    /// A mouse wheel turn over a pane: focus it and move its selection.
    pub fn wheel(&mut self, pane: Focus, by: isize) {
        if self.help || self.inspect.is_some() || self.chart.is_some() || self.input.is_some() {
            return;
        }
        self.focus = pane;
        self.step(by);
    }

    /// A click: focus the pane; on the ticker, select the clicked row (`row` counts from the
    /// first data row).
    pub fn click(&mut self, pane: Focus, row: Option<usize>) {
        if self.help || self.inspect.is_some() || self.chart.is_some() || self.input.is_some() {
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

    fn type_key(&mut self, key: &KeyEvent) {
        let Some((kind, text)) = &mut self.input else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.input = None,
            KeyCode::Enter => {
                let (kind, text) = (*kind, text.clone());
                self.input = None;
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
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if text.len() < 200 => text.push(c),
            _ => {}
        }
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
