//! `ictwin slurm`: a run split into `--tasks` shards as a Slurm job array, plus the job that
//! merges them (scripts from `ictwin::output::slurm`); `--submit` submits both. For a sweep
//! (`--set KEY=VALUES` or a scenario with a `[sweep]` table) each point is a task
//! (`ictwin sweep --point $TASK`) and the final job is `ictwin sweep --collect`.

use super::run::{resolve_scenario, RunArgs};
use anyhow::{bail, Context, Result};
use ictwin::engine::EngineChoice;
use ictwin::output::shard::scenario_hash;
use ictwin::output::slurm::{self, parse_submitted, shell_path, shell_quote, ArrayJob, SUBMIT_SCRIPT};
use ictwin::output::{write_run_dir, OutDir};
use ictwin::sweep::{self, Level, Overrides};
use std::path::{Path, PathBuf};

/// Options of `ictwin slurm`.
#[derive(Clone, Debug, clap::Args)]
pub struct SlurmArgs {
    /// Scenario file (TOML); default: the embedded 13-node application subnet.
    pub scenario: Option<PathBuf>,
    /// Array tasks = shards of the run, at least 1 (more than the replicas is allowed: the
    /// extra shards are empty). Required for a run; for a sweep the tasks are its points
    /// (when given it must equal their number).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub tasks: Option<u32>,
    /// Sweep axes `KEY=VALUES` (as `ictwin sweep --set`): one task per point.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    pub set: Vec<String>,
    /// Sweep: aligned lists instead of the grid (as `ictwin sweep --zip`).
    #[arg(long)]
    pub zip: bool,
    /// Slurm partition (`#SBATCH --partition`); default: the cluster's.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of each job, Slurm syntax (`#SBATCH --time`, e.g. 01:00:00); default: the
    /// partition's.
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task (`#SBATCH --cpus-per-task`, and the shard's `--threads`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub cpus_per_task: u32,
    /// Where each shard runs (`ictwin run --engine`).
    #[arg(long, value_enum, default_value = "auto")]
    pub engine: EngineChoice,
    /// Replicas of the whole run; overrides `run.replicas`.
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Round steps per replica; overrides `run.rounds`.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// RNG seed; overrides `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Calibration file; overrides the scenario's.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// The job's directory: scripts, `logs/`, `shards/<k>/`, and the merged run in `merged/`
    /// (default `ictwin-out/<name>-slurm/` in the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Submit the jobs (runs `submit.sh`: sbatch) and print their ids.
    #[arg(long)]
    pub submit: bool,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot make {} absolute", p.display()))
}

/// `ictwin slurm`.
pub fn cmd_slurm(args: &SlurmArgs) -> Result<()> {
    let scenario = args.scenario.as_deref().map(absolute).transpose()?;
    let calibration = args.calibration.as_deref().map(absolute).transpose()?;
    let run = RunArgs {
        scenario: scenario.clone(),
        engine: args.engine,
        replicas: args.replicas,
        rounds: args.rounds,
        seed: args.seed,
        out: None,
        threads: Some(args.cpus_per_task),
        calibration: calibration.clone(),
        quiet: true,
        shard: None,
    };
    // Checked now, not on the cluster: the scenario, its overrides and the coarse limits.
    let (s, origin) = resolve_scenario(&run)?;
    let is_sweep = !args.set.is_empty() || s.sweep.as_ref().is_some_and(|t| !t.set.is_empty());
    let dir = absolute(
        &args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("ictwin-out").join(format!("{}-slurm", s.name))),
    )?;
    let dir_text = dir.to_string_lossy().to_string();
    if dir_text.contains(char::is_whitespace) {
        bail!("--out {dir_text}: Slurm's #SBATCH --output lines cannot hold a path with whitespace");
    }
    let exe = std::env::current_exe().context("cannot find the path of this ictwin binary")?;
    let exe = shell_path(&exe);
    let engine = format!("{:?}", args.engine).to_lowercase();
    if is_sweep {
        let job = sweep_job(args, scenario.as_deref(), &exe, &engine, &dir_text)?;
        return write_and_submit(args, job, &dir, &dir_text);
    }
    let Some(n_tasks) = args.tasks else {
        bail!("--tasks N is required for a run (the number of shards; a sweep's tasks are its points)");
    };
    let mut task = format!("exec {exe} run");
    if let Some(p) = &scenario {
        task += &format!(" {}", shell_path(p));
    }
    if let Some(c) = &calibration {
        task += &format!(" --calibration {}", shell_path(c));
    }
    task += &format!(
        " \\\n    --replicas {} --rounds {} --seed {} --engine {engine} --threads {} --quiet \\\n    --shard \"$TASK/{n}\" --out {d}/shards/\"$TASK\"",
        s.run.replicas,
        s.run.rounds,
        s.run.seed,
        args.cpus_per_task,
        n = n_tasks,
        d = shell_quote(&dir_text)
    );
    let merge = format!(
        "# The shards' directories, in order (any order would give the same result).\nshards=()\nfor k in $(seq 0 {}); do shards+=({d}/shards/\"$k\"); done\nexec {exe} merge \"${{shards[@]}}\" --out {d}/merged",
        n_tasks - 1,
        d = shell_quote(&dir_text)
    );
    let job = ArrayJob {
        name: format!("ictwin-{}", s.name),
        description: vec![
            format!(
                "ictwin run of scenario {:?} ({origin}) split into {} shards.",
                s.name, n_tasks
            ),
            format!(
                "{} replicas x {} rounds, seed {}, resolved scenario hash {}.",
                s.run.replicas,
                s.run.rounds,
                s.run.seed,
                scenario_hash(&s)?
            ),
            format!("Shards write {dir_text}/shards/<k>/shard.json; the merged run goes to {dir_text}/merged/."),
        ],
        tasks: n_tasks,
        task_command: task,
        merge_command: merge,
        dir: dir_text.clone(),
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus_per_task: args.cpus_per_task,
    };
    write_and_submit(args, job, &dir, &dir_text)
}

