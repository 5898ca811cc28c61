//! File descriptors, the resource every socket takes: the process raises its soft
//! `RLIMIT_NOFILE` to the hard limit at start, and sizes its caps on connections from what it
//! got, keeping a reserve, so that strangers' sockets can never take the descriptors the
//! rest of the process needs (REST, the log, webhooks, metrics).

/// The descriptor limit after [`raise`]: the soft limit now, and the one it was raised from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptors {
    pub limit: u64,
    pub raised_from: Option<u64>,
}

/// "1024 file descriptors (raised from 256)", for the line a listener says at start.
impl std::fmt::Display for Descriptors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} file descriptors", self.limit)?;
        match self.raised_from {
            Some(from) => write!(f, " (raised from {from})"),
            None => Ok(()),
        }
    }
}

/// Descriptors assumed when the limit cannot be read.
pub const ASSUMED: u64 = 1024;

/// Descriptors kept for the process itself whatever the caps: standard streams, the
/// runtime's, listeners, the log, webhook and metrics connections.
pub const RESERVE: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (best effort), and says what it is.
pub fn raise() -> Descriptors {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let Some(soft) = now.current else {
        // Unlimited.
        return Descriptors {
            limit: u64::MAX,
            raised_from: None,
        };
    };
    match now.maximum {
        Some(hard) if hard > soft => {
            let raised = rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => Descriptors {
                    limit: hard,
                    raised_from: Some(soft),
                },
                Err(_) => Descriptors {
                    limit: soft,
                    raised_from: None,
                },
            }
        }
        None => {
            let raised = rustix::process::Rlimit {
                current: None,
                maximum: None,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => Descriptors {
                    limit: u64::MAX,
                    raised_from: Some(soft),
                },
                Err(_) => Descriptors {
                    limit: soft,
                    raised_from: None,
                },
            }
        }
        Some(_) => Descriptors {
            limit: soft,
            raised_from: None,
        },
    }
}

/// The soft limit now.
pub fn limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Descriptors the caps may hand out: the limit less [`RESERVE`], at least 16, and as a
/// `usize` (a limit past what a cap can count is as good as unlimited).
pub fn usable(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(RESERVE).max(16)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers_and_the_reserve_is_kept() {
        let before = limit();
        let got = raise();
        assert!(got.limit >= before);
        assert_eq!(limit(), got.limit);
        assert_eq!(usable(1024), 960);
        assert_eq!(usable(10), 16);
        assert!(usable(u64::MAX) > 1 << 30);
    }
}
