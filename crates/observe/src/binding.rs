//! Handlers bound per event type: the seed's `channel.bind('update_event', …)`, declared.
//!
//! Syntax, one rule per `--bind`: `[CHANNEL/]EVENT=VIEW[(ARG=VALUE,…)]`
//! - `EVENT` and `CHANNEL` are exact names, or `*` for any (pusher-js's `bind_global`);
//! - `VIEW` is `ticker(key=PATH,value=PATH)`, `log`, `count` or `ignore`;
//! - a `PATH` is a JSON pointer (`/quote/price`) or a dotted path (`quote.price`).
//!
//! The most specific rule wins: channel and event named, then event named, then wildcards.

pub use crate::field_path::FieldPath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Ticker { key: FieldPath, value: FieldPath },
    Log,
    Count,
    Ignore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// `None` matches every channel.
    pub channel: Option<String>,
    /// `None` matches every event.
    pub event: Option<String>,
    pub view: View,
}

impl Binding {
    /// Parses one rule, with an error that says what is wrong and shows the syntax.
    pub fn parse(text: &str) -> Result<Binding, String> {
        let fail = |why: &str| {
            format!(
                "--bind {text:?}: {why}; expected [CHANNEL/]EVENT=VIEW, e.g. update_event=ticker(key=name,value=price)"
            )
        };
        let (target, view) = text.split_once('=').ok_or_else(|| fail("no `=`"))?;
        let target = target.trim();
        let (channel, event) = match target.rsplit_once('/') {
            Some((c, e)) => (Some(c.trim()), e.trim()),
            None => (None, target),
        };
        if event.is_empty() || channel.is_some_and(str::is_empty) {
            return Err(fail("the event (or channel) is empty"));
        }
        let wild = |s: &str| (s != "*").then(|| s.to_owned());
        let view = view.trim();
        let (name, args) = match view.split_once('(') {
            Some((name, rest)) => {
                let args = rest
                    .strip_suffix(')')
                    .ok_or_else(|| fail("the view's arguments need a closing `)`"))?;
                (name.trim(), Some(args))
            }
            None => (view, None),
        };
        let view = match (name, args) {
            ("ticker", Some(args)) => {
                let (mut key, mut value) = (None, None);
                for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                    let (k, v) = arg
                        .split_once('=')
                        .ok_or_else(|| fail(&format!("ticker argument {arg:?} needs NAME=PATH")))?;
                    let path = FieldPath::parse(v).map_err(|e| fail(&e))?;
                    match k.trim() {
                        "key" => key = Some(path),
                        "value" => value = Some(path),
                        other => {
                            return Err(fail(&format!(
                                "ticker takes key and value, not {other:?}"
                            )));
                        }
                    }
                }
                match (key, value) {
                    (Some(key), Some(value)) => View::Ticker { key, value },
                    _ => return Err(fail("ticker needs both key=PATH and value=PATH")),
                }
            }
            ("ticker", None) => return Err(fail("ticker needs (key=PATH,value=PATH)")),
            ("log", None) => View::Log,
            ("count", None) => View::Count,
            ("ignore", None) => View::Ignore,
            ("log" | "count" | "ignore", Some(_)) => {
                return Err(fail(&format!("{name} takes no arguments")));
            }
            (other, _) => {
                return Err(fail(&format!(
                    "unknown view {other:?}: use ticker, log, count or ignore"
                )));
            }
        };
        Ok(Binding {
            channel: channel.and_then(wild),
            event: wild(event),
            view,
        })
    }

    /// The rule as `--bind` takes it (paths as JSON pointers), for a saved view.
    pub fn rule(&self) -> String {
        let event = self.event.as_deref().unwrap_or("*");
        let target = match &self.channel {
            Some(c) => format!("{c}/{event}"),
            None => event.to_owned(),
        };
        let view = match &self.view {
            View::Ticker { key, value } => {
                format!("ticker(key={},value={})", key.pointer(), value.pointer())
            }
            View::Log => "log".into(),
            View::Count => "count".into(),
            View::Ignore => "ignore".into(),
        };
        format!("{target}={view}")
    }

    fn score(&self, channel: Option<&str>, event: &str) -> Option<u8> {
        let channel_ok = self.channel.as_deref().is_none_or(|c| Some(c) == channel);
        let event_ok = self.event.as_deref().is_none_or(|e| e == event);
        (channel_ok && event_ok)
            .then(|| 2 * u8::from(self.channel.is_some()) + u8::from(self.event.is_some()))
    }
}

/// The seed's binding, `assets/stock_ticker.toml`. Like the seed's page, it binds
/// `update_event` only, so any other event (a misspelt one above all) shows as unbound.
pub fn seed_rules() -> Vec<Binding> {
    parse_file(include_str!("../../../assets/stock_ticker.toml"))
        .expect("the shipped bindings parse")
}

/// A bindings file: `[[bind]]` tables with `channel` (optional), `event`, `view`, and for
/// tickers `key` and `value`. Each becomes the same rule `--bind` would make.
pub fn parse_file(text: &str) -> Result<Vec<Binding>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        bind: Vec<Rule>,
        /// `[[expect]]` tables: read by `expect::parse::parse_file`.
        #[serde(default, rename = "expect")]
        _expect: serde::de::IgnoredAny,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rule {
        channel: Option<String>,
        event: String,
        view: String,
        key: Option<String>,
        value: Option<String>,
    }
    let file: File = toml::from_str(text).map_err(|e| format!("bindings file: {e}"))?;
    file.bind
        .into_iter()
        .map(|r| {
            let target = match &r.channel {
                Some(c) => format!("{c}/{}", r.event),
                None => r.event.clone(),
            };
            let view = match (r.view.as_str(), r.key, r.value) {
                ("ticker", Some(k), Some(v)) => format!("ticker(key={k},value={v})"),
                ("ticker", _, _) => {
                    return Err(format!(
                        "bindings file: the ticker for {target} needs key and value"
                    ));
                }
                (other, None, None) => other.to_owned(),
                (other, _, _) => {
                    return Err(format!(
                        "bindings file: {other} for {target} takes no key or value"
                    ));
                }
            };
            Binding::parse(&format!("{target}={view}"))
        })
        .collect()
}

