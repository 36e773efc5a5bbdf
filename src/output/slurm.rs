//! The Slurm scripts of `ictwin slurm`: a job array whose task k runs one command with
//! `TASK=k` (a shard of a run, or any other unit of work such as a sweep point), and a job
//! that runs after every task succeeded (the merge). Plain, commented bash, so that users can
//! read and adapt them:
//!
//! - `shards.sbatch`: the job array, `--array=0-(N-1)`, log `logs/task-<k>.out`;
//! - `merge.sbatch`: the final job, log `logs/merge.out`;
//! - `submit.sh`: creates `logs/`, submits the array with `sbatch --parsable`, then the
//!   final job with `--dependency=afterok:<array id>`, and prints both job ids as
//!   `tasks job <id>` and `merge job <id>`.
//!
//! The commands are given as shell text (quote arguments with [`shell_quote`]); they may use
//! `$TASK`. Every path in them should be absolute: the jobs run on other machines.

use std::path::Path;

/// Script file names, in the order [`scripts`] returns them.
pub const TASKS_SCRIPT: &str = "shards.sbatch";
/// The dependent final job.
pub const MERGE_SCRIPT: &str = "merge.sbatch";
/// Submits both.
pub const SUBMIT_SCRIPT: &str = "submit.sh";

/// A job array plus a final job that runs when all its tasks succeeded.
#[derive(Clone, Debug)]
pub struct ArrayJob {
    /// Slurm job name of the array; the final job gets `<name>-merge`.
    pub name: String,
    /// Comment lines at the top of each script: what the job computes.
    pub description: Vec<String>,
    /// Array tasks, at least 1; task ids `0..tasks`.
    pub tasks: u32,
    /// Shell command of one task; `$TASK` holds its id.
    pub task_command: String,
    /// Shell command of the final job.
    pub merge_command: String,
    /// The job's directory (absolute; no spaces: `#SBATCH` lines are not shell-quoted):
    /// scripts, `logs/`, and whatever the commands write.
    pub dir: String,
    /// `--partition`, when given.
    pub partition: Option<String>,
    /// `--time` limit per task and for the final job (Slurm syntax, e.g. `01:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` of each array task (the final job takes 1).
    pub cpus_per_task: u32,
}

/// `s` quoted for bash when it holds anything but letters, digits and `-_./=:,+%@`.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `path` as shell text (lossy for non-UTF-8 names), quoted.
pub fn shell_path(path: &Path) -> String {
    shell_quote(&path.to_string_lossy())
}

fn header(job: &ArrayJob, what: &str) -> String {
    let mut s = String::from("#!/bin/bash\n");
    for line in &job.description {
        s += &format!("# {line}\n");
    }
    s += &format!("# {what}\n");
    s += "# Written by `ictwin slurm`: plain Slurm and bash, edit as you need.\n";
    s
}

fn sbatch_options(job: &ArrayJob, name: &str, log: &str, cpus: u32) -> String {
    let mut s = format!("#SBATCH --job-name={}\n", shell_quote(name));
    s += &format!("#SBATCH --output={}/logs/{log}\n", job.dir);
    s += "#SBATCH --ntasks=1\n";
    s += &format!("#SBATCH --cpus-per-task={cpus}\n");
    if let Some(p) = &job.partition {
        s += &format!("#SBATCH --partition={}\n", shell_quote(p));
    }
    if let Some(t) = &job.time {
        s += &format!("#SBATCH --time={}\n", shell_quote(t));
    }
    s
}

/// The three scripts (file name, text): [`TASKS_SCRIPT`], [`MERGE_SCRIPT`], [`SUBMIT_SCRIPT`].
pub fn scripts(job: &ArrayJob) -> Vec<(String, String)> {
    let n = job.tasks.max(1);
    let tasks = format!(
        "{}{}#SBATCH --array=0-{}\n\nset -euo pipefail\n# This task's id, 0..{}.\nTASK=${{SLURM_ARRAY_TASK_ID:?run me with sbatch (or set SLURM_ARRAY_TASK_ID)}}\n{}\n",
        header(job, &format!("Job array of {n} tasks: task k runs the command below with TASK=k.")),
        sbatch_options(job, &job.name, "task-%a.out", job.cpus_per_task),
        n - 1,
        n - 1,
        job.task_command
    );
    let merge = format!(
        "{}{}\nset -euo pipefail\n{}\n",
        header(
            job,
            "Final job: runs after every task of the array succeeded (submit.sh sets the dependency)."
        ),
        sbatch_options(job, &format!("{}-merge", job.name), "merge.out", 1),
        job.merge_command
    );
    let submit = format!(
        "{}\
set -euo pipefail
cd {dir}
# Slurm does not create the directory of --output: without it the jobs fail silently.
mkdir -p logs
# --parsable prints \"<job id>[;<cluster>]\".
tasks=$(sbatch --parsable {TASKS_SCRIPT})
tasks=${{tasks%%;*}}
echo \"tasks job $tasks\"
merge=$(sbatch --parsable --dependency=afterok:\"$tasks\" {MERGE_SCRIPT})
merge=${{merge%%;*}}
echo \"merge job $merge\"
",
        header(
            job,
            "Submits the job array, then the final job to run once all its tasks succeeded."
        ),
        dir = shell_quote(&job.dir)
    );
    vec![
        (TASKS_SCRIPT.into(), tasks),
        (MERGE_SCRIPT.into(), merge),
        (SUBMIT_SCRIPT.into(), submit),
    ]
}

/// The job ids `submit.sh` printed: (array job, final job).
pub fn parse_submitted(stdout: &str) -> Option<(u64, u64)> {
    let id = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((id("tasks job ")?, id("merge job ")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/a/b-c_d.toml"), "/a/b-c_d.toml");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn scripts_hold_the_array_dependency_and_commands() {
        let job = ArrayJob {
            name: "x".into(),
            description: vec!["test".into()],
            tasks: 4,
            task_command: "echo $TASK".into(),
            merge_command: "echo merge".into(),
            dir: "/tmp/j".into(),
            partition: Some("short".into()),
            time: None,
            cpus_per_task: 2,
        };
        let s = scripts(&job);
        assert!(s[0].1.contains("#SBATCH --array=0-3\n") && s[0].1.contains("echo $TASK\n"));
        assert!(s[0].1.contains("#SBATCH --partition=short\n") && !s[0].1.contains("--time"));
        assert!(s[0].1.contains("#SBATCH --cpus-per-task=2\n"));
        assert!(s[1].1.contains("#SBATCH --job-name=x-merge\n") && s[1].1.contains("echo merge\n"));
        assert!(s[2].1.contains("--dependency=afterok:\"$tasks\" merge.sbatch"));
        assert_eq!(parse_submitted("tasks job 12\nmerge job 13\n"), Some((12, 13)));
        assert_eq!(parse_submitted("tasks job 12\n"), None);
    }
}
