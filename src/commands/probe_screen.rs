//! `probe`'s dashboard on the terminal: the alternate screen (`ratatui::try_init`, whose panic
//! hook restores the terminal; `stop` restores it on every other way out), the keys, and
//! when to draw. The probe's loop owns the [`Screen`] and asks [`Ui::next`] what happened
//! on the terminal; a frame is drawn only when the screen changed, paced by the dashboard's
//! [`Pacer`] (at most [`FPS`] a second, a key at once), and once a second for the clock.

use std::io;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};

use observe::probe::state::Probe;
use tui::dashboard::pacing::Pacer;
use tui::probe::screen::{Action, Screen};
use tui::probe::view;

/// Most frames in any one second.
pub(super) const FPS: u32 = 10;

/// What happened on the terminal.
pub(super) enum Wake {
    Key(KeyEvent),
    Resize,
    /// A second passed.
    Clock,
    /// A frame held back by the pacer may be drawn now.
    Due,
    Nothing,
}

pub(super) struct Ui {
    terminal: ratatui::DefaultTerminal,
    keys: EventStream,
    /// The terminal's input is still there.
    keys_open: bool,
    pacer: Pacer,
    clock: tokio::time::Interval,
    /// A frame waits for the pacer until then.
    due: Option<Instant>,
    /// A key or a resize: draw as soon as the cap allows.
    urgent: bool,
}

impl Ui {
    pub(super) fn start() -> io::Result<Ui> {
        let terminal = ratatui::try_init().inspect_err(|_| ratatui::restore())?;
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(Ui {
            terminal,
            keys: EventStream::new(),
            keys_open: true,
            pacer: Pacer::new(FPS),
            clock,
            due: None,
            urgent: true,
        })
    }

    /// Leaves the alternate screen: the terminal is as it was.
    pub(super) fn stop(self) {
        drop(self.keys);
        ratatui::restore();
    }

    /// The next thing on the terminal: a key, a resize, the clock, or a frame now due.
    pub(super) async fn next(&mut self) -> io::Result<Wake> {
        let due = self.due;
        tokio::select! {
            ev = self.keys.next(), if self.keys_open => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Ok(Wake::Key(k)),
                Some(Ok(Event::Resize(..))) => Ok(Wake::Resize),
                Some(Ok(_)) => Ok(Wake::Nothing),
                Some(Err(e)) => Err(e),
                None => {
                    self.keys_open = false;
                    Ok(Wake::Nothing)
                }
            },
            _ = self.clock.tick() => Ok(Wake::Clock),
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into()), if due.is_some() => {
                Ok(Wake::Due)
            }
        }
    }

    /// Applies what happened to the screen; whether to quit.
    pub(super) fn apply(&mut self, wake: Wake, screen: &mut Screen) -> Action {
        match wake {
            Wake::Key(k) => {
                self.urgent = true;
                return screen.key(&k);
            }
            Wake::Resize => {
                self.urgent = true;
                screen.tick();
            }
            Wake::Clock => screen.tick(),
            Wake::Due | Wake::Nothing => {}
        }
        Action::None
    }

    /// Draws the screen if it changed and the pacer allows; else remembers when it may.
    pub(super) fn frame(&mut self, screen: &mut Screen, probe: &Probe) -> io::Result<()> {
        if !screen.dirty() {
            self.due = None;
            return Ok(());
        }
        let now = Instant::now();
        let due = self.pacer.due(now, self.urgent);
        if now < due {
            self.due = Some(due);
            return Ok(());
        }
        screen.sync(probe);
        self.terminal.draw(|f| view::draw(f, screen, now))?;
        self.pacer.drew(now);
        screen.drawn();
        self.urgent = false;
        self.due = None;
        Ok(())
    }
}

/// The terminal's next happening; never, without a screen.
pub(super) async fn next(ui: &mut Option<Ui>) -> io::Result<Wake> {
    match ui {
        Some(ui) => ui.next().await,
        None => std::future::pending().await,
    }
}
