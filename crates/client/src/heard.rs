//! What the server writes in its own words (`pusher:error` messages, subscription errors,
//! close reasons, what a malformed frame held) goes on to every output: the terminal, logs,
//! recordings, `check`'s and `probe`'s verdicts. A URL quoted there loses its credentials and
//! its query values here, once, as a REST answer's do ([`net::http_url::redact_in`]).

use protocol::ServerMessage;

/// `text` with every URL in it redacted.
pub(crate) fn text(text: String) -> String {
    match net::http_url::redact_in(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(redacted) => redacted,
    }
}

/// A decoded message with its texts redacted (the others pass as they are).
pub(crate) fn message(msg: ServerMessage) -> ServerMessage {
    match msg {
        ServerMessage::Error(mut e) => {
            e.message = text(e.message);
            ServerMessage::Error(e)
        }
        ServerMessage::SubscriptionError { channel, mut error } => {
            error.error = text(error.error);
            error.kind = text(error.kind);
            ServerMessage::SubscriptionError { channel, error }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::frame::{PusherError, SubscriptionError};

    #[test]
    fn urls_in_the_servers_words_lose_their_credentials() {
        let said = "see https://admin:hunter2@h.test/x?token=SECRET";
        let ServerMessage::Error(e) = message(ServerMessage::Error(PusherError {
            code: Some(4301),
            message: said.into(),
            channel: None,
        })) else {
            panic!()
        };
        assert!(!e.message.contains("hunter2") && !e.message.contains("SECRET"));
        assert!(e.message.contains("h.test/x"), "{}", e.message);
        let ServerMessage::SubscriptionError { error, .. } =
            message(ServerMessage::SubscriptionError {
                channel: "x".into(),
                error: SubscriptionError {
                    kind: "AuthError".into(),
                    error: said.into(),
                    status: Some(401),
                },
            })
        else {
            panic!()
        };
        assert!(!error.error.contains("hunter2") && !error.error.contains("SECRET"));
        assert_eq!(text("no URL here".into()), "no URL here");
    }
}
