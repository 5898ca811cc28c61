//! The dashboard's run loop: the one task that owns the state. Engine items arrive over the
//! bounded channel and are applied as they come; the screen is redrawn only when something
//! changed, at most `fps` times a second, so a burst of events costs one draw. A key press is
//! drawn at once. `ratatui::init` installs a panic hook that restores the terminal, and
//! `restore` runs on every other way out.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::sync::mpsc;

use super::state::State;
use super::view;
use crate::client::Item;

/// Most items applied before the loop looks at keys and the clock again.
const MAX_BATCH: usize = 4096;

/// Runs until `q`, Ctrl-C, or the engine stopping. Returns the final state.
pub async fn run(
    mut state: State,
    mut items: mpsc::Receiver<Item>,
    fps: u32,
) -> std::io::Result<State> {
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut state, &mut items, fps).await;
    ratatui::restore();
    result.map(|()| state)
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    items: &mut mpsc::Receiver<Item>,
    fps: u32,
) -> std::io::Result<()> {
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
                    dirty = true;
                    last_draw = None; // draw the key's effect at once
                }
                Some(Ok(Event::Resize(..))) => {
                    dirty = true;
                    last_draw = None;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = clock.tick() => dirty = true,
        }
    }
    Ok(())
}
