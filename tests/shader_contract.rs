//! The contract between the host and the WGSL programs, checked without a GPU: every struct
//! the shaders share with the host ([`SharedStruct`]) has, in every assembled program that
//! declares it, the same members at the same offsets with the same sizes as the Rust
//! `#[repr(C)]` definition; the replica-state word offsets the model program reads are the
//! Rust layout's. naga lays the programs out, as a driver would.

use ictwin::gpu::layout::{NodeState, ReplicaState, Slice, NODE_STATE_WORDS, STATE_FIXED_WORDS};
use ictwin::gpu::shaders;
use ictwin_kernels::shared::SharedStruct;
use ictwin_kernels::Params;

/// (name, byte offset, byte size) of each member.
type Members = Vec<(String, u32, u32)>;

/// A struct's members and total size as the Rust compiler lays it out.
fn rust_layout<T: SharedStruct>() -> (Members, u32) {
    let members = T::FIELDS
        .iter()
        .map(|(name, offset)| (name.to_string(), *offset as u32, 4))
        .collect();
    (members, std::mem::size_of::<T>() as u32)
}

fn parse(name: &str, src: &str) -> naga::Module {
    naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)))
}

/// Members and size of struct `wgsl_name` as naga lays it out, if the module declares it.
fn wgsl_layout(module: &naga::Module, wgsl_name: &str) -> Option<(Members, u32)> {
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("layout");
    module.types.iter().find_map(|(handle, ty)| match &ty.inner {
        naga::TypeInner::Struct { members, .. } if ty.name.as_deref() == Some(wgsl_name) => {
            let members = members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset, layouter[m.ty].size))
                .collect();
            Some((members, layouter[handle].size))
        }
        _ => None,
    })
}

/// The value of u32 constant `name` in `module`, if declared.
fn wgsl_u32_constant(module: &naga::Module, name: &str) -> Option<u32> {
    let c = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))?
        .1;
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => Some(v),
        ref e => panic!("constant {name} is not a u32 literal: {e:?}"),
    }
}

/// Checks `T` in every program declaring it; returns how many do.
fn check_struct<T: SharedStruct>(programs: &[(String, naga::Module)]) -> usize {
    let rust = rust_layout::<T>();
    let mut declared = 0;
    for (program, module) in programs {
        if let Some(wgsl) = wgsl_layout(module, T::WGSL_NAME) {
            assert_eq!(
                wgsl,
                rust,
                "{} in the {program} program (left: WGSL, right: Rust)",
                T::WGSL_NAME
            );
            declared += 1;
        }
    }
    declared
}

/// Checks that `module` declares `{prefix}_{FIELD}` = the word offset of each field of `T`.
fn check_word_offsets<T: SharedStruct>(program: &str, module: &naga::Module, prefix: &str) {
    for (field, offset) in T::FIELDS {
        let name = format!("{prefix}_{}", field.to_uppercase());
        assert_eq!(
            wgsl_u32_constant(module, &name),
            Some(*offset as u32 / 4),
            "{name} in the {program} program"
        );
    }
}

fn all_modules() -> Vec<(String, naga::Module)> {
    shaders::all_programs()
        .into_iter()
        .map(|(name, src)| {
            let m = parse(&name, &src);
            (name, m)
        })
        .collect()
}

#[test]
fn shared_structs_have_the_rust_layout_in_every_program() {
    let programs = all_modules();
    let models = programs.iter().filter(|(name, _)| name.starts_with("model")).count();
    assert!(models > 0);
    // Every model program reads both uniforms; no other program may declare them differently.
    assert!(
        check_struct::<Params>(&programs) >= models,
        "a model program lacks Params"
    );
    assert!(
        check_struct::<Slice>(&programs) >= models,
        "a model program lacks Slice"
    );
}

#[test]
fn replica_state_offsets_are_the_rust_layout_in_every_model_program() {
    for (program, module) in all_modules().iter().filter(|(name, _)| name.starts_with("model")) {
        check_word_offsets::<ReplicaState>(program, module, "STATE");
        check_word_offsets::<NodeState>(program, module, "NODE");
        assert_eq!(wgsl_u32_constant(module, "STATE_FIXED_WORDS"), Some(STATE_FIXED_WORDS));
        assert_eq!(wgsl_u32_constant(module, "NODE_STATE_WORDS"), Some(NODE_STATE_WORDS));
    }
}

/// `NodeClass::private_bytes` (the per-invocation private memory its doc, the model's doc and
/// the README quote: 12.7, 23.7 and 31.1 KiB) is the sum of every private variable of the
/// model program of each class, as naga lays them out.
#[test]
fn private_memory_per_invocation_is_what_the_docs_say() {
    for (class, quoted) in shaders::NODE_CLASSES.iter().zip([12988, 24252, 31804]) {
        let src = shaders::model_program(shaders::Accumulation::Global, *class);
        let module = parse("model", &src);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).expect("layout");
        let actual: u32 = module
            .global_variables
            .iter()
            .filter(|(_, v)| v.space == naga::AddressSpace::Private)
            .map(|(_, v)| layouter[v.ty].size)
            .sum();
        assert_eq!(actual, class.private_bytes(), "class of {} nodes", class.node_cap);
        assert_eq!(actual, quoted, "class of {} nodes", class.node_cap);
    }
}
