//! The tap's Redis source: one pattern subscription (`PSUBSCRIBE`, never `SUBSCRIBE`), and a
//! second connection that asks `PUBSUB NUMSUB` of the channel the cluster counts its nodes
//! by. Messages go to the front end over a bounded queue that drops the newest when full and
//! counts them: the socket is always read at once, so a flood costs the tap (what it shows),
//! never Redis's output buffer for it, nor the cluster. A lost connection is reported and
//! tried again (1 s, doubling to 10 s). Redis URL credentials are used, never shown.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use bounded::{Limits, Overflow, TrySendError};
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::{Lost, Raw, TapItem};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Redis server to tap: its URL (credentials and all, used only to connect) and the same
/// without them, for every output.
#[derive(Clone)]
pub struct RedisTarget {
    url: String,
    shown: String,
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisTarget({})", self.shown)
    }
}

impl RedisTarget {
    /// `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`. Errors never quote the credentials.
    pub fn parse(text: &str) -> Result<RedisTarget, String> {
        let shown = net::http_url::redact(text);
        let Some((scheme, _)) = text.split_once("://") else {
            return Err(format!("{shown}: a tap URL is redis://HOST:PORT"));
        };
        match scheme {
            "redis" => {}
            "rediss" => {
                return Err(format!(
                    "{shown}: rediss:// (Redis over TLS) is not supported: tap a node's Redis \
                     through a local tunnel (stunnel, ssh -L) as redis://127.0.0.1:PORT"
                ));
            }
            "nats" | "tls" => {
                return Err(format!(
                    "{shown}: a NATS URL, where a Redis one (redis://HOST:PORT) is needed"
                ));
            }
            other => {
                return Err(format!(
                    "{shown}: unknown scheme {:?}: a tap URL is redis://HOST:PORT",
                    protocol::safe_text::terminal_safe(other)
                ));
            }
        }
        // Checked by the client's own parser, whose error is not shown (it may quote the URL).
        client(text).map_err(|_| format!("{shown}: not a valid redis:// URL"))?;
        Ok(RedisTarget {
            url: text.to_owned(),
            shown,
        })
    }

    /// The URL without its credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// What the source subscribes to.
#[derive(Debug, Clone)]
pub struct Source {
    pub target: RedisTarget,
    /// The `PSUBSCRIBE` pattern.
    pub pattern: String,
    /// The channel whose `PUBSUB NUMSUB` is the cluster's node count, if it counts so.
    pub counted: Option<String>,
    /// How often NUMSUB is asked.
    pub numsub_every: Duration,
    /// A message bigger than this is counted and not handed over.
    pub max_message: usize,
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

/// Redis's error, without anything that could be a credential or a control character.
fn said(e: &::redis::RedisError) -> String {
    let text = e.to_string();
    protocol::safe_text::terminal_safe(&net::http_url::redact_in(&text)).into_owned()
}

async fn run(source: Source, tx: bounded::Sender<TapItem>, lost: Arc<Lost>) {
    let closed = "the connection closed".to_owned();
    super::keep_up(&tx, &closed, || session(&source, &tx, &lost)).await;
}

/// A client for `url` whose connections have Nagle's algorithm off, as every socket of the
/// project (`net::tcp`): the redis crate leaves it on unless told.
fn client(url: &str) -> ::redis::RedisResult<::redis::Client> {
    use ::redis::IntoConnectionInfo;
    let info = url.into_connection_info()?;
    let tcp = info.tcp_settings().clone().set_nodelay(true);
    ::redis::Client::open(info.set_tcp_settings(tcp))
}

/// One connection's life: subscribe, then read until it ends.
async fn session(
    source: &Source,
    tx: &bounded::Sender<TapItem>,
    lost: &Lost,
) -> Result<(), String> {
    let shown = source.target.shown();
    let client = client(source.target.url.as_str())
        .map_err(|_| format!("{shown}: not a valid redis:// URL"))?;
    let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| format!("{shown}: no answer within {CONNECT_TIMEOUT:?}"))?
        .map_err(|e| format!("{shown}: {}", said(&e)))?;
    pubsub
        .psubscribe(&source.pattern)
        .await
        .map_err(|e| format!("{shown}: PSUBSCRIBE refused: {}", said(&e)))?;
    let _ = tx.try_send(TapItem::State {
        up: true,
        detail: format!(
            "{shown}: pattern-subscribed to {}",
            protocol::safe_text::terminal_safe(&source.pattern)
        ),
    });
    let counting = source.counted.clone().map(|channel| {
        let (client, tx, every) = (client.clone(), tx.clone(), source.numsub_every);
        tokio::spawn(async move { numsub_loop(client, channel, every, tx).await })
    });
    let mut messages = pubsub.into_on_message();
    while let Some(msg) = messages.next().await {
        let payload = msg.get_payload_bytes();
        if payload.len() > source.max_message {
            lost.oversize.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let raw = Raw {
            at: Instant::now(),
            wall: SystemTime::now(),
            channel: protocol::limits::cut_name(msg.get_channel_name()).into_owned(),
            payload: payload.to_vec(),
        };
        match tx.try_send(TapItem::Message(raw)) {
            Ok(()) => {}
            Err(TrySendError::Full(..)) => {
                lost.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Closed(_)) => break,
        }
    }
    if let Some(task) = counting {
        task.abort();
    }
    Ok(())
}

/// `PUBSUB NUMSUB channel` every `every`, on a connection of its own.
async fn numsub_loop(
    client: ::redis::Client,
    channel: String,
    every: Duration,
    tx: bounded::Sender<TapItem>,
) {
    let Ok(Ok(mut conn)) =
        tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection()).await
    else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let mut cmd = ::redis::cmd("PUBSUB");
        cmd.arg("NUMSUB").arg(&channel);
        let asked = cmd.query_async::<::redis::Value>(&mut conn);
        let Ok(Ok(value)) = tokio::time::timeout(CONNECT_TIMEOUT, asked).await else {
            return;
        };
        if let Some(n) = numsub_count(&value)
            && tx.try_send(TapItem::NumSub(n)).is_err()
            && tx.is_closed()
        {
            return;
        }
    }
}

/// The count in NUMSUB's answer, `[channel, count]`.
fn numsub_count(value: &::redis::Value) -> Option<u64> {
    match value {
        ::redis::Value::Array(items) => match items.get(1)? {
            ::redis::Value::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_their_credentials() {
        let t = RedisTarget::parse("redis://user:hunter2@127.0.0.1:6379/0").unwrap();
        assert_eq!(t.shown(), "redis://***@127.0.0.1:6379/0");
        assert!(!format!("{t:?}").contains("hunter2"));
        for bad in [
            "rediss://u:hunter2@h:1",
            "nats://u:hunter2@h:4222",
            "http://u:hunter2@h",
            "u:hunter2@h",
        ] {
            let e = RedisTarget::parse(bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn connections_have_nagle_off() {
        let c = client("redis://127.0.0.1:6379/0").unwrap();
        assert!(c.get_connection_info().tcp_settings().nodelay());
    }

    #[test]
    fn numsub_answers() {
        use ::redis::Value;
        let v = Value::Array(vec![Value::BulkString(b"x".to_vec()), Value::Int(2)]);
        assert_eq!(numsub_count(&v), Some(2));
        assert_eq!(numsub_count(&Value::Nil), None);
    }
}
