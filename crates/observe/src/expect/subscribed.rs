//! `check`'s subscriptions: every channel it subscribes to must be taken by the server. A
//! refused subscription (a wrong secret, an auth endpoint that says no) or one the server
//! never answers while connected is CRITICAL: nothing on that channel could be checked.
//! Pure: fed the engine's items; the channels are the check's own (never the wire's).

use super::parse::Level;
use super::verdict::{Outcome, Perf, Status};
use client::{Item, SubscriptionStatus};
use protocol::safe_text::terminal_safe;

/// The longest refusal message kept (it comes from the server or the auth endpoint).
const MAX_MESSAGE: usize = 300;

#[derive(Debug, Clone, PartialEq)]
enum Sub {
    /// Not answered yet.
    Waiting,
    Subscribed,
    /// Refused, at least once: why, the last time.
    Refused(String),
}

/// Each channel of the check and what became of its subscription.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    channels: Vec<(String, Sub)>,
}

impl Subscriptions {
    pub fn new(channels: &[String]) -> Subscriptions {
        Subscriptions {
            channels: channels.iter().map(|c| (c.clone(), Sub::Waiting)).collect(),
        }
    }

    /// One item of the engine; only its subscriptions count. A refusal stays: the verdict
    /// is for the whole window.
    pub fn apply(&mut self, item: &Item) {
        let Item::Subscription { channel, status } = item else {
            return;
        };
        let Some((_, sub)) = self.channels.iter_mut().find(|(c, _)| c == channel) else {
            return;
        };
        match (&**status, &sub) {
            (SubscriptionStatus::Failed(f), _) => {
                let why: String = terminal_safe(&f.message)
                    .chars()
                    .take(MAX_MESSAGE)
                    .collect();
                *sub = Sub::Refused(why);
            }
            (SubscriptionStatus::Subscribed, Sub::Waiting) => *sub = Sub::Subscribed,
            _ => {}
        }
    }

    /// A subscription was refused: the verdict is CRITICAL whatever comes.
    pub fn refused(&self) -> bool {
        self.channels
            .iter()
            .any(|(_, s)| matches!(s, Sub::Refused(_)))
    }

    /// The verdict's `subscribed` part; none when the check subscribes to nothing. Refused,
    /// or never answered while the connection was up: CRITICAL. Never connected: UNKNOWN
    /// here (the `connected` part says what went wrong).
    pub fn outcome(&self, ever_connected: bool) -> Option<Outcome> {
        if self.channels.is_empty() {
            return None;
        }
        let refused: Vec<String> = self
            .channels
            .iter()
            .filter_map(|(c, s)| match s {
                Sub::Refused(why) => Some(format!("{c} refused: {why}")),
                _ => None,
            })
            .collect();
        let waiting: Vec<&str> = self
            .channels
            .iter()
            .filter(|(_, s)| *s == Sub::Waiting)
            .map(|(c, _)| c.as_str())
            .collect();
        let subscribed = self
            .channels
            .iter()
            .filter(|(_, s)| *s == Sub::Subscribed)
            .count();
        let (status, detail) = if !refused.is_empty() {
            (Status::Critical, refused.join(", "))
        } else if !ever_connected {
            (Status::Unknown, "never connected".to_owned())
        } else if !waiting.is_empty() {
            (
                Status::Critical,
                format!(
                    "no answer from the server to the subscription of {}",
                    waiting.join(", ")
                ),
            )
        } else {
            (
                Status::Ok,
                format!(
                    "{subscribed} channel{} subscribed",
                    if subscribed == 1 { "" } else { "s" }
                ),
            )
        };
        Some(Outcome {
            expectation: "subscribed".into(),
            level: Level::Critical,
            status,
            detail,
            perf: vec![Perf {
                label: "channels_subscribed".into(),
                value: subscribed as f64,
                unit: "c",
                warn: None,
                crit: None,
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::SubscriptionFailure;

    fn sub(channel: &str, status: SubscriptionStatus) -> Item {
        Item::Subscription {
            channel: channel.into(),
            status: Box::new(status),
        }
    }

    fn failed(message: &str) -> SubscriptionStatus {
        SubscriptionStatus::Failed(SubscriptionFailure {
            message: message.into(),
            status: Some(403),
            string_to_sign: None,
            auth: true,
        })
    }

    #[test]
    fn a_refused_subscription_is_critical_and_stays_so() {
        let mut s = Subscriptions::new(&["private-a".into(), "b".into()]);
        s.apply(&sub("b", SubscriptionStatus::Subscribed));
        s.apply(&sub("private-a", failed("invalid signature\u{1b}[2J")));
        assert!(s.refused());
        s.apply(&sub("private-a", SubscriptionStatus::Subscribed));
        let o = s.outcome(true).unwrap();
        assert_eq!(o.status, Status::Critical);
        assert!(
            o.detail.starts_with("private-a refused: invalid signature"),
            "{}",
            o.detail
        );
        assert!(!o.detail.contains('\u{1b}'), "{}", o.detail);
        assert_eq!(o.perf[0].value, 1.0, "b only");
    }

    #[test]
    fn unanswered_while_connected_is_critical_never_connected_unknown() {
        let mut s = Subscriptions::new(&["a".into(), "b".into()]);
        s.apply(&sub("a", SubscriptionStatus::Subscribed));
        s.apply(&sub("elsewhere", failed("not ours")));
        assert!(!s.refused());
        let o = s.outcome(true).unwrap();
        assert_eq!(o.status, Status::Critical);
        assert!(o.detail.ends_with("subscription of b"), "{}", o.detail);
        assert_eq!(s.outcome(false).unwrap().status, Status::Unknown);
        s.apply(&sub("b", SubscriptionStatus::Subscribed));
        // A reconnection's resubscription (pending again) is not a new wait.
        s.apply(&sub("a", SubscriptionStatus::Pending));
        let o = s.outcome(true).unwrap();
        assert_eq!(
            (o.status, o.detail.as_str()),
            (Status::Ok, "2 channels subscribed")
        );
        assert!(Subscriptions::new(&[]).outcome(true).is_none());
    }
}
