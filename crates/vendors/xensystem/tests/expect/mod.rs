//! What a failed call must have been, in one line: `r.refused("上限")`, `r.not_found()`,
//! `r.invalid("vcode")`.

#![allow(dead_code)]

use idcgate_core::Error;
use std::fmt::Debug;

pub trait Expect {
    /// Refused by the panel (`-1 message`) with a message containing `words`.
    fn refused(self, words: &str);
    /// Refused as naming nothing that exists.
    fn not_found(self);
    /// Refused as invalid input naming `field`.
    fn invalid(self, field: &str);
}

impl<T: Debug> Expect for Result<T, Error> {
    #[track_caller]
    fn refused(self, words: &str) {
        match self {
            Err(Error::Upstream { message, .. }) => {
                assert!(message.contains(words), "{message:?} lacks {words:?}")
            }
            other => panic!("expected a refusal saying {words:?}, got {other:?}"),
        }
    }

    #[track_caller]
    fn not_found(self) {
        assert!(
            matches!(self, Err(Error::NotFound { .. })),
            "expected not found, got {self:?}"
        );
    }

    #[track_caller]
    fn invalid(self, field: &str) {
        assert!(
            matches!(&self, Err(Error::InvalidInput { field: f, .. }) if f == field),
            "expected invalid {field}, got {self:?}"
        );
    }
}
