//! The screen contract, and [`App`]: a screen with what the kit keeps around it (its keymap,
//! the theme, the help overlay). A screen is plain state: it takes its inputs, the actions
//! its keys map to and the answers of its effects, and draws itself; it never touches the
//! terminal. What it asks for (quitting, or work that takes time, like sending a trigger)
//! comes back as an [`Effect`], which the event loop runs, handing the result back to
//! [`Screen::done`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;

use super::chrome::{self, Help, HintLine, Part};
use super::keys::{Action, Keymap, Role, is_interrupt};
use super::palette::{self, Command, Palette, Step};
use super::theme::{Slot, Theme};

/// Work that takes time, run by the event loop while the screen goes on; its result goes to
/// [`Screen::done`]. When too many are running already, `busy` goes there at once instead.
pub struct Task<D> {
    what: String,
    run: Pin<Box<dyn Future<Output = D> + Send>>,
    busy: D,
}

impl<D> Task<D> {
    /// `what` says what it does, in a few words.
    pub fn new(
        what: impl Into<String>,
        run: impl Future<Output = D> + Send + 'static,
        busy: D,
    ) -> Task<D> {
        Task {
            what: what.into(),
            run: Box::pin(run),
            busy,
        }
    }

    /// What it does.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Runs it here (tests).
    pub async fn run(self) -> D {
        self.run.await
    }

    pub(crate) fn split(self) -> (Pin<Box<dyn Future<Output = D> + Send>>, D) {
        (self.run, self.busy)
    }
}

/// What a screen asks of the event loop.
pub enum Effect<D> {
    /// End the screen (`q`, Ctrl-C, `--count` reached).
    Quit,
    Task(Task<D>),
}

impl<D> fmt::Debug for Effect<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Quit => f.write_str("Quit"),
            Effect::Task(t) => write!(f, "Task({:?})", t.what),
        }
    }
}

impl<D> Effect<D> {
    pub fn is_quit(&self) -> bool {
        matches!(self, Effect::Quit)
    }
}

/// What a screen did with a key it was offered before the keymap ([`Screen::capture`]).
pub enum Captured<D> {
    /// Not its business: the keymap decides.
    No,
    /// Taken (typed into a field, say), with what it asks for.
    Yes(Option<Effect<D>>),
}

/// Where a screen draws: its body between the status bar and the key hints; `above`, all but
/// the key hints, for what opens over the screen; and the whole frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub body: Rect,
    pub above: Rect,
    pub full: Rect,
}

impl Areas {
    fn of(full: Rect) -> Areas {
        let [_, body, _] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(full);
        Areas {
            body,
            above: Rect {
                height: full.height.saturating_sub(1),
                ..full
            },
            full,
        }
    }
}

/// What a screen draws with: the theme, and its keymap (for the keys it names itself).
pub struct Chrome<'a, A> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap<A>,
}

/// A screen: the watch dashboard, the probe; every screen of the kit implements it.
pub trait Screen {
    /// What it shows, as the binary feeds it (through a bounded queue).
    type Input: bounded::Weigh + Send + 'static;
    /// Its actions: what its keys do, named in `[keys]`.
    type Action: Action;
    /// What its effects come to.
    type Done: Send + 'static;

    /// Below this width and height it is not drawn; a note says so.
    const MIN_SIZE: (u16, u16);

    fn apply(&mut self, input: Self::Input, now: Instant) -> Option<Effect<Self::Done>>;

    /// An action of its keymap (never Quit or Help: the kit does those).
    fn act(&mut self, action: Self::Action, now: Instant) -> Option<Effect<Self::Done>>;

    /// A key before the keymap sees it: a screen with a field being typed into takes it.
    fn capture(&mut self, key: &KeyEvent, now: Instant) -> Captured<Self::Done> {
        let _ = (key, now);
        Captured::No
    }

    /// What an effect came to.
    fn done(&mut self, done: Self::Done, now: Instant) {
        let _ = (done, now);
    }

    /// A second passed.
    fn tick(&mut self, now: Instant) {
        let _ = now;
    }

    /// Before a frame: a slice of work the screen spreads over frames (never more than its
    /// own per-frame budget), so that no key waits for it. True while some is left: the loop
    /// then draws again as soon as the frame rate allows.
    fn work(&mut self, now: Instant) -> bool {
        let _ = now;
        false
    }

    /// Text pasted (bracketed paste) while no palette or help is open: a screen with a field
    /// being typed into takes it as typed text (see [`super::pasted`]); else it is ignored.
    fn paste(&mut self, text: &str, now: Instant) {
        let _ = (text, now);
    }

    /// A click or a wheel turn in its body.
    fn mouse(&mut self, event: MouseEvent, body: Rect) {
        let _ = (event, body);
    }

    /// Its status bar's parts, styled with `theme`, for a bar `width` wide.
    fn status(&self, theme: &Theme, now: Instant, width: u16) -> Vec<Part>;

