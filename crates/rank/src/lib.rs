//! Ranking: pure functions that order papers. No IO, and the current time is always a
//! parameter, so every score can be reproduced and tested.

pub mod recommend;
pub mod trending;
