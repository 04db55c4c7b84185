//! Property tests of everything that parses untrusted text: the login page's redirect
//! target, the envelope the client decodes, origins, forwarded client addresses and the
//! configuration. (Bearer/query tokens and the refresh cookie: `server/auth/extract.rs`.)

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};
use painless::api::{RawEnvelope, RedirectPath};
use painless::server::Settings;
use painless::server::{parse_origin, Requester};
use proptest::prelude::*;

/// Strings with the characters redirect tricks are made of, and anything else.
fn url_ish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[/\\\\:@.%?#a-zA-Z0-9 \t\n-]{0,24}",
        "(/|//|/\\\\|https?:|%2[fF]|%5[cC]|\\.\\.|@|[a-z]){0,8}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_redirect_target_never_leaves_the_site(raw in url_ish()) {
        if let Some(path) = RedirectPath::parse(&raw) {
            let base = reqwest::Url::parse("https://app.example/login").expect("base");
            // How a browser resolves it against our page.
            if let Ok(resolved) = base.join(path.as_str()) {
                prop_assert_eq!(resolved.host_str(), Some("app.example"), "{:?}", raw);
                prop_assert_eq!(resolved.scheme(), "https");
            }
            let login_url = path.login_url(Some("ACME"));
            prop_assert!(login_url.bytes().all(|b| b.is_ascii_graphic()), "{}", login_url);
            let encoded = login_url
                .strip_prefix("/login?redirect=")
                .and_then(|rest| rest.strip_suffix("&code=ACME"))
                .expect("shape");
            prop_assert!(!encoded.contains(['&', '?', '#', '/']), "{}", encoded);
        }
        prop_assert_eq!(
            RedirectPath::parse_or_home(Some(&raw)).as_str().starts_with('/'),
            true
        );
    }

    #[test]
    fn the_envelope_decoder_takes_any_text_without_panicking(text in any::<String>()) {
        let _ = serde_json::from_str::<RawEnvelope>(&text);
    }

    #[test]
    fn envelopes_round_trip(
        errcode in any::<i32>(),
        errmsg in any::<String>(),
        data in prop::option::of(any::<i64>()),
    ) {
        let envelope = RawEnvelope {
            errcode,
            errmsg,
            data: data.map(serde_json::Value::from),
        };
        let text = serde_json::to_string(&envelope).expect("serialize");
        let back: RawEnvelope = serde_json::from_str(&text).expect("decode");
        prop_assert_eq!(back, envelope);
    }

    #[test]
    fn origins_parse_to_a_normal_form_or_not_at_all(raw in url_ish()) {
        if let Some(origin) = parse_origin(&raw) {
            prop_assert!(origin.starts_with("http://") || origin.starts_with("https://"));
            prop_assert_eq!(origin.to_ascii_lowercase(), origin.clone());
            prop_assert_eq!(parse_origin(&origin), Some(origin.clone()), "idempotent");
        }
    }

    #[test]
    fn a_forwarded_client_is_the_peer_or_an_address_the_header_named(
        forwarded in "[0-9a-f.:, \\[\\]]{0,40}",
        trusted_peer in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&forwarded) {
            headers.insert("x-forwarded-for", value);
        }
        let peer: IpAddr = if trusted_peer { "10.0.0.1" } else { "203.0.113.5" }
            .parse()
            .expect("ip");
        let trusted = vec!["10.0.0.0/8".parse().expect("net")];
        let requester = Requester::from_parts(&headers, false, Some(peer), &trusted);
        if trusted_peer {
            let named = requester.address == peer || forwarded.contains(&requester.address.to_string())
                || forwarded.contains(&format!("[{}]", requester.address));
            prop_assert!(named || requester.address.is_ipv6(), "{:?} -> {}", forwarded, requester.address);
        } else {
            prop_assert_eq!(requester.address, peer, "untrusted peers cannot name a requester");
        }
    }

    #[test]
    fn timeouts_are_accepted_exactly_when_they_make_sense(
        idle in 0u64..5000,
        header in 0u64..5000,
        request in 0u64..5000,
    ) {
        let toml = format!(
            "[server]\nidle_timeout_secs = {idle}\nheader_read_timeout_secs = {header}\nrequest_timeout_secs = {request}\n"
        );
        let sensible = (1..=3600).contains(&header)
            && (1..=header).contains(&idle)
            && (1..=3600).contains(&request);
        match Settings::from_toml(&toml) {
            Ok(settings) => {
                prop_assert!(sensible, "{}", toml);
                prop_assert_eq!(settings.server.idle_timeout.as_secs(), idle);
            }
            Err(error) => {
                prop_assert!(!sensible, "{} refused: {}", toml, error);
                prop_assert!(error.to_string().contains("timeout_secs"), "{}", error);
            }
        }
    }

    #[test]
    fn any_string_as_a_config_value_is_accepted_or_named_never_a_panic(value in any::<String>()) {
        let quoted = toml_string(&value);
        for key in [
            "server.trusted_proxies = [{v}]",
            "server.allowed_origins = [{v}]",
            "server.site_addr = {v}",
            "tokens.jwt_secret = {v}",
            "server.secure_cookies = {v}",
        ] {
            let (section, rest) = key.split_once('.').expect("dotted");
            let toml = format!("[{section}]\n{}\n", rest.replace("{v}", &quoted));
            if let Err(error) = Settings::from_toml(&toml) {
                let name = rest.split(' ').next().expect("key");
                prop_assert!(error.to_string().contains(name), "{} -> {}", toml, error);
            }
        }
    }
}

/// A TOML basic string holding `value`.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
