//! `serve`'s Debug Console: the kit's console screen, fed on one bounded queue by two
//! sources. The server's log, started as NDJSON into [`LogTap`] (on the log's own writer
//! thread, behind its bounded queue, its per-kind caps and its "did you mean" budget), whose
//! lines become the console's entries; and a copy of the hub every second, bounded in
//! channels and members, which becomes its snapshot. The screen never touches the hub: a
//! frame costs the server nothing. A full queue drops what does not fit, and the log pane
//! says how many entries it dropped.
//!
//! `q`, Ctrl-C or a signal (SIGINT, SIGTERM, SIGHUP) ends the screen, restores the terminal
//! and stops the server.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bounded::{Limits, Overflow};
use serde_json::Value;

use crate::cli::plan::ConsolePlan;
use client::publish::RestClient;
use protocol::Secret;
use tui::console::{Backend, ChannelRow, Console, Entry, Input, Members, Snapshot};
use tui::kit::{App, RunOptions, Theme};

/// Most frames in any one second.
const FPS: u32 = 10;
/// The console's queue: entries and snapshots waiting for the screen.
const QUEUE: Limits = Limits::new(20_000, 16 << 20);
/// Channels and members copied from the hub per snapshot.
const SNAPSHOT_CHANNELS: usize = tui::console::CHANNELS_SHOWN;
const SNAPSHOT_MEMBERS: usize = 200;
/// How often the hub is copied.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);
/// Longest log line the tap reads; a longer one is dropped.
const MAX_LINE: usize = 256 * 1024;

/// The log's writer for the console: NDJSON lines in, entries out.
pub(super) struct LogTap {
    tx: bounded::Sender<Input>,
    partial: Vec<u8>,
}

impl LogTap {
    fn line(&self, line: &[u8]) {
        if let Some(entry) = entry(line) {
            // Full: dropped, and counted by the queue.
            let _ = self.tx.try_send(Input::Entry(entry));
        }
    }
}

impl io::Write for LogTap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.line(&rest[..i]);
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
            }
            rest = &rest[i + 1..];
        }
        if self.partial.len() + rest.len() <= MAX_LINE {
            self.partial.extend_from_slice(rest);
        } else {
            self.partial.clear();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One NDJSON log line as an entry: `time`, `kind`, `note`, and the rest as fields.
fn entry(line: &[u8]) -> Option<Entry> {
    let Value::Object(map) = serde_json::from_slice::<Value>(line).ok()? else {
        return None;
    };
    let mut kind = String::new();
    let mut note = None;
    let mut time = SystemTime::now();
    let mut fields = Vec::new();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("kind", Value::String(s)) => kind = s.replace('_', " ").to_uppercase(),
            ("note", Value::String(s)) => note = Some(s),
            ("time", Value::String(s)) => {
                if let Ok(t) = humantime::parse_rfc3339_weak(&s) {
                    time = t;
                }
            }
            (_, Value::Null) => {}
            (_, Value::String(s)) => fields.push((k, s)),
            (_, Value::Array(items)) => {
                let list: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect();
                if !list.is_empty() {
                    fields.push((k, list.join(", ")));
                }
            }
            (_, other) => fields.push((k, other.to_string())),
        }
    }
    let mut entry = Entry {
        time,
        kind,
        fields,
        note,
    };
    // The NDJSON log has the suggestions as a list; the console says them as the text log
    // does.
    if entry.note.is_none() && entry.to_nobody() {
        entry.note = Some(match entry.field("suggestions") {
            Some(names) if !names.is_empty() => {
                format!("NO SUBSCRIBERS: did you mean {names}?")
            }
            _ if entry.field("suggestions_skipped") == Some("true") => {
                "NO SUBSCRIBERS (no \"did you mean\": over the second's budget)".to_owned()
            }
            _ => "NO SUBSCRIBERS: no occupied channel has a similar name".to_owned(),
        });
    }
    Some(entry)
}

/// What the console asks of the server.
struct Link {
    focus: Mutex<Option<(String, String)>>,
    /// Each app's REST client, by id (the app's own credentials, on loopback).
    rest: Vec<(String, RestClient)>,
}

impl Backend for Link {
    fn focus(&self, channel: Option<(String, String)>) {
        *self.focus.lock().unwrap_or_else(|e| e.into_inner()) = channel;
    }

