//! One module per subcommand: each wires the engine, the server or the publishers to an output.
//! Everything for stdout goes through the one output thread (`observe::output::writer`).

pub mod channels;
pub mod check;
mod connections;
pub mod demo;
pub mod discover;
pub mod doctor;
pub mod expectations;
mod lines;
pub mod probe;
mod probe_screen;
pub mod replay;
pub mod serve;
mod serve_console;
pub mod stocks;
pub mod tap;
mod tap_screen;
mod taps;
pub mod trace;
pub mod trigger;
pub mod watch;
pub mod webhooks;

/// Writes `text` on stdout through the output thread, as every command does, and waits until
/// it is written; a signal ends the wait (a reader that does not read never holds the
/// process). A closed stdout is no error.
async fn print(text: Vec<u8>) -> std::io::Result<()> {
    use observe::output::writer::Output;
    let mut out = Output::spawn_default(bounded::Overflow::Block)?;
    out.buffer().extend_from_slice(&text);
    let mut signals = crate::signals::Signals::install();
    let written = tokio::select! {
        r = out.finish() => r,
        _ = signals.next() => Ok(()),
    };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
