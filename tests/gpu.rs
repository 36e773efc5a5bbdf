//! The GPU engine against its CPU twin.
//!
//! - Shader validation with naga runs everywhere.
//! - Tests that need an adapter (lavapipe in CI) print why they skip when there is none, and
//!   fail instead when `ICTWIN_REQUIRE_GPU=1` (set by `.ci/run`).

use ictwin::coarse::{prepare, run_cpu, Prepared};
use ictwin::gpu::shaders::{self, Accumulation};
use ictwin::gpu::{Gpu, RunOptions};
use ictwin::output::{self, TIMING_COLUMNS};
use ictwin::scenario::{self, Scenario};
use ictwin_kernels::philox::{philox4x32_10, uniform_below};
use ictwin_kernels::table;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

fn validate(name: &str, src: &str) {
    let module = naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    let mut v = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::SHADER_INT64,
    );
    v.validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
}

#[test]
fn every_shader_validates_with_naga() {
    let programs = shaders::all_programs();
    for (name, src) in &programs {
        validate(name, src);
    }
    // Every file in shaders/ is part of some program.
    let all: String = programs.iter().map(|(_, s)| s.as_str()).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "wgsl") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(all.contains(&text), "{} is in no program", path.display());
        }
    }
    // Standalone files are valid on their own.
    validate("philox.wgsl", shaders::PHILOX);
}

#[test]
fn shaders_without_64_bit_integers_are_rejected() {
    // The engine needs SHADER_INT64: naga must refuse the model without it.
    let src = shaders::model_program(Accumulation::Global, false);
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    assert!(v.validate(&module).is_err());
}

/// The shared device, or None (with the reason printed) when there is no adapter.
fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    let g = GPU.get_or_init(|| {
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            // Silences a loader warning on headless machines.
            std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
        }
        Gpu::open(true).map_err(|e| format!("{e:#}"))
    });
    match g {
        Ok(g) => Some(g),
        Err(e) => {
            if std::env::var("ICTWIN_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("ICTWIN_REQUIRE_GPU=1 but no GPU adapter: {e}");
            }
            eprintln!("SKIPPED: no GPU adapter ({e}); install mesa-vulkan-drivers for lavapipe");
            None
        }
    }
}

#[test]
fn philox_known_answers_on_the_device() {
    let Some(gpu) = gpu() else { return };
    // Random123 kat_vectors (philox4x32_10), then the CPU twin on many counters.
    let mut cases = vec![
        ([0, 0, 0, 0], [0, 0]),
        ([u32::MAX; 4], [u32::MAX; 2]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
        ),
    ];
    let expected_kat = [
        [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
        [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
        [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
    ];
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..10_000 {
        let mut w = [0u32; 6];
        for v in &mut w {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *v = (x >> 32) as u32;
        }
        cases.push(([w[0], w[1], w[2], w[3]], [w[4], w[5]]));
    }
    let got = gpu.philox(&cases).unwrap();
    assert_eq!(got.len(), cases.len());
    assert_eq!(got[..3], expected_kat);
    for (i, (c, k)) in cases.iter().enumerate() {
        assert_eq!(got[i], philox4x32_10(*c, *k), "case {i}: ctr {c:x?} key {k:x?}");
    }
}

#[test]
fn readbacks_from_many_threads_on_one_device_all_complete() {
    // Threads sharing one device: a mapping callback may fire inside another thread's poll, after
    // the reading thread's own poll has returned. Every readback must still complete, with its
    // own data (this once failed in CI as "GPU readback did not complete").
    let Some(gpu) = gpu() else { return };
    std::thread::scope(|scope| {
        for t in 0..8u32 {
            scope.spawn(move || {
                for i in 0..400u32 {
                    let case = ([t, i, 7, 9], [i, t]);
                    let got = gpu
                        .philox(&[case])
                        .unwrap_or_else(|e| panic!("thread {t}, call {i}: {e:#}"));
                    assert_eq!(got, vec![philox4x32_10(case.0, case.1)], "thread {t}, call {i}");
                }
            });
        }
    });
}

#[test]
fn table_samples_equal_the_cpu_on_many_words() {
    let Some(gpu) = gpu() else { return };
    let text = "name = \"t\"\n[subnet]\nnodes = 13\n[network]\ndelay = { dist = \"lognormal\", median_ms = 70.0, sigma = 1.5 }\n";
    let s = scenario::parse(text, "t.toml", Path::new(".")).unwrap().scenario;
    let prep = prepare(&s).unwrap();
    // Edges of both table levels, then a sweep and pseudo-random words.
    let mut words: Vec<u32> = vec![
        0,
        1,
        0xFFEF_FFFF,
        0xFFF0_0000,
        0xFFF0_00FF,
        0xFFFF_FF00,
        u32::MAX - 1,
        u32::MAX,
    ];
    words.extend((0..100_000u64).map(|k| (k * 42_949) as u32));
    let mut x = 99u64;
    words.extend((0..100_000).map(|_| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 32) as u32
    }));
    for offset in [prep.params.delay_table, prep.params.exp_table] {
        let (samples, below) = gpu.sample_table(&prep.tables, offset, &words).unwrap();
        for (i, &w) in words.iter().enumerate() {
            assert_eq!(
                samples[i],
                table::sample(&prep.tables, offset, w),
                "table {offset} word {w:#x}"
            );
            assert_eq!(below[i], uniform_below(w, 128), "uniform_below word {w:#x}");
        }
    }
}

/// Summary and histogram CSV of a run without the timing and engine columns.
fn csv_pair(s: &Scenario, agg: &[u64]) -> (String, String) {
    let stats = ictwin::stats::from_aggregates(agg);
    let row = ictwin::output::summary_row(s, "engine", stats, 1.0);
    let summary = output::summary_csv(std::slice::from_ref(&row)).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !TIMING_COLUMNS.contains(&header[i]) && header[i] != "engine")
        .collect();
    let strip = |l: &str| {
        let f: Vec<&str> = l.split(',').collect();
        keep.iter().map(|&i| f[i]).collect::<Vec<_>>().join(",")
    };
    let mut out = strip(&header.join(","));
    for l in lines {
        out.push('\n');
        out.push_str(&strip(l));
    }
    (out, output::histograms_csv(agg))
}

