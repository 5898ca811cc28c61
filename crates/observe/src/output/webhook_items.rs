//! A received webhook as the dashboard's items: each webhook event an event of its own on
//! its channel (named `channel_occupied`, `member_added`, …), its fields as the data, so the
//! log, the filter, inspect, the events pane and export all work on webhooks as they do on
//! a channel's events. An invalid signature is an error line before the events, with why
//! and the signature expected; a body that is not a webhook's is an error line alone.

use serde_json::{Map, Value};

use super::webhooks::{Received, Why, app_text, parse, value_text, why_parts};
use client::{Item, ReceivedEvent};
use protocol::Data;

/// The items one request brings, in order: the signature's verdict when it is not valid,
/// then one event per webhook event. Whether the body is a webhook's comes second.
pub fn items(r: &Received<'_>, path: &str) -> (Vec<Item>, bool) {
    let mut items = Vec::new();
    let valid = r.check.is_valid();
    if !valid {
        let Why {
            reason,
            expected,
            received,
        } = why_parts(r);
        items.push(Item::Error(format!(
            "INVALID webhook signature ({}): {reason}; expected {expected}, received {received}",
            app_text(r)
        )));
    }
    let body = match parse(r.body) {
        Ok(body) => body,
        Err(why) => {
            items.push(Item::Error(format!(
                "a POST to {path} ({}) is not a webhook: {why}",
                app_text(r)
            )));
            return (items, false);
        }
    };
    if body.events.is_empty() {
        items.push(Item::Notice(format!(
            "a webhook with no events ({})",
            app_text(r)
        )));
    }
    for e in body.events {
        // What tells one event from another first, as the log line shows the start.
        let mut data = Map::new();
        let user_id = e.user_id.as_ref().map(value_text);
        let fields = [
            ("user_id", e.user_id),
            ("event", e.event.map(Value::String)),
            ("data", e.data),
            ("socket_id", e.socket_id.map(Value::String)),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                data.insert(name.into(), value);
            }
        }
        data.insert("valid".into(), Value::Bool(valid));
        if let Some(app) = &r.check.app {
            data.insert("app".into(), Value::String(app.clone()));
        }
        data.insert("time_ms".into(), body.time_ms.into());
        let data = Value::Object(data);
        let raw = data.to_string();
        items.push(Item::from(ReceivedEvent::decoded(
            r.at,
            e.channel,
            e.name,
            Data::Json(data),
            user_id,
            raw,
        )));
    }
    (items, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::webhooks::with_received;
    use protocol::webhook::sign;

    fn items_of(body: &[u8], sig: Option<&str>) -> Vec<Item> {
        with_received(body, sig, |r| items(r, "/hooks").0)
    }

    #[test]
    fn each_webhook_event_is_an_event_on_its_channel_with_its_fields_as_data() {
        let body = br#"{"time_ms":5,"events":[{"name":"member_added","channel":"presence-room","user_id":"u1"},{"name":"client_event","channel":"private-c","event":"client-x","data":"{\"a\":1}","socket_id":"1.2"}]}"#;
        let items = items_of(body, Some(&sign("app-secret", body)));
        assert_eq!(items.len(), 2);
        let Item::Event(added) = &items[0] else {
            panic!("{:?}", items[0])
        };
        assert_eq!(added.channel.as_deref(), Some("presence-room"));
        assert_eq!(added.event, "member_added");
        assert_eq!(added.user_id(), Some("u1"));
        let Data::Json(v) = added.data() else {
            panic!()
        };
        assert_eq!(
            v,
            &serde_json::json!({"app": "1", "valid": true, "time_ms": 5, "user_id": "u1"})
        );
        assert!(added.is_application());
        let Item::Event(client) = &items[1] else {
            panic!()
        };
        let Data::Json(v) = client.data() else {
            panic!()
        };
        assert_eq!(v["event"], "client-x");
        assert_eq!(v["data"], "{\"a\":1}");
        assert_eq!(v["socket_id"], "1.2");
    }

    #[test]
    fn an_invalid_signature_comes_first_with_why_and_the_signature_expected() {
        let body = br#"{"time_ms":5,"events":[{"name":"channel_vacated","channel":"c"}]}"#;
        let items = items_of(body, Some("00"));
        let Item::Error(text) = &items[0] else {
            panic!("{:?}", items[0])
        };
        assert!(
            text.starts_with("INVALID webhook signature (app 1): "),
            "{text}"
        );
        assert!(text.contains(&sign("app-secret", body)), "{text}");
        assert!(text.contains("received 00"), "{text}");
        let Item::Event(ev) = &items[1] else { panic!() };
        assert_eq!(ev.data().as_value()["valid"], false);
    }

    #[test]
    fn a_body_that_is_not_a_webhook_and_an_empty_one_are_said() {
        let items = items_of(b"hello", Some(&sign("app-secret", b"hello")));
        assert_eq!(items.len(), 1);
        assert!(
            matches!(&items[0], Item::Error(t) if t.contains("POST to /hooks") && t.contains("not JSON")),
            "{items:?}"
        );
        let body = br#"{"time_ms":5,"events":[]}"#;
        let items = items_of(body, Some(&sign("app-secret", body)));
        assert!(
            matches!(&items[..], [Item::Notice(t)] if t.contains("no events")),
            "{items:?}"
        );
    }
}
