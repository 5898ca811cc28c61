//! The probe's state: per node, what was published through it and what it received, the
//! connection's state, and the alerts (a canary missing on a node, presence lists that
//! differ). Pure: fed the tracker's outcomes, the publish results and the states.

use std::time::Instant;

use super::canary::{Fate, Outcome, Tracker};
use super::members::Presence;
use crate::latency::Window;
use client::ConnectionState;

/// One node's figures.
#[derive(Debug, Clone)]
pub struct NodeStats {
    /// The node as given (`ws://host:port`): its name in every output.
    pub name: String,
    /// Canaries published through it (the API accepted them).
    pub sent: u64,
    pub publish_errors: u64,
    /// The last publish error's text (the server's answer; never a secret).
    pub last_error: Option<String>,
    pub received: u64,
    pub lost: u64,
    pub late: u64,
    pub duplicates: u64,
    /// Publish-to-receive latency of the last canaries it received, in ms.
    pub latency: Window,
    pub max_ms: f64,
    pub state: ConnectionState,
    pub ever_connected: bool,
    /// By the node published through: the canary-missing alert is raised (a canary via
    /// that node did not arrive here; it ends when one via that node arrives again).
    pub missing: Vec<bool>,
    /// The last publish through it failed: the `publish_failing` alert is raised.
    pub publish_failing: bool,
    /// Its canary subscription was refused: the `subscription_failed` alert is raised.
    pub subscription_failed: bool,
    /// The server confirmed its canary subscription, at least once.
    pub subscribed: bool,
    /// Why a subscription of the probe (the canaries' or, with several nodes, the presence
    /// channel's) was refused, the last time: the verdict is CRITICAL.
    pub refused: Option<String>,
    /// With several nodes: the server gave its presence member list, at least once.
    pub listed: bool,
}

impl NodeStats {
    fn new(name: String, nodes: usize) -> NodeStats {
        NodeStats {
            name,
            sent: 0,
            publish_errors: 0,
            last_error: None,
            received: 0,
            lost: 0,
            late: 0,
            duplicates: 0,
            latency: Window::default(),
            max_ms: 0.0,
            state: ConnectionState::Initialized,
            ever_connected: false,
            missing: vec![false; nodes],
            publish_failing: false,
            subscription_failed: false,
            subscribed: false,
            refused: None,
            listed: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Raised,
    Recovered,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// A canary published via one node did not arrive on another.
    CanaryMissing,
    /// The nodes' presence member lists differ past `--settle`.
    PresenceMismatch,
    /// Publishing through a node fails.
    PublishFailing,
    /// A node refused the canary subscription.
    SubscriptionFailed,
}

impl AlertKind {
    /// Its name in the lines, the JSON and the screen.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::CanaryMissing => "canary_missing",
            AlertKind::PresenceMismatch => "presence_mismatch",
            AlertKind::PublishFailing => "publish_failing",
            AlertKind::SubscriptionFailed => "subscription_failed",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert or its recovery.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    pub change: Change,
    pub node: Option<usize>,
    pub detail: String,
}

/// Everything the probe knows.
#[derive(Debug)]
pub struct Probe {
    pub nodes: Vec<NodeStats>,
    pub tracker: Tracker,
    /// With several nodes: their presence lists.
    pub presence: Option<Presence>,
    /// The presence alert is raised.
    pub presence_differs: bool,
    /// The first difference that counted, for the verdict.
    pub presence_first: Option<String>,
    /// Latency over every node, in ms.
    pub latency: Window,
    pub max_ms: f64,
}

impl Probe {
    pub fn new(names: Vec<String>, tracker: Tracker, presence: Option<Presence>) -> Probe {
        Probe {
            nodes: {
                let count = names.len();
                names
                    .into_iter()
                    .map(|n| NodeStats::new(n, count))
                    .collect()
            },
            tracker,
            presence,
            presence_differs: false,
            presence_first: None,
            latency: Window::default(),
            max_ms: 0.0,
        }
    }

    pub fn name(&self, node: usize) -> String {
        self.nodes
            .get(node)
            .map_or_else(|| format!("node {node}"), |n| n.name.clone())
    }

    /// The API accepted canary `seq` published via `via`.
    /// The API accepted canary `seq` through `via`; ends `publish_failing` for it.
    pub fn published(&mut self, seq: u64, via: usize) -> Option<Alert> {
        let accepted = self.tracker.accepted(seq);
        let n = self.nodes.get_mut(via)?;
        if accepted {
            n.sent += 1;
        }
        std::mem::take(&mut n.publish_failing).then(|| Alert {
            kind: AlertKind::PublishFailing,
            change: Change::Recovered,
            node: Some(via),
            detail: format!("publishing through {} works again", n.name),
        })
    }

    /// Canary `seq` could not be published through `via`: raises `publish_failing` for it,
    /// once until a publish through it succeeds.
    pub fn publish_failed(&mut self, seq: u64, via: usize, error: String) -> Option<Alert> {
        self.tracker.failed(seq);
        let n = self.nodes.get_mut(via)?;
        n.publish_errors += 1;
        let detail = format!("publishing through {} fails: {error}", n.name);
        n.last_error = Some(error);
        (!std::mem::replace(&mut n.publish_failing, true)).then_some(Alert {
            kind: AlertKind::PublishFailing,
            change: Change::Raised,
            node: Some(via),
            detail,
        })
    }

    /// The canary subscription on `node` succeeded (`None`) or was refused, and why: the
    /// node cannot receive canaries while it is refused.
    pub fn subscription(&mut self, node: usize, refused: Option<&str>) -> Option<Alert> {
        let n = self.nodes.get_mut(node)?;
        match refused {
            Some(why) => n.refused = Some(why.to_owned()),
            None => n.subscribed = true,
        }
        let was = std::mem::replace(&mut n.subscription_failed, refused.is_some());
        match (was, refused) {
            (false, Some(why)) => Some(Alert {
                kind: AlertKind::SubscriptionFailed,
                change: Change::Raised,
                node: Some(node),
                detail: format!("{} refused the canary subscription: {why}", n.name),
            }),
            (true, None) => Some(Alert {
                kind: AlertKind::SubscriptionFailed,
                change: Change::Recovered,
                node: Some(node),
                detail: format!("{} took the canary subscription", n.name),
            }),
            _ => None,
        }
    }

    /// The presence subscription on `node` was refused, and why.
    pub fn presence_refused(&mut self, node: usize, why: &str) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.refused = Some(format!("presence: {why}"));
        }
    }

