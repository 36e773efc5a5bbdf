//! `ictwin topology`: topology files of the whole network: `import` (the real mainnet from
//! `../shared/data/real-ic/`), `check` (Nakamoto coefficients and limit violations per
//! subnet), `generate` (synthetic topologies obeying the limits) and `latency` (a subnet's matrix of
//! one-way base latencies from its data centers' coordinates).

use anyhow::{anyhow, Context, Result};
use ictwin::topology::{self, check, generate, import, Topology};
use std::path::{Path, PathBuf};

/// Options of `ictwin topology`.
#[derive(Clone, Debug, clap::Args)]
pub struct TopologyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TopologyCommand,
}

/// The `ictwin topology` subcommands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum TopologyCommand {
    /// Build the mainnet topology file from the real-IC data directory.
    #[command(
        after_long_help = "Example (regenerates the committed file):\n  ictwin topology import ../shared/data/real-ic --out experiments/topology/mainnet-2025-12.toml"
    )]
    Import(ImportArgs),
    /// Per subnet: Nakamoto coefficients per attribute and violations of the subnet limits.
    #[command(
        after_long_help = "Example:\n  ictwin topology check experiments/topology/mainnet-2025-12.toml --csv results/topology/mainnet-check.csv"
    )]
    Check(CheckArgs),
    /// A synthetic topology obeying the subnet limits (seeded, reproducible).
    #[command(
        after_long_help = "Example:\n  ictwin topology generate --subnets 60 --data-centers 120 --providers 100 --countries 35 --seed 1 --out /tmp/t.toml"
    )]
    Generate(GenerateArgs),
    /// A subnet's one-way base-latency matrix (ms, row = sender, column = receiver, nodes in
    /// file order) from its data centers' coordinates, for `[network] latency_matrix`.
    #[command(
        after_long_help = "Example:\n  ictwin topology latency experiments/topology/mainnet-2025-12.toml --subnet pae4o --out /tmp/pae4o.csv"
    )]
    Latency(LatencyArgs),
}

/// Options of `ictwin topology latency`.
#[derive(Clone, Debug, clap::Args)]
pub struct LatencyArgs {
    /// The topology file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The subnet: its id or short id (the first group of the principal).
    #[arg(long)]
    pub subnet: String,
    /// Write the matrix as CSV to this file (default: print it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `ictwin topology import`.
#[derive(Clone, Debug, clap::Args)]
pub struct ImportArgs {
    /// The real-IC data directory (`nodes.csv`, `subnets.csv`, `subnet_days.csv`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Topology file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Data-center table: dc_id -> name, city, region, country, continent, coordinates, owner.
    #[arg(long, default_value = "experiments/topology/data-centers.csv")]
    pub data_centers: PathBuf,
    /// Directory of the subnet presets, relative to the output file's directory.
    #[arg(long, default_value = "../real-ic")]
    pub preset_dir: String,
    /// Write no presets.
    #[arg(long)]
    pub no_presets: bool,
    /// Topology name (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
}

/// Options of `ictwin topology check`.
#[derive(Clone, Debug, clap::Args)]
pub struct CheckArgs {
    /// The topology file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Also write the report as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Exit with status 2 when a subnet violates a limit.
    #[arg(long)]
    pub fail_on_violation: bool,
}

/// Options of `ictwin topology generate`.
#[derive(Clone, Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of subnets.
    #[arg(long, value_parser = super::args::positive_u32)]
    pub subnets: u32,
    /// Nodes per subnet.
    #[arg(long, default_value_t = 13, value_parser = super::args::positive_u32)]
    pub subnet_size: u32,
    /// Number of data centers.
    #[arg(long, value_parser = super::args::positive_u32)]
    pub data_centers: u32,
    /// Number of node providers.
    #[arg(long, value_parser = super::args::positive_u32)]
    pub providers: u32,
    /// Number of countries.
    #[arg(long, value_parser = super::args::positive_u32)]
    pub countries: u32,
    /// Number of data center owners (default: one per data center).
    #[arg(long, value_parser = super::args::positive_u32)]
    pub owners: Option<u32>,
    /// Unassigned spare nodes beyond the subnets' nodes.
    #[arg(long, default_value_t = 0)]
    pub spares: u32,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Topology file to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// `ictwin topology`; `Ok(false)` when `check --fail-on-violation` found a violation.
pub fn cmd_topology(args: &TopologyArgs) -> Result<bool> {
    match &args.command {
        TopologyCommand::Import(a) => cmd_import(a).map(|()| true),
        TopologyCommand::Check(a) => cmd_check(a),
        TopologyCommand::Generate(a) => cmd_generate(a).map(|()| true),
        TopologyCommand::Latency(a) => cmd_latency(a).map(|()| true),
    }
}

/// Writes `text` to `path` all or nothing: a temporary file beside it, then a rename.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{}: not a file name", path.display()))?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.ictwin-tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))
}

