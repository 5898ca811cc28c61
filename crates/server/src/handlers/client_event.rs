//! `client-*` events: checked against the app's switch, the channel kind, the name and size
//! limits and the per-connection rate, then sent to the channel's other subscribers.

use std::time::{Duration, Instant};

use super::Handler;
use crate::log::Publish;
use protocol::ServerMessage;
use protocol::channel::{classify, is_client_event, validate_event};
use protocol::frame::Event;
use protocol::limits::{CLIENT_EVENTS_PER_SECOND, MAX_EVENT_DATA_BYTES};

impl Handler {
    pub(super) fn client_event(&mut self, ev: Event) {
        let Some(channel) = ev.channel.clone() else {
            return self.error(None, format!("{} needs a channel", ev.event), None);
        };
        if let Err((code, message)) = self.check_client_event(&channel, &ev) {
            return self.error(code, message, Some(&channel));
        }
        let Some(user) = self
            .hub
            .subscription(&self.app.id, &self.socket_id, &channel)
        else {
            return self.error(
                Some(4301),
                format!("Not subscribed to {channel}"),
                Some(&channel),
            );
        };
        // The size is measured again only for the log.
        let bytes = match self.log.enabled() {
            true => ev.data.to_wire_string().len(),
            false => 0,
        };
        let event = ev.event.clone();
        self.hub.client_event_webhook(
            &self.app.id,
            &channel,
            &ev.event,
            || ev.data.to_wire_string(),
            &self.socket_id,
            user.as_deref(),
        );
        let frame = ServerMessage::Event(Event {
            user_id: user,
            channel: Some(channel.clone()),
            ..ev
        })
        .encode();
        let delivery =
            self.hub
                .publish_client_event(&self.app.id, &channel, frame.into(), &self.socket_id);
        let publish = Publish {
            app: &self.app.id,
            channel: &channel,
            event: &event,
            bytes,
            excluded: Some(&self.socket_id),
            delivery,
        };
        self.log.client_event(&self.socket_id, &publish);
    }

    /// Every rule a client event must pass, cheapest first; the rate token is taken last, so
    /// refused events do not use it up.
    fn check_client_event(
        &mut self,
        channel: &str,
        ev: &Event,
    ) -> Result<(), (Option<u16>, String)> {
        let rejected = |why: String| Err((Some(4301), why));
        if !is_client_event(&ev.event) {
            return Err((
                None,
                format!(
                    "Unknown event {:?}: client events must start with client-",
                    ev.event
                ),
            ));
        }
        if !self.app.client_events {
            return rejected("Client events are not enabled for this app".into());
        }
        if !classify(channel).allows_client_events() {
            return rejected(format!(
                "Client events are only allowed on private and presence channels, not {channel}"
            ));
        }
        if let Err(e) = validate_event(&ev.event) {
            return rejected(e.to_string());
        }
        if ev.data.to_wire_string().len() > MAX_EVENT_DATA_BYTES {
            return rejected(format!(
                "Client event data is over {MAX_EVENT_DATA_BYTES} bytes"
            ));
        }
        if !self.take_rate_token() {
            return rejected(format!(
                "Client event rejected: over {CLIENT_EVENTS_PER_SECOND} per second"
            ));
        }
        // All the sockets of one address share a budget too: more sockets buy no more.
        if !self.hub.take_client_event_token(self.ip) {
            return rejected(format!(
                "Client event rejected: over {} per second from your address",
                self.hub.limits().client_events_per_ip
            ));
        }
        Ok(())
    }

    fn take_rate_token(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(1) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        self.window.1 <= CLIENT_EVENTS_PER_SECOND
    }
}
