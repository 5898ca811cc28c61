//! Exactly one source file in the workspace sets the terminal up (raw mode, the alternate
//! screen, mouse capture, ratatui's own init): the kit's terminal guard, which restores it on
//! every way out. A second one would be a second stack that can leave a terminal broken.

use std::path::{Path, PathBuf};

/// What setting a terminal up looks like in code, written in two halves so that this file
/// does not match itself.
fn patterns() -> Vec<String> {
    [
        ("enable_raw", "_mode"),
        ("EnterAlternate", "Screen"),
        ("EnableMouse", "Capture"),
        ("ratatui::", "init"),
        ("ratatui::try", "_init"),
        ("init_with", "_options"),
    ]
    .iter()
    .map(|(a, b)| format!("{a}{b}"))
    .collect()
}

/// Every `.rs` file under `dir`, build output and hidden directories left out.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            sources(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn exactly_one_file_sets_the_terminal_up() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(
        files.len() > 100,
        "the workspace's sources: {}",
        files.len()
    );
    let patterns = patterns();
    let mut setting_up: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            patterns.iter().any(|p| text.contains(p.as_str()))
        })
        .map(|f| {
            f.strip_prefix(&root)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    setting_up.sort();
    assert_eq!(
        setting_up,
        ["crates/tui/src/kit/terminal.rs"],
        "only the kit's terminal guard may set a terminal up"
    );
}
