//! `e`: the log as shown (filter applied) written to an NDJSON file in the schema of
//! `watch --json`. The state makes the records (no I/O); the effects runner writes them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::logview::LogLine;
use observe::output::ndjson::{rfc3339_millis, write_line};

/// The records for these lines: events only, not tickertape's own notes.
pub fn records<'a>(lines: impl Iterator<Item = &'a LogLine>) -> Vec<Value> {
    lines
        .filter(|l| !l.notice)
        .map(|line| {
            let data = line
                .data
                .clone()
                .unwrap_or_else(|| Value::String(line.text.clone()));
            let mut v = json!({ "time": rfc3339_millis(line.time), "channel": line.channel, "event": line.event, "data": data });
            if let Some(ms) = line.latency_ms {
                v["latency_ms"] = json!(ms);
            }
            v
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
