//! The ELF checks and load plan against hand-built files, the stack
//! layout read back word by word, and random inputs that must never panic.
#![allow(clippy::cast_possible_truncation, reason = "test addresses and indices are small")]
use binfmt::elf::{ElfError, ElfImage};
use binfmt::script::parse_shebang;
use binfmt::stack::{AuxvValues, MAX_ARG_STRLEN, TooBig, check_arg_limits, create_elf_tables};
use proptest::prelude::*;

const TASK_SIZE: u64 = 0x7fff_ffff_f000;
const DYN_BASE: u64 = 0x5555_5555_4000;

/// An ELF64 header with `phdrs` right after it; each phdr is
/// (type, flags, offset, vaddr, filesz, memsz).
fn elf(e_type: u16, entry: u64, phdrs: &[(u32, u32, u64, u64, u64, u64)], total: usize) -> Vec<u8> {
    let mut f = vec![0u8; total.max(64 + 56 * phdrs.len())];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for (i, &(t, fl, off, va, fs, ms)) in phdrs.iter().enumerate() {
        let p = &mut f[64 + 56 * i..120 + 56 * i];
        p[0..4].copy_from_slice(&t.to_le_bytes());
        p[4..8].copy_from_slice(&fl.to_le_bytes());
        p[8..16].copy_from_slice(&off.to_le_bytes());
        p[16..24].copy_from_slice(&va.to_le_bytes());
        p[24..32].copy_from_slice(&va.to_le_bytes());
        p[32..40].copy_from_slice(&fs.to_le_bytes());
        p[40..48].copy_from_slice(&ms.to_le_bytes());
        p[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    f
}

fn plan(f: &[u8]) -> Result<binfmt::elf::LoadPlan, ElfError> {
    ElfImage::parse(f)?.load_plan(f.len() as u64, DYN_BASE, 0x10000, TASK_SIZE)
}

#[test]
fn static_exec_plan() {
    let f = elf(
        2,
        0x401000,
        &[(1, 5, 0, 0x400000, 0x1100, 0x1100), (1, 6, 0x2000, 0x402000, 0x10, 0x3000)],
        0x3000,
    );
    let p = plan(&f).expect("valid");
    assert_eq!(p.load_bias, 0);
    assert_eq!(p.entry, 0x401000);
    assert_eq!(p.phdr_addr, 0x400040);
    assert_eq!((p.segments[0].map_start, p.segments[0].map_end), (0x400000, 0x402000));
    assert_eq!((p.segments[1].map_start, p.segments[1].map_end), (0x402000, 0x405000));
    assert_eq!(p.start_brk, 0x405000);
    assert_eq!((p.start_code, p.end_code, p.end_data), (0x400000, 0x401100, 0x402010));
}

#[test]
fn parse_with_reads_only_the_phdr_table() {
    let f = elf(
        2,
        0x401000,
        &[(1, 5, 0, 0x400000, 0x1100, 0x1100), (1, 6, 0x2000, 0x402000, 0x10, 0x3000)],
        0x3000,
    );
    let mut asked = None;
    let img = ElfImage::parse_with(&f[..64], |off, size| {
        asked = Some((off, size));
        let start = usize::try_from(off).ok()?;
        f.get(start..start + size).map(<[u8]>::to_vec)
    })
    .expect("valid");
    assert_eq!(asked, Some((64, 2 * 56)));
    assert_eq!(img.phdrs, ElfImage::parse(&f).expect("valid").phdrs);
    let p = img.load_plan(f.len() as u64, DYN_BASE, 0x10000, TASK_SIZE).expect("plan");
    assert_eq!((p.segments[1].file_len, p.segments[1].mem_len), (0x10, 0x3000));
    assert_eq!(ElfImage::parse_with(&f[..64], |_, _| None).err(), Some(ElfError::BadPhdrs));
    assert_eq!(
        ElfImage::parse_with(&f[..64], |_, _| Some(vec![0; 8])).err(),
        Some(ElfError::BadPhdrs)
    );
}

#[test]
fn static_pie_goes_to_dyn_base() {
    let f = elf(3, 0x1000, &[(1, 5, 0, 0, 0x1100, 0x1100)], 0x2000);
    let p = plan(&f).expect("valid");
    assert_eq!(p.load_bias, DYN_BASE);
    assert_eq!(p.entry, DYN_BASE + 0x1000);
    assert_eq!(p.phdr_addr, DYN_BASE + 64);
}

#[test]
fn malformed_files_are_refused() {
    let good = elf(2, 0x401000, &[(1, 5, 0, 0x400000, 0x100, 0x100)], 0x1000);
    assert!(plan(&good).is_ok());
    for cut in [0, 3, 63, 64, 100] {
        assert!(plan(&good[..cut]).is_err(), "truncated at {cut}");
    }
    let mut bad = good.clone();
    bad[0] = 0;
    assert_eq!(plan(&bad).err(), Some(ElfError::BadMagic));
    let mut bad = good.clone();
    bad[4] = 1;
    assert_eq!(plan(&bad).err(), Some(ElfError::WrongArch));
    let mut bad = good.clone();
    bad[18] = 3;
    assert_eq!(plan(&bad).err(), Some(ElfError::WrongArch));
    let mut bad = good.clone();
    bad[16] = 1;
    assert_eq!(plan(&bad).err(), Some(ElfError::BadType));
    let mut bad = good.clone();
    bad[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
    assert_eq!(plan(&bad).err(), Some(ElfError::BadPhdrs));
    let mut bad = good.clone();
    bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(plan(&bad).err(), Some(ElfError::BadPhdrs));
    let interp = elf(2, 0, &[(3, 4, 0, 0, 1, 1), (1, 5, 0, 0x400000, 0x100, 0x100)], 0x1000);
    assert_eq!(plan(&interp).err(), Some(ElfError::Interp));
    let past_eof = elf(2, 0, &[(1, 5, 0, 0x400000, 0x2000, 0x2000)], 0x1000);
    assert_eq!(plan(&past_eof).err(), Some(ElfError::BadSegment));
    let overlap = elf(
        2,
        0,
        &[(1, 5, 0, 0x400000, 0x100, 0x2000), (1, 6, 0x100, 0x401100, 0x10, 0x10)],
        0x1000,
    );
    assert_eq!(plan(&overlap).err(), Some(ElfError::BadSegment));
    let wraps = elf(2, 0, &[(1, 5, 0, u64::MAX - 0xfff, 0x100, 0x2000)], 0x1000);
    assert_eq!(plan(&wraps).err(), Some(ElfError::BadSegment));
    let too_high = elf(2, 0, &[(1, 5, 0, TASK_SIZE, 0x100, 0x100)], 0x1000);
    assert_eq!(plan(&too_high).err(), Some(ElfError::BadSegment));
    let at_zero = elf(2, 0, &[(1, 5, 0, 0, 0x100, 0x100)], 0x1000);
    assert_eq!(plan(&at_zero).err(), Some(ElfError::BadSegment));
    let filesz_gt_memsz = elf(2, 0, &[(1, 5, 0, 0x400000, 0x200, 0x100)], 0x1000);
    assert_eq!(plan(&filesz_gt_memsz).err(), Some(ElfError::BadSegment));
    let none = elf(2, 0, &[(4, 4, 0, 0, 0, 0)], 0x1000);
    assert_eq!(plan(&none).err(), Some(ElfError::BadSegment));
}

fn word(img: &binfmt::stack::StackImage, addr: u64) -> u64 {
    let off = (addr - img.sp) as usize;
    u64::from_le_bytes(img.bytes[off..off + 8].try_into().expect("8 bytes"))
}

fn cstr(img: &binfmt::stack::StackImage, addr: u64) -> Vec<u8> {
    let off = (addr - img.sp) as usize;
    img.bytes[off..].iter().take_while(|&&c| c != 0).copied().collect()
}

#[test]
fn stack_layout_reads_back() {
    let top = TASK_SIZE;
    let aux = AuxvValues {
        hwcap: 0x178bfbff,
        clktck: 100,
        phdr: 0x400040,
        phent: 56,
        phnum: 2,
        entry: 0x401000,
        ..Default::default()
    };
    let argv: [&[u8]; 2] = [b"/bin/true", b"-x"];
    let envp: [&[u8]; 1] = [b"HOME=/"];
    let img = create_elf_tables(top, &argv, &envp, b"/bin/true", b"x86_64", &[7; 16], &aux)
        .expect("fits");
    assert_eq!(img.sp % 16, 0);
    assert_eq!(img.bytes.len() as u64, top - img.sp);
    assert_eq!(word(&img, img.sp), 2);
    let a0 = word(&img, img.sp + 8);
    assert_eq!(cstr(&img, a0), b"/bin/true");
    assert_eq!(a0, img.arg_start);
    assert_eq!(cstr(&img, word(&img, img.sp + 16)), b"-x");
    assert_eq!(word(&img, img.sp + 24), 0);
    assert_eq!(cstr(&img, word(&img, img.sp + 32)), b"HOME=/");
    assert_eq!(word(&img, img.sp + 40), 0);
    let mut at = img.sp + 48;
    let mut keys = Vec::new();
    loop {
        let (k, v) = (word(&img, at), word(&img, at + 8));
        keys.push(k);
        match k {
            25 => assert_eq!(&img.bytes[(v - img.sp) as usize..][..16], &[7; 16]),
            31 => assert_eq!(cstr(&img, v), b"/bin/true"),
            15 => assert_eq!(cstr(&img, v), b"x86_64"),
            6 => assert_eq!(v, 4096),
            9 => assert_eq!(v, 0x401000),
            _ => {}
        }
        at += 16;
        if k == 0 {
            break;
        }
    }
    assert_eq!(keys, [16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 23, 25, 26, 31, 15, 0]);
    assert_eq!(word(&img, top - 8), 0);
    assert_eq!(img.env_end + b"/bin/true\0".len() as u64, top - 8);
}

#[test]
fn argument_limits() {
    let rlim = 8 << 20;
    assert_eq!(check_arg_limits(&[b"a"], &[], b"/x", rlim), Ok(()));
    let long = vec![b'a'; MAX_ARG_STRLEN];
    assert_eq!(check_arg_limits(&[&long], &[], b"/x", rlim), Err(TooBig));
    let ok = vec![b'a'; MAX_ARG_STRLEN - 1];
    let many: Vec<&[u8]> = (0..15).map(|_| ok.as_slice()).collect();
    assert_eq!(check_arg_limits(&many, &[], b"/x", rlim), Ok(()));
    let too_many: Vec<&[u8]> = (0..16).map(|_| ok.as_slice()).collect();
    assert_eq!(check_arg_limits(&too_many, &[], b"/x", rlim), Err(TooBig));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = plan(&bytes);
        let _ = parse_shebang(&bytes);
    }

    #[test]
    fn corrupted_headers_never_panic(idx in 0usize..176, val in any::<u8>(), cut in 0usize..0x1000) {
        let mut f = elf(2, 0x401000, &[(1, 5, 0, 0x400000, 0x100, 0x100), (1, 6, 0x100, 0x401100, 0x10, 0x3000)], 0x1000);
        f[idx] = val;
        let _ = plan(&f);
        let _ = plan(&f[..cut.min(f.len())]);
    }

    #[test]
    fn shebang_with_junk(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut f = b"#!".to_vec();
        f.extend(tail);
        if let Some((interp, arg)) = parse_shebang(&f) {
            prop_assert!(!interp.contains(&b' ') && !interp.contains(&0));
            if let Some(a) = arg { prop_assert!(!a.contains(&0)); }
        }
    }
}
