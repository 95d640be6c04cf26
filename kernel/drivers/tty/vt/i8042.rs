//! The PC keyboard: the i8042 controller's keyboard port, its scan codes
//! turned into key codes and fed to the foreground virtual console.
//!
//! Linux: drivers/input/serio/i8042.c (`i8042_controller_init`,
//! `i8042_interrupt`), drivers/input/keyboard/atkbd.c (the translated
//! set-2 scan codes, `atkbd_set2_keycode` through `atkbd_unxlate_table`),
//! drivers/tty/vt/keyboard.c (`kbd_event` -> `kbd_keycode`). Ferrite has
//! no input layer yet, so the three meet here; this file moves to
//! drivers/input/ when one exists.
//!
//! The controller translates the keyboard's set 2 into set 1 (`CTR_XLATE`,
//! as the BIOS leaves it and Linux keeps it), in which a make code below
//! 0x59 is the Linux key code itself, bit 7 marks a release, and `0xe0`
//! prefixes the extended keys ([`E0_KEYCODES`]). The mouse port is left
//! disabled. Keys reach the foreground console's tty only while it is open.
//!
//! # Locking
//! `I8042` (Linux: `i8042_lock`), an IRQ-safe leaf around the ports and the
//! prefix state; the key is translated and delivered after it is dropped.

use x86_64::instructions::port::Port;

use super::keyboard_input::kbd_keycode;
use super::vt::{CONSOLES, set_console, vt_console_tty};
use crate::arch::ioapic;
use crate::arch::irq_vectors::isa_irq_vector;
use crate::drivers::tty::n_tty::n_tty_receive_buf;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::irq::request_irq;
use crate::kernel::locking::SpinLock;

/// Linux: `I8042_DATA_REG`, `I8042_STATUS_REG`/`I8042_COMMAND_REG`.
const I8042_DATA_REG: u16 = 0x60;
const I8042_STATUS_REG: u16 = 0x64;
/// Status: output buffer full, input buffer full, the byte is the mouse's.
const I8042_STR_OBF: u8 = 0x01;
const I8042_STR_IBF: u8 = 0x02;
const I8042_STR_AUXDATA: u8 = 0x20;
/// Controller commands: read and write the control register (CTR).
const I8042_CMD_CTL_RCTR: u8 = 0x20;
const I8042_CMD_CTL_WCTR: u8 = 0x60;
/// CTR bits.
const I8042_CTR_KBDINT: u8 = 0x01;
const I8042_CTR_AUXINT: u8 = 0x02;
const I8042_CTR_KBDDIS: u8 = 0x10;
const I8042_CTR_XLATE: u8 = 0x40;
/// The keyboard's ISA interrupt line.
const I8042_KBD_IRQ: u8 = 1;
/// Polls of a status bit before giving up (Linux: `I8042_CTL_TIMEOUT`).
const I8042_CTL_TIMEOUT: usize = 100_000;
/// Most bytes taken per interrupt.
const I8042_BUFFER_SIZE: usize = 16;

/// Extended (`0xe0`-prefixed) set-1 codes and their key codes (Linux:
/// atkbd's table for the translated set): keypad Enter, right Ctrl,
/// keypad /, SysRq, right Alt, Home, Up, PgUp, Left, Right, End, Down,
/// PgDn, Insert, Delete, the two Windows keys and Menu.
const E0_KEYCODES: [(u8, u16); 18] = [
    (0x1c, 96),
    (0x1d, 97),
    (0x35, 98),
    (0x37, 99),
    (0x38, 100),
    (0x47, 102),
    (0x48, 103),
    (0x49, 104),
    (0x4b, 105),
    (0x4d, 106),
    (0x4f, 107),
    (0x50, 108),
    (0x51, 109),
    (0x52, 110),
    (0x53, 111),
    (0x5b, 125),
    (0x5c, 126),
    (0x5d, 127),
];

/// The prefix a scan code carries (`0xe0`, or the bytes of Pause left).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefix {
    None,
    E0,
    /// `0xe1 1d 45 e1 9d c5`: bytes of Pause still to skip.
    E1(u8),
}

struct I8042 {
    prefix: Prefix,
}