fn cpu_agg(prep: &Prepared) -> Vec<u64> {
    run_cpu(prep, &|_| {}, &AtomicBool::new(false)).unwrap()
}

/// Runs `s` on both engines (GPU: every accumulation the adapter supports) and requires equal
/// aggregates and equal CSV files.
fn assert_engines_agree(gpu: &Gpu, s: &Scenario, what: &str) {
    let prep = prepare(s).unwrap();
    let cpu = cpu_agg(&prep);
    let (cpu_summary, cpu_hist) = csv_pair(s, &cpu);
    let mut variants = vec![Accumulation::Global];
    if gpu.default_accumulation() == Accumulation::Workgroup {
        variants.push(Accumulation::Workgroup);
    }
    for acc in variants {
        let opts = RunOptions {
            accumulation: Some(acc),
            // Several chunks, to exercise replica_offset, and several slices of steps.
            max_workgroups: Some(7),
            slice_steps: Some(17),
            ..Default::default()
        };
        let run = gpu.run_with(&prep, opts, &|_| {}, &AtomicBool::new(false)).unwrap();
        assert!(run.chunks > 1 || s.run.replicas <= 7 * 64, "{what}: one chunk only");
        assert!(
            run.dispatches > run.chunks || s.run.rounds <= 17,
            "{what}: one slice only"
        );
        if run.agg != cpu {
            let diff: Vec<_> = (0..cpu.len())
                .filter(|&i| run.agg[i] != cpu[i])
                .take(8)
                .map(|i| (i, cpu[i], run.agg[i]))
                .collect();
            panic!("{what} ({acc:?}): aggregates differ (index, cpu, gpu): {diff:?}");
        }
        let (g_summary, g_hist) = csv_pair(s, &run.agg);
        assert_eq!(g_summary, cpu_summary, "{what} ({acc:?}) summary.csv");
        assert_eq!(g_hist, cpu_hist, "{what} ({acc:?}) histograms.csv");
    }
}

fn scenario_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["experiments", "experiments/validation"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            for e in rd {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "toml") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_experiment_is_identical_on_gpu_and_cpu() {
    let Some(gpu) = gpu() else { return };
    let files = scenario_files();
    assert!(!files.is_empty());
    for f in files {
        let mut s = scenario::load(Some(&f)).unwrap().scenario;
        if s.subnet.nodes > ictwin_kernels::params::MAX_NODES {
            continue; // fine-engine only
        }
        s.run.replicas = 2_000;
        s.run.rounds = 50;
        assert_engines_agree(gpu, &s, &f.display().to_string());
    }
}

/// Scenarios covering what the shipped experiments may not: every fault role together,
/// dynamic failures with few replicas (batch segments), backoff off, every distribution,
/// 128 nodes, calibration, delays beyond U (competing blocks), long stalls.
#[test]
fn every_model_feature_is_identical_on_gpu_and_cpu() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("delays.csv"),
        "delay_ms\n12.5\n80\n81\n95\n140\n300\n1200\n2500\n40\n66\n",
    )
    .unwrap();
    let cases = [
        ("constant", 13, "{ dist = \"constant\", ms = 100.0 }", "", 300, 40),
        (
            "uniform-roles",
            13,
            "{ dist = \"uniform\", min_ms = 10.0, max_ms = 1500.0 }",
            "crashed = 1\nsilent = 1\nequivocating = 2\n",
            300,
            40,
        ),
        (
            "exponential-nobackoff",
            28,
            "{ dist = \"exponential\", min_ms = 20.0, mean_ms = 900.0 }",
            "equivocating = 3\n",
            200,
            30,
        ),
        (
            "empirical-crashed",
            13,
            "{ dist = \"empirical\", file = \"delays.csv\" }",
            "crashed = 4\n",
            300,
            40,
        ),
        (
            "dynamic-few-replicas",
            13,
            "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }",
            "mtbf_hours = 0.002\nmttr_hours = 0.001\nsilent = 2\n",
            5,
            400,
        ),
        (
            "dynamic-40",
            40,
            "{ dist = \"lognormal\", median_ms = 500.0, sigma = 1.2 }",
            "mtbf_hours = 0.01\nmttr_hours = 0.002\n",
            150,
            60,
        ),
        (
            "stalled",
            13,
            "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }",
            "crashed = 5\n",
            100,
            20,
        ),
        (
            "n128",
            128,
            "{ dist = \"lognormal\", median_ms = 300.0, sigma = 1.0 }",
            "crashed = 20\nsilent = 10\nequivocating = 5\n",
            130,
            20,
        ),
        ("n1", 1, "{ dist = \"constant\", ms = 5.0 }", "", 70, 10),
        (
            "n4-slow",
            4,
            "{ dist = \"lognormal\", median_ms = 1500.0, sigma = 2.0 }",
            "equivocating = 1\n",
            400,
            40,
        ),
    ];
    for (name, nodes, delay, faults, replicas, rounds) in cases {
        let backoff = !name.contains("nobackoff");
        let calibration = if name.contains("uniform") || name.contains("128") {
            "[calibration]\ndelay_scale = 1.37\nround_overhead_ms = 12.5\nfinalization_overhead_ms = 3.25\n"
        } else {
            ""
        };
        let text = format!(
            "name = \"{name}\"\n[subnet]\nnodes = {nodes}\nunit_delay_ms = 1000\nfinality_backoff = {backoff}\n[network]\ndelay = {delay}\n[faults]\n{faults}[run]\nreplicas = {replicas}\nrounds = {rounds}\nseed = 77\n{calibration}"
        );
        let s = scenario::parse(&text, name, dir.path())
            .unwrap_or_else(|e| panic!("{name}: {e:#}"))
            .scenario;
        assert_engines_agree(gpu, &s, name);
    }
}

