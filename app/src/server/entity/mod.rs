//! SeaORM entities: the tables as the migrations define them, and nothing else.

pub mod refresh_token;
pub mod session;
pub mod user;
