//! A tiny ELF relocatable object writer: a module like the SDK builds, made
//! in memory so that tests need no compiler.
#![allow(dead_code)]
#![allow(clippy::cast_possible_truncation, reason = "test objects are small")]

pub struct Sec {
    pub name: &'static str,
    pub kind: u32,
    pub flags: u64,
    pub data: Vec<u8>,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

pub fn sec(name: &'static str, kind: u32, flags: u64, data: Vec<u8>) -> Sec {
    Sec { name, kind, flags, data, link: 0, info: 0, align: 8, entsize: 0 }
}

pub fn sym(name: u32, info: u8, shndx: u16, value: u64, size: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&name.to_le_bytes());
    v.push(info);
    v.push(0);
    v.extend_from_slice(&shndx.to_le_bytes());
    v.extend_from_slice(&value.to_le_bytes());
    v.extend_from_slice(&size.to_le_bytes());
    v
}

pub fn rela(offset: u64, sym: u32, kind: u32, addend: i64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&offset.to_le_bytes());
    v.extend_from_slice(&((u64::from(sym) << 32) | u64::from(kind)).to_le_bytes());
    v.extend_from_slice(&addend.to_le_bytes());
    v
}

/// Writes an ELF64 x86_64 ET_REL with `secs` after the null section; the
/// last section is `.shstrtab`, built here.
pub fn write(mut secs: Vec<Sec>) -> Vec<u8> {
    let mut shstr = vec![0u8];
    let mut names = vec![0u32];
    for s in &secs {
        names.push(shstr.len() as u32);
        shstr.extend_from_slice(s.name.as_bytes());
        shstr.push(0);
    }
    names.push(shstr.len() as u32);
    shstr.extend_from_slice(b".shstrtab\0");
    secs.push(sec(".shstrtab", 3, 0, shstr));
    let mut out = vec![0u8; 64];
    let mut offsets = vec![0u64];
    for s in &secs {
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        offsets.push(out.len() as u64);
        if s.kind != 8 {
            out.extend_from_slice(&s.data);
        }
    }
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    let shoff = out.len() as u64;
    out.extend_from_slice(&[0u8; 64]);
    for (i, s) in secs.iter().enumerate() {
        let mut h = Vec::new();
        h.extend_from_slice(&names[i + 1].to_le_bytes());
        h.extend_from_slice(&s.kind.to_le_bytes());
        h.extend_from_slice(&s.flags.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        h.extend_from_slice(&offsets[i + 1].to_le_bytes());
        h.extend_from_slice(&(s.data.len() as u64).to_le_bytes());
        h.extend_from_slice(&s.link.to_le_bytes());
        h.extend_from_slice(&s.info.to_le_bytes());
        h.extend_from_slice(&s.align.to_le_bytes());
        h.extend_from_slice(&s.entsize.to_le_bytes());
        out.extend_from_slice(&h);
    }
    out[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    out[16..18].copy_from_slice(&1u16.to_le_bytes());
    out[18..20].copy_from_slice(&62u16.to_le_bytes());
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes());
    out[60..62].copy_from_slice(&((secs.len() + 1) as u16).to_le_bytes());
    out[62..64].copy_from_slice(&(secs.len() as u16).to_le_bytes());
    out
}

// Section indices of `sample_module`.
pub const TEXT: u16 = 1;
pub const RODATA: u16 = 2;
pub const DATA: u16 = 3;
pub const BSS: u16 = 4;
pub const THIS: u16 = 5;
pub const MODINFO: u16 = 6;
pub const KSYMTAB: u16 = 7;

/// A module "sample" whose init calls `printk` (PLT32), reads `my_var`
/// (PC32), takes the address of a weak undefined symbol (64), and exports
/// `my_init`.
pub fn sample_module(modinfo: &[u8]) -> Vec<u8> {
    let mut this = Vec::new();
    this.extend_from_slice(&kmod::MODULE_MAGIC.to_le_bytes());
    let mut name = [0u8; 56];
    name[..6].copy_from_slice(b"sample");
    this.extend_from_slice(&name);
    this.extend_from_slice(&[0u8; 16]);
    let strtab = b"\0printk\0my_init\0my_var\0weak_thing\0my_exit\0".to_vec();
    let mut syms = sym(0, 0, 0, 0, 0);
    syms.extend(sym(0, 3, TEXT, 0, 0)); // 1: section .text
    syms.extend(sym(1, 0x10, 0, 0, 0)); // 2: printk, global undefined
    syms.extend(sym(8, 0x12, TEXT, 0, 16)); // 3: my_init, global func
    syms.extend(sym(16, 0x11, DATA, 4, 4)); // 4: my_var, global object
    syms.extend(sym(23, 0x20, 0, 0, 0)); // 5: weak_thing, weak undefined
    syms.extend(sym(34, 0x02, TEXT, 16, 8)); // 6: my_exit, local func
    syms.extend(sym(0, 3, RODATA, 0, 0)); // 7: section .rodata
    let mut rela_text = rela(1, 2, 4, -4);
    rela_text.extend(rela(8, 4, 2, -4));
    rela_text.extend(rela(16, 5, 1, 0));
    let mut rela_this = rela(64, 3, 1, 0);
    rela_this.extend(rela(72, 6, 1, 0));
    let mut rela_ksym = rela(0, 3, 1, 0);
    rela_ksym.extend(rela(8, 7, 1, 0));
    let mut secs = vec![
        sec(".text", 1, 6, vec![0u8; 24]),
        sec(".rodata", 1, 2, b"my_init\0".to_vec()),
        sec(".data", 1, 3, vec![1, 2, 3, 4, 5, 6, 7, 8]),
        sec(".bss", 8, 3, vec![0u8; 5000]),
        sec(".gnu.linkonce.this_module", 1, 3, this),
        sec(".modinfo", 1, 2, modinfo.to_vec()),
        sec("__ksymtab", 1, 2, vec![0u8; 16]),
        sec(".symtab", 2, 0, syms),
        sec(".strtab", 3, 0, strtab),
        sec(".rela.text", 4, 0x40, rela_text),
        sec(".rela.gnu.linkonce.this_module", 4, 0x40, rela_this),
        sec(".rela__ksymtab", 4, 0x40, rela_ksym),
    ];
    secs[7].link = 9;
    secs[7].info = 6;
    secs[7].entsize = 24;
    for (i, target) in [(9, TEXT), (10, THIS), (11, KSYMTAB)] {
        secs[i].link = 8;
        secs[i].info = u32::from(target);
        secs[i].entsize = 24;
    }
    write(secs)
}
