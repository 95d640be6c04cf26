//! Key presses to bytes for the foreground console: the keymap lookup and
//! the handlers of each key type.
//!
//! Linux: drivers/tty/vt/keyboard.c (`kbd_keycode`, `k_handler[]`:
//! `k_self`, `k_fn`, `k_spec`, `k_pad`, `k_cons`, `k_cur`, `k_shift`,
//! `k_meta`, `k_lock`, `k_slock`; `fn_handler[]`: `fn_enter`,
//! `fn_caps_toggle`, `fn_num`, `fn_lastcons`, `fn_inc_console`...).
//!
//! [`kbd_keycode`] takes a Linux key code (i8042.rs turns scan codes into
//! them) and returns what the key does: bytes for the console's tty input
//! and maybe a console to switch to; the caller does both with no lock
//! held. Dead keys (accents), Alt+keypad codes, Braille and the diagnostic
//! keys (Show Registers, SAK, reboot) are read and ignored.
//!
//! # Locking
//! keyboard.rs's `KBD`, for the whole translation of one key.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use super::keyboard::{K_MEDIUMRAW, K_OFF, K_RAW, K_UNICODE, KBD, Kbd, u};
use super::vt::MAX_NR_CONSOLES;

/// What one key event asks of the console layer.
#[derive(Default, PartialEq, Eq, Debug)]
pub struct KeyAction {
    /// Bytes for the foreground console's tty input.
    pub input: Vec<u8>,
    /// A console to put in front, 0-based.
    pub switch_to: Option<usize>,
}

/// keyboard.h key types (`KT_*`) and the `VC_*` lock bits of `ledflagstate`.
const KT_LATIN: u16 = 0;
const KT_FN: u16 = 1;
const KT_SPEC: u16 = 2;
const KT_PAD: u16 = 3;
const KT_CONS: u16 = 5;
const KT_CUR: u16 = 6;
const KT_SHIFT: u16 = 7;
const KT_META: u16 = 8;
const KT_LOCK: u16 = 10;
const KT_LETTER: u16 = 11;
const KT_SLOCK: u16 = 12;
const VC_NUMLOCK: u8 = 1 << 1;
const VC_CAPSLOCK: u8 = 1 << 2;
/// `KG_SHIFT`, and `K_FIND`..`K_PGDN` as `KT_FN` values.
const KG_SHIFT: u16 = 0;
const FN_FIND: u8 = 20;
const FN_INSERT: u8 = 21;
const FN_REMOVE: u8 = 22;
const FN_SELECT: u8 = 23;
const FN_PGUP: u8 = 24;
const FN_PGDN: u8 = 25;
/// What the keypad keys type with Num Lock on (Linux: `pad_chars`).
const PAD_CHARS: &[u8] = b"0123456789+-*/\r,.?()#";
/// `K_PENTER`'s value.
const PAD_ENTER: u8 = 14;

/// One key went down (`down`) or up (Linux: `kbd_keycode` for the
/// foreground console `fg`, `decckm` its cursor-key mode).
pub fn kbd_keycode(fg: usize, keycode: u16, down: bool, decckm: bool) -> KeyAction {
    let mut act = KeyAction::default();
    let mut kbd = KBD.lock();
    let Some(&kb) = kbd.consoles.get(fg) else { return act };
    match kb.kbdmode {
        K_OFF => return act,
        K_RAW | K_MEDIUMRAW => {
            // Key codes below 128 as one byte, bit 7 for a release
            // (Linux: `put_queue(vc, keycode | (!down << 7))`).
            if let Ok(code) = u8::try_from(keycode) {
                act.input.push((code & 0x7f) | if down { 0 } else { 0x80 });
            }
            return act;
        }
        _ => {}
    }
    let shift_final = (kbd.shift_state | kb.slockstate) ^ kb.lockstate;
    let Some(map) = kbd.key_maps.get(usize::from(shift_final)).and_then(Option::as_ref) else {
        return act;
    };
    let Some(&stored) = map.get(usize::from(keycode)) else { return act };
    let mut keysym = u(stored);
    let mut typ = keysym >> 8;
    if typ >= 0x10 {
        // Not a K() value: a Unicode character (Linux: `type < 0xf0`).
        if down {
            put_unicode(&mut act.input, u32::from(stored), kb.kbdmode == K_UNICODE);
        }
        return act;
    }
    if typ == KT_LETTER {
        typ = KT_LATIN;
        if kb.ledflagstate & VC_CAPSLOCK != 0 {
            let other = usize::from(shift_final ^ (1 << KG_SHIFT));
            if let Some(m) = kbd.key_maps.get(other).and_then(Option::as_ref) {
                keysym = map_entry(&m[..], keycode).unwrap_or(keysym);
            }
        }
    }
    let value = (keysym & 0xff) as u8;
    handle(&mut kbd, fg, typ, value, down, decckm, &mut act);
    if typ != KT_SLOCK
        && let Some(kb) = kbd.consoles.get_mut(fg)
    {
        kb.slockstate = 0;
    }
    act
}

