//! After a run that could not connect: the `tickertape doctor` command with the same
//! connection flags, to find the hop that fails. Secrets are never repeated: their values
//! are left for the user to fill in.

use clap::Args as _;

use crate::cli::ConnectionArgs;

/// Flags whose values are secrets.
const SECRET_FLAGS: [&str; 3] = ["secret", "encryption-master-key", "auth-header"];

/// `tickertape doctor …` with the connection flags of this process's command line.
pub fn suggestion() -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("to find which hop fails, run: {}", command(&args))
}

/// The doctor command for `args` (a command line without the program's name).
pub(crate) fn command(args: &[String]) -> String {
    let cmd = ConnectionArgs::augment_args(clap::Command::new("x"));
    let takes_value = |long: &str| -> Option<bool> {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(long))
            .map(|a| a.get_action().takes_values())
    };
    let mut out = vec!["tickertape".to_owned(), "doctor".to_owned()];
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(flag) = arg.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag, None),
        };
        let Some(takes) = takes_value(name) else {
            continue;
        };
        if !takes {
            out.push(format!("--{name}"));
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None if i < args.len() => {
                i += 1;
                args[i - 1].clone()
            }
            None => continue,
        };
        out.push(format!("--{name}"));
        out.push(if SECRET_FLAGS.contains(&name) {
            "'…'".to_owned()
        } else {
            quote(&value)
        });
    }
    out.join(" ")
}

/// A shell word.
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:/@=,+-".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn the_connection_flags_are_kept_and_secrets_left_out() {
        let cmd = command(&words(
            "watch orders --json --count 3 --host h.test --port=6001 --secret s3cr3t --env-file .env --auth-header X:y --signin",
        ));
        assert_eq!(
            cmd,
            "tickertape doctor --host h.test --port 6001 --secret '…' --env-file .env --auth-header '…' --signin"
        );
        assert_eq!(
            command(&words("trigger c e --key k --user-info {\"a\":1}")),
            "tickertape doctor --key k --user-info '{\"a\":1}'"
        );
    }
}
