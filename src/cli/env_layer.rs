//! The environment's layer of the connection settings, with Laravel's names as well as
//! Pusher's: `PUSHER_*` or `REVERB_*` (chosen by `BROADCAST_CONNECTION`, or the older
//! `BROADCAST_DRIVER`), from the process's environment and then from `--env-file`.
//!
//! Precedence: flags, then the environment, then `--env-file`, then the profile, then
//! defaults. Within the environment layers, a variable set in the process wins over the
//! file's, as in Laravel (phpdotenv never overwrites a variable that is already set), and
//! `BROADCAST_CONNECTION` is read the same way. One set is read whole: with
//! `BROADCAST_CONNECTION=reverb`, a leftover `PUSHER_APP_CLUSTER=mt1` is not mixed in.
//! Empty values count as unset.

use std::path::{Path, PathBuf};

use super::env_file::{self, EnvFileError};

/// Which of Laravel's broadcasters the settings are read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcaster {
    Pusher,
    Reverb,
}

impl Broadcaster {
    pub fn prefix(self) -> &'static str {
        match self {
            Broadcaster::Pusher => "PUSHER_",
            Broadcaster::Reverb => "REVERB_",
        }
    }
}

/// A connection setting the environment may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Key,
    Secret,
    AppId,
    Cluster,
    Host,
    Port,
    Scheme,
}

impl Field {
    /// Its variable in `broadcaster`'s set (Reverb has no cluster).
    pub fn var(self, broadcaster: Broadcaster) -> Option<&'static str> {
        use Broadcaster::{Pusher, Reverb};
        Some(match (self, broadcaster) {
            (Field::Key, Pusher) => "PUSHER_APP_KEY",
            (Field::Secret, Pusher) => "PUSHER_APP_SECRET",
            (Field::AppId, Pusher) => "PUSHER_APP_ID",
            (Field::Cluster, Pusher) => "PUSHER_APP_CLUSTER",
            (Field::Host, Pusher) => "PUSHER_HOST",
            (Field::Port, Pusher) => "PUSHER_PORT",
            (Field::Scheme, Pusher) => "PUSHER_SCHEME",
            (Field::Key, Reverb) => "REVERB_APP_KEY",
            (Field::Secret, Reverb) => "REVERB_APP_SECRET",
            (Field::AppId, Reverb) => "REVERB_APP_ID",
            (Field::Cluster, Reverb) => return None,
            (Field::Host, Reverb) => "REVERB_HOST",
            (Field::Port, Reverb) => "REVERB_PORT",
            (Field::Scheme, Reverb) => "REVERB_SCHEME",
        })
    }

    /// Its flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Key => "--key",
            Field::Secret => "--secret",
            Field::AppId => "--app-id",
            Field::Cluster => "--cluster",
            Field::Host => "--host",
            Field::Port => "--port",
            Field::Scheme => "--scheme",
        }
    }

    pub const ALL: [Field; 7] = [
        Field::Key,
        Field::Secret,
        Field::AppId,
        Field::Cluster,
        Field::Host,
        Field::Port,
        Field::Scheme,
    ];
}

/// Every variable read from the environment and from `--env-file`; nothing else is kept.
pub const KNOWN: &[&str] = &[
    "BROADCAST_CONNECTION",
    "BROADCAST_DRIVER",
    "PUSHER_APP_KEY",
    "PUSHER_APP_SECRET",
    "PUSHER_APP_ID",
    "PUSHER_APP_CLUSTER",
    "PUSHER_HOST",
    "PUSHER_PORT",
    "PUSHER_SCHEME",
    "PUSHER_AUTH_ENDPOINT",
    "PUSHER_USER_AUTH_ENDPOINT",
    "PUSHER_ENCRYPTION_MASTER_KEY_BASE64",
    "REVERB_APP_KEY",
    "REVERB_APP_SECRET",
    "REVERB_APP_ID",
    "REVERB_HOST",
    "REVERB_PORT",
    "REVERB_SCHEME",
    "REVERB_SERVER_HOST",
    "REVERB_SERVER_PORT",
    "VITE_REVERB_APP_KEY",
    "VITE_REVERB_HOST",
    "VITE_REVERB_PORT",
    "VITE_REVERB_SCHEME",
    "VITE_PUSHER_APP_KEY",
    "VITE_PUSHER_HOST",
    "VITE_PUSHER_PORT",
    "VITE_PUSHER_SCHEME",
    "VITE_PUSHER_APP_CLUSTER",
];

