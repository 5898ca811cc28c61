//! The connections of `watch` and `probe`, resolved in one place: one per `--profile` when
//! it is given more than once, else one per `--node [NAME=]URL`, else the one connection of
//! every other command. Each is layered by itself (its profile fills what the command line
//! and environment left open; the config file is read once for all), and all of them are
//! checked before anything starts: a profile that does not exist or lacks what a connection
//! needs, a node given twice, one too many, are named in the error, the same for both
//! commands.

use anyhow::Context;

use crate::cli::config_file::Config;
use crate::cli::connection::ConnectionArgs;
use client::{MAX_CONNECTIONS, validate_host};

/// A mistake in the flags themselves, found after clap: `main` exits with 2 for it, as clap
/// does for its own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// One connection, layered: its label (the profile's name, the node's NAME, or the node's
/// host:port), the node's URL when it was given without a name, and its settings.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub label: String,
    /// `ws://host:port`, for a `--node` given without a name (`probe` names nodes so).
    pub url: Option<String>,
    pub args: ConnectionArgs,
}

/// The connections `connection` and `nodes` ask for, each layered with `config` and checked.
impl Labelled {
    /// The name a node goes by in reports: its `--node` URL, else its label, else the URL
    /// its settings connect to.
    pub fn node_name(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        if !self.label.is_empty() {
            return Ok(self.label.clone());
        }
        let e = self.args.endpoint()?;
        let scheme = if e.tls { "wss" } else { "ws" };
        let port = if e.tls { e.tls_port } else { e.port };
        Ok(format!("{scheme}://{}:{port}", host_text(&e.host)))
    }
}

pub fn resolve(
    connection: ConnectionArgs,
    nodes: &[String],
    config: &Config,
) -> anyhow::Result<Vec<Labelled>> {
    let profiles: Vec<String> = connection
        .profile
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let usage = |text: String| anyhow::Error::new(UsageError(text));
    if profiles.len() > 1 && !nodes.is_empty() {
        return Err(usage(
            "--node and several --profile: give the nodes of one profile, or several profiles"
                .into(),
        ));
    }
    let count = profiles.len().max(nodes.len());
    if count > MAX_CONNECTIONS {
        return Err(usage(format!(
            "{count} connections: at most {MAX_CONNECTIONS} at once"
        )));
    }
    let base = ConnectionArgs {
        profile: Vec::new(),
        ..connection
    };
    let mut out: Vec<Labelled> = Vec::new();
    if !nodes.is_empty() {
        let profile = profiles.first().map(String::as_str);
        let mut parsed: Vec<(String, Option<String>, &str, String, u16)> = Vec::new();
        for node in nodes {
            let (name, node) = split_name(node.trim()).map_err(usage)?;
            let (scheme, host, port) = parse_node(node).map_err(usage)?;
            let address = format!("{}:{port}", host_text(&host));
            let url = name.is_none().then(|| format!("{scheme}://{address}"));
            let label = name.map_or(address, str::to_owned);
            // The same node twice is one node watched (or probed) twice, whatever its names.
            let twice = parsed
                .iter()
                .any(|(l, _, _, h, p)| *l == label || (*h == host && *p == port));
            if twice {
                return Err(usage(format!(
                    "--node {} is given twice: each node once",
                    url.as_deref().unwrap_or(&label)
                )));
            }
            parsed.push((label, url, scheme, host, port));
        }
        for (label, url, scheme, host, port) in parsed {
            let args = ConnectionArgs {
                scheme: Some(scheme.into()),
                host: Some(host),
                port: Some(port.to_string()),
                cluster: None,
                ..base.clone()
            };
            out.push(checked(label, url, args, config, profile)?);
        }
    } else if profiles.len() > 1 {
        for (i, name) in profiles.iter().enumerate() {
            if profiles[..i].contains(name) {
                return Err(usage(format!("--profile {name} is given twice")));
            }
        }
        for name in &profiles {
            out.push(checked(
                name.clone(),
                None,
                base.clone(),
                config,
                Some(name),
            )?);
        }
    } else {
        // The common case: exactly as before, with no label shown anywhere.
        let name = profiles.first().cloned();
        let args = base.layered(config, name.as_deref())?;
        return Ok(vec![Labelled {
            label: name.unwrap_or_default(),
            url: None,
            args,
        }]);
    }
    Ok(out)
}

/// Layers one connection and checks that it can start; errors name it.
fn checked(
    label: String,
    url: Option<String>,
    args: ConnectionArgs,
    config: &Config,
    profile: Option<&str>,
) -> anyhow::Result<Labelled> {
    let what = match profile {
        Some(p) if p != label => format!("connection {label} (profile {p:?})"),
        Some(p) => format!("profile {p:?}"),
        None => format!("connection {label}"),
    };
    let args = args
        .layered(config, profile)
        .with_context(|| what.clone())?;
    args.client_config().with_context(|| what.clone())?;
    Ok(Labelled { label, url, args })
}

