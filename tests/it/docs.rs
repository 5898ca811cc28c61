//! The documentation against the code: the CLI reference is the one the clap definitions
//! make; every page of the book exists and every link inside the docs resolves; `--help`
//! fits 80 columns with whole examples; every shell example of the README, the guide and
//! `--help` parses; and the README's examples run against a local `tickertape serve`.
//!
//! The README's lines that run `tickertape` are run (those of a block fenced ```` ```sh
//! parse-only ```` only parsed); the guide's and `--help`'s are parsed, since they name
//! servers elsewhere. The examples are written for a server on 127.0.0.1:6001 with app 1 / app-key /
//! app-secret. They run here with one set of adaptations, and no other:
//! - `PUSHER_HOST`, `PUSHER_PORT`, `PUSHER_APP_ID`, `PUSHER_APP_KEY` and `PUSHER_APP_SECRET`
//!   (and, in a `.env` written beside them, `REVERB_*`) point at the test's server and its
//!   app (with no host given, the examples' default is that app on 127.0.0.1:6001);
//!   `TICKERTAPE_LISTEN` makes `serve` take a free port;
//! - a file an example names and a flag reads while it is parsed (`--ca-file
//!   ./internal-ca.pem`) is made by the test, in the directory the examples run in;
//! - every other `127.0.0.1:PORT` in an example becomes a free port (the same one for the
//!   same port, so `serve --webhook http://127.0.0.1:6010/` reaches
//!   `webhooks --listen 127.0.0.1:6010`);
//! - [`VARIABLES`] gives the shell variables examples use (`$SECRET`, `$KEY_B64`, …).
//!
//! `TICKERTAPE_WRITE_DOCS=1 cargo test --test it docs::` rewrites the CLI reference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use tickertape::cli::Cli;

use crate::support::bin;
use crate::support::server::Server;

/// The shell variables the examples use, with the local server's values.
const VARIABLES: &[(&str, &str)] = &[
    ("SECRET", "app-secret"),
    ("PUSHER_APP_KEY", "app-key"),
    ("PUSHER_APP_SECRET", "app-secret"),
    // 32 bytes, base64: an encryption master key.
    ("KEY_B64", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_cli_reference_is_the_one_the_definitions_make() {
    let path = root().join("docs/src/reference/cli.md");
    let made = tickertape::cli::docs::cli_reference();
    if std::env::var_os("TICKERTAPE_WRITE_DOCS").is_some() {
        std::fs::write(&path, &made).expect("write the CLI reference");
        return;
    }
    let written = read(&path);
    assert!(
        written == made,
        "docs/src/reference/cli.md is stale: rewrite it with \
         `TICKERTAPE_WRITE_DOCS=1 cargo test --test it docs::` (first difference at line {})",
        written
            .lines()
            .zip(made.lines())
            .position(|(a, b)| a != b)
            .map_or(written.lines().count().min(made.lines().count()) + 1, |i| i
                + 1)
    );
}

/// Every Markdown file of the book, and the README.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read docs") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    walk(&root().join("docs/src"), &mut out);
    out.sort();
    out
}

/// The targets of a page's Markdown links, outside code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in without_code(text).lines() {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// The text with fenced blocks and inline code blanked out.
fn without_code(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if !fenced {
            let mut inline = false;
            out.extend(line.chars().map(|c| {
                if c == '`' {
                    inline = !inline;
                }
                if inline || c == '`' { ' ' } else { c }
            }));
        }
        out.push('\n');
    }
    out
}

