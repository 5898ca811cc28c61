//! `tickertape doctor`: its flags.

use std::time::Duration;

use clap::Args;

use super::ConnectionArgs;
use super::duration::parse_interval;

pub const DOCTOR_HELP: &str = "\
Hops, in order (a failed hop says what happened, the likely cause and the fix):
  settings    where each value came from, what is missing; the browser's VITE_*
              copies against the server's; a scheme against its port
  dns, tcp    the host resolves; something listens on the port
  tls         (wss) the certificate's names, dates and chain; a plain HTTP port
  upgrade     the WebSocket upgrade on /app/KEY: status, headers, an HTML page
  connect     pusher:connection_established, or the pusher:error and its meaning
  rest        a signed GET /channels: a 401 is the secret or the app id
  auth        a private channel, signed with the secret or by --auth-endpoint
  round trip  one tagged event through the REST API, received on the socket
  webhooks    (--webhooks-listen) the server's channel_occupied for that channel
              arrives on ADDR and its signature verifies (channel_vacated,
              sent seconds later, is not waited for); skipped without the flag
Read-only but for that one event, on a channel of its own (--no-publish).

Exit status:
  0  every hop passed
  1  a hop failed
  2  usage error

Examples:
  tickertape doctor --env-file .env
  tickertape doctor --env-file .env \\
      --auth-endpoint https://app.test/broadcasting/auth \\
      --auth-header 'Cookie: laravel_session=…' \\
      --auth-header 'X-CSRF-TOKEN: …'
  tickertape doctor --host ws.example.com --scheme wss --key app-key --json
  tickertape serve --webhook http://127.0.0.1:6010/ &
  tickertape doctor --webhooks-listen 127.0.0.1:6010";

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The private channel of the authorization and round-trip hops
    /// [default: private-tickertape-doctor-<random>]
    #[arg(long)]
    pub channel: Option<String>,
    /// Do not publish the round trip's event (the rest stays read-only)
    #[arg(long)]
    pub no_publish: bool,
    /// One JSON object per hop on stdout, for CI
    #[arg(long)]
    pub json: bool,
    /// OK/FAIL/WARN/SKIP instead of ✓ ✗ ! -
    #[arg(long)]
    pub ascii: bool,
    /// Listen on IP:PORT for the server's webhooks, and check that they arrive and that
    /// their signatures verify under the app's secret (the last hop; skipped without it)
    #[arg(long, value_name = "IP:PORT")]
    pub webhooks_listen: Option<std::net::SocketAddr>,
    /// Each hop's deadline [default: --connect-timeout, else 5s]
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub hop_timeout: Option<Duration>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}
