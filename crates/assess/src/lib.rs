//! vitalcore-assess
