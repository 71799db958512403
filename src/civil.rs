//! Calendar dates from Unix time, by plain arithmetic on days (proleptic Gregorian, UTC).
//!
//! Not `SystemTime`: a file's mtime can be anything a host reports, and converting it must
//! never panic. XML-RPC's `dateTime.iso8601` values and zip's MS-DOS times both use it.

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

#[cfg(test)]
mod tests {
    use super::date_from_unix_days;

    #[test]
    fn known_days() {
        assert_eq!(date_from_unix_days(0), (1970, 1, 1));
        assert_eq!(date_from_unix_days(11_016), (2000, 2, 29));
        assert_eq!(date_from_unix_days(11_017), (2000, 3, 1));
        assert_eq!(date_from_unix_days(19_675), (2023, 11, 14));
        assert_eq!(date_from_unix_days(2_932_896), (9999, 12, 31));
    }
}
