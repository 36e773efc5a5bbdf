//! Adapter choice: which backends are searched, which adapters the engine can use, and which
//! one it picks. Vulkan unless `WGPU_BACKEND` says otherwise (the GL fallback lacks 64-bit
//! integers). The best adapter with `SHADER_INT64` wins (discrete > integrated > virtual >
//! other > CPU/software), or the first whose name contains [`ADAPTER_ENV`].

/// Environment variable selecting an adapter by (a case-insensitive part of) its name.
pub const ADAPTER_ENV: &str = "ICTWIN_GPU_ADAPTER";

/// Backends searched: Vulkan, or what `WGPU_BACKEND` names.
pub fn backends() -> wgpu::Backends {
    wgpu::Backends::VULKAN.with_env()
}

/// A wgpu instance on [`backends`] (instance flags from the `WGPU_*` environment variables).
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends();
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees on the searched backends.
pub fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(backends()))
}

/// Why the engine cannot use an adapter, if it cannot.
pub fn unusable_reason(a: &wgpu::Adapter) -> Option<String> {
    if !a.features().contains(wgpu::Features::SHADER_INT64) {
        return Some("no 64-bit integers in shaders (SHADER_INT64)".into());
    }
    None
}

/// Preference order of device types, best first.
fn type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Short description of an adapter: `name (backend, type, driver)`.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    let driver = [info.driver.as_str(), info.driver_info.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{} ({:?}, {:?}{})",
        info.name,
        info.backend,
        info.device_type,
        if driver.is_empty() {
            String::new()
        } else {
            format!(", {driver}")
        }
    )
}

/// The adapter the engine would use. `allow_software`: accept CPU (software) adapters such
/// as lavapipe, which `--engine auto` skips because the CPU engine is faster than them.
pub fn pick_adapter(allow_software: bool) -> std::result::Result<wgpu::Adapter, String> {
    let all = adapters();
    if all.is_empty() {
        return Err(format!(
            "no GPU adapter found (backends searched: {:?}; set WGPU_BACKEND to search others)",
            backends()
        ));
    }
    let wanted = std::env::var(ADAPTER_ENV).ok().filter(|s| !s.is_empty());
    let mut rejected = Vec::new();
    let mut usable: Vec<wgpu::Adapter> = Vec::new();
    for a in all {
        let info = a.get_info();
        if let Some(w) = &wanted {
            if !info.name.to_lowercase().contains(&w.to_lowercase()) {
                rejected.push(format!("{}: name does not match {ADAPTER_ENV}={w}", info.name));
                continue;
            }
        }
        if let Some(why) = unusable_reason(&a) {
            rejected.push(format!("{}: {why}", info.name));
            continue;
        }
        if !allow_software && info.device_type == wgpu::DeviceType::Cpu {
            rejected.push(format!(
                "{}: a software (CPU) adapter, slower than the CPU engine",
                info.name
            ));
            continue;
        }
        usable.push(a);
    }
    usable.sort_by_key(|a| type_rank(a.get_info().device_type));
    usable
        .into_iter()
        .next()
        .ok_or_else(|| format!("no usable GPU adapter ({})", rejected.join("; ")))
}
