//! China time (UTC+8): the zone every simulated upstream keeps and prints its times in.
//! Simulators store either timestamps or Unix milliseconds; both have a reader here.

use jiff::tz::{offset, TimeZone};
use jiff::{Span, Timestamp, Zoned};

/// UTC+8, with no daylight saving.
pub fn zone() -> TimeZone {
    TimeZone::fixed(offset(8))
}

pub fn at(t: Timestamp) -> Zoned {
    t.to_zoned(zone())
}

/// Unix milliseconds in China time (outside what a timestamp holds: the epoch).
pub fn at_ms(ms: i64) -> Zoned {
    at(Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// `YYYY-MM-DD HH:MM:SS`, the datetime most upstreams print.
pub fn datetime(t: Timestamp) -> String {
    at(t).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// [`datetime`] of Unix milliseconds.
pub fn datetime_ms(ms: i64) -> String {
    at_ms(ms).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DD`.
pub fn date_ms(ms: i64) -> String {
    at_ms(ms).strftime("%Y-%m-%d").to_string()
}

fn months_later(z: &Zoned, months: i64) -> Option<Timestamp> {
    let span = Span::new().try_months(months).ok()?;
    z.checked_add(span).ok().map(|z| z.timestamp())
}

/// `months` calendar months later in China time (the day clamped to the month's
/// length); `t` itself when that is out of range.
pub fn add_months(t: Timestamp, months: i64) -> Timestamp {
    months_later(&at(t), months).unwrap_or(t)
}

/// [`add_months`] for Unix milliseconds; `ms` itself when out of range.
pub fn add_months_ms(ms: i64, months: i64) -> i64 {
    months_later(&at_ms(ms), months).map_or(ms, |t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_time_is_utc_plus_8_and_months_are_calendar_months() {
        // 2019-04-08 02:52:30.854 UTC is 10:52:30 in Beijing.
        let ms = 1_554_691_950_854;
        let t = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(datetime(t), "2019-04-08 10:52:30");
        assert_eq!(datetime_ms(ms), datetime(t));
        assert_eq!(date_ms(add_months_ms(ms, 12)), "2020-04-08");
        assert_eq!(
            at(add_months(t, 1)).strftime("%F").to_string(),
            "2019-05-08"
        );
        assert_eq!(add_months_ms(ms, i64::MAX), ms, "out of range: unchanged");
        assert_eq!(at_ms(i64::MAX).timestamp(), Timestamp::UNIX_EPOCH);
    }
}
