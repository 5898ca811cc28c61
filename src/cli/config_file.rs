//! The TOML configuration file: named profiles for several apps and environments.
//!
//! ```toml
//! default_profile = "local"        # optional; else a profile named "default", if any
//!
//! [profiles.local]
//! key = "app-key"
//! secret = "app-secret"
//! host = "127.0.0.1"
//! port = 6001
//!
//! [profiles.prod]
//! key = "278d425bdf160c739803"
//! cluster = "eu"
//! auth_endpoint = "https://example.com/pusher/auth"
//! auth_headers = ["Authorization: Bearer …"]
//!
//! [keys]                           # every screen's keys, by action (see the help, `?`)
//! search = "s"                     # one key, or a list
//! down = ["j", "down", "ctrl-n"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use tui::keys::KeyTable;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// `tickertape serve`'s settings.
    #[serde(default)]
    pub server: ServerSection,
    /// The screens' keys, checked when the file is read.
    #[serde(default)]
    pub keys: KeysSection,
    /// Saved views of the dashboard (`watch --view NAME`, `:view NAME`), checked when the
    /// file is read.
    #[serde(default)]
    pub views: BTreeMap<String, ViewSection>,
    /// The dashboard's looks: `name = "light"` (default, light, colorblind) and styles for
    /// slots (`rise = "blue bold"`), checked when the file is read.
    #[serde(default)]
    pub theme: BTreeMap<String, String>,
}

/// ```toml
/// [views.prices]
/// channels = ["stock_ticker"]
/// bindings = ["update_event=ticker(key=name,value=price)"]
/// filter = ".data.price > 100"       # the dashboard's f: simple syntax or jq
/// sort = "value"                     # key, value, change or recency
/// expect = ["stock_ticker/update_event<5s"]
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSection {
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub bindings: Vec<String>,
    pub filter: Option<String>,
    pub sort: Option<String>,
    #[serde(default)]
    pub expect: Vec<String>,
}

impl ConfigFile {
    /// The theme: `--theme`'s name if given, else `[theme]`'s, with `[theme]`'s slots.
    pub fn theme(&self, name: Option<&str>) -> anyhow::Result<tui::kit::ThemeSpec> {
        let mut slots = self.theme.clone();
        let named = slots.remove("name");
        let name = name.or(named.as_deref()).unwrap_or("");
        tui::kit::ThemeSpec::new(name, &slots).map_err(|e| anyhow::anyhow!("[theme]: {e}"))
    }

    /// Every view, checked: names, channels, bindings, the filter, the sort and the
    /// expectations. The first error names its view.
    pub fn views(&self) -> anyhow::Result<Vec<tui::watch::ViewSpec>> {
        self.views
            .iter()
            .map(|(name, v)| check_view(name, v).with_context(|| format!("[views.{name}]")))
            .collect()
    }
}

fn check_view(name: &str, v: &ViewSection) -> anyhow::Result<tui::watch::ViewSpec> {
    if !tui::watch::valid_name(name) {
        bail!("a view's name is letters, digits, - and _");
    }
    for channel in &v.channels {
        protocol::channel::validate_channel(channel, false)
            .map_err(|e| anyhow::anyhow!("channel: {e}"))?;
    }
    let bindings = v
        .bindings
        .iter()
        .map(|b| observe::binding::Binding::parse(b).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(f) = &v.filter
        && observe::jq::looks_like_jq(f)
    {
        observe::jq::Jq::parse(f).map_err(|e| anyhow::anyhow!("filter: {e}"))?;
    }
    let sort = match &v.sort {
        None => None,
        Some(s) => Some(
            tui::watch::Sort::parse(s)
                .ok_or_else(|| anyhow::anyhow!("sort is key, value, change or recency"))?,
        ),
    };
    for rule in &v.expect {
        observe::expect::Expectation::parse(rule).map_err(anyhow::Error::msg)?;
    }
    Ok(tui::watch::ViewSpec {
        name: name.to_owned(),
        channels: v.channels.clone(),
        bindings,
        filter: v.filter.clone(),
        sort,
        expect: v.expect.clone(),
    })
}

/// Checks a whole config file's text as [`load`] does (a view saved from the dashboard is
/// written only if the file it makes passes).
pub fn check_text(text: &str) -> Result<(), String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| describe_toml_error(&e, text))?;
    file.theme(None).map_err(|e| format!("{e:#}"))?;
    file.views().map(|_| ()).map_err(|e| format!("{e:#}"))
}

