//! The event loop, one for every screen. It owns the terminal and the [`App`]: the screen's
//! inputs arrive over a bounded queue and are applied as they come; keys, the mouse and
//! resizes come from the terminal; effects run here and their results go back to the
//! screen; a clock ticks every second. The screen is redrawn only when something changed,
//! at most `fps` times in any second, so a burst of inputs costs one draw; a key press is
//! drawn at once, unless the screen is already redrawing at the cap.
//!
//! It ends on `q` or Ctrl-C (the screen's quit), `--timeout`, the end of the terminal's
//! input, an error, or the `stop` future the binary hands it (SIGINT, SIGTERM and SIGHUP).
//! Each way, the terminal is restored before [`run`] returns.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::layout::Rect;

use super::pacing::{Pacer, Stats};
use super::screen::{App, Effect, Screen};
use super::terminal::Terminal;

/// Most inputs applied before the loop looks at keys and the clock again.
const MAX_BATCH: usize = 4096;

/// Most effects running at once; past it, an effect's `busy` answer is given at once.
pub const MAX_TASKS: usize = 16;

/// How the loop runs and when it ends, besides the screen's own quit.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Most frames in any one second.
    pub fps: u32,
    pub mouse: bool,
    /// End after this long (`--timeout`).
    pub timeout: Option<Duration>,
}

/// How a run ended: the app as it was (what it shows tells the exit status), and the loop's
/// timings (`--stats`).
pub struct Ended<S: Screen> {
    pub app: App<S>,
    pub stats: Stats,
}

type Running<D> = FuturesUnordered<Pin<Box<dyn Future<Output = D> + Send>>>;

/// Runs `app` on the terminal until it quits, `stop` resolves, or the time is up.
pub async fn run<S: Screen>(
    app: App<S>,
    inputs: bounded::Receiver<S::Input>,
    stop: impl Future,
    options: RunOptions,
) -> std::io::Result<Ended<S>> {
    let mut stats = Stats::new(options.fps, Instant::now());
    let mut app = app;
    let mut terminal = Terminal::enter(options.mouse)?;
    let result = event_loop(&mut terminal, &mut app, inputs, stop, &options, &mut stats).await;
    drop(terminal);
    result.map(|()| Ended { app, stats })
}

/// Hands an effect to the loop; true when it quits.
fn start<S: Screen>(
    app: &mut App<S>,
    running: &mut Running<S::Done>,
    effect: Option<Effect<S::Done>>,
) -> bool {
    match effect {
        None => false,
        Some(Effect::Quit) => true,
        Some(Effect::Task(task)) => {
            let (future, busy) = task.split();
            if running.len() >= MAX_TASKS {
                app.done(busy, Instant::now());
            } else {
                running.push(future);
            }
            false
        }
    }
}

async fn event_loop<S: Screen>(
    terminal: &mut Terminal,
    app: &mut App<S>,
    mut inputs: bounded::Receiver<S::Input>,
    stop: impl Future,
    options: &RunOptions,
    stats: &mut Stats,
) -> std::io::Result<()> {
    let mut running: Running<S::Done> = FuturesUnordered::new();
    let mut pacer = Pacer::new(options.fps);
    let mut keys = EventStream::new();
    let mut batch = Vec::new();
    let mut dirty = true;
    // A key press or a resize: draw as soon as the cap allows, not a frame later.
    let mut urgent = true;
    // Ages, rates and countdowns move with the clock: redraw once a second even when idle.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let mut inputs_open = true;
    let size = |terminal: &Terminal| terminal.size().map(|s| Rect::new(0, 0, s.width, s.height));
    tokio::pin!(stop);
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
        let now = Instant::now();
        let due = pacer.due(now, urgent);
        if dirty && now >= due {
            // The screen's spread-out work, a slice per frame: more left draws again.
            let more = app.work(now);
            terminal.draw(|f| app.draw(f, now))?;
            if app.screen.take_bell() {
                terminal.bell();
            }
            pacer.drew(now);
            stats.drawn(now, Instant::now());
            dirty = more;
            urgent = false;
        }
        let wake = if dirty {
            due.max(now)
        } else {
            now + Duration::from_secs(3600)
        };
        let wake = deadline.map_or(wake, |d| wake.min(d));
        let mut quit = false;
        tokio::select! {
            n = inputs.recv_many(&mut batch, MAX_BATCH), if inputs_open => {
                if n == 0 {
                    inputs_open = false;
                }
                for input in batch.drain(..) {
                    let effect = app.apply(input, Instant::now());
                    if start(app, &mut running, effect) {
                        quit = true;
                        break;
                    }
                }
                batch.clear();
                dirty = true;
            }
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    stats.key(Instant::now());
                    let effect = app.key(&k, Instant::now());
                    if let Ok(area) = size(terminal) {
                        app.fit(area);
                    }
                    quit = start(app, &mut running, effect);
                    if let Some(text) = app.screen.take_clipboard() {
                        terminal.clipboard(&text);
                    }
                    dirty = true;
                    urgent = true; // draw the key's effect at once
                }
                // Bracketed paste: text for the field being typed into, never keys.
                Some(Ok(Event::Paste(text))) => {
                    stats.key(Instant::now());
                    app.paste(&text, Instant::now());
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(Event::Mouse(m))) => {
                    if let Ok(area) = size(terminal) {
                        app.mouse(m, area);
                        dirty = true;
                        urgent = true;
                    }
                }
                Some(Ok(Event::Resize(width, height))) => {
                    app.fit(Rect::new(0, 0, width, height));
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                // The terminal's input is gone: nobody is left to press q.
                None => return Ok(()),
            },
            Some(done) = running.next(), if !running.is_empty() => {
                app.done(done, Instant::now());
                dirty = true;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = clock.tick() => {
                app.tick(Instant::now());
                dirty = true;
            }
            _ = &mut stop => return Ok(()),
        }
        if quit {
            return Ok(());
        }
    }
}
