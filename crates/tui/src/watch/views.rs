//! Saved views: a name for channels, bindings, a filter, a sort and expectations, from the
//! config file's `[views.NAME]` tables (checked whole when the file is read). `:view NAME`
//! loads one while watching: its filter, sort and bindings apply at once and its channels
//! are subscribed (its expectations apply when a run starts with `--view`). `:view save NAME`
//! writes the current one back: the file's other text is kept, a table of the same name is
//! replaced, and the new file is checked whole before it is written.

use std::time::Instant;

use observe::binding::Bindings;

use super::effects::Done;
use super::filter::Filter;
use super::saved::{ViewSpec, replace_table, valid_name};
use super::screen::Watch;
use crate::kit::{Effect, Task};

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