#[test]
fn long_replicas_run_in_several_slices() {
    // More steps than one dispatch runs (MAX_SLICE_STEPS, and llvmpipe's loop budget): the
    // replicas' state must survive between slices, with static and dynamic faults.
    let Some(gpu) = gpu() else { return };
    for (faults, nodes) in [("", 13), ("crashed = 1\nmtbf_hours = 0.01\nmttr_hours = 0.002\n", 40)] {
        let text = format!("name = \"long\"\n[subnet]\nnodes = {nodes}\n[network]\ndelay = {{ dist = \"lognormal\", median_ms = 400.0, sigma = 1.0 }}\n[faults]\n{faults}[run]\nreplicas = 70\nrounds = 2100\n");
        let s = scenario::parse(&text, "long", Path::new(".")).unwrap().scenario;
        assert!(s.run.rounds as u32 > shaders::MAX_SLICE_STEPS * 2);
        assert_engines_agree(gpu, &s, &format!("long, {nodes} nodes"));
    }
}

#[test]
fn cli_gpu_and_cpu_write_identical_files() {
    if gpu().is_none() {
        return;
    }
    let exe = env!("CARGO_BIN_EXE_ictwin");
    let dir = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for engine in ["gpu", "cpu"] {
        let out = dir.path().join(engine);
        let o = std::process::Command::new(exe)
            .args([
                "run",
                "--engine",
                engine,
                "--replicas",
                "3000",
                "--rounds",
                "20",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{engine}: {}", String::from_utf8_lossy(&o.stderr));
        if engine == "gpu" {
            assert!(String::from_utf8_lossy(&o.stderr).contains("engine: gpu"));
        }
        let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        let hist = std::fs::read_to_string(out.join("histograms.csv")).unwrap();
        let mut r = csv::Reader::from_reader(summary.as_bytes());
        let header = r.headers().unwrap().clone();
        let rec = r.records().next().unwrap().unwrap();
        let kept: Vec<String> = header
            .iter()
            .zip(rec.iter())
            .filter(|(h, _)| !TIMING_COLUMNS.contains(h) && *h != "engine")
            .map(|(h, v)| format!("{h}={v}"))
            .collect();
        let engine_col = header.iter().position(|h| h == "engine").unwrap();
        assert_eq!(&rec[engine_col], engine);
        texts.push((kept, hist));
    }
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn engine_gpu_fails_clearly_without_an_adapter() {
    // An empty backend set has no adapter: `--engine gpu` must fail and say so, `auto` must
    // fall back to the CPU engine and say so. Runs everywhere.
    let exe = env!("CARGO_BIN_EXE_ictwin");
    let dir = tempfile::tempdir().unwrap();
    let run = |engine: &str| {
        std::process::Command::new(exe)
            .env("WGPU_BACKEND", "metal")
            .args([
                "run",
                "--engine",
                engine,
                "--replicas",
                "100",
                "--rounds",
                "5",
                "--quiet",
                "--out",
            ])
            .arg(dir.path().join(engine))
            .output()
            .unwrap()
    };
    let o = run("gpu");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--engine gpu") && err.contains("no GPU adapter"), "{err}");
    let o = run("auto");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("engine: cpu"), "{err}");
}
