//! Calendar dates from Unix time, by plain arithmetic on days (proleptic Gregorian, UTC).
//!
//! Not `SystemTime`: a file's mtime can be anything a host reports, and converting it must
//! never panic. XML-RPC's `dateTime.iso8601` values, zip's MS-DOS times, the listings'
//! RFC 3339 times and `Last-Modified` (RFC 9110 §5.6.7) all use it.

/// Days from 0000-03-01 (the start of a 400-year cycle, counting years from March so the
/// leap day ends each year) to 1970-01-01.
const EPOCH_FROM_MARCH_0000: u64 = 719_468;

/// Days in 400 Gregorian years: the calendar repeats exactly after them.
const DAYS_PER_ERA: u64 = 146_097;

/// Year, month and day of the day `days` after 1970-01-01.
///
/// Within an era (400 years) the year of a day is found by dividing by 365 after removing the
/// leap days seen so far (one per 4 years, less one per 100, plus one per 400). Counting years
/// from March puts February last, so the months before it have fixed lengths that repeat in
/// 5-month groups of 153 days, which `(5 * d + 2) / 153` inverts.
pub(crate) fn date_from_unix_days(days: u64) -> (u64, u8, u8) {
    // `days` is at most u64::MAX / 86400 for any Unix time in seconds: no overflow.
    let days = days.saturating_add(EPOCH_FROM_MARCH_0000);
    let era = days / DAYS_PER_ERA;
    let day_of_era = days % DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u8;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u8;
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

/// Seconds in a day: Unix time has no leap seconds.
const SECONDS_PER_DAY: u64 = 86_400;

/// A UTC calendar date and time of day, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub(crate) year: u64,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
}

impl Utc {
    /// The time `seconds` after 1970-01-01T00:00:00Z.
    pub(crate) fn from_unix(seconds: u64) -> Utc {
        let (year, month, day) = date_from_unix_days(seconds / SECONDS_PER_DAY);
        let of_day = seconds % SECONDS_PER_DAY;
        Utc {
            year,
            month,
            day,
            hour: (of_day / 3600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
        }
    }
}

/// Appends `seconds` after the Unix epoch as an RFC 3339 UTC time to the second
/// (`2026-11-30T10:57:00Z`, the form `humantime::format_rfc3339_seconds` writes), or nothing
/// past 9999-12-31T23:59:59, which four digits cannot hold. A listing writes one per entry,
/// so this is digits pushed, not a formatter pass.
pub(crate) fn push_rfc3339(out: &mut String, seconds: u64) {
    let t = Utc::from_unix(seconds);
    if t.year > 9999 {
        return;
    }
    let [c1, c2] = digits(t.year / 100);
    let [y1, y2] = digits(t.year);
    let [m1, m2] = digits(t.month.into());
    let [d1, d2] = digits(t.day.into());
    let [h1, h2] = digits(t.hour.into());
    let [i1, i2] = digits(t.minute.into());
    let [s1, s2] = digits(t.second.into());
    let text = [
        c1, c2, y1, y2, b'-', m1, m2, b'-', d1, d2, b'T', h1, h2, b':', i1, i2, b':', s1, s2, b'Z',
    ];
    // Only ASCII digits and separators were written.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// The last two decimal digits of `n`, as ASCII.
fn digits(n: u64) -> [u8; 2] {
    [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]
}

/// `seconds` after the Unix epoch as an IMF-fixdate (RFC 9110 §5.6.7,
/// `Sun, 06 Nov 1994 08:49:37 GMT`, the form `httpdate` writes), or `None` past the year
/// 9999. Bytes laid out rather than `format!`'d: a plain GET formats nothing else (see
/// `header/value.rs` on what its indirect calls cost a fresh instance).
pub(crate) fn http_date(seconds: u64) -> Option<String> {
    const WEEKDAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let t = Utc::from_unix(seconds);
    if t.year > 9999 {
        return None;
    }
    // 1970-01-01 was a Thursday.
    let [w1, w2, w3] = *WEEKDAYS[(seconds / SECONDS_PER_DAY % 7) as usize];
    let [n1, n2, n3] = *MONTHS[usize::from(t.month - 1)];
    let [d1, d2] = digits(t.day.into());
    let [c1, c2] = digits(t.year / 100);
    let [y1, y2] = digits(t.year);
    let [h1, h2] = digits(t.hour.into());
    let [i1, i2] = digits(t.minute.into());
    let [s1, s2] = digits(t.second.into());
    let text = [
        w1, w2, w3, b',', b' ', d1, d2, b' ', n1, n2, n3, b' ', c1, c2, y1, y2, b' ', h1, h2, b':',
        i1, i2, b':', s1, s2, b' ', b'G', b'M', b'T',
    ];
    // Only ASCII letters, digits and separators were written.
    std::str::from_utf8(&text).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::{date_from_unix_days, http_date, push_rfc3339};

    fn rfc3339(seconds: u64) -> String {
        let mut out = String::new();
        push_rfc3339(&mut out, seconds);
        out
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
        assert_eq!(rfc3339(1_764_500_220), "2025-11-30T10:57:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), "", "year 10000 has five digits");
        assert_eq!(rfc3339(u64::MAX), "");
    }

    /// The form humantime writes, at times spread over its whole range.
    #[test]
    fn rfc3339_as_humantime_writes_it() {
        let mut seconds = 0u64;
        while seconds < 253_402_300_800 {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            assert_eq!(
                rfc3339(seconds),
                humantime::format_rfc3339_seconds(t).to_string(),
                "{seconds}"
            );
            seconds = seconds * 3 / 2 + 7_919;
        }
    }

    /// The IMF-fixdate `httpdate` writes, over its whole range, and nothing past it.
    #[test]
    fn http_dates_as_httpdate_writes_them() {
        assert_eq!(
            http_date(784_111_777).as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        let mut seconds = 0u64;
        while seconds < 253_402_300_800 {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            assert_eq!(
                http_date(seconds),
                Some(httpdate::fmt_http_date(t)),
                "{seconds}"
            );
            seconds = seconds * 3 / 2 + 7_919;
        }
        assert_eq!(
            http_date(253_402_300_799).as_deref(),
            Some("Fri, 31 Dec 9999 23:59:59 GMT")
        );
        assert_eq!(http_date(253_402_300_800), None);
        assert_eq!(http_date(u64::MAX), None);
    }

    #[test]
    fn known_days() {
        assert_eq!(date_from_unix_days(0), (1970, 1, 1));
        assert_eq!(date_from_unix_days(11_016), (2000, 2, 29));
        assert_eq!(date_from_unix_days(11_017), (2000, 3, 1));
        assert_eq!(date_from_unix_days(19_675), (2023, 11, 14));
        assert_eq!(date_from_unix_days(2_932_896), (9999, 12, 31));
    }
}
