//! `probe`'s screen on the terminal. The kit's event loop runs it in a task of its own while
//! the probe's loop goes on and hands it reports (see `screen_shim.rs`); each ends the
//! other: `q`, Ctrl-C or a signal (SIGINT, SIGTERM, SIGHUP) ends the screen, and with it the
//! probe; the probe's end (`--for`) closes the screen. Either way the terminal is restored
//! before the summary and the verdict are printed.

use std::io;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use observe::probe::report::Report;
use tui::keys::KeyTable;
use tui::kit::{App, Ended, RunOptions, Theme};
use tui::probe::Probe;

/// Most frames in any one second.
const FPS: u32 = 10;

/// The screen, running.
pub(super) struct Shown {
    task: JoinHandle<io::Result<Ended<Probe>>>,
    close: Option<oneshot::Sender<()>>,
    /// How the task ended, once it did.
    ended: Option<io::Result<()>>,
}

fn outcome(joined: Result<io::Result<Ended<Probe>>, tokio::task::JoinError>) -> io::Result<()> {
    match joined {
        Ok(ran) => ran.map(|_| ()),
        Err(e) => Err(io::Error::other(e)),
    }
}

impl Shown {
    /// Puts `screen` on the terminal, with the config file's `keys`, fed `reports`.
    pub(super) fn start(
        screen: Probe,
        keys: &KeyTable,
        color: bool,
        reports: bounded::Receiver<Report>,
    ) -> Shown {
        // Installed before the terminal is set up: a signal from here on ends it cleanly.
        let signals = crate::signals::Signals::with_hangup();
        let (close, closed) = oneshot::channel::<()>();
        let stop = async move {
            tokio::select! {
                _ = signals.wait() => {}
                _ = closed => {}
            }
        };
        let app = App::new(screen, keys.keymap(), Theme::new(color, false));
        let options = RunOptions {
            fps: FPS,
            mouse: false,
            timeout: None,
        };
        Shown {
            task: tokio::spawn(tui::kit::run(app, reports, stop, options)),
            close: Some(close),
            ended: None,
        }
    }

    /// Closes the screen, if it is still there, and waits until the terminal is restored;
    /// how it went.
    pub(super) async fn stop(mut self) -> io::Result<()> {
        drop(self.close.take());
        match self.ended.take() {
            Some(ended) => ended,
            None => outcome(self.task.await),
        }
    }
}

/// Resolves when the screen ended by itself (`q`, a signal, an error); never, without one.
pub(super) async fn ended(shown: &mut Option<Shown>) {
    match shown {
        Some(s) if s.ended.is_none() => {
            let joined = (&mut s.task).await;
            s.ended = Some(outcome(joined));
        }
        _ => std::future::pending().await,
    }
}
