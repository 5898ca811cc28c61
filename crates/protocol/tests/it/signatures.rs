//! Every signature vector of protocol.md §12 A–C, and the verifiers' error cases.

use protocol::rest::{self, VerifyError};
use protocol::signature::{self, AuthError};

const DOC_KEY: &str = "278d425bdf160c739803";
const DOC_SECRET: &str = "7ad3773142a6692b25b8";

#[test]
fn a1_private_channel() {
    assert_eq!(
        signature::channel_string_to_sign("1234.1234", "private-foobar", None),
        "1234.1234:private-foobar"
    );
    assert_eq!(
        signature::sign_channel(DOC_KEY, DOC_SECRET, "1234.1234", "private-foobar", None).unwrap(),
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    );
}

#[test]
fn a2_user_signin() {
    let user = r#"{"id":"12345"}"#;
    assert_eq!(
        signature::user_string_to_sign("1234.1234", user),
        r#"1234.1234::user::{"id":"12345"}"#
    );
    assert_eq!(
        signature::sign_user(DOC_KEY, DOC_SECRET, "1234.1234", user).unwrap(),
        "278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
    );
}

#[test]
fn a3_presence_channel_and_the_docs_bug() {
    let data = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
    assert_eq!(
        signature::sign_channel(
            DOC_KEY,
            DOC_SECRET,
            "1234.1234",
            "presence-foobar",
            Some(data)
        )
        .unwrap(),
        "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    );
    // The docs print this digest next to the text above, but it signs the older text.
    let old = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
    assert_eq!(
        signature::sign_channel(
            DOC_KEY,
            DOC_SECRET,
            "1234.1234",
            "presence-foobar",
            Some(old)
        )
        .unwrap(),
        "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
    );
    // The mixed pair must not verify.
    let string = signature::channel_string_to_sign("1234.1234", "presence-foobar", Some(data));
    let mixed =
        "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c";
    assert!(matches!(
        signature::verify_auth(DOC_KEY, DOC_SECRET, &string, mixed),
        Err(AuthError::BadSignature { .. })
    ));
}

#[test]
fn a4_rest_events_request() {
    let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
    assert_eq!(rest::body_md5(body), "ec365a775a4cd0599faeb73354201b6f");
    let signed = rest::sign_request(
        DOC_KEY,
        DOC_SECRET,
        "POST",
        "/apps/3/events",
        &[],
        body,
        1353088179,
    )
    .unwrap();
    let expected_string = "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f";
    assert_eq!(
        rest::string_to_sign("POST", "/apps/3/events", &signed),
        expected_string
    );
    assert_eq!(
        param(&signed, "auth_signature"),
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    );
    rest::verify_request(
        DOC_KEY,
        DOC_SECRET,
        "POST",
        "/apps/3/events",
        &signed,
        body,
        1353088179 + 599,
    )
    .unwrap();
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    &params.iter().find(|(k, _)| k == name).unwrap().1
}

#[test]
fn b_node_channel_vectors() {
    let cases = [
        (
            "aaaa",
            "tofu",
            "123.456",
            "test",
            "efa6cf7644a0b35cba36aa0f776f3cbf7bb60e95ea2696bde1dbe8403b61bd7c",
        ),
        (
            "1234",
            "tofu",
            "123.456",
            "test",
            "efa6cf7644a0b35cba36aa0f776f3cbf7bb60e95ea2696bde1dbe8403b61bd7c",
        ),
        (
            "abcdef",
            "tofu",
            "123.456",
            "test",
            "efa6cf7644a0b35cba36aa0f776f3cbf7bb60e95ea2696bde1dbe8403b61bd7c",
        ),
        (
            "aaaa",
            "tofu",
            "321.654",
            "test",
            "f6ecb0a17d3e4f68aca28f1673197a7608587c09deb0208faa4b5519aee0a777",
        ),
        (
            "aaaa",
            "tofu",
            "123.456",
            "test1",
            "d5ab857f805433cb50562da96afa41688d7742a3c3a021ed15a4d991a4d8cf94",
        ),
        (
            "aaaa",
            "tofu",
            "123.456",
            "test2",
            "43affa6a09af1fb9ce1cadf176171346beaf7366673ec1e5920f68b3e97a466d",
        ),
        (
            "11111",
            "1",
            "123.456",
            "test",
            "584828bd6e80b2d177d2b28fde07b8e170abf87ccb5a791a50c933711fb8eb28",
        ),
        (
            "11111",
            "2",
            "123.456",
            "test",
            "269bbf3f7625db4e0d0525b617efa5915c3ae667fd222dc8e4cb94bc531f26f2",
        ),
    ];
    for (key, secret, socket, channel, hex) in cases {
        let auth = signature::sign_channel(key, secret, socket, channel, None).unwrap();
        assert_eq!(
            auth,
            format!("{key}:{hex}"),
            "{key} {secret} {socket} {channel}"
        );
        let string = signature::channel_string_to_sign(socket, channel, None);
        signature::verify_auth(key, secret, &string, &auth).unwrap();
    }
}

#[test]
fn b_node_channel_data_and_utf8() {
    assert_eq!(
        signature::sign_channel("aaaa", "tofu", "123.456", "test", Some(r#"{"foo":"bar"}"#))
            .unwrap(),
        "aaaa:f41faf9ead2ea76772cc6b1168363057459f02499ae4d92e88229dc7f4efa2d4"
    );
    assert_eq!(
        signature::sign_channel("aaaa", "tofu", "1.1", "test", Some("\"ą§¶™€łü€ß£\"")).unwrap(),
        "aaaa:2a229263e89d9c50524fd80c2e88be2843379f6931e28995e2cc214282c9db0c"
    );
}

#[test]
fn b_node_user_vectors() {
    let cases = [
        (
            "aaaa",
            "tofu",
            "123.456",
            r#"{"id":"45678"}"#,
            "f4b1fdeea7c93e32648c7230e32b172057c5623cace6cfce791c6e7035e0babd",
        ),
        (
            "aaaa",
            "tofu",
            "123.456",
            r#"{"id":"55555","user_name":"test"}"#,
            "b8a9f173455903792ae2b788add0c4c78ad7372b3ae7fb5769479276a1993743",
        ),
        (
            "11111",
            "1",
            "123.456",
            r#"{"id":"45678"}"#,
            "79bddf29fe8e2153dd5d8d569b3f45e5aeb26ae2eb4758879d844791b466cfa2",
        ),
        (
            "11111",
            "2",
            "123.456",
            r#"{"id":"45678"}"#,
            "a542498ffa6faf6de7c17a8106b923c042319bd73acfd1d274df32e269b55d1f",
        ),
        (
            "aaaa",
            "tofu",
            "1.1",
            r#"{"id":"ą§¶™€łü€ß£"}"#,
            "620494cee53d6c568b49598313194088afda37218f0d059af03c0c898ed61ff4",
        ),
    ];
    for (key, secret, socket, user, hex) in cases {
        assert_eq!(
            signature::sign_user(key, secret, socket, user).unwrap(),
            format!("{key}:{hex}")
        );
    }
}

#[test]
fn b_encrypted_channel_signature_excludes_shared_secret() {
    assert_eq!(
        signature::sign_channel(
            "f00d",
            "tofu",
            "123.456",
            "private-encrypted-bla",
            Some("\"foo\"")
        )
        .unwrap(),
        "f00d:962c48b78bf93d98ff4c92ee7dff04865821455b7b401e9d60a9e0a90af2c105"
    );
    assert_eq!(
        signature::sign_channel("f00d", "tofu", "123.456", "bla", Some("\"foo\"")).unwrap(),
        "f00d:013ad3da0d88e0df6ae0a8184bef50b9c3933f2344499e6e3d1ad67fad799e20"
    );
}

#[test]
fn invalid_socket_ids_are_rejected() {
    for bad in [
        "1.1:", ":1.1", ":\n1.1", "1.1\n:", "", "1", "1.", ".1", "a.1", "1.1.1", "1 .1", "١.١",
    ] {
        assert_eq!(
            signature::sign_channel("k", "s", bad, "private-x", None),
            Err(AuthError::InvalidSocketId(bad.to_owned())),
            "{bad:?}"
        );
        assert!(
            signature::sign_user("k", "s", bad, "{}").is_err(),
            "{bad:?}"
        );
    }
    signature::validate_socket_id("0.0").unwrap();
}

#[test]
fn verify_auth_reports_what_is_wrong() {
    let string = "1.1:private-x";
    assert_eq!(
        signature::verify_auth("k", "s", string, "nocolon"),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        signature::verify_auth("k", "s", string, "other:abcd"),
        Err(AuthError::WrongKey {
            got: "other".into()
        })
    );
    let err = signature::verify_auth("k", "s", string, "k:zz-not-hex").unwrap_err();
    assert_eq!(
        err,
        AuthError::BadSignature {
            string_to_sign: string.into()
        }
    );
    assert!(err.to_string().contains("1.1:private-x"));
}

#[test]
fn c_node_rest_signing() {
    let signed = rest::sign_request(
        "f00d",
        "tofu",
        "GET",
        "/event",
        &[],
        b"example body",
        1234567890,
    )
    .unwrap();
    assert_eq!(
        param(&signed, "body_md5"),
        "165d5e6d7ca8f73b3853ce45addf42fc"
    );
    assert_eq!(
        param(&signed, "auth_signature"),
        "a650196dc427ebe837226f8565ca9232198c6d1b9455eaa72374a9dc0b620e7b"
    );

    let params = vec![
        ("foo".to_owned(), "bar".to_owned()),
        ("baz".to_owned(), "123454321".to_owned()),
    ];
    let signed =
        rest::sign_request("f00d", "tofu", "GET", "/event", &params, b"", 1234567890).unwrap();
    assert!(signed.iter().all(|(k, _)| k != "body_md5"));
    assert!(rest::string_to_sign("GET", "/event", &signed).ends_with(
        "auth_key=f00d&auth_timestamp=1234567890&auth_version=1.0&baz=123454321&foo=bar"
    ));
    assert_eq!(
        param(&signed, "auth_signature"),
        "d8bdbd31911fb7400a14fbd36fd7de053494725b64400ae5856deafe304b34a9"
    );
}

#[test]
fn c_node_body_md5s() {
    let cases: [(&[u8], &str); 5] = [
        (br#"{"name":"my_event","data":"{\"some\":\"data \"}","channels":["one"]}"#, "e95168baf497b2e54b2c6cadd41a6a3f"),
        (
            br#"{"name":"my_event","data":"{\"some\":\"data \"}","channels":["one","two","three"]}"#,
            "530dac0aa045e5f8e51c470aed0ce325",
        ),
        (br#"{"name":"my_event","data":"[1,2,4]","channels":["one"]}"#, "18e64b2fed38726915d79ebb4f8feb5b"),
        (br#"{"name":"test_event","data":"test string","channels":["test"]}"#, "f358a562d00e1bfe1859132d932cd706"),
        (
            // protocol.md describes this body loosely; these are the bytes whose MD5 is the vector.
            br#"{"name":"my_event","data":"{\"some\":\"data \"}","channels":["test_channel"],"socket_id":"123.567","info":"user_count,subscription_count"}"#,
            "2e4f053f1c325dedbe21abd8f1852b53",
        ),
    ];
    for (body, md5) in cases {
        assert_eq!(
            rest::body_md5(body),
            md5,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn signing_refuses_reserved_params() {
    let params = vec![("auth_key".to_owned(), "x".to_owned())];
    assert!(rest::sign_request("k", "s", "GET", "/", &params, b"", 1).is_err());
    let params = vec![("BODY_MD5".to_owned(), "x".to_owned())];
    assert!(rest::sign_request("k", "s", "GET", "/", &params, b"", 1).is_err());
}

#[test]
fn query_strings_are_escaped_on_the_wire_but_signed_raw() {
    let params = vec![("name".to_owned(), "Something else&x=1".to_owned())];
    let signed =
        rest::sign_request("k", "s", "GET", "/apps/1/channels", &params, b"", 100).unwrap();
    let query = rest::encode_query(&signed);
    assert!(query.contains("name=Something+else%26x%3D1"));
    let decoded = rest::decode_query(&query);
    assert_eq!(decoded, signed);
    rest::verify_request("k", "s", "GET", "/apps/1/channels", &decoded, b"", 100).unwrap();
}

#[test]
fn verify_request_error_cases() {
    let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
    let signed = rest::sign_request("k", "s", "POST", "/apps/1/events", &[], body, 1000).unwrap();
    let verify = |params: &[(String, String)], body: &[u8], now| {
        rest::verify_request("k", "s", "POST", "/apps/1/events", params, body, now)
    };
    verify(&signed, body, 1000).unwrap();
    verify(&signed, body, 400).unwrap();

    // The 600 s window, both ways.
    assert!(matches!(
        verify(&signed, body, 1601),
        Err(VerifyError::Expired { skew: 601, .. })
    ));
    assert!(matches!(
        verify(&signed, body, 399),
        Err(VerifyError::Expired { .. })
    ));

    // A changed body no longer matches its MD5.
    let err = verify(&signed, b"{}", 1000).unwrap_err();
    assert!(matches!(err, VerifyError::BodyMd5Mismatch { .. }), "{err}");

    // A forged signature reports the string the server expected.
    let mut forged = signed.clone();
    forged.last_mut().unwrap().1 = "0".repeat(64);
    match verify(&forged, body, 1000).unwrap_err() {
        VerifyError::BadSignature { string_to_sign, .. } => {
            assert!(
                string_to_sign.starts_with("POST\n/apps/1/events\nauth_key=k&auth_timestamp=1000")
            )
        }
        other => panic!("{other}"),
    }

    // The path is signed: the same params do not verify for another app.
    assert!(matches!(
        rest::verify_request("k", "s", "POST", "/apps/2/events", &signed, body, 1000),
        Err(VerifyError::BadSignature { .. })
    ));

    for missing in [
        "auth_key",
        "auth_timestamp",
        "auth_version",
        "auth_signature",
    ] {
        let params: Vec<_> = signed
            .iter()
            .filter(|(k, _)| k != missing)
            .cloned()
            .collect();
        assert!(
            matches!(verify(&params, body, 1000), Err(VerifyError::Missing(m)) if m == missing)
        );
    }
    let params: Vec<_> = signed
        .iter()
        .filter(|(k, _)| k != "body_md5")
        .cloned()
        .collect();
    assert_eq!(
        verify(&params, body, 1000),
        Err(VerifyError::MissingBodyMd5)
    );

    let mut wrong_key = signed.clone();
    wrong_key
        .iter_mut()
        .find(|(k, _)| k == "auth_key")
        .unwrap()
        .1 = "other".into();
    assert_eq!(
        verify(&wrong_key, body, 1000),
        Err(VerifyError::UnknownKey("other".into()))
    );

    let mut old_version = signed.clone();
    old_version
        .iter_mut()
        .find(|(k, _)| k == "auth_version")
        .unwrap()
        .1 = "0.9".into();
    assert_eq!(
        verify(&old_version, body, 1000),
        Err(VerifyError::BadVersion("0.9".into()))
    );

    let mut bad_ts = signed;
    bad_ts
        .iter_mut()
        .find(|(k, _)| k == "auth_timestamp")
        .unwrap()
        .1 = "soon".into();
    assert_eq!(
        verify(&bad_ts, body, 1000),
        Err(VerifyError::BadTimestamp("soon".into()))
    );
}
