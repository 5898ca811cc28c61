//! The watch screen: a live ticker table, a log pane and the events pane for a stream of
//! Pusher events, from a connection, a recording or a webhook receiver. Its state is split
//! three ways: the [`Model`] (what came), the UI ([`Controls`]: focus, selection, overlay),
//! and the [`Source`] (what the items come from).

use std::path::PathBuf;
use std::time::Instant;

use super::controls::{Controls, Focus};
use super::effects::{self, Done, Senders};
use super::form::Request;
use super::model::{Model, Options};
use super::ticker::Ticker;
use crate::kit::{Effect, Task};
use crate::widgets::log;
use client::Labels;
use observe::binding::Bindings;

/// What the items come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Live connections.
    Live,
    /// A recording (`replay`): its states are history, shown as such, and a refusal in it
    /// does not decide the exit status.
    Replay,
    /// Not a connection: what is received, and where (`webhooks on http://…`). No ticker
    /// (the counts by channel take its place) and nothing to trigger through.
    Receiving(String),
}

pub struct Watch {
    pub model: Model,
    pub ui: Controls,
    pub source: Source,
    /// A line kept in the key hints (the demo's page URL).
    pub banner: Option<String>,
    options: Options,
    senders: Senders,
    /// The connections, for subscribing and unsubscribing (kept read-only too: it
    /// writes nothing).
    pub(super) clients: Vec<client::Client>,
    /// Where exports go (the working directory).
    pub export_dir: PathBuf,
    /// Text for the clipboard, until the event loop takes it.
    pub(super) clipboard: Option<String>,
    /// The config file's views, and where to save them.
    pub views: super::saved::ViewStore,
    /// The view loaded last.
    pub current_view: Option<String>,
    /// Its expectations in force (those not already the command line's).
    pub(super) view_expect: Vec<String>,
}

impl Watch {
    pub fn new(options: Options, bindings: Bindings, source: Source, now: Instant) -> Watch {
        // Received webhooks have no ticker: the log has the keys.
        // Nothing bound: no ticker, the log has the focus.
        let focus = match source {
            Source::Receiving(_) => Focus::Log,
            _ if bindings.is_empty() => Focus::Log,
            _ => Focus::Ticker,
        };
        Watch {
            model: Model::new(&options, bindings, now),
            ui: Controls::new(focus),
            source,
            banner: None,
            options,
            senders: Senders::default(),
            clients: Vec::new(),
            export_dir: PathBuf::from("."),
            clipboard: None,
            views: super::saved::ViewStore::default(),
            current_view: None,
            view_expect: Vec::new(),
        }
    }

    /// Several connections, labelled so.
    pub fn with_labels(mut self, labels: Labels) -> Watch {
        self.model.reach = observe::reach::Reach::new(&labels);
        self.model.connections = super::connections::Connections::new(labels);
        self
    }

    /// What the trigger form sends through, by connection. Read-only, nothing: the screen
    /// keeps no way to write to a server.
    pub fn with_senders(mut self, senders: Senders) -> Watch {
        self.clients.clone_from(&senders.clients);
        if !self.options.readonly {
            self.senders = senders;
        }
        self
    }

    /// `--readonly`: nothing that writes to a server is done.
    pub fn readonly(&self) -> bool {
        self.options.readonly
    }

    /// What an action that would write to the server says instead, read-only.
    pub(super) fn refuse_readonly(&mut self, what: &str, now: Instant) {
        let text = format!("{what} is off: read-only (--readonly, or readonly in the profile)");
        self.model.note("read-only", &text, now);
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Why a live connection ended and stayed down: a run that ends so exits 1, as `--json`
    /// does. A recording's states are history, and never count.
    pub fn ended_refused(&self) -> Option<&str> {
        self.model
            .refused()
            .filter(|_| self.source != Source::Replay)
    }

    /// A live connection that never came up, and its last reason: a run that ends so exits
    /// 1 too (it never did what it was asked). Only live connections count (not a
    /// recording's states, nor the webhooks received).
    pub fn ended_unreached(&self) -> Option<String> {
        if self.source != Source::Live {
            return None;
        }
        self.model.reach.never(self.model.connections.labels())
    }

    /// The trigger's effect; none read-only (the form never opens then, and this is the last
    /// gate before anything is sent).
    pub(super) fn trigger(&mut self, request: Request, now: Instant) -> Option<Effect<Done>> {
        if self.options.readonly {
            self.refuse_readonly("triggering", now);
            return None;
        }
        Some(self.send_effect(request))
    }

    fn send_effect(&self, request: Request) -> Effect<Done> {
        let senders = self.senders.clone();
        let via = request
            .via
            .as_ref()
            .map_or(String::new(), |v| format!(" via {v}"));
        let what = format!(
            "trigger {} on {}{via}: {}",
            request.event, request.channel, request.data
        );
        Effect::Task(Task::new(
            what,
            async move { effects::send(request, &senders).await },
            Done::Triggered("too many triggers in flight; try again".into()),
        ))
    }

    pub(super) fn export(&self, records: Vec<serde_json::Value>) -> Effect<Done> {
        Effect::Task(Task::new(
            format!("export {} lines", records.len()),
            effects::export(records, self.export_dir.clone()),
            Done::Exported(Err("too much running at once; try again".into())),
        ))
    }

    /// Nothing is bound, so nothing can reach the ticker: the log takes its room. (Not for
    /// received webhooks, whose counts take the ticker's place.)
    pub fn log_only(&self) -> bool {
        !matches!(self.source, Source::Receiving(_))
            && self.model.bindings().is_empty()
            && self.shown_ticker().is_empty()
    }

    /// The ticker as shown: the paused copy while paused.
    pub fn shown_ticker(&self) -> &Ticker {
        match &self.ui.paused {
            Some(p) => &p.ticker,
            None => &self.model.ticker,
        }
    }

    /// Events that came since the view was paused.
    pub fn paused_since(&self) -> Option<u64> {
        let p = self.ui.paused.as_ref()?;
        Some(self.model.status.total.saturating_sub(p.total))
    }

    /// Ring positions of the log lines shown (before the pause, through the filter), oldest
    /// first.
    pub fn log_positions(&self) -> Vec<usize> {
        let log = &self.model.log;
        let end = match &self.ui.paused {
            Some(p) => log.position(p.mark),
            None => log.len(),
        };
        let connections = &self.model.connections;
        let oldest = if log.is_empty() { 0 } else { log[0].seq };
        let most = self.options.log_capacity;
        (0..end)
            .filter(|&i| {
                self.ui.filter.as_ref().is_none_or(|f| {
                    let line = &log[i].line;
                    f.passes(
                        log[i].seq,
                        line,
                        connections.label(line.conn),
                        (oldest, most),
                    )
                })
            })
            .collect()
    }

    /// Index into `positions` of the selected line: the newest while following.
    pub fn selected_index(&self, positions: &[usize]) -> Option<usize> {
        log::selected_index(&self.model.log, positions, self.ui.log_selected)
    }

    /// The log line numbered `seq`, if it is still kept.
    pub fn line(&self, seq: u64) -> Option<&super::line::LogLine> {
        self.model.log.by_seq(seq).map(|l| &l.line)
    }
}
