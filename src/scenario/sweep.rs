//! Parameter sweeps over scenario keys: the `[sweep]` table, `KEY=VALUES` axes, their points
//! (grid or zip), the derived seed of a point and the point's directory name.
//!
//! ```toml
//! [sweep]                     # read only by `ictwin sweep` (other commands check and ignore it)
//! set = ["network.delay.median_ms=20,50,100", "faults.crashed=0..4"]
//! zip = false                 # false: grid (cartesian product, first key slowest); true: aligned lists
//! ```
//!
//! An axis is `KEY=VALUES`: a dotted scenario key and comma-separated values, each a TOML
//! scalar (`20`, `0.5`, `true`, `"constant"`; a bare word is a string) or an inclusive range
//! `A..B` or `A..B:STEP` of plain decimals (`0..4` = 0,1,2,3,4; `0.5..1.5:0.5` = 0.5,1.0,1.5;
//! integers when all three are integers). Applying a value to a scenario document is
//! [`apply`]; the scenario checks run on the result ([`super::parse`]).

use serde::{Deserialize, Serialize};
use toml::Value;

/// Most values one axis may have (ranges included).
pub const MAX_AXIS_VALUES: usize = 10_000;
/// Most points a sweep may have.
pub const MAX_POINTS: usize = 100_000;

/// The `[sweep]` table of a scenario file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepTable {
    /// Axes, `KEY=VALUES` each (the syntax of `ictwin sweep --set`).
    #[serde(default)]
    pub set: Vec<String>,
    /// `true`: aligned lists (point i takes the i-th value of every axis); `false`: grid.
    #[serde(default)]
    pub zip: bool,
}

impl SweepTable {
    /// Checks the syntax of every axis and, for `zip`, equal lengths; returns the index into
    /// `set` of the offending entry (or `None` for the table) and what is wrong.
    pub fn check(&self) -> Result<(), (Option<usize>, String)> {
        let axes = self
            .set
            .iter()
            .enumerate()
            .map(|(i, s)| Axis::parse(s).map_err(|e| (Some(i), e)))
            .collect::<Result<Vec<_>, _>>()?;
        points(&axes, self.zip).map(|_| ()).map_err(|e| (None, e))
    }
}

/// One swept key and its values, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted scenario key, e.g. `network.delay.median_ms`.
    pub key: String,
    /// The values, distinct, in the order given (ranges expanded).
    pub values: Vec<Value>,
}

impl Axis {
    /// Parses `KEY=VALUES` (see the module doc); the error says what is wrong with which part.
    pub fn parse(spec: &str) -> Result<Axis, String> {
        let Some((key, values)) = spec.split_once('=') else {
            return Err(format!("`{spec}`: expected KEY=VALUES, e.g. faults.crashed=0..4"));
        };
        let key = key.trim();
        let ok_segment =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key.split('.').all(ok_segment) {
            return Err(format!(
                "`{spec}`: `{key}` is not a dotted scenario key (letters, digits, `_`, `-` between dots)"
            ));
        }
        let mut out: Vec<Value> = Vec::new();
        for item in values.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(format!("`{spec}`: empty value"));
            }
            let new = match parse_range(item) {
                Some(r) => r.map_err(|e| format!("`{spec}`: range `{item}`: {e}"))?,
                None => vec![parse_scalar(item).map_err(|e| format!("`{spec}`: value `{item}`: {e}"))?],
            };
            for v in new {
                if out.iter().any(|o| value_text(o) == value_text(&v)) {
                    return Err(format!("`{spec}`: value {} appears twice", value_text(&v)));
                }
                out.push(v);
                if out.len() > MAX_AXIS_VALUES {
                    return Err(format!("`{spec}`: more than {MAX_AXIS_VALUES} values"));
                }
            }
        }
        Ok(Axis {
            key: key.to_string(),
            values: out,
        })
    }
}

/// A TOML scalar, or a bare word taken as a string.
fn parse_scalar(item: &str) -> Result<Value, String> {
    match toml::from_str::<toml::Table>(&format!("v = {item}")) {
        Ok(mut t) => match t.remove("v") {
            Some(v @ (Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::String(_))) => Ok(v),
            Some(_) => Err("only numbers, booleans and strings can be swept".into()),
            None => Err("not a value".into()),
        },
        Err(_)
            if item.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                && !item.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') =>
        {
            Ok(Value::String(item.to_string()))
        }
        Err(_) => Err("not a TOML number, boolean or string (quote strings with spaces)".into()),
    }
}

/// A plain decimal `[-]digits[.digits]` as (scaled integer, decimals).
fn decimal(s: &str) -> Option<(i128, u32)> {
    let (neg, body) = s.strip_prefix('-').map_or((false, s), |b| (true, b));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) || frac.len() > 9 {
        return None;
    }
    let v: i128 = format!("{int}{frac}").parse().ok()?;
    Some((if neg { -v } else { v }, frac.len() as u32))
}

