//! Driving a real browser from the tests.

pub mod webdriver;
