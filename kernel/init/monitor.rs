//! The kernel monitor: a few commands on the console for the time before
//! Ferrite can run `/init` (the next issue brings user space). It lets a
//! user look at the running kernel: its log, memory, clock and interrupts.
//!
//! No Linux counterpart; Linux would panic with "No working init found".
//! Runs on the boot CPU's idle loop and sleeps in `hlt` between keys.

use crate::arch::irqflags::{local_irq_disable, local_irq_enable, safe_halt};
use crate::arch::reboot::{kernel_power_off, kernel_restart};
use crate::drivers::tty::serial::uart_8250::COM1;
use crate::kernel::printk::{LineBuf, write_timestamp};
use crate::kernel::{irq, printk, time};
use crate::mm;

const PROMPT: &[u8] = b"ferrite# ";
const HELP: &str = "\
commands: help, uptime, free, dmesg, interrupts, poweroff, reboot\n";

/// Reads command lines from the console forever.
pub fn run() -> ! {
    COM1.write(b"\nNo init to run yet: this is the kernel monitor. Type `help`.\n");
    COM1.write(PROMPT);
    let mut line = LineBuf::<80>::new();
    loop {
        let Some(byte) = next_byte() else { continue };
        match byte {
            b'\r' | b'\n' => {
                COM1.write(b"\n");
                let text = core::str::from_utf8(line.as_bytes()).unwrap_or("");
                execute(text.trim());
                line.clear();
                COM1.write(PROMPT);
            }
            0x7f | 0x08 if line.pop() => COM1.write(b"\x08 \x08"),
            b' '..=b'~' if line.push(byte) => COM1.write(&[byte]),
            _ => {}
        }
    }
}

/// The next key, sleeping until one arrives.
fn next_byte() -> Option<u8> {
    // Interrupts off between the check and `hlt`, so a key that arrives in
    // between wakes us instead of waiting for the next tick.
    local_irq_disable();
    match COM1.getc() {
        Some(byte) => {
            local_irq_enable();
            Some(byte)
        }
        None => {
            safe_halt();
            None
        }
    }
}

fn say(args: core::fmt::Arguments<'_>) {
    let mut out = LineBuf::<256>::new();
    let _ = core::fmt::Write::write_fmt(&mut out, args);
    COM1.write(out.as_bytes());
}

fn execute(command: &str) {
    match command {
        "" => {}
        "help" => COM1.write(HELP.as_bytes()),
        "uptime" => {
            let ns = time::ktime_get_ns();
            let (s, ms) = (ns / 1_000_000_000, ns / 1_000_000 % 1000);
            let jiffies = time::jiffies::jiffies();
            let ticks = jiffies.wrapping_sub(time::jiffies::INITIAL_JIFFIES);
            say(format_args!(
                "up {s}.{ms:03} s, jiffies {jiffies} ({ticks} ticks at {} Hz)\n",
                time::HZ
            ));
        }
        "free" => {
            let info = mm::si_meminfo();
            let kib = |pages: u64| pages * 4;
            say(format_args!(
                "Mem: total {} KiB, free {} KiB, used {} KiB\n",
                kib(info.total_ram_pages),
                kib(info.free_ram_pages),
                kib(info.total_ram_pages - info.free_ram_pages)
            ));
        }
        "dmesg" => printk::for_each_record(|rec| {
            let mut stamp = LineBuf::<24>::new();
            let _ = write_timestamp(&mut stamp, rec.ts_ns);
            COM1.write(stamp.as_bytes());
            COM1.write(rec.text);
            COM1.write(b"\n");
        }),
        "interrupts" => irq::for_each_action(|vector, name, count| {
            say(format_args!("{vector:#04x}: {count:>10}  {name}\n"));
        }),
        "poweroff" => kernel_power_off(),
        "reboot" => kernel_restart(),
        other => say(format_args!("{other}: unknown command; try help\n")),
    }
}
