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
use tokio::sync::mpsc;

use super::pacing::{Pacer, Stats};
use super::state::{Focus, State};
use super::view;
use crate::client::FeedRx;

/// Most items applied before the loop looks at keys and the clock again.
const MAX_BATCH: usize = 4096;

/// What the dashboard can send on the user's behalf (`t`): through the REST API when the
/// secret is known, and client events through the live connection.
#[derive(Clone, Default)]
pub struct Senders {
    pub rest: Option<crate::publish::RestClient>,
    pub client: Option<crate::client::Client>,
}

/// How the loop runs and when it ends, besides `q`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Most frames in any one second.
    pub fps: u32,
    pub mouse: bool,
    /// End after this many application events (`--count`).
    pub stop_after: Option<u64>,
    /// End after this long (`--timeout`).
    pub timeout: Option<Duration>,
    /// Write frame and key timings here at the end (`--stats`).
    pub stats: Option<std::path::PathBuf>,
}

/// Runs until `q`, Ctrl-C, `--count` or `--timeout`. Returns the final state.
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
    // Results of triggers sent from the form come back here, for the log.
    let (done_tx, mut done_rx) = mpsc::channel::<String>(16);
    let mut pacer = Pacer::new(options.fps);
    let mut keys = EventStream::new();
    let mut dirty = true;
    // A key press or a resize: draw as soon as the cap allows, not a frame later.
    let mut urgent = true;
    // Ages, rates and countdowns move with the clock: redraw once a second even when idle.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let mut engine_open = true;
    while !state.quit {
        if options.stop_after.is_some_and(|n| state.status.total >= n)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let now = Instant::now();
        let due = pacer.due(now, urgent);
        if dirty && now >= due {
            terminal.draw(|f| view::draw(f, state, now))?;
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
            item = items.recv(), if engine_open => match item {
                Some(item) => {
                    state.apply(item, Instant::now());
                    let mut n = 1;
                    while n < MAX_BATCH {
                        match items.try_recv() {
                            Ok(item) => state.apply(item, Instant::now()),
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
                    state.key(&k);
                    if let Some(request) = state.trigger_requested.take() {
                        let (senders, done) = (senders.clone(), done_tx.clone());
                        tokio::spawn(async move {
                            let said = super::form::perform(request, senders.rest.as_ref(), senders.client.as_ref()).await;
                            let _ = done.send(said).await;
                        });
                    }
                    if std::mem::take(&mut state.export_requested) {
                        let now = Instant::now();
                        match super::export::write(state, std::path::Path::new("."), std::time::SystemTime::now()) {
                            Ok((path, n)) => state.note("exported", format!("{n} lines to {}", path.display()), now),
                            Err(e) => state.note("export failed", e.to_string(), now),
                        }
                    }
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
                Some(Ok(Event::Resize(..))) => {
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            Some(said) = done_rx.recv() => {
                state.note("trigger", said, Instant::now());
                dirty = true;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = clock.tick() => dirty = true,
        }
    }
    Ok(())
}
