//! `tickertape trace`: one engine per node on the pipeline's fan-in, the tap's Redis source
//! (with `--tap`), and one tagged event per round published through the first node; each
//! hop's time is read off what arrives, and the first missing hop is said in words.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use serde_json::{Value, json};

use crate::cli::trace::TracePlan;
use crate::commands::webhooks::heard::{Heard, Listening, Tally, offset};
use crate::signals::Signals;
use bounded::{Limits, Overflow};
use client::{Client, ConnectionState, Item, SubscriptionStatus};
use observe::backplane::{TapItem, redis};
use observe::output::json_text::compact_safe;
use observe::output::writer::Output;
use observe::pipeline::{Feeds, Observed};
use protocol::backplane::{BackplaneMessage, Server, decode};
use protocol::safe_text::terminal_safe;
use protocol::time_text::clock;

/// Backplane messages waiting for the trace.
const TAP_QUEUE: Limits = Limits::new(4096, 8 << 20);
/// Leaving: how long the engines get to close their sockets.
const EXIT_WAIT: Duration = Duration::from_millis(500);

/// A node's connection, as its engine last said.
#[derive(Debug, Clone, Default)]
struct NodeState {
    connected: bool,
    subscribed: bool,
    /// Why its subscription failed, if it did.
    refused: Option<String>,
    /// Events received in all rounds.
    received: u32,
}

/// The REST answer: its time and `subscription_count`, or the error.
type Answer = Result<(Duration, Option<u64>), String>;

/// One round: what was seen, each at its time since the publish.
#[derive(Debug, Default)]
struct Round {
    trace: String,
    traceparent: String,
    published_at: Option<SystemTime>,
    started: Option<Instant>,
    /// The REST answer: its time and subscription_count, or the error.
    publish: Option<Answer>,
    /// The broadcast on the backplane: its time and origin node.
    backplane: Option<(Duration, Option<String>)>,
    received: Vec<Option<Duration>>,
}

impl Round {
    fn all_received(&self) -> bool {
        self.received.iter().all(Option::is_some)
    }
}

struct Trace {
    plan: TracePlan,
    feeds: Feeds,
    clients: Vec<Client>,
    states: Vec<NodeState>,
    tap: Option<(
        bounded::Receiver<TapItem>,
        Server,
        tokio::task::JoinHandle<()>,
    )>,
    tap_up: bool,
    tap_detail: Option<String>,
    round: Round,
    publish_rx: Option<tokio::sync::oneshot::Receiver<Answer>>,
    /// Hop 5, with `--webhooks-listen`.
    hooks: Option<Hooks>,
}

/// Hop 5: the receiver, and what it heard.
struct Hooks {
    listening: Listening,
    /// A public channel of trace's own, subscribed on the first node: its
    /// `channel_occupied` comes even when CHANNEL was already occupied.
    own: String,
    tally: Tally,
    /// When the engines were started (the subscriptions were asked for).
    started: Instant,
    /// When the first event was published: the webhooks' times are from it.
    first_publish: Option<Instant>,
    /// The receiver's queue is closed.
    ended: bool,
}

/// Hop 5's outcome: passed, in words for the timeline, as JSON.
struct HooksReport {
    ok: bool,
    lines: Vec<String>,
    json: Value,
}