/// Longest name given to a node (`--node eu=ws://…`).
const MAX_NAME: usize = 24;

/// `NAME=URL` names a node; a bare URL is named after its host and port.
fn split_name(node: &str) -> Result<(Option<&str>, &str), String> {
    let Some((name, url)) = node.split_once('=').filter(|(n, _)| !n.contains("://")) else {
        return Ok((None, node));
    };
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(format!(
            "--node {}: a node's name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.'",
            client::quoted(node)
        ));
    }
    Ok((Some(name), url))
}

/// An IPv6 address goes back in brackets in a label.
pub fn host_text(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `ws://host:port`, `wss://host:port` (a trailing `/` allowed): the scheme, the host and
/// the port (80 or 443 when left out).
pub fn parse_node(url: &str) -> Result<(&'static str, String, u16), String> {
    // `client::quoted` shows the URL as `redact` does: no `user:pw@`, no query's values.
    let bad = |why: &str| format!("--node {}: {why}", client::quoted(url));
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("ws://") {
        ("ws", rest)
    } else if let Some(rest) = url.strip_prefix("wss://") {
        ("wss", rest)
    } else {
        return Err(bad("use ws://host:port or wss://host:port"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(bad("only a host and a port, no path, query or user"));
    }
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (host, after.strip_prefix(':'))
        }
        None => match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    let port = match port {
        None => {
            if scheme == "wss" {
                443
            } else {
                80
            }
        }
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
    };
    let host = validate_host(host).map_err(|e| bad(&format!("host {e}")))?;
    Ok((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_a_websocket_url_with_a_host_and_a_port() {
        assert_eq!(
            parse_node("ws://127.0.0.1:6001/").unwrap(),
            ("ws", "127.0.0.1".into(), 6001)
        );
        assert_eq!(
            parse_node("wss://ws.example.com").unwrap(),
            ("wss", "ws.example.com".into(), 443)
        );
        assert_eq!(parse_node("ws://[::1]:7000").unwrap().2, 7000);
        for bad in [
            "http://h:1",
            "ws://h:0",
            "ws://h:99999",
            "ws://h:1/app",
            "ws://u:p@h:1",
            "ws://:1",
        ] {
            assert!(parse_node(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_node_never_repeats_its_credentials() {
        for bad in [
            "127.0.0.1:6001",
            "ws://h:x",
            "ws://",
            "ws://[::1",
            "ws://[::1:7006",
        ] {
            assert!(parse_node(bad).is_err(), "{bad}");
        }
        for pasted in [
            "ws://user:PWSECRET@127.0.0.1:7006",
            "ws://127.0.0.1:7006/?token=TOKSECRET",
            "wss://user:PWSECRET@h:1/app/k?token=TOKSECRET&x=1",
            "user:PWSECRET@127.0.0.1:7006",
        ] {
            let e = parse_node(pasted).unwrap_err();
            assert!(!e.contains("SECRET"), "{e}");
        }
        let e = parse_node("ws://127.0.0.1:7006/?token=TOKSECRET").unwrap_err();
        assert!(e.contains("?token=***"), "{e}");
    }

    #[test]
    fn a_node_may_be_named() {
        assert_eq!(split_name("eu=ws://h:1").unwrap(), (Some("eu"), "ws://h:1"));
        assert_eq!(split_name("ws://h:1").unwrap(), (None, "ws://h:1"));
        assert!(split_name("e u=ws://h:1").is_err());
        assert!(split_name("=ws://h:1").is_err());
    }

    #[test]
    fn too_many_connections_and_twice_the_same_node_are_usage_errors() {
        let nodes: Vec<String> = (1..=17).map(|p| format!("ws://127.0.0.1:{p}")).collect();
        let config = Config::default();
        let e = resolve(ConnectionArgs::default(), &nodes, &config).unwrap_err();
        assert!(e.downcast_ref::<UsageError>().is_some(), "{e}");
        let twice = vec![
            "ws://127.0.0.1:1".to_owned(),
            "ws://127.0.0.1:1/".to_owned(),
        ];
        let e = resolve(ConnectionArgs::default(), &twice, &config).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        // Two names for one node are one node twice.
        let named = vec![
            "a=ws://127.0.0.1:1".to_owned(),
            "b=ws://127.0.0.1:1".to_owned(),
        ];
        let e = resolve(ConnectionArgs::default(), &named, &config).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }
}
