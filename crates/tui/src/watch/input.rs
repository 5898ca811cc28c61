//! What keys do to the watch screen. Typing after `/` or `f`, and in the trigger form,
//! takes the keys before the keymap; the inspect view and the chart take the actions they
//! need and close with Esc; the rest are the keymap's actions.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::actions::Action;
use super::controls::{Focus, InputKind, Overlay, Pause};
use super::effects::Done;
use super::export;
use super::filter::{COUNT_LINES_PER_FRAME, COUNT_TIME_PER_FRAME, Count, Filter, contains_ci};
use super::form::{Form, Outcome};
use super::screen::Watch;
use crate::kit::{Captured, Effect};
use crate::widgets::log;

/// Most bytes typed after `/` or `f`.
const MAX_TYPED: usize = 200;

impl Watch {
    /// A key while a field is being typed into: the search, the filter, the trigger form.
    pub(super) fn typing(&mut self, key: &KeyEvent, now: Instant) -> Captured<Done> {
        match self.ui.overlay.take() {
            Some(Overlay::Input(kind, text)) => {
                self.ui.overlay = self.type_key(kind, text, key);
                Captured::Yes(None)
            }
            Some(Overlay::Form(mut form)) => match form.key(key) {
                Outcome::Editing => {
                    self.ui.overlay = Some(Overlay::Form(form));
                    Captured::Yes(None)
                }
                Outcome::Cancelled => Captured::Yes(None),
                Outcome::Send(request) => Captured::Yes(self.trigger(request, now)),
            },
            other => {
                self.ui.overlay = other;
                Captured::No
            }
        }
    }

    /// An action of the keymap.
    pub(super) fn action(&mut self, action: Action, now: Instant) -> Option<Effect<Done>> {
        self.ui.flash = None;
        if let Some(Overlay::Inspect { seq, cursor, .. }) = &self.ui.overlay {
            let (seq, cursor) = (*seq, *cursor);
            match action {
                // The diff lists changes, not values: `y` copies the event there.
                Action::Copy if self.ui.diff => self.copy_line(seq, false),
                Action::Copy => self.copy_value(seq, cursor, false),
                Action::CopyPath if self.ui.diff => {
                    self.ui.flash = Some("p copies a value's path in the event view (d)".into())
                }
                Action::CopyPath => self.copy_value(seq, cursor, true),
                Action::CopyCommand => self.copy_line(seq, true),
                _ => {}
            }
            if matches!(
                action,
                Action::Copy | Action::CopyPath | Action::CopyCommand
            ) {
                return None;
            }
        }
        if action == Action::CopyPath {
            self.ui.flash =
                Some("p copies a value's jq path in inspect (Enter on a log line)".into());
            return None;
        }
        if let Some(said) = self.toggle(action) {
            self.ui.flash = Some(said);
            return None;
        }
        if action == Action::Diff {
            // In inspect it switches the view; elsewhere it says where it works.
            if matches!(self.ui.overlay, Some(Overlay::Inspect { .. })) {
                self.ui.diff = !self.ui.diff;
            } else {
                self.ui.flash = Some("d shows a diff in inspect (Enter on a log line)".into());
            }
            return None;
        }
        if let Some(overlay) = self.ui.overlay.take() {
            self.ui.overlay = self.overlay_action(overlay, action);
            return None;
        }
        match action {
            // The kit's.
            Action::Quit | Action::Help | Action::Palette | Action::Diff | Action::CopyPath => {}
            Action::ToggleTicker
            | Action::ToggleLog
            | Action::ToggleSide
            | Action::ToggleChanged => {}
            Action::Copy | Action::CopyCommand => {
                let positions = self.log_positions();
                match self.selected_index(&positions) {
                    Some(i) => {
                        let seq = self.model.log[positions[i]].seq;
                        self.copy_line(seq, action == Action::CopyCommand);
                    }
                    None => self.ui.flash = Some("nothing to copy".into()),
                }
            }
            Action::Back => {
                // Esc clears what narrows or marks the log: the filter and the search.
                self.ui.filter = None;
                self.ui.search = None;
            }
            Action::Pause => {
                self.ui.paused = match self.ui.paused.take() {
                    Some(_) => None,
                    None => Some(Pause {
                        ticker: self.model.ticker.clone(),
                        mark: self.model.log.next_seq(),
                        total: self.model.status.total,
                    }),
                }
            }
            // A hidden pane takes no focus (nor the ticker when nothing is bound: it is
            // not drawn).
            Action::FocusNext | Action::FocusPrev => {
                self.ui.focus = match self.ui.focus {
                    Focus::Ticker if !self.ui.hidden.log => Focus::Log,
                    Focus::Log if !self.ui.hidden.ticker && !self.log_only() => Focus::Ticker,
                    same => same,
                }
            }
            Action::Sort => self.ui.sort = self.ui.sort.next(),
            Action::Clear => {
                self.model.clear();
                self.ui.selected = 0;
                self.ui.log_selected = None;
                self.ui.paused = None;
            }
            Action::Search => {
                self.ui.overlay = Some(Overlay::Input(InputKind::Search, String::new()))
            }
            Action::Filter => {
                let current = self
                    .ui
                    .filter
                    .as_ref()
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                self.ui.overlay = Some(Overlay::Input(InputKind::Filter, current));
            }
            Action::Export => {
                let log = &self.model.log;
                let positions = self.log_positions();
                let records = export::records(
                    positions.iter().map(|&p| &log[p].line),
                    &self.model.connections,
                );
                return Some(self.export(records));
            }
            // Enforced here, where the action is dispatched, whatever key or palette asked.
            Action::Trigger if self.readonly() => self.refuse_readonly("triggering", now),
            Action::Trigger => self.ui.overlay = Some(Overlay::Form(self.new_form())),
            Action::SearchNext => self.jump_to_match(true),
            Action::SearchPrev => self.jump_to_match(false),
            Action::Open if self.ui.focus == Focus::Ticker => {
                let rows = self.shown_ticker().sorted(self.ui.sort);
                self.ui.overlay = rows
                    .get(self.ui.selected.min(rows.len().saturating_sub(1)))
                    .map(|r| Overlay::Chart(r.key.clone()));
            }
            Action::Open => {
                let positions = self.log_positions();
                if let Some(i) = self.selected_index(&positions) {
                    let seq = self.model.log[positions[i]].seq;
                    self.ui.overlay = Some(Overlay::Inspect {
                        seq,
                        scroll: 0,
                        cursor: 0,
                    });
                }
            }
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(10),
            Action::PageUp => self.step(-10),
            Action::Top => self.step(isize::MIN / 2),
            Action::Bottom => match self.ui.focus {
                Focus::Ticker => self.ui.selected = self.shown_ticker().len().saturating_sub(1),
                Focus::Log => self.ui.log_selected = None,
            },
        }
        None
    }