    fn trigger(
        &self,
        app: String,
        channel: String,
        event: String,
        data: String,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<String, String>> + Send>> {
        let rest = self
            .rest
            .iter()
            .find(|(id, _)| *id == app)
            .map(|(_, r)| r.clone());
        Box::pin(async move {
            let rest = rest.ok_or_else(|| format!("no app {app}"))?;
            match rest
                .trigger(std::slice::from_ref(&channel), &event, &data, None, None)
                .await
            {
                Ok(_) => Ok(format!("sent {event} to {channel}")),
                Err(e) => Err(format!("not sent: {e}")),
            }
        })
    }
}

/// The console's queue and the log writer that feeds it.
pub(super) fn queue() -> (bounded::Sender<Input>, bounded::Receiver<Input>, LogTap) {
    let (tx, rx) = bounded::queue(QUEUE, Overflow::DropNewest);
    let tap = LogTap {
        tx: tx.clone(),
        partial: Vec::new(),
    };
    (tx, rx, tap)
}

fn snapshot(s: server::Snapshot) -> Snapshot {
    Snapshot {
        connections: s.connections as u64,
        opened: s.opened,
        closed: s.closed,
        channels: s
            .channels
            .into_iter()
            .map(|c| ChannelRow {
                app: c.app,
                name: c.name,
                subscribers: c.subscribers as u64,
                members: c.members.map(|m| m as u64),
            })
            .collect(),
        channels_total: s.channels_total as u64,
        members: s.members.map(|m| Members {
            app: m.app,
            channel: m.channel,
            user_ids: m.user_ids,
            total: m.total as u64,
        }),
    }
}

/// An app's id, key and secret, for the console's triggers.
pub(super) type AppKeys = (String, String, Secret);

/// Shows the console until it is quit or `stop` resolves.
pub(super) async fn show(
    plan: ConsolePlan,
    running: &server::Running,
    apps: Vec<AppKeys>,
    tx: bounded::Sender<Input>,
    rx: bounded::Receiver<Input>,
    stop: impl Future,
) -> io::Result<()> {
    let mut addr = running.addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let rest = apps
        .into_iter()
        .map(|(id, key, secret)| {
            let client = RestClient::new(format!("http://{addr}"), &id, &key, secret);
            (id, client)
        })
        .collect();
    let link = Arc::new(Link {
        focus: Mutex::new(None),
        rest,
    });
    let peek = running.peek();
    let focus = link.clone();
    let copier = tokio::spawn(async move {
        let mut every = tokio::time::interval(SNAPSHOT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let asked = focus
                .focus
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let peek = peek.clone();
            // A copy takes the hub's lock once; off the runtime's workers.
            let snap = tokio::task::spawn_blocking(move || {
                peek.snapshot(
                    SNAPSHOT_CHANNELS,
                    asked.as_ref().map(|(a, c)| (a.as_str(), c.as_str())),
                    SNAPSHOT_MEMBERS,
                )
            })
            .await;
            if let Ok(snap) = snap {
                let _ = tx.try_send(Input::Snapshot(snapshot(snap)));
            }
        }
    });
    let serving = format!("ws://{}", running.addr);
    let screen = Console::new(serving, plan.readonly, link);
    let app = App::new(screen, plan.keys.keymap(), Theme::new(plan.color, false));
    let options = RunOptions {
        fps: FPS,
        mouse: false,
        timeout: None,
    };
    let shown = tui::kit::run(app, rx, stop, options).await.map(|_| ());
    copier.abort();
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_tap_turns_log_lines_into_entries_across_writes() {
        let (_tx, mut rx, mut tap) = queue();
        let line = br#"{"time":"2026-12-05T07:00:00Z","kind":"api_message","app":"1","channel":"nwes","event":"e","recipients":0,"no_subscribers":true,"suggestions":["news"]}"#;
        tap.write_all(&line[..20]).unwrap();
        tap.write_all(&line[20..]).unwrap();
        tap.write_all(b"\nnot json\n").unwrap();
        let Ok(Input::Entry(e)) = rx.try_recv() else {
            panic!("an entry");
        };
        assert_eq!(e.kind, "API MESSAGE");
        assert_eq!(e.channel(), Some("nwes"));
        assert!(e.to_nobody());
        assert_eq!(e.field("suggestions"), Some("news"));
        assert_eq!(
            e.note.as_deref(),
            Some("NO SUBSCRIBERS: did you mean news?")
        );
        let secs = e.time.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs % 86_400, 7 * 3600);
        assert!(
            rx.try_recv().is_err(),
            "a line that is not JSON is no entry"
        );
    }
}
