//! The first hop: where each setting came from, whether they are complete, and whether the
//! browser's copies (`VITE_REVERB_*`, `VITE_PUSHER_*`, which Echo is built with) say the
//! same as the server side's. A mismatch names both variables and both values (secrets are
//! never shown: only whether they are set, and where).

use super::report::{Hop, Status};
use crate::cli::connection::{Broadcaster, EnvLayer, Field, Origin, Var};
use crate::cli::plan::doctor::DoctorPlan;
use client::explain::Explanation;

pub(crate) fn check(plan: &DoctorPlan) -> Hop {
    let env = &plan.env;
    let resolved = match &plan.settings {
        Ok(r) => r,
        Err(why) => {
            return Hop::fail(
                "settings",
                Explanation::new(
                    why.clone(),
                    "a setting is missing or cannot be read",
                    "fix the value named (a .env line is named by its number; its text is never shown)",
                ),
            );
        }
    };
    let args = &resolved.args;
    let mut hop = Hop::pass("settings", source_summary(env, args));
    let value = |field: Field| -> Option<String> {
        match field {
            Field::Key => args.key.clone(),
            Field::Secret => args.secret.as_ref().map(|_| "(set, not shown)".into()),
            Field::AppId => args.app_id.clone(),
            Field::Cluster => args.cluster.clone(),
            Field::Host => args.host.clone(),
            Field::Port => args.port.clone(),
            Field::Scheme => args.scheme.clone(),
        }
    };
    for field in Field::ALL {
        let Some(v) = value(field) else {
            continue;
        };
        let origin = args
            .origins
            .get(field)
            .map_or_else(|| "?".to_owned(), Origin::to_string);
        hop = hop.line(format!("{:<8} {:<24} {origin}", label(field), v));
    }
    let e = &resolved.client.endpoint;
    hop = hop.line(format!(
        "connects to {}://{}:{}/app/{}",
        if e.tls { "wss" } else { "ws" },
        crate::cli::plan::connections::host_text(&e.host),
        e.port,
        resolved.client.key
    ));
    if let Some(listen) = reverb_listens(env) {
        hop = hop.line(listen);
    }
    let mut warnings = Vec::new();
    if args.secret.is_none() {
        warnings.push(
            "no app secret: the rest and round-trip hops are skipped (and auth, without --auth-endpoint)"
                .to_owned(),
        );
    } else if args.app_id.is_none() {
        warnings.push("no app id: the rest and round-trip hops are skipped".to_owned());
    }
    if env.ambiguous {
        warnings.push(env.chosen_by.clone());
    }
    let mut failures = mismatches(env);
    warnings.extend(scheme_port(env, args));
    warnings.extend(browser_localhost(env));
    for w in &warnings {
        hop = hop.line(format!("! {w}"));
    }
    if let Some(first) = failures.first().cloned() {
        for extra in failures.drain(1..) {
            hop = hop.line(format!("✗ {}", extra.what));
        }
        hop.status = Status::Fail;
        hop.explanation = Some(first);
    } else if !warnings.is_empty() {
        hop.status = Status::Warn;
    }
    hop
}

fn label(field: Field) -> &'static str {
    match field {
        Field::Key => "key",
        Field::Secret => "secret",
        Field::AppId => "app id",
        Field::Cluster => "cluster",
        Field::Host => "host",
        Field::Port => "port",
        Field::Scheme => "scheme",
    }
}

fn source_summary(env: &EnvLayer, args: &crate::cli::ConnectionArgs) -> String {
    let from_env = Field::ALL
        .iter()
        .any(|f| matches!(args.origins.get(*f), Some(Origin::Env(_))));
    if !from_env {
        return "from flags, the profile and defaults (no PUSHER_* or REVERB_* variable used)"
            .into();
    }
    let set = match env.broadcaster {
        Broadcaster::Reverb => "REVERB_*",
        Broadcaster::Pusher => "PUSHER_*",
    };
    format!("{set}, chosen by {}", env.chosen_by)
}

/// Where Reverb itself listens, which is not where clients connect behind a proxy.
fn reverb_listens(env: &EnvLayer) -> Option<String> {
    if env.broadcaster != Broadcaster::Reverb {
        return None;
    }
    let host = env.var("REVERB_SERVER_HOST");
    let port = env.var("REVERB_SERVER_PORT");
    if host.is_none() && port.is_none() {
        return None;
    }
    let shown = |v: Option<&Var>, name: &str, default: &str| {
        v.map_or_else(
            || format!("{name}={default} (its default)"),
            |v| format!("{}={}", v.name, v.value),
        )
    };
    Some(format!(
        "Reverb listens on {}, {}: php artisan reverb:start binds there; clients connect to REVERB_HOST:REVERB_PORT (through a proxy when they differ)",
        shown(host, "REVERB_SERVER_HOST", "0.0.0.0"),
        shown(port, "REVERB_SERVER_PORT", "8080")
    ))
}