/// Where an environment value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The process's environment.
    Env,
    /// `--env-file`, at this line.
    File(usize),
}

/// One variable's value and where it was found.
#[derive(Clone)]
pub struct Var {
    pub name: &'static str,
    pub value: String,
    pub place: Place,
}

/// The environment's layer: the known variables (process over file, blanks dropped), the
/// file they may come from, and the broadcaster chosen.
#[derive(Clone)]
pub struct EnvLayer {
    vars: Vec<Var>,
    /// `--env-file`, as given.
    pub file: Option<PathBuf>,
    pub broadcaster: Broadcaster,
    /// Why that broadcaster: `BROADCAST_CONNECTION=reverb (.env line 3)`, or what was found.
    pub chosen_by: String,
    /// Both sets have an app key and nothing chose between them.
    pub ambiguous: bool,
}

impl std::fmt::Debug for EnvLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values may be secrets.
        let names: Vec<&str> = self.vars.iter().map(|v| v.name).collect();
        f.debug_struct("EnvLayer")
            .field("vars", &names)
            .field("file", &self.file)
            .field("broadcaster", &self.broadcaster)
            .finish_non_exhaustive()
    }
}

impl Default for EnvLayer {
    fn default() -> Self {
        EnvLayer::from_parts(&|_| None, None, &[])
    }
}

impl EnvLayer {
    /// The process's environment, and `file` when given (checked whole first).
    pub fn read(file: Option<&Path>) -> Result<EnvLayer, EnvFileError> {
        let env = |name: &str| std::env::var(name).ok();
        let entries = match file {
            Some(path) => env_file::read(path, &env)?,
            None => Vec::new(),
        };
        Ok(EnvLayer::from_parts(&env, file, &entries))
    }

    /// From an environment lookup and a file's entries.
    pub fn from_parts(
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<&Path>,
        entries: &[env_file::Entry],
    ) -> EnvLayer {
        let mut vars = Vec::new();
        for &name in KNOWN {
            let from_env = env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            let var = match from_env {
                Some(value) => Some(Var {
                    name,
                    value,
                    place: Place::Env,
                }),
                // The last line that sets it wins, as in phpdotenv.
                None => entries
                    .iter()
                    .rev()
                    .find(|e| e.name == name)
                    .map(|e| (e.value.trim().to_owned(), e.line))
                    .filter(|(v, _)| !v.is_empty())
                    .map(|(value, line)| Var {
                        name,
                        value,
                        place: Place::File(line),
                    }),
            };
            vars.extend(var);
        }
        let mut layer = EnvLayer {
            vars,
            file: file.map(Path::to_path_buf),
            broadcaster: Broadcaster::Pusher,
            chosen_by: String::new(),
            ambiguous: false,
        };
        layer.choose();
        layer
    }

    fn choose(&mut self) {
        let named = ["BROADCAST_CONNECTION", "BROADCAST_DRIVER"]
            .into_iter()
            .find_map(|n| self.var(n));
        let has = |prefix: &str, only_key: bool| {
            self.vars
                .iter()
                .any(|v| v.name.starts_with(prefix) && (!only_key || v.name.ends_with("_APP_KEY")))
        };
        let (pusher_key, reverb_key) = (has("PUSHER_", true), has("REVERB_", true));
        if let Some(v) = named {
            let shown = format!("{}={}", v.name, safe(&v.value));
            let by = format!("{shown} ({})", self.place_text(v.place));
            match v.value.to_ascii_lowercase().as_str() {
                "reverb" => {
                    (self.broadcaster, self.chosen_by) = (Broadcaster::Reverb, by);
                    return;
                }
                "pusher" => {
                    (self.broadcaster, self.chosen_by) = (Broadcaster::Pusher, by);
                    return;
                }
                _ => {}
            }
        }
        let reverb = match (pusher_key, reverb_key) {
            (true, true) => {
                self.ambiguous = true;
                false
            }
            (false, true) => true,
            (true, false) => false,
            (false, false) => has("REVERB_", false) && !has("PUSHER_", false),
        };
        self.broadcaster = if reverb {
            Broadcaster::Reverb
        } else {
            Broadcaster::Pusher
        };
        self.chosen_by = if self.ambiguous {
            "both PUSHER_APP_KEY and REVERB_APP_KEY are set and BROADCAST_CONNECTION does not choose: PUSHER_* is read".into()
        } else if reverb {
            "only REVERB_* is set".into()
        } else {
            "PUSHER_*".into()
        };
    }