fn map_entry(map: &[u16], keycode: u16) -> Option<u16> {
    map.get(usize::from(keycode)).map(|&v| u(v))
}

/// Runs the handler of key type `typ` (Linux: `k_handler[type]`).
fn handle(
    kbd: &mut Kbd,
    fg: usize,
    typ: u16,
    value: u8,
    down: bool,
    decckm: bool,
    act: &mut KeyAction,
) {
    let unicode = kbd.consoles.get(fg).is_some_and(|k| k.kbdmode == K_UNICODE);
    match typ {
        KT_SHIFT => k_shift(kbd, value, down),
        _ if !down => {}
        KT_LATIN => put_unicode(&mut act.input, u32::from(value), unicode),
        KT_FN => k_fn(kbd, value, act),
        KT_SPEC => k_spec(kbd, fg, value, act),
        KT_PAD => k_pad(kbd, fg, value, decckm, act),
        KT_CONS => act.switch_to = Some(usize::from(value)),
        KT_CUR => k_cur(value, decckm, act),
        KT_META => {
            if kbd.consoles.get(fg).is_some_and(|k| k.meta) {
                act.input.extend_from_slice(&[0x1b, value]);
            } else {
                act.input.push(value | 0x80);
            }
        }
        KT_LOCK => toggle(kbd, fg, |k| k.lockstate ^= 1 << (value & 15)),
        KT_SLOCK => toggle(kbd, fg, |k| k.slockstate ^= 1 << (value & 15)),
        _ => {}
    }
}

fn toggle(kbd: &mut Kbd, fg: usize, f: impl FnOnce(&mut super::keyboard::KbdStruct)) {
    if let Some(kb) = kbd.consoles.get_mut(fg) {
        f(kb);
    }
}

