//! Host tests: BARs and capability lists as QEMU's devices report them,
//! and arbitrary configuration spaces that must not panic.

use proptest::prelude::*;

use crate::regs::*;
use crate::*;

#[test]
fn devfn_and_conf1_address() {
    assert_eq!(pci_devfn(0x1f, 3), 0xfb);
    assert_eq!((pci_slot(0xfb), pci_func(0xfb)), (0x1f, 3));
    assert_eq!(pci_conf1_address(1, pci_devfn(2, 0), 0x13), 0x8001_1010);
}

#[test]
fn io_bar() {
    // A 32-port I/O BAR at 0xc000.
    let bar = decode_bar(0xc001, 0xffff_ffe1, None).expect("implemented");
    assert_eq!(bar, Bar { kind: BarKind::Io, prefetchable: false, addr: 0xc000, size: 32 });
}

#[test]
fn mem32_bar() {
    let bar = decode_bar(0xfebd_1000, 0xffff_f000, None).expect("implemented");
    assert_eq!(
        bar,
        Bar { kind: BarKind::Mem32, prefetchable: false, addr: 0xfebd_1000, size: 4096 }
    );
    assert!(!bar_is_64(0xfebd_1000));
}

#[test]
fn mem64_prefetchable_bar() {
    // virtio-pci's modern BAR: 16 KiB, 64-bit, prefetchable.
    let lo = 0xfe00_000c;
    assert!(bar_is_64(lo));
    let bar = decode_bar(lo, 0xffff_c00c, Some((0x1, 0xffff_ffff))).expect("implemented");
    assert_eq!(bar.kind, BarKind::Mem64);
    assert!(bar.prefetchable);
    assert_eq!((bar.addr, bar.size), (0x1_fe00_0000, 0x4000));
    assert_eq!(bar.end(), 0x1_fe00_3fff);
}

#[test]
fn absent_and_broken_bars() {
    assert_eq!(decode_bar(0, 0, None), None);
    assert_eq!(decode_bar(0x4, 0xffff_0004, None), None, "64-bit without its upper half");
}

fn with_caps(list: &[(u8, u8, &[u8])]) -> ConfigSpace {
    let mut cfg = ConfigSpace([0; PCI_CFG_SPACE_SIZE]);
    cfg.0[PCI_STATUS..PCI_STATUS + 2].copy_from_slice(&PCI_STATUS_CAP_LIST.to_le_bytes());
    cfg.0[PCI_CAPABILITY_LIST] = list.first().map_or(0, |c| c.0);
    for (i, &(at, id, body)) in list.iter().enumerate() {
        let at = usize::from(at);
        cfg.0[at] = id;
        cfg.0[at + 1] = list.get(i + 1).map_or(0, |c| c.0);
        cfg.0[at + 2..at + 2 + body.len()].copy_from_slice(body);
    }
    cfg
}

#[test]
fn capability_walk() {
    let cfg = with_caps(&[(0x98, PCI_CAP_ID_MSIX, &[]), (0x84, PCI_CAP_ID_VNDR, &[])]);
    let caps = capabilities(&cfg);
    assert_eq!(
        caps,
        [
            Capability { id: PCI_CAP_ID_MSIX, offset: 0x98 },
            Capability { id: PCI_CAP_ID_VNDR, offset: 0x84 }
        ]
    );
}

#[test]
fn capability_loop_ends() {
    let mut cfg = with_caps(&[(0x40, PCI_CAP_ID_MSI, &[])]);
    cfg.0[0x41] = 0x40; // points at itself
    assert_eq!(capabilities(&cfg).len(), PCI_FIND_CAP_TTL);
    cfg.0[PCI_STATUS] = 0;
    assert!(capabilities(&cfg).is_empty(), "no list without PCI_STATUS_CAP_LIST");
}

#[test]
fn virtio_caps() {
    // len, cfg_type, bar, id, pad, pad, offset, length [, multiplier]
    let common = [16, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0];
    let notify = [20, 2, 4, 0, 0, 0, 0, 0x30, 0, 0, 0, 0x10, 0, 0, 4, 0, 0, 0];
    let short = [12, 3, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0];
    let cfg = with_caps(&[
        (0x40, PCI_CAP_ID_VNDR, &common),
        (0x54, PCI_CAP_ID_VNDR, &notify),
        (0x70, PCI_CAP_ID_VNDR, &short),
    ]);
    let caps = virtio_pci_caps(&cfg);
    assert_eq!(caps.len(), 2, "the short ISR capability is skipped");
    assert_eq!(
        caps[0],
        VirtioPciCap { cfg_type: 1, bar: 4, offset: 0, length: 0x1000, notify_off_multiplier: 0 }
    );
    assert_eq!(
        caps[1],
        VirtioPciCap {
            cfg_type: 2,
            bar: 4,
            offset: 0x3000,
            length: 0x1000,
            notify_off_multiplier: 4
        }
    );
}

proptest! {
    #[test]
    fn any_config_space_parses(bytes in proptest::collection::vec(any::<u8>(), PCI_CFG_SPACE_SIZE)) {
        let mut cfg = ConfigSpace([0; PCI_CFG_SPACE_SIZE]);
        cfg.0.copy_from_slice(&bytes);
        let caps = capabilities(&cfg);
        prop_assert!(caps.len() <= PCI_FIND_CAP_TTL);
        prop_assert!(caps.iter().all(|c| c.offset >= 0x40 && c.offset % 4 == 0));
        prop_assert!(virtio_pci_caps(&cfg).iter().all(|c| usize::from(c.bar) < PCI_STD_NUM_BARS));
    }

    #[test]
    fn any_bar_decodes_to_a_power_of_two(orig: u32, sized: u32, hi: Option<(u32, u32)>) {
        if let Some(bar) = decode_bar(orig, sized, hi) {
            prop_assert!(bar.size.is_power_of_two());
            prop_assert!(bar.end() >= bar.addr);
        }
    }
}
