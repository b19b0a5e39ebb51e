pub mod aggregate;
pub mod classify;
pub mod forecast;
pub mod index;
pub mod network;
pub mod generate;