/// The browser's copies against the server side's values.
fn mismatches(env: &EnvLayer) -> Vec<Explanation> {
    let pairs: &[(&str, &str)] = match env.broadcaster {
        Broadcaster::Reverb => &[
            ("VITE_REVERB_APP_KEY", "REVERB_APP_KEY"),
            ("VITE_REVERB_HOST", "REVERB_HOST"),
            ("VITE_REVERB_PORT", "REVERB_PORT"),
            ("VITE_REVERB_SCHEME", "REVERB_SCHEME"),
        ],
        Broadcaster::Pusher => &[
            ("VITE_PUSHER_APP_KEY", "PUSHER_APP_KEY"),
            ("VITE_PUSHER_HOST", "PUSHER_HOST"),
            ("VITE_PUSHER_PORT", "PUSHER_PORT"),
            ("VITE_PUSHER_SCHEME", "PUSHER_SCHEME"),
            ("VITE_PUSHER_APP_CLUSTER", "PUSHER_APP_CLUSTER"),
        ],
    };
    let mut out = Vec::new();
    for &(browser, server) in pairs {
        let (Some(b), Some(s)) = (env.var(browser), env.var(server)) else {
            continue;
        };
        let same = if browser.ends_with("SCHEME") {
            tls(&b.value) == tls(&s.value)
        } else if browser.ends_with("HOST") || browser.ends_with("CLUSTER") {
            b.value.eq_ignore_ascii_case(&s.value)
        } else {
            b.value == s.value
        };
        if same {
            continue;
        }
        out.push(Explanation::new(
            format!(
                "{}={} ({}) differs from {}={} ({})",
                b.name,
                b.value,
                env.place_text(b.place),
                s.name,
                s.value,
                env.place_text(s.place)
            ),
            "the browser (Echo, built by Vite from the VITE_ variables) connects elsewhere than the server side publishes to, and than this check tests",
            format!(
                "set {b}=\"${{{s}}}\" in the .env, as Laravel writes it, and rebuild the front end (npm run build)",
                b = b.name,
                s = s.name
            ),
        ));
    }
    out
}

/// `Some(true)` for a TLS scheme, `Some(false)` for a plain one.
fn tls(scheme: &str) -> Option<bool> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => Some(true),
        "http" | "ws" => Some(false),
        _ => None,
    }
}

/// A scheme against its port: TLS on 80, or plain on 443.
fn scheme_port(env: &EnvLayer, args: &crate::cli::ConnectionArgs) -> Vec<String> {
    let mut out = Vec::new();
    let mut pair = |scheme: Option<(String, String)>, port: Option<(String, String)>| {
        let (Some((sn, sv)), Some((pn, pv))) = (scheme, port) else {
            return;
        };
        match (tls(&sv), pv.as_str()) {
            (Some(false), "443") => out.push(format!(
                "{sn}={sv} with {pn}=443: port 443 is TLS's (use https there, or the plain port)"
            )),
            (Some(true), "80") => out.push(format!(
                "{sn}={sv} with {pn}=80: port 80 is plain HTTP's (use http there, or the TLS port)"
            )),
            _ => {}
        }
    };
    let named = |field: Field, value: &Option<String>| {
        let v = value.clone()?;
        let name = match args.origins.get(field) {
            Some(Origin::Env(var)) => var.split(' ').next().unwrap_or_default().to_owned(),
            Some(o) => o.to_string(),
            None => label(field).to_owned(),
        };
        Some((name, v))
    };
    pair(
        named(Field::Scheme, &args.scheme),
        named(Field::Port, &args.port),
    );
    for prefix in ["VITE_REVERB_", "VITE_PUSHER_"] {
        let get = |n: &str| {
            env.var(&format!("{prefix}{n}"))
                .map(|v| (v.name.to_owned(), v.value.clone()))
        };
        pair(get("SCHEME"), get("PORT"));
    }
    out
}

/// A browser-facing host that is this machine: right only while the browser runs here.
fn browser_localhost(env: &EnvLayer) -> Vec<String> {
    ["VITE_REVERB_HOST", "VITE_PUSHER_HOST"]
        .iter()
        .filter_map(|n| env.var(n))
        .filter(|v| {
            let h = v.value.trim_matches(['[', ']']).to_ascii_lowercase();
            h == "localhost" || h.starts_with("127.") || h == "::1" || h == "0.0.0.0"
        })
        .map(|v| {
            format!(
                "{}={}: a browser on any other machine connects to itself; right only in development",
                v.name, v.value
            )
        })
        .collect()
}
