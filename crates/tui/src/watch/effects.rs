//! What the watch screen asks for but does not do itself (it has no I/O): an export of the
//! log, and a trigger from the form. Each is a task for the kit's event loop, whose result
//! comes back to the screen as a [`Done`] and is noted in the log.

use std::path::PathBuf;
use std::time::SystemTime;

use super::export;
use super::form::Request;
use super::saved::ViewSpec;
use client::Client;
use client::publish::Publisher;
use protocol::channel::classify;
use protocol::channel::is_client_event;

/// What an effect came to, for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Exported(Result<(PathBuf, usize), String>),
    Triggered(String),
    /// A palette command's answer: what it was about, and how it went.
    Said(String, String),
    /// `:view save NAME` wrote the view: it is one of the views from now on.
    ViewSaved(ViewSpec, String),
}

/// What the screen can send on the user's behalf (`t`), by connection: through its REST
/// API when the secret is known, and client events through the live connection.
#[derive(Clone, Default)]
pub struct Senders {
    pub rest: Vec<Option<Publisher>>,
    pub clients: Vec<Client>,
}

/// Writes the records to a new file in `dir`, off the event loop's thread.
pub(super) async fn export(records: Vec<serde_json::Value>, dir: PathBuf) -> Done {
    let written = tokio::task::spawn_blocking(move || {
        export::write(&records, &dir, SystemTime::now()).map_err(|e| e.to_string())
    })
    .await;
    Done::Exported(written.unwrap_or_else(|e| Err(e.to_string())))
}

/// Sends a checked request through the connection it names, and says how it went (which
/// connection, with several).
pub async fn send(request: Request, senders: &Senders) -> Done {
    let conn = usize::from(request.conn);
    let rest = senders.rest.get(conn).cloned().flatten();
    let client = senders.clients.get(conn).cloned();
    let via = request.via.clone();
    let said = perform(request, rest.as_ref(), client.as_ref()).await;
    Done::Triggered(match via {
        Some(label) => format!("via {label}: {said}"),
        None => said,
    })
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