/// Linux: `k_unicode` -> `to_utf8`, or one byte outside Unicode mode.
fn put_unicode(out: &mut Vec<u8>, c: u32, unicode: bool) {
    match char::from_u32(c) {
        Some(ch) if unicode => {
            let mut buf = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        _ => out.push((c & 0xff) as u8),
    }
}

/// Linux: `k_fn`: the key's string.
fn k_fn(kbd: &Kbd, value: u8, act: &mut KeyAction) {
    if let Some(Some(s)) = kbd.funcs.get(usize::from(value)) {
        act.input.extend_from_slice(s);
    }
}

/// Linux: `k_cur`: `ESC [ x`, or `ESC O x` in cursor-key mode.
fn k_cur(value: u8, decckm: bool, act: &mut KeyAction) {
    let Some(&c) = b"BDCA".get(usize::from(value)) else { return };
    act.input.extend_from_slice(&[0x1b, if decckm { b'O' } else { b'[' }, c]);
}

/// Linux: `k_spec` -> `fn_handler[value]`, the useful ones.
fn k_spec(kbd: &mut Kbd, fg: usize, value: u8, act: &mut KeyAction) {
    match value {
        1 => act.input.push(b'\r'),
        7 => toggle(kbd, fg, |k| k.ledflagstate ^= VC_CAPSLOCK),
        8 | 19 => toggle(kbd, fg, |k| k.ledflagstate ^= VC_NUMLOCK),
        13 => toggle(kbd, fg, |k| k.ledflagstate |= VC_CAPSLOCK),
        16 => act.switch_to = Some((fg + MAX_NR_CONSOLES - 1) % MAX_NR_CONSOLES),
        17 => act.switch_to = Some((fg + 1) % MAX_NR_CONSOLES),
        _ => {}
    }
}

/// Linux: `k_pad`: digits with Num Lock on, else the editing keys.
fn k_pad(kbd: &mut Kbd, fg: usize, value: u8, decckm: bool, act: &mut KeyAction) {
    let numlock = kbd.consoles.get(fg).is_some_and(|k| k.ledflagstate & VC_NUMLOCK != 0);
    if value == PAD_ENTER {
        act.input.push(b'\r');
        return;
    }
    if !numlock {
        match value {
            0 => return k_fn(kbd, FN_INSERT, act),
            1 => return k_fn(kbd, FN_SELECT, act),
            2 => return k_cur(0, decckm, act),
            3 => return k_fn(kbd, FN_PGDN, act),
            4 => return k_cur(1, decckm, act),
            5 => return act.input.extend_from_slice(b"\x1b[G"),
            6 => return k_cur(2, decckm, act),
            7 => return k_fn(kbd, FN_FIND, act),
            8 => return k_cur(3, decckm, act),
            9 => return k_fn(kbd, FN_PGUP, act),
            15 | 16 => return k_fn(kbd, FN_REMOVE, act),
            _ => {}
        }
    }
    if let Some(&c) = PAD_CHARS.get(usize::from(value)) {
        act.input.push(c);
    }
}

/// Linux: `k_shift`: counts presses of each modifier.
fn k_shift(kbd: &mut Kbd, value: u8, down: bool) {
    let Some(count) = kbd.shift_down.get_mut(usize::from(value)) else { return };
    if down {
        *count = count.saturating_add(1);
    } else {
        *count = count.saturating_sub(1);
    }
    let bit = 1u16 << value;
    if *count > 0 {
        kbd.shift_state |= bit;
    } else {
        kbd.shift_state &= !bit;
    }
}

crate::ktest!(vt_kbd_keycode_us_layout, {
    let key = |code: u16| {
        let down = kbd_keycode(0, code, true, false);
        kbd_keycode(0, code, false, false);
        down
    };
    crate::kassert!(key(16).input == b"q", "KEY_Q types q");
    kbd_keycode(0, 42, true, false); // left shift down
    crate::kassert!(key(2).input == b"!", "shift+1 types !");
    crate::kassert!(key(16).input == b"Q", "shift+q types Q");
    kbd_keycode(0, 42, false, false);
    crate::kassert!(key(28).input == b"\r", "Enter types CR");
    crate::kassert!(key(103).input == b"\x1b[A", "Up types ESC [ A");
    let up = kbd_keycode(0, 103, true, true);
    crate::kassert!(up.input == b"\x1bOA", "Up in cursor-key mode types ESC O A");
    kbd_keycode(0, 103, false, true);
    crate::kassert!(key(59).input == b"\x1b[[A", "F1's string");
    kbd_keycode(0, 29, true, false); // left ctrl down
    crate::kassert!(key(46).input == b"\x03", "ctrl+c types ETX");
    kbd_keycode(0, 56, true, false); // left alt down
    crate::kassert!(key(60).switch_to == Some(1), "ctrl+alt+F2 switches to console 2");
    kbd_keycode(0, 56, false, false);
    kbd_keycode(0, 29, false, false);
    key(58); // Caps Lock
    crate::kassert!(key(30).input == b"A", "caps lock makes a capital");
    key(58);
    crate::kassert!(key(30).input == b"a", "and back");
    Ok(())
});
