//! Prometheus metrics: `watch --metrics ADDR` and `serve --metrics ADDR` serve the Prometheus
//! text format (0.0.4) on `GET /metrics`, on an address of their own.
//!
//! [`serve`] holds the server's counters (cheap atomics, registered once, bumped by
//! `server/`); [`watch`] turns the items the front end receives into the client's metrics;
//! [`http`] is the small bounded endpoint both use. `serve` and `http` import nothing from
//! the crate, so the server can use them; `watch` reads the client's items and sits with the
//! front ends that own it.
//!
//! Names follow Prometheus's rules: base units (seconds, bytes), `_total` on counters (added
//! by the encoder), `_info` on the build info. No label ever holds a socket id or a user id,
//! and labels whose values come from the network are capped in count and in length.

pub mod http;

use bounded::{Limits, Weigh, WeighedMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use protocol::safe_text::terminal_safe;

/// What a label value folds into once its cap is reached.
pub const OTHER: &str = "other";

/// Longest label value kept, in bytes; longer ones are cut at a character boundary.
pub const MAX_LABEL_BYTES: usize = 200;

/// A registry prefixed `tickertape`, with `tickertape_build_info{version}` in it.
pub fn registry() -> Registry {
    let mut registry = Registry::with_prefix("tickertape");
    registry.register(
        "build",
        "The tickertape build serving these metrics",
        Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
    );
    registry
}

/// The registry in the Prometheus text format.
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail; a metric that could not encode would show as missing.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, registry);
    text
}

/// A label value from the network (or a flag, or a file): terminal-safe, as every other
/// output has it, and cut to [`MAX_LABEL_BYTES`].
///
/// The text format escapes only `\`, `"` and newlines in a label value; the other controls,
/// the bidi and the invisible format characters would reach a dashboard's legend, an alert's
/// text or a `curl` on a terminal raw. So a value holds the same escapes as the lines do
/// (`\e`, `\u{202e}`; the encoder then doubles the backslash on the page), and a name
/// shows the same everywhere. A cut never splits an escape.
pub fn label_value(text: &str) -> String {
    let safe = terminal_safe(text);
    if safe.len() <= MAX_LABEL_BYTES {
        return safe.into_owned();
    }
    let mut out = String::with_capacity(MAX_LABEL_BYTES);
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let piece = terminal_safe(c.encode_utf8(&mut buf));
        if out.len() + piece.len() > MAX_LABEL_BYTES {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// The label values seen so far, up to a cap: past it, new values fold into [`OTHER`], so a
/// firehose of names keeps at most `cap + 1` series. The values are a [`WeighedMap`]'s keys,
/// capped in count and in bytes ([`Capped::bytes_for`]); give them cut ([`label_value`]).
#[derive(Debug)]
pub struct Capped<K> {
    seen: WeighedMap<K, ()>,
}

impl<K: Ord + Weigh> Capped<K> {
    /// At most `cap` label sets, and the bytes of `cap` sets of three cut values.
    pub fn new(cap: usize) -> Capped<K> {
        Capped {
            seen: WeighedMap::new(Limits::new(cap, Capped::<K>::bytes_for(cap))),
        }
    }

    /// What `cap` label sets of up to three values of [`MAX_LABEL_BYTES`] weigh.
    pub const fn bytes_for(cap: usize) -> usize {
        cap * (3 * (MAX_LABEL_BYTES + size_of::<String>()) + 64)
    }

    /// Whether `key` has a series of its own (taking one if there is room).
    pub fn admit(&mut self, key: K) -> bool {
        if self.seen.contains_key(&key) {
            return true;
        }
        self.seen.insert(key, ()).is_ok()
    }

    /// Gives a key's place back (its series was removed).
    pub fn release(&mut self, key: &K) -> bool {
        self.seen.remove(key).is_some()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.seen.contains_key(key)
    }

    /// Label sets held, and their bytes.
    pub fn len_and_bytes(&self) -> (usize, usize) {
        (self.seen.len(), self.seen.bytes())
    }
}

/// Parses `--metrics`: an address, or a bare port on the loopback address.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse().map_err(|_| {
        format!("{text:?} is not an address: give IP:PORT (e.g. 127.0.0.1:9464) or a port")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_first_values_and_folds_the_rest() {
        let mut capped = Capped::new(2);
        let s = |t: &str| t.to_owned();
        assert!(capped.admit(s("a")));
        assert!(capped.admit(s("b")));
        assert!(!capped.admit(s("c")));
        assert!(
            capped.admit(s("a")),
            "a value already seen keeps its series"
        );
        assert!(capped.release(&s("b")));
        assert!(capped.admit(s("c")), "a released place is taken again");
    }

    #[test]
    fn label_sets_are_capped_in_bytes_too() {
        let mut capped: Capped<(String, String)> = Capped::new(10);
        let long = "x".repeat(1 << 20);
        assert!(
            !capped.admit((long.clone(), long)),
            "an uncut megabyte is never kept"
        );
        for n in 0..20 {
            capped.admit((
                label_value(&format!("{n}{}", "y".repeat(1000))),
                String::new(),
            ));
        }
        let (len, bytes) = capped.len_and_bytes();
        assert!(len == 10 && bytes <= Capped::<(String, String)>::bytes_for(10));
    }

    #[test]
    fn long_label_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(150);
        let cut = label_value(&long);
        assert!(cut.len() <= MAX_LABEL_BYTES && long.starts_with(&cut));
        assert_eq!(label_value("short"), "short");
    }

    #[test]
    fn label_values_are_terminal_safe_and_never_cut_inside_an_escape() {
        assert_eq!(
            label_value("a\u{1b}]0;t\u{7}\u{202e}\u{ad}\u{e0041}\nb"),
            "a\\e]0;t\\u{7}\\u{202e}\\u{ad}\\u{e0041}\\nb"
        );
        let long = format!(
            "{}{}",
            "x".repeat(MAX_LABEL_BYTES - 3),
            "\u{202e}".repeat(3)
        );
        let cut = label_value(&long);
        assert_eq!(
            cut,
            "x".repeat(MAX_LABEL_BYTES - 3),
            "no half escape at the end"
        );
        // On the page: the encoder escapes the backslashes, and nothing raw is left.
        use prometheus_client::encoding::EncodeLabelSet;
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct L {
            channel: String,
        }
        let mut registry = registry();
        let family = prometheus_client::metrics::family::Family::<
            L,
            prometheus_client::metrics::counter::Counter,
        >::default();
        registry.register("events", "events", family.clone());
        family
            .get_or_create(&L {
                channel: label_value("c\u{1b}[2J\u{9b}\u{2066}\"q\"\n"),
            })
            .inc();
        let page = encode(&registry);
        assert!(
            page.contains(
                r#"tickertape_events_total{channel="c\\e[2J\\u{9b}\\u{2066}\"q\"\\n"} 1"#
            ),
            "{page}"
        );
        assert!(
            !page
                .chars()
                .any(|c| c != '\n' && protocol::safe_text::is_unsafe(c))
        );
    }

    #[test]
    fn a_bare_port_means_loopback() {
        assert_eq!(parse_addr("9464").unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(parse_addr("0.0.0.0:1").unwrap().to_string(), "0.0.0.0:1");
        assert!(parse_addr("localhost:x").is_err());
    }

    #[test]
    fn the_build_info_is_an_info_metric() {
        let text = encode(&registry());
        assert!(
            text.contains("# TYPE tickertape_build_info gauge\n"),
            "{text}"
        );
        assert!(text.contains("tickertape_build_info{version=\""), "{text}");
    }
}
