//! The backplane tap: what the nodes of a cluster tell each other, read without being one
//! of them. [`redis`] subscribes by pattern only (`PSUBSCRIBE`, which `PUBSUB NUMSUB` does
//! not count, so the cluster's scatter/gather never waits for the tap) and hands raw
//! messages over a bounded queue; [`model`] keeps what they add up to (nodes, requests
//! and their answers, rates, presence replication), every map bounded; [`ndjson`] writes
//! one object per message, terminal-safe.

pub mod metrics;
pub mod model;
pub mod nats;
pub mod ndjson;
pub mod redis;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Instant, SystemTime};

use bounded::Weigh;

/// One message as the tap read it: where, when, and its bytes (not yet decoded).
#[derive(Debug, Clone)]
pub struct Raw {
    pub at: Instant,
    pub wall: SystemTime,
    /// The Redis channel (or NATS subject) it came on.
    pub channel: String,
    pub payload: Vec<u8>,
}

impl Weigh for Raw {
    fn weight(&self) -> usize {
        size_of::<Raw>() + self.channel.len() + self.payload.len()
    }
}

/// What a source could not hand over, by cause.
#[derive(Debug, Default)]
pub struct Lost {
    /// The queue was full.
    pub dropped: AtomicU64,
    /// Over `max_message`.
    pub oversize: AtomicU64,
    /// Dropped by the client library before the tap read them (NATS slow-consumer events).
    pub slow: AtomicU64,
}

/// Where the tap reads: a Redis server (pattern-subscribed) or a NATS server.
#[derive(Debug, Clone)]
pub enum Backplane {
    Redis(redis::Source),
    Nats(nats::Source),
}

impl Backplane {
    /// The server's URL without its credentials.
    pub fn shown(&self) -> &str {
        match self {
            Backplane::Redis(s) => s.target.shown(),
            Backplane::Nats(s) => s.target.shown(),
        }
    }

    /// Whether the cluster computes a node count the tap reads (`PUBSUB NUMSUB`).
    pub fn counted(&self) -> bool {
        matches!(self, Backplane::Redis(s) if s.counted.is_some())
    }

    /// Starts reading; items come on the receiver, at most `limits` of them waiting.
    pub fn spawn(
        &self,
        limits: bounded::Limits,
    ) -> (
        bounded::Receiver<TapItem>,
        Arc<Lost>,
        tokio::task::JoinHandle<()>,
    ) {
        match self {
            Backplane::Redis(s) => redis::spawn(s.clone(), limits),
            Backplane::Nats(s) => nats::spawn(s.clone(), limits),
        }
    }
}

/// What the tap's source hands the front end.
#[derive(Debug, Clone)]
pub enum TapItem {
    Message(Raw),
    /// The cluster's own node count (`PUBSUB NUMSUB` of the channel it counts by).
    NumSub(u64),
    /// The source's connection: up, or down with why (credentials never in it).
    State {
        up: bool,
        detail: String,
    },
}

impl Weigh for TapItem {
    fn weight(&self) -> usize {
        match self {
            TapItem::Message(r) => r.weight(),
            TapItem::NumSub(_) => size_of::<TapItem>(),
            TapItem::State { detail, .. } => size_of::<TapItem>() + detail.len(),
        }
    }
}

use std::time::Duration;

use protocol::backplane::{BackplaneMessage, Server, decode};

use model::{Cluster, Notice};

/// Which messages are shown: an app and a Pusher channel glob (`*` any run, `?` one
/// character). Node-level messages (heartbeats, dead nodes, requests about no channel) always
/// pass.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub app_id: Option<String>,
    pub channel: Option<String>,
}

impl Filter {
    pub fn passes(&self, message: &BackplaneMessage) -> bool {
        let (app, key, channels): (Option<&str>, Option<&str>, Vec<&str>) = match message {
            BackplaneMessage::Broadcast(b) => (
                b.app_id.as_deref(),
                b.app_key.as_deref(),
                b.channels.iter().map(String::as_str).collect(),
            ),
            BackplaneMessage::Request(r) => (
                r.app_id.as_deref().filter(|a| *a != "cluster"),
                r.app_key.as_deref(),
                r.channel.as_deref().into_iter().collect(),
            ),
            BackplaneMessage::Response(r) => (r.app_id.as_deref(), None, Vec::new()),
            BackplaneMessage::Unknown { .. } => (None, None, Vec::new()),
        };
        if let (Some(want), Some(app)) = (&self.app_id, app)
            && want != app
            && Some(want.as_str()) != key
        {
            return false;
        }
        match &self.channel {
            Some(glob) if !channels.is_empty() => channels.iter().any(|c| glob_match(glob, c)),
            _ => true,
        }
    }
}

