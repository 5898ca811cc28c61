//! The watch screen as a screen of the kit: its inputs, actions, effects' answers, status
//! bar, key hints and drawing.

use std::time::Instant;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;

use super::actions::Action;
use super::controls::{InputKind, Overlay};
use super::effects::Done;
use super::screen::{Source, Watch};
use super::view;
use crate::kit::{App, Areas, Captured, Chrome, Effect, HintLine, Keymap, Part, Screen, Theme};
use observe::pipeline::Observed;
use protocol::safe_text::terminal_safe;

impl Watch {
    /// The screen with its keys (`Trigger` left out when there is nothing to trigger
    /// through) and its looks.
    pub fn into_app(self, keymap: Keymap<Action>) -> App<Watch> {
        let keymap = match self.source {
            Source::Receiving(_) => keymap.without(Action::Trigger),
            _ => keymap,
        };
        let theme = Theme::new(self.options().color, self.options().ascii);
        App::new(self, keymap, theme)
    }
}

impl Screen for Watch {
    type Input = Observed;
    type Action = Action;
    type Done = Done;

    const MIN_SIZE: (u16, u16) = (view::MIN_WIDTH, view::MIN_HEIGHT);

    /// Applies one item. Quits once `--count` events came.
    fn apply(&mut self, input: Observed, now: Instant) -> Option<Effect<Done>> {
        self.model.apply(input, now);
        self.options()
            .stop_after
            .is_some_and(|n| self.model.status.total >= n)
            .then_some(Effect::Quit)
    }

    fn act(&mut self, action: Action, now: Instant) -> Option<Effect<Done>> {
        self.action(action, now)
    }

    fn capture(&mut self, key: &KeyEvent, now: Instant) -> Captured<Done> {
        self.typing(key, now)
    }

    /// What an effect came to, noted in the log.
    fn done(&mut self, done: Done, now: Instant) {
        match done {
            Done::Exported(Ok((path, n))) => {
                let text = format!("{n} lines to {}", path.display());
                self.model.note("exported", &text, now)
            }
            Done::Exported(Err(e)) => self.model.note("export failed", &e, now),
            Done::Triggered(said) => self.model.note("trigger", &said, now),
            Done::Said(what, said) => {
                // In the status bar too: a filter may hide the log's note.
                self.ui.flash = Some(terminal_safe(&said).into_owned());
                self.model.note(&what, &said, now)
            }
            Done::ViewSaved(view, said) => {
                let views = &mut self.views.views;
                match views.iter_mut().find(|v| v.name == view.name) {
                    Some(old) => *old = view,
                    None => views.push(view),
                }
                self.ui.flash = Some(terminal_safe(&said).into_owned());
                self.model.note("view", &said, now)
            }
        }
    }

    fn tick(&mut self, now: Instant) {
        self.model.alerts.tick(now);
    }

    /// The count of a jq filter being typed, a slice per frame.
    fn work(&mut self, _now: Instant) -> bool {
        self.count_slice()
    }

    fn paste(&mut self, text: &str, _now: Instant) {
        self.pasted(text);
    }

    fn mouse(&mut self, event: MouseEvent, body: Rect) {
        view::on_mouse(self, event, body);
    }

    fn status(&self, theme: &Theme, now: Instant, width: u16) -> Vec<Part> {
        view::status(self, theme, now, width)
    }

    /// The key hints: the main keys, or what the input being typed takes, or how to resume
    /// a paused view. Each key is the first one bound to its action.
    fn hints(&self) -> HintLine<Action> {
        let basic = [
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Pause, "pause"),
        ];
        let input = match &self.ui.overlay {
            Some(Overlay::Input(kind, text)) => Some((kind, text)),
            _ => None,
        };
        // The cursor is drawn as the theme says; the kit's hint line is plain text.
        let cursor = if self.options().ascii { "_" } else { "▏" };
        if let (Some(banner), None, None) = (&self.banner, input, &self.ui.paused) {
            return HintLine::keys(basic.to_vec()).with_text(terminal_safe(banner).into_owned());
        }
        match (input, &self.ui.paused) {
            (Some((InputKind::Search, text)), _) => HintLine::text(format!(
                "search: {}{cursor} (Enter, Esc)",
                terminal_safe(text)
            )),
            (Some((InputKind::Filter, text)), _) => match self.ui.preview.clone().or_else(|| {
                let ascii = self.options().ascii;
                self.ui.counting.as_ref().map(|c| c.said(ascii))
            }) {
                Some(said) => HintLine::text(format!(
                    "filter: {}{cursor} {} {}",
                    terminal_safe(text),
                    if self.options().ascii { "-" } else { "—" },
                    terminal_safe(&said)
                )),
                None => HintLine::text(format!(
                    "filter: {}{cursor} (channel:X event:X field=value text, or jq: .data.x > 1; Enter, Esc)",
                    terminal_safe(text)
                )),
            },
            (None, Some(_)) => HintLine::keys(vec![
                (Action::Pause, "resume"),
                (Action::Quit, "quit"),
                (Action::Help, "help"),
            ]),
            (None, None) => HintLine::keys(
                basic
                    .into_iter()
                    .chain([
                        (Action::FocusNext, "focus"),
                        (Action::Search, "search"),
                        (Action::Filter, "filter"),
                        (Action::Open, "inspect"),
                    ])
                    .collect(),
            ),
        }
    }

    fn commands(&self) -> Vec<crate::kit::Command> {
        self.palette_commands()
    }

    fn command(&mut self, line: &str, now: Instant) -> Result<Option<Effect<Done>>, String> {
        self.palette_command(line, now)
    }

    fn draw(&self, frame: &mut Frame, areas: Areas, chrome: &Chrome<'_, Action>, now: Instant) {
        view::draw(frame, self, areas, chrome, now);
    }

    fn take_bell(&mut self) -> bool {
        self.model.alerts.take_bell()
    }

    fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }
}