static I8042: SpinLock<I8042> = SpinLock::new(I8042 { prefix: Prefix::None });

fn inb(port: u16) -> u8 {
    let mut p = Port::<u8>::new(port);
    // SAFETY: the i8042's data or status port; reading has no effect on
    // memory.
    unsafe { p.read() }
}

fn outb(port: u16, value: u8) {
    let mut p = Port::<u8>::new(port);
    // SAFETY: the i8042's data or command port; writes program the
    // controller only.
    unsafe { p.write(value) }
}

/// Waits for the controller to take a byte (Linux: `i8042_wait_write`).
fn wait_write() -> KResult<()> {
    (0..I8042_CTL_TIMEOUT)
        .find(|_| inb(I8042_STATUS_REG) & I8042_STR_IBF == 0)
        .map(|_| ())
        .ok_or(Errno::ETIMEDOUT)
}

/// Waits for a byte from the controller (Linux: `i8042_wait_read`).
fn wait_read() -> KResult<u8> {
    (0..I8042_CTL_TIMEOUT)
        .find(|_| inb(I8042_STATUS_REG) & I8042_STR_OBF != 0)
        .map(|_| inb(I8042_DATA_REG))
        .ok_or(Errno::ETIMEDOUT)
}

/// Turns one set-1 byte into a (key code, pressed) event, tracking
/// prefixes (Linux: atkbd's `atkbd_receive_byte` for the translated set).
fn scancode_to_keycode(prefix: &mut Prefix, byte: u8) -> Option<(u16, bool)> {
    let index = match (*prefix, byte) {
        (Prefix::E1(left), _) => {
            *prefix = if left > 1 { Prefix::E1(left - 1) } else { Prefix::None };
            return None;
        }
        (_, 0xe0) => {
            *prefix = Prefix::E0;
            return None;
        }
        (_, 0xe1) => {
            *prefix = Prefix::E1(5);
            return None;
        }
        (Prefix::E0, _) => {
            *prefix = Prefix::None;
            usize::from(byte & 0x7f) | 0x80
        }
        (Prefix::None, _) => usize::from(byte & 0x7f),
    };
    let key = KEYCODES.lock()[index];
    (key != 0).then_some((key, byte & 0x80 == 0))
}

/// Scan code to key code, as `KDGETKEYCODE`/`KDSETKEYCODE` see it (Linux:
/// `atkbd->keycode`, `ATKBD_KEYMAP_SIZE` entries): index = the set-1 code,
/// plus 0x80 after an `0xe0` prefix — busybox `setkeycodes`' numbering.
const ATKBD_KEYMAP_SIZE: usize = 512;
/// Linux: `KEY_MAX`.
const KEY_MAX: u32 = 0x2ff;

/// The table at boot: a make code below 0x59 is its key code, the
/// extended keys come from [`E0_KEYCODES`], the rest is unmapped.
const fn default_keycodes() -> [u16; ATKBD_KEYMAP_SIZE] {
    let mut t = [0; ATKBD_KEYMAP_SIZE];
    let mut code: u16 = 1;
    while code < 0x59 {
        t[code as usize] = code;
        code += 1;
    }
    let mut i = 0;
    while i < E0_KEYCODES.len() {
        t[E0_KEYCODES[i].0 as usize | 0x80] = E0_KEYCODES[i].1;
        i += 1;
    }
    t
}

static KEYCODES: SpinLock<[u16; ATKBD_KEYMAP_SIZE]> = SpinLock::new(default_keycodes());

/// Linux: `getkeycode` → `input_get_keycode`: `EINVAL` past the table.
pub fn getkeycode(scancode: u32) -> KResult<u32> {
    let i =
        usize::try_from(scancode).ok().filter(|&i| i < ATKBD_KEYMAP_SIZE).ok_or(Errno::EINVAL)?;
    Ok(u32::from(KEYCODES.lock()[i]))
}

/// Linux: `setkeycode` → `input_set_keycode`: `EINVAL` past the table or
/// for a key code above `KEY_MAX`.
pub fn setkeycode(scancode: u32, keycode: u32) -> KResult<()> {
    let i =
        usize::try_from(scancode).ok().filter(|&i| i < ATKBD_KEYMAP_SIZE).ok_or(Errno::EINVAL)?;
    let keycode =
        u16::try_from(keycode).ok().filter(|&k| u32::from(k) <= KEY_MAX).ok_or(Errno::EINVAL)?;
    KEYCODES.lock()[i] = keycode;
    Ok(())
}

