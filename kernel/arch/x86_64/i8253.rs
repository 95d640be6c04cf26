//! The 8253/8254 programmable interval timer: used only to measure the TSC
//! at boot (channel 2, gated through port 0x61), then switched off in
//! favour of the local APIC timer.
//!
//! Linux: arch/x86/kernel/tsc.c (`pit_calibrate_tsc`),
//! drivers/clocksource/i8253.c (`clockevent_i8253_disable`),
//! include/linux/i8253.h.
//!
//! # Locking
//! Boot CPU only, before other CPUs run and with interrupts off (callers
//! hold them off so an interrupt cannot stretch the measured window).

use x86_64::instructions::port::Port;

use crate::arch::tsc::rdtsc;

/// The PIT's input clock in Hz (Linux: `PIT_TICK_RATE`).
pub const PIT_TICK_RATE: u64 = 1_193_182;

const PIT_CH2: u16 = 0x42;
const PIT_MODE: u16 = 0x43;
/// Port 0x61 (NMI status and control): bit 0 gates channel 2, bit 1 feeds
/// it to the speaker, bit 5 reads channel 2's output.
const PORT_61: u16 = 0x61;
const GATE2: u8 = 0x01;
const SPEAKER: u8 = 0x02;
const OUT2: u8 = 0x20;

fn inb(port: u16) -> u8 {
    let mut p = Port::<u8>::new(port);
    // SAFETY: PIT and port-0x61 reads have no side effects on memory.
    unsafe { p.read() }
}

fn outb(port: u16, value: u8) {
    let mut p = Port::<u8>::new(port);
    // SAFETY: programs the PIT or the channel-2 gate; touches no memory.
    unsafe { p.write(value) };
}

/// Counts TSC cycles while PIT channel 2 counts down `ms` milliseconds in
/// mode 0; returns the TSC frequency in kHz, or `None` if the PIT output
/// never rose (no PIT) or the window was too short to mean anything.
pub fn pit_calibrate_tsc(ms: u64) -> Option<u64> {
    let latch = PIT_TICK_RATE * ms / 1000;
    // Gate high, speaker off.
    outb(PORT_61, (inb(PORT_61) & !SPEAKER) | GATE2);
    // Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count), binary.
    outb(PIT_MODE, 0xb0);
    let [lo, hi, ..] = latch.to_le_bytes();
    outb(PIT_CH2, lo);
    // The count loads, and the window opens, with the high byte.
    let t1 = rdtsc();
    outb(PIT_CH2, hi);

    let mut t2 = t1;
    let mut loops: u64 = 0;
    // A bound on the loop so a missing PIT cannot hang the boot: each port
    // read takes at least a few hundred ns, so this is many seconds.
    while inb(PORT_61) & OUT2 == 0 {
        t2 = rdtsc();
        loops += 1;
        if loops > 50_000_000 {
            return None;
        }
    }
    // Linux's sanity check: too few reads means the PIT did not count.
    if loops < 1000 {
        return None;
    }
    Some((t2 - t1) / ms)
}

/// Stops channel 0, which the BIOS left ticking at 18.2 Hz (Linux:
/// `clockevent_i8253_disable`): mode 0 without a count holds it idle.
pub fn clockevent_i8253_disable() {
    outb(PIT_MODE, 0x30);
}
