//! Periods as operators write them, the same in the CLI and REST: `30d`, `2w`, `3m`,
//! `1y` (a bare number is days).
//!
//! Months and years are calendar months and years counted in China time, the zone every
//! upstream dates in: a domain expiring on the 31st is "within 1m" of the 1st of the
//! month before, as a person reading its date would say.

use std::str::FromStr;

/// The longest period accepted: further than anything an upstream sells.
const MAX_YEARS: i64 = 100;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// A count of days, weeks, months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub count: i64,
    pub unit: Unit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("period {text:?} {reason}")]
pub struct PeriodError {
    pub text: String,
    pub reason: &'static str,
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, PeriodError> {
        let fail = |reason| PeriodError {
            text: s.to_string(),
            reason,
        };
        let t = s.trim().to_ascii_lowercase();
        let (num, unit) = match t.char_indices().last() {
            Some((i, 'd')) => (&t[..i], Unit::Day),
            Some((i, 'w')) => (&t[..i], Unit::Week),
            Some((i, 'm')) => (&t[..i], Unit::Month),
            Some((i, 'y')) => (&t[..i], Unit::Year),
            _ => (t.as_str(), Unit::Day),
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("is not like 30d, 2w, 3m or 1y"));
        }
        let count: i64 = num.parse().map_err(|_| fail("is too long"))?;
        let per_year = match unit {
            Unit::Day => 366,
            Unit::Week => 53,
            Unit::Month => 12,
            Unit::Year => 1,
        };
        if count > MAX_YEARS * per_year {
            return Err(fail("is longer than 100 years"));
        }
        Ok(Period { count, unit })
    }
}

impl Period {
    /// The instant this period after `from_ms` (Unix milliseconds).
    pub fn after(&self, from_ms: i64) -> i64 {
        match self.unit {
            Unit::Day => from_ms.saturating_add(self.count.saturating_mul(DAY_MS)),
            Unit::Week => from_ms.saturating_add(self.count.saturating_mul(7 * DAY_MS)),
            Unit::Month | Unit::Year => {
                let months = match self.unit {
                    Unit::Year => self.count * 12,
                    _ => self.count,
                };
                calendar_months_after(from_ms, months)
                    // Outside jiff's range (year 9999): as far as an i64 of days goes.
                    .unwrap_or_else(|| from_ms.saturating_add(months.saturating_mul(31 * DAY_MS)))
            }
        }
    }
}

fn calendar_months_after(from_ms: i64, months: i64) -> Option<i64> {
    let china = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    let start = jiff::Timestamp::from_millisecond(from_ms)
        .ok()?
        .to_zoned(china);
    let span = jiff::Span::new().try_months(months).ok()?;
    Some(start.checked_add(span).ok()?.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Period, PeriodError> {
        s.parse()
    }

    #[test]
    fn every_unit_and_a_bare_number_of_days() {
        assert_eq!(
            p("30d"),
            Ok(Period {
                count: 30,
                unit: Unit::Day
            })
        );
        assert_eq!(
            p("2w"),
            Ok(Period {
                count: 2,
                unit: Unit::Week
            })
        );
        assert_eq!(
            p(" 3M "),
            Ok(Period {
                count: 3,
                unit: Unit::Month
            })
        );
        assert_eq!(
            p("1y"),
            Ok(Period {
                count: 1,
                unit: Unit::Year
            })
        );
        assert_eq!(
            p("12"),
            Ok(Period {
                count: 12,
                unit: Unit::Day
            })
        );
        assert_eq!(
            p("0d"),
            Ok(Period {
                count: 0,
                unit: Unit::Day
            })
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_named() {
        for bad in [
            "",
            "d",
            "-3d",
            "3x",
            "1.5y",
            "3 m",
            "30dd",
            "99999999999999999999d",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.text, bad);
        }
        assert!(p("3x")
            .unwrap_err()
            .to_string()
            .contains("30d, 2w, 3m or 1y"));
        assert!(p("101y").unwrap_err().to_string().contains("100 years"));
        assert!(p("100y").is_ok());
    }

    #[test]
    fn months_and_years_are_calendar_ones_in_china_time() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        // 2026-01-31 10:00 China time; one month on is the end of February.
        let from = at("2026-01-31T02:00:00Z");
        assert_eq!(p("1m").unwrap().after(from), at("2026-02-28T02:00:00Z"));
        assert_eq!(p("1y").unwrap().after(from), at("2027-01-31T02:00:00Z"));
        assert_eq!(p("2w").unwrap().after(from), at("2026-02-14T02:00:00Z"));
        assert_eq!(p("30d").unwrap().after(from), from + 30 * DAY_MS);
        // 2026-02-28 20:00 UTC is already March 1st in China: a month on is April 1st
        // there (in UTC it would have been March 28th).
        let late = at("2026-02-28T20:00:00Z");
        assert_eq!(p("1m").unwrap().after(late), at("2026-03-31T20:00:00Z"));
    }
}