/// The rules, and the lookup.
#[derive(Debug, Clone, Default)]
pub struct Bindings(Vec<Binding>);

impl Bindings {
    pub fn new(rules: Vec<Binding>) -> Bindings {
        Bindings(rules)
    }

    /// The seed's binding: `update_event` as a ticker of `name` → `price`.
    pub fn seed() -> Bindings {
        Bindings::new(seed_rules())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[Binding] {
        &self.0
    }

    /// The most specific rule for an event; `None` means unbound.
    pub fn lookup(&self, channel: Option<&str>, event: &str) -> Option<&Binding> {
        let mut best: Option<(u8, &Binding)> = None;
        for b in &self.0 {
            if let Some(score) = b.score(channel, event)
                && best.is_none_or(|(s, _)| score > s)
            {
                best = Some((score, b));
            }
        }
        best.map(|(_, b)| b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_form() {
        let b = Binding::parse("update_event=ticker(key=name,value=price)").unwrap();
        assert_eq!(b.event.as_deref(), Some("update_event"));
        assert_eq!(b.channel, None);
        match &b.view {
            View::Ticker { key, value } => {
                assert_eq!(key.get(&json!({"name": "A"})), Some(&json!("A")));
                assert_eq!(value.display(), "price");
            }
            other => panic!("{other:?}"),
        }
        let b = Binding::parse("stock_ticker/quote=ticker(key=/sym,value=q.last)").unwrap();
        assert_eq!(b.channel.as_deref(), Some("stock_ticker"));
        match b.view {
            View::Ticker { value, .. } => {
                assert_eq!(value.get(&json!({"q": {"last": 3}})), Some(&json!(3)))
            }
            _ => unreachable!(),
        }
        // A jq path where a field path goes.
        let b = Binding::parse("quote=ticker(key=.sym,value=.q.levels[1])").unwrap();
        match b.view {
            View::Ticker { key, value } => {
                let data = json!({"sym": "A", "q": {"levels": [1, 5]}});
                assert_eq!(key.get(&data), Some(&json!("A")));
                assert_eq!(value.get(&data), Some(&json!(5)));
            }
            _ => unreachable!(),
        }
        assert_eq!(Binding::parse("*=log").unwrap().event, None);
        for rule in [
            "stock_ticker/quote=ticker(key=/sym,value=/q/last)",
            "*/*=count",
            "noise=ignore",
        ] {
            let b = Binding::parse(rule).unwrap();
            assert_eq!(Binding::parse(&b.rule()).unwrap(), b, "{rule}");
        }
        assert_eq!(Binding::parse("*/*=count").unwrap().view, View::Count);
        assert_eq!(Binding::parse("noise=ignore").unwrap().view, View::Ignore);
        // Laravel's namespaced names contain dots and backslashes.
        assert_eq!(
            Binding::parse(r"orders/App\Events\Shipped=log")
                .unwrap()
                .event
                .as_deref(),
            Some(r"App\Events\Shipped")
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (text, says) in [
            ("update_event", "no `=`"),
            ("=log", "empty"),
            ("e=ticker", "needs (key=PATH,value=PATH)"),
            ("e=ticker(key=name)", "both key=PATH and value=PATH"),
            ("e=ticker(key=name,value=price", "closing"),
            ("e=ticker(key=name,colour=red)", "not \"colour\""),
            ("e=chart", "unknown view \"chart\""),
            ("e=log(x)", "takes no arguments"),
        ] {
            let err = Binding::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
            assert!(err.contains("expected [CHANNEL/]EVENT=VIEW"), "{err}");
        }
    }

    #[test]
    fn bindings_files() {
        let rules = seed_rules();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].channel.as_deref(), Some("stock_ticker"));
        let rules = parse_file("[[bind]]\nevent = \"*\"\nview = \"count\"\n").unwrap();
        assert_eq!(rules[0].view, View::Count);
        assert!(
            parse_file("[[bind]]\nevent = \"e\"\nview = \"ticker\"\n")
                .unwrap_err()
                .contains("needs key and value")
        );
        assert!(parse_file("[[bind]]\nevent = \"e\"\nview = \"log\"\ncolour = 1\n").is_err());
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let b = Bindings::new(
            [
                "*=log",
                "update_event=count",
                "stock_ticker/update_event=ticker(key=name,value=price)",
                "noise=ignore",
            ]
            .iter()
            .map(|r| Binding::parse(r).unwrap())
            .collect(),
        );
        assert!(matches!(
            b.lookup(Some("stock_ticker"), "update_event").unwrap().view,
            View::Ticker { .. }
        ));
        assert_eq!(
            b.lookup(Some("other"), "update_event").unwrap().view,
            View::Count
        );
        assert_eq!(b.lookup(Some("other"), "anything").unwrap().view, View::Log);
        let narrow = Bindings::new(vec![Binding::parse("update_event=log").unwrap()]);
        assert!(
            narrow.lookup(Some("c"), "updat_event").is_none(),
            "a misspelt event is unbound"
        );
    }
}
