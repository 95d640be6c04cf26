//! The console keyboard's state as the KD ioctls see it: per-console mode,
//! meta handling and lock flags, and the shared translation tables.
//!
//! Linux: drivers/tty/vt/keyboard.c (`kbd_table`, `key_maps`,
//! `vt_do_kdsk_ioctl`, `vt_do_kdskbmode`, `vt_do_kdgkbmode`,
//! `vt_do_kdskbmeta`, `vt_do_kdskled`, `vt_reset_keyboard`,
//! `vt_reset_unicode`), include/uapi/linux/keyboard.h, kd.h.
//!
//! The tables, modes and flags are kept and answered exactly as Linux
//! keeps them, so `dumpkmap`, `loadkmap` and `kbd_mode` see Linux's
//! values; keyboard_input.rs translates key presses with them. Tables hold
//! entries in Linux's stored form `U(v) = v ^ 0xf000` (defkeymap.rs).
//!
//! # Locking
//! `KBD` (Linux: `kbd_event_lock`) guards the tables and every console's
//! keyboard state: an IRQ-safe leaf, never held across a user copy.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl::{KDGETLED, KDGKBENT, KDGKBLED, KDGKBSENT, KDSETLED, KDSKBENT, KDSKBLED};

use super::defkeymap::{DEFAULT_KEY_MAPS, FUNC_TABLE, NR_KEYS};
use super::vt::MAX_NR_CONSOLES;
use crate::drivers::tty::tty_ioctl::IoctlArg;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// Linux: `MAX_NR_KEYMAPS`, `MAX_NR_OF_USER_KEYMAPS`.
const MAX_NR_KEYMAPS: usize = 256;
const MAX_NR_OF_USER_KEYMAPS: usize = 256;
/// Linux: `MAX_NR_FUNC`; `struct kbsentry`'s string size.
const MAX_NR_FUNC: usize = 256;
const KB_STRING_SIZE: usize = 512;

/// kd.h: keyboard modes (`KDGKBMODE`) and meta modes.
pub const K_RAW: u32 = 0x00;
pub const K_XLATE: u32 = 0x01;
pub const K_MEDIUMRAW: u32 = 0x02;
pub const K_UNICODE: u32 = 0x03;
pub const K_OFF: u32 = 0x04;
pub const K_METABIT: u32 = 0x03;
pub const K_ESCPREFIX: u32 = 0x04;

/// keyboard.h: `K(KT_SPEC, 0)`, `K(KT_SPEC, 15)`, `K(KT_SPEC, 126)`,
/// `K(KT_SPEC, 127)`; `KT_SHIFT`.
pub const K_HOLE: u16 = 0x0200;
const K_SAK: u16 = 0x020f;
const K_ALLOCATED: u16 = 0x027e;
pub const K_NOSUCHMAP: u16 = 0x027f;

/// keyboard.c `max_vals[]`, by key type; its length is `NR_TYPES`.
/// KT_FN: `MAX_NR_FUNC - 1`; KT_SPEC: 20 handlers; KT_PAD: `NR_PAD - 1`;
/// KT_DEAD: `NR_DEAD - 1`; KT_SHIFT: `NR_SHIFT - 1`; KT_ASCII:
/// `NR_ASCII - 1`; KT_LOCK, KT_SLOCK: `NR_LOCK - 1`; KT_BRL: `NR_BRL - 1`.
const MAX_VALS: [u16; 15] = [255, 255, 19, 19, 26, 255, 3, 8, 255, 25, 8, 255, 8, 255, 10];
const NR_TYPES: usize = MAX_VALS.len();

/// Linux's stored form of a table entry and back (keyboard.h `U`).
pub(super) const fn u(v: u16) -> u16 {
    v ^ 0xf000
}

fn ktyp(v: u16) -> usize {
    usize::from(v >> 8)
}

/// One console's keyboard (Linux: `struct kbd_struct`, the fields an
/// ioctl reaches).
#[derive(Clone, Copy)]
pub(super) struct KbdStruct {
    /// `K_XLATE`... as `KDGKBMODE` reports it.
    pub(super) kbdmode: u32,
    /// Meta sends ESC first (Linux: `VC_META`, on in `KBD_DEFMODE`).
    pub(super) meta: bool,
    /// Caps, Num and Scroll Lock (`VC_CAPSLOCK`... bits).
    pub(super) ledflagstate: u8,
    default_ledflagstate: u8,
    /// Locked and sticky modifiers (Linux: `lockstate`, `slockstate`).
    pub(super) lockstate: u16,
    pub(super) slockstate: u16,
}

