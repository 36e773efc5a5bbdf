//! Tests of [`super::OutDir`]: an error or a kill injected at every step of a commit leaves the
//! directory all old or, once the next open has recovered it, all new.

use super::*;
use std::collections::BTreeMap;

/// Every file under `dir`, hidden ones included, with its contents.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn files(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn names_with_subdirectories_are_written_and_escapes_refused() {
    let dir = tempfile::tempdir().unwrap();
    let new = files(&[("top.csv", "a\n"), ("scenarios/x.toml", "b\n")]);
    OutDir::open(dir.path()).unwrap().commit(&new).unwrap();
    let want: BTreeMap<String, String> = new.iter().cloned().collect();
    assert_eq!(tree(dir.path()), want, "exactly the files, no temporary ones");
    for bad in ["../x.csv", "/tmp/x.csv", "a/../../x.csv", ""] {
        let e = OutDir::open(dir.path())
            .unwrap()
            .commit(&files(&[(bad, "")]))
            .unwrap_err();
        assert!(format!("{e}").contains("relative path"), "{bad}: {e}");
    }
    assert_eq!(tree(dir.path()), want);
}

/// The steps of a commit of `n` files, in order.
fn steps(n: usize) -> Vec<Step> {
    let mut v: Vec<Step> = (0..n).map(Step::Write).collect();
    v.push(Step::Journal);
    v.extend((0..n).map(Step::Rename));
    v.push(Step::Finish);
    v
}

#[test]
fn an_error_or_a_kill_at_any_step_leaves_all_old_or_all_new() {
    let old = [("a.csv", "old a"), ("sub/b.csv", "old b"), ("keep.txt", "not ours")];
    let new = files(&[("a.csv", "new a"), ("sub/b.csv", "new b"), ("c.csv", "new c")]);
    let all_old: BTreeMap<String, String> = files(&old).into_iter().collect();
    let mut all_new = all_old.clone();
    all_new.extend(new.iter().cloned());
    for at in steps(new.len()) {
        for kill in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            OutDir::open(dir.path()).unwrap().commit(&files(&old)).unwrap();
            let mut fault = |s: Step| {
                (s == at).then(|| match kill {
                    true => Fault::Kill,
                    false => Fault::Error(std::io::Error::other("disk full")),
                })
            };
            let e = OutDir::open(dir.path())
                .unwrap()
                .commit_with(&new, &mut fault)
                .unwrap_err();
            let committed = at != Step::Journal && !matches!(at, Step::Write(_));
            let case = format!("{at:?}, kill {kill}");
            if !kill {
                let msg = format!("{e:#}");
                assert!(
                    msg.contains("disk full") && msg.contains(&dir.path().display().to_string()),
                    "{case}: {msg}"
                );
            }
            if !committed && !kill {
                assert_eq!(
                    tree(dir.path()),
                    all_old,
                    "{case}: an error before the commit point cleans up"
                );
            }
            // The next open (any later run into the directory) finishes or discards the write.
            drop(OutDir::open(dir.path()).unwrap());
            let want = if committed { &all_new } else { &all_old };
            assert_eq!(&tree(dir.path()), want, "{case}");
        }
    }
}

#[test]
fn a_second_writer_fails_at_once_and_a_failed_run_removes_what_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let first = OutDir::open(dir.path()).unwrap();
    let e = OutDir::open(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("another ictwin process") && e.contains(&dir.path().display().to_string()),
        "{e}"
    );
    drop(first);
    let nested = dir.path().join("x/y");
    drop(OutDir::open(&nested).unwrap());
    assert!(
        !dir.path().join("x").exists(),
        "directories created for a run that wrote nothing remain"
    );
    std::fs::create_dir_all(dir.path().join("d/summary.csv")).unwrap();
    let e = OutDir::open(&dir.path().join("d"))
        .unwrap()
        .commit(&files(&[("summary.csv", "x")]));
    assert!(e.unwrap_err().to_string().contains("is a directory"));
    assert!(!dir.path().join("d/.ictwin-staging").exists());
}
