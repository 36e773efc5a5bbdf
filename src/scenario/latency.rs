//! `[network] latency_matrix`: a subnet's per-pair one-way base latencies (its geography),
//! read from a CSV file relative to the scenario file.
//!
//! Format: n rows of n comma-separated numbers, ms; row = sender, column = receiver (so the
//! matrix may be asymmetric); the diagonal is ignored (a node's own artifacts take no delay)
//! but must still be a number >= 0. Blank lines and lines starting with `#` are skipped.
//! With a matrix, every message from s to r takes B[s][r] plus a draw of `[network] delay`
//! (then the per-message jitter) in both engines. `ictwin topology latency` writes such files
//! from a topology's data centers ([`crate::topology::latency`]).

use std::path::Path;

/// Largest entry, ms: the engines hold base latencies in u32 µs (about 71.6 minutes).
pub const MAX_LATENCY_MS: f64 = u32::MAX as f64 / 1000.0;

/// A loaded latency matrix, ms (n x n, row = sender, column = receiver, diagonal 0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyMatrix {
    /// Row-major entries, ms; `ms[s * n + r]` is the base latency from s to r.
    pub ms: Vec<f64>,
    /// n.
    pub n: u32,
}

impl LatencyMatrix {
    /// The base latency from `sender` to `receiver`, ms (0 on the diagonal).
    pub fn get(&self, sender: u32, receiver: u32) -> f64 {
        self.ms[(sender * self.n + receiver) as usize]
    }

    /// Every entry in whole µs (rounded), row-major: what both engines add per message.
    pub fn table_us(&self) -> Vec<u32> {
        self.ms.iter().map(|&ms| (ms * 1000.0).round() as u32).collect()
    }

    /// Parses matrix text for a subnet of `n` nodes; `origin` names the file in errors, which
    /// say `origin:line:column` (1-based; column = the field's position in its row).
    pub fn parse(text: &str, origin: &str, n: u32) -> Result<Self, String> {
        let mut ms = Vec::with_capacity((n * n) as usize);
        let mut rows = 0u32;
        let mut last_line = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            last_line = i + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if rows == n {
                return Err(format!(
                    "{origin}:{}: more than the {n} rows of `subnet.nodes` = {n}",
                    i + 1
                ));
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != n as usize {
                return Err(format!(
                    "{origin}:{}: row {} has {} columns, expected {n} (`subnet.nodes`)",
                    i + 1,
                    rows + 1,
                    fields.len()
                ));
            }
            for (c, f) in fields.iter().enumerate() {
                let v: f64 = f
                    .parse()
                    .map_err(|_| format!("{origin}:{}:{}: not a number: `{f}`", i + 1, c + 1))?;
                if !v.is_finite() || !(0.0..=MAX_LATENCY_MS).contains(&v) {
                    return Err(format!(
                        "{origin}:{}:{}: latency must be a finite number of ms between 0 and {MAX_LATENCY_MS}, got {f}",
                        i + 1,
                        c + 1
                    ));
                }
                ms.push(if c as u32 == rows { 0.0 } else { v });
            }
            rows += 1;
        }
        if rows != n {
            return Err(format!(
                "{origin}:{last_line}: {rows} rows, expected {n} (`subnet.nodes`)"
            ));
        }
        Ok(LatencyMatrix { ms, n })
    }

    /// Reads `file` (relative to `base_dir`) for a subnet of `n` nodes.
    pub fn load(file: &str, base_dir: &Path, n: u32) -> Result<Self, String> {
        let path = base_dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string(), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_zeroes_the_diagonal() {
        let m = LatencyMatrix::parse("# c\n5, 1.5\n\n2.25,7\n", "m.csv", 2).unwrap();
        assert_eq!(m.ms, vec![0.0, 1.5, 2.25, 0.0]);
        assert_eq!(m.table_us(), vec![0, 1500, 2250, 0]);
        assert_eq!(m.get(1, 0), 2.25);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = |t: &str| LatencyMatrix::parse(t, "m.csv", 2).unwrap_err();
        assert!(
            e("0,1\n1,x\n").starts_with("m.csv:2:2: not a number"),
            "{}",
            e("0,1\n1,x\n")
        );
        assert!(e("0,-1\n1,0\n").starts_with("m.csv:1:2: latency must"));
        assert!(e("0,NaN\n1,0\n").starts_with("m.csv:1:2: latency must"));
        assert!(e("0,inf\n1,0\n").starts_with("m.csv:1:2: latency must"));
        assert!(e("0,1,2\n1,0\n").starts_with("m.csv:1: row 1 has 3 columns, expected 2"));
        assert!(e("0,1\n").starts_with("m.csv:1: 1 rows, expected 2"));
        assert!(e("0,1\n1,0\n2,2\n").starts_with("m.csv:3: more than the 2 rows"));
    }
}
