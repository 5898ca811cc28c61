//! The terminal, and the one place that sets it up: raw mode, the alternate screen, bracketed
//! paste (a paste arrives as text, so a line break in it is never Enter), mouse capture when
//! asked, and synchronized updates around each frame. [`Terminal::enter`]
//! returns a guard; whatever way the screen ends, the terminal is restored as it was:
//!
//! - a normal end, `q`, Ctrl-C (a key in raw mode) and an error: the guard is dropped;
//! - SIGTERM and SIGHUP: the binary hands the event loop a future that ends it on them, so
//!   the guard is dropped on the way out;
//! - a panic: a hook, installed once, restores it (mouse and paste included) before the message is
//!   printed, while a guard is alive.
//!
//! No other file in the workspace may set the terminal up (a test greps for it).

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::Size;

/// A guard is alive: the panic hook has something to restore.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The mouse is captured: the panic hook releases it too.
static MOUSE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal in raw mode on the alternate screen, restored on drop.
pub(crate) struct Terminal {
    terminal: ratatui::Terminal<CrosstermBackend<Stdout>>,
    mouse: bool,
}

/// Puts everything back, whatever is left to put back; errors are ignored (there is no one
/// left to tell, and each step must still be tried).
fn restore(mouse: bool) {
    let mut out = io::stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl Terminal {
    /// Raw mode, the alternate screen and, with `mouse`, mouse capture. On an error half way,
    /// what was done is undone.
    pub(crate) fn enter(mouse: bool) -> io::Result<Terminal> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if ACTIVE.swap(false, Ordering::SeqCst) {
                    restore(MOUSE.swap(false, Ordering::SeqCst));
                }
                previous(info);
            }));
        });
        ACTIVE.store(true, Ordering::SeqCst);
        MOUSE.store(mouse, Ordering::SeqCst);
        let setup = || -> io::Result<ratatui::Terminal<CrosstermBackend<Stdout>>> {
            enable_raw_mode()?;
            let mut out = io::stdout();
            execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
            if mouse {
                execute!(out, EnableMouseCapture)?;
            }
            ratatui::Terminal::new(CrosstermBackend::new(out))
        };
        match setup() {
            Ok(terminal) => Ok(Terminal { terminal, mouse }),
            Err(e) => {
                ACTIVE.store(false, Ordering::SeqCst);
                MOUSE.store(false, Ordering::SeqCst);
                restore(mouse);
                Err(e)
            }
        }
    }

    /// Draws a frame as one synchronized update: the terminal shows it whole or not at all.
    pub(crate) fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.terminal.draw(f).map(|_| ());
        let ended = execute!(self.terminal.backend_mut(), EndSynchronizedUpdate);
        drawn.and(ended)
    }

    pub(crate) fn size(&self) -> io::Result<Size> {
        self.terminal.size()
    }

    /// Sets the clipboard through OSC 52 (see `clipboard.rs` for the cap).
    pub(crate) fn clipboard(&mut self, text: &str) {
        let out = self.terminal.backend_mut();
        let sequence = super::clipboard::osc52(text);
        let _ = out
            .write_all(sequence.as_bytes())
            .and_then(|()| out.flush());
    }

    /// Rings the bell.
    pub(crate) fn bell(&mut self) {
        let out = self.terminal.backend_mut();
        let _ = out.write_all(b"\x07").and_then(|()| out.flush());
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::SeqCst);
        MOUSE.store(false, Ordering::SeqCst);
        restore(self.mouse);
    }
}
