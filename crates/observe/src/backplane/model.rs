//! What the backplane's messages add up to: the nodes (by their heartbeats and by what they
//! send) beside the node count the cluster computes (`PUBSUB NUMSUB`), requests matched to
//! their answers, broadcasts by channel and event, and presence replication (who joined
//! through which node, and members a dead node leaves behind). Pure: it is given each
//! decoded message and the time, and says what is worth a notice.
//!
//! Every map is fed by strangers (node ids, request ids, channels, members) and is a
//! [`WeighedMap`], capped in entries and bytes; what does not fit is counted.

use std::time::{Duration, Instant, SystemTime};

use bounded::{Limits, Weigh, WeighedMap};
use protocol::backplane::{BackplaneMessage, Request, Response};

/// A node with no heartbeat for this long is no longer counted as alive by heartbeats
/// (sockudo beats every 10 s).
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(30);
/// A request with its answers still missing after this is finished as it stands (sockudo's
/// and soketi's own timeout is 5 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(6);

pub const NODES: Limits = Limits::new(256, 256 << 10);
pub const PENDING: Limits = Limits::new(4096, 4 << 20);
pub const RATES: Limits = Limits::new(1000, 1 << 20);
pub const MEMBERS: Limits = Limits::new(10_000, 4 << 20);
/// Finished requests kept for the table.
pub const FINISHED: usize = 64;

/// One node, as the backplane shows it.
#[derive(Debug, Clone)]
pub struct Node {
    pub first_seen: Instant,
    pub last_heartbeat: Option<Instant>,
    pub heartbeats: u64,
    pub broadcasts: u64,
    pub requests: u64,
    pub responses: u64,
    /// Another node said it is dead (`NodeDead`).
    pub dead: bool,
}

impl Weigh for Node {
    fn weight(&self) -> usize {
        size_of::<Node>()
    }
}

/// A request waiting for its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub request_type: String,
    pub node: Option<String>,
    pub at: Instant,
    /// Nodes expected to answer: the response's `expected_responses`, else the other nodes
    /// the cluster counted when it was asked.
    pub expected: Option<u64>,
    pub answers: u64,
    /// The last answer's `complete`.
    pub complete: Option<bool>,
    pub last_answer: Option<Instant>,
}

impl Weigh for Pending {
    fn weight(&self) -> usize {
        size_of::<Pending>() + self.request_type.len() + self.node.as_ref().map_or(0, String::len)
    }
}

/// A request done with: answered by all expected, or timed out.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub id: String,
    pub request_type: String,
    pub node: Option<String>,
    pub answers: u64,
    pub expected: Option<u64>,
    pub complete: Option<bool>,
    pub round_trip: Option<Duration>,
    pub timed_out: bool,
}

/// Seconds a rate is measured over.
pub const RATE_WINDOW: usize = 10;

/// How many things came in each of the last [`RATE_WINDOW`] whole seconds: a fixed ring,
/// bounded by construction. Seconds are counted from the model's first message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    buckets: [u32; RATE_WINDOW],
    /// The second the newest bucket counts.
    newest: u64,
}

impl Window {
    /// One more in second `sec`.
    pub fn add(&mut self, sec: u64) {
        if sec < self.newest.saturating_sub(RATE_WINDOW as u64 - 1) {
            return;
        }
        self.advance(sec);
        let b = &mut self.buckets[(sec % RATE_WINDOW as u64) as usize];
        *b = b.saturating_add(1);
    }

    /// Empties the buckets of the seconds between the newest and `sec`.
    fn advance(&mut self, sec: u64) {
        if sec <= self.newest {
            return;
        }
        if sec - self.newest >= RATE_WINDOW as u64 {
            self.buckets = [0; RATE_WINDOW];
        } else {
            for s in self.newest + 1..=sec {
                self.buckets[(s % RATE_WINDOW as u64) as usize] = 0;
            }
        }
        self.newest = sec;
    }

    /// Per second over the whole seconds before `sec` (the one under way is not over yet):
    /// the last [`RATE_WINDOW`] of them, or as many as there have been. `None` within the
    /// first second.
    pub fn per_second(&self, sec: u64) -> Option<f64> {
        let seconds = sec.min(RATE_WINDOW as u64);
        if seconds == 0 {
            return None;
        }
        let from = sec - seconds;
        let newest = self.newest;
        let total: u64 = (from..sec)
            // Seconds past the newest bucket had nothing; ones before the ring are gone.
            .filter(|&s| s <= newest && newest - s < RATE_WINDOW as u64)
            .map(|s| u64::from(self.buckets[(s % RATE_WINDOW as u64) as usize]))
            .sum();
        Some(total as f64 / seconds as f64)
    }
}

