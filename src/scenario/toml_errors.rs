//! Locating toml parser errors: the line, and the key (the parser's key path for type and
//! range errors, else the key written on the error's line).

/// `:line` of a toml parse error (empty if the parser gave no position).
pub fn toml_error_location(text: &str, e: &toml::de::Error) -> String {
    e.span()
        .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
        .unwrap_or_default()
}

/// The message of a toml error, prefixed with the key it concerns (`key `subnet.nodes`:
/// invalid type: string "x", expected u32`): the parser's key path for type and range errors,
/// else the key written on the error's line (syntax errors such as `x = 1e6.5`), so that every
/// error names its key, not only its line. `text` is the parsed document.
pub fn toml_error_message(text: &str, e: &toml::de::Error) -> String {
    // The parser's key path is private; its Display prints it (as "in `a.b`") when the error
    // carries no input text.
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let key = shown
        .lines()
        .find_map(|l| l.strip_prefix("in `").and_then(|k| k.strip_suffix('`')));
    let key = key
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .or_else(|| e.span().and_then(|s| key_on_line(text, s.start)));
    match key {
        Some(k) => format!("key `{k}`: {}", e.message().trim()),
        None => e.message().trim().to_string(),
    }
}

/// `table.key` of the `key = value` line holding byte `offset` of `text` (None on a table
/// header, a comment or a line without `=`).
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || key.starts_with(['[', '#']) {
        return None;
    }
    let table = text[..start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(['[', ']']).trim().to_string())
    });
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse;
    use std::path::Path;

    fn parse_err(text: &str) -> String {
        format!("{:#}", parse(text, "x.toml", Path::new(".")).unwrap_err())
    }

    /// Type and range errors of the toml parser name the key, not only the line.
    #[test]
    fn parser_errors_name_the_key() {
        for (text, want) in [
            (
                "name = \"a\"\n[subnet]\nnodes = \"many\"\n",
                "x.toml:3: key `subnet.nodes`",
            ),
            ("name = \"a\"\n[subnet]\nnodes = -1\n", "x.toml:3: key `subnet.nodes`"),
            (
                "name = \"a\"\n[subnet]\nnodes = 4\n[run]\nseed = -1\n",
                "x.toml:5: key `run.seed`",
            ),
            (
                "name = \"a\"\n[subnet]\nnodes = 4\n[fine.costs]\nsign_us = \"x\"\n",
                "x.toml:5: key `fine.costs.sign_us`",
            ),
            (
                "name = \"a\"\n[subnet]\nnodes = 4\nunit_delay_ms = 1e6.5\n",
                "x.toml:4: key `subnet.unit_delay_ms`",
            ),
        ] {
            let e = parse_err(text);
            assert!(e.starts_with(want), "{e}");
        }
    }
}
