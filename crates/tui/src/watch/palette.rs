//! The watch screen's commands in the kit's palette, besides its actions: subscribe and
//! unsubscribe, show one channel, sort, filter. Channel names in completions are the
//! subscribed ones (cut, as the status keeps them).

use std::time::Instant;

use super::controls::Focus;
use super::effects::Done;
use super::filter::Filter;
use super::screen::Watch;
use super::ticker::Sort;
use crate::kit::{Command, Effect, Task};

/// Most channels offered as completions.
const MAX_CHANNELS: usize = 50;

const SORTS: [(&str, Sort); 4] = [
    ("key", Sort::Key),
    ("value", Sort::Value),
    ("change", Sort::Change),
    ("recency", Sort::Recency),
];

impl Watch {
    fn channel_names(&self) -> Vec<String> {
        let mut names = self.model.status.channel_names();
        names.truncate(MAX_CHANNELS);
        names
    }

    pub(super) fn palette_commands(&self) -> Vec<Command> {
        let mut out = vec![Command::new(
            "subscribe ",
            "subscribe to a channel (type its name)",
        )];
        let names = self.channel_names();
        out.extend(
            names
                .iter()
                .map(|n| Command::new(format!("unsubscribe {n}"), "leave this channel")),
        );
        out.extend(names.iter().map(|n| {
            Command::new(
                format!("channel {n}"),
                "jump to this channel: the log shows only its events",
            )
        }));
        out.extend(
            SORTS
                .iter()
                .map(|(name, _)| Command::new(format!("sort {name}"), "sort the ticker")),
        );
        out.extend(self.views.views.iter().map(|v| {
            Command::new(
                format!("view {}", v.name),
                "load this saved view: channels, bindings, filter, sort, expectations",
            )
        }));
        out.push(Command::new(
            "view save ",
            "save the current view to the config file under a name",
        ));
        out.push(Command::new(
            "filter ",
            "filter the log: channel:X event:X field=value text, or jq (.data.x > 1)",
        ));
        out
    }

    pub(super) fn palette_command(
        &mut self,
        line: &str,
        now: Instant,
    ) -> Result<Option<Effect<Done>>, String> {
        let (verb, arg) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(v, a)| (v, a.trim()));
        let needs = |what: &str| format!("{verb} needs {what}");
        match verb {
            "sort" => {
                let (_, sort) = SORTS
                    .iter()
                    .find(|(n, _)| *n == arg)
                    .ok_or_else(|| "sort key, value, change or recency".to_owned())?;
                self.ui.sort = *sort;
                Ok(None)
            }
            "filter" if arg.is_empty() => Err(needs("an expression")),
            "filter" => {
                let filter = Filter::new(arg).map_err(|e| e.to_string())?;
                self.ui.filter = Some(filter);
                self.ui.log_selected = None;
                Ok(None)
            }
            "view" if arg.is_empty() => Err(needs("a name")),
            "view" => self.view_command(arg, now),
            "channel" if arg.is_empty() => Err(needs("a channel")),
            "channel" => {
                self.ui.filter = Some(Filter::parse(&format!("channel:{arg}")));
                self.ui.focus = Focus::Log;
                self.ui.log_selected = None;
                Ok(None)
            }
            "subscribe" | "unsubscribe" if arg.is_empty() => Err(needs("a channel")),
            "subscribe" | "unsubscribe" => {
                protocol::channel::validate_channel(arg, false).map_err(|e| e.to_string())?;
                let Some(client) = self.clients.first().cloned() else {
                    return Err(format!("{verb}: no live connection"));
                };
                let _ = now;
                let (what, channel) = (verb.to_owned(), arg.to_owned());
                let subscribe = verb == "subscribe";
                Ok(Some(Effect::Task(Task::new(
                    format!("{verb} {channel}"),
                    async move {
                        let done = if subscribe {
                            client.subscribe(&channel).await
                        } else {
                            client.unsubscribe(&channel).await
                        };
                        let said = match done {
                            Ok(()) => format!("{what} {channel}: asked"),
                            Err(e) => format!("{what} {channel} failed: {e}"),
                        };
                        Done::Said(what, said)
                    },
                    Done::Said(verb.to_owned(), "too much running at once".into()),
                ))))
            }
            _ => Err(format!(
                "unknown command {:?}; Tab completes",
                line.chars().take(40).collect::<String>()
            )),
        }
    }
}
