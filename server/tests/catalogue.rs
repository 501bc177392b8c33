//! `docs/security.md` names real tests: every `path::name` in its tables is a
//! test that exists (a `#[test]`/`#[tokio::test]` fn in that Rust file, or a
//! Playwright `test('title'` in that spec), and every row cites an OWASP ASVS
//! requirement. Rows under the heading "## Planned" are not checked.

use std::path::{Path, PathBuf};

const CATALOGUE: &str = "docs/security.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A data row of a table: its line number, its cells, and which cell is the
/// ASVS column (from the table's header), if it has one.
struct Row {
    line: usize,
    cells: Vec<String>,
    asvs: Option<usize>,
}

/// The data rows of every table above "## Planned" (headers and separators skipped).
fn rows(doc: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut header: Option<Option<usize>> = None;
    for (i, line) in doc.lines().enumerate() {
        let line = line.trim();
        if line.starts_with("## Planned") {
            break;
        }
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect();
        let Some(asvs) = header else {
            header = Some(cells.iter().position(|c| c.contains("ASVS")));
            continue;
        };
        if cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| "-: ".contains(ch)))
        {
            continue;
        }
        rows.push(Row {
            line: i + 1,
            cells,
            asvs,
        });
    }
    rows
}

/// `V6.3.1`, `V6.3` or `V6`: a chapter, section or requirement id.
fn is_asvs_id(token: &str) -> bool {
    let token = token.trim_matches(|c: char| c == ',' || c == ';' || c == '*');
    token.strip_prefix('V').is_some_and(|rest| {
        rest.split('.')
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Every `path::name` in backticks in the row's cells.
fn references(row: &Row) -> Vec<(String, String)> {
    row.cells
        .iter()
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter_map(|code| code.split_once("::"))
        .map(|(path, name)| (path.to_owned(), name.to_owned()))
        .collect()
}

/// Whether `source` holds a test function `name`: a `fn name(` line whose
/// previous non-blank line is a test attribute.
fn has_rust_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    let call = format!("{name}(");
    lines.iter().enumerate().any(|(i, line)| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let defines = words
            .windows(2)
            .any(|w| w[0] == "fn" && w[1].starts_with(&call));
        let attribute = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .is_some_and(|l| l.starts_with("#[") && l.contains("test"));
        defines && attribute
    })
}

/// Whether `source` holds a Playwright test with exactly this title.
fn has_spec_test(source: &str, title: &str) -> bool {
    ['\'', '"']
        .iter()
        .any(|q| source.contains(&format!("test({q}{title}{q}")))
}

/// What is wrong with one reference, if anything.
fn check(path: &str, name: &str) -> Option<String> {
    let Ok(source) = std::fs::read_to_string(root().join(path)) else {
        return Some(format!("`{path}` does not exist"));
    };
    let found = if path.ends_with(".rs") {
        has_rust_test(&source, name)
    } else if path.ends_with(".spec.ts") {
        has_spec_test(&source, name)
    } else {
        return Some(format!("`{path}` is neither a .rs file nor a .spec.ts"));
    };
    (!found).then(|| format!("`{path}` has no test `{name}`"))
}

#[test]
fn every_test_the_security_catalogue_names_exists_and_every_row_cites_asvs() {
    let doc =
        std::fs::read_to_string(root().join(CATALOGUE)).expect("docs/security.md is readable");
    let rows = rows(&doc);
    let mut problems = Vec::new();
    let mut checked = 0;
    for row in &rows {
        let at = format!("{CATALOGUE}:{}", row.line);
        match row.asvs.and_then(|i| row.cells.get(i)) {
            None => problems.push(format!("{at}: the table has no ASVS column")),
            Some(cell) if !cell.split_whitespace().any(is_asvs_id) => {
                problems.push(format!("{at}: no ASVS id (like V6.3.1) in `{cell}`"));
            }
            Some(_) => {}
        }
        let refs = references(row);
        if refs.is_empty() {
            problems.push(format!("{at}: names no test (`path::name`)"));
        }
        for (path, name) in refs {
            checked += 1;
            if let Some(problem) = check(&path, &name) {
                problems.push(format!("{at}: {problem}"));
            }
        }
    }
    assert!(
        rows.len() >= 10,
        "only {} rows found in {CATALOGUE}",
        rows.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems ({checked} references in {} rows):\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}
