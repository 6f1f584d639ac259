//! How times are shown: China time (the zone every upstream dates in, the default),
//! the machine's local time or UTC (`--tz`, `tz` in idcgate.toml, `IDCGATE_TZ`), always
//! with the zone written beside the time.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tz {
    /// UTC+8, as every upstream dates (default).
    China,
    /// The machine's zone (TZ, else /etc/localtime).
    Local,
    Utc,
}

impl std::str::FromStr for Tz {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "china" => Ok(Tz::China),
            "local" => Ok(Tz::Local),
            "utc" => Ok(Tz::Utc),
            _ => anyhow::bail!("time zone {s:?}: expected china, local or utc"),
        }
    }
}

struct Zone {
    tz: TimeZone,
    /// Written after a time when the zone has no abbreviation of its own.
    label: Option<&'static str>,
}

static ZONE: OnceLock<Zone> = OnceLock::new();

/// Chooses the zone every later time is shown in (once, at start-up).
pub fn set(tz: Tz) {
    let _ = ZONE.set(zone(tz));
}

fn zone(tz: Tz) -> Zone {
    match tz {
        Tz::China => Zone {
            tz: TimeZone::fixed(jiff::tz::offset(8)),
            label: Some("UTC+8"),
        },
        Tz::Utc => Zone {
            tz: TimeZone::UTC,
            label: Some("UTC"),
        },
        // An unreadable system zone is UTC, which the label then says.
        Tz::Local => Zone {
            tz: TimeZone::try_system().unwrap_or(TimeZone::UTC),
            label: None,
        },
    }
}

fn current() -> &'static Zone {
    ZONE.get_or_init(|| zone(Tz::China))
}

/// `2026-12-01 18:00 UTC+8` (China), `2026-12-01 11:00 CET` (local), `... UTC`.
pub fn fmt_ms(ms: i64) -> String {
    fmt_in(current(), ms)
}

fn fmt_in(zone: &Zone, ms: i64) -> String {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let z = ts.to_zoned(zone.tz.clone());
    match zone.label {
        Some(label) => format!("{} {label}", z.strftime("%Y-%m-%d %H:%M")),
        None => z.strftime("%Y-%m-%d %H:%M %Z").to_string(),
    }
}

/// RFC 3339 with the chosen zone's offset, for JSON beside the milliseconds:
/// `2026-12-01T18:00:00+08:00`.
pub fn rfc3339(ms: i64) -> Option<String> {
    let ts = Timestamp::from_millisecond(ms).ok()?;
    let offset = current().tz.to_offset(ts);
    Some(ts.display_with_offset(offset).to_string())
}

/// Whole days from `now_ms` until `ms` in the chosen zone's calendar: 0 on the day
/// itself, negative once past.
pub fn days_left(ms: i64, now_ms: i64) -> i64 {
    days_between(&current().tz, now_ms, ms).unwrap_or((ms - now_ms).div_euclid(86_400_000))
}

fn days_between(tz: &TimeZone, from_ms: i64, to_ms: i64) -> Option<i64> {
    let day = |ms| -> Option<jiff::civil::Date> {
        Some(
            Timestamp::from_millisecond(ms)
                .ok()?
                .to_zoned(tz.clone())
                .date(),
        )
    };
    let span = day(from_ms)?.until(day(to_ms)?).ok()?;
    Some(i64::from(span.get_days()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn each_zone_writes_its_name_beside_the_time() {
        let t = ms("2026-12-01T10:00:00Z");
        assert_eq!(fmt_in(&zone(Tz::China), t), "2026-12-01 18:00 UTC+8");
        assert_eq!(fmt_in(&zone(Tz::Utc), t), "2026-12-01 10:00 UTC");
        let named = Zone {
            tz: TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap(),
            label: None,
        };
        assert_eq!(fmt_in(&named, t), "2026-12-01 11:00 CET");
    }

    #[test]
    fn days_left_counts_calendar_days_in_the_zone() {
        let china = TimeZone::fixed(jiff::tz::offset(8));
        // 23:00 China time on the 1st, expiring 01:00 on the 2nd: one day left, though
        // only two hours away.
        let now = ms("2026-12-01T15:00:00Z");
        assert_eq!(
            days_between(&china, now, ms("2026-12-01T17:00:00Z")),
            Some(1)
        );
        assert_eq!(
            days_between(&TimeZone::UTC, now, ms("2026-12-01T17:00:00Z")),
            Some(0)
        );
        assert_eq!(
            days_between(&china, now, ms("2026-12-31T15:00:00Z")),
            Some(30)
        );
        assert_eq!(
            days_between(&china, now, ms("2026-11-29T15:00:00Z")),
            Some(-2)
        );
    }

    #[test]
    fn zone_names_parse() {
        assert_eq!("China".parse::<Tz>().unwrap(), Tz::China);
        assert_eq!(" utc".parse::<Tz>().unwrap(), Tz::Utc);
        assert!("mars".parse::<Tz>().is_err());
    }
}