/// Writes the job's scripts into `dir` (all or nothing), and with `--submit` submits them.
fn write_and_submit(args: &SlurmArgs, job: ArrayJob, dir: &Path, dir_text: &str) -> Result<()> {
    let n_tasks = job.tasks;
    let out = OutDir::open(dir)?;
    write_run_dir(out, slurm::scripts(&job), None)?;
    std::fs::create_dir_all(dir.join("logs")).with_context(|| format!("cannot create {}/logs", dir.display()))?;
    let submit = dir.join(SUBMIT_SCRIPT);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&submit, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", submit.display()))?;
    }
    println!("Slurm scripts for {n_tasks} tasks written to {dir_text}");
    if !args.submit {
        println!("submit with: bash {}", shell_path(&submit));
        return Ok(());
    }
    let out = std::process::Command::new("bash")
        .arg(&submit)
        .output()
        .with_context(|| format!("cannot run {}", submit.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}{}",
            submit.display(),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let (tasks, merge) = parse_submitted(&stdout)
        .with_context(|| format!("{} did not print the job ids: {stdout}", submit.display()))?;
    println!(
        "submitted: tasks job {tasks} (array 0-{}), merge job {merge} (after all tasks succeeded)",
        n_tasks - 1
    );
    Ok(())
}

/// The job array of a sweep: task k runs point k (`ictwin sweep --point k`, the point's derived
/// seed, into `DIR/sweep/points/<k>-<slug>/`), the final job builds `sweep.csv`, the manifest
/// and the plots (`ictwin sweep --collect`), so the result equals a plain `ictwin sweep`'s
/// apart from the timing columns. Every point is planned and checked here, before submitting.
fn sweep_job(args: &SlurmArgs, scenario: Option<&Path>, exe: &str, engine: &str, dir: &str) -> Result<ArrayJob> {
    if args.calibration.is_some() {
        bail!("--calibration: not supported for a sweep (ictwin sweep takes the scenario's [calibration] table)");
    }
    let ov = Overrides {
        replicas: args.replicas,
        rounds: args.rounds,
        seed: args.seed,
    };
    let plan = sweep::plan(scenario, &args.set, args.zip, &ov, Level::Coarse)?;
    let n = u32::try_from(plan.points.len()).context("too many sweep points for one job array")?;
    if let Some(t) = args.tasks.filter(|&t| t != n) {
        bail!("--tasks {t}: a sweep's tasks are its points, and this sweep has {n}; drop --tasks");
    }
    let mut common = format!("{exe} sweep");
    if let Some(p) = scenario {
        common += &format!(" {}", shell_path(p));
    }
    for a in &args.set {
        common += &format!(" --set {}", shell_quote(a));
    }
    if args.zip {
        common += " --zip";
    }
    for (flag, v) in [
        ("--replicas", args.replicas),
        ("--rounds", args.rounds),
        ("--seed", args.seed),
    ] {
        if let Some(v) = v {
            common += &format!(" {flag} {v}");
        }
    }
    let sweep_dir = format!("{}/sweep", shell_quote(dir));
    let task = format!(
        "exec {common} \\\n    --engine {engine} --threads {} --quiet --point \"$TASK\" --out {sweep_dir}",
        args.cpus_per_task
    );
    let collect = format!("exec {common} \\\n    --engine {engine} --quiet --collect --out {sweep_dir}");
    Ok(ArrayJob {
        name: format!("ictwin-{}-sweep", plan.base.name),
        description: vec![
            format!(
                "ictwin sweep of scenario {:?} ({}): {n} points, one task each.",
                plan.base.name, plan.origin
            ),
            format!(
                "Points write {dir}/sweep/points/<k>-<slug>/; the final job writes {dir}/sweep/sweep.csv and plots/."
            ),
        ],
        tasks: n,
        task_command: task,
        merge_command: collect,
        dir: dir.to_string(),
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus_per_task: args.cpus_per_task,
    })
}