/// Delivers one key to the foreground console (Linux: `kbd_event`).
fn kbd_event(keycode: u16, down: bool) {
    let (fg, decckm) = {
        let mut c = CONSOLES.lock();
        let fg = c.fg_console;
        (fg, c.vc(fg).is_some_and(|vc| vc.screen.decckm))
    };
    let act = kbd_keycode(fg, keycode, down, decckm);
    if let Some(to) = act.switch_to
        && CONSOLES.lock().is_allocated(to)
    {
        set_console(to);
    }
    if !act.input.is_empty()
        && let Some(tty) = vt_console_tty(fg)
    {
        n_tty_receive_buf(&tty, &act.input);
    }
}

/// Linux: `i8042_interrupt`: drains the keyboard's bytes.
fn i8042_interrupt() {
    for _ in 0..I8042_BUFFER_SIZE {
        let event = {
            let mut st = I8042.lock();
            let status = inb(I8042_STATUS_REG);
            if status & I8042_STR_OBF == 0 {
                break;
            }
            let byte = inb(I8042_DATA_REG);
            if status & I8042_STR_AUXDATA != 0 {
                continue;
            }
            scancode_to_keycode(&mut st.prefix, byte)
        };
        if let Some((keycode, down)) = event {
            kbd_event(keycode, down);
        }
    }
}

/// Finds the controller, enables the keyboard's interrupt with
/// translation and the mouse's off, and takes IRQ 1 (Linux:
/// `i8042_controller_check`, `i8042_controller_init`, `i8042_setup_kbd`).
pub fn i8042_init() -> KResult<()> {
    if inb(I8042_STATUS_REG) == 0xff {
        return Err(Errno::ENODEV);
    }
    // Old bytes would arrive as a key (Linux: `i8042_flush`).
    for _ in 0..I8042_BUFFER_SIZE {
        if inb(I8042_STATUS_REG) & I8042_STR_OBF == 0 {
            break;
        }
        inb(I8042_DATA_REG);
    }
    wait_write()?;
    outb(I8042_STATUS_REG, I8042_CMD_CTL_RCTR);
    let ctr = wait_read()?;
    let ctr = (ctr | I8042_CTR_KBDINT | I8042_CTR_XLATE) & !(I8042_CTR_KBDDIS | I8042_CTR_AUXINT);
    wait_write()?;
    outb(I8042_STATUS_REG, I8042_CMD_CTL_WCTR);
    wait_write()?;
    outb(I8042_DATA_REG, ctr);
    request_irq(isa_irq_vector(I8042_KBD_IRQ), "i8042", i8042_interrupt)?;
    ioapic::enable_irq(I8042_KBD_IRQ)
}

crate::ktest!(vt_i8042_scancodes, {
    let mut p = Prefix::None;
    crate::kassert!(scancode_to_keycode(&mut p, 0x10) == Some((16, true)), "q pressed");
    crate::kassert!(scancode_to_keycode(&mut p, 0x90) == Some((16, false)), "q released");
    crate::kassert!(scancode_to_keycode(&mut p, 0xe0).is_none(), "the prefix waits");
    crate::kassert!(scancode_to_keycode(&mut p, 0x48) == Some((103, true)), "E0 48 is Up");
    let pause = [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5];
    crate::kassert!(pause.iter().all(|&b| scancode_to_keycode(&mut p, b).is_none()), "Pause");
    crate::kassert!(scancode_to_keycode(&mut p, 0x1e) == Some((30, true)), "then a");
    crate::kassert!(getkeycode(0xef) == Ok(0), "e0 6f is unmapped");
    crate::kassert!(setkeycode(0xef, 112).is_ok() && getkeycode(0xef) == Ok(112), "KDSETKEYCODE");
    crate::kassert!(setkeycode(512, 1).is_err() && setkeycode(1, 0x300).is_err(), "EINVAL");
    crate::kassert!(setkeycode(0xef, 0).is_ok(), "unmapped again");
    Ok(())
});
