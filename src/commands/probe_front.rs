//! `probe`'s screen, fed by the probe's [`Report`]s on a bounded queue: lines and alerts for
//! its log and strip, and the figures of its rows.
// Until the TUI kit's probe screen reads the `bounded::Receiver<Report>` itself, with the
// kit's terminal guard and keymap: then this file goes, and `probe.rs` hands it `rx`.
// (`probe_screen.rs`'s loop drew from the probe's state, which the screen no longer sees.)

use std::io;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};

use crate::cli::plan::ProbePlan;
use observe::probe::report::Report;
use tui::dashboard::pacing::Pacer;
use tui::probe::screen::{Action, Screen};
use tui::probe::view;

/// Most frames in any one second.
const FPS: u32 = 10;

/// Shows the reports until `q` or Ctrl-C, or until the probe closes the queue; the terminal
/// is restored on every way out (and by ratatui's panic hook).
pub(super) async fn show(plan: &ProbePlan, reports: bounded::Receiver<Report>) -> io::Result<()> {
    let screen = Screen::new(
        plan.channel.clone(),
        plan.pace.interval,
        plan.pace.window,
        Instant::now(),
        plan.color,
    );
    let mut terminal = ratatui::try_init().inspect_err(|_| ratatui::restore())?;
    let result = drive(&mut terminal, screen, reports).await;
    ratatui::restore();
    result
}

async fn drive(
    terminal: &mut ratatui::DefaultTerminal,
    mut screen: Screen,
    mut reports: bounded::Receiver<Report>,
) -> io::Result<()> {
    let mut keys = EventStream::new();
    let mut pacer = Pacer::new(FPS);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A key or a resize: draw as soon as the cap allows.
    let mut urgent = true;
    let mut keys_open = true;
    loop {
        let now = Instant::now();
        let mut due = None;
        if screen.dirty() {
            let at = pacer.due(now, urgent);
            if now >= at {
                terminal.draw(|f| view::draw(f, &screen, now))?;
                pacer.drew(now);
                screen.drawn();
                urgent = false;
            } else {
                due = Some(at);
            }
        }
        tokio::select! {
            report = reports.recv() => {
                let Some(report) = report else { return Ok(()) };
                apply(&mut screen, report);
                while let Ok(report) = reports.try_recv() {
                    apply(&mut screen, report);
                }
            }
            ev = keys.next(), if keys_open => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    urgent = true;
                    if screen.key(&k) == Action::Quit {
                        return Ok(());
                    }
                }
                Some(Ok(Event::Resize(..))) => {
                    urgent = true;
                    screen.tick();
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                // No more input: the probe's end (or a signal) ends the screen.
                None => keys_open = false,
            },
            _ = clock.tick() => screen.tick(),
            () = tokio::time::sleep_until(due.unwrap_or(now).into()), if due.is_some() => {}
        }
    }
}

/// One report on the screen.
fn apply(screen: &mut Screen, report: Report) {
    let now = Instant::now();
    match report {
        Report::Line { kind, text } => screen.line(kind, &text, now),
        Report::Alert { alert, text } => screen.alert(&alert, &text, now),
        Report::Figures(f) => {
            screen.rows = f.rows;
            screen.presence = f.presence;
            screen.tick();
        }
    }
}
