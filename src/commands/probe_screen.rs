//! `probe`'s screen on the terminal: the kit's probe screen, fed the probe's reports on a
//! bounded queue. `q`, Ctrl-C or a signal (SIGINT, SIGTERM, SIGHUP) ends the screen, and
//! with it the probe (its queue closes); the probe's end (`--for`) closes the screen. Either
//! way the terminal is restored before the summary and the verdict are printed.

use std::io;
use std::time::Instant;

use tokio::sync::oneshot;

use crate::cli::plan::ProbePlan;
use observe::probe::report::Report;
use tui::kit::{App, RunOptions, Theme};
use tui::probe::Probe;

/// Most frames in any one second.
const FPS: u32 = 10;

/// Shows `reports` until the screen is quit or `closed` fires.
pub(super) async fn show(
    plan: &ProbePlan,
    reports: bounded::Receiver<Report>,
    closed: oneshot::Receiver<()>,
) -> io::Result<()> {
    // Installed before the terminal is set up: a signal from here on ends it cleanly.
    let signals = crate::signals::Signals::with_hangup();
    let stop = async move {
        tokio::select! {
            _ = signals.wait() => {}
            _ = closed => {}
        }
    };
    let screen = Probe::new(
        plan.channel.clone(),
        plan.pace.interval,
        plan.pace.window,
        Instant::now(),
    );
    let app = App::new(screen, plan.keys.keymap(), Theme::new(plan.color, false));
    let options = RunOptions {
        fps: FPS,
        mouse: false,
        timeout: None,
    };
    tui::kit::run(app, reports, stop, options).await.map(|_| ())
}
