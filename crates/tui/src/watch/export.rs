//! `e`: the log as shown (filter applied) written to an NDJSON file in the schema of
//! `watch --json` (with several connections, each line names its `connection`). The screen
//! makes the records (no I/O); a task of the event loop writes them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::connections::Connections;
use super::line::LogLine;
use observe::output::ndjson::{rfc3339_millis, write_line};

/// The records for these lines: events only, not tickertape's own notes.
pub fn records<'a>(
    lines: impl Iterator<Item = &'a LogLine>,
    connections: &Connections,
) -> Vec<Value> {
    lines
        .filter_map(|line| {
            let ev = line.received()?;
            let mut v = json!({
                "time": rfc3339_millis(line.time),
                "channel": ev.channel.as_deref().unwrap_or("-"),
                "event": ev.event,
                "data": ev.data().to_value(),
            });
            if let Some(label) = connections.label(line.conn) {
                v["connection"] = json!(label);
            }
            if let Some(ms) = line.latency_ms() {
                v["latency_ms"] = json!(ms);
            }
            Some(v)
        })
        .collect()
}

/// Writes the records to a new file in `dir`. Returns its path and the number of lines.
pub fn write(records: &[Value], dir: &Path, now: SystemTime) -> std::io::Result<(PathBuf, usize)> {
    let stamp: String = rfc3339_millis(now)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let path = dir.join(format!("tickertape-export-{stamp}.ndjson"));
    let mut out = std::io::BufWriter::new(std::fs::File::create_new(&path)?);
    for v in records {
        write_line(&mut out, v)?;
    }
    out.flush()?;
    Ok((path, records.len()))
}
