//! The apps a server hosts: id, key, secret and per-app options.

use std::sync::Arc;

use protocol::Secret;

#[derive(Debug, Clone)]
pub struct App {
    /// Numeric in practice: the official server SDKs require it.
    pub id: String,
    pub key: String,
    pub secret: Secret,
    /// Whether clients may send `client-*` events.
    pub client_events: bool,
    /// A disabled app refuses connections (4003) and API calls (403).
    pub enabled: bool,
    /// Whether subscribers hear `pusher_internal:subscription_count` as their channel's
    /// subscriber count changes (throttled per channel).
    pub subscription_count: bool,
}

impl App {
    /// The zero-setup app the demo and local development use (soketi uses the same names).
    pub fn local_default() -> App {
        App {
            id: "1".into(),
            key: "app-key".into(),
            secret: Secret::new("app-secret"),
            client_events: true,
            enabled: true,
            subscription_count: true,
        }
    }

    /// Parses `ID:KEY:SECRET`. The error says which part is wrong and never repeats the
    /// value, which holds the secret.
    pub fn parse(spec: &str) -> Result<App, String> {
        let mut parts = spec.splitn(3, ':');
        let (id, key, secret) = match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(key), Some(secret)) => (id, key, secret),
            (_, None, _) => return Err("an app is ID:KEY:SECRET, but there is no ':'".into()),
            _ => return Err("an app is ID:KEY:SECRET, but there is only one ':'".into()),
        };
        let empty = [("ID", id), ("KEY", key), ("SECRET", secret)]
            .iter()
            .find(|(_, v)| v.is_empty())
            .map(|(name, _)| *name);
        if let Some(name) = empty {
            return Err(format!("an app is ID:KEY:SECRET, but its {name} is empty"));
        }
        Ok(App {
            id: id.into(),
            key: key.into(),
            secret: Secret::new(secret),
            client_events: true,
            enabled: true,
            subscription_count: true,
        })
    }
}

/// Lookups by key (WebSocket) and by id (REST).
#[derive(Debug, Clone)]
pub struct Apps(Vec<Arc<App>>);

impl Apps {
    pub fn new(apps: Vec<App>) -> Apps {
        Apps(apps.into_iter().map(Arc::new).collect())
    }

    pub fn by_key(&self, key: &str) -> Option<Arc<App>> {
        self.0.iter().find(|a| a.key == key).cloned()
    }

    pub fn by_id(&self, id: &str) -> Option<Arc<App>> {
        self.0.iter().find(|a| a.id == id).cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<App>> {
        self.0.iter()
    }

    pub fn first(&self) -> Option<&Arc<App>> {
        self.0.first()
    }
}
