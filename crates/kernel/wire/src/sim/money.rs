//! Account money as the simulated upstreams keep it: yuan as a [`Decimal`], printed
//! with two decimals, taken from a balance only when the balance covers it.

use rust_decimal::Decimal;

/// `units` yuan and `cents` fen.
pub fn yuan(units: i64, cents: i64) -> Decimal {
    Decimal::new(units * 100 + cents, 2)
}

/// Money as the upstreams print it: a string with two decimals.
pub fn two_dp(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// A charge the balance does not cover: what it needed and what there was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    pub needed: Decimal,
    pub available: Decimal,
}

/// Takes `amount` from `balance`; [`Short`] (and nothing taken) when the balance is less.
pub fn debit(balance: &mut Decimal, amount: Decimal) -> Result<(), Short> {
    if amount > *balance {
        return Err(Short {
            needed: amount,
            available: *balance,
        });
    }
    *balance -= amount;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_with_two_decimals_and_debits_need_cover() {
        assert_eq!(yuan(9, 99), Decimal::new(999, 2));
        assert_eq!(two_dp(Decimal::new(12345, 3)), "12.34", "half to even");
        assert_eq!(two_dp(yuan(3, 0)), "3.00");
        let mut balance = yuan(10, 0);
        let short = debit(&mut balance, yuan(10, 1));
        assert_eq!(
            short,
            Err(Short {
                needed: yuan(10, 1),
                available: yuan(10, 0)
            })
        );
        assert_eq!(balance, yuan(10, 0));
        assert_eq!(debit(&mut balance, yuan(9, 99)), Ok(()));
        assert_eq!(balance, yuan(0, 1));
    }
}
