//! Fuzz (property) tests of every input a user gives ictwin (issue 14, Goal): scenario files
//! (every key of every table, `[fine]` and `[fine.costs]` included), `--calibration` files and
//! command-line flags, with random values and types (NaN, ±inf, huge, negative, zero, tiny,
//! strings, arrays, tables, dates), missing keys, missing tables, unknown and duplicate keys.
//!
//! The property, for every case: no panic, no hang, no silent clamp; either an error that
//! names the file, line and key (or the flag), or a run whose results are right (the values
//! the engines use are the values written, and the run's aggregates are consistent).
//!
//! The generator is a seeded SplitMix64 loop rather than proptest: no new dependency, the
//! case sequence is fixed forever (independent of any crate's RNG), and a failure prints the
//! case number and the exact input to rerun. Shrinking is not needed: every case is a base
//! scenario with one to three mutations, already small. All failures of a module are
//! collected and reported together, so one run lists every defect class it meets.

mod calibration;
mod flags;
mod gen;
mod mutate;
mod scenario;
