//! Money is a decimal amount of CNY in code and integer fen (1/100 yuan) in storage.
//! Never `f64`: upstream prices like 0.1 + 0.2 must add up exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Written one way everywhere, tables and JSON alike: two decimals (`5000.00`), more
/// only for an amount with fractions of a fen (`0.005`), which is never rounded away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(transparent)]
pub struct Money(#[serde(deserialize_with = "rust_decimal::serde::str::deserialize")] pub Decimal);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
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
        Decimal::from_str(s.trim())
            .map(Money)
            .map_err(|_| MoneyError::Parse(s.to_string()))
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
    fn sub_fen_amounts_are_refused() {
        let m: Money = "1.005".parse().unwrap();
        assert!(matches!(m.to_fen(), Err(MoneyError::SubFen(_))));
        assert!("abc".parse::<Money>().is_err());
    }
}
