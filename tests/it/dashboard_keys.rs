//! Keys from the config file's `[keys]` table, and the help they write: rebound keys act and
//! show in the help and the key hints, a bad table stops the run with its line, and the help
//! scrolls to its last entry when the terminal is short.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use tui::kit::Keymap;
use tui::testing::Dash as State;
use tui::watch::{Action, Options, Overlay};

use crate::support::dashboard::{demo_state, key, render};

fn screen(s: &State, now: Instant, w: u16, h: u16) -> String {
    render(s, now, w, h).backend().to_string()
}

fn press(s: &mut State, code: KeyCode) {
    s.key(&KeyEvent::new(code, KeyModifiers::NONE));
}

fn keymap(pairs: &[(&str, &[&str])]) -> Keymap<Action> {
    let table: BTreeMap<String, Vec<String>> = pairs
        .iter()
        .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
        .collect();
    Keymap::with(&table).unwrap()
}

#[test]
fn rebound_keys_act_and_the_help_and_hints_say_so() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let demo = demo_state(t0, Options::default());
    let keys = keymap(&[("help", &["h", "f1"]), ("search", &["ctrl-f"])]);
    let mut s = State::with_keys(demo.app.screen, keys);
    let main = screen(&s, now, 80, 24);
    let hints = main.lines().last().unwrap();
    assert!(
        hints.contains("h help") && hints.contains("Ctrl-F search"),
        "{hints}"
    );
    // `?` no longer opens the help; `h` does, and the help lists the new keys.
    s.key(&key('?'));
    assert!(!s.app.help_open());
    s.key(&key('h'));
    assert!(s.app.help_open());
    let help = screen(&s, now, 120, 40);
    assert!(help.contains("h  F1") && help.contains("Ctrl-F"), "{help}");
    assert!(
        help.contains("[keys]"),
        "the help says where keys are set:\n{help}"
    );
    press(&mut s, KeyCode::Esc);
    s.key(&KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
    assert!(
        matches!(s.ui.overlay, Some(Overlay::Input(..))),
        "ctrl-f searches"
    );
}

#[test]
fn the_help_scrolls_to_its_last_entry() {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(20);
    let mut s = demo_state(t0, Options::default());
    s.key(&key('?'));
    let last = "trigger an event";
    let top = screen(&s, now, 80, 16);
    assert!(!top.contains(last), "{top}");
    assert!(top.contains("more below"), "{top}");
    press(&mut s, KeyCode::PageDown);
    press(&mut s, KeyCode::PageDown);
    s.app.fit(Rect::new(0, 0, 80, 16));
    let bottom = screen(&s, now, 80, 16);
    assert!(bottom.contains(last), "{bottom}");
    assert!(
        bottom.contains("more above") && !bottom.contains("more below"),
        "{bottom}"
    );
    // Scrolled past the end, one key up moves the view at once.
    press(&mut s, KeyCode::Up);
    s.app.fit(Rect::new(0, 0, 80, 16));
    assert!(screen(&s, now, 80, 16).contains("more below"));
    // j/k and the arrows scroll too; Esc closes.
    s.key(&key('g'));
    s.key(&key('j'));
    let one = screen(&s, now, 80, 16);
    assert!(
        !one.contains("q  Ctrl-C") && one.contains("more below"),
        "{one}"
    );
    press(&mut s, KeyCode::Esc);
    assert!(!s.app.help_open());
    // Tall enough, nothing scrolls and no mark shows.
    s.key(&key('?'));
    let all = screen(&s, now, 120, 40);
    assert!(all.contains(last) && !all.contains("more "), "{all}");
}

#[tokio::test]
async fn a_bad_keys_table_stops_the_run_with_its_line() {
    let home = std::env::temp_dir().join(format!("tickertape-keys-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    for (text, says) in [
        (
            "[profiles.default]\nsecret = \"s3cr3t-value\"\n\n[keys]\nhelp = \"h\"\nserch = \"s\"\n",
            "line 6, column 9: [keys]: unknown action \"serch\" (did you mean \"search\"?)",
        ),
        (
            "[keys]\nquit = [\"q\", \"ctrl-\"]\n",
            "line 2, column 8: [keys]: quit: unknown key \"ctrl-\"",
        ),
        (
            "[keys]\nsort = \"x\"\nclear = \"x\"\n",
            "x is bound to both clear and sort",
        ),
        (
            "[keys]\nhelp = \"h\"\nquit = \"ctrl-🙂\"\n",
            "line 3, column 8: [keys]: quit: \"ctrl-🙂\" cannot be sent by a terminal",
        ),
    ] {
        let file = home.join("config.toml");
        std::fs::write(&file, text).unwrap();
        let mut cmd = crate::support::bin::command_in(&home);
        cmd.args(["watch", "c", "--json", "--config", file.to_str().unwrap()]);
        let (code, _, err) = crate::support::bin::Proc::spawn(&mut cmd)
            .finish(Duration::from_secs(5))
            .await;
        assert_ne!(code, 0, "{err}");
        assert!(err.contains(says), "{says}:\n{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}

#[test]
fn the_documented_keys_example_is_a_valid_config() {
    use tickertape::cli::config_file::ConfigFile;
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/src/guide/configuration.md"
    ))
    .unwrap();
    let start = guide
        .find("```toml\n[keys]")
        .expect("the guide's [keys] example");
    let block = &guide[start + "```toml\n".len()..];
    let block: String = block[..block.find("```").unwrap()]
        .lines()
        .map(|l| l.trim_start())
        .collect::<Vec<_>>()
        .join("\n");
    let file: ConfigFile = toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    let keys = file.keys.0.keymap::<Action>();
    assert_eq!(keys.action(&key('s')), Some(Action::Search));
    assert_eq!(keys.action(&key('o')), Some(Action::Sort));
    assert_eq!(keys.action(&key(' ')), Some(Action::PageDown));
    assert_eq!(keys.action(&key('p')), Some(Action::Pause));
    assert_eq!(keys.action(&key('/')), None);
}