/// Broadcasts of one (channel, event).
#[derive(Debug, Clone, Default)]
pub struct Rate {
    pub count: u64,
    pub bytes: u64,
    pub last: Option<Instant>,
    /// The last seconds' counts, for the rate.
    pub window: Window,
}

impl Weigh for Rate {
    fn weight(&self) -> usize {
        size_of::<Rate>()
    }
}

/// A presence member as replicated: the node that announced its join (the member is on that
/// node's sockets; a user on two nodes is two entries, one per node, as in sockudo's cluster
/// registry).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub node: Option<String>,
    /// Its node was declared dead and no leave was seen: other nodes may still list it.
    pub orphaned: bool,
}

impl Weigh for Member {
    fn weight(&self) -> usize {
        size_of::<Member>() + self.node.as_ref().map_or(0, String::len)
    }
}

/// Ghost members named per channel by [`Cluster::presence`] (the rest are counted).
pub const GHOSTS_NAMED: usize = 8;

/// One node's members on a presence channel: those who joined through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The node's id ("" when the join named none).
    pub node: String,
    pub members: u64,
    /// The node is declared dead or its heartbeats stopped: its members are ghosts.
    pub gone: bool,
}

/// A presence channel as the backplane replicated it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelPresence {
    pub channel: String,
    /// Distinct users (a user on two nodes is one member, as Pusher counts).
    pub users: u64,
    /// Members by the node they joined through, most first.
    pub by_node: Vec<NodeView>,
    /// Members whose node is gone with no leave seen: listed by the live nodes, on none.
    pub ghosts: u64,
    /// The first [`GHOSTS_NAMED`] ghosts' user ids.
    pub ghost_users: Vec<String>,
}

/// Counts of everything seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub broadcasts: u64,
    pub requests: u64,
    pub responses: u64,
    pub unknown: u64,
    /// Answers to a request the tap never saw (it started after, or the request was dropped).
    pub unmatched: u64,
}

/// Something worth a line of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    NodeSeen(String),
    NodeDead {
        node: String,
        by: Option<String>,
    },
    /// The cluster's count and the heartbeats' disagree (sockudo#418's symptom).
    CountsDiffer {
        numsub: u64,
        heartbeats: u64,
    },
    CountsAgree(u64),
    /// A request answered by fewer nodes than expected, or marked incomplete.
    Incomplete(Finished),
}

impl Notice {
    /// The notice in words (names already cut; the caller makes it terminal-safe).
    pub fn text(&self) -> String {
        match self {
            Notice::NodeSeen(n) => format!("node {n} seen on the backplane"),
            Notice::NodeDead { node, by } => match by {
                Some(by) => format!("node {node} declared dead by {by}"),
                None => format!("node {node} declared dead"),
            },
            Notice::CountsDiffer { numsub, heartbeats } => format!(
                "the cluster counts {numsub} nodes (PUBSUB NUMSUB), heartbeats show {heartbeats}: \
                 cross-node queries wait for a node that does not answer, or skip one that does"
            ),
            Notice::CountsAgree(n) => {
                format!("the cluster's count and the heartbeats agree: {n} nodes")
            }
            Notice::Incomplete(f) => format!(
                "request {} {} from {}: {} of {} answered{}{}",
                f.request_type,
                f.id,
                f.node.as_deref().unwrap_or("?"),
                f.answers,
                f.expected.map_or("?".into(), |e| e.to_string()),
                if f.complete == Some(false) {
                    ", complete:false"
                } else {
                    ""
                },
                if f.timed_out { ", timed out" } else { "" },
            ),
        }
    }
}