    /// An action while the chart or the inspect view is open: what stays open.
    fn overlay_action(&mut self, overlay: Overlay, action: Action) -> Option<Overlay> {
        let scrolled = |scroll: u16| match action {
            Action::Down => Some(scroll.saturating_add(1)),
            Action::Up => Some(scroll.saturating_sub(1)),
            Action::PageDown => Some(scroll.saturating_add(10)),
            Action::PageUp => Some(scroll.saturating_sub(10)),
            Action::Top => Some(0),
            _ => None,
        };
        match overlay {
            Overlay::Chart(_) | Overlay::Inspect { .. }
                if matches!(action, Action::Back | Action::Open) =>
            {
                None
            }
            // The diff scrolls; the event moves its value cursor (the view follows it).
            Overlay::Inspect {
                seq,
                scroll,
                cursor,
            } if self.ui.diff => {
                // Never past the last line: the pane keeps it in view.
                let last = u16::try_from(self.diff_len(seq).saturating_sub(1)).unwrap_or(u16::MAX);
                Some(Overlay::Inspect {
                    seq,
                    scroll: scrolled(scroll).unwrap_or(scroll).min(last),
                    cursor,
                })
            }
            Overlay::Inspect {
                seq,
                scroll,
                cursor,
            } => {
                let stops = self
                    .line(seq)
                    .and_then(|l| l.inspectable())
                    .map_or(0, |d| super::values::stops(&super::values::lines(d)).len());
                let last = stops.saturating_sub(1);
                let cursor = match action {
                    Action::Down => cursor.saturating_add(1),
                    Action::Up => cursor.saturating_sub(1),
                    Action::PageDown => cursor.saturating_add(10),
                    Action::PageUp => cursor.saturating_sub(10),
                    Action::Top => 0,
                    Action::Bottom => last,
                    _ => cursor,
                }
                .min(last);
                Some(Overlay::Inspect {
                    seq,
                    scroll,
                    cursor,
                })
            }
            other => Some(other),
        }
    }

