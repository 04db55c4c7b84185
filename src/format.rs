//! Formatting of amounts and dates, for any component. Amounts read the same in both
//! languages (`€1,234.50` is also how zh-CN writes euros); dates do not.

use crate::i18n::Locale;

/// Formats cents as `€1,234.50`.
pub(crate) fn money(cents: i64, currency: &str) -> String {
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        _ => "",
    };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{symbol}{grouped}.{:02}", (cents % 100).abs())
}

/// Formats Unix seconds as a day (UTC): `2025-06-14` in English, `2025年6月14日` in Chinese.
pub(crate) fn date(locale: Locale, unix_seconds: i64) -> String {
    let (year, month, day) = civil_date(unix_seconds);
    match locale {
        Locale::En => format!("{year:04}-{month:02}-{day:02}"),
        Locale::ZhCn => format!("{year}年{month}月{day}日"),
    }
}

/// Formats Unix seconds as a day and a time (UTC): `2025-06-14 09:30 UTC`,
/// `2025年6月14日 09:30 UTC`.
pub(crate) fn date_time(locale: Locale, unix_seconds: i64) -> String {
    let minutes = unix_seconds.rem_euclid(86_400) / 60;
    format!(
        "{} {:02}:{:02} UTC",
        date(locale, unix_seconds),
        minutes / 60,
        minutes % 60
    )
}

/// (year, month, day) of Unix seconds in UTC.
fn civil_date(unix_seconds: i64) -> (i64, i64, i64) {
    // Civil-from-days (Howard Hinnant), to avoid a date crate in the WASM bundle.
    let days = unix_seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(12_345_678, "EUR"), "€123,456.78");
        assert_eq!(money(6_900, "EUR"), "€69.00");
        assert_eq!(money(5, "XXX"), "0.05");
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(Locale::En, 0), "1970-01-01");
        assert_eq!(date(Locale::En, 1_748_736_000), "2025-06-01");
        assert_eq!(date(Locale::En, 951_782_400), "2000-02-29");
        assert_eq!(
            date_time(Locale::En, 951_782_400 + 9 * 3600 + 30 * 60 + 59),
            "2000-02-29 09:30 UTC"
        );
    }

    #[test]
    fn chinese_dates_name_year_month_and_day() {
        assert_eq!(date(Locale::ZhCn, 1_748_736_000), "2025年6月1日");
        assert_eq!(
            date_time(Locale::ZhCn, 951_782_400 + 9 * 3600 + 30 * 60),
            "2000年2月29日 09:30 UTC"
        );
    }
}
