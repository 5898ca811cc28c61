//! The dashboard's run loop: the one task that owns the state. Engine items arrive over the
//! bounded channel and are applied as they come; the screen is redrawn only when something
//! changed, at most `fps` times a second, so a burst of events costs one draw. A key press is
//! drawn at once. `ratatui::init` installs a panic hook that restores the terminal, and
//! `restore` runs on every other way out.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::crossterm::event::{
    Event, EventStream, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use super::state::{Focus, State};
use super::view;
use crate::client::Item;

/// Most items applied before the loop looks at keys and the clock again.
const MAX_BATCH: usize = 4096;

/// What the dashboard can send on the user's behalf (`t`): through the REST API when the
/// secret is known, and client events through the live connection.
#[derive(Clone, Default)]
pub struct Senders {
    pub rest: Option<crate::publish::RestClient>,
    pub client: Option<crate::client::Client>,
}

/// Runs until `q` or Ctrl-C. Returns the final state.
pub async fn run(
    mut state: State,
    mut items: mpsc::Receiver<Item>,
    fps: u32,
    mouse: bool,
    senders: Senders,
) -> std::io::Result<State> {
    let mut terminal = ratatui::init();
    let capture = mouse.then(MouseCapture::enable).transpose();
    let result = match capture {
        Ok(_capture) => event_loop(&mut terminal, &mut state, &mut items, fps, senders).await,
        Err(e) => Err(e),
    };
    ratatui::restore();
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
    items: &mut mpsc::Receiver<Item>,
    fps: u32,
    senders: Senders,
) -> std::io::Result<()> {
    // Results of triggers sent from the form come back here, for the log.
    let (done_tx, mut done_rx) = mpsc::channel::<String>(16);
    let frame_time = Duration::from_secs(1) / fps.clamp(1, 240);
    let mut keys = EventStream::new();
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    // Ages, rates and countdowns move with the clock: redraw once a second even when idle.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut engine_open = true;
    while !state.quit {
        let now = Instant::now();
        let due = last_draw.map_or(now, |t| t + frame_time);
        if dirty && now >= due {
            terminal.draw(|f| view::draw(f, state, now))?;
            last_draw = Some(now);
            dirty = false;
        }
        let wake = if dirty {
            due.max(now)
        } else {
            now + Duration::from_secs(3600)
        };
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
                    last_draw = None; // draw the key's effect at once
                }
                Some(Ok(Event::Mouse(m))) => {
                    if let Ok(size) = terminal.size() {
                        on_mouse(state, m, Rect::new(0, 0, size.width, size.height));
                        dirty = true;
                        last_draw = None;
                    }
                }
                Some(Ok(Event::Resize(..))) => {
                    dirty = true;
                    last_draw = None;
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
