//! Slow start.