    /// A known variable, when set (not blank).
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The value of `field` in the chosen set.
    pub fn field(&self, field: Field) -> Option<&Var> {
        field.var(self.broadcaster).and_then(|n| self.var(n))
    }

    /// "environment" or ".env line 9".
    pub fn place_text(&self, place: Place) -> String {
        match (place, &self.file) {
            (Place::Env, _) => "environment".into(),
            // The file's name alone: there is one --env-file, and its lines stay short.
            (Place::File(line), Some(path)) => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                format!("{} line {line}", safe(&name))
            }
            (Place::File(line), None) => format!("line {line}"),
        }
    }

    /// "REVERB_PORT (.env line 9)".
    pub fn describe(&self, var: &Var) -> String {
        format!("{} ({})", var.name, self.place_text(var.place))
    }

    /// Every variable read, in [`KNOWN`]'s order.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }
}

fn safe(text: &str) -> String {
    protocol::safe_text::terminal_safe(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(env: &[(&str, &str)], file: &str) -> EnvLayer {
        let owned: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |n: &str| owned.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let entries = env_file::parse(file, &lookup).unwrap();
        EnvLayer::from_parts(&lookup, Some(Path::new(".env")), &entries)
    }

    fn value(l: &EnvLayer, f: Field) -> Option<&str> {
        l.field(f).map(|v| v.value.as_str())
    }

    #[test]
    fn broadcast_connection_chooses_the_set_whole() {
        let file = "BROADCAST_CONNECTION=reverb\nPUSHER_APP_KEY=old\nPUSHER_APP_CLUSTER=mt1\nREVERB_APP_KEY=new\nREVERB_HOST=ws.test\n";
        let l = layer(&[], file);
        assert_eq!(l.broadcaster, Broadcaster::Reverb);
        assert_eq!(value(&l, Field::Key), Some("new"));
        assert_eq!(value(&l, Field::Cluster), None);
        assert!(
            l.chosen_by
                .contains("BROADCAST_CONNECTION=reverb (.env line 1)"),
            "{}",
            l.chosen_by
        );

        let l = layer(&[("BROADCAST_CONNECTION", "pusher")], file);
        assert_eq!(value(&l, Field::Key), Some("old"));
        assert_eq!(value(&l, Field::Cluster), Some("mt1"));

        // The older name.
        let l = layer(
            &[],
            "BROADCAST_DRIVER=reverb\nPUSHER_APP_KEY=a\nREVERB_APP_KEY=b\n",
        );
        assert_eq!(value(&l, Field::Key), Some("b"));
    }

    #[test]
    fn without_a_choice_the_set_with_a_key_is_read() {
        let l = layer(&[("REVERB_APP_KEY", "k"), ("PUSHER_PORT", "443")], "");
        assert_eq!(l.broadcaster, Broadcaster::Reverb);
        let l = layer(&[("REVERB_APP_KEY", "k"), ("PUSHER_APP_KEY", "p")], "");
        assert_eq!((l.broadcaster, l.ambiguous), (Broadcaster::Pusher, true));
        let l = layer(
            &[("BROADCAST_CONNECTION", "log"), ("REVERB_APP_KEY", "k")],
            "",
        );
        assert_eq!(l.broadcaster, Broadcaster::Reverb);
        let l = layer(&[], "");
        assert_eq!(l.broadcaster, Broadcaster::Pusher);
    }

    #[test]
    fn the_environment_wins_over_the_file_and_blanks_are_unset() {
        let l = layer(
            &[("REVERB_PORT", "9000"), ("REVERB_HOST", "  ")],
            "REVERB_APP_KEY=k\nREVERB_HOST=h.test\nREVERB_PORT=8080\nREVERB_SCHEME=\n",
        );
        let port = l.field(Field::Port).unwrap();
        assert_eq!((port.value.as_str(), port.place), ("9000", Place::Env));
        let host = l.field(Field::Host).unwrap();
        assert_eq!(
            (host.value.as_str(), host.place),
            ("h.test", Place::File(2))
        );
        assert_eq!(l.describe(host), "REVERB_HOST (.env line 2)");
        assert!(l.field(Field::Scheme).is_none());
    }

    #[test]
    fn debug_shows_no_value() {
        let l = layer(&[], "REVERB_APP_SECRET=hunter2\n");
        assert!(!format!("{l:?}").contains("hunter2"));
    }
}