/// A heading's anchor as mdBook and GitHub make it.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_page_of_the_book_exists_and_every_link_resolves() {
    let src = root().join("docs/src");
    let summary = read(&src.join("SUMMARY.md"));
    let listed: BTreeSet<PathBuf> = links(&summary).iter().map(|l| src.join(l)).collect();
    assert!(listed.len() >= 17, "SUMMARY.md lists {listed:?}");
    let mut problems = Vec::new();
    for page in &listed {
        if !page.is_file() {
            problems.push(format!("SUMMARY.md: {} does not exist", page.display()));
        }
    }
    for file in markdown_files() {
        let text = read(&file);
        let name = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        if file.starts_with(&src)
            && file.file_name() != Some("SUMMARY.md".as_ref())
            && !listed.contains(&file)
        {
            problems.push(format!("{name}: not in SUMMARY.md"));
        }
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("a directory").join(path)
            };
            if !target.exists() {
                problems.push(format!("{name}: {link}: no such file"));
                continue;
            }
            let is_md = target.extension().is_some_and(|e| e == "md");
            if !anchor.is_empty() && is_md && !anchors(&read(&target)).contains(anchor) {
                problems.push(format!("{name}: {link}: no such heading"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_stays_short_and_opens_with_the_two_commands() {
    let readme = read(&root().join("README.md"));
    assert!(
        readme.len() <= 12 * 1024,
        "README.md is {} bytes",
        readme.len()
    );
    let first_block: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a first sh block")
        .lines()
        .collect();
    assert!(
        first_block[0].starts_with("cargo run --release"),
        "{first_block:?}"
    );
    assert!(first_block[1].starts_with("./test.sh"), "{first_block:?}");
}

/// One shell example: where it is, and the command as written (continuations joined).
#[derive(Debug, Clone)]
struct Example {
    place: String,
    line: String,
    /// From a block to run against the local server (the README's), not only parsed.
    runs: bool,
    block: usize,
}

/// The commands of a run of shell lines, one a line (a line ending in `\\` continues on the
/// next), comments and blank lines left out: each with the number of its first line.
fn commands<'a>(lines: impl IntoIterator<Item = (usize, &'a str)>) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (_, text) = pending.get_or_insert_with(|| (n, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => text.push_str(head),
            None => {
                text.push_str(line);
                out.extend(pending.take());
            }
        }
    }
    out
}

/// Numbered lines of a page.
type Lines<'a> = Vec<(usize, &'a str)>;

/// The fenced `sh` blocks of a Markdown page, as [`commands`]. A block whose info string
/// says `parse-only` is parsed, not run.
fn sh_examples(name: &str, text: &str, runs: bool, first_block: usize) -> Vec<Example> {
    let mut out = Vec::new();
    // The block being read: `Some(run)` when it is shell, and its lines.
    let mut block: Option<(Option<bool>, Lines<'_>)> = None;
    let mut count = first_block;
    for (n, line) in text.lines().enumerate() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            if let Some((Some(_), lines)) = &mut block {
                lines.push((n + 1, line));
            }
            continue;
        };
        match block.take() {
            None => {
                let shell = info.split_whitespace().next() == Some("sh");
                let run = runs && !info.contains("parse-only");
                block = Some((shell.then_some(run), Vec::new()));
            }
            Some((None, _)) => {}
            Some((Some(run), lines)) => {
                count += 1;
                out.extend(commands(lines).into_iter().map(|(n, line)| Example {
                    place: format!("{name}:{n}"),
                    line,
                    runs: run,
                    block: count,
                }));
            }
        }
    }
    out
}

/// The `Examples:` sections of every command's `--help` (as written in the definitions).
fn help_examples() -> Vec<Example> {
    let root = Cli::command();
    let mut out = Vec::new();
    for cmd in std::iter::once(&root).chain(root.get_subcommands()) {
        let Some(after) = cmd.get_after_help() else {
            continue;
        };
        let text = after.to_string();
        let Some((_, examples)) = text.split_once("Examples:\n") else {
            continue;
        };
        out.extend(
            commands(examples.lines().enumerate())
                .into_iter()
                .map(|(_, line)| Example {
                    place: format!("tickertape {} --help", cmd.get_name()),
                    line,
                    runs: false,
                    block: 0,
                }),
        );
    }
    out
}

fn substitute(line: &str) -> String {
    let mut line = line.to_owned();
    for (name, value) in VARIABLES {
        line = line.replace(&format!("\"${name}\""), value);
        line = line.replace(&format!("${name}"), value);
    }
    line
}

/// Each `tickertape …` command in a shell line, as its arguments: the line split into words
/// as sh does, cut at `|`, `;`, `&&`, `||` and `&`, with redirections and leading variable
/// assignments left out.
fn tickertape_commands(line: &str) -> Result<Vec<Vec<String>>, String> {
    let words = shlex::split(&substitute(line)).ok_or("not valid shell quoting")?;
    let mut out = Vec::new();
    for segment in words.split(|w| matches!(w.as_str(), "|" | ";" | "&&" | "||" | "&")) {
        let mut words = segment.iter().skip_while(|w| {
            w.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
        });
        let Some(first) = words.next() else { continue };
        if first != "tickertape" {
            continue;
        }
        // `2>x` and `>x` go, and so do `>` and `2>` with the word after them.
        let mut args = vec![first.clone()];
        let mut skip_next = false;
        for w in words {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            let op = w.trim_start_matches(|c: char| c.is_ascii_digit());
            if op.starts_with('>') || op.starts_with('<') {
                skip_next = matches!(op, ">" | ">>" | "<");
                continue;
            }
            args.push(w.clone());
        }
        out.push(args);
    }
    Ok(out)
}