/// The cluster as the backplane shows it.
#[derive(Debug)]
pub struct Cluster {
    pub nodes: WeighedMap<String, Node>,
    /// The cluster's own count (`PUBSUB NUMSUB`), once asked.
    pub numsub: Option<u64>,
    pub pending: WeighedMap<String, Pending>,
    /// The latest finished requests, newest last.
    pub finished: std::collections::VecDeque<Finished>,
    pub rates: WeighedMap<(String, String), Rate>,
    /// (channel, user id, node id or "") → the member.
    pub members: WeighedMap<(String, String, String), Member>,
    pub counts: Counts,
    /// All broadcasts' last seconds, for the cluster's rate.
    pub broadcast_window: Window,
    /// The first message's time: rates count whole seconds from it.
    epoch: Option<Instant>,
    /// Whether the last comparison of the counts disagreed.
    differ: Option<bool>,
    /// No pending request is older than this: expiring before its timeout scans nothing.
    earliest: Option<Instant>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster::new()
    }
}

impl Cluster {
    pub fn new() -> Cluster {
        Cluster {
            nodes: WeighedMap::new(NODES),
            numsub: None,
            pending: WeighedMap::new(PENDING),
            finished: std::collections::VecDeque::with_capacity(FINISHED),
            rates: WeighedMap::new(RATES),
            members: WeighedMap::new(MEMBERS),
            counts: Counts::default(),
            broadcast_window: Window::default(),
            epoch: None,
            differ: None,
            earliest: None,
        }
    }

    /// Whether the cluster's count and the heartbeats' disagreed when last compared (`None`
    /// before they could be).
    pub fn counts_differ(&self) -> Option<bool> {
        self.differ
    }

    /// Whole seconds since the first message (the rates' clock).
    pub fn second(&self, now: Instant) -> u64 {
        self.epoch
            .map_or(0, |e| now.saturating_duration_since(e).as_secs())
    }

    /// Broadcasts per second over the last [`RATE_WINDOW`] seconds, all channels.
    pub fn broadcast_rate(&self, now: Instant) -> Option<f64> {
        self.broadcast_window.per_second(self.second(now))
    }

    /// Nodes whose last heartbeat is recent.
    pub fn heartbeat_nodes(&self, now: Instant) -> u64 {
        self.nodes
            .values()
            .filter(|n| {
                !n.dead
                    && n.last_heartbeat
                        .is_some_and(|h| now.saturating_duration_since(h) < HEARTBEAT_STALE)
            })
            .count() as u64
    }

    fn node(&mut self, id: &Option<String>, now: Instant, notices: &mut Vec<Notice>) -> bool {
        let Some(id) = id else { return false };
        if self.nodes.contains_key(id.as_str()) {
            return true;
        }
        let node = Node {
            first_seen: now,
            last_heartbeat: None,
            heartbeats: 0,
            broadcasts: 0,
            requests: 0,
            responses: 0,
            dead: false,
        };
        if self.nodes.insert(id.clone(), node).is_ok() {
            notices.push(Notice::NodeSeen(id.clone()));
            return true;
        }
        false
    }

    /// The cluster's count, from `PUBSUB NUMSUB`.
    pub fn set_numsub(&mut self, n: u64, now: Instant) -> Vec<Notice> {
        self.numsub = Some(n);
        self.compare(now)
    }

    /// Compares the two counts once heartbeats had time to come (a full period after the
    /// first node was seen); says so when the answer changes.
    fn compare(&mut self, now: Instant) -> Vec<Notice> {
        let Some(numsub) = self.numsub else {
            return Vec::new();
        };
        let settled = self
            .nodes
            .values()
            .map(|n| n.first_seen)
            .min()
            .is_some_and(|first| now.saturating_duration_since(first) >= HEARTBEAT_STALE / 2);
        if !settled {
            return Vec::new();
        }
        let heartbeats = self.heartbeat_nodes(now);
        let differ = numsub != heartbeats;
        if self.differ == Some(differ) {
            return Vec::new();
        }
        self.differ = Some(differ);
        vec![if differ {
            Notice::CountsDiffer { numsub, heartbeats }
        } else {
            Notice::CountsAgree(numsub)
        }]
    }

