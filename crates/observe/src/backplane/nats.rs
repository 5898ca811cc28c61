//! The tap's NATS source, for sockudo's NATS adapter (subjects `{prefix}.broadcast`,
//! `.requests`, `.responses` and `.node.{id}`): one subscription to `{prefix}.>`.
//!
//! **Not counted.** sockudo's NATS adapter never counts subscribers: it sizes its
//! scatter/gather by its `nodes_number` setting, else by how many NATS *servers* answer a
//! `$SYS.REQ.SERVER.PING` (its system account), else 1. A plain subscriber, this one
//! included, changes none of these, so the tap never makes a cluster query wait.
//!
//! **Bounded, and never a weight on the cluster.** async-nats reads the socket at once and
//! hands each message to the subscription's channel with `try_send`: when that channel is
//! full it drops the message and raises a slow-consumer event (counted here, in
//! [`Lost::slow`]). Its channel is capped at [`SUBSCRIPTION_CAPACITY`] messages, each at
//! most the server's `max_payload` (1 MiB by default), and this loop empties it at once
//! into the front end's bounded queue, which drops the newest when full and counts them.
//! If the tap ever stopped reading its socket altogether, nats-server would cut it as a
//! slow consumer after its own `max_pending`: core NATS never slows a publisher for a
//! subscriber. URL credentials (`nats://USER:PASSWORD@…` or `nats://TOKEN@…`) are used,
//! never shown.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bounded::{Limits, Overflow, TrySendError};
use futures_util::StreamExt;
use protocol::Secret;
use tokio::task::JoinHandle;

use super::{Lost, Raw, TapItem};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between attempts.
/// Messages async-nats may hold for the subscription before it drops (and says so).
pub const SUBSCRIPTION_CAPACITY: usize = 256;

/// The credentials a NATS URL carries.
#[derive(Clone)]
enum Auth {
    None,
    UserPassword(String, Secret),
    Token(Secret),
}

/// A NATS server to tap: where, with which credentials (used only to connect), and the URL
/// without them, for every output.
#[derive(Clone)]
pub struct NatsTarget {
    /// `nats://HOST:PORT`, no credentials.
    server: String,
    auth: Auth,
    shown: String,
}

impl fmt::Debug for NatsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NatsTarget({})", self.shown)
    }
}

fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl NatsTarget {
    /// `nats://[USER:PASSWORD@|TOKEN@]HOST[:PORT]` (port 4222 by default). Errors never
    /// quote the credentials.
    pub fn parse(text: &str) -> Result<NatsTarget, String> {
        let shown = net::http_url::redact(text);
        let usage = || format!("{shown}: a NATS tap URL is nats://[USER:PASSWORD@]HOST[:PORT]");
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(usage());
        };
        match scheme {
            "nats" => {}
            "tls" => {
                return Err(format!(
                    "{shown}: tls:// is not supported: tap the NATS server through a local \
                     tunnel (stunnel, ssh -L) as nats://127.0.0.1:PORT (a nats:// server that \
                     requires TLS is still met with it)"
                ));
            }
            _ => return Err(usage()),
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if !(tail.is_empty() || tail == "/") {
            return Err(format!(
                "{shown}: a NATS URL has no path or query: nats://HOST:PORT"
            ));
        }
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let auth = match userinfo {
            None | Some("") => Auth::None,
            Some(u) => match u.split_once(':') {
                Some((user, password)) => {
                    Auth::UserPassword(decoded(user), Secret::new(decoded(password)))
                }
                None => Auth::Token(Secret::new(decoded(u))),
            },
        };
        if host.is_empty() || host.starts_with(':') {
            return Err(usage());
        }
        let server = format!("nats://{host}");
        // Checked by the client's own parser, whose error is not shown.
        async_nats::ServerAddr::from_str(&server).map_err(|_| usage())?;
        Ok(NatsTarget {
            server,
            auth,
            shown,
        })
    }

    /// The URL without its credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// What the NATS source subscribes to.
#[derive(Debug, Clone)]
pub struct Source {
    pub target: NatsTarget,
    /// The subject, wildcards and all: `{prefix}.>`.
    pub subject: String,
    /// A message bigger than this is counted and not handed over.
    pub max_message: usize,
}

/// The subject that covers all of sockudo's NATS subjects for `prefix`, or why there is
/// none: a NATS subject has no spaces, and `*` and `>` in the prefix would be wildcards.
pub fn subject_for(prefix: &str) -> Result<String, String> {
    if prefix.is_empty()
        || prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '*' || c == '>')
        || prefix.starts_with('.')
        || prefix.ends_with('.')
        || prefix.contains("..")
    {
        return Err(format!(
            "--prefix {:?} is not a NATS subject prefix (no spaces, no * or >, no empty token)",
            protocol::safe_text::terminal_safe(prefix)
        ));
    }
    Ok(format!("{prefix}.>"))
}

/// Starts the source; its items come on the receiver, at most `limits` of them waiting.
pub fn spawn(
    source: Source,
    limits: Limits,
) -> (bounded::Receiver<TapItem>, Arc<Lost>, JoinHandle<()>) {
    let (tx, rx) = bounded::queue::<TapItem>(limits, Overflow::DropNewest);
    let lost = Arc::new(Lost::default());
    let task = tokio::spawn(run(source, tx, Arc::clone(&lost)));
    (rx, lost, task)
}

