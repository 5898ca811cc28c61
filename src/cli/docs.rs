//! Documentation made from the command line's definitions: the man pages (`tickertape man`)
//! and the manual's CLI reference (`docs/src/reference/cli.md`, kept fresh by a test).

use clap::CommandFactory;

use super::Cli;

/// The width the CLI reference is written at: what `--help` prints at `COLUMNS=80`.
pub const REFERENCE_WIDTH: usize = 80;

/// The command tree, built (so every subcommand knows its full name, `tickertape watch`,
/// and clap's own `help` subcommand is there), at a fixed width.
fn built(width: usize) -> clap::Command {
    let mut cmd = Cli::command().term_width(width);
    cmd.build();
    cmd
}

/// Every command a user can run, the root first, then each subcommand in the order
/// `--help` lists them (clap's `help` left out: it only prints what `--help` does).
fn commands(root: &clap::Command) -> Vec<&clap::Command> {
    let mut out = vec![root];
    out.extend(
        root.get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help"),
    );
    out
}

/// The CLI reference in Markdown: each command's `--help` as it prints at 80 columns.
pub fn cli_reference() -> String {
    let root = built(REFERENCE_WIDTH);
    let mut md = String::from(
        "# The command line\n\n\
         <!-- Generated from the clap definitions in src/cli; do not edit. `cargo test` fails\n\
         when this page is stale; `TICKERTAPE_WRITE_DOCS=1 cargo test --test it docs::` rewrites it. -->\n\n\
         Each command's `--help`, as it prints at 80 columns. The same text is in the man\n\
         pages (`tickertape man`).\n\n",
    );
    let all = commands(&root);
    for cmd in &all[1..] {
        let name = cmd.get_name();
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        md.push_str(&format!(
            "- [`tickertape {name}`](#tickertape-{name}): {about}\n"
        ));
    }
    for cmd in all {
        let title = cmd.get_bin_name().unwrap_or(cmd.get_name());
        let help = cmd.clone().render_long_help().to_string();
        md.push_str(&format!("\n## {title}\n\n```text\n"));
        for line in help.lines() {
            md.push_str(line.trim_end());
            md.push('\n');
        }
        md.push_str("```\n");
    }
    md
}

/// The man pages: `tickertape.1`, then `tickertape-COMMAND.1` for each command, as (file
/// name, roff).
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let root = built(REFERENCE_WIDTH);
    let mut pages = Vec::new();
    // A built subcommand's display name is `tickertape-watch`: the page's title and file.
    for cmd in commands(&root) {
        let man = clap_mangen::Man::new(cmd.clone())
            .source(format!("tickertape {}", env!("CARGO_PKG_VERSION")));
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        pages.push((man.get_filename(), roff));
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_lists_every_subcommand() {
        let md = cli_reference();
        for cmd in Cli::command().get_subcommands() {
            let heading = format!("\n## tickertape {}\n", cmd.get_name());
            assert!(md.contains(&heading), "no {heading:?}");
        }
    }

    #[test]
    fn a_man_page_for_the_tool_and_each_command() {
        let pages = man_pages().expect("rendered");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "tickertape.1");
        assert!(names.contains(&"tickertape-watch.1"), "{names:?}");
        assert_eq!(names.len(), Cli::command().get_subcommands().count() + 1);
        let watch = &pages
            .iter()
            .find(|(n, _)| n == "tickertape-watch.1")
            .expect("watch")
            .1;
        let text = String::from_utf8_lossy(watch);
        assert!(
            text.contains(&format!(
                ".TH tickertape-watch 1  \"tickertape {}\"",
                env!("CARGO_PKG_VERSION")
            )),
            "roff: {text:.200}"
        );
        assert!(text.contains("\\-\\-json"), "the flags are in it");
    }
}
