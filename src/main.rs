// The binary owns stdout and stderr: it alone may print, messages through `say`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tickertape::cli::plan;
use tickertape::cli::serve::DemoArgs;
use tickertape::cli::{Cli, Command};
use tickertape::commands;
use tickertape::say;

fn main() -> ExitCode {
    net::tls::install_default_provider();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    if let Some(path) = &cli.log_file
        && let Err(e) = init_logging(path, cli.log_level)
    {
        say!("cannot open log file {}: {e}", path.display());
        return ExitCode::from(commands::watch::EXIT_FAILURE);
    }
    // `watch` is one engine feeding one front end: on one thread they hand items over
    // without waking each other through the kernel, which halves its CPU time per event.
    // Its blocking work (stdout, the terminal's input) has threads of its own.
    let mut builder = match cli.command {
        Some(Command::Watch(_)) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            say!("cannot start the runtime: {e}");
            return ExitCode::from(commands::watch::EXIT_FAILURE);
        }
    };
    let result = match cli.command {
        Some(Command::Watch(args)) => runtime
            .block_on(async { commands::watch::run(plan::WatchPlan::from_args(*args)?).await }),
        Some(Command::Serve(args)) => runtime
            .block_on(async { commands::serve::run(plan::ServePlan::from_args(&args)?).await }),
        Some(Command::Trigger(args)) => runtime
            .block_on(async { commands::trigger::run(plan::TriggerPlan::from_args(*args)?).await }),
        Some(Command::Channels(args)) => runtime.block_on(async {
            commands::channels::run(plan::ChannelsPlan::from_args(*args)?).await
        }),
        Some(Command::Stocks(args)) => runtime
            .block_on(async { commands::stocks::run(plan::StocksPlan::from_args(*args)?).await }),
        Some(Command::Replay(args)) => runtime
            .block_on(async { commands::replay::run(plan::ReplayPlan::from_args(*args)?).await }),
        Some(Command::Check(args)) => runtime.block_on(commands::check::run(*args)),
        Some(Command::Probe(args)) => runtime.block_on(commands::probe::run(*args)),
        Some(Command::Doctor(args)) => runtime.block_on(async {
            commands::doctor::run(plan::doctor::DoctorPlan::from_args(*args)?).await
        }),
        Some(Command::Webhooks(args)) => runtime.block_on(async {
            commands::webhooks::run(tickertape::cli::webhooks::WebhooksPlan::from_args(*args)?)
                .await
        }),
        Some(Command::Tap(args)) => runtime.block_on(async {
            commands::tap::run(tickertape::cli::tap::TapPlan::from_args(*args)?).await
        }),
        Some(Command::Trace(args)) => runtime.block_on(async {
            commands::trace::run(tickertape::cli::trace::TracePlan::from_args(*args)?).await
        }),
        Some(Command::Demo(args)) => runtime.block_on(commands::demo::run(args)),
        Some(Command::Completions { shell }) => {
            // Not through the output thread: a script written whole, with no runtime or
            // signal to keep an eye on, as every shell's completion setup reads it.
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "tickertape",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir }) => man(dir.as_deref()),
        None => runtime.block_on(commands::demo::run(DemoArgs::default())),
    };
    // Shut down without waiting for blocked tasks (a stdin reader, a stalled socket).
    runtime.shutdown_background();
    result.unwrap_or_else(|e| {
        say::line(&format!("{e:#}"));
        if e.downcast_ref::<plan::connections::UsageError>().is_some() {
            return ExitCode::from(2);
        }
        ExitCode::from(commands::watch::EXIT_FAILURE)
    })
}

/// The man page on stdout (written whole, as the completions are), or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let pages = tickertape::cli::docs::man_pages()?;
    match dir {
        None => match std::io::stdout().lock().write_all(&pages[0].1) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        },
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            for (name, roff) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, roff)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            say!("{} man pages written to {}", pages.len(), dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Clap's exit, except that `check` and `probe` say UNKNOWN (3) for a usage error, as Nagios expects.
fn usage_error(e: &clap::Error) -> ExitCode {
    print_clap(e);
    let check = Cli::command()
        .ignore_errors(true)
        .try_get_matches()
        .is_ok_and(|m| matches!(m.subcommand_name(), Some("check" | "probe")));
    match (e.use_stderr(), check) {
        (true, true) => ExitCode::from(observe::expect::Status::Unknown.code()),
        _ => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
    }
}

/// Clap's message. Help and version go to stdout as clap writes them. An error quotes the
/// flag's value, which may hold anything (a pasted escape sequence, a `.env` file's
/// content): with nothing unsafe in it, it is clap's own, styles and all; else each of its
/// lines is written terminal-safe, without styles.
fn print_clap(e: &clap::Error) {
    let plain = e.render().to_string();
    let unsafe_char = |c: char| c != '\n' && protocol::safe_text::is_unsafe(c);
    if !e.use_stderr() || !plain.chars().any(unsafe_char) {
        let _ = e.print();
        return;
    }
    say::lines(&plain);
}

fn init_logging(path: &std::path::Path, level: tracing::Level) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // Every record terminal-safe, whatever its call site put in it.
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(
            observe::output::safe_lines::SafeLines::new(file),
        ))
        .with_max_level(level)
        .init();
    Ok(())
}
