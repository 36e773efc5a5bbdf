//! `ictwin devices`: the GPU adapters wgpu sees and which one the coarse engine uses.

use anyhow::Result;
use ictwin::gpu;

/// Options of `ictwin devices`.
#[derive(Clone, Debug, clap::Args)]
pub struct DevicesArgs {}

/// `ictwin devices`: the adapters wgpu sees and the limits that matter to the engine.
pub fn cmd_devices(_args: &DevicesArgs) -> Result<()> {
    let backends = gpu::backends().map_err(anyhow::Error::msg)?;
    let all = gpu::adapters().map_err(anyhow::Error::msg)?;
    println!("backends searched: {backends:?} (WGPU_BACKEND overrides)");
    if all.is_empty() {
        println!("no adapters found; `--engine auto` uses the CPU engine, `--engine gpu` fails");
        return Ok(());
    }
    for (k, a) in all.iter().enumerate() {
        let i = a.get_info();
        let l = a.limits();
        let f = a.features();
        println!("[{k}] {}", i.name);
        println!(
            "    backend {:?}, type {:?}, vendor {:#06x}, device {:#06x}",
            i.backend, i.device_type, i.vendor, i.device
        );
        println!("    driver {} {}", i.driver, i.driver_info);
        println!(
            "    shader i64 {}, i64 atomics {}",
            if f.contains(wgpu::Features::SHADER_INT64) {
                "yes"
            } else {
                "no"
            },
            if f.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS) {
                "yes"
            } else {
                "no"
            },
        );
        println!(
            "    max workgroups/dim {}, max invocations/workgroup {}, workgroup memory {} B",
            l.max_compute_workgroups_per_dimension,
            l.max_compute_invocations_per_workgroup,
            l.max_compute_workgroup_storage_size
        );
        println!(
            "    max buffer {} B, max storage binding {} B",
            l.max_buffer_size, l.max_storage_buffer_binding_size
        );
        match gpu::unusable_reason(a) {
            Some(why) => println!("    ictwin: unusable ({why})"),
            None => println!(
                "    ictwin: usable{}",
                if i.device_type == wgpu::DeviceType::Cpu {
                    " with --engine gpu (software: --engine auto prefers the CPU engine)"
                } else {
                    ""
                }
            ),
        }
    }
    for (flag, soft) in [("--engine auto", false), ("--engine gpu", true)] {
        match gpu::pick_adapter(soft) {
            Ok(a) => println!("{flag}: {}", gpu::describe(&a.get_info())),
            Err(e) => println!(
                "{flag}: {}",
                if soft {
                    format!("fails: {e}")
                } else {
                    format!("CPU engine ({e})")
                }
            ),
        }
    }
    Ok(())
}
