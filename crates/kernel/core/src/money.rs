//! Money is a decimal amount of CNY in code and integer fen (1/100 yuan) in storage.
//! Never `f64`: upstream prices like 0.1 + 0.2 must add up exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Written one way everywhere, tables and JSON alike: two decimals (`5000.00`), more
/// only for an amount with fractions of a fen (`0.005`), which is never rounded away.
/// Read from text only as [`plain_decimal`] writes amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A decimal as people and upstreams write amounts and percentages: an optional `-`,
/// digits, and optionally `.` with more digits (`100`, `-3.5`, `0.005`). Nothing else
/// that `Decimal::from_str` also takes — an exponent, `_`, `+`, a blank, a bare `.` —
/// because `1e3` typed for 13 would move a thousand. Too many digits to hold exactly
/// is refused, not rounded.
pub fn plain_decimal(text: &str) -> Option<Decimal> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    Decimal::from_str_exact(text).ok()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("not a money amount: {0:?}")]
    Parse(String),
    #[error("amount {0} has fractions of a fen")]
    SubFen(Decimal),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn from_fen(fen: i64) -> Self {
        Money(Decimal::new(fen, 2))
    }

    /// Exact conversion to fen; refuses amounts that would need rounding.
    pub fn to_fen(self) -> Result<i64, MoneyError> {
        let scaled = self
            .0
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(MoneyError::Overflow)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(MoneyError::SubFen(self.0));
        }
        i64::try_from(scaled).map_err(|_| MoneyError::Overflow)
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        plain_decimal(s)
            .map(Money)
            .ok_or_else(|| MoneyError::Parse(s.to_string()))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        write!(f, "{d}")
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_round_trip_is_exact() {
        let m: Money = "0.1".parse().unwrap();
        let n: Money = "0.2".parse().unwrap();
        assert_eq!((m + n).to_fen(), Ok(30));
        assert_eq!(Money::from_fen(12345).to_string(), "123.45");
    }

    #[test]
    fn written_one_way_in_text_and_json() {
        for (input, shown) in [
            ("5000", "5000.00"),
            ("4945.00", "4945.00"),
            ("4945.000", "4945.00"),
            ("0.1", "0.10"),
            ("-3", "-3.00"),
            ("-0.00", "0.00"),
            ("0.005", "0.005"),
        ] {
            let m: Money = input.parse().unwrap();
            assert_eq!(m.to_string(), shown, "{input}");
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{shown}\""));
            let back: Money = serde_json::from_str(&format!("\"{input}\"")).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn only_plain_decimals_are_amounts() {
        for text in [
            "1e3",
            "1E3",
            "1e-2",
            "1_000",
            "+5",
            " 5",
            "5 ",
            ".5",
            "5.",
            "-",
            "",
            "1.2.3",
            "--1",
            "0x10",
            "١٢",
            "NaN",
            "inf",
            "99999999999999999999999999999999",
        ] {
            assert!(text.parse::<Money>().is_err(), "{text:?}");
            assert!(
                serde_json::from_str::<Money>(&format!("{text:?}")).is_err(),
                "{text:?}"
            );
        }
        assert!(
            serde_json::from_str::<Money>("100").is_err(),
            "a JSON number"
        );
        assert_eq!("-0.50".parse::<Money>(), Ok(Money::from_fen(-50)));
        assert_eq!("007".parse::<Money>(), Ok(Money::from_fen(700)));
    }

    #[test]
    fn sub_fen_amounts_are_refused() {
        let m: Money = "1.005".parse().unwrap();
        assert!(matches!(m.to_fen(), Err(MoneyError::SubFen(_))));
        assert!("abc".parse::<Money>().is_err());
    }
}
