//! What a front end asks of the engine, and the handle it asks through.

use tokio::sync::{mpsc, oneshot, watch};

use super::item::Link;
use super::stats::Stats;
use super::subscriptions::Counts;
use protocol::channel;

pub(crate) enum Command {
    Subscribe(String),
    Unsubscribe(String),
    ClientEvent {
        channel: String,
        event: String,
        data: serde_json::Value,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Snapshot(oneshot::Sender<Snapshot>),
    Disconnect,
}

/// Counters and subscription counts at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub stats: Stats,
    pub channels: Counts,
    pub dropped: u64,
}

/// Errors from the handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Name(#[from] channel::NameError),
    #[error("the connection engine has stopped")]
    Stopped,
    #[error("{0}")]
    Rejected(String),
}

/// The front end's handle on a running engine. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) cmds: mpsc::Sender<Command>,
    pub(crate) link: watch::Receiver<Link>,
}

impl Client {
    /// The connection's state now, and every change as it happens: a path of its own, on
    /// which a flood of items waiting in the feed never delays a state change.
    pub fn link(&self) -> watch::Receiver<Link> {
        self.link.clone()
    }

    pub async fn subscribe(&self, channel: &str) -> Result<(), ClientError> {
        channel::validate_channel(channel, false)?;
        self.send(Command::Subscribe(channel.to_owned())).await
    }

    pub async fn unsubscribe(&self, channel: &str) -> Result<(), ClientError> {
        self.send(Command::Unsubscribe(channel.to_owned())).await
    }

    /// Sends a `client-*` event on a subscribed private or presence channel.
    pub async fn trigger_client_event(
        &self,
        channel: &str,
        event: &str,
        data: serde_json::Value,
    ) -> Result<(), ClientError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::ClientEvent {
            channel: channel.to_owned(),
            event: event.to_owned(),
            data,
            reply,
        })
        .await?;
        answer
            .await
            .map_err(|_| ClientError::Stopped)?
            .map_err(ClientError::Rejected)
    }

    /// The engine's counters now.
    pub async fn snapshot(&self) -> Result<Snapshot, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Snapshot(reply)).await?;
        answer.await.map_err(|_| ClientError::Stopped)
    }

    /// Closes the connection (code 1000) and stops the engine.
    pub async fn disconnect(&self) {
        let _ = self.cmds.send(Command::Disconnect).await;
    }

    async fn send(&self, cmd: Command) -> Result<(), ClientError> {
        self.cmds.send(cmd).await.map_err(|_| ClientError::Stopped)
    }
}
