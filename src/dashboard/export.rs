//! `e`: the log as shown (filter applied) written to an NDJSON file in the schema of
//! `watch --json`. The state asks; the run loop calls this, so the state stays free of I/O.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::state::State;
use crate::output::ndjson::{rfc3339_millis, write_line};

/// Writes the visible log lines (events only, not tickertape's own notes) to a new file in
/// `dir`. Returns its path and the number of lines.
pub fn write(state: &State, dir: &Path, now: SystemTime) -> std::io::Result<(PathBuf, usize)> {
    let stamp: String = rfc3339_millis(now)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let path = dir.join(format!("tickertape-export-{stamp}.ndjson"));
    let mut out = std::io::BufWriter::new(std::fs::File::create_new(&path)?);
    let log = state.visible().1;
    let mut n = 0;
    for &p in &state.log_positions() {
        let line = &log[p];
        if line.notice {
            continue;
        }
        let data = line
            .data
            .clone()
            .unwrap_or_else(|| Value::String(line.text.clone()));
        let mut v = json!({ "time": rfc3339_millis(line.time), "channel": line.channel, "event": line.event, "data": data });
        if let Some(ms) = line.latency_ms {
            v["latency_ms"] = json!(ms);
        }
        write_line(&mut out, &v)?;
        n += 1;
    }
    out.flush()?;
    Ok((path, n))
}
