//! Value parsers of command-line flags shared by several commands: a value outside what the
//! command can use is an error naming the flag (clap prefixes the flag and the value), never
//! clamped or reinterpreted silently (`--threads 0` used to mean all cores, `--shrink 0` one,
//! `--coarse-replicas 0` and `--alpha nan` ran to the end).

/// Most worker threads `--threads` accepts: beyond this a run spends its time creating
/// threads (`--threads 99999` took minutes before simulating anything).
pub const MAX_THREADS: u32 = 1024;

/// `--threads N`: 1..=[`MAX_THREADS`].
pub fn threads(s: &str) -> Result<u32, String> {
    let v: u32 = s.parse().map_err(|e| format!("{e}"))?;
    if !(1..=MAX_THREADS).contains(&v) {
        return Err(format!("must be between 1 and {MAX_THREADS} worker threads, got {v}"));
    }
    Ok(v)
}

/// A replica or round count of the coarse engine: 1..=u32::MAX.
pub fn count(s: &str) -> Result<u64, String> {
    let v: u64 = s.parse().map_err(|e| format!("{e}"))?;
    if v == 0 || v > u32::MAX as u64 {
        return Err(format!("must be between 1 and {}, got {v}", u32::MAX));
    }
    Ok(v)
}

/// A divisor or repetition count: at least 1.
pub fn positive(s: &str) -> Result<u64, String> {
    let v: u64 = s.parse().map_err(|e| format!("{e}"))?;
    if v == 0 {
        return Err("must be at least 1, got 0".into());
    }
    Ok(v)
}

/// [`positive`] as a u32.
pub fn positive_u32(s: &str) -> Result<u32, String> {
    let v: u32 = s.parse().map_err(|e| format!("{e}"))?;
    if v == 0 {
        return Err("must be at least 1, got 0".into());
    }
    Ok(v)
}

fn float(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|e| format!("{e}"))?;
    if !v.is_finite() {
        return Err(format!("must be a finite number, got {v}"));
    }
    Ok(v)
}

/// A test level: strictly between 0 and 1.
pub fn level(s: &str) -> Result<f64, String> {
    let v = float(s)?;
    if v <= 0.0 || v >= 1.0 {
        return Err(format!("must be strictly between 0 and 1, got {v}"));
    }
    Ok(v)
}

/// A tolerance: a finite number >= 0.
pub fn tolerance(s: &str) -> Result<f64, String> {
    let v = float(s)?;
    if v < 0.0 {
        return Err(format!("must be a finite number >= 0, got {v}"));
    }
    Ok(v)
}

/// A distance between distributions: in [0, 1].
pub fn distance(s: &str) -> Result<f64, String> {
    let v = float(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("must be between 0 and 1, got {v}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_are_errors_not_clamps() {
        assert_eq!(threads("2"), Ok(2));
        for bad in ["0", "99999", "-1", "x", "4294967296"] {
            assert!(threads(bad).is_err(), "{bad}");
        }
        assert!(count("0").is_err() && count("4294967296").is_err() && count("7") == Ok(7));
        assert!(positive("0").is_err() && positive("3") == Ok(3));
        for bad in ["nan", "inf", "0", "1", "-0.1", "x"] {
            assert!(level(bad).is_err(), "{bad}");
        }
        assert_eq!(level("0.001"), Ok(0.001));
        assert!(tolerance("-1").is_err() && tolerance("inf").is_err() && tolerance("0") == Ok(0.0));
        assert!(distance("1.5").is_err() && distance("nan").is_err() && distance("0.25") == Ok(0.25));
    }
}
