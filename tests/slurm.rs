//! `ictwin slurm --submit` on a real one-node Slurm cluster (`tests/slurm/cluster.sh`: installs
//! slurm-wlm and munge, starts munged, slurmctld and slurmd on localhost, submits a 4-task
//! array and its merge job, checks the merged run against the unsharded one, stops the daemons
//! by pid). Skipped without root or apt-get unless `ICTWIN_REQUIRE_SLURM=1` (set by `.ci/run`).

use std::process::Command;

#[test]
fn slurm_array_of_shards_merges_to_the_unsharded_run() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slurm/cluster.sh");
    let work = std::env::temp_dir().join(format!("ictwin-slurm-{}", std::process::id()));
    let o = Command::new("bash")
        .args([script, env!("CARGO_BIN_EXE_ictwin"), work.to_str().unwrap()])
        .output()
        .expect("run tests/slurm/cluster.sh");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let required = std::env::var("ICTWIN_REQUIRE_SLURM").is_ok_and(|v| v == "1");
    if o.status.code() == Some(77) && !required {
        eprintln!("SKIPPED: {}", log.trim());
        return;
    }
    assert!(o.status.success(), "Slurm cluster test failed:\n{log}");
    assert!(log.contains("PASSED"), "{log}");
    let _ = std::fs::remove_dir_all(&work);
}