/// `A..B[:STEP]` expanded (inclusive), or `None` when `item` is not a range.
fn parse_range(item: &str) -> Option<Result<Vec<Value>, String>> {
    let (a, rest) = item.split_once("..")?;
    let (b, step) = rest.split_once(':').unwrap_or((rest, "1"));
    let parts: Vec<&str> = [a, b, step].iter().map(|s| s.trim()).collect();
    let mut nums = Vec::new();
    for p in &parts {
        match decimal(p) {
            Some(d) => nums.push(d),
            None => return Some(Err(format!("`{p}` is not a plain decimal number (A..B or A..B:STEP)"))),
        }
    }
    let scale = nums.iter().map(|n| n.1).max().unwrap_or(0);
    let [a, b, step] = [0, 1, 2].map(|i| nums[i].0 * 10i128.pow(scale - nums[i].1));
    if step <= 0 {
        return Some(Err("STEP must be above 0".into()));
    }
    if a > b {
        return Some(Err("A must not exceed B".into()));
    }
    let count = (b - a) / step + 1;
    if count > MAX_AXIS_VALUES as i128 {
        return Some(Err(format!("more than {MAX_AXIS_VALUES} values")));
    }
    let float = parts.iter().any(|p| p.contains('.'));
    let div = 10f64.powi(scale as i32);
    Some(
        (0..count)
            .map(|i| {
                let x = a + i * step;
                if float {
                    Ok(Value::Float(x as f64 / div))
                } else {
                    i64::try_from(x)
                        .map(Value::Integer)
                        .map_err(|_| "out of range".to_string())
                }
            })
            .collect(),
    )
}

/// A value as it appears in `sweep.csv`, directory names and the seed rule: numbers and
/// booleans as TOML writes them (`20`, `20.0`, `true`), strings without quotes.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The points of a sweep: each a list of (key, value) in axis order. Grid: the cartesian
/// product, first axis slowest; zip: the i-th value of every axis (equal lengths needed).
/// Keys must be distinct; at most [`MAX_POINTS`] points.
pub fn points(axes: &[Axis], zip: bool) -> Result<Vec<Vec<(String, Value)>>, String> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(format!("key `{}` is swept twice", a.key));
        }
    }
    if axes.is_empty() {
        return Ok(Vec::new());
    }
    if zip {
        let n = axes[0].values.len();
        if let Some(a) = axes.iter().find(|a| a.values.len() != n) {
            return Err(format!(
                "zip needs lists of equal length: `{}` has {n} values, `{}` has {}",
                axes[0].key,
                a.key,
                a.values.len()
            ));
        }
        return Ok((0..n)
            .map(|i| axes.iter().map(|a| (a.key.clone(), a.values[i].clone())).collect())
            .collect());
    }
    let total = axes.iter().try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()));
    if total.is_none_or(|t| t > MAX_POINTS) {
        return Err(format!("the grid has more than {MAX_POINTS} points"));
    }
    let mut out: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((a.key.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    Ok(out)
}

/// FNV-1a, 64 bits.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's output function (Steele, Lea, Flood 2014).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of a sweep point: splitmix64(FNV-1a-64(text)), where text is the base seed in
/// decimal followed, for each of the point's `key=value` strings sorted bytewise, by a newline
/// and the string (values as [`value_text`]). It depends on the base seed and the point's own
/// values only, so adding or removing points changes no other point.
pub fn derived_seed(base: u64, values: &[(String, Value)]) -> u64 {
    let mut kv: Vec<String> = values.iter().map(|(k, v)| format!("{k}={}", value_text(v))).collect();
    kv.sort();
    let mut text = base.to_string();
    for s in &kv {
        text.push('\n');
        text.push_str(s);
    }
    splitmix64(fnv1a64(text.as_bytes()))
}

/// The directory of point `index` inside a sweep directory: `points/<index>-<slug>`, the slug
/// being `<last key segment>-<value>` per axis joined by `_` (characters other than
/// letters, digits, `.`, `+`, `-` replaced by `_`; at most 80 characters).
pub fn point_dir(index: usize, values: &[(String, Value)]) -> String {
    let slug: String = values
        .iter()
        .map(|(k, v)| format!("{}-{}", k.rsplit('.').next().unwrap_or(k), value_text(v)))
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".+-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("points/{index}-{slug}")
}

/// Sets the dotted `key` of a scenario document to `value`, keeping the document's layout
/// (an existing key keeps its line; a missing key is added at the end of its table, a
/// missing table at the end of the document). Returns whether the key was added (lines
/// after it moved). Errors when a prefix of the key is not a table.
pub fn apply(doc: &mut toml_edit::DocumentMut, key: &str, value: &Value) -> Result<bool, String> {
    let new: toml_edit::Value = value
        .to_string()
        .parse()
        .map_err(|e| format!("key `{key}`: cannot write {value}: {e}"))?;
    let segments: Vec<&str> = key.split('.').collect();
    let (last, parents) = segments.split_last().ok_or_else(|| format!("empty key `{key}`"))?;
    let mut cur: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for (i, seg) in parents.iter().enumerate() {
        if cur.get(seg).is_none() {
            let fresh = if i == 0 {
                toml_edit::Item::Table(toml_edit::Table::new())
            } else {
                toml_edit::Item::Value(toml_edit::Value::InlineTable(toml_edit::InlineTable::new()))
            };
            cur.insert(seg, fresh);
        }
        let prefix = segments[..=i].join(".");
        cur = cur
            .get_mut(seg)
            .and_then(toml_edit::Item::as_table_like_mut)
            .ok_or_else(|| format!("key `{key}`: `{prefix}` is a value, not a table"))?;
    }
    let mut new = new;
    if let Some(old) = cur
        .get(last)
        .and_then(toml_edit::Item::as_value)
        .filter(|v| !v.is_inline_table())
    {
        *new.decor_mut() = old.decor().clone();
    } else if cur.get(last).is_some() {
        return Err(format!("key `{key}` is a table; sweep one of its keys"));
    }
    Ok(cur.insert(last, toml_edit::Item::Value(new)).is_none())
}

#[cfg(test)]
#[path = "sweep_tests.rs"]
mod tests;