    pub fn state(&mut self, node: usize, state: ConnectionState) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.state = state;
            n.ever_connected |= state == ConnectionState::Connected;
        }
        if state != ConnectionState::Connected
            && let Some(p) = &mut self.presence
        {
            p.forget(node);
        }
    }

    /// Counts one outcome; the alert it raises or ends, if any.
    pub fn outcome(&mut self, o: &Outcome) -> Option<Alert> {
        if o.accepted
            && let Some(n) = self.nodes.get_mut(o.via)
        {
            n.sent += 1;
        }
        let via = self.name(o.via);
        let n = self.nodes.get_mut(o.node)?;
        match o.fate {
            Fate::Received(d) => {
                let ms = d.as_secs_f64() * 1000.0;
                n.received += 1;
                n.latency.push(ms);
                n.max_ms = n.max_ms.max(ms);
                self.latency.push(ms);
                self.max_ms = self.max_ms.max(ms);
                if let Some(m) = n.missing.get_mut(o.via)
                    && *m
                {
                    *m = false;
                    return Some(Alert {
                        kind: AlertKind::CanaryMissing,
                        change: Change::Recovered,
                        node: Some(o.node),
                        detail: format!("canary {} (via {via}) arrived on {}", o.seq, n.name),
                    });
                }
            }
            Fate::Lost => {
                n.lost += 1;
                if let Some(m) = n.missing.get_mut(o.via)
                    && !*m
                {
                    *m = true;
                    return Some(Alert {
                        kind: AlertKind::CanaryMissing,
                        change: Change::Raised,
                        node: Some(o.node),
                        detail: format!(
                            "canary {} published via {via} did not arrive on {} within the loss time",
                            o.seq, n.name
                        ),
                    });
                }
            }
            Fate::Late(_) => n.late += 1,
            Fate::Duplicate => n.duplicates += 1,
        }
        None
    }

    /// Compares the presence lists (once per interval); the alert raised or ended, if any.
    pub fn check_presence(&mut self, now: Instant) -> Option<Alert> {
        let found = self.presence.as_mut()?.check(now);
        match (found, self.presence_differs) {
            (Some(m), false) => {
                let detail = m.describe(|i| self.name(i));
                self.presence_differs = true;
                self.presence_first.get_or_insert_with(|| detail.clone());
                Some(Alert {
                    kind: AlertKind::PresenceMismatch,
                    change: Change::Raised,
                    node: Some(m.b),
                    detail,
                })
            }
            (None, true) => {
                self.presence_differs = false;
                Some(Alert {
                    kind: AlertKind::PresenceMismatch,
                    change: Change::Recovered,
                    node: None,
                    detail: "every node lists the same presence members".into(),
                })
            }
            _ => None,
        }
    }

    pub fn total(&self, f: impl Fn(&NodeStats) -> u64) -> u64 {
        self.nodes.iter().map(f).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn probe(nodes: usize) -> Probe {
        let names = (0..nodes).map(|i| format!("ws://n{i}")).collect();
        Probe::new(names, Tracker::new(nodes, Duration::from_secs(5)), None)
    }

    fn outcome(node: usize, fate: Fate) -> Outcome {
        Outcome {
            seq: 3,
            via: 0,
            node,
            fate,
            accepted: false,
        }
    }

    #[test]
    fn a_loss_raises_one_alert_naming_the_node_until_a_canary_arrives() {
        let mut p = probe(2);
        let a = p.outcome(&outcome(1, Fate::Lost)).unwrap();
        assert_eq!(
            (a.kind, a.change, a.node),
            (AlertKind::CanaryMissing, Change::Raised, Some(1))
        );
        assert!(
            a.detail.contains("via ws://n0") && a.detail.contains("on ws://n1"),
            "{}",
            a.detail
        );
        assert_eq!(p.outcome(&outcome(1, Fate::Lost)), None, "raised once");
        assert_eq!(
            p.outcome(&outcome(1, Fate::Late(Duration::from_secs(6)))),
            None
        );
        let other = Outcome {
            via: 1,
            ..outcome(1, Fate::Received(Duration::from_millis(1)))
        };
        assert_eq!(
            p.outcome(&other),
            None,
            "a canary via another node ends nothing"
        );
        let r = p
            .outcome(&outcome(1, Fate::Received(Duration::from_millis(4))))
            .unwrap();
        assert_eq!(r.change, Change::Recovered);
        let n = &p.nodes[1];
        assert_eq!((n.lost, n.late, n.received, n.max_ms), (2, 1, 2, 4.0));
        assert_eq!(p.nodes[0].lost, 0);
    }

    #[test]
    fn publish_errors_keep_the_last_reason_and_withdraw_the_canary() {
        let mut p = probe(1);
        p.tracker.publishing(1, 0, Instant::now());
        p.publish_failed(1, 0, "HTTP 401: invalid signature".into());
        assert_eq!(p.tracker.waiting(), 0);
        assert_eq!(p.nodes[0].publish_errors, 1);
        assert_eq!(
            p.nodes[0].last_error.as_deref(),
            Some("HTTP 401: invalid signature")
        );
    }

    #[test]
    fn failing_publishes_and_a_refused_subscription_alert_once_and_recover() {
        let mut p = probe(2);
        let raised = p.publish_failed(1, 1, "HTTP 401: invalid signature".into());
        let a = raised.expect("the first failure raises");
        assert_eq!(
            (a.kind, a.change, a.node),
            (AlertKind::PublishFailing, Change::Raised, Some(1))
        );
        assert!(
            a.detail.ends_with("fails: HTTP 401: invalid signature"),
            "{}",
            a.detail
        );
        assert_eq!(p.publish_failed(2, 1, "again".into()), None, "raised once");
        assert_eq!(
            p.published(3, 0),
            None,
            "another node's success ends nothing"
        );
        let r = p.published(4, 1).expect("a success recovers");
        assert_eq!(
            (r.kind, r.change),
            (AlertKind::PublishFailing, Change::Recovered)
        );
        assert_eq!(p.published(5, 1), None);

        let a = p.subscription(0, Some("auth refused")).unwrap();
        assert_eq!(
            (a.kind, a.change, a.node),
            (AlertKind::SubscriptionFailed, Change::Raised, Some(0))
        );
        assert_eq!(p.subscription(0, Some("auth refused")), None);
        let r = p.subscription(0, None).unwrap();
        assert_eq!(r.change, Change::Recovered);
        assert_eq!(p.subscription(0, None), None);
    }

    #[test]
    fn presence_differences_alert_once_and_recover() {
        use super::super::members::Presence;
        use client::MemberChange;
        use protocol::frame::Member;
        let mut p = probe(2);
        p.presence = Some(Presence::new(2, Duration::ZERO));
        let snap = |id: &str| MemberChange::Snapshot {
            members: vec![Member {
                user_id: id.into(),
                user_info: serde_json::Value::Null,
            }],
            me: None,
        };
        let t0 = Instant::now();
        p.presence.as_mut().unwrap().apply(0, &snap("probe-0"));
        p.presence.as_mut().unwrap().apply(1, &snap("probe-1"));
        let a = p.check_presence(t0).unwrap();
        assert_eq!(
            (a.kind, a.change),
            (AlertKind::PresenceMismatch, Change::Raised)
        );
        assert!(a.detail.contains("ws://n0 lists probe-0"), "{}", a.detail);
        assert_eq!(p.check_presence(t0), None);
        p.presence.as_mut().unwrap().apply(1, &snap("probe-0"));
        assert_eq!(p.check_presence(t0).unwrap().change, Change::Recovered);
        assert!(p.presence_first.is_some(), "the verdict remembers it");
    }
}
