//! One module per subcommand: each wires the engine to an output.

pub mod watch;
