//! DNS and server operations (see issue 6).
