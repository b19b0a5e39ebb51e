//! vitalcore-forecast