fn all_examples() -> Vec<Example> {
    let mut out = sh_examples("README.md", &read(&root().join("README.md")), true, 0);
    let guide = root().join("docs/src/guide");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&guide)
        .expect("the guide")
        .map(|e| e.expect("entry").path())
        .collect();
    pages.sort();
    for page in pages {
        let name = format!(
            "docs/src/guide/{}",
            page.file_name().expect("name").to_string_lossy()
        );
        out.extend(sh_examples(&name, &read(&page), false, 1000));
    }
    out.extend(help_examples());
    out
}

/// What the examples are resolved against: a config file with the profiles they name, a
/// Laravel `.env`, and the files flags read (a private CA, a batch, a recording).
struct ExampleFiles {
    dir: PathBuf,
    /// (word as written, path made here)
    files: Vec<(&'static str, String)>,
    config: String,
}

impl ExampleFiles {
    fn make() -> ExampleFiles {
        let dir = std::env::temp_dir().join(format!(
            "tickertape-test-{}-example-files",
            std::process::id()
        ));
        let pki = crate::support::tls::Pki::generate(&dir);
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("write an example's file");
            path.display().to_string()
        };
        let profile = |name: &str| {
            format!(
                "[profiles.{name}]\napp_id = \"1\"\nkey = \"app-key\"\nsecret = \"app-secret\"\nhost = \"ws.example.test\"\n"
            )
        };
        let config = write(
            "config.toml",
            &["prod", "prod-eu", "prod-us", "local"]
                .map(profile)
                .join("\n"),
        );
        let env = write(
            ".env",
            "BROADCAST_CONNECTION=reverb\nREVERB_APP_ID=1\nREVERB_APP_KEY=app-key\n\
             REVERB_APP_SECRET=app-secret\nREVERB_HOST=ws.example.test\nREVERB_PORT=443\nREVERB_SCHEME=https\n",
        );
        let batch = write(
            "events.ndjson",
            "{\"channel\":\"c\",\"name\":\"e\",\"data\":\"{}\"}\n",
        );
        let session = write("session.ndjson", "");
        let files = vec![
            ("./internal-ca.pem", pki.ca.display().to_string()),
            (".env", env),
            ("events.ndjson", batch),
            ("session.ndjson", session),
        ];
        ExampleFiles { dir, files, config }
    }

    /// The arguments with the files made here, and `--config` for a command that takes it.
    fn adapt(&self, args: &[String], sourced_env: bool) -> Vec<String> {
        let mut out: Vec<String> = args
            .iter()
            .map(|a| {
                self.files
                    .iter()
                    .find(|(name, _)| name == a)
                    .map_or_else(|| a.clone(), |(_, path)| path.clone())
            })
            .collect();
        let mut with = |flag: &str, value: &str| {
            let mut more = out.clone();
            more.extend([flag.to_owned(), value.to_owned()]);
            if Cli::try_parse_from(&more).is_ok() {
                out = more;
            }
        };
        if !args.iter().any(|a| a == "--config") {
            with("--config", &self.config.clone());
        }
        if sourced_env && !args.iter().any(|a| a == "--env-file") {
            let env = self
                .files
                .iter()
                .find(|(n, _)| *n == ".env")
                .expect(".env")
                .1
                .clone();
            with("--env-file", &env);
        }
        out
    }
}