    /// One decoded message.
    pub fn apply(&mut self, message: &BackplaneMessage, now: Instant) -> Vec<Notice> {
        let mut notices = Vec::new();
        let epoch = *self.epoch.get_or_insert(now);
        let sec = now.saturating_duration_since(epoch).as_secs();
        match message {
            BackplaneMessage::Broadcast(b) => {
                self.counts.broadcasts += 1;
                self.broadcast_window.add(sec);
                if self.node(&b.node, now, &mut notices)
                    && let Some(id) = &b.node
                {
                    self.nodes.update(id.as_str(), |n| n.broadcasts += 1);
                }
                let event = b.event.clone().unwrap_or_else(|| "?".into());
                for channel in b.channels.iter().take(100) {
                    let bytes = b.bytes as u64;
                    self.rates
                        .upsert((channel.clone(), event.clone()), Rate::default, |r| {
                            r.count += 1;
                            r.bytes += bytes;
                            r.last = Some(now);
                            r.window.add(sec);
                        });
                }
            }
            BackplaneMessage::Request(r) => {
                self.counts.requests += 1;
                if self.node(&r.node, now, &mut notices)
                    && let Some(id) = &r.node
                {
                    let heartbeat = r.request_type == "Heartbeat";
                    self.nodes.update(id.as_str(), |n| {
                        n.requests += 1;
                        if heartbeat {
                            n.heartbeats += 1;
                            n.last_heartbeat = Some(now);
                            n.dead = false;
                        }
                    });
                }
                self.request(r, now, &mut notices);
            }
            BackplaneMessage::Response(r) => {
                self.counts.responses += 1;
                if self.node(&r.node, now, &mut notices)
                    && let Some(id) = &r.node
                {
                    self.nodes.update(id.as_str(), |n| n.responses += 1);
                }
                self.response(r, now, &mut notices);
            }
            BackplaneMessage::Unknown { .. } => self.counts.unknown += 1,
        }
        notices.extend(self.compare(now));
        notices
    }

    fn request(&mut self, r: &Request, now: Instant, notices: &mut Vec<Notice>) {
        match r.request_type.as_str() {
            "NodeDead" => {
                if let Some(dead) = &r.dead_node {
                    self.nodes.update(dead.as_str(), |n| n.dead = true);
                    let keys: Vec<(String, String, String)> = self
                        .members
                        .iter()
                        .filter(|(_, m)| m.node.as_deref() == Some(dead.as_str()))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in keys {
                        self.members.update(&k, |m| m.orphaned = true);
                    }
                    notices.push(Notice::NodeDead {
                        node: dead.clone(),
                        by: r.node.clone(),
                    });
                }
            }
            "PresenceMemberJoined" => {
                if let (Some(c), Some(u)) = (&r.channel, &r.user_id) {
                    let member = Member {
                        node: r.node.clone(),
                        orphaned: false,
                    };
                    let key = (c.clone(), u.clone(), r.node.clone().unwrap_or_default());
                    if !self.members.update(&key, |m| *m = member.clone()) {
                        let _ = self.members.insert(key, member);
                    }
                }
            }
            "PresenceMemberLeft" => {
                if let (Some(c), Some(u)) = (&r.channel, &r.user_id) {
                    let key = (c.clone(), u.clone(), r.node.clone().unwrap_or_default());
                    self.members.remove(&key);
                }
            }
            _ => {}
        }
        if !r.expects_answer() {
            return;
        }
        let expected = self.numsub.map(|n| n.saturating_sub(1));
        let pending = Pending {
            request_type: r.request_type.clone(),
            node: r.node.clone(),
            at: now,
            expected,
            answers: 0,
            complete: None,
            last_answer: None,
        };
        self.earliest = Some(self.earliest.map_or(now, |e| e.min(now)));
        if let Err(bounded::Cause::Items | bounded::Cause::Bytes) =
            self.pending.insert(r.id.clone(), pending.clone())
        {
            // Full: make room from the ones that timed out, once, and try again.
            self.expire(now, notices);
            let _ = self.pending.insert(r.id.clone(), pending);
        }
    }

    fn response(&mut self, r: &Response, now: Instant, notices: &mut Vec<Notice>) {
        let known = self.pending.update(r.id.as_str(), |p| {
            p.answers += 1;
            p.last_answer = Some(now);
            if let Some(e) = r.expected.filter(|&e| e > 0) {
                p.expected = Some(e);
            }
            if r.complete.is_some() {
                p.complete = r.complete;
            }
        });
        if !known {
            self.counts.unmatched += 1;
            return;
        }
        let done = self.pending.get(r.id.as_str()).is_some_and(|p| {
            p.expected.is_some_and(|e| p.answers >= e) || p.complete == Some(false)
        });
        if done && let Some(p) = self.pending.remove(r.id.as_str()) {
            self.finish(r.id.clone(), p, false, notices);
        }
    }

