//! `tickertape doctor`: every hop between this machine and a working private channel, in
//! order, each within its deadline: settings, DNS, TCP, TLS, the WebSocket upgrade,
//! `pusher:connection_established`, the REST API's signature, the private channel's
//! authorization, and a round trip. A hop that fails is explained (what, cause, fix), and the
//! hops that need it are not run. Read-only but for the round trip's one tagged event on
//! the doctor's own private channel (`--no-publish` skips it).

mod auth;
mod network;
mod report;
mod rest;
mod round_trip;
mod settings;
mod socket;
mod suggest;
mod webhooks;

pub use suggest::suggestion;

use std::process::ExitCode;

use observe::output::writer::Output;

use crate::cli::connection::Origin;
use crate::cli::plan::doctor::DoctorPlan;
use report::{Hop, Redact, Status, Style};

/// Writes each hop as it is known, so a slow hop shows where the run is.
struct Writer {
    out: Output,
    style: Style,
    /// Every hop goes through it before it is written: no form of the secret is shown.
    redact: Redact,
    failed: bool,
}

impl Writer {
    async fn hop(&mut self, hop: &Hop) {
        self.failed |= hop.failed();
        let hop = self.redact.hop(hop);
        self.style.write(self.out.buffer(), &hop);
        self.out.hand_over();
        if !self.out.ready() {
            let _ = self.out.wait().await;
        }
    }

    async fn not_run(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.hop(&Hop::skip(name, format!("not run: {why}"))).await;
        }
    }
}