impl Hooks {
    /// The `channel_occupied` that answers the hop: CHANNEL's, else trace's own.
    fn occupied<'a>(&'a self, channel: &'a str) -> Option<(Instant, &'a str)> {
        let theirs = self
            .tally
            .first("channel_occupied", channel)
            .map(|at| (at, channel));
        let own = self
            .tally
            .first("channel_occupied", &self.own)
            .map(|at| (at, self.own.as_str()));
        theirs.or(own)
    }

    /// Nothing more to wait for: the occupied verified, or this app's key mis-signed.
    fn settled(&self, channel: &str) -> bool {
        self.occupied(channel).is_some() || self.tally.bad_signature.is_some()
    }

    fn report(&self, channel: &str, key: &str, wait: Duration) -> HooksReport {
        let url = format!("http://{}/", self.listening.addr);
        let zero = self.first_publish.unwrap_or(self.started);
        let key = terminal_safe(key);
        let mut lines = Vec::new();
        let mut json = json!({"url": url});
        let ok = if let Some((at, which)) = self.occupied(channel) {
            lines.push(format!(
                "  {:>10}  channel_occupied of {} on {url}, signature verified (key {key})",
                offset(at, zero),
                terminal_safe(which)
            ));
            lines.push(format!(
                "  OK: the server's webhooks reach {url} and verify (all verified: {})",
                terminal_safe(&self.tally.events_text(zero))
            ));
            json["verified"] = json!(true);
            json["channel"] = json!(which);
            json["ms"] = json!(signed_ms(at, zero));
            true
        } else if let Some(bad) = &self.tally.bad_signature {
            lines.push(format!(
                "  {:>10}  a webhook with this app's key (key {key}) on {url}",
                offset(bad.at, zero)
            ));
            lines.push(format!(
                "  FAILED: its signature does not verify: the secret given here differs from the \
                 one the server signs webhooks with, or something rewrote the body (the secret is \
                 never shown): {}",
                terminal_safe(&bad.reason)
            ));
            json["verified"] = json!(false);
            json["failed"] = json!("signature");
            json["reason"] = json!(bad.reason);
            false
        } else if let Some(other) = &self.tally.other_key {
            let theirs = key_text(other);
            lines.push(format!(
                "  FAILED: webhooks arrived on {url} with {theirs}, not this app's key {key}: \
                 the server sends another app's webhooks here"
            ));
            json["verified"] = json!(false);
            json["failed"] = json!("key");
            false
        } else if !self.tally.valid.is_empty() {
            lines.push(format!(
                "  FAILED: webhooks arrive on {url} and verify, but no channel_occupied of {} \
                 or {} within {}: the server may send only some events here ({})",
                terminal_safe(channel),
                self.own,
                humantime::format_duration(wait),
                terminal_safe(&self.tally.events_text(zero))
            ));
            json["verified"] = json!(true);
            json["failed"] = json!("no channel_occupied");
            false
        } else {
            lines.push(format!(
                "  FAILED: no webhook arrived on {url} within {} of subscribing: is the server \
                 configured to send webhooks there? (tickertape serve --webhook {url}; sockudo \
                 or soketi: the app's webhooks in their configuration)",
                humantime::format_duration(wait)
            ));
            json["verified"] = json!(false);
            json["failed"] = json!("nothing arrived");
            false
        };
        let dropped = self.listening.dropped();
        if dropped > 0 {
            lines.push(format!(
                "  {dropped} requests not read: the receiver's queue was full"
            ));
            json["not_read"] = json!(dropped);
        }
        json["ok"] = json!(ok);
        HooksReport { ok, lines, json }
    }
}

/// `at` from `zero` in milliseconds, negative when before it.
fn signed_ms(at: Instant, zero: Instant) -> f64 {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1000.0;
    match at.checked_duration_since(zero) {
        Some(d) => ms(d),
        None => -ms(zero.duration_since(at)),
    }
}

fn key_text(h: &Heard) -> String {
    h.key
        .as_deref()
        .map_or("no X-Pusher-Key header".to_owned(), |k| {
            format!("key {}", terminal_safe(k))
        })
}