impl Drop for ExampleFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Resolves a command's plan as the binary does before it connects or binds anything: the
/// settings from flags, environment, `.env` and profile, checked whole. `Ok` for a command
/// with no plan to resolve.
fn resolve(cli: Cli) -> anyhow::Result<()> {
    use tickertape::cli::{Command, plan};
    match cli.command {
        Some(Command::Watch(a)) => plan::WatchPlan::from_args(*a).map(drop),
        Some(Command::Serve(a)) => plan::ServePlan::from_args(&a).map(drop),
        Some(Command::Trigger(a)) => plan::TriggerPlan::from_args(*a).map(drop),
        Some(Command::Channels(a)) => plan::ChannelsPlan::from_args(*a).map(drop),
        Some(Command::Stocks(a)) => plan::StocksPlan::from_args(*a).map(drop),
        Some(Command::Replay(a)) => plan::ReplayPlan::from_args(*a).map(drop),
        Some(Command::Check(a)) => plan::CheckPlan::from_args(*a).map(drop),
        Some(Command::Probe(a)) => plan::ProbePlan::from_args(*a).map(drop),
        Some(Command::Doctor(a)) => plan::doctor::DoctorPlan::from_args(*a).map(drop),
        Some(Command::Webhooks(a)) => {
            tickertape::cli::webhooks::WebhooksPlan::from_args(*a).map(drop)
        }
        Some(Command::Tap(a)) => tickertape::cli::tap::TapPlan::from_args(*a).map(drop),
        Some(Command::Trace(a)) => tickertape::cli::trace::TracePlan::from_args(*a).map(drop),
        _ => Ok(()),
    }
}

#[test]
fn every_shell_example_parses_and_resolves() {
    let files = ExampleFiles::make();
    let examples = all_examples();
    let mut failures = Vec::new();
    let mut commands = 0;
    // `set -a; source .env; set +a` gives the command on the next line those settings.
    let mut sourced_env = false;
    for ex in &examples {
        let sourced_env = std::mem::replace(&mut sourced_env, ex.line.contains("source .env"));
        match tickertape_commands(&ex.line) {
            Err(e) => failures.push(format!("{}: {e}: {}", ex.place, ex.line)),
            Ok(cmds) => {
                for args in cmds {
                    commands += 1;
                    let args = files.adapt(&args, sourced_env);
                    let outcome = match Cli::try_parse_from(&args) {
                        Err(e) => Err(e.to_string().lines().next().unwrap_or_default().to_owned()),
                        // Data from stdin (`-`) would be read here: parsed only.
                        Ok(_) if args.iter().any(|a| a == "-") => Ok(()),
                        Ok(cli) => resolve(cli).map_err(|e| format!("{e:#}")),
                    };
                    if let Err(e) = outcome {
                        failures.push(format!("{}: {}\n    {e}", ex.place, ex.line));
                    }
                }
            }
        }
    }
    assert!(
        commands >= 100,
        "only {commands} commands found in the examples"
    );
    assert!(
        failures.is_empty(),
        "examples that fail as written:\n{}",
        failures.join("\n")
    );
}

