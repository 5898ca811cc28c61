//! Close-code policy (§4) and channel/event name rules (§3, §8).

use protocol::channel::{self, ChannelKind, NameError};
use protocol::close::{self, CloseAction, CloseCode};

#[test]
fn close_code_ranges() {
    assert_eq!(CloseCode::from(4000).action(), CloseAction::SwitchToTls);
    for code in [4001, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4099] {
        assert_eq!(CloseCode::from(code).action(), CloseAction::Stop, "{code}");
    }
    for code in [4100, 4150, 4199] {
        assert_eq!(
            CloseCode::from(code).action(),
            CloseAction::Backoff,
            "{code}"
        );
    }
    for code in [4200, 4201, 4202, 4299] {
        assert_eq!(
            CloseCode::from(code).action(),
            CloseAction::ReconnectNow,
            "{code}"
        );
    }
    for code in [4300, 4301, 4302, 4999] {
        assert_eq!(CloseCode::from(code).action(), CloseAction::Stop, "{code}");
    }
}

#[test]
fn websocket_close_codes_follow_pusher_js() {
    // 1002–1004 are mapped to back-off; 1000, 1001, 1005 and 1006 take the generic
    // `closed` path, which retries after the same one-second back-off.
    for code in 1000..=1006 {
        assert_eq!(
            CloseCode::from(code).action(),
            CloseAction::Backoff,
            "{code}"
        );
    }
    assert!(!CloseCode::from(1000).is_error());
    assert!(!CloseCode::from(1001).is_error());
    assert!(CloseCode::from(1006).is_error());
    assert!(CloseCode::from(4001).is_error());
}

#[test]
fn handshake_errors() {
    assert_eq!(close::handshake_error_action(Some(4001)), CloseAction::Stop);
    assert_eq!(
        close::handshake_error_action(Some(4100)),
        CloseAction::Backoff
    );
    assert_eq!(close::handshake_error_action(None), CloseAction::Backoff);
}

#[test]
fn descriptions() {
    assert_eq!(
        CloseCode::from(4001).describe(),
        "application does not exist"
    );
    assert_eq!(CloseCode::from(4201).describe(), "pong reply not received");
    assert_eq!(
        CloseCode::from(1006).describe(),
        "abnormal closure (connection lost)"
    );
    assert_eq!(CloseCode::from(1234).describe(), "connection closed");
}

#[test]
fn channel_kinds() {
    let cases = [
        ("stock_ticker", ChannelKind::Public, false),
        ("cache-x", ChannelKind::Public, true),
        ("private-x", ChannelKind::Private, false),
        ("private-cache-x", ChannelKind::Private, true),
        ("presence-x", ChannelKind::Presence, false),
        ("presence-cache-x", ChannelKind::Presence, true),
        ("private-encrypted-x", ChannelKind::PrivateEncrypted, false),
        (
            "private-encrypted-cache-x",
            ChannelKind::PrivateEncrypted,
            true,
        ),
        ("#server-to-user-1", ChannelKind::ServerToUser, false),
        ("privatex", ChannelKind::Public, false),
    ];
    for (name, kind, cache) in cases {
        let info = channel::classify(name);
        assert_eq!((info.kind, info.cache), (kind, cache), "{name}");
        assert_eq!(channel::is_encrypted(name), info.is_encrypted(), "{name}");
    }
    assert!(channel::classify("private-x").needs_auth());
    assert!(channel::classify("presence-x").needs_auth());
    assert!(channel::classify("private-encrypted-x").needs_auth());
    assert!(!channel::classify("cache-x").needs_auth());
    assert!(channel::classify("presence-x").allows_client_events());
    assert!(!channel::classify("private-encrypted-x").allows_client_events());
    assert!(!channel::classify("public").allows_client_events());
}

#[test]
fn channel_names() {
    channel::validate_channel("A-Za-z0-9_-=@,.;", false).unwrap();
    channel::validate_channel(&"a".repeat(200), false).unwrap();
    assert_eq!(
        channel::validate_channel(&"a".repeat(201), false),
        Err(NameError::TooLong {
            what: "channel",
            len: 201,
            max: 200
        })
    );
    assert_eq!(
        channel::validate_channel("", false),
        Err(NameError::Empty { what: "channel" })
    );
    assert_eq!(
        channel::validate_channel("has space", false),
        Err(NameError::BadCharacter { found: ' ', at: 3 })
    );
    assert_eq!(
        channel::validate_channel("ünï", false),
        Err(NameError::BadCharacter { found: 'ü', at: 0 })
    );
    assert_eq!(
        channel::validate_channel("#server-to-user-1", false),
        Err(NameError::Reserved)
    );
    assert_eq!(
        channel::validate_channel("#other", false),
        Err(NameError::Reserved)
    );
    channel::validate_channel("#server-to-user-1", true).unwrap();
    assert!(channel::validate_channel("#server-to-user-a b", true).is_err());
}

#[test]
fn event_names() {
    channel::validate_event("App\\Events\\OrderShipped").unwrap();
    channel::validate_event(".namespaced.name").unwrap();
    assert!(channel::validate_event("").is_err());
    assert!(channel::validate_event(&"e".repeat(201)).is_err());
    assert!(channel::is_client_event("client-typing"));
    assert!(!channel::is_client_event("typing"));
    assert!(channel::is_internal_event("pusher_internal:member_added"));
}

#[test]
fn close_codes_round_trip_through_u16() {
    for code in CloseCode::NAMED {
        assert_eq!(CloseCode::from(code.as_u16()), code);
        assert_ne!(
            code.describe(),
            "connection closed",
            "{code} is undescribed"
        );
    }
    assert_eq!(CloseCode::from(4321), CloseCode::Other(4321));
    assert_eq!(u16::from(CloseCode::InvalidPayload), 1007);
    assert_eq!(
        close::Close::SHUTDOWN.code.action(),
        CloseAction::ReconnectNow
    );
}