/// ```toml
/// [server]
/// listen = "127.0.0.1:6001"
///
/// [[server.apps]]
/// id = "1"
/// key = "app-key"
/// secret = "app-secret"
/// client_events = true     # the default
/// # Pusher webhooks of this app; events: every kind when left out
/// webhooks = [{ url = "http://127.0.0.1:9000/hook", events = ["channel_occupied"] }]
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: Option<std::net::SocketAddr>,
    #[serde(default)]
    pub apps: Vec<ServerApp>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerApp {
    pub id: String,
    pub key: String,
    pub secret: String,
    #[serde(default = "yes")]
    pub client_events: bool,
    /// false: connections get 4003 and API calls 403.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// false: subscribers never hear `pusher_internal:subscription_count`.
    #[serde(default = "yes")]
    pub subscription_count: bool,
    /// Where this app's webhooks go, and which events.
    #[serde(default)]
    pub webhooks: Vec<WebhookEntry>,
}

/// A config file app's webhook: `{ url = "…", events = ["channel_occupied", …] }`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEntry {
    pub url: server::webhooks::WebhookUrl,
    /// Every event when absent.
    #[serde(default)]
    pub events: Option<Vec<server::webhooks::target::KindName>>,
}

impl ServerApp {
    /// The app as the server (and the webhook receiver) holds it.
    pub fn app(&self) -> server::App {
        server::App {
            id: self.id.clone(),
            key: self.key.clone(),
            secret: protocol::Secret::new(self.secret.clone()),
            client_events: self.client_events,
            enabled: self.enabled,
            subscription_count: self.subscription_count,
        }
    }
}

fn yes() -> bool {
    true
}

/// `[keys]`: action name = a key or a list of keys, for every screen. An unknown action, an
/// unknown key and a key no terminal can send (`ctrl-🙂`) are errors at the entry's line and
/// column; a key given to two actions of a screen, at the table's.
#[derive(Debug, Default, Clone)]
pub struct KeysSection(pub KeyTable);

impl<'de> Deserialize<'de> for KeysSection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeysSection, D::Error> {
        d.deserialize_map(KeysVisitor)
    }
}

struct KeysVisitor;

impl<'de> serde::de::Visitor<'de> for KeysVisitor {
    type Value = KeysSection;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table of action = key or [keys]")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<KeysSection, A::Error> {
        let mut table = BTreeMap::new();
        while let Some(action) = map.next_key::<String>()? {
            // Checked while the value is read, so the error carries the entry's position.
            let keys = map.next_value_seed(EntrySeed(&action))?;
            table.insert(action, keys);
        }
        KeyTable::new(table)
            .map(KeysSection)
            .map_err(|e| serde::de::Error::custom(format!("[keys]: {e}")))
    }
}

/// One `[keys]` entry's value, checked against its action's name.
struct EntrySeed<'a>(&'a str);

impl<'de> serde::de::DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = Vec<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a key or a list of keys")]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let keys = match OneOrMany::deserialize(d)? {
            OneOrMany::One(k) => vec![k],
            OneOrMany::Many(ks) => ks,
        };
        KeyTable::check_entry(self.0, &keys)
            .map(|()| keys)
            .map_err(|e| serde::de::Error::custom(format!("[keys]: {e}")))
    }
}

