//! The dashboard's run loop: the one task that owns the state. Engine items arrive over the
//! bounded channel and are applied as they come; the screen is redrawn only when something
//! changed, at most `fps` times in any second, so a burst of events costs one draw. A key
//! press is drawn at once, unless the screen is already redrawing at the cap. `ratatui::init` installs a panic hook that restores the terminal, and
//! `restore` runs on every other way out.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::crossterm::event::{
    Event, EventStream, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::effects::{Effect, Ran, Runner};
use super::pacing::{Pacer, Stats};
use super::state::{Focus, State};
use super::view;
use client::FeedRx;

/// Most items applied before the loop looks at keys and the clock again.
const MAX_BATCH: usize = 4096;

pub use super::effects::Senders;

/// How the loop runs and when it ends, besides `q`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Most frames in any one second.
    pub fps: u32,
    pub mouse: bool,
    /// End after this long (`--timeout`).
    pub timeout: Option<Duration>,
    /// Write frame and key timings here at the end (`--stats`).
    pub stats: Option<std::path::PathBuf>,
}

/// Runs until `q`, Ctrl-C, `--count` or `--timeout`. Returns the final state, which tells
/// how the run ended ([`State::ended_refused`]: the connection was refused and stayed down).
pub async fn run(
    mut state: State,
    mut items: FeedRx,
    options: RunOptions,
    senders: Senders,
) -> std::io::Result<State> {
    let mut stats = Stats::new(options.fps, Instant::now());
    let mut terminal = ratatui::init();
    let capture = options.mouse.then(MouseCapture::enable).transpose();
    let result = match capture {
        Ok(_capture) => {
            event_loop(
                &mut terminal,
                &mut state,
                &mut items,
                &options,
                &mut stats,
                senders,
            )
            .await
        }
        Err(e) => Err(e),
    };
    ratatui::restore();
    if let Some(path) = &options.stats {
        let report = stats.report(
            Instant::now(),
            state.status.total,
            state.status.dropped,
            super::pacing::cpu_time(),
        );
        std::fs::write(path, format!("{report}\n"))?;
    }
    result.map(|()| state)
}

/// Mouse capture, undone on drop and, through a panic hook, on panic (ratatui's own restore
/// does not touch the mouse).
struct MouseCapture;

impl MouseCapture {
    fn enable() -> std::io::Result<MouseCapture> {
        use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
        use ratatui::crossterm::execute;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            previous(info);
        }));
        execute!(std::io::stdout(), EnableMouseCapture)?;
        Ok(MouseCapture)
    }
}

impl Drop for MouseCapture {
    fn drop(&mut self) {
        use ratatui::crossterm::event::DisableMouseCapture;
        let _ = ratatui::crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    }
}

/// Turns a mouse event into a wheel turn or a click on the pane under it.
pub fn on_mouse(state: &mut State, m: MouseEvent, size: Rect) {
    let [_, ticker, log, _] = view::layout(size);
    let (_, ticker) = super::alerts::split(&state.alerts, ticker, Instant::now());
    let (_, ticker) = super::connection::split(state.refused(), ticker);
    let inside = |r: Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    let pane = if inside(ticker) {
        Focus::Ticker
    } else if inside(log) {
        Focus::Log
    } else {
        return;
    };
    match m.kind {
        MouseEventKind::ScrollDown => state.wheel(pane, 3),
        MouseEventKind::ScrollUp => state.wheel(pane, -3),
        MouseEventKind::Down(MouseButton::Left) => {
            // Below the border and the header row.
            let row = (pane == Focus::Ticker && m.row >= ticker.y + 2)
                .then(|| (m.row - ticker.y - 2) as usize);
            state.click(pane, row);
        }
        _ => {}
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    items: &mut FeedRx,
    options: &RunOptions,
    stats: &mut Stats,
    senders: Senders,
) -> std::io::Result<()> {
    // Effects run here; what they come to goes back to the state.
    let (runner, mut done_rx) = Runner::new(senders, std::path::PathBuf::from("."));
    let mut quit = false;
    let run = |state: &mut State, effect: Option<Effect>| {
        if let Some(effect) = effect {
            match runner.run(effect) {
                Ran::Quit => return true,
                Ran::Done(done) => state.done(done, Instant::now()),
                Ran::Later => {}
            }
        }
        false
    };
    let mut pacer = Pacer::new(options.fps);
    let mut keys = EventStream::new();
    let mut dirty = true;
    // A key press or a resize: draw as soon as the cap allows, not a frame later.
    let mut urgent = true;
    // Ages, rates and countdowns move with the clock: redraw once a second even when idle.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let mut engine_open = true;
    while !quit {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let now = Instant::now();
        let due = pacer.due(now, urgent);
        if dirty && now >= due {
            terminal.draw(|f| view::draw(f, state, now))?;
            if state.alerts.take_bell() {
                use std::io::Write;
                let _ = std::io::stdout()
                    .write_all(b"\x07")
                    .and_then(|()| std::io::stdout().flush());
            }
            pacer.drew(now);
            stats.drawn(now, Instant::now());
            dirty = false;
            urgent = false;
        }
        let wake = if dirty {
            due.max(now)
        } else {
            now + Duration::from_secs(3600)
        };
        let wake = deadline.map_or(wake, |d| wake.min(d));
        tokio::select! {
            item = items.recv_tagged(), if engine_open => match item {
                Some((conn, item)) => {
                    let effect = state.apply_from(conn, item, Instant::now());
                    quit |= run(state, effect);
                    let mut n = 1;
                    while n < MAX_BATCH && !quit {
                        match items.try_recv_tagged() {
                            Ok((conn, item)) => {
                                let effect = state.apply_from(conn, item, Instant::now());
                                quit |= run(state, effect);
                            }
                            Err(_) => break,
                        }
                        n += 1;
                    }
                    dirty = true;
                }
                None => engine_open = false,
            },
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    stats.key(Instant::now());
                    let effect = state.key(&k);
                    if let Ok(size) = terminal.size() {
                        state.fit(Rect::new(0, 0, size.width, size.height));
                    }
                    quit |= run(state, effect);
                    dirty = true;
                    urgent = true; // draw the key's effect at once
                }
                Some(Ok(Event::Mouse(m))) => {
                    if let Ok(size) = terminal.size() {
                        on_mouse(state, m, Rect::new(0, 0, size.width, size.height));
                        dirty = true;
                        urgent = true;
                    }
                }
                Some(Ok(Event::Resize(width, height))) => {
                    state.fit(Rect::new(0, 0, width, height));
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            Some(done) = done_rx.recv() => {
                state.done(done, Instant::now());
                dirty = true;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = clock.tick() => {
                state.alerts.tick(Instant::now());
                dirty = true;
            }
        }
    }
    Ok(())
}
