//! The config file's `[keys]` table: action name → keys, one table for every screen. An
//! action is rebound in each screen that has it (`quit`, `help`, `down` in all of them;
//! `trigger` in the watch screen only); a name no screen knows, a key no terminal can send
//! and a key given to two actions of one screen are errors, found when the file is read.

use std::collections::BTreeMap;

use crate::kit::{Action, Keymap, keys::unknown_action};

/// Every screen's action names, in order, each once.
fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    let all = <crate::watch::Action as Action>::ALL
        .iter()
        .map(|a| a.name)
        .chain(<crate::probe::Action as Action>::ALL.iter().map(|a| a.name))
        .chain(
            <crate::console::Action as Action>::ALL
                .iter()
                .map(|a| a.name),
        )
        .chain(<crate::tap::Action as Action>::ALL.iter().map(|a| a.name));
    for name in all {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Builds every screen's keymap from `table`.
fn check_screens(table: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    Keymap::<crate::watch::Action>::with_known(table)?;
    Keymap::<crate::probe::Action>::with_known(table)?;
    Keymap::<crate::console::Action>::with_known(table)?;
    Keymap::<crate::tap::Action>::with_known(table)?;
    Ok(())
}

/// The `[keys]` table, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTable(BTreeMap<String, Vec<String>>);

impl KeyTable {
    /// One entry, checked on its own as it is read (so that an error names its line): some
    /// screen has the action, and each key parses and can be sent.
    pub fn check_entry(action: &str, keys: &[String]) -> Result<(), String> {
        let names = names();
        if !names.contains(&action) {
            return Err(unknown_action(action, names.iter().copied()));
        }
        check_screens(&BTreeMap::from([(action.to_owned(), keys.to_vec())]))
    }

    /// The whole table, checked for every screen.
    pub fn new(table: BTreeMap<String, Vec<String>>) -> Result<KeyTable, String> {
        for (action, keys) in &table {
            KeyTable::check_entry(action, keys)?;
        }
        check_screens(&table)?;
        Ok(KeyTable(table))
    }

    /// The keymap of one screen's actions, with the table applied.
    pub fn keymap<A: Action>(&self) -> Keymap<A> {
        // Checked for every screen when the table was made.
        Keymap::with_known(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn table(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
            .collect()
    }

    #[test]
    fn one_table_serves_every_screen() {
        let keys = KeyTable::new(table(&[("quit", &["x"]), ("trigger", &["T"])])).unwrap();
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        let watch = keys.keymap::<crate::watch::Action>();
        let probe = keys.keymap::<crate::probe::Action>();
        assert_eq!(watch.action(&x), Some(crate::watch::Action::Quit));
        assert_eq!(probe.action(&x), Some(crate::probe::Action::Quit));
        let e = KeyTable::check_entry("serch", &["s".into()]).unwrap_err();
        assert!(e.contains("did you mean \"search\""), "{e}");
        let e = KeyTable::check_entry("quit", &["ctrl-🙂".into()]).unwrap_err();
        assert!(e.contains("cannot be sent by a terminal"), "{e}");
        let e = KeyTable::new(table(&[("sort", &["x"]), ("clear", &["x"])])).unwrap_err();
        assert!(e.contains("x is bound to both clear and sort"), "{e}");
    }
}
