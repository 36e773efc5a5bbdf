//! Device probes for tests and benchmarks: single kernels of `shaders/tests.wgsl` that check
//! the WGSL Philox and table sampler against their CPU twins, and the Philox-only baseline
//! `ictwin bench-gpu` compares the model with.

use super::bench::PhiloxOnlyParams;
use super::device::Gpu;
use super::shaders::{self, WORKGROUP_SIZE};
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// Results per case of the `u64_ops` test kernel.
pub const U64_OPS: usize = 19;

impl Gpu {
    /// Philox4x32-10 on the device for each (counter, key).
    pub fn philox(&self, cases: &[([u32; 4], [u32; 2])]) -> Result<Vec<[u32; 4]>> {
        let input: Vec<u32> = cases.iter().flat_map(|(c, k)| c.iter().chain(k).copied()).collect();
        let out = self.run_test_kernel("philox_kat", &input, cases.len() * 4, None, cases.len() as u32)?;
        Ok(out.chunks_exact(4).map(|w| [w[0], w[1], w[2], w[3]]).collect())
    }

    /// The 64-bit operations of `shaders/tests.wgsl` (`u64_ops`) on the device for each case
    /// (a, b, shift in 0..63): [`U64_OPS`] results per case, in that kernel's order.
    pub fn u64_ops(&self, cases: &[(u64, u64, u32)]) -> Result<Vec<[u64; U64_OPS]>> {
        let input: Vec<u32> = cases
            .iter()
            .flat_map(|&(a, b, s)| [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32, s])
            .collect();
        let words = cases.len() * U64_OPS * 2;
        let out = self.run_test_kernel("u64_ops", &input, words, None, cases.len() as u32)?;
        Ok(out
            .chunks_exact(U64_OPS * 2)
            .map(|c| std::array::from_fn(|k| u64::from(c[2 * k]) | (u64::from(c[2 * k + 1]) << 32)))
            .collect())
    }

    /// Table samples at `offset` and `uniform_below(word, 128)` on the device for each word.
    pub fn sample_table(&self, tables: &[u32], offset: u32, words: &[u32]) -> Result<(Vec<u32>, Vec<u32>)> {
        let mut input = vec![offset];
        input.extend_from_slice(words);
        let n = words.len();
        let out = self.run_test_kernel("sample_table", &input, 2 * n, Some(tables), n as u32)?;
        Ok((out[..n].to_vec(), out[n..].to_vec()))
    }

    /// Runs test entry point `entry` on `invocations` invocations (one dispatch) with `input`
    /// bound at 0, an output of `out_words` u32 at 1 and `tables` (if any) at 2; returns the
    /// output.
    fn run_test_kernel(
        &self,
        entry: &str,
        input: &[u32],
        out_words: usize,
        tables: Option<&[u32]>,
        invocations: u32,
    ) -> Result<Vec<u32>> {
        let groups = invocations.div_ceil(WORKGROUP_SIZE);
        if groups > self.limits.max_compute_workgroups_per_dimension {
            bail!("too many test cases for one dispatch");
        }
        let pipeline = self.pipeline("tests", shaders::tests_program, entry)?;
        let storage = wgpu::BufferUsages::STORAGE;
        let input_buf = self.buffer_init("input", bytemuck::cast_slice(input), storage)?;
        let out_buf = self.buffer(
            "output",
            (out_words.max(1) * 4) as u64,
            storage | wgpu::BufferUsages::COPY_SRC,
        )?;
        let tables_buf = match tables {
            Some(t) => Some(self.buffer_init("tables", bytemuck::cast_slice(t), storage)?),
            None => None,
        };
        let mut resources = vec![input_buf.as_entire_binding(), out_buf.as_entire_binding()];
        resources.extend(tables_buf.as_ref().map(|t| t.as_entire_binding()));
        let kernel = self.kernel(entry, pipeline, &resources)?;
        self.dispatch(&kernel, groups.max(1));
        self.wait(entry)?;
        let mut out = self.read_u32(&out_buf, out_words.max(1))?;
        out.truncate(out_words);
        Ok(out)
    }

    /// Times the Philox-only baseline: `replicas` invocations drawing `blocks` blocks each.
    /// Returns the device seconds (wall time of the dispatches, after a warm-up).
    pub fn time_philox_only(&self, replicas: u32, blocks: u32, seed: u64) -> Result<Duration> {
        let pipeline = self.pipeline("philox-only", shaders::philox_only_program, "main")?;
        let params = self.uniform::<PhiloxOnlyParams>("bench params")?;
        let sink = self.buffer("sink", 16, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC)?;
        let kernel = self.kernel(
            "philox-only",
            pipeline,
            &[params.as_entire_binding(), sink.as_entire_binding()],
        )?;
        let run = |offset: u32, n: u32| -> Result<()> {
            let bp = PhiloxOnlyParams {
                replicas: offset + n,
                replica_offset: offset,
                blocks,
                seed_lo: seed as u32,
                seed_hi: (seed >> 32) as u32,
                ..Default::default()
            };
            self.write(&params, &bp);
            self.dispatch(&kernel, n.div_ceil(WORKGROUP_SIZE));
            self.wait("the Philox-only kernel")
        };
        run(0, WORKGROUP_SIZE.min(replicas))?; // warm-up
        let max_wg = self.limits.max_compute_workgroups_per_dimension;
        let t0 = Instant::now();
        let mut offset = 0u32;
        while offset < replicas {
            let n = (replicas - offset).min(max_wg.saturating_mul(WORKGROUP_SIZE));
            run(offset, n)?;
            offset += n;
        }
        Ok(t0.elapsed())
    }
}
