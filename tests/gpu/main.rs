//! The GPU engine against its CPU twin.
//!
//! - Shader validation with naga runs everywhere.
//! - `agree`: the model's aggregates, output files and Philox block counts, GPU vs CPU.
//! - Tests that need an adapter (lavapipe in CI) print why they skip when there is none, and
//!   fail instead when `ICTWIN_REQUIRE_GPU=1` (set by `.ci/run`).

mod agree;
mod shard;

use ictwin::coarse::prepare;
use ictwin::gpu::shaders::{self, Accumulation};
use ictwin::gpu::Gpu;
use ictwin::output::TIMING_COLUMNS;
use ictwin::scenario;
use ictwin_kernels::philox::{philox4x32_10, uniform_below};
use ictwin_kernels::table;
use std::path::Path;
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
    // Every model file is in every model program, in every class.
    for (name, src) in programs.iter().filter(|(n, _)| n.starts_with("model")) {
        for file in [
            shaders::ARITH,
            shaders::MODEL,
            shaders::CERT,
            shaders::BACKLOG,
            shaders::HEIGHT,
            shaders::RESOLVE,
            shaders::PROOFS,
            shaders::LATE,
            shaders::SHUFFLE,
            shaders::FAILURES,
            shaders::REPLICA,
            shaders::SLICE,
        ] {
            assert!(src.contains(file), "{name} lacks a model file");
        }
    }
}

#[test]
fn shaders_without_64_bit_integers_are_rejected() {
    // The engine needs SHADER_INT64: naga must refuse the model without it.
    let src = shaders::model_program(Accumulation::Global, shaders::NODE_CLASSES[0]);
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    assert!(v.validate(&module).is_err());
}

/// The shared device, or None (with the reason printed) when there is no adapter.
pub(crate) fn gpu() -> Option<&'static Gpu> {
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

/// The CPU meaning of each `u64_ops` result (shaders/tests.wgsl).
fn u64_ops_cpu(a: u64, b: u64, s: u32) -> [u64; ictwin::gpu::U64_OPS] {
    let s = s & 63;
    [
        a.min(b),
        a.max(b),
        a >> s,
        a << s,
        a >> 32,
        a.wrapping_add(b),
        a.wrapping_sub(b),
        a.wrapping_mul(b),
        a / (b | 1),
        a % (b | 1),
        if a < b { a } else { b },
        a ^ (b >> 1),
        (u64::from(a as u32) * u64::from(b as u32)) >> 32,
        a.saturating_add(b),
        u64::from(a < b) + 2 * u64::from(a == b) + 4 * u64::from(a <= b),
        a.saturating_sub(b),
        u64::from((a as u32).saturating_sub(b as u32)),
        u64::from((a as u32).saturating_sub(b as u32)),
        u64::from((a as u32).saturating_add(b as u32)),
    ]
}

#[test]
fn u64_arithmetic_on_the_device_equals_the_cpu() {
    // The model keeps times in u64 (µs); a driver that gets 64-bit min/max, shifts or carries
    // wrong gives garbage high words with right low words. NVIDIA's Vulkan driver 580.159 did
    // so for the plain saturating idioms (ops 13 and 15, now arith.wgsl's sat_add/sat_sub on
    // 32-bit halves). Edge values, then random ones.
    let Some(gpu) = gpu() else { return };
    let edges = [
        0u64,
        1,
        999,
        u32::MAX as u64,
        1 << 32,
        (1 << 32) + 5,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut cases = Vec::new();
    for (i, &a) in edges.iter().enumerate() {
        for (j, &b) in edges.iter().enumerate() {
            cases.push((a, b, ((i * 7 + j * 13) % 64) as u32));
        }
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x
        };
        let (a, b, r) = (next(), next(), next());
        // Small, 32-bit and full-width magnitudes, as times in µs are.
        let a = a >> (r % 3 * 16);
        let b = b >> (r / 3 % 3 * 16);
        cases.push((a, b, (r >> 40) as u32 % 64));
    }
    let got = gpu.u64_ops(&cases).unwrap();
    let mut bad = Vec::new();
    for (i, &(a, b, s)) in cases.iter().enumerate() {
        let want = u64_ops_cpu(a, b, s);
        for k in 0..want.len() {
            if got[i][k] != want[k] && bad.len() < 12 {
                bad.push(format!(
                    "op {k}: a {a:#x} b {b:#x} s {s}: cpu {:#x} gpu {:#x}",
                    want[k], got[i][k]
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "64-bit operations differ on {}:\n{}",
        gpu.describe(),
        bad.join("\n")
    );
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