    /// Finishes requests older than [`REQUEST_TIMEOUT`] (the front end calls it every second).
    pub fn expire(&mut self, now: Instant, notices: &mut Vec<Notice>) {
        match self.earliest {
            Some(e) if now.saturating_duration_since(e) >= REQUEST_TIMEOUT => {}
            _ => return,
        }
        self.earliest = self
            .pending
            .values()
            .map(|p| p.at)
            .filter(|&at| now.saturating_duration_since(at) < REQUEST_TIMEOUT)
            .min();
        let old: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.at) >= REQUEST_TIMEOUT)
            .map(|(k, _)| k.clone())
            .collect();
        for id in old {
            if let Some(p) = self.pending.remove(id.as_str()) {
                self.finish(id, p, true, notices);
            }
        }
    }

    fn finish(&mut self, id: String, p: Pending, timed_out: bool, notices: &mut Vec<Notice>) {
        let f = Finished {
            id,
            request_type: p.request_type,
            node: p.node,
            answers: p.answers,
            expected: p.expected,
            complete: p.complete,
            round_trip: p.last_answer.map(|a| a.saturating_duration_since(p.at)),
            timed_out,
        };
        let short = f.expected.is_some_and(|e| f.answers < e) || f.complete == Some(false);
        if short {
            notices.push(Notice::Incomplete(f.clone()));
        }
        if self.finished.len() == FINISHED {
            self.finished.pop_front();
        }
        self.finished.push_back(f);
    }

    /// Members whose node was declared dead and who never left: ghosts on the other nodes.
    pub fn orphans(&self) -> impl Iterator<Item = (&(String, String, String), &Member)> {
        self.members.iter().filter(|(_, m)| m.orphaned)
    }

    /// Whether a node can no longer hold members: declared dead, or its heartbeats stopped.
    fn gone(&self, node: &str, now: Instant) -> bool {
        self.nodes.get(node).is_some_and(|n| {
            n.dead
                || n.last_heartbeat
                    .is_some_and(|h| now.saturating_duration_since(h) >= HEARTBEAT_STALE)
        })
    }

    /// Presence replication by channel: its members, who joined through which node, and the
    /// members every live node still lists though the node they joined through is gone
    /// (declared dead, or its heartbeats stopped) and no leave was seen: the ghosts of a
    /// crash, in the live nodes' views and in no node's sockets. Channels with ghosts first,
    /// then by members. Linear in the members (bounded by [`MEMBERS`]).
    pub fn presence(&self, now: Instant) -> Vec<ChannelPresence> {
        let mut out: Vec<ChannelPresence> = Vec::new();
        // Sorted by (channel, user, node): a channel's entries are together, and a user's.
        let mut last_user: Option<(&str, &str)> = None;
        for ((channel, user, node), m) in self.members.iter() {
            if out.last().is_none_or(|c| &c.channel != channel) {
                out.push(ChannelPresence {
                    channel: channel.clone(),
                    ..ChannelPresence::default()
                });
            }
            let Some(c) = out.last_mut() else { continue };
            let gone = m.orphaned || self.gone(node, now);
            if last_user != Some((channel.as_str(), user.as_str())) {
                c.users += 1;
                last_user = Some((channel.as_str(), user.as_str()));
            }
            match c.by_node.iter_mut().find(|v| v.node == *node) {
                Some(v) => v.members += 1,
                None => c.by_node.push(NodeView {
                    node: node.clone(),
                    members: 1,
                    gone,
                }),
            }
            if gone {
                c.ghosts += 1;
                if c.ghost_users.len() < GHOSTS_NAMED && !c.ghost_users.contains(user) {
                    c.ghost_users.push(user.clone());
                }
            }
        }
        for c in &mut out {
            c.by_node
                .sort_by(|a, b| b.members.cmp(&a.members).then(a.node.cmp(&b.node)));
        }
        out.sort_by(|a, b| {
            b.ghosts
                .cmp(&a.ghosts)
                .then(b.users.cmp(&a.users))
                .then(a.channel.cmp(&b.channel))
        });
        out
    }
}

/// Backplane latency of a broadcast: its receipt here after its `timestamp_ms`.
pub fn latency_ms(sent_at_ms: Option<f64>, received: SystemTime) -> Option<f64> {
    let sent = sent_at_ms?;
    let now = received
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs_f64()
        * 1000.0;
    let l = now - sent;
    (l.is_finite() && (-60_000.0..3_600_000.0).contains(&l)).then_some(l)
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
