//! Effects: what the state asks for but does not do itself (it has no I/O). `State::key` and
//! `State::apply` return them as values; the run loop hands them to [`Runner::run`], and what
//! they come to goes back to the state as a [`Done`] message.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::export;
use super::form::Request;
use client::Client;
use client::publish::Publisher;
use protocol::channel::classify;
use protocol::channel::is_client_event;

/// Something for the run loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// End the dashboard (`q`, Ctrl-C, `--count` reached).
    Quit,
    /// Write these records (the log as shown) to an NDJSON file.
    Export(Vec<serde_json::Value>),
    /// Send a checked trigger.
    Trigger(Request),
}

/// What an effect came to, for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Exported(Result<(PathBuf, usize), String>),
    Triggered(String),
}

/// What the dashboard can send on the user's behalf (`t`), by connection: through its REST
/// API when the secret is known, and client events through the live connection.
#[derive(Clone, Default)]
pub struct Senders {
    pub rest: Vec<Option<Publisher>>,
    pub clients: Vec<Client>,
}

/// Runs effects. Quick ones answer at once; a trigger answers later, on the channel.
pub struct Runner {
    senders: Senders,
    /// Where exports go.
    dir: PathBuf,
    done: mpsc::Sender<Done>,
}

/// What running an effect gave.
#[derive(Debug, PartialEq)]
pub enum Ran {
    Quit,
    /// Done now.
    Done(Done),
    /// The answer comes on the channel.
    Later,
}

/// Most triggers in flight; more are refused at once (each holds a request task).
pub const MAX_IN_FLIGHT: usize = 16;

impl Runner {
    /// A runner, and the channel its late answers come on.
    pub fn new(senders: Senders, dir: PathBuf) -> (Runner, mpsc::Receiver<Done>) {
        let (done, rx) = mpsc::channel(MAX_IN_FLIGHT);
        (Runner { senders, dir, done }, rx)
    }

    pub fn run(&self, effect: Effect) -> Ran {
        match effect {
            Effect::Quit => Ran::Quit,
            Effect::Export(records) => Ran::Done(Done::Exported(
                export::write(&records, &self.dir, SystemTime::now()).map_err(|e| e.to_string()),
            )),
            Effect::Trigger(request) => {
                // A permit first, so no more than MAX_IN_FLIGHT tasks wait to answer.
                let Ok(permit) = self.done.clone().try_reserve_owned() else {
                    return Ran::Done(Done::Triggered(
                        "too many triggers in flight; try again".into(),
                    ));
                };
                let conn = usize::from(request.conn);
                let rest = self.senders.rest.get(conn).cloned().flatten();
                let client = self.senders.clients.get(conn).cloned();
                tokio::spawn(async move {
                    let via = request.via.clone();
                    let said = perform(request, rest.as_ref(), client.as_ref()).await;
                    let said = match via {
                        Some(label) => format!("via {label}: {said}"),
                        None => said,
                    };
                    permit.send(Done::Triggered(said));
                });
                Ran::Later
            }
        }
    }
}

/// Sends a request and says how it went, in a line for the log.
pub async fn perform(
    request: Request,
    rest: Option<&Publisher>,
    client: Option<&Client>,
) -> String {
    let Request {
        channel,
        event,
        data,
        ..
    } = request;
    if is_client_event(&event) {
        if classify(&channel).is_encrypted() {
            // pusher-js refuses them too: the server could not seal them for the others.
            return format!(
                "client event {event} on {channel} refused: client events cannot be sent on an encrypted channel"
            );
        }
        return match client {
            Some(c) => match c.trigger_client_event(&channel, &event, data).await {
                Ok(()) => format!("sent client event {event} on {channel}"),
                Err(e) => format!("client event {event} on {channel} refused: {e}"),
            },
            None => "client events need a live connection".into(),
        };
    }
    let Some(rest) = rest else {
        return "triggering needs the app id and secret (--app-id, --secret); client-* events do not".into();
    };
    let text = match &data {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match rest.trigger_one(&channel, &event, &text).await {
        Ok(answer) => format!("triggered {event} on {channel}: HTTP 200 {answer}"),
        Err(e) => format!("trigger of {event} on {channel} failed: {e}"),
    }
}