    /// Hides or shows a pane or the CHANGED column; what it did, or why not. `None` when
    /// `action` is not a toggle.
    fn toggle(&mut self, action: Action) -> Option<String> {
        let hidden = &mut self.ui.hidden;
        let (name, flag) = match action {
            Action::ToggleTicker => ("ticker", &mut hidden.ticker),
            Action::ToggleLog => ("log", &mut hidden.log),
            Action::ToggleSide => ("side panes", &mut hidden.side),
            Action::ToggleChanged => ("CHANGED column", &mut hidden.changed),
            _ => return None,
        };
        *flag = !*flag;
        let now_hidden = *flag;
        // One of the ticker and the log stays: hiding one shows the other.
        if now_hidden && hidden.ticker && hidden.log {
            match action {
                Action::ToggleTicker => hidden.log = false,
                _ => hidden.ticker = false,
            }
        }
        if hidden.ticker && self.ui.focus == Focus::Ticker {
            self.ui.focus = Focus::Log;
        }
        if hidden.log && self.ui.focus == Focus::Log && !self.log_only() {
            self.ui.focus = Focus::Ticker;
        }
        if action == Action::ToggleLog && now_hidden && self.log_only() {
            self.ui.hidden.log = false;
            return Some("the log stays: nothing is bound, so there is no ticker".into());
        }
        Some(match now_hidden {
            true => format!("{name} hidden (again to show)"),
            false => format!("{name} shown"),
        })
    }

    /// The form as it opens: on the selected log line's channel, else the first subscribed,
    /// sending through the connection that line or channel came from.
    fn new_form(&self) -> Form {
        let positions = self.log_positions();
        let selected = self
            .ui
            .log_selected
            .and_then(|_| self.selected_index(&positions))
            .map(|i| &self.model.log[positions[i]].line);
        let channels = self.model.status.channels.keys();
        let (conn, channel) = match selected {
            // A line of tickertape's own (a state change) names its connection, not a
            // channel: the form takes that connection and the first channel subscribed
            // through it.
            Some(line) if line.is_notice() || line.channel == "-" => {
                let conn = line.conn.unwrap_or(0);
                let first = channels
                    .clone()
                    .find(|(c, _)| *c == conn)
                    .map_or("", |(_, name)| name.as_str());
                (conn, first)
            }
            Some(line) => (line.conn.unwrap_or(0), line.channel.as_str()),
            None => channels
                .clone()
                .next()
                .map_or((0, ""), |(c, name)| (*c, name.as_str())),
        };
        let label = self.model.connections.label(Some(conn)).map(str::to_owned);
        Form::new(channel.to_owned()).via(conn, label)
    }

    /// A mouse wheel turn over a pane: focus it and move its selection.
    pub fn wheel(&mut self, pane: Focus, by: isize) {
        if self.ui.overlay.is_some() {
            return;
        }
        self.ui.focus = pane;
        self.step(by);
    }

    /// A click: focus the pane; on the ticker, select the clicked row (`row` counts from the
    /// first data row).
    pub fn click(&mut self, pane: Focus, row: Option<usize>) {
        if self.ui.overlay.is_some() {
            return;
        }
        self.ui.focus = pane;
        if let (Focus::Ticker, Some(r)) = (pane, row) {
            self.ui.selected = r.min(self.shown_ticker().len().saturating_sub(1));
        }
    }

    /// Moves the selection of the focused pane.
    fn step(&mut self, by: isize) {
        match self.ui.focus {
            Focus::Ticker => {
                let rows = self.shown_ticker().len();
                self.ui.selected = self
                    .ui
                    .selected
                    .saturating_add_signed(by)
                    .min(rows.saturating_sub(1));
            }
            Focus::Log => {
                let positions = self.log_positions();
                if let Some(seq) = log::step(&self.model.log, &positions, self.ui.log_selected, by)
                {
                    self.ui.log_selected = Some(seq);
                }
            }
        }
    }

