//! `dateTime.iso8601` values: a calendar date and time of day, no zone (the XML-RPC spec
//! gives none; this server always means UTC and says so in the documentation).
//!
//! One form, both ways: the spec's example form `19980717T14:08:55`, which is what Python's
//! `xmlrpc.client` writes. No method takes a dateTime argument, so one that arrives can only
//! be refused as a bad argument; reading it strictly (one form, whitespace around it
//! trimmed, fields range-checked with month lengths and leap years) keeps that refusal from
//! depending on a lenient parser. Another form is a malformed request. Years are
//! 0000-9999, as four digits allow.
//!
//! Conversion from Unix seconds goes through `civil` (arithmetic, never a panic); a year past
//! 9999 becomes "unknown".

use std::fmt;

/// A UTC calendar date and time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DateTime {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    /// 0-60: a leap second is a valid time of day, though Unix time never names one.
    pub(crate) second: u8,
}

impl DateTime {
    /// The UTC time `seconds` after the Unix epoch, or `None` past 9999-12-31T23:59:59.
    pub(crate) fn from_unix(seconds: u64) -> Option<DateTime> {
        let t = crate::civil::Utc::from_unix(seconds);
        Some(DateTime {
            year: u16::try_from(t.year).ok().filter(|y| *y <= 9999)?,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
        })
    }

    /// Parses the one form (see the module note); `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<DateTime> {
        let text = text.trim().as_bytes();
        if text.len() != 17 || text[8] != b'T' || text[11] != b':' || text[14] != b':' {
            return None;
        }
        let digits = |at: usize, len: usize| -> Option<u16> {
            text[at..at + len].iter().try_fold(0u16, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
            })
        };
        let value = DateTime {
            year: digits(0, 4)?,
            month: digits(4, 2)? as u8,
            day: digits(6, 2)? as u8,
            hour: digits(9, 2)? as u8,
            minute: digits(12, 2)? as u8,
            second: digits(15, 2)? as u8,
        };
        let valid = (1..=12).contains(&value.month)
            && (1..=days_in_month(value.year, value.month)).contains(&value.day)
            && value.hour < 24
            && value.minute < 60
            && value.second <= 60;
        valid.then_some(value)
    }
}

impl fmt::Display for DateTime {
    /// `YYYYMMDDTHH:MM:SS`, the form every XML-RPC client reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests;
