//! In-memory ports with a fixed clock and seeded randomness, for tests and examples.
//! (Being written.)
