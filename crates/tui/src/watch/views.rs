//! Saved views: a name for channels, bindings, a filter, a sort and expectations, from the
//! config file's `[views.NAME]` tables (checked whole when the file is read). `:view NAME`
//! loads one while watching: its expectations are built first (with the command line's,
//! keyed by the bindings in force), and only when the whole view is good does any of it
//! apply: its filter, sort, bindings and expectations at once (what the old rules had
//! raised recovers, saying why), and its channels are subscribed. `:view save NAME` writes
//! the current one back, with every expectation in force: the file's other text is kept, a
//! table of the same name is replaced, and the new file is checked whole before it is
//! written; once written, `:view NAME` loads it.

use std::time::Instant;

use observe::binding::Bindings;

use super::effects::Done;
use super::filter::Filter;
use super::saved::{ViewSpec, replace_table, valid_name};
use super::screen::Watch;
use crate::kit::{Effect, Task};

impl Watch {
    /// Switches to a view while watching: its expectations are built first, and only if
    /// they (and so the whole view) are good does it apply, expectations included.
    pub fn switch_view(
        &mut self,
        view: &ViewSpec,
        now: Instant,
    ) -> Result<Option<Effect<Done>>, String> {
        let bindings = match view.bindings.is_empty() {
            true => self.model.bindings().rules().to_vec(),
            false => view.bindings.clone(),
        };
        let name = &view.name;
        let eval = match &self.views.expect {
            Some(build) => {
                build(&view.expect, &bindings, now).map_err(|e| format!("view {name}: {e}"))?
            }
            None if view.expect.is_empty() => None,
            None => return Err(format!("view {name}: its expectations cannot apply here")),
        };
        let rules = eval.as_ref().map_or(0, |e| e.len());
        let effect = self.load_view(view);
        let why = format!("view {name} loaded: no longer expected");
        self.model.alerts.replace(eval, &why, now);
        self.ui.flash = Some(match rules {
            0 => format!("view {name}: no expectations"),
            1 => format!("view {name}: 1 expectation"),
            n => format!("view {name}: {n} expectations"),
        });
        Ok(effect)
    }

    /// Applies a view now: its filter, sort and bindings; its channels are subscribed. (Its
    /// expectations are the caller's: [`Watch::switch_view`] builds them, and a run started
    /// with `--view` has them already.)
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
        let base = &self.views.base_expect;
        self.view_expect = view
            .expect
            .iter()
            .filter(|r| !base.contains(r))
            .cloned()
            .collect();
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
        let channels = self.model.status.channel_names();
        // Every rule in force: the command line's and the view's.
        let expect = self
            .views
            .base_expect
            .iter()
            .chain(&self.view_expect)
            .cloned()
            .collect();
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
        now: Instant,
    ) -> Result<Option<Effect<Done>>, String> {
        // `save` is a word of its own: `:view saved` loads the view named so.
        let (verb, rest) = arg
            .split_once(char::is_whitespace)
            .map_or((arg, ""), |(v, r)| (v, r.trim()));
        if verb == "save" {
            let name = rest;
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
                    match saved {
                        // `:view NAME` finds it from now on, as the file has it.
                        Ok(Ok(said)) => Done::ViewSaved(view, said),
                        Ok(Err(said)) => Done::Said("view".into(), said),
                        Err(e) => Done::Said("view".into(), e.to_string()),
                    }
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
        self.switch_view(&view, now)
    }
}