pub async fn run(mut plan: TracePlan) -> anyhow::Result<ExitCode> {
    let mut out = Output::spawn_default(Overflow::Block).context("cannot write to stdout")?;
    let mut signals = Signals::install();
    // Listening before the engines connect: the occupied comes as they subscribe.
    let listening = match plan.webhooks.take() {
        Some((addr, app)) => Some(
            crate::commands::webhooks::heard::listen(addr, app)
                .await
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let mut trace = Trace::start(plan, listening)?;
    let ok = trace.run(&mut out, &mut signals).await;
    let _ = tokio::time::timeout(EXIT_WAIT, async {
        for c in &trace.clients {
            c.disconnect().await;
        }
    })
    .await;
    if let Some((_, _, task)) = &trace.tap {
        task.abort();
    }
    let written = tokio::select! {
        r = out.finish() => r,
        _ = signals.next() => Ok(()),
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(if ok? {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// 32 (or 16) random lowercase hex digits.
fn hex_id(bytes: usize) -> String {
    (0..bytes).fold(String::new(), |mut s, _| {
        let _ = write!(s, "{:02x}", rand::random::<u8>());
        s
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

impl Trace {
    fn start(mut plan: TracePlan, listening: Option<Listening>) -> anyhow::Result<Trace> {
        let channels = vec![plan.channel.clone()];
        let hooks = listening.map(|listening| Hooks {
            listening,
            own: format!("tickertape-trace-{}", hex_id(4)),
            tally: Tally::default(),
            started: Instant::now(),
            first_publish: None,
            ended: false,
        });
        let mut feeds = Feeds::new(None);
        let mut clients = Vec::new();
        for (i, node) in plan.nodes.iter_mut().enumerate() {
            let mut channels = channels.clone();
            if let (0, Some(hooks)) = (i, &hooks) {
                channels.push(hooks.own.clone());
            }
            clients.push(feeds.connect(node.client.clone(), &channels)?.0);
        }
        let tap = plan.tap.take().map(|(source, server)| {
            let (rx, _lost, task) = redis::spawn(source, TAP_QUEUE);
            (rx, server, task)
        });
        let n = plan.nodes.len();
        Ok(Trace {
            plan,
            feeds,
            clients,
            states: vec![NodeState::default(); n],
            tap,
            tap_up: false,
            tap_detail: None,
            round: Round::default(),
            publish_rx: None,
            hooks,
        })
    }

    fn name(&self, i: usize) -> String {
        terminal_safe(&self.plan.nodes[i].name).into_owned()
    }

    /// One item from a node's engine.
    fn item(&mut self, o: Observed) {
        let i = usize::from(o.conn);
        let Some(state) = self.states.get_mut(i) else {
            return;
        };
        match o.item {
            Item::State(sc) => {
                state.connected = sc.current == ConnectionState::Connected;
                if !state.connected {
                    state.subscribed = false;
                }
            }
            Item::Subscription { channel, status } if channel == self.plan.channel => match *status
            {
                SubscriptionStatus::Subscribed => {
                    state.subscribed = true;
                    state.refused = None;
                }
                SubscriptionStatus::Failed(f) => {
                    state.subscribed = false;
                    state.refused = Some(f.message);
                }
                _ => state.subscribed = false,
            },
            Item::Event(ev) => {
                let Some(started) = self.round.started else {
                    return;
                };
                if ev.channel.as_deref() == Some(self.plan.channel.as_str())
                    && ev.event == self.plan.event
                    && ev.raw.as_str().contains(&self.round.trace)
                    && let Some(slot) = self.round.received.get_mut(i)
                    && slot.is_none()
                {
                    *slot = Some(started.elapsed());
                    state.received += 1;
                }
            }
            _ => {}
        }
    }

    /// One item from the backplane.
    fn tapped(&mut self, item: TapItem, server: Server) {
        match item {
            TapItem::State { up, detail } => {
                self.tap_up = up;
                self.tap_detail = Some(detail);
            }
            TapItem::NumSub(_) => {}
            TapItem::Message(raw) => {
                let (Some(started), None) = (self.round.started, &self.round.backplane) else {
                    return;
                };
                if let BackplaneMessage::Broadcast(b) = decode(server, &raw.channel, &raw.payload)
                    && b.data_preview.contains(&self.round.trace)
                {
                    self.round.backplane =
                        Some((raw.at.saturating_duration_since(started), b.node));
                }
            }
        }
    }

    /// Takes what comes until `done` says so, or `until`; false when a signal came.
    async fn pump(
        &mut self,
        signals: &mut Signals,
        until: tokio::time::Instant,
        done: impl Fn(&Trace) -> bool,
    ) -> bool {
        loop {
            if done(self) {
                return true;
            }
            let tap = async {
                match self.tap.as_mut() {
                    Some((rx, server, _)) => (rx.recv().await, *server),
                    None => std::future::pending().await,
                }
            };
            let heard = async {
                match self.hooks.as_mut() {
                    Some(h) if !h.ended => h.listening.heard.recv().await,
                    _ => std::future::pending().await,
                }
            };
            let publish = async {
                match self.publish_rx.as_mut() {
                    Some(rx) => rx.await.ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                o = self.feeds.next() => match o {
                    Some(o) => self.item(o),
                    None => return true,
                },
                (item, server) = tap => match item {
                    Some(item) => self.tapped(item, server),
                    None => self.tap = None,
                },
                answer = publish => {
                    self.publish_rx = None;
                    if let Some(answer) = answer {
                        self.round.publish = Some(answer);
                    }
                }
                h = heard => if let Some(hooks) = self.hooks.as_mut() {
                    match h {
                        Some(h) => hooks.tally.add(h),
                        // The receiver's task ended: nothing more will come.
                        None => hooks.ended = true,
                    }
                },
                _ = tokio::time::sleep_until(until) => return true,
                _ = signals.next() => return false,
            }
        }
    }

    async fn run(&mut self, out: &mut Output, signals: &mut Signals) -> anyhow::Result<bool> {
        let n = self.states.len();
        // The subscriptions (and the tap) first, for --wait at most.
        let until = tokio::time::Instant::now() + self.plan.wait;
        let tapping = self.tap.is_some();
        if !self
            .pump(signals, until, |t| {
                t.states.iter().all(|s| s.subscribed) && (!tapping || t.tap_up)
            })
            .await
        {
            return Ok(false);
        }
        if tapping && !self.tap_up {
            let why = self
                .tap_detail
                .clone()
                .unwrap_or_else(|| "no answer".into());
            self.say(out, &format!("the backplane tap is not up: {why}"));
        }
        let mut all_ok = true;
        let mut publishes = (0u32, 0u32);
        for seq in 1..=self.plan.count {
            let trace = hex_id(16);
            let traceparent = format!("00-{trace}-{}-01", hex_id(8));
            let published_at = SystemTime::now();
            let sent_at_ms = published_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let data = json!({"trace": trace, "seq": seq, "sent_at_ms": sent_at_ms}).to_string();
            let started = Instant::now();
            if let Some(hooks) = self.hooks.as_mut() {
                hooks.first_publish.get_or_insert(started);
            }
            self.round = Round {
                trace,
                traceparent: traceparent.clone(),
                published_at: Some(published_at),
                started: Some(started),
                received: vec![None; n],
                ..Round::default()
            };
            let (tx, rx) = tokio::sync::oneshot::channel();
            let rest = self.plan.nodes[0].rest.clone();
            let (channel, event, wait) = (
                self.plan.channel.clone(),
                self.plan.event.clone(),
                self.plan.wait,
            );
            tokio::spawn(async move {
                let sent = rest.trigger_traced(&channel, &event, &data, &traceparent);
                let answer = match tokio::time::timeout(wait, sent).await {
                    Ok(Ok(v)) => Ok((started.elapsed(), subscription_count(&v, &channel))),
                    Ok(Err(e)) => Err(format!("{e}")),
                    Err(_) => Err(format!(
                        "no answer within {}",
                        humantime::format_duration(wait)
                    )),
                };
                let _ = tx.send(answer);
            });
            self.publish_rx = Some(rx);
            let until = tokio::time::Instant::from_std(started) + self.plan.wait;
            let finished = self
                .pump(signals, until, |t| {
                    t.round.all_received()
                        && t.round.publish.is_some()
                        && (!tapping || !t.tap_up || t.round.backplane.is_some())
                })
                .await;
            if self.round.publish.is_none() {
                self.round.publish = Some(Err(format!(
                    "no answer within {}",
                    humantime::format_duration(self.plan.wait)
                )));
            }
            let published = matches!(self.round.publish, Some(Ok(_)));
            publishes.0 += u32::from(published);
            publishes.1 += u32::from(!published);
            let ok = published && self.round.all_received() && (!tapping || self.tap_up);
            all_ok &= ok;
            let report = if self.plan.json {
                self.round_json(seq, ok)
            } else {
                self.round_text(seq, ok)
            };
            let _ = writeln!(out.buffer(), "{report}");
            out.hand_over();
            if !finished {
                return Ok(false);
            }
            if seq < self.plan.count {
                let until = tokio::time::Instant::now() + self.plan.interval;
                if !self.pump(signals, until, |_| false).await {
                    return Ok(false);
                }
            }
        }
        if self.hooks.is_some() {
            // The occupied comes as the subscriptions are made: --wait from then at most.
            let channel = self.plan.channel.clone();
            let started = self.hooks.as_ref().map_or_else(Instant::now, |h| h.started);
            let until = tokio::time::Instant::from_std(started + self.plan.wait);
            let settled = move |t: &Trace| t.hooks.as_ref().is_none_or(|h| h.settled(&channel));
            if !self.pump(signals, until, settled).await {
                return Ok(false);
            }
        }
        let hooks = self.hooks.as_ref().map(|h| {
            h.report(
                &self.plan.channel,
                &self.plan.nodes[0].client.key,
                self.plan.wait,
            )
        });
        if let Some(report) = &hooks {
            all_ok &= report.ok;
            if self.plan.json {
                let line = json!({"webhooks": report.json}).to_string();
                let _ = writeln!(out.buffer(), "{}", compact_safe(&line));
            } else {
                let url = format!(
                    "http://{}/",
                    self.hooks
                        .as_ref()
                        .map_or_else(String::new, |h| h.listening.addr.to_string())
                );
                let _ = writeln!(
                    out.buffer(),
                    "webhooks on {url}, times from the first publish (a REST publish sends no \
                     webhook: this is the server's webhook path and secret, not the event)"
                );
                for line in &report.lines {
                    let _ = writeln!(out.buffer(), "{line}");
                }
            }
            out.hand_over();
        }
        let summary = self.summary(publishes, all_ok);
        let _ = writeln!(out.buffer(), "{summary}");
        out.hand_over();
        Ok(all_ok)
    }

    fn say(&self, out: &mut Output, text: &str) {
        if self.plan.json {
            let line = json!({"notice": text}).to_string();
            let _ = writeln!(out.buffer(), "{}", compact_safe(&line));
        } else {
            let _ = writeln!(out.buffer(), "{}", terminal_safe(text));
        }
        out.hand_over();
    }

    /// Why node `i` did not receive the round's event, in words.
    fn why_missing(&self, i: usize) -> String {
        let s = &self.states[i];
        let name = self.name(i);
        if let Some(refused) = &s.refused {
            return format!(
                "{name}'s subscription was refused: {}",
                terminal_safe(refused)
            );
        }
        if !s.connected {
            return format!("({name} is not connected)");
        }
        if !s.subscribed {
            return format!("({name} is connected, but never confirmed its subscription)");
        }
        let state = format!("({name} is connected and subscribed)");
        if i == 0 {
            return format!(
                "{state}: it took the publish but did not deliver it to its own sockets"
            );
        }
        let a = self.name(0);
        match (self.tap.is_some(), self.tap_up, &self.round.backplane) {
            (true, true, Some(_)) => format!("{state}: {name} is not reading the backplane"),
            (true, true, None) => format!(
                "{state}: the broadcast never reached the backplane, so no other node could have it"
            ),
            (true, false, _) => format!(
                "{state}: the backplane is unreachable from here too ({}): the nodes cannot share the event",
                self.tap_detail.as_deref().unwrap_or("no answer")
            ),
            (false, ..) if self.round.received[0].is_some() => format!(
                "{state}: the event did not cross from {a} to {name} (--tap tells whether it reached the backplane)"
            ),
            (false, ..) => format!(
                "{state}: {name} did not get it (--tap tells whether it reached the backplane)"
            ),
        }
    }

    fn missing_hop(&self) -> Option<String> {
        let r = &self.round;
        let a = self.name(0);
        let at = r.published_at.map(clock).unwrap_or_default();
        let mut said = vec![format!("published through {a} at {at}")];
        if let Some(Err(e)) = &r.publish {
            said.push(format!("the REST answer failed: {}", terminal_safe(e)));
        }
        if self.tap.is_some() && self.tap_up {
            said.push(match &r.backplane {
                Some((d, _)) => format!("seen on the backplane after {}", ms(*d)),
                None => "never seen on the backplane".into(),
            });
        }
        let mut missing = false;
        for (i, got) in r.received.iter().enumerate() {
            match got {
                Some(d) => said.push(format!("received on {} after {}", self.name(i), ms(*d))),
                None => {
                    missing = true;
                    said.push(format!(
                        "never received on {} {}",
                        self.name(i),
                        self.why_missing(i)
                    ));
                }
            }
        }
        // A hop asked for (--tap) and never checked fails the round: OK means every hop
        // was seen.
        let tap_down = self.tap.is_some() && !self.tap_up;
        if tap_down {
            said.push(format!(
                "the backplane was not checked: the tap is not up ({})",
                terminal_safe(self.tap_detail.as_deref().unwrap_or("no answer"))
            ));
        }
        let failed = missing || tap_down || matches!(r.publish, Some(Err(_)));
        failed.then(|| said.join("; "))
    }

    fn round_text(&self, seq: u32, ok: bool) -> String {
        let r = &self.round;
        let mut s = format!(
            "trace {seq} of {} on {}, traceparent {}\n",
            self.plan.count,
            terminal_safe(&self.plan.channel),
            r.traceparent
        );
        let at = r.published_at.map(clock).unwrap_or_default();
        let mut hops: Vec<(Duration, String)> = vec![(
            Duration::ZERO,
            format!("published through {} ({at})", self.name(0)),
        )];
        match &r.publish {
            Some(Ok((d, count))) => hops.push((
                *d,
                match count {
                    Some(c) => format!(
                        "REST answered: the server counted {c} subscribers just after publishing"
                    ),
                    None => "REST answered (no subscription_count)".into(),
                },
            )),
            Some(Err(e)) => {
                hops.push((self.plan.wait, format!("REST failed: {}", terminal_safe(e))))
            }
            None => {}
        }
        if let Some((d, node)) = &r.backplane {
            let from = node
                .as_deref()
                .map(|n| format!(", from node {}", terminal_safe(n)))
                .unwrap_or_default();
            hops.push((*d, format!("on the backplane{from}")));
        }
        for (i, got) in r.received.iter().enumerate() {
            if let Some(d) = got {
                hops.push((*d, format!("received on {}", self.name(i))));
            }
        }
        hops.sort_by_key(|(d, _)| *d);
        for (d, text) in hops {
            let _ = writeln!(s, "  {:>10}  {text}", format!("+{}", ms(d)));
        }
        if let Some(binding) = self.binding_text() {
            let _ = writeln!(s, "  binding: {binding}");
        }
        match self.missing_hop() {
            None if ok => {
                let _ = write!(
                    s,
                    "  OK: received on every node ({n} of {n})",
                    n = r.received.len()
                );
            }
            None => {
                let _ = write!(s, "  FAILED");
            }
            Some(text) => {
                let _ = write!(s, "  FAILED: {text}");
            }
        }
        s
    }

    /// Hop 4: the binding the event matches, or what was probably meant.
    fn binding_text(&self) -> Option<String> {
        let b = &self.plan.bindings;
        if b.is_empty() {
            return None;
        }
        let (channel, event) = (self.plan.channel.as_str(), self.plan.event.as_str());
        Some(match b.lookup(Some(channel), event) {
            Some(rule) => {
                let view = match rule.view {
                    observe::binding::View::Ticker { .. } => "ticker",
                    observe::binding::View::Log => "log",
                    observe::binding::View::Count => "count",
                    observe::binding::View::Ignore => "ignore",
                };
                format!(
                    "{} matches the binding {}/{}={view}",
                    terminal_safe(event),
                    terminal_safe(rule.channel.as_deref().unwrap_or("*")),
                    terminal_safe(rule.event.as_deref().unwrap_or("*")),
                )
            }
            None => match observe::hints::find(b, Some(channel), event) {
                Some(h) => format!(
                    "no binding matches {}: {}",
                    terminal_safe(event),
                    terminal_safe(&h.text)
                ),
                None => format!("no binding matches {}", terminal_safe(event)),
            },
        })
    }

    fn round_json(&self, seq: u32, ok: bool) -> String {
        let r = &self.round;
        let to_ms = |d: &Duration| (d.as_secs_f64() * 1e6).round() / 1000.0;
        let nodes: Vec<Value> = r
            .received
            .iter()
            .enumerate()
            .map(|(i, got)| {
                let s = &self.states[i];
                let mut v = json!({
                    "node": self.plan.nodes[i].name,
                    "received": got.is_some(),
                    "connected": s.connected,
                    "subscribed": s.subscribed,
                });
                if let Some(d) = got {
                    v["ms"] = json!(to_ms(d));
                } else {
                    v["why"] = json!(self.why_missing(i));
                }
                v
            })
            .collect();
        let publish = match &r.publish {
            Some(Ok((d, count))) => {
                json!({"ok": true, "ms": to_ms(d), "subscription_count": count})
            }
            Some(Err(e)) => json!({"ok": false, "error": e}),
            None => json!({"ok": false}),
        };
        let mut v = json!({
            "seq": seq,
            "channel": self.plan.channel,
            "event": self.plan.event,
            "trace": r.trace,
            "traceparent": r.traceparent,
            "published_at": r.published_at.map(protocol::time_text::rfc3339_millis),
            "publish": publish,
            "nodes": nodes,
            "reached_all": matches!(r.publish, Some(Ok(_))) && r.all_received(),
            "ok": ok,
        });
        if self.tap.is_some() {
            v["backplane"] = match &r.backplane {
                Some((d, node)) => json!({"seen": true, "ms": to_ms(d), "node": node}),
                None => json!({"seen": false, "tap_up": self.tap_up}),
            };
        }
        if let Some(b) = self.binding_text() {
            v["binding"] = json!(b);
        }
        if let Some(m) = self.missing_hop() {
            v["failed"] = json!(m);
        }
        compact_safe(&v.to_string()).into_owned()
    }

    fn summary(&self, publishes: (u32, u32), ok: bool) -> String {
        let count = self.plan.count;
        if self.plan.json {
            let nodes: Vec<Value> = self
                .states
                .iter()
                .enumerate()
                .map(|(i, s)| json!({"node": self.plan.nodes[i].name, "received": s.received, "of": count}))
                .collect();
            let v = json!({"summary": {"events": count, "published": publishes.0,
                "publish_failed": publishes.1, "nodes": nodes,
                "reached_all": publishes.1 == 0 && self.states.iter().all(|s| s.received >= count),
                "ok": ok}});
            return compact_safe(&v.to_string()).into_owned();
        }
        let per_node: Vec<String> = self
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}: {} of {count}", self.name(i), s.received))
            .collect();
        format!(
            "{}: {}; {} published, {} failed",
            if ok { "OK" } else { "FAILED" },
            per_node.join(", "),
            publishes.0,
            publishes.1
        )
    }
}

/// `subscription_count` of `channel` in a publish's answer (`info=subscription_count`).
fn subscription_count(answer: &Value, channel: &str) -> Option<u64> {
    answer
        .get("channels")?
        .get(channel)?
        .get("subscription_count")?
        .as_u64()
}
