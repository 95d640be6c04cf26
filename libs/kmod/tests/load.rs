//! The whole pipeline on an in-memory module, and what a broken one gives.

#![allow(clippy::cast_possible_truncation, reason = "test offsets are small")]

mod common;

use common::*;
use kmod::{Class, Elf, Error, load, modinfo};

const BASE: u64 = 0xffff_ffff_a000_0000;
const PRINTK: u64 = 0xffff_ffff_8100_1234;

fn resolve(name: &[u8]) -> Option<u64> {
    (name == b"printk").then_some(PRINTK)
}

fn field32(image: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(image[at..at + 4].try_into().expect("4 bytes"))
}

fn field64(image: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(image[at..at + 8].try_into().expect("8 bytes"))
}

#[test]
fn sample_module_loads_and_relocates() {
    let bytes = sample_module(b"name=sample\0vermagic=6.1.0-ferrite SMP preempt mod_unload \0");
    let elf = Elf::parse(&bytes).expect("valid object");
    let info = modinfo(&elf).expect("modinfo");
    assert_eq!(kmod::module_name(&elf).expect("name"), "sample");
    assert!(kmod::image_size(&elf, b"").expect("size") >= 3 * 4096);
    assert_eq!(info.get(b"name"), Some(&b"sample"[..]));
    let m = load(&elf, BASE, b"", &mut resolve).expect("loads");
    let text = m.layout.offsets[usize::from(TEXT)].expect("text placed");
    let data = m.layout.offsets[usize::from(DATA)].expect("data placed");
    let this = m.layout.offsets[usize::from(THIS)].expect("this_module placed");
    assert_eq!(m.layout.offsets[usize::from(MODINFO)], None, ".modinfo is not loaded");
    assert_eq!(m.layout.class_of(text), Class::Text);
    assert_eq!(m.layout.class_of(data), Class::Data);
    assert_eq!(
        m.layout.class_of(m.layout.offsets[usize::from(RODATA)].expect("ro")),
        Class::ReadOnly
    );
    assert_eq!(m.layout.size % 4096, 0);
    assert!(m.layout.offsets[usize::from(BSS)].expect("bss") + 5000 <= m.layout.size);
    let t = text as usize;
    // PLT32 to printk: S + A - P.
    let p = BASE + text + 1;
    assert_eq!(i64::from(field32(&m.image, t + 1)), PRINTK as i64 - 4 - p as i64);
    // PC32 to my_var (.data + 4).
    let p = BASE + text + 8;
    assert_eq!(i64::from(field32(&m.image, t + 8)), (BASE + data + 4) as i64 - 4 - p as i64);
    assert_eq!(field64(&m.image, t + 16), 0, "unresolved weak symbol is zero");
    assert_eq!(m.image[data as usize..data as usize + 8], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(field64(&m.image, this as usize + 64), BASE + text);
    assert_eq!(
        (m.name.as_str(), m.init, m.exit),
        ("sample", Some(BASE + text), Some(BASE + text + 16))
    );
    assert_eq!(m.exports.len(), 1);
    assert_eq!((m.exports[0].name.as_str(), m.exports[0].addr), ("my_init", BASE + text));
    assert!(
        m.symbols.iter().any(|s| s.name == "my_var" && s.addr == BASE + data + 4 && !s.is_func)
    );
}

#[test]
fn unknown_symbol_is_named() {
    let bytes = sample_module(b"name=sample\0");
    let elf = Elf::parse(&bytes).expect("valid object");
    let err = load(&elf, BASE, b"", &mut |_| None).expect_err("printk is missing");
    assert_eq!(err, Error::UnknownSymbol("printk".into()));
}

#[test]
fn far_symbol_overflows_pc32() {
    let bytes = sample_module(b"name=sample\0");
    let elf = Elf::parse(&bytes).expect("valid object");
    let err =
        load(&elf, BASE, b"", &mut |_| Some(0xffff_c900_0000_0000)).expect_err("out of reach");
    assert!(matches!(err, Error::RelocOverflow { kind: 4, .. }), "{err:?}");
}

#[test]
fn not_an_object_is_refused() {
    assert_eq!(Elf::parse(b"").err(), Some(Error::NotElf));
    assert_eq!(Elf::parse(b"\x7fELF").err(), Some(Error::NotElf));
    let mut bytes = sample_module(b"");
    bytes[16] = 2; // ET_EXEC
    assert_eq!(Elf::parse(&bytes).err(), Some(Error::NotElf));
}
