//! Adapter choice: which backends are searched, which adapters the engine can use, and which
//! one it picks. Vulkan unless `WGPU_BACKEND` says otherwise (the GL fallback lacks 64-bit
//! integers). The best adapter with `SHADER_INT64` wins (discrete > integrated > virtual >
//! other > CPU/software), or the first whose name contains [`ADAPTER_ENV`].

/// Environment variable selecting an adapter by (a case-insensitive part of) its name.
pub const ADAPTER_ENV: &str = "ICTWIN_GPU_ADAPTER";

/// Environment variable naming the backends to search (comma-separated), as in wgpu.
pub const BACKEND_ENV: &str = "WGPU_BACKEND";

/// The backend names [`BACKEND_ENV`] accepts (case-insensitive), with their backends.
const BACKEND_NAMES: &[(&str, wgpu::Backends)] = &[
    ("vulkan", wgpu::Backends::VULKAN),
    ("vk", wgpu::Backends::VULKAN),
    ("gl", wgpu::Backends::GL),
    ("gles", wgpu::Backends::GL),
    ("opengl", wgpu::Backends::GL),
    ("metal", wgpu::Backends::METAL),
    ("mtl", wgpu::Backends::METAL),
    ("dx12", wgpu::Backends::DX12),
    ("d3d12", wgpu::Backends::DX12),
    ("webgpu", wgpu::Backends::BROWSER_WEBGPU),
    ("noop", wgpu::Backends::NOOP),
];

/// Parses a [`BACKEND_ENV`] value strictly: every comma-separated name must be known (wgpu
/// itself skips unknown names with a log line nobody sees, searching nothing).
pub fn parse_backends(value: &str) -> Result<wgpu::Backends, String> {
    let mut out = wgpu::Backends::empty();
    for name in value.split(',').map(|n| n.trim().to_lowercase()) {
        match BACKEND_NAMES.iter().find(|(n, _)| *n == name) {
            Some((_, b)) => out |= *b,
            None => {
                let accepted: Vec<&str> = BACKEND_NAMES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "{BACKEND_ENV}={value:?}: unknown backend {name:?}; accepted (comma-separated, any case): {}",
                    accepted.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// Backends searched: Vulkan, or what `WGPU_BACKEND` names (an error when it names an
/// unknown backend).
pub fn backends() -> Result<wgpu::Backends, String> {
    match std::env::var(BACKEND_ENV) {
        Ok(v) => parse_backends(&v),
        Err(std::env::VarError::NotPresent) => Ok(wgpu::Backends::VULKAN),
        Err(e) => Err(format!("{BACKEND_ENV}: {e}")),
    }
}

/// A wgpu instance on `backends` (instance flags from the `WGPU_*` environment variables).
fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees on the searched backends ([`backends`]).
pub fn adapters() -> Result<Vec<wgpu::Adapter>, String> {
    let b = backends()?;
    Ok(pollster::block_on(instance(b).enumerate_adapters(b)))
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
    let all = adapters()?;
    if all.is_empty() {
        return Err(format!(
            "no GPU adapter found (backends searched: {:?}; set {BACKEND_ENV} to search others)",
            backends()?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_are_parsed_strictly() {
        assert_eq!(parse_backends("vulkan"), Ok(wgpu::Backends::VULKAN));
        assert_eq!(
            parse_backends(" VK , gl"),
            Ok(wgpu::Backends::VULKAN | wgpu::Backends::GL)
        );
        let e = parse_backends("bogus").unwrap_err();
        assert!(
            e.contains("WGPU_BACKEND") && e.contains("\"bogus\"") && e.contains("vulkan"),
            "{e}"
        );
        assert!(parse_backends("vulkan,").is_err());
    }
}