pub async fn run(plan: DoctorPlan) -> anyhow::Result<ExitCode> {
    let out = Output::spawn_default(bounded::Overflow::Block)?;
    let mut w = Writer {
        out,
        style: Style {
            json: plan.json,
            ascii: plan.ascii,
            color: plan.color,
        },
        redact: Redact::new(
            plan.settings
                .as_ref()
                .ok()
                .and_then(|r| r.client.auth.secret.as_ref())
                .map(|s| s.expose()),
        ),
        failed: false,
    };
    let mut signals = crate::signals::Signals::install();
    // Listening from the start: what the server sends about the run's channel comes while
    // the earlier hops run.
    let mut listening = match (plan.webhooks_listen, &plan.settings) {
        (Some(addr), Ok(r)) => match &r.args.secret {
            Some(secret) => Some(
                crate::commands::webhooks::heard::listen(
                    addr,
                    server::App {
                        id: r
                            .args
                            .app_id
                            .clone()
                            .unwrap_or_else(|| r.client.key.clone()),
                        key: r.client.key.clone(),
                        secret: protocol::Secret::new(secret.clone()),
                        client_events: true,
                        enabled: true,
                        subscription_count: false,
                    },
                )
                .await,
            ),
            None => None,
        },
        _ => None,
    };
    tokio::select! {
        () = run_hops(&plan, &mut w, listening.as_mut()) => {}
        _ = signals.next() => {}
    }
    let failed = w.failed;
    match w.out.finish().await {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

const AFTER_TCP: [&str; 6] = ["tls", "upgrade", "connect", "rest", "auth", "round trip"];

/// Every hop, then the webhooks' (which uses the socket the others leave open).
async fn run_hops(
    plan: &DoctorPlan,
    w: &mut Writer,
    listening: Option<&mut Result<crate::commands::webhooks::heard::Listening, String>>,
) {
    let left = hops(plan, w).await;
    let (mut socket, subscribed) = match left {
        Some((socket, at)) => (Some(socket), at),
        None => (None, None),
    };
    let hop = match (plan.webhooks_listen, &plan.settings, listening) {
        (None, ..) => Hop::skip(
            webhooks::NAME,
            "not checked: --webhooks-listen IP:PORT checks them",
        ),
        (Some(_), Err(_), _) => Hop::skip(webhooks::NAME, "not run: the settings cannot be used"),
        (Some(_), Ok(_), None) => Hop::fail(
            webhooks::NAME,
            client::explain::Explanation::new(
                "no app secret to check the webhooks' signatures with",
                "--webhooks-listen checks each webhook's signature with the app's secret",
                "pass --secret, or set PUSHER_APP_SECRET (REVERB_APP_SECRET for Reverb)",
            ),
        ),
        (Some(_), Ok(resolved), Some(listening)) => {
            let ask = webhooks::Ask {
                key: &resolved.client.key,
                secret_from: resolved.args.origins.secret.as_ref().map(Origin::to_string),
                socket: socket.as_mut(),
                subscribed: subscribed.map(|at| (plan.channel.as_str(), at)),
                deadline: plan.hop_timeout,
            };
            webhooks::check(listening, ask).await
        }
    };
    w.hop(&hop).await;
    if let Some(socket) = socket {
        socket::close(socket).await;
    }
}

/// The hops up to the round trip. The socket, when one is open, and when the subscription
/// to the run's channel was asked for, if it succeeded.
async fn hops(
    plan: &DoctorPlan,
    w: &mut Writer,
) -> Option<(socket::Socket, Option<std::time::Instant>)> {
    let settings = settings::check(plan);
    w.hop(&settings).await;
    let Ok(resolved) = &plan.settings else {
        w.not_run(&["dns", "tcp"], "the settings cannot be used")
            .await;
        w.not_run(&AFTER_TCP, "the settings cannot be used").await;
        return None;
    };
    let deadline = plan.hop_timeout;
    let endpoint = &resolved.client.endpoint;
    let (dns, addrs) = network::dns(&endpoint.host, endpoint.port, deadline).await;
    w.hop(&dns).await;
    if dns.failed() {
        w.not_run(&["tcp"], "the host does not resolve").await;
        w.not_run(&AFTER_TCP, "the host does not resolve").await;
        return None;
    }
    let (tcp, stream) =
        network::tcp(&endpoint.host, endpoint.port, &addrs, &plan.env, deadline).await;
    w.hop(&tcp).await;
    let Some(stream) = stream else {
        w.not_run(&AFTER_TCP, "nothing accepted the connection")
            .await;
        return None;
    };
    let stream = if endpoint.tls {
        let (hop, tls) = network::tls(
            &endpoint.host,
            endpoint.port,
            stream,
            &resolved.client.tls_roots,
            deadline,
        )
        .await;
        w.hop(&hop).await;
        match tls {
            Some(s) => s,
            None => {
                w.not_run(&AFTER_TCP[1..], "no TLS").await;
                return None;
            }
        }
    } else {
        let why = match resolved.args.origins.scheme.as_ref() {
            Some(o) => format!("ws, not wss (scheme from {o})"),
            None => "ws, not wss".to_owned(),
        };
        w.hop(&Hop::skip("tls", format!("not used: {why}"))).await;
        tokio_tungstenite::MaybeTlsStream::Plain(stream)
    };
    let (upgrade, socket) = socket::upgrade(endpoint, &resolved.client.key, stream, deadline).await;
    w.hop(&upgrade).await;
    let Some(mut socket) = socket else {
        w.not_run(&AFTER_TCP[2..], "no WebSocket").await;
        return None;
    };
    let (connect, established) = socket::connected(&mut socket, deadline).await;
    w.hop(&connect).await;
    let Some(established) = established else {
        w.not_run(&AFTER_TCP[3..], "no Pusher connection").await;
        return Some((socket, None));
    };
    let secret_from = resolved.args.origins.secret.as_ref().map(Origin::to_string);
    let rest_ok = match &resolved.rest {
        Ok(rest) => {
            let hop = rest::check(rest, secret_from.as_deref().unwrap_or("?"), deadline).await;
            w.hop(&hop).await;
            !hop.failed()
        }
        Err(why) => {
            w.hop(&Hop::skip("rest", format!("not checked: {why}")))
                .await;
            false
        }
    };
    if w.failed && !rest_ok {
        w.not_run(&AFTER_TCP[4..], "the REST API refused the signature")
            .await;
        return Some((socket, None));
    }
    let ask = auth::Ask {
        client: &resolved.client,
        secret_from: secret_from.clone(),
        socket_id: &established.socket_id,
        channel: &plan.channel,
    };
    let asked = std::time::Instant::now();
    let auth = auth::check(ask, &mut socket, deadline).await;
    w.hop(&auth).await;
    if auth.status != Status::Pass {
        let why = if auth.failed() {
            "the channel is not authorized"
        } else {
            "the channel is not subscribed"
        };
        w.not_run(&AFTER_TCP[5..], why).await;
        return Some((socket, None));
    }
    match (&resolved.rest, plan.publish) {
        (_, false) => {
            w.hop(&Hop::skip("round trip", "not run: --no-publish"))
                .await;
        }
        (Err(_), true) => {
            w.hop(&Hop::skip(
                "round trip",
                "not run: no REST API to publish through (no secret or app id)",
            ))
            .await;
        }
        (Ok(rest), true) if rest_ok => {
            let hop = round_trip::check(rest, &mut socket, &plan.channel, deadline).await;
            w.hop(&hop).await;
        }
        (Ok(_), true) => {
            w.hop(&Hop::skip("round trip", "not run: the REST API failed"))
                .await;
        }
    }
    Some((socket, Some(asked)))
}
