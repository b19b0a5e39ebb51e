//! vitalcore-server
