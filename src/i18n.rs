//! The app's languages — zh-CN, the seed's own, and en — as typed tables that build.rs
//! generates from `locales/<tag>.json` (a key missing from a locale fails the build), the
//! choice of language for a request, and the message of each errcode. Shared by the server
//! (`errmsg`, the first render) and the browser.

use crate::api::ErrCode;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The cookie that remembers a visitor's choice: `en` or `zh-CN`.
pub const LOCALE_COOKIE: &str = "painless_lang";

impl Locale {
    /// The text of `key` in this language.
    pub fn text(self, key: Key) -> &'static str {
        self.table()[key as usize]
    }

    /// The text of `key` with its `{name}` placeholders filled in.
    pub fn format(self, key: Key, values: &[(&str, &str)]) -> String {
        let mut text = self.text(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The message of an errcode in this language; the code itself never changes.
    pub fn errmsg(self, code: ErrCode) -> &'static str {
        self.text(errcode_key(code))
    }

    /// A locale by its exact tag, ignoring case (`zh-cn` is `zh-CN`).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        Locale::ALL
            .into_iter()
            .find(|locale| locale.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// The language for a request: the visitor's choice (the cookie's value) if it names
    /// a locale, else the best of `Accept-Language`, else en.
    pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>) -> Locale {
        chosen
            .and_then(Locale::from_tag)
            .or_else(|| accept_language.and_then(best_accepted))
            .unwrap_or_default()
    }
}

/// The supported locale the `Accept-Language` header prefers most (the first of equals),
/// if any: `zh`, `zh-CN`, `zh-SG`, `zh-Hans(-…)` are zh-CN; `en(-…)` is en; Traditional
/// Chinese and everything else are not ours.
fn best_accepted(header: &str) -> Option<Locale> {
    let mut best: Option<(f32, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let weight = match parts.find_map(|p| p.trim().strip_prefix("q=")) {
            Some(q) => match q.trim().parse::<f32>() {
                Ok(q) if (0.0..=1.0).contains(&q) => q,
                _ => continue,
            },
            None => 1.0,
        };
        let Some(locale) = supported(tag) else {
            continue;
        };
        if weight > 0.0 && best.is_none_or(|(best_weight, _)| weight > best_weight) {
            best = Some((weight, locale));
        }
    }
    best.map(|(_, locale)| locale)
}

/// The locale a language tag asks for, if it is one of ours.
fn supported(tag: &str) -> Option<Locale> {
    let tag = tag.to_ascii_lowercase();
    let mut subtags = tag.split(['-', '_']);
    match subtags.next()? {
        "en" => Some(Locale::En),
        "zh" => {
            let rest: Vec<&str> = subtags.collect();
            let simplified = match rest.first() {
                None => true,
                Some(&"hans") => true,
                Some(&"hant") => false,
                Some(region) => matches!(*region, "cn" | "sg"),
            };
            simplified.then_some(Locale::ZhCn)
        }
        _ => None,
    }
}

/// The key of each errcode's message: the compiler checks that every errcode has one, the
/// build that every locale has its text.
fn errcode_key(code: ErrCode) -> Key {
    match code {
        ErrCode::Ok => Key::Errcode0,
        ErrCode::SessionSuperseded => Key::Errcode30001,
        ErrCode::InvalidCredential => Key::Errcode40001,
        ErrCode::InvalidAccessToken => Key::Errcode40014,
        ErrCode::AccessTokenExpired => Key::Errcode42001,
        ErrCode::SessionOver => Key::Errcode42002,
        ErrCode::BadLogin => Key::Errcode40101,
        ErrCode::InvalidInput => Key::Errcode40002,
        ErrCode::PayloadTooLarge => Key::Errcode41300,
        ErrCode::NotFound => Key::Errcode40400,
        ErrCode::MethodNotAllowed => Key::Errcode40500,
        ErrCode::DemoDisabled => Key::Errcode40300,
        ErrCode::RateLimited => Key::Errcode45009,
        ErrCode::CrossOrigin => Key::Errcode40301,
        ErrCode::RequestTimeout => Key::Errcode40800,
        ErrCode::Internal => Key::Errcode50000,
        ErrCode::Overloaded => Key::Errcode50300,
        ErrCode::Unavailable => Key::Errcode50301,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_errcode_has_its_own_message_in_every_locale() {
        for locale in Locale::ALL {
            let mut seen = std::collections::HashSet::new();
            for code in ErrCode::ALL {
                let key = errcode_key(code);
                assert_eq!(
                    format!("{key:?}"),
                    format!("Errcode{}", code.code()),
                    "{code:?}"
                );
                let message = locale.errmsg(code);
                assert!(!message.trim().is_empty());
                assert!(seen.insert(message), "{locale:?}: {message} twice");
            }
        }
        assert_eq!(
            Locale::ZhCn.errmsg(ErrCode::SessionOver),
            "会话已结束，请重新登录"
        );
    }

    #[test]
    fn the_locales_differ_where_they_should() {
        assert_ne!(
            Locale::En.errmsg(ErrCode::BadLogin),
            Locale::ZhCn.errmsg(ErrCode::BadLogin)
        );
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Locale::En.format(Key::InvalidInputDetail, &[("detail", "page")]),
            "invalid input: page"
        );
        assert_eq!(
            Locale::ZhCn.format(Key::InvalidInputDetail, &[("detail", "page")]),
            "输入无效：page"
        );
    }

    #[test]
    fn a_choice_beats_the_browser_and_unknown_choices_are_ignored() {
        let chinese_browser = Some("zh-CN,zh;q=0.9");
        assert_eq!(Locale::negotiate(Some("en"), chinese_browser), Locale::En);
        assert_eq!(Locale::negotiate(Some("zh-cn"), Some("en")), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("fr"), chinese_browser), Locale::ZhCn);
        assert_eq!(Locale::negotiate(None, None), Locale::En);
    }

    #[test]
    fn accept_language_follows_the_issue_s_rules_and_q_values() {
        let cases = [
            ("zh", Locale::ZhCn),
            ("zh-CN", Locale::ZhCn),
            ("zh-Hans", Locale::ZhCn),
            ("zh-Hans-CN", Locale::ZhCn),
            ("ZH-cn", Locale::ZhCn),
            ("zh_CN", Locale::ZhCn),
            ("zh-SG", Locale::ZhCn),
            ("zh-TW", Locale::En),
            ("zh-Hant-HK", Locale::En),
            ("en-US,en;q=0.9", Locale::En),
            ("fr-FR, de;q=0.8", Locale::En),
            ("fr-FR, zh;q=0.5", Locale::ZhCn),
            ("en;q=0.4, zh-CN;q=0.8", Locale::ZhCn),
            ("zh-CN;q=0, en;q=0.1", Locale::En),
            ("zh-CN;q=0", Locale::En),
            ("zh-CN;q=2, en", Locale::En),
            ("zh-CN;q=abc", Locale::En),
            ("*", Locale::En),
            ("", Locale::En),
            (",,;;q=,", Locale::En),
        ];
        for (header, expected) in cases {
            assert_eq!(
                Locale::negotiate(None, Some(header)),
                expected,
                "{header:?}"
            );
        }
    }
}
