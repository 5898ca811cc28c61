//! Channel and event names: kinds by prefix, charset and length rules (§3, §8).

use super::limits::{MAX_CHANNEL_NAME_LEN, MAX_EVENT_NAME_LEN};

/// What a channel name says about its access rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Public,
    Private,
    Presence,
    PrivateEncrypted,
    /// `#server-to-user-{id}`, which only the server creates (after `pusher:signin`).
    ServerToUser,
}

/// The kind of a channel, and whether it is a `cache-` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelInfo {
    pub kind: ChannelKind,
    pub cache: bool,
}

impl ChannelInfo {
    /// Subscribing needs an `auth` signature.
    pub fn needs_auth(self) -> bool {
        matches!(
            self.kind,
            ChannelKind::Private | ChannelKind::Presence | ChannelKind::PrivateEncrypted
        )
    }

    /// Clients may send `client-*` events here (private and presence only; §3).
    pub fn allows_client_events(self) -> bool {
        matches!(self.kind, ChannelKind::Private | ChannelKind::Presence)
    }

    pub fn is_presence(self) -> bool {
        self.kind == ChannelKind::Presence
    }

    pub fn is_encrypted(self) -> bool {
        self.kind == ChannelKind::PrivateEncrypted
    }
}

/// The prefix of a server-to-user channel.
pub const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Works out the kind of a channel from its prefix, without validating it.
pub fn classify(name: &str) -> ChannelInfo {
    const PREFIXES: [(&str, ChannelKind, bool); 8] = [
        (
            "private-encrypted-cache-",
            ChannelKind::PrivateEncrypted,
            true,
        ),
        ("private-encrypted-", ChannelKind::PrivateEncrypted, false),
        ("private-cache-", ChannelKind::Private, true),
        ("private-", ChannelKind::Private, false),
        ("presence-cache-", ChannelKind::Presence, true),
        ("presence-", ChannelKind::Presence, false),
        ("cache-", ChannelKind::Public, true),
        (SERVER_TO_USER_PREFIX, ChannelKind::ServerToUser, false),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _, _)| name.starts_with(prefix))
        .map_or(
            ChannelInfo {
                kind: ChannelKind::Public,
                cache: false,
            },
            |&(_, kind, cache)| ChannelInfo { kind, cache },
        )
}

/// Whether `name` is an end-to-end encrypted channel: what [`classify`] says, from the one
/// prefix every such channel has (checked for every event, so without the whole table).
pub fn is_encrypted(name: &str) -> bool {
    name.starts_with("private-encrypted-")
}

/// Why a channel or event name is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the {what} name is empty")]
    Empty { what: &'static str },
    #[error("the {what} name is {len} bytes long; the limit is {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the channel name has {found:?} at byte {at}; allowed are A-Z a-z 0-9 _ - = @ , . ;")]
    BadCharacter { found: char, at: usize },
    #[error("channels starting with `#` are reserved for the server")]
    Reserved,
}

/// Validates a channel name a client may subscribe to: the charset
/// `A-Z a-z 0-9 _ - = @ , . ;` and at most 200 bytes. `#server-to-user-` channels are allowed
/// only when `allow_server_to_user` is set (the client subscribes to its own after signin).
pub fn validate_channel(name: &str, allow_server_to_user: bool) -> Result<ChannelInfo, NameError> {
    let what = "channel";
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    if name.len() > MAX_CHANNEL_NAME_LEN {
        return Err(NameError::TooLong {
            what,
            len: name.len(),
            max: MAX_CHANNEL_NAME_LEN,
        });
    }
    let info = classify(name);
    let checked = if info.kind == ChannelKind::ServerToUser {
        if !allow_server_to_user {
            return Err(NameError::Reserved);
        }
        &name[SERVER_TO_USER_PREFIX.len()..]
    } else {
        name
    };
    let offset = name.len() - checked.len();
    if let Some((at, found)) = checked.char_indices().find(|&(_, c)| !is_channel_char(c)) {
        if found == '#' && offset == 0 && at == 0 {
            return Err(NameError::Reserved);
        }
        return Err(NameError::BadCharacter {
            found,
            at: at + offset,
        });
    }
    Ok(info)
}

/// Whether `c` may appear in a channel name.
pub fn is_channel_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '=' | '@' | ',' | '.' | ';')
}

/// Validates an event name: not empty, at most 200 bytes. Real traffic contains `.` and `\`
/// (Laravel's namespaced names), so the charset is not restricted.
pub fn validate_event(name: &str) -> Result<(), NameError> {
    let what = "event";
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    if name.len() > MAX_EVENT_NAME_LEN {
        return Err(NameError::TooLong {
            what,
            len: name.len(),
            max: MAX_EVENT_NAME_LEN,
        });
    }
    Ok(())
}

/// Client events must carry the `client-` prefix.
pub fn is_client_event(name: &str) -> bool {
    name.starts_with("client-")
}

/// Events of the protocol itself, which pusher-js never hands to user handlers.
pub fn is_internal_event(name: &str) -> bool {
    name.starts_with("pusher_internal:")
}

/// Events in the `pusher:` namespace.
pub fn is_pusher_event(name: &str) -> bool {
    name.starts_with("pusher:")
}