/// Every connection setting, all optional: a profile fills what the CLI and env leave open.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub key: Option<String>,
    pub secret: Option<String>,
    pub app_id: Option<String>,
    pub cluster: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub scheme: Option<String>,
    pub auth_endpoint: Option<String>,
    pub user_auth_endpoint: Option<String>,
    pub auth_headers: Option<Vec<String>>,
    pub encryption_master_key: Option<String>,
    pub user_id: Option<String>,
    /// JSON text, as for `--user-info`.
    pub user_info: Option<String>,
    /// As `--signin`.
    pub signin: Option<bool>,
    /// As `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// As `--readonly`: a dashboard on this profile sends nothing (no trigger form, no
    /// client events). For production profiles.
    pub readonly: Option<bool>,
}

/// Where the file is by default: `$XDG_CONFIG_HOME/tickertape/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    etcetera::choose_base_strategy()
        .ok()
        .map(|s| s.config_dir().join("tickertape").join("config.toml"))
}

/// The config file, read once for a whole plan: its contents and where it is.
#[derive(Debug, Default)]
pub struct Config {
    pub file: ConfigFile,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Reads the file the user named (`--config`), else the default one.
    pub fn read(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let (file, path) = load(explicit)?;
        Ok(Config { file, path })
    }

    /// The profile to use: the one named, else the file's default one, else none.
    pub fn profile(&self, name: Option<&str>) -> anyhow::Result<Profile> {
        self.file.profile(name, self.path.as_deref())
    }
}

/// Reads the file. A missing default file is an empty configuration; a missing file the user
/// named is an error.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<(ConfigFile, Option<PathBuf>)> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok((ConfigFile::default(), None)),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok((ConfigFile::default(), Some(path)));
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read config file {}", path.display()));
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "invalid config file {}: {}",
            path.display(),
            describe_toml_error(&e, &text)
        )
    })?;
    // Checked whole before any of it takes effect.
    file.theme(None)
        .map_err(|e| anyhow::anyhow!("invalid config file {}: {e:#}", path.display()))?;
    file.views()
        .map_err(|e| anyhow::anyhow!("invalid config file {}: {e:#}", path.display()))?;
    Ok((file, Some(path)))
}

/// A TOML error as "line L, column C: message". The file holds secrets, so this never
/// quotes the file: not the source snippet toml's own error shows, and not the rejected
/// value that serde's "invalid type"/"invalid value" messages repeat.
pub fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = scrub_values(e.message().trim());
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Drops the value from serde's "invalid type: string \"…\", expected …" (and "invalid
/// value", "unknown variant") messages, keeping what kind of value it was and what was
/// expected. Other messages name keys or syntax only and are kept.
fn scrub_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = match rest.rfind(", expected ") {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            let kind = found.split(['"', '`', '\'']).next().unwrap_or("").trim();
            let kind = if kind.is_empty() { "a value" } else { kind };
            let prefix = prefix.trim_end();
            return format!("{prefix} {kind} (not shown){expected}");
        }
    }
    message.replace('\n', "; ")
}

