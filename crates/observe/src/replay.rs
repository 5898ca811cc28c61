//! Replaying a recording (`tickertape replay FILE`): its lines read back as items and sent
//! into a feed of the pipeline at their recorded pace, faster, as fast as possible, or from a
//! point. A damaged file is replayed up to the damage, which is returned. Memory never holds
//! more than one bounded line.

use std::io::BufRead;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::recording::{Damage, parse_tagged_line};
use client::{Conn, FeedTx, Item, Labels, MAX_CONNECTIONS};

/// Where a replay starts: an offset from the recording's first line, or a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Offset(Duration),
    Time(SystemTime),
}

/// The longest line a recording may have: an event of the largest message the client takes
/// (`--max-message`, 1 MiB by default), with every character escaped, fits many times over.
const MAX_LINE: u64 = 16 << 20;

/// The next line, without its newline; `None` at the end. A line longer than [`MAX_LINE`] or
/// not UTF-8 is damage: memory never holds more than one bounded line.
fn read_line<'a>(
    reader: &mut impl BufRead,
    buf: &'a mut Vec<u8>,
) -> Result<Option<&'a str>, String> {
    use std::io::Read;
    buf.clear();
    let read = reader
        .by_ref()
        .take(MAX_LINE + 1)
        .read_until(b'\n', buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if read == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if read as u64 > MAX_LINE {
        return Err(format!("a line is longer than {} MiB", MAX_LINE >> 20));
    }
    std::str::from_utf8(buf)
        .map(Some)
        .map_err(|_| "a line is not UTF-8".to_owned())
}

/// The labels of the connections in a recording made with several, in the order they first
/// appear (at most [`MAX_CONNECTIONS`]; later ones replay under "?"). Damage is left for the
/// replay itself to report, at its line.
pub fn labels_of(path: &std::path::Path) -> anyhow::Result<Labels> {
    #[derive(serde::Deserialize)]
    struct Tagged {
        connection: Option<String>,
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut buf = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    while let Ok(Some(line)) = read_line(&mut reader, &mut buf) {
        if !line.contains("\"connection\"") {
            continue;
        }
        if let Ok(Tagged {
            connection: Some(label),
        }) = serde_json::from_str(line)
            && !labels.contains(&label)
            && labels.len() < MAX_CONNECTIONS
        {
            labels.push(label);
        }
    }
    Ok(Labels::new(labels))
}

/// Reads the recording and sends its items at their pace (`speed` times real time; infinite
/// for as fast as possible), tagged with the index of their label in `labels`, until the
/// feed's reader is gone or `cancel` is dropped (which also ends a wait for the next event).
/// On a blocking thread. Returns the damage, if any.
pub fn feed(
    reader: impl BufRead,
    speed: f64,
    from: Option<Start>,
    (tx, labels): (&FeedTx, &Labels),
    cancel: &std::sync::mpsc::Receiver<()>,
) -> Option<Damage> {
    let mut start: Option<(SystemTime, Instant)> = None;
    let mut from_time: Option<SystemTime> = None;
    let mut reader = reader;
    let mut buf = Vec::new();
    for n in 0.. {
        let damage = |reason: String| Damage {
            line: n + 1,
            reason,
        };
        let line = match read_line(&mut reader, &mut buf) {
            Ok(None) => break,
            Ok(Some(l)) => l,
            Err(reason) => return Some(damage(reason)),
        };
        if line.trim().is_empty() {
            continue;
        }
        let (time, item, conn) = match parse_tagged_line(line) {
            Ok(Some((time, item, label))) => {
                let conn = label.map_or(0, |l| labels.index(&l).unwrap_or(Conn::MAX));
                (time, item, conn)
            }
            Ok(None) => continue,
            Err(reason) => {
                let d = damage(reason);
                let _ = tx.blocking_send(Item::Error(format!("the recording is damaged at {d}")));
                return Some(d);
            }
        };
        let first = *start.get_or_insert((time, Instant::now()));
        if from_time.is_none()
            && let Some(f) = from
        {
            from_time = Some(match f {
                // Past the end of time: nothing is replayed, and nothing overflows.
                Start::Offset(offset) => first
                    .0
                    .checked_add(offset)
                    .unwrap_or(first.0 + Duration::from_secs(u32::MAX.into())),
                Start::Time(t) => t,
            });
        }
        let is_event = matches!(item, Item::Event(_));
        if is_event && from_time.is_some_and(|f| time < f) {
            continue; // before the starting point: states still apply, events are skipped
        }
        if speed.is_finite() && is_event {
            let base = from_time.map_or(first.0, |f| f.max(first.0));
            let offset = time.duration_since(base).unwrap_or(Duration::ZERO);
            let Some(due) = Duration::try_from_secs_f64(offset.as_secs_f64() / speed)
                .ok()
                .and_then(|d| first.1.checked_add(d))
            else {
                let d = damage("its time is out of range".into());
                let _ = tx.blocking_send(Item::Error(format!("the recording is damaged at {d}")));
                return Some(d);
            };
            if let Some(wait) = due.checked_duration_since(Instant::now())
                && !matches!(cancel.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
            {
                return None; // the front end ended while this event was not yet due
            }
        }
        if tx.tagged(conn).blocking_send(item).is_err() {
            return None; // the front end ended (q, closed stdout)
        }
    }
    None
}