    /// Text pasted into the field being typed into (the search, the filter, the trigger
    /// form), as typed but never submitted: its line breaks are spaces.
    pub(super) fn pasted(&mut self, text: &str) {
        match &mut self.ui.overlay {
            Some(Overlay::Input(kind, typed)) => {
                let kind = *kind;
                for c in crate::kit::pasted(text) {
                    if typed.len() >= MAX_TYPED {
                        break;
                    }
                    typed.push(c);
                }
                if kind == InputKind::Filter {
                    let typed = typed.clone();
                    self.preview(&typed);
                }
            }
            Some(Overlay::Form(form)) => form.paste(text),
            _ => {}
        }
    }

    /// Typing after `/` or `f`: the input stays open until Enter or Esc.
    fn type_key(&mut self, kind: InputKind, mut text: String, key: &KeyEvent) -> Option<Overlay> {
        match key.code {
            KeyCode::Esc => {
                self.ui.preview = None;
                self.ui.counting = None;
                return None;
            }
            KeyCode::Enter => {
                match kind {
                    InputKind::Search => {
                        self.ui.search = (!text.is_empty()).then(|| text.to_lowercase());
                        self.ui.focus = Focus::Log;
                        self.jump_to_match(false);
                    }
                    InputKind::Filter => match Filter::new(&text) {
                        _ if text.trim().is_empty() => {
                            self.ui.filter = None;
                            self.ui.log_selected = None;
                        }
                        Ok(filter) => {
                            // The lines counted already keep their answers.
                            let counted = self.ui.counting.take().map(|c| c.filter);
                            let filter = counted.filter(|c| *c == filter).unwrap_or(filter);
                            self.ui.filter = Some(filter);
                            self.ui.log_selected = None;
                        }
                        // A jq expression that does not parse stays open, its error shown.
                        Err(e) => {
                            self.ui.preview = Some(e.to_string());
                            return Some(Overlay::Input(kind, text));
                        }
                    },
                }
                self.ui.preview = None;
                self.ui.counting = None;
                return None;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c)
                if text.len() < MAX_TYPED && !key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                text.push(c)
            }
            _ => {}
        }
        if kind == InputKind::Filter {
            self.preview(&text);
        }
        Some(Overlay::Input(kind, text))
    }

    /// What a jq filter being typed would do: its error, or (counted a slice per frame, in
    /// [`Watch::count_slice`]) how many of the log's lines it matches. Nothing for the simple
    /// syntax.
    fn preview(&mut self, text: &str) {
        self.ui.preview = None;
        self.ui.counting = None;
        if !observe::jq::looks_like_jq(text) {
            return;
        }
        match Filter::new(text) {
            Ok(f) => self.ui.counting = Some(Count::new(f, &self.model.log)),
            Err(e) => self.ui.preview = Some(e.to_string()),
        }
    }

    /// Counts a slice of the lines for the jq filter being typed; true while lines are left.
    pub(super) fn count_slice(&mut self) -> bool {
        if !matches!(self.ui.overlay, Some(Overlay::Input(InputKind::Filter, _))) {
            self.ui.counting = None;
        }
        let most = self.options().log_capacity;
        let Some(count) = self.ui.counting.as_mut() else {
            return false;
        };
        count.step(
            &self.model.log,
            &self.model.connections,
            most,
            (COUNT_LINES_PER_FRAME, COUNT_TIME_PER_FRAME),
        )
    }

    /// Selects the next (older is "previous") log line that matches the search.
    fn jump_to_match(&mut self, forward: bool) {
        let Some(needle) = self.ui.search.clone() else {
            return;
        };
        let positions = self.log_positions();
        let Some(i) = self.selected_index(&positions) else {
            return;
        };
        let log = &self.model.log;
        let connections = &self.model.connections;
        let hit = |j: usize| {
            let line = &log[positions[j]].line;
            contains_ci(line, connections.label(line.conn), &needle)
        };
        let found = if forward {
            (i + 1..positions.len()).find(|&j| hit(j))
        } else {
            (0..=i)
                .rev()
                .find(|&j| hit(j) && (j < i || self.ui.log_selected.is_none()))
        };
        if let Some(seq) = found.map(|j| log[positions[j]].seq) {
            self.ui.focus = Focus::Log;
            self.ui.log_selected = Some(seq);
        }
    }
}