impl KbdStruct {
    /// Linux: `kbd_init` (`KBD_DEFMODE`, `KBD_DEFLEDS` 0, `default_utf8 = 1`).
    const DEFAULT: Self = Self {
        kbdmode: K_UNICODE,
        meta: true,
        ledflagstate: 0,
        default_ledflagstate: 0,
        lockstate: 0,
        slockstate: 0,
    };
}

pub(super) struct Kbd {
    pub(super) consoles: [KbdStruct; MAX_NR_CONSOLES],
    pub(super) key_maps: [Option<Box<[u16; NR_KEYS]>>; MAX_NR_KEYMAPS],
    keymap_count: usize,
    /// The lights as last set (Linux: `ledstate`).
    ledstate: u8,
    /// Modifier keys held, as bits and as counts (Linux: `shift_state`,
    /// `shift_down`).
    pub(super) shift_state: u16,
    pub(super) shift_down: [u8; 16],
    /// The function-key strings (Linux: `func_table`).
    pub(super) funcs: Vec<Option<Vec<u8>>>,
}

pub(super) static KBD: SpinLock<Kbd> = SpinLock::new(Kbd {
    consoles: [KbdStruct::DEFAULT; MAX_NR_CONSOLES],
    key_maps: [const { None }; MAX_NR_KEYMAPS],
    keymap_count: 0,
    ledstate: 0,
    shift_state: 0,
    shift_down: [0; 16],
    funcs: Vec::new(),
});

/// Loads the default tables (Linux: defkeymap.c's initialised `key_maps`).
pub fn kbd_init() -> KResult<()> {
    let mut kbd = KBD.lock();
    for (index, half) in DEFAULT_KEY_MAPS {
        let mut map = Box::new([u(K_HOLE); NR_KEYS]);
        map[..half.len()].copy_from_slice(half);
        kbd.key_maps[index] = Some(map);
    }
    kbd.keymap_count = DEFAULT_KEY_MAPS.len();
    let mut funcs = Vec::new();
    funcs.try_reserve_exact(MAX_NR_FUNC).map_err(|_| Errno::ENOMEM)?;
    funcs.extend(FUNC_TABLE.iter().map(|f| f.map(<[u8]>::to_vec)));
    funcs.resize(MAX_NR_FUNC, None);
    kbd.funcs = funcs;
    Ok(())
}

/// A new console's keyboard (Linux: `vc_init` -> `reset_terminal` ->
/// `vt_reset_keyboard`): the lock flags back to their defaults. The mode
/// and meta setting belong to the console number and stay, as in Linux.
pub fn vt_reset_keyboard(console: usize) {
    if let Some(kb) = KBD.lock().consoles.get_mut(console) {
        kb.ledflagstate = kb.default_ledflagstate;
        (kb.lockstate, kb.slockstate) = (0, 0);
    }
}

/// The keyboard mode back to Unicode (Linux: `vt_reset_unicode`, from
/// `reset_vc`).
pub fn vt_reset_unicode(console: usize) {
    if let Some(kb) = KBD.lock().consoles.get_mut(console) {
        kb.kbdmode = K_UNICODE;
    }
}

fn read_kbentry(arg: &dyn IoctlArg) -> KResult<[u8; 4]> {
    let mut e = [0; 4];
    arg.read_bytes(&mut e)?;
    Ok(e)
}

/// `KDGKBENT` and `KDSKBENT` (Linux: `vt_do_kdsk_ioctl`). `struct kbentry`
/// is `{ u8 kb_table; u8 kb_index; u16 kb_value; }`.
pub fn vt_do_kdsk_ioctl(cmd: u32, arg: &dyn IoctlArg, perm: bool, console: usize) -> KResult<i64> {
    let mut e = read_kbentry(arg)?;
    let (s, i) = (usize::from(e[0]), usize::from(e[1]));
    let v = u16::from_ne_bytes([e[2], e[3]]);
    let perm = perm && capable(uapi::CAP_SYS_TTY_CONFIG);
    let mut kbd = KBD.lock();
    let unicode = kbd.consoles.get(console).is_some_and(|k| k.kbdmode == K_UNICODE);
    if cmd == KDGKBENT {
        let val = match &kbd.key_maps[s] {
            Some(map) => {
                let val = u(map[i]);
                if !unicode && ktyp(val) >= NR_TYPES { K_HOLE } else { val }
            }
            None if i != 0 => K_HOLE,
            None => K_NOSUCHMAP,
        };
        drop(kbd);
        // The whole entry goes back, table and index unchanged.
        e[2..].copy_from_slice(&val.to_ne_bytes());
        arg.write_bytes(&e)?;
        return Ok(0);
    }
    if !perm {
        return Err(Errno::EPERM);
    }
    if i == 0 && v == K_NOSUCHMAP {
        // Frees a table; the plain one stays.
        if s != 0
            && let Some(map) = kbd.key_maps[s].take()
            && map[0] == u(K_ALLOCATED)
        {
            kbd.keymap_count -= 1;
        }
        return Ok(0);
    }
    match MAX_VALS.get(ktyp(v)) {
        Some(&max) if v & 0xff > max => return Err(Errno::EINVAL),
        None if !unicode => return Err(Errno::EINVAL),
        _ => {}
    }
    // Entry 0 only tests the arguments.
    if i == 0 {
        return Ok(0);
    }
    kdskbent(&mut kbd, s, i, v).map(|()| 0)
}

