//! The settings: parsing, the environment, every refusal naming its key, the shipped
//! `Leptos.toml`, and the documented defaults.

use super::*;

#[test]
fn the_shipped_leptos_toml_is_valid_and_has_the_demo_user() {
    let shipped = include_str!("../../../../Leptos.toml");
    let settings = Settings::from_toml(shipped).expect("shipped config is valid");
    assert!(settings.demo.enabled);
    let demo = &settings.demo.users[0];
    assert_eq!(
        (demo.customer_code.as_str(), demo.username.as_str()),
        ("ACME", "demo")
    );
    assert_eq!(demo.password.expose(), "demo-password");
}

#[test]
fn defaults_switch_demo_mode_off() {
    assert!(!Settings::default().demo.enabled);
    Settings::default().validate().expect("defaults are valid");
}

#[test]
fn a_wrong_type_names_the_key() {
    let error = Settings::from_toml("[tokens]\naccess_ttl_secs = \"soon\"")
        .unwrap_err()
        .to_string();
    assert!(error.contains("tokens.access_ttl_secs"), "{error}");
}

#[test]
fn an_unknown_key_is_an_error_not_silently_ignored() {
    let error = Settings::from_toml("[tokens]\naccess_tll_secs = 10")
        .unwrap_err()
        .to_string();
    assert!(error.contains("access_tll_secs"), "{error}");
}

#[test]
fn out_of_range_values_name_the_key_and_the_reason() {
    for (toml, key) in [
        ("[tokens]\naccess_ttl_secs = 0", "tokens.access_ttl_secs"),
        ("[tokens]\njwt_secret = \"short\"", "tokens.jwt_secret"),
        (
            "[tokens]\njwt_secret = \"a long passphrase that is not random at all\"",
            "tokens.jwt_secret",
        ),
        (
            "[tokens]\njwt_previous_secret = \"short\"",
            "tokens.jwt_previous_secret",
        ),
        (
            "[tokens]\naccess_ttl_secs = 600\nsession_ttl_secs = 60",
            "tokens.session_ttl_secs",
        ),
        (
            "[client]\nrefresh_errcodes = [42001, 42002]",
            "client.refresh_errcodes",
        ),
        ("[login]\nmax_failures = 0", "login.max_failures"),
        (
            "[server]\nidle_timeout_secs = 20\nheader_read_timeout_secs = 10",
            "server.idle_timeout_secs",
        ),
        ("[server]\nmax_connections = 0", "server.max_connections"),
        (
            "[server]\nmetrics_addr = \"port 9464\"",
            "server.metrics_addr",
        ),
        (
            "[server]\nallowed_origins = [\"evil.example\"]",
            "server.allowed_origins",
        ),
        (
            "[server]\ntrusted_proxies = [\"10.0.0.0/33\"]",
            "trusted_proxies",
        ),
    ] {
        let error = Settings::from_toml(toml).unwrap_err().to_string();
        assert!(error.contains(key), "{toml:?} gave {error}");
    }
}

#[test]
fn keys_are_read_as_hex_or_base64_of_at_least_32_bytes() {
    let key = |text: &str| Secret::new(text).key_bytes();
    let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    assert_eq!(key(hex), Some((0u8..32).collect()));
    assert_eq!(key(&hex.to_uppercase()), Some((0u8..32).collect()));
    let standard = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert_eq!(key(standard), Some((0u8..32).collect()));
    assert_eq!(
        key(standard.trim_end_matches('=')),
        Some((0u8..32).collect())
    );
    let url_safe: Vec<u8> = [0xfb, 0xff].into_iter().chain(0..30).collect();
    assert_eq!(
        key("-_8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0"),
        Some(url_safe)
    );
    assert_eq!(key(&hex[..62]), None, "31 bytes are too few");
    assert_eq!(key("correct horse battery staple correct horse"), None);
}

#[test]
fn the_key_encryption_key_comes_from_its_setting_or_its_file_never_both() {
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("kek");
    std::fs::write(&file, format!("{key}\n")).expect("write");
    let file = file.display();
    let of = |toml: &str| Settings::from_toml(toml).map(|s| s.tokens.key_encryption_key());
    let none = of("").expect("valid").expect("readable");
    assert_eq!(none, None);
    for toml in [
        format!("[tokens]\nkey_encryption_key = \"{key}\""),
        format!("[tokens]\nkey_encryption_key_file = \"{file}\""),
    ] {
        let found = of(&toml).expect("valid").expect("readable");
        assert_eq!(
            found.map(|s| s.expose().to_owned()).as_deref(),
            Some(key),
            "{toml}"
        );
    }
    for (toml, named) in [
        (
            format!(
                "[tokens]\nkey_encryption_key = \"{key}\"\nkey_encryption_key_file = \"{file}\""
            ),
            "tokens.key_encryption_key_file",
        ),
        (
            "[tokens]\nkey_encryption_key = \"hunter2\"".into(),
            "tokens.key_encryption_key",
        ),
        (
            "[tokens]\nkey_encryption_key_file = \"/nowhere/kek\"".into(),
            "tokens.key_encryption_key_file",
        ),
    ] {
        let error = Settings::from_toml(&toml).unwrap_err().to_string();
        assert!(error.contains(named), "{toml:?} gave {error}");
        assert!(!error.contains(key), "never the key itself: {error}");
    }
}