    /// Its key hints.
    fn hints(&self) -> HintLine<Self::Action>;

    /// What the help says besides the keys.
    fn about(&self) -> &'static [&'static str] {
        &[]
    }

    /// What the command palette offers besides the actions: commands with their arguments
    /// (`sort value`, `channel orders`), as completions.
    fn commands(&self) -> Vec<Command> {
        Vec::new()
    }

    /// A palette line that names no action: a command of the screen's, or an error that
    /// says why not (shown in the palette, which stays open).
    fn command(&mut self, line: &str, now: Instant) -> Result<Option<Effect<Self::Done>>, String> {
        let _ = now;
        Err(format!("unknown command {line:?}"))
    }

    fn draw(
        &self,
        frame: &mut Frame,
        areas: Areas,
        chrome: &Chrome<'_, Self::Action>,
        now: Instant,
    );

    /// Whether to ring the bell now.
    fn take_bell(&mut self) -> bool {
        false
    }

    /// Text to put on the clipboard now (OSC 52, through the terminal guard; capped at
    /// [`super::clipboard::MAX_COPY`] bytes).
    fn take_clipboard(&mut self) -> Option<String> {
        None
    }
}

/// A screen and what the kit keeps around it: the keys, the looks and the help overlay.
pub struct App<S: Screen> {
    pub screen: S,
    keymap: Keymap<S::Action>,
    theme: Theme,
    /// The help is open, scrolled this far.
    help: Option<u16>,
    /// The command palette is open.
    palette: Option<Palette>,
}

impl<S: Screen> App<S> {
    pub fn new(screen: S, keymap: Keymap<S::Action>, theme: Theme) -> App<S> {
        App {
            screen,
            keymap,
            theme,
            help: None,
            palette: None,
        }
    }