/// `*` matches any run of characters, `?` one; the rest literally. Linear in the text for
/// each star (greedy with one backtrack point), so a stranger's long name costs little.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || (g[gi] != '*' && g[gi] == t[ti])) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

/// What the tap makes of an item, for a front end.
#[derive(Debug, Clone)]
pub enum Seen {
    Message {
        message: BackplaneMessage,
        channel: String,
        bytes: usize,
        wall: SystemTime,
        /// A response's time since its request (when the tap saw both).
        round_trip: Option<Duration>,
    },
    Notice(Notice, SystemTime),
    State {
        up: bool,
        detail: String,
    },
    NumSub(u64),
}

/// The tap, whatever shows it: decodes, filters, and keeps the cluster's model.
#[derive(Debug)]
pub struct Tap {
    pub server: Server,
    pub filter: Filter,
    pub cluster: Cluster,
    /// Messages filtered out.
    pub hidden: u64,
}

impl Tap {
    pub fn new(server: Server, filter: Filter) -> Tap {
        Tap {
            server,
            filter,
            cluster: Cluster::new(),
            hidden: 0,
        }
    }

    /// One item from the source; what to show of it.
    pub fn take(&mut self, item: TapItem, now: Instant) -> Vec<Seen> {
        match item {
            TapItem::Message(raw) => {
                let message = decode(self.server, &raw.channel, &raw.payload);
                if !self.filter.passes(&message) {
                    self.hidden += 1;
                    return Vec::new();
                }
                let round_trip = match &message {
                    BackplaneMessage::Response(r) => self
                        .cluster
                        .pending
                        .get(r.id.as_str())
                        .map(|p| now.saturating_duration_since(p.at)),
                    _ => None,
                };
                let notices = self.cluster.apply(&message, now);
                let mut seen = vec![Seen::Message {
                    message,
                    channel: raw.channel,
                    bytes: raw.payload.len(),
                    wall: raw.wall,
                    round_trip,
                }];
                seen.extend(notices.into_iter().map(|n| Seen::Notice(n, raw.wall)));
                seen
            }
            TapItem::NumSub(n) => {
                let wall = SystemTime::now();
                let mut seen = vec![Seen::NumSub(n)];
                seen.extend(
                    self.cluster
                        .set_numsub(n, now)
                        .into_iter()
                        .map(|x| Seen::Notice(x, wall)),
                );
                seen
            }
            TapItem::State { up, detail } => vec![Seen::State { up, detail }],
        }
    }

    /// Once a second: requests that timed out.
    pub fn tick(&mut self, now: Instant) -> Vec<Seen> {
        let mut notices = Vec::new();
        self.cluster.expire(now, &mut notices);
        let wall = SystemTime::now();
        notices.into_iter().map(|n| Seen::Notice(n, wall)).collect()
    }
}

/// Keeps a backplane source up: runs `session` again after each end, backing off from 1 s
/// to 10 s (back to 1 s after a session that lasted 30 s), and tells the tap each new
/// cause of being down once, not at every attempt. Ends when the tap stops reading.
pub(crate) async fn keep_up<S, F>(tx: &bounded::Sender<TapItem>, closed: &str, mut session: S)
where
    S: FnMut() -> F,
    F: Future<Output = Result<(), String>>,
{
    const MAX_BACKOFF: Duration = Duration::from_secs(10);
    let mut backoff = Duration::from_secs(1);
    let mut last_down = String::new();
    loop {
        let started = Instant::now();
        let ended = session().await;
        if tx.is_closed() {
            return;
        }
        let detail = ended.err().unwrap_or_else(|| closed.to_owned());
        if detail != last_down {
            let _ = tx.try_send(TapItem::State {
                up: false,
                detail: detail.clone(),
            });
            last_down = detail;
        }
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_secs(1);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("private-*", "private-orders"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*orders*", "private-orders-1"));
        assert!(!glob_match("orders", "orders2"));
        assert!(!glob_match(&"*a".repeat(50), &"a".repeat(40)));
    }

    #[test]
    fn the_filter_keeps_node_messages() {
        let f = Filter {
            app_id: Some("app1".into()),
            channel: Some("orders-*".into()),
        };
        let b = |app: &str, ch: &str| {
            BackplaneMessage::Broadcast(protocol::backplane::Broadcast {
                app_id: Some(app.into()),
                channels: vec![ch.into()],
                ..Default::default()
            })
        };
        assert!(f.passes(&b("app1", "orders-1")));
        assert!(!f.passes(&b("app2", "orders-1")));
        assert!(!f.passes(&b("app1", "chat")));
        let hb = BackplaneMessage::Request(protocol::backplane::Request {
            app_id: Some("cluster".into()),
            request_type: "Heartbeat".into(),
            ..Default::default()
        });
        assert!(f.passes(&hb));
    }
}
