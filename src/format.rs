//! Formatting of amounts and dates, for any component.

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

/// Formats Unix seconds as `2025-06-14` (UTC).
pub(crate) fn date(unix_seconds: i64) -> String {
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
    format!("{year:04}-{month:02}-{day:02}")
}

/// Formats Unix seconds as `2025-06-14 09:30 UTC`.
pub(crate) fn date_time(unix_seconds: i64) -> String {
    let minutes = unix_seconds.rem_euclid(86_400) / 60;
    format!(
        "{} {:02}:{:02} UTC",
        date(unix_seconds),
        minutes / 60,
        minutes % 60
    )
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
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_748_736_000), "2025-06-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(
            date_time(951_782_400 + 9 * 3600 + 30 * 60 + 59),
            "2000-02-29 09:30 UTC"
        );
    }
}