/// Text from async-nats, without anything that could be a credential or a control
/// character.
fn said(e: &dyn fmt::Display) -> String {
    let text = e.to_string();
    protocol::safe_text::terminal_safe(&net::http_url::redact_in(&text)).into_owned()
}

async fn run(source: Source, tx: bounded::Sender<TapItem>, lost: Arc<Lost>) {
    let closed = format!("{}: the connection closed", source.target.shown());
    super::keep_up(&tx, &closed, || session(&source, &tx, &lost)).await;
}

/// One client's life: connect, subscribe, read until the client closes. async-nats
/// reconnects on its own meanwhile (and subscribes again); those moves are reported.
async fn session(
    source: &Source,
    tx: &bounded::Sender<TapItem>,
    lost: &Arc<Lost>,
) -> Result<(), String> {
    let shown = source.target.shown().to_owned();
    // Connection events are reported once the first subscription is made.
    let ready = Arc::new(AtomicBool::new(false));
    let mut options = async_nats::ConnectOptions::new()
        .name("tickertape tap")
        .connection_timeout(CONNECT_TIMEOUT)
        .subscription_capacity(SUBSCRIPTION_CAPACITY)
        // Only the server it was given: never a stranger the server's INFO names.
        .ignore_discovered_servers()
        .event_callback({
            let (tx, lost, ready, shown) = (
                tx.clone(),
                Arc::clone(lost),
                Arc::clone(&ready),
                shown.clone(),
            );
            move |event| {
                let (tx, lost, ready, shown) = (
                    tx.clone(),
                    Arc::clone(&lost),
                    Arc::clone(&ready),
                    shown.clone(),
                );
                async move {
                    let state = match event {
                        async_nats::Event::SlowConsumer(_) => {
                            lost.slow.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                        async_nats::Event::Connected => {
                            Some((true, format!("{shown}: connected again, subscribed again")))
                        }
                        async_nats::Event::Disconnected => {
                            Some((false, format!("{shown}: disconnected (reconnecting)")))
                        }
                        other => Some((false, format!("{shown}: {}", said(&other)))),
                    };
                    if let Some((up, detail)) = state
                        && ready.load(Ordering::Relaxed)
                    {
                        let _ = tx.try_send(TapItem::State { up, detail });
                    }
                }
            }
        });
    options = match &source.target.auth {
        Auth::None => options,
        Auth::UserPassword(user, password) => {
            options.user_and_password(user.clone(), password.expose().to_owned())
        }
        Auth::Token(token) => options.token(token.expose().to_owned()),
    };
    let client = tokio::time::timeout(
        CONNECT_TIMEOUT + Duration::from_secs(1),
        options.connect(source.target.server.as_str()),
    )
    .await
    .map_err(|_| format!("{shown}: no answer within {CONNECT_TIMEOUT:?}"))?
    .map_err(|e| format!("{shown}: {}", said(&e)))?;
    let mut messages = client
        .subscribe(source.subject.clone())
        .await
        .map_err(|e| format!("{shown}: SUB refused: {}", said(&e)))?;
    // The server has the subscription once a flush (PING/PONG) comes back.
    tokio::time::timeout(CONNECT_TIMEOUT, client.flush())
        .await
        .map_err(|_| format!("{shown}: no answer within {CONNECT_TIMEOUT:?}"))?
        .map_err(|e| format!("{shown}: {}", said(&e)))?;
    let _ = tx.try_send(TapItem::State {
        up: true,
        detail: format!(
            "{shown}: subscribed to {}",
            protocol::safe_text::terminal_safe(&source.subject)
        ),
    });
    ready.store(true, Ordering::Relaxed);
    while let Some(msg) = messages.next().await {
        if msg.payload.len() > source.max_message {
            lost.oversize.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let raw = Raw {
            at: Instant::now(),
            wall: SystemTime::now(),
            channel: protocol::limits::cut_name(msg.subject.as_str()).into_owned(),
            payload: msg.payload.to_vec(),
        };
        match tx.try_send(TapItem::Message(raw)) {
            Ok(()) => {}
            Err(TrySendError::Full(..)) => {
                lost.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Closed(_)) => break,
        }
    }
    ready.store(false, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_their_credentials() {
        let t = NatsTarget::parse("nats://user:hunter2@127.0.0.1:4222").unwrap();
        assert_eq!(t.shown(), "nats://***@127.0.0.1:4222");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(t.server, "nats://127.0.0.1:4222");
        assert!(
            matches!(&t.auth, Auth::UserPassword(u, p) if u == "user" && p.expose() == "hunter2")
        );
        let t = NatsTarget::parse("nats://s3cr%40t@10.0.0.5").unwrap();
        assert!(matches!(&t.auth, Auth::Token(x) if x.expose() == "s3cr@t"));
        assert!(!t.shown().contains("s3cr"));
        for bad in [
            "tls://u:hunter2@h:1",
            "nats://u:hunter2@",
            "nats://u:hunter2@h:1/path",
            "nats://u:hunter2@h:notaport",
            "redis://u:hunter2@h",
            "u:hunter2@h",
        ] {
            let e = NatsTarget::parse(bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn subjects() {
        assert_eq!(
            subject_for("sockudo_adapter:").unwrap(),
            "sockudo_adapter:.>"
        );
        assert_eq!(subject_for("a.b").unwrap(), "a.b.>");
        for bad in ["", "a b", "a*", "a>", ".a", "a.", "a..b", "a\nb"] {
            assert!(subject_for(bad).is_err(), "{bad:?}");
        }
    }
}