/// Serializes `topo`, checks that the text loads back (presets resolved from `out`'s
/// directory) to the same topology, and writes it to `out`.
fn write_topology(topo: &Topology, out: &Path, header: &[&str]) -> Result<()> {
    let text = topology::to_toml(topo, header);
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let back = topology::parse(&text, &out.display().to_string(), dir)?;
    if &back != topo {
        return Err(anyhow!("internal error: the written topology does not read back equal"));
    }
    write_atomic(out, &text)?;
    println!(
        "{}: {} data centers, {} node providers, {} subnets, {} nodes ({} spare, {} dead)",
        out.display(),
        topo.data_centers.len(),
        topo.providers.len(),
        topo.subnets.len(),
        topo.nodes.len(),
        topo.nodes.iter().filter(|n| n.subnet.is_none()).count(),
        topo.nodes.iter().filter(|n| n.dead).count()
    );
    Ok(())
}

fn cmd_import(a: &ImportArgs) -> Result<()> {
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("--out {}: no file name", a.out.display()))?,
    };
    let preset_dir = (!a.no_presets).then_some(a.preset_dir.as_str());
    let topo = import::import(&a.dir, &a.data_centers, &name, preset_dir)?;
    write_topology(
        &topo,
        &a.out,
        &[
            "The Internet Computer mainnet as a topology file (format: README.md, \"Topology files\").",
            "Generated, do not edit: ictwin topology import ../shared/data/real-ic --out experiments/topology/mainnet-2025-12.toml",
            "Sources and what is approximate: experiments/topology/README.md.",
        ],
    )
}

fn cmd_check(a: &CheckArgs) -> Result<bool> {
    let topo = topology::load(&a.file)?;
    let reports = check::check(&topo);
    print!("{}", check::render_table(&topo, &reports));
    if let Some(path) = &a.csv {
        write_atomic(path, &check::to_csv(&topo, &reports))?;
        println!("written to {}", path.display());
    }
    let clean = reports.iter().all(|r| r.violations.is_empty());
    Ok(clean || !a.fail_on_violation)
}

fn cmd_generate(a: &GenerateArgs) -> Result<()> {
    let params = generate::GenerateParams {
        subnets: a.subnets,
        subnet_size: a.subnet_size,
        data_centers: a.data_centers,
        providers: a.providers,
        countries: a.countries,
        owners: a.owners.unwrap_or(a.data_centers),
        spares: a.spares,
        seed: a.seed,
    };
    let topo = generate::generate(&params)?;
    let cmd = format!(
        "Generated: ictwin topology generate --subnets {} --subnet-size {} --data-centers {} --providers {} \
         --countries {} --owners {} --spares {} --seed {}",
        params.subnets,
        params.subnet_size,
        params.data_centers,
        params.providers,
        params.countries,
        params.owners,
        params.spares,
        params.seed
    );
    write_topology(
        &topo,
        &a.out,
        &["A synthetic topology (format: README.md, \"Topology files\").", &cmd],
    )
}

fn cmd_latency(a: &LatencyArgs) -> Result<()> {
    let topo = topology::load(&a.file)?;
    let model = topology::latency::LatencyModel::default();
    let (s, m) = model.subnet_matrix(&topo, &a.subnet)?;
    let dcs: Vec<String> = topo
        .members(s)
        .into_iter()
        .map(|i| topo.data_centers[topo.nodes[i].data_center].id.clone())
        .collect();
    let comments = [
        format!(
            "One-way base latencies, ms (row = sender, column = receiver) of subnet {} of {} ({} nodes).",
            topo.subnets[s].id,
            topo.name,
            m.len()
        ),
        format!("Data centers in node order: {}.", dcs.join(" ")),
        format!(
            "Model (src/topology/latency.rs): great circle / {:.2} km/ms x {} + {} ms per end; same data center {} ms.",
            model.fibre_km_per_ms, model.route_inflation, model.access_ms, model.local_ms
        ),
        format!(
            "Generated: ictwin topology latency {} --subnet {}",
            a.file.display(),
            a.subnet
        ),
    ];
    let csv = topology::latency::matrix_csv(&m, &comments);
    match &a.out {
        Some(path) => {
            write_atomic(path, &csv)?;
            println!(
                "{}: {} x {} matrix of subnet {}",
                path.display(),
                m.len(),
                m.len(),
                topo.subnets[s].id
            );
        }
        None => print!("{csv}"),
    }
    Ok(())
}
