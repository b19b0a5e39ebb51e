//! vitalcore-network
