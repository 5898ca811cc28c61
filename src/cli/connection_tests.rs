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