impl ConfigFile {
    /// The profile to use: the one named, else `default_profile`, else "default", else none.
    pub fn profile(&self, name: Option<&str>, path: Option<&Path>) -> anyhow::Result<Profile> {
        let wanted = name.or(self.default_profile.as_deref());
        match wanted {
            Some(n) => match self.profiles.get(n) {
                Some(p) => Ok(p.clone()),
                None => {
                    let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
                    let file = path.map_or("the config file".into(), |p| p.display().to_string());
                    if known.is_empty() {
                        bail!("no profile {n:?}: {file} defines no profiles")
                    }
                    bail!(
                        "no profile {n:?} in {file}; known profiles: {}",
                        known.join(", ")
                    )
                }
            },
            None => Ok(self.profiles.get("default").cloned().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_errors() {
        let file: ConfigFile = toml::from_str(
            r#"
            default_profile = "local"
            [profiles.local]
            key = "k1"
            port = 6001
            [profiles.prod]
            key = "k2"
            cluster = "eu"
            "#,
        )
        .unwrap();
        assert_eq!(file.profile(None, None).unwrap().key.as_deref(), Some("k1"));
        assert_eq!(
            file.profile(Some("prod"), None).unwrap().cluster.as_deref(),
            Some("eu")
        );
        let err = file.profile(Some("staging"), None).unwrap_err().to_string();
        assert!(err.contains("local, prod"), "{err}");
        let file: ConfigFile = toml::from_str(
            "[server]\nlisten = \"127.0.0.1:7000\"\n[[server.apps]]\nid = \"9\"\nkey = \"k\"\nsecret = \"s\"\nclient_events = false\n",
        )
        .unwrap();
        assert_eq!(file.server.listen, Some("127.0.0.1:7000".parse().unwrap()));
        assert!(!file.server.apps[0].client_events);
        // Errors name the line and never quote the file, which holds secrets.
        let text = "[[server.apps]]\nid = \"1\"\nkey = \"k\"\nsecret = 12345678\n";
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        let d = describe_toml_error(&e, text);
        assert!(
            d.starts_with("line 4, column 10: invalid type: integer"),
            "{d}"
        );
        assert!(!d.contains("12345678"), "{d}");
        let text = "[profiles.p]\nport = \"SEEKRIT\"\n";
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        let d = describe_toml_error(&e, text);
        assert!(d.contains("line 2") && d.contains("expected u16"), "{d}");
        assert!(!d.contains("SEEKRIT"), "{d}");
        // Typos are caught, not ignored.
        assert!(toml::from_str::<ConfigFile>("[profiles.x]\nkye = \"k\"").is_err());
    }
}

#[cfg(test)]
mod keys_tests {
    use super::*;

    fn error(text: &str) -> String {
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        describe_toml_error(&e, text)
    }

    #[test]
    fn keys_rebind_actions_and_errors_name_the_line() {
        use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let file: ConfigFile =
            toml::from_str("[keys]\nsearch = \"s\"\ndown = [\"J\", \"ctrl-n\"]\n").unwrap();
        let press = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let keys = file.keys.0.keymap::<tui::watch::Action>();
        assert_eq!(keys.action(&press('s')), Some(tui::watch::Action::Search));
        assert_eq!(keys.action(&press('/')), None);
        let d = error("[profiles.p]\nkey = \"k\"\n\n[keys]\nhelp = \"h\"\nserch = \"s\"\n");
        assert!(d.starts_with("line 6"), "{d}");
        assert!(
            d.contains("unknown action \"serch\" (did you mean \"search\"?)"),
            "{d}"
        );
        let d = error("[keys]\nquit = \"ctrl-shift-q\"\n");
        assert!(d.contains("quit: unknown key \"ctrl-shift-q\""), "{d}");
        let d = error("[keys]\nquit = 7\n");
        assert!(
            d.starts_with("line 2") && d.contains("a key or a list of keys"),
            "{d}"
        );
        let d = error("[keys]\nsort = \"x\"\nclear = \"x\"\n");
        assert!(d.contains("x is bound to both clear and sort"), "{d}");
    }

    /// A binding no terminal can send is refused when the file is read, at its line and
    /// column, in a list too; so is Ctrl-C given to anything but quitting.
    #[test]
    fn keys_no_terminal_can_send_are_refused_at_their_line_and_column() {
        let d = error("[keys]\nhelp = \"h\"\nquit = \"ctrl-🙂\"\n");
        assert!(
            d.starts_with(
                "line 3, column 8: [keys]: quit: \"ctrl-🙂\" cannot be sent by a terminal"
            ),
            "{d}"
        );
        let d = error("[keys]\ndown = [\"j\", \"ctrl-i\"]\n");
        assert!(
            d.starts_with("line 2, column 8: ") && d.contains("as Tab: bind \"tab\""),
            "{d}"
        );
        let d = error("[keys]\nclear = \"ctrl-c\"\n");
        assert!(d.contains("Ctrl-C always quits"), "{d}");
        // probe's keys come from the same table.
        let file: ConfigFile = toml::from_str("[keys]\nquit = \"x\"\n").unwrap();
        let probe = file.keys.0.keymap::<tui::probe::Action>();
        use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(probe.action(&x), Some(tui::probe::Action::Quit));
    }
}
