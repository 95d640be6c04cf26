//! Links the kernel with `linker.ld`, which places it at Linux's
//! `__START_KERNEL_map` and emits the PVH note QEMU boots from.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rerun-if-changed=linker.ld");
}