/// Sets entry `i` of table `s`, making the table if it is missing.
fn kdskbent(kbd: &mut Kbd, s: usize, i: usize, v: u16) -> KResult<()> {
    if kbd.key_maps[s].is_none() {
        if kbd.keymap_count >= MAX_NR_OF_USER_KEYMAPS && !capable(uapi::CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        let mut map = Box::new([u(K_HOLE); NR_KEYS]);
        map[0] = u(K_ALLOCATED);
        kbd.key_maps[s] = Some(map);
        kbd.keymap_count += 1;
    }
    let map = kbd.key_maps[s].as_mut().ok_or(Errno::EINVAL)?;
    let ov = u(map[i]);
    if ov != v {
        // The secure attention key is root's alone.
        if (ov == K_SAK || v == K_SAK) && !capable(uapi::CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
        map[i] = u(v);
    }
    Ok(())
}

/// `KDGKBSENT` and `KDSKBSENT` (Linux: `vt_do_kdgkb_ioctl`): `struct
/// kbsentry { u8 kb_func; u8 kb_string[512]; }`.
pub fn vt_do_kdgkb_ioctl(cmd: u32, arg: &dyn IoctlArg, perm: bool) -> KResult<i64> {
    if cmd == KDGKBSENT {
        let mut func = [0u8];
        arg.read_bytes(&mut func)?;
        let s = KBD.lock().funcs.get(usize::from(func[0])).cloned().flatten().unwrap_or_default();
        // Set strings are shorter than the buffer: the NUL always fits.
        let mut e = Vec::new();
        e.try_reserve_exact(s.len() + 2).map_err(|_| Errno::ENOMEM)?;
        e.push(func[0]);
        e.extend_from_slice(&s);
        e.push(0);
        arg.write_bytes(&e)?;
        return Ok(0);
    }
    if !(perm && capable(uapi::CAP_SYS_TTY_CONFIG)) {
        return Err(Errno::EPERM);
    }
    let mut e = alloc::vec![0u8; 1 + KB_STRING_SIZE];
    arg.read_bytes(&mut e)?;
    // Linux: `strndup_user`: the string must end inside its buffer.
    let len = e[1..].iter().position(|&b| b == 0).ok_or(Errno::EINVAL)?;
    let mut new = Vec::new();
    new.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    new.extend_from_slice(&e[1..=len]);
    if let Some(slot) = KBD.lock().funcs.get_mut(usize::from(e[0])) {
        *slot = Some(new);
    }
    Ok(0)
}

/// `KDSKBMODE` (Linux: `vt_do_kdskbmode`).
pub fn vt_do_kdskbmode(console: usize, mode: u64) -> KResult<()> {
    let mode = u32::try_from(mode).map_err(|_| Errno::EINVAL)?;
    if !matches!(mode, K_RAW | K_XLATE | K_MEDIUMRAW | K_UNICODE | K_OFF) {
        return Err(Errno::EINVAL);
    }
    let mut kbd = KBD.lock();
    kbd.consoles.get_mut(console).ok_or(Errno::ENXIO)?.kbdmode = mode;
    Ok(())
}

/// `KDGKBMODE` (Linux: `vt_do_kdgkbmode`).
pub fn vt_do_kdgkbmode(console: usize) -> u32 {
    KBD.lock().consoles.get(console).map_or(K_XLATE, |k| k.kbdmode)
}

/// `KDSKBMETA` (Linux: `vt_do_kdskbmeta`).
pub fn vt_do_kdskbmeta(console: usize, arg: u64) -> KResult<()> {
    let meta = match u32::try_from(arg) {
        Ok(K_METABIT) => false,
        Ok(K_ESCPREFIX) => true,
        _ => return Err(Errno::EINVAL),
    };
    KBD.lock().consoles.get_mut(console).ok_or(Errno::ENXIO)?.meta = meta;
    Ok(())
}

/// `KDGKBMETA` (Linux: `vt_do_kdgkbmeta`).
pub fn vt_do_kdgkbmeta(console: usize) -> u32 {
    let meta = KBD.lock().consoles.get(console).is_some_and(|k| k.meta);
    if meta { K_ESCPREFIX } else { K_METABIT }
}

/// `KDGKBLED`, `KDSKBLED`, `KDGETLED`, `KDSETLED` (Linux:
/// `vt_do_kdskled`); `None` for another command.
pub fn vt_do_kdskled(
    console: usize,
    cmd: u32,
    arg: &dyn IoctlArg,
    perm: bool,
) -> Option<KResult<i64>> {
    let value = arg.value();
    let mut kbd = KBD.lock();
    let byte = match cmd {
        KDGKBLED => {
            let kb = kbd.consoles.get(console)?;
            kb.ledflagstate | kb.default_ledflagstate << 4
        }
        KDGETLED => kbd.ledstate,
        KDSKBLED | KDSETLED if !perm => return Some(Err(Errno::EPERM)),
        KDSKBLED if value & !0x77 != 0 => return Some(Err(Errno::EINVAL)),
        KDSKBLED => {
            let kb = kbd.consoles.get_mut(console)?;
            kb.ledflagstate = (value & 7) as u8;
            kb.default_ledflagstate = ((value >> 4) & 7) as u8;
            return Some(Ok(0));
        }
        KDSETLED => {
            // Without a keyboard there are no lights; remember the wish.
            kbd.ledstate = (value & 0xff) as u8;
            return Some(Ok(0));
        }
        _ => return None,
    };
    drop(kbd);
    Some(arg.write_bytes(&[byte]).map(|()| 0))
}

crate::ktest!(vt_keymap_default_and_set, {
    struct Buf(core::cell::RefCell<[u8; 4]>);
    impl IoctlArg for Buf {
        fn value(&self) -> u64 {
            0
        }
        fn read_bytes(&self, buf: &mut [u8]) -> KResult<()> {
            buf.copy_from_slice(&self.0.borrow()[..buf.len()]);
            Ok(())
        }
        fn write_bytes(&self, buf: &[u8]) -> KResult<()> {
            self.0.borrow_mut()[..buf.len()].copy_from_slice(buf);
            Ok(())
        }
    }
    let get = |table: u8, index: u8| {
        let b = Buf(core::cell::RefCell::new([table, index, 0, 0]));
        vt_do_kdsk_ioctl(KDGKBENT, &b, true, 0).map(|_| {
            let e = *b.0.borrow();
            u16::from_ne_bytes([e[2], e[3]])
        })
    };
    crate::kassert!(get(0, 16) == Ok(0x0b71), "plain q is KT_LETTER 'q'");
    crate::kassert!(get(1, 2) == Ok(0x0021), "shift 1 is '!'");
    crate::kassert!(get(3, 0) == Ok(K_NOSUCHMAP), "table 3 does not exist");
    crate::kassert!(get(3, 5) == Ok(K_HOLE), "its other entries are holes");
    crate::kassert!(get(0, 200) == Ok(K_HOLE), "keys past 127 are holes");
    // Table 200 is made by setting one entry, then freed again.
    let set = Buf(core::cell::RefCell::new([200, 30, 0x61, 0x0b]));
    crate::kassert!(vt_do_kdsk_ioctl(KDSKBENT, &set, true, 0) == Ok(0), "KDSKBENT");
    crate::kassert!(get(200, 30) == Ok(0x0b61) && get(200, 0) == Ok(K_ALLOCATED), "new table");
    let bad = Buf(core::cell::RefCell::new([200, 30, 0xff, 0x07]));
    crate::kassert!(vt_do_kdsk_ioctl(KDSKBENT, &bad, true, 0) == Err(Errno::EINVAL), "bad shift");
    let free = Buf(core::cell::RefCell::new([200, 0, 0x7f, 0x02]));
    crate::kassert!(vt_do_kdsk_ioctl(KDSKBENT, &free, true, 0) == Ok(0), "free table 200");
    crate::kassert!(get(200, 0) == Ok(K_NOSUCHMAP), "table 200 is gone");
    Ok(())
});
