//! Saved views as data: a name for channels, bindings, a filter, a sort and expectations
//! (the config file's `[views.NAME]` tables, checked when it is read), how one is written
//! back as a table, and where. What loading and saving do to the screen is `views.rs`'.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use observe::binding::Binding;
use observe::expect::Evaluator;

use super::ticker::Sort;

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

/// Builds the evaluator of the expectations in force with a view: the command line's and
/// the bindings file's, and the view's rules (`--expect` texts), each value rule keyed by
/// the bindings in force; `Ok(None)` when there are none; an error names the rule it
/// refuses. The binary's: it knows the flags, the file and `--ts-field`.
pub type ExpectBuilder =
    Arc<dyn Fn(&[String], &[Binding], Instant) -> Result<Option<Evaluator>, String> + Send + Sync>;

/// Where views are saved, how a whole config file is checked before it is written, and how
/// a view's expectations are built.
#[derive(Clone)]
pub struct ViewStore {
    pub views: Vec<ViewSpec>,
    pub path: Option<PathBuf>,
    /// Checks a whole config file's text (the binary's reader): an error names what is
    /// wrong.
    pub check: fn(&str) -> Result<(), String>,
    /// The expectations with a view; none: a view's expectations apply only with `--view`.
    pub expect: Option<ExpectBuilder>,
    /// The texts of the rules in force that are not a view's (`--expect`, `--warn`, the
    /// bindings file): a view loaded keeps them, and `:view save` writes them too.
    pub base_expect: Vec<String>,
}

impl Default for ViewStore {
    fn default() -> ViewStore {
        ViewStore {
            views: Vec::new(),
            path: None,
            check: |_| Ok(()),
            expect: None,
            base_expect: Vec::new(),
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

/// Whether `line` is the header of the table `[views.NAME]` as TOML may write it: with
/// spaces around the dot and inside the brackets, a quoted key (`[views."prices"]`), a
/// comment after it.
fn is_header_of(line: &str, name: &str) -> bool {
    let Some(rest) = line.trim().strip_prefix('[') else {
        return false;
    };
    let Some((inside, after)) = rest.split_once(']') else {
        return false;
    };
    let after = after.trim();
    if rest.starts_with('[') || !(after.is_empty() || after.starts_with('#')) {
        return false;
    }
    let unquote = |p: &str| {
        let p = p.trim();
        ['"', '\'']
            .iter()
            .find_map(|q| p.strip_prefix(*q).and_then(|p| p.strip_suffix(*q)))
            .unwrap_or(p)
            .to_owned()
    };
    let parts: Vec<String> = inside.split('.').map(unquote).collect();
    parts == ["views", name]
}

/// `text` with the table `[views.NAME]` (up to the next table) taken out, and `table`
/// appended.
pub fn replace_table(text: &str, name: &str, table: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            skipping = is_header_of(trimmed, name);
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
        // Headers as TOML may write them are the table too; others are not.
        for header in [
            "[views.a] # prices",
            "[ views.a ]",
            "[views . \"a\"]",
            "[views.'a']",
        ] {
            let text = format!("[keys]\nhelp = \"h\"\n{header}\nchannels = [\"x\"]\n");
            assert_eq!(
                replace_table(&text, "a", "[views.a]\n"),
                "[keys]\nhelp = \"h\"\n\n[views.a]\n",
                "{header}"
            );
        }
        for other in ["[views.ab]", "[[views.a]]", "[views.a.b]", "[views.a] x"] {
            let text = format!("{other}\nk = 1\n");
            assert!(replace_table(&text, "a", "").starts_with(other), "{other}");
        }
        assert!(valid_name("prod-eu_1") && !valid_name("a.b") && !valid_name(""));
    }
}
