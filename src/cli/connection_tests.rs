//! Unit tests of `connection.rs`: endpoints, URLs and resolved settings.

use super::*;

fn args() -> ConnectionArgs {
    ConnectionArgs {
        key: Some("k".into()),
        ..Default::default()
    }
}

#[test]
fn endpoints() {
    let e = args().endpoint().unwrap();
    assert_eq!((e.host.as_str(), e.port, e.tls), ("127.0.0.1", 6001, false));

    let e = ConnectionArgs {
        cluster: Some("eu".into()),
        ..args()
    }
    .endpoint()
    .unwrap();
    assert_eq!(
        (e.host.as_str(), e.port, e.tls),
        ("ws-eu.pusher.com", 443, true)
    );

    // Laravel's .env for Pusher: https, port 443, a cluster and no host.
    let e = ConnectionArgs {
        cluster: Some("mt1".into()),
        scheme: Some("https".into()),
        port: Some("443".into()),
        ..args()
    }
    .endpoint()
    .unwrap();
    assert_eq!(
        e.url("k").split('?').next(),
        Some("wss://ws-mt1.pusher.com:443/app/k")
    );

    // Laravel's .env for soketi or Reverb: a host, a port, http.
    let e = ConnectionArgs {
        host: Some("soketi".into()),
        port: Some("6001".into()),
        scheme: Some("http".into()),
        ..args()
    }
    .endpoint()
    .unwrap();
    assert_eq!(e.url("k").split('?').next(), Some("ws://soketi:6001/app/k"));
    assert_eq!(
        e.with_tls().url("k").split('?').next(),
        Some("wss://soketi:6001/app/k")
    );

    let e = ConnectionArgs {
        host: Some("example.com".into()),
        ..args()
    }
    .endpoint()
    .unwrap();
    assert_eq!((e.port, e.tls, e.with_tls().port), (80, false, 443));

    for bad in [
        ConnectionArgs {
            scheme: Some("ftp".into()),
            ..args()
        },
        ConnectionArgs {
            port: Some("x".into()),
            ..args()
        },
        ConnectionArgs {
            port: Some("0".into()),
            ..args()
        },
        ConnectionArgs {
            host: Some("ws://h".into()),
            ..args()
        },
        ConnectionArgs {
            host: Some("a b".into()),
            ..args()
        },
        ConnectionArgs {
            cluster: Some("eu/../x".into()),
            ..args()
        },
        ConnectionArgs {
            cluster: Some("a.b".into()),
            ..args()
        },
    ] {
        assert!(bad.endpoint().is_err(), "{bad:?}");
        assert!(bad.client_config().is_err(), "{bad:?}");
    }
    // The key is checked wherever it came from (a profile's values skip clap).
    let bad_key = ConnectionArgs {
        key: Some("k\"y".into()),
        ..args()
    };
    assert!(bad_key.client_config().is_err());
    let rest = ConnectionArgs {
        cluster: Some("EU".into()),
        secret: Some("s".into()),
        app_id: Some("1".into()),
        ..args()
    }
    .rest_client()
    .unwrap();
    assert_eq!(rest.base, "https://api-eu.pusher.com:443");
    let rest = ConnectionArgs {
        host: Some("::1".into()),
        port: Some("6001".into()),
        secret: Some("s".into()),
        app_id: Some("1".into()),
        ..args()
    }
    .rest_client()
    .unwrap();
    assert_eq!(rest.base, "http://[::1]:6001");
}

#[test]
fn config_values() {
    let cfg = ConnectionArgs {
        secret: Some("s".into()),
        user_id: Some("u1".into()),
        user_info: Some(r#"{"name":"Ann"}"#.into()),
        auth_headers: vec!["Authorization: Bearer t".into()],
        encryption_master_key: Some("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=".into()),
        ..args()
    }
    .client_config()
    .unwrap();
    assert_eq!(cfg.user.id, "u1");
    // A user id alone does not sign in: only --signin or a user-auth endpoint does.
    assert!(!cfg.user.sign_in);
    let signs_in = |a: ConnectionArgs| a.client_config().map(|c| c.user.sign_in);
    assert!(
        signs_in(ConnectionArgs {
            secret: Some("s".into()),
            signin: true,
            ..args()
        })
        .unwrap()
    );
    assert!(
        signs_in(ConnectionArgs {
            user_auth_endpoint: Some("http://127.0.0.1:1/user-auth".into()),
            ..args()
        })
        .unwrap()
    );
    // Nothing to sign with.
    assert!(
        signs_in(ConnectionArgs {
            signin: true,
            ..args()
        })
        .is_err()
    );
    assert_eq!(
        cfg.auth.headers,
        vec![("Authorization".into(), "Bearer t".into())]
    );
    assert!(cfg.auth.master_key.is_some());
    // The secret never shows in debug output.
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("\"s\"") && debug.contains("***"), "{debug}");
    assert!(!debug.contains("Bearer"), "{debug}");

    let generated = args().client_config().unwrap();
    assert!(generated.user.id.starts_with("tickertape-"));
    assert!(!generated.user.sign_in);

    assert!(
        ConnectionArgs {
            key: None,
            ..args()
        }
        .client_config()
        .is_err()
    );
    assert!(
        ConnectionArgs {
            user_info: Some("{".into()),
            ..args()
        }
        .client_config()
        .is_err()
    );
    assert!(
        ConnectionArgs {
            auth_headers: vec!["nocolon".into()],
            ..args()
        }
        .client_config()
        .is_err()
    );
    assert!(
        ConnectionArgs {
            encryption_master_key: Some("AAEC".into()),
            ..args()
        }
        .client_config()
        .is_err()
    );
}

