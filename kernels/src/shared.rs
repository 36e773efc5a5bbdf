//! Structs shared with WGSL, defined once. [`shared_struct!`] declares a `#[repr(C)]` struct
//! of u32 fields and lists those fields ([`SharedStruct::FIELDS`]); the host generates the
//! WGSL declaration from that list and a test compares it with what naga lays out. All fields
//! are u32, so the WGSL uniform/storage layout is the plain C layout: 4 bytes per field, in
//! declaration order, no padding.

/// A struct whose layout the WGSL programs share.
pub trait SharedStruct: bytemuck::Pod {
    /// The struct's name in WGSL (equal to the Rust name).
    const WGSL_NAME: &'static str;
    /// Every field in declaration order: (name, byte offset). Each field is a u32 (4 bytes).
    const FIELDS: &'static [(&'static str, usize)];
}

/// Declares a `#[repr(C)]`, `Pod` struct of `pub` u32 fields and implements
/// [`SharedStruct`] for it, so its field list cannot miss, rename or reorder a field.
#[macro_export]
macro_rules! shared_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident: u32, )*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: u32, )*
        }

        impl $crate::shared::SharedStruct for $name {
            const WGSL_NAME: &'static str = stringify!($name);
            const FIELDS: &'static [(&'static str, usize)] =
                &[$( (stringify!($field), core::mem::offset_of!($name, $field)), )*];
        }
    };
}

#[cfg(test)]
mod tests {
    use super::SharedStruct;

    crate::shared_struct! {
        /// Test struct.
        pub struct Pair {
            pub a: u32,
            pub b: u32,
        }
    }

    #[test]
    fn fields_are_listed_in_declaration_order() {
        assert_eq!(Pair::WGSL_NAME, "Pair");
        assert_eq!(Pair::FIELDS, &[("a", 0), ("b", 4)]);
    }
}