#[test]
fn demo_mode_and_query_tokens_start_on_a_public_address_only_when_told_to() {
    let shipped = include_str!("../../../../Leptos.toml");
    let on = |addr: &str, extra: &str| {
        Settings::from_toml(&format!("{shipped}\n{extra}")).and_then(|mut settings| {
            settings.server.site_addr = addr.parse().expect("addr");
            settings.validate().map(|()| settings)
        })
    };
    for addr in ["127.0.0.1:3000", "[::1]:3000", "127.0.0.2:80"] {
        on(addr, "").expect("loopback: the demo as shipped");
    }
    for addr in ["0.0.0.0:3000", "[::]:3000", "192.0.2.7:80"] {
        let error = on(addr, "").unwrap_err().to_string();
        assert!(error.contains("demo.allow_public"), "{addr}: {error}");
        assert!(error.contains("PAINLESS_DEMO__ALLOW_PUBLIC"), "{error}");
    }
    // One key covers both; either alone is refused too.
    let mut public = Settings::default();
    public.server.site_addr = "0.0.0.0:3000".parse().expect("addr");
    public
        .validate()
        .expect("neither demo mode nor query tokens");
    public.server.query_tokens = true;
    let error = public.validate().unwrap_err().to_string();
    assert!(
        error.contains("server.query_tokens") && !error.contains("demo.enabled"),
        "{error}"
    );
    public.demo.allow_public = true;
    public.demo.enabled = true;
    public.validate().expect("allowed on purpose");
}

#[test]
fn a_public_listener_without_trusted_proxies_is_warned_about_its_cookies() {
    let mut settings = Settings::default();
    assert!(
        settings.warnings().is_empty(),
        "loopback: a developer's machine"
    );
    settings.server.site_addr = "[::]:3000".parse().expect("addr");
    let warnings = settings.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("server.trusted_proxies"),
        "{warnings:?}"
    );
    settings.server.trusted_proxies = vec!["10.0.0.0/8".parse().expect("net")];
    assert!(settings.warnings().is_empty());
    settings.server.trusted_proxies.clear();
    settings.server.secure_cookies = SecureCookies::Always;
    assert!(settings.warnings().is_empty(), "told what to do");
}

#[test]
fn the_database_is_a_sqlite_file_under_data_dir_or_a_postgres_url_that_never_prints() {
    let settings = Settings::default();
    assert_eq!(
        settings.database(),
        Database::Sqlite(PathBuf::from("data/painless.db"))
    );
    for url in [
        "postgres://app:pa55-word@db.internal/painless",
        "PostgreSQL://app@db.internal:5433/painless?sslmode=require",
    ] {
        let settings =
            Settings::from_toml(&format!("[server]\ndatabase = {url:?}")).expect("valid");
        assert_eq!(settings.database(), Database::Postgres(url));
        assert!(!format!("{settings:?}").contains("pa55-word"));
    }
    for (toml, key) in [
        ("[server]\ndatabase = \" \"", "server.database"),
        (
            "[server]\ndatabase_pool_size = 0",
            "server.database_pool_size",
        ),
        (
            "[server]\ndatabase_connect_timeout_secs = 0",
            "server.database_connect_timeout_secs",
        ),
    ] {
        let error = Settings::from_toml(toml).unwrap_err().to_string();
        assert!(error.contains(key), "{toml:?} gave {error}");
    }
}

#[test]
fn secrets_do_not_print() {
    let secret = Secret::new("super-secret-value");
    assert!(!format!("{secret:?}").contains("super"));
    let user = DemoUser {
        customer_code: "ACME".into(),
        username: "demo".into(),
        password: Secret::new("demo-password"),
        display_name: "Demo".into(),
    };
    assert!(!format!("{user:?}").contains("demo-password"));
}

/// The configuration tables of `docs/operations.md` (every key) and the README (the
/// keys most often changed) against the defaults in the code: every documented default
/// is the code's, and every key is in `docs/operations.md`.
#[test]
fn the_documented_defaults_are_the_code_defaults_and_every_key_is_documented() {
    let operations = include_str!("../../../../docs/operations.md");
    let readme = include_str!("../../../../README.md");
    let defaults = serde_json::to_value(Settings::default()).expect("the defaults serialise");
    let rendered = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string().replace(',', ", "),
    };
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    let mut documented = Vec::new();
    // A setting's row: its first cell is a `section.key`.
    let rows = |document: &'static str| {
        document.lines().filter(|line| {
            line.starts_with("| `")
                && line[3..]
                    .split('`')
                    .next()
                    .is_some_and(|key| key.contains('.'))
        })
    };
    for row in rows(operations).chain(rows(readme)) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (keys, values) = (ticked(cells[0]), ticked(cells[1]));
        for (key, value) in keys.iter().zip(values) {
            let (section, name) = key.split_once('.').expect("section.key");
            let found = defaults
                .get(section)
                .and_then(|section| section.get(name))
                .unwrap_or_else(|| {
                    panic!("docs/operations.md documents `{key}`, which does not exist")
                });
            assert_eq!(rendered(found), value, "the default of `{key}`");
            documented.push(key.clone());
        }
    }
    let sections = defaults.as_object().expect("sections");
    for (section, keys) in sections {
        for key in keys.as_object().expect("keys").keys() {
            let key = format!("{section}.{key}");
            assert!(
                documented.contains(&key),
                "`{key}` is not in docs/operations.md"
            );
        }
    }
}