fn env_layer(env: &[(&str, &str)], file: &str) -> EnvLayer {
    let owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |n: &str| owned.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let entries = crate::cli::env_file::parse(file, &lookup).unwrap();
    EnvLayer::from_parts(&lookup, Some(std::path::Path::new(".env")), &entries)
}

fn profile_config() -> Config {
    Config {
        file: toml::from_str(
            "[profiles.default]\nkey = \"profile-key\"\nsecret = \"profile-secret\"\nhost = \"profile.test\"\nport = 7000\n",
        )
        .unwrap(),
        path: None,
    }
}

#[test]
fn flags_then_environment_then_env_file_then_profile_then_defaults() {
    let env = env_layer(
        &[("REVERB_APP_KEY", "env-key")],
        "REVERB_APP_KEY=file-key\nREVERB_APP_SECRET=file-secret\nREVERB_HOST=file.test\n",
    );
    let args = ConnectionArgs {
        host: Some("flag.test".into()),
        ..Default::default()
    }
    .layered_with(&profile_config(), None, env)
    .unwrap();
    assert_eq!(args.host.as_deref(), Some("flag.test"));
    assert_eq!(args.key.as_deref(), Some("env-key"));
    assert_eq!(args.secret.as_deref(), Some("file-secret"));
    assert_eq!(args.origins.host, Some(Origin::Flag("--host")));
    assert_eq!(
        args.origins.key,
        Some(Origin::Env("REVERB_APP_KEY (environment)".into()))
    );
    assert_eq!(
        args.origins.secret,
        Some(Origin::Env("REVERB_APP_SECRET (.env line 2)".into()))
    );
    // The host is the flag's, not REVERB_HOST: Laravel's Reverb defaults do not apply, and
    // the profile's port does.
    assert_eq!(args.port.as_deref(), Some("7000"));
    assert_eq!(args.origins.port, Some(Origin::Profile("default".into())));
    assert_eq!(args.scheme, None);

    // Nothing in the environment: the profile, then the defaults.
    let args = ConnectionArgs::default()
        .layered_with(&profile_config(), None, env_layer(&[], ""))
        .unwrap();
    assert_eq!(args.key.as_deref(), Some("profile-key"));
    assert_eq!(args.origins.key, Some(Origin::Profile("default".into())));
    let args = ConnectionArgs::default()
        .layered_with(&Config::default(), None, env_layer(&[], ""))
        .unwrap();
    assert_eq!(args.key.as_deref(), Some("app-key"));
    assert!(matches!(args.origins.key, Some(Origin::Default(_))));
}

#[test]
fn a_reverb_host_defaults_to_https_on_443_as_laravel_does() {
    let env = env_layer(&[], "REVERB_APP_KEY=k\nREVERB_HOST=ws.example.com\n");
    let args = ConnectionArgs::default()
        .layered_with(&Config::default(), None, env)
        .unwrap();
    let e = args.endpoint().unwrap();
    assert_eq!(
        (e.host.as_str(), e.port, e.tls),
        ("ws.example.com", 443, true)
    );
    assert!(matches!(args.origins.scheme, Some(Origin::Default(_))));

    let env = env_layer(
        &[],
        "REVERB_APP_KEY=k\nREVERB_HOST=localhost\nREVERB_PORT=8080\nREVERB_SCHEME=http\n",
    );
    let args = ConnectionArgs::default()
        .layered_with(&Config::default(), None, env)
        .unwrap();
    let e = args.endpoint().unwrap();
    assert_eq!((e.host.as_str(), e.port, e.tls), ("localhost", 8080, false));
}

#[test]
fn bad_environment_values_name_their_variable_and_where() {
    let env = env_layer(
        &[("REVERB_HOST", "a b")],
        "REVERB_APP_KEY=k\nREVERB_PORT=x\n",
    );
    let e = ConnectionArgs::default()
        .layered_with(&Config::default(), None, env)
        .unwrap_err();
    // The port's check comes after the host's: the host is named first, from the environment.
    assert!(e.to_string().contains("REVERB_HOST (environment)"), "{e}");
    assert!(e.downcast_ref::<UsageError>().is_some());
    let env = env_layer(&[], "REVERB_APP_KEY=k\nREVERB_PORT=x\n");
    let e = ConnectionArgs::default()
        .layered_with(&Config::default(), None, env)
        .unwrap_err();
    assert!(e.to_string().contains("REVERB_PORT (.env line 2)"), "{e}");
    assert!(e.downcast_ref::<UsageError>().is_none());
}
