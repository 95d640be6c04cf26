use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// A disk of `capacity` sectors, all zero but those given.
#[derive(Debug)]
struct Disk {
    capacity: u64,
    sectors: BTreeMap<u64, [u8; SECTOR_SIZE]>,
}

impl Disk {
    fn read(&self, lba: u64, buf: &mut [u8; SECTOR_SIZE]) -> bool {
        if lba >= self.capacity {
            return false;
        }
        *buf = self.sectors.get(&lba).copied().unwrap_or([0; SECTOR_SIZE]);
        true
    }

    fn parse(&self) -> Option<Table> {
        msdos_partition(|lba, buf| self.read(lba, buf), self.capacity, 16)
    }
}

/// A boot record with `(type, start, sectors)` in its first slots.
fn record(parts: &[(u8, u32, u32)]) -> [u8; SECTOR_SIZE] {
    let mut s = [0u8; SECTOR_SIZE];
    for (i, &(ty, start, len)) in parts.iter().enumerate() {
        let at = TABLE_OFFSET + i * ENTRY_SIZE;
        s[at + 4] = ty;
        s[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
        s[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xaa;
    s
}

fn part(number: u32, start: u64, sectors: u64, sys_ind: u8, logical: bool) -> Partition {
    Partition { number, start, sectors, sys_ind, logical }
}

#[test]
fn two_primaries() {
    let mbr = record(&[(0x83, 2048, 4096), (0x83, 6144, 2048)]);
    let disk = Disk { capacity: 8192, sectors: [(0, mbr)].into() };
    let table = disk.parse().expect("a DOS table");
    assert_eq!(
        table.partitions,
        [part(1, 2048, 4096, 0x83, false), part(2, 6144, 2048, 0x83, false)]
    );
    assert!(table.notes.is_empty());
    assert_eq!(table.describe("vda"), " vda: vda1 vda2");
}

#[test]
fn no_signature_is_no_table() {
    let mut mbr = record(&[(0x83, 1, 10)]);
    mbr[511] = 0;
    assert_eq!(Disk { capacity: 100, sectors: [(0, mbr)].into() }.parse(), None);
}

#[test]
fn bad_boot_indicator_is_no_table() {
    let mut mbr = record(&[(0x83, 1, 10)]);
    mbr[TABLE_OFFSET] = 0x12;
    assert_eq!(Disk { capacity: 100, sectors: [(0, mbr)].into() }.parse(), None);
}

#[test]
fn logical_partitions_follow_the_ebr_chain() {
    // Extended at 100..1100; EBR at 100 holds vda5 at 101 and links to
    // the EBR at 100 + 500, which holds vda6.
    let mbr = record(&[(0x83, 1, 99), (0x05, 100, 1000)]);
    let ebr1 = record(&[(0x83, 1, 400), (0x05, 500, 500)]);
    let ebr2 = record(&[(0x83, 1, 499)]);
    let disk = Disk { capacity: 2000, sectors: [(0, mbr), (100, ebr1), (600, ebr2)].into() };
    let table = disk.parse().expect("a DOS table");
    assert_eq!(
        table.partitions,
        [
            part(1, 1, 99, 0x83, false),
            part(2, 100, 2, 0x05, false),
            part(5, 101, 400, 0x83, true),
            part(6, 601, 499, 0x83, true),
        ]
    );
    assert_eq!(table.describe("vda"), " vda: vda1 vda2 < vda5 vda6 >");
}

#[test]
fn an_ebr_loop_ends() {
    // The EBR links to itself and holds no data partition.
    let mbr = record(&[(0x05, 10, 100)]);
    let ebr = record(&[(0x05, 0, 100)]);
    let disk = Disk { capacity: 200, sectors: [(0, mbr), (10, ebr)].into() };
    let table = disk.parse().expect("a DOS table");
    assert_eq!(table.partitions, [part(1, 10, 2, 0x05, false)]);
}

#[test]
fn an_ebr_loop_with_data_stops_at_the_minor_limit() {
    let mbr = record(&[(0x05, 10, 100)]);
    let ebr = record(&[(0x83, 1, 5), (0x05, 0, 100)]);
    let disk = Disk { capacity: 200, sectors: [(0, mbr), (10, ebr)].into() };
    let table = disk.parse().expect("a DOS table");
    let numbers: Vec<u32> = table.partitions.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
}

#[test]
fn entries_past_the_end_are_refused_or_cut() {
    let mbr = record(&[(0x83, 50, 100), (0x83, 500, 10), (0, 0, 0), (0x83, 1, 10)]);
    let table = Disk { capacity: 100, sectors: [(0, mbr)].into() }.parse().expect("a table");
    assert_eq!(table.partitions, [part(1, 50, 50, 0x83, false), part(4, 1, 10, 0x83, false)]);
    assert_eq!(
        table.notes,
        [Note::Truncated { number: 1, sectors: 100 }, Note::BeyondEnd { number: 2, start: 500 }]
    );
}

#[test]
fn names_of_disks_ending_in_a_digit_take_p() {
    assert_eq!(partition_name("vda", 1), "vda1");
    assert_eq!(partition_name("nvme0n1", 2), "nvme0n1p2");
}

/// A disk of random sectors, with the signature forced on some so that
/// parsing goes past the first check.
fn random_disk() -> impl Strategy<Value = Disk> {
    let sector = (prop::collection::vec(any::<u8>(), SECTOR_SIZE), any::<bool>(), 0u8..4).prop_map(
        |(bytes, signed, extended_slot)| {
            let mut s = [0u8; SECTOR_SIZE];
            s.copy_from_slice(&bytes);
            if signed {
                s[510] = 0x55;
                s[511] = 0xaa;
                for i in 0..4 {
                    s[TABLE_OFFSET + i * ENTRY_SIZE] &= 0x80;
                }
                let at = TABLE_OFFSET + usize::from(extended_slot) * ENTRY_SIZE;
                s[at + 4] = 0x05;
                // Small starts, so that links land on other given sectors.
                s[at + 8..at + 12].copy_from_slice(&u32::from(bytes[0] % 8).to_le_bytes());
            }
            s
        },
    );
    (1u64..64, prop::collection::vec((0u64..16, sector), 1..8)).prop_map(|(capacity, given)| {
        let mut sectors: BTreeMap<_, _> = given.into_iter().collect();
        if let Some(first) = sectors.values().next().copied() {
            sectors.insert(0, first);
        }
        Disk { capacity, sectors }
    })
}

proptest! {
    #[test]
    fn random_sectors_never_panic_nor_leave_the_disk(disk in random_disk()) {
        if let Some(table) = disk.parse() {
            for p in &table.partitions {
                prop_assert!(p.sectors >= 1);
                prop_assert!(p.start < disk.capacity);
                prop_assert!(p.start + p.sectors <= disk.capacity);
                prop_assert!(p.number >= 1 && p.number < 16);
            }
            let mut numbers: Vec<u32> = table.partitions.iter().map(|p| p.number).collect();
            numbers.dedup();
            prop_assert_eq!(numbers.len(), table.partitions.len());
            let _ = table.describe("vda");
        }
    }
}
