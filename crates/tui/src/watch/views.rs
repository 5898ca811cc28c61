//! Saved views: a name for channels, bindings, a filter, a sort and expectations, from the
//! config file's `[views.NAME]` tables (checked whole when the file is read). `:view NAME`
//! loads one while watching: its filter, sort and bindings apply at once and its channels
//! are subscribed (its expectations apply when a run starts with `--view`). `:view save NAME`
//! writes the current one back: the file's other text is kept, a table of the same name is
//! replaced, and the new file is checked whole before it is written.

use std::path::PathBuf;
use std::time::Instant;

use observe::binding::{Binding, Bindings};

use super::effects::Done;
use super::filter::Filter;
use super::screen::Watch;
use super::ticker::Sort;
use crate::kit::{Effect, Task};

/// One view, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSpec {
    pub name: String,
    pub channels: Vec<String>,
    pub bindings: Vec<Binding>,
    /// The filter's text (simple syntax or jq), already checked.
    pub filter: Option<String>,
    pub sort: Option<Sort>,
    /// `--expect` rules, already checked.
    pub expect: Vec<String>,
}

/// Where views are saved, and how a whole config file is checked before it is written.
#[derive(Clone)]
pub struct ViewStore {
    pub views: Vec<ViewSpec>,
    pub path: Option<PathBuf>,
    /// Checks a whole config file's text (the binary's reader): an error names what is
    /// wrong.
    pub check: fn(&str) -> Result<(), String>,
}

impl Default for ViewStore {
    fn default() -> ViewStore {
        ViewStore {
            views: Vec::new(),
            path: None,
            check: |_| Ok(()),
        }
    }
}

/// A name a view may have: letters, digits, `-` and `_` (it is a TOML key).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn toml_string(s: &str) -> String {
    // JSON strings are TOML basic strings.
    serde_json::Value::String(s.to_owned()).to_string()
}

fn toml_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", items.join(", "))
}

impl ViewSpec {
    /// The view as a `[views.NAME]` table.
    pub fn to_toml(&self) -> String {
        let mut out = format!("[views.{}]\n", self.name);
        out.push_str(&format!("channels = {}\n", toml_list(&self.channels)));
        let rules: Vec<String> = self.bindings.iter().map(Binding::rule).collect();
        out.push_str(&format!("bindings = {}\n", toml_list(&rules)));
        if let Some(f) = &self.filter {
            out.push_str(&format!("filter = {}\n", toml_string(f)));
        }
        if let Some(s) = self.sort {
            out.push_str(&format!("sort = {}\n", toml_string(s.label())));
        }
        if !self.expect.is_empty() {
            out.push_str(&format!("expect = {}\n", toml_list(&self.expect)));
        }
        out
    }
}

/// `text` with the table `[views.NAME]` (up to the next table) taken out, and `table`
/// appended.
pub fn replace_table(text: &str, name: &str, table: &str) -> String {
    let header = format!("[views.{name}]");
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            skipping = trimmed == header;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(table);
    out
}

impl Watch {
    /// Applies a view now: its filter, sort and bindings; its channels are subscribed.
    pub fn load_view(&mut self, view: &ViewSpec) -> Option<Effect<Done>> {
        if let Some(text) = &view.filter {
            // Checked when the file was read.
            self.ui.filter = Filter::new(text).ok();
        } else {
            self.ui.filter = None;
        }
        if let Some(sort) = view.sort {
            self.ui.sort = sort;
        }
        if !view.bindings.is_empty() {
            self.model
                .set_bindings(Bindings::new(view.bindings.clone()));
        }
        self.current_view = Some(view.name.clone());
        let have: Vec<String> = self
            .model
            .status
            .channels
            .keys()
            .map(|(_, c)| c.clone())
            .collect();
        let missing: Vec<String> = view
            .channels
            .iter()
            .filter(|c| !have.contains(c))
            .cloned()
            .collect();
        let client = self.clients.first().cloned()?;
        if missing.is_empty() {
            return None;
        }
        Some(Effect::Task(Task::new(
            format!("subscribe {} channels of view {}", missing.len(), view.name),
            async move {
                let mut said = Vec::new();
                for c in &missing {
                    match client.subscribe(c).await {
                        Ok(()) => said.push(c.clone()),
                        Err(e) => said.push(format!("{c} failed: {e}")),
                    }
                }
                Done::Said("view".into(), format!("subscribing {}", said.join(", ")))
            },
            Done::Said("view".into(), "too much running at once".into()),
        )))
    }