    pub fn keymap(&self) -> &Keymap<S::Action> {
        &self.keymap
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The help is open.
    pub fn help_open(&self) -> bool {
        self.help.is_some()
    }

    /// The command palette is open.
    pub fn palette_open(&self) -> bool {
        self.palette.is_some()
    }

    /// Replaces the looks (a theme loaded while running).
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    fn palette_entries(&self) -> Vec<palette::Entry> {
        let mut commands = self.screen.commands();
        commands.extend(
            super::theme::BUILT_IN
                .iter()
                .map(|name| Command::new(format!("theme {name}"), "switch to this built-in theme")),
        );
        palette::entries(&self.keymap, commands, self.theme.ascii)
    }

    /// Runs a palette line: an action's name goes where its key goes; anything else is the
    /// screen's command. An error keeps the palette open and shows it.
    pub fn run_line(&mut self, line: &str, now: Instant) -> Option<Effect<S::Done>> {
        let line = line.trim();
        let named = <S::Action as Action>::ALL
            .iter()
            .find(|a| a.name == line && a.action.role() != Some(Role::Palette));
        if let Some(info) = named {
            self.palette = None;
            return match info.action.role() {
                Some(Role::Quit) => Some(Effect::Quit),
                Some(Role::Help) => {
                    self.help = Some(0);
                    None
                }
                _ => self.screen.act(info.action, now),
            };
        }
        if let Some(name) = line.strip_prefix("theme ") {
            let spec = super::theme::ThemeSpec::new(name.trim(), &Default::default());
            return match spec {
                Ok(spec) => {
                    self.theme = Theme::with(&spec, self.theme.color(), self.theme.ascii);
                    self.palette = None;
                    None
                }
                Err(why) => {
                    self.palette.get_or_insert_with(Palette::default).said = Some(why);
                    None
                }
            };
        }
        match self.screen.command(line, now) {
            Ok(effect) => {
                self.palette = None;
                effect
            }
            Err(why) => {
                let p = self.palette.get_or_insert_with(Palette::default);
                p.said = Some(why);
                None
            }
        }
    }

    /// Whether `key` opens the palette: its action's key, or `:` on a screen that has no
    /// such action and leaves `:` free.
    fn opens_palette(&self, key: &KeyEvent) -> bool {
        let has_action = <S::Action as Action>::ALL
            .iter()
            .any(|a| a.action.role() == Some(Role::Palette));
        match self.keymap.action(key) {
            Some(a) => a.role() == Some(Role::Palette),
            None => {
                !has_action
                    && key.code == KeyCode::Char(':')
                    && !key.modifiers.contains(KeyModifiers::CONTROL)
            }
        }
    }

    pub fn apply(&mut self, input: S::Input, now: Instant) -> Option<Effect<S::Done>> {
        self.screen.apply(input, now)
    }

    /// A key press: Ctrl-C quits; the open help takes what moves or closes it; a screen
    /// typing into a field takes the rest; else the keymap names an action.
    pub fn key(&mut self, key: &KeyEvent, now: Instant) -> Option<Effect<S::Done>> {
        if is_interrupt(key) {
            return Some(Effect::Quit);
        }
        if let Some(scroll) = self.help {
            let role = self.keymap.action(key).and_then(Action::role);
            self.help = match role {
                Some(Role::Quit) => return Some(Effect::Quit),
                Some(Role::Help | Role::Back) => None,
                Some(Role::Down) => Some(scroll.saturating_add(1)),
                Some(Role::Up) => Some(scroll.saturating_sub(1)),
                Some(Role::PageDown) => Some(scroll.saturating_add(10)),
                Some(Role::PageUp) => Some(scroll.saturating_sub(10)),
                Some(Role::Top) => Some(0),
                // Drawing stops at the last line; this bounds how far past it a key can go.
                Some(Role::Bottom) => Some(u16::MAX),
                Some(Role::Palette) | None => Some(scroll),
            }
            .map(|s| s.min(<S::Action as Action>::ALL.len() as u16 + 2 + self.about_len()));
            return None;
        }
        if let Some(mut open) = self.palette.take() {
            let entries = self.palette_entries();
            return match open.key(key, &entries) {
                Step::Open => {
                    self.palette = Some(open);
                    None
                }
                Step::Close => None,
                Step::Run(line) => {
                    self.palette = Some(open);
                    self.run_line(&line, now)
                }
            };
        }
        if let Captured::Yes(effect) = self.screen.capture(key, now) {
            return effect;
        }
        if self.opens_palette(key) {
            self.palette = Some(Palette::default());
            return None;
        }
        let action = self.keymap.action(key)?;
        match action.role() {
            Some(Role::Quit) => Some(Effect::Quit),
            Some(Role::Help) => {
                self.help = Some(0);
                None
            }
            _ => self.screen.act(action, now),
        }
    }

    fn about_len(&self) -> u16 {
        let n = self.screen.about().len();
        if n == 0 { 0 } else { n as u16 + 1 }
    }

    pub fn done(&mut self, done: S::Done, now: Instant) {
        self.screen.done(done, now);
    }

    pub fn tick(&mut self, now: Instant) {
        self.screen.tick(now);
    }

    /// Pasted text: into the palette when it is open, nothing while the help is, else to the
    /// screen. Never a key: a line break in it runs nothing.
    pub fn paste(&mut self, text: &str, now: Instant) {
        if self.help.is_some() {
            return;
        }
        match &mut self.palette {
            Some(open) => open.paste(text),
            None => self.screen.paste(text, now),
        }
    }

    /// The screen's slice of work before a frame; true while some is left.
    pub fn work(&mut self, now: Instant) -> bool {
        self.screen.work(now)
    }

    /// A mouse event on a terminal of `size`: to the screen's body, unless the help or the
    /// palette is open.
    pub fn mouse(&mut self, event: MouseEvent, size: Rect) {
        if self.help.is_none() && self.palette.is_none() {
            self.screen.mouse(event, Areas::of(size).body);
        }
    }

    fn help_box(&self) -> Help<'_, S::Action> {
        Help {
            keymap: &self.keymap,
            theme: &self.theme,
            about: self.screen.about(),
        }
    }

    /// Keeps what scrolls within what a terminal of `size` shows: a key past the end of the
    /// help does not leave keys to undo before it moves again.
    pub fn fit(&mut self, size: Rect) {
        let most = self.help_box().most(Areas::of(size).above);
        if let Some(scroll) = &mut self.help {
            *scroll = (*scroll).min(most);
        }
    }

    /// The whole screen: the status bar, the screen's body, the key hints, the help.
    pub fn draw(&self, frame: &mut Frame, now: Instant) {
        let full = frame.area();
        let (w, h) = S::MIN_SIZE;
        if full.width < w || full.height < h {
            chrome::too_small(frame, S::MIN_SIZE, &self.keymap, &self.theme);
            return;
        }
        let areas = Areas::of(full);
        let status = Rect { height: 1, ..full };
        let hints = Rect {
            y: full.bottom().saturating_sub(1),
            height: 1,
            ..full
        };
        let parts = self.screen.status(&self.theme, now, status.width);
        frame.render_widget(chrome::status_bar(parts, status.width, &self.theme), status);
        let chrome = Chrome {
            theme: &self.theme,
            keymap: &self.keymap,
        };
        self.screen.draw(frame, areas, &chrome, now);
        let text = chrome::hint_line(&self.screen.hints(), &self.keymap, &self.theme);
        frame.render_widget(
            Paragraph::new(text).style(self.theme.style(Slot::Dim)),
            hints,
        );
        if let Some(p) = &self.palette {
            p.draw(frame, areas.above, &self.palette_entries(), &self.theme);
        }
        if let Some(scroll) = self.help {
            self.help_box().draw(frame, areas.above, scroll);
        }
    }
}
