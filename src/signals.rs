//! The process's signals, in one place: SIGINT and SIGTERM end every command the same way
//! (cleanly: the terminal restored, output flushed, sockets closed, status 0). SIGHUP does
//! too while a screen owns the terminal ([`Signals::with_hangup`]); elsewhere it keeps its
//! default, so that `nohup` still works.
//!
//! The handlers are installed at once, by [`Signals::install`]: a signal that arrives
//! between `install` and `wait` is kept, not taken by the default action (which would kill
//! the process before it restores the terminal or tells clients to reconnect).

use tokio::signal::unix::{Signal as Stream, SignalKind, signal};

/// Which signal ended the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

pub struct Signals {
    int: Option<Stream>,
    term: Option<Stream>,
    hup: Option<Stream>,
}

impl Signals {
    /// SIGINT and SIGTERM.
    pub fn install() -> Signals {
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: None,
        }
    }

    /// SIGINT, SIGTERM and SIGHUP: for a screen, whose terminal may hang up.
    pub fn with_hangup() -> Signals {
        Signals {
            hup: signal(SignalKind::hangup()).ok(),
            ..Signals::install()
        }
    }

    /// The next signal.
    pub async fn wait(mut self) -> Signal {
        self.next().await
    }

    /// The next signal, keeping the handlers for the one after (a run that ends on a signal
    /// may still wait for its output, until another).
    pub async fn next(&mut self) -> Signal {
        async fn recv(s: &mut Option<Stream>) {
            match s.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = recv(&mut self.int) => Signal::Interrupt,
            () = recv(&mut self.term) => Signal::Terminate,
            () = recv(&mut self.hup) => Signal::Hangup,
        }
    }
}