    /// The current view, named `name`.
    pub fn current(&self, name: &str) -> ViewSpec {
        let mut channels: Vec<String> = self
            .model
            .status
            .channels
            .keys()
            .map(|(_, c)| c.clone())
            .collect();
        channels.dedup();
        let expect = self
            .views
            .views
            .iter()
            .find(|v| Some(&v.name) == self.current_view.as_ref())
            .map(|v| v.expect.clone())
            .unwrap_or_default();
        ViewSpec {
            name: name.to_owned(),
            channels,
            bindings: self.model.bindings().rules().to_vec(),
            filter: self.ui.filter.as_ref().map(|f| f.text.clone()),
            sort: Some(self.ui.sort),
            expect,
        }
    }

    /// `:view NAME`, `:view save NAME`.
    pub(super) fn view_command(
        &mut self,
        arg: &str,
        _now: Instant,
    ) -> Result<Option<Effect<Done>>, String> {
        if let Some(name) = arg.strip_prefix("save") {
            let name = name.trim();
            if !valid_name(name) {
                return Err("view save NAME: letters, digits, - and _".into());
            }
            let Some(path) = self.views.path.clone() else {
                return Err("no config file to save to".into());
            };
            let view = self.current(name);
            let check = self.views.check;
            let table = view.to_toml();
            let name = name.to_owned();
            return Ok(Some(Effect::Task(Task::new(
                format!("save view {name}"),
                async move {
                    let saved = tokio::task::spawn_blocking(move || {
                        let text = match std::fs::read_to_string(&path) {
                            Ok(t) => t,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                        };
                        let new = replace_table(&text, &name, &table);
                        check(&new).map_err(|e| format!("not saved: {e}"))?;
                        if let Some(dir) = path.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        std::fs::write(&path, new)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                        Ok(format!("saved view {name} to {}", path.display()))
                    })
                    .await;
                    let said = match saved {
                        Ok(Ok(s)) | Ok(Err(s)) => s,
                        Err(e) => e.to_string(),
                    };
                    Done::Said("view".into(), said)
                },
                Done::Said("view".into(), "too much running at once".into()),
            ))));
        }
        let Some(view) = self.views.views.iter().find(|v| v.name == arg).cloned() else {
            let known: Vec<&str> = self.views.views.iter().map(|v| v.name.as_str()).collect();
            return Err(match known.is_empty() {
                true => format!("no view {arg:?}: the config file has no [views.NAME]"),
                false => format!("no view {arg:?}; views: {}", known.join(", ")),
            });
        };
        Ok(self.load_view(&view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_replaced_and_the_rest_kept() {
        let text = "# mine\n[profiles.p]\nkey = \"k\"\n\n[views.a]\nchannels = [\"x\"]\n\n[keys]\nhelp = \"h\"\n";
        let out = replace_table(text, "a", "[views.a]\nchannels = [\"y\"]\n");
        assert_eq!(
            out,
            "# mine\n[profiles.p]\nkey = \"k\"\n\n[keys]\nhelp = \"h\"\n\n[views.a]\nchannels = [\"y\"]\n"
        );
        assert_eq!(replace_table("", "b", "[views.b]\n"), "[views.b]\n");
        assert!(valid_name("prod-eu_1") && !valid_name("a.b") && !valid_name(""));
    }
}
