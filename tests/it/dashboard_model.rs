//! The dashboard's shape: keys and items give effects as values, the effects runner turns
//! them into messages for the state, and the dashboard's modules import each other without
//! a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use observe::binding::Bindings;
use serde_json::json;
use tui::kit::Effect;
use tui::watch::{Done, Options, Senders};

use crate::support::dashboard::{demo_state, event, key};

#[test]
fn count_reached_is_a_quit_effect_from_apply() {
    let t0 = Instant::now();
    let options = Options {
        stop_after: Some(2),
        ..Options::default()
    };
    let mut s = crate::support::dashboard::state(options, Bindings::seed(), t0);
    let ev = |n| {
        event(
            "stock_ticker",
            "update_event",
            json!({"name": "A", "price": n}),
            0,
        )
    };
    assert!(s.apply(ev(1), t0).is_none());
    assert!(matches!(s.apply(ev(2), t0), Some(Effect::Quit)));
}

#[tokio::test]
async fn the_runner_turns_effects_into_messages_for_the_state() {
    let t0 = Instant::now();
    let mut s = demo_state(t0, Options::default());
    let dir = std::env::temp_dir().join(format!("tickertape-effects-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    s.export_dir = dir.clone();
    // An export is a task of the event loop; its result is noted in the log.
    let Some(Effect::Task(task)) = s.key(&key('e')) else {
        panic!("e exports")
    };
    let done = task.run().await;
    assert!(matches!(&done, Done::Exported(Ok((_, 17)))), "{done:?}");
    s.app.done(done, t0);
    let last = &s.model.log.back().unwrap().line;
    assert!(last.is_notice() && last.event == "exported" && last.text.starts_with("17 lines to"));
    // A trigger too, through what the screen may send through (nothing here).
    let request = tui::watch::form::Request {
        channel: "stock_ticker".into(),
        event: "update_event".into(),
        data: json!({}),
        conn: 0,
        via: None,
    };
    let done = tui::watch::send(request, &Senders::default()).await;
    s.app.done(done, t0);
    let last = &s.model.log.back().unwrap().line;
    assert!(last.event == "trigger" && last.text.contains("needs the app id and secret"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The watch screen's modules each file names through `super::` (tests left out).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/tui/src/watch");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut uses = BTreeSet::new();
        for (at, _) in code.match_indices("super::") {
            let rest = &code[at + "super::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(inner) => inner[..inner.find('}').unwrap_or(0)]
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or(""),
                ],
            };
            for n in names {
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    uses.insert(n.to_owned());
                }
            }
        }
        uses.remove(&name);
        graph.insert(name, uses);
    }
    graph
}

#[test]
fn watch_modules_import_each_other_without_a_cycle() {
    let graph = imports();
    assert!(graph.contains_key("view") && graph.contains_key("names"));
    assert!(
        graph["names"].is_empty(),
        "names imports nothing: {:?}",
        graph["names"]
    );
    // Depth-first search; a module met again on the current path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {:?} -> {m}", &path[at..]);
        }
        path.push(m);
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

#[tokio::test]
async fn the_documented_bindings_flag_names_a_file() {
    use clap::Parser;
    use tickertape::cli::{Cli, Command};
    // As the guide and assets/stock_ticker.toml write it.
    let documented =
        "tickertape watch stock_ticker --bindings assets/stock_ticker.toml --ascii --fps 10";
    let cli = Cli::try_parse_from(documented.split(' ')).expect("the documented command parses");
    let Some(Command::Watch(args)) = cli.command else {
        panic!("not watch")
    };
    assert_eq!(
        args.bindings_file.as_deref(),
        Some(std::path::Path::new("assets/stock_ticker.toml"))
    );
    assert!(args.bindings.is_empty(), "--bind is the inline form");
    // The long name and the inline rules still work, together.
    let cli = Cli::try_parse_from([
        "tickertape",
        "watch",
        "x",
        "--bindings-file",
        "f.toml",
        "--bind",
        "e=log",
    ])
    .unwrap();
    let Some(Command::Watch(args)) = cli.command else {
        panic!("not watch")
    };
    assert!(args.bindings_file.is_some() && args.bindings.len() == 1);
    let cli = Cli::try_parse_from(["tickertape", "replay", "rec.ndjson", "--bindings", "f.toml"])
        .unwrap();
    assert!(matches!(cli.command, Some(Command::Replay(r)) if r.bindings_file.is_some()));
    // --help says so.
    let (code, help, _) =
        crate::support::bin::Proc::spawn(crate::support::bin::command().args(["watch", "--help"]))
            .finish(Duration::from_secs(5))
            .await;
    assert_eq!(code, 0);
    assert!(
        help.contains("`--bindings FILE` is the same flag"),
        "{help}"
    );
    assert!(help.contains("--log-bytes"), "{help}");
}