/// Every `127.0.0.1:PORT` of a line, but the local server's 6001, mapped to a free port.
fn free_ports(lines: &[&Example]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for ex in lines {
        let mut rest = ex.line.as_str();
        while let Some(i) = rest.find("127.0.0.1:") {
            let port: String = rest[i + 10..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            rest = &rest[i + 10..];
            if port.is_empty() || port == "6001" || map.contains_key(&port) {
                continue;
            }
            let free = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            map.insert(port, free.to_string());
        }
    }
    map
}

/// Runs one example line with `sh`, the binary first on PATH, in `dir`: its status, or
/// `None` when it was still running at `deadline` (then it is stopped with SIGTERM).
async fn run_line(
    line: &str,
    dir: &Path,
    env: &[(String, String)],
    deadline: Duration,
) -> (Option<i32>, String) {
    let bin_dir = Path::new(bin::BIN)
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The clean environment of every test, running `sh -c LINE`.
    let mut sh = tokio::process::Command::new("sh");
    bin::clean_env(&mut sh, dir);
    sh.arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = sh.spawn().expect("start sh");
    let pid = child.id().expect("a pid");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let status = match tokio::time::timeout(deadline, child.wait()).await {
        Ok(status) => status.expect("wait for sh").code(),
        Err(_) => {
            kill_group(pid, "-TERM");
            None
        }
    };
    if status.is_none() {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end && child.try_wait().ok().flatten().is_none() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        kill_group(pid, "-KILL");
        let _ = child.wait().await;
    }
    let text = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    (status, text)
}

/// Signals the process group this test started for one example.
fn kill_group(pgid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, "--", &format!("-{pgid}")])
        .status();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_examples_run_against_a_local_server() {
    let server = Server::start(&[]).await;
    let dir = std::env::temp_dir().join(format!(
        "tickertape-test-{}-readme-examples",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a directory");
    let port = server.addr.port().to_string();
    // A Laravel app's .env, for `--env-file .env`.
    std::fs::write(
        dir.join(".env"),
        format!(
            "BROADCAST_CONNECTION=reverb\nREVERB_APP_ID=1\nREVERB_APP_KEY=app-key\n\
             REVERB_APP_SECRET=app-secret\nREVERB_HOST=127.0.0.1\nREVERB_PORT={port}\nREVERB_SCHEME=http\n"
        ),
    )
    .expect("write .env");
    // Something to watch: the seed's stock publisher.
    let mut stocks = bin::command_in(&dir);
    stocks
        .args(["stocks", "--interval", "100ms", "--quiet", "--port", &port])
        .stdout(Stdio::null());
    let stocks = bin::Proc::spawn(&mut stocks);

    // The lines that run a `tickertape` command (not `cargo install`, nor `./test.sh`).
    let examples: Vec<Example> = all_examples()
        .into_iter()
        .filter(|e| e.runs && tickertape_commands(&e.line).is_ok_and(|c| !c.is_empty()))
        .collect();
    assert!(examples.len() >= 15, "{examples:?}");
    let refs: Vec<&Example> = examples.iter().collect();
    let ports = free_ports(&refs);
    let env: Vec<(String, String)> = vec![
        ("PUSHER_HOST".into(), "127.0.0.1".into()),
        ("PUSHER_PORT".into(), port.clone()),
        ("PUSHER_APP_ID".into(), "1".into()),
        ("PUSHER_APP_KEY".into(), "app-key".into()),
        ("PUSHER_APP_SECRET".into(), "app-secret".into()),
        ("TICKERTAPE_LISTEN".into(), "127.0.0.1:0".into()),
    ];
    let mut blocks: BTreeMap<usize, Vec<Example>> = BTreeMap::new();
    for ex in examples {
        let mut line = ex
            .line
            .replace("127.0.0.1:6001", &format!("127.0.0.1:{port}"));
        for (from, to) in &ports {
            line = line.replace(&format!("127.0.0.1:{from}"), &format!("127.0.0.1:{to}"));
        }
        blocks
            .entry(ex.block)
            .or_default()
            .push(Example { line, ..ex });
    }
    // Blocks at once, the lines of a block in order (a recording before its replay).
    let mut tasks = Vec::new();
    for (_, lines) in blocks {
        let dir = dir.clone();
        let env = env.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for ex in lines {
                let (status, stderr) = run_line(&ex.line, &dir, &env, Duration::from_secs(4)).await;
                if stderr.contains("panicked") {
                    failures.push(format!("{}: panicked: {}\n{stderr}", ex.place, ex.line));
                } else if status.is_some_and(|s| s != 0) {
                    failures.push(format!(
                        "{}: exit {}: {}\n    {}",
                        ex.place,
                        status.unwrap_or_default(),
                        ex.line,
                        stderr.lines().last().unwrap_or_default()
                    ));
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        failures.extend(task.await.expect("a block"));
    }
    drop(stocks);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "README examples that fail:\n{}",
        failures.join("\n")
    );
}

/// Every command, as `--help` names it.
fn subcommands() -> Vec<Vec<&'static str>> {
    let mut out = vec![vec!["--help"]];
    for cmd in Cli::command().get_subcommands() {
        let name: &'static str = Box::leak(cmd.get_name().to_owned().into_boxed_str());
        out.push(vec![name, "--help"]);
    }
    out
}

/// A line of an `Examples:` section that starts a command.
fn starts_command(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or_default();
    first == "tickertape"
        || ["echo", "set", "open", "man", "curl", "ngrok"].contains(&first)
        || first.split_once('=').is_some_and(|(n, _)| {
            !n.is_empty() && n.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
}

#[tokio::test]
async fn every_help_fits_80_columns_with_whole_examples() {
    let mut problems = Vec::new();
    for args in subcommands() {
        let mut cmd = bin::command();
        cmd.args(&args).env("COLUMNS", "80");
        let (code, stdout, _) = bin::Proc::spawn(&mut cmd)
            .finish(Duration::from_secs(10))
            .await;
        let name = format!("tickertape {}", args.join(" "));
        assert_eq!(code, 0, "{name}");
        let mut in_examples = false;
        let mut continued = false;
        for line in stdout.lines() {
            let width = line.chars().count();
            if width > 80 {
                problems.push(format!("{name}: {width} columns: {line}"));
            }
            if line == "Examples:" {
                in_examples = true;
                continue;
            }
            if in_examples && !line.is_empty() && !line.starts_with(' ') {
                in_examples = false;
            }
            if !in_examples || line.trim().is_empty() {
                continue;
            }
            let body = line.trim_start();
            let whole = continued
                || body.starts_with('#')
                || (line.starts_with("  ") && starts_command(body));
            if !whole {
                problems.push(format!("{name}: an example split over two lines: {line:?}"));
            }
            continued = body.ends_with('\\');
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_example_checks_catch_what_they_should() {
    // A split command, a redirection and a pipe.
    assert_eq!(
        tickertape_commands("tickertape watch a --json 2>x.ndjson | jq -c . > out")
            .expect("parses"),
        vec![vec!["tickertape", "watch", "a", "--json"]]
    );
    assert_eq!(
        tickertape_commands("echo '{}' | PUSHER_APP_CLUSTER=eu tickertape trigger c e -")
            .expect("parses"),
        vec![vec!["tickertape", "trigger", "c", "e", "-"]]
    );
    assert!(!starts_command("--auth-header 'X: y'"));
    assert!(starts_command("tickertape watch x"));
    let md = "```sh\n# c\ntickertape watch a \\\n  --json\n```\n```toml\nx = 1\n```\n";
    let found = sh_examples("x.md", md, true, 0);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, "tickertape watch a --json");
    assert_eq!(
        tickertape_commands("tickertape man > ~/x.1 2> err < in").expect("parses"),
        vec![vec!["tickertape", "man"]]
    );
    assert_eq!(slug("`tickertape doctor`"), "tickertape-doctor");
    assert_eq!(
        slug("Why doesn't my event arrive?"),
        "why-doesnt-my-event-arrive"
    );
}

/// The config file examples with a `[profiles.local]`: each is a whole config file, and its
/// `local` profile is enough for every command (the publishers need the app id too).
#[test]
fn the_config_file_examples_are_whole() {
    let dir = std::env::temp_dir().join(format!(
        "tickertape-test-{}-config-examples",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a directory");
    let mut checked = 0;
    for page in [
        "docs/src/guide/configuration.md",
        "docs/src/reference/config.md",
    ] {
        let text = read(&root().join(page));
        for (i, block) in text.split("```toml\n").skip(1).enumerate() {
            let toml = block.split("```").next().unwrap_or_default();
            if !toml.contains("[profiles.local]") {
                continue;
            }
            checked += 1;
            let path = dir.join(format!("config-{i}.toml"));
            std::fs::write(&path, toml).expect("write");
            let path = path.display().to_string();
            for args in [
                vec!["trigger", "stock_ticker", "update_event", "{}"],
                vec!["channels"],
                vec!["stocks"],
                vec!["watch", "stock_ticker"],
                vec!["check", "--expect", "connected"],
            ] {
                let mut argv = vec!["tickertape"];
                argv.extend(&args);
                argv.extend(["--config", &path, "--profile", "local"]);
                let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
                if let Err(e) = resolve(cli) {
                    panic!("{page}, block {}: {argv:?}: {e:#}", i + 1);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(checked, 2, "the config file examples with a local profile");
}

#[tokio::test]
async fn man_prints_the_page_and_writes_one_per_command() {
    let mut cmd = bin::command();
    cmd.arg("man");
    let (code, stdout, _) = bin::Proc::spawn(&mut cmd)
        .finish(Duration::from_secs(10))
        .await;
    assert_eq!(code, 0);
    assert!(stdout.contains(".TH tickertape 1"), "{stdout:.300}");
    assert!(
        stdout.contains("tickertape\\-watch(1)"),
        "it names the commands' pages"
    );

    // Into a directory that does not exist yet, as ~/.local/share/man/man1 may not.
    let base = std::env::temp_dir().join(format!("tickertape-test-{}-man", std::process::id()));
    let dir = base.join("share/man/man1");
    let mut cmd = bin::command();
    cmd.arg("man").arg("--dir").arg(&dir);
    let (code, _, stderr) = bin::Proc::spawn(&mut cmd)
        .finish(Duration::from_secs(10))
        .await;
    assert_eq!(code, 0, "{stderr}");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .expect("the pages")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let _ = std::fs::remove_dir_all(&base);
    assert_eq!(
        pages.len(),
        Cli::command().get_subcommands().count() + 1,
        "{pages:?}"
    );
    assert!(
        pages.contains(&"tickertape-watch.1".to_owned()),
        "{pages:?}"
    );
}
