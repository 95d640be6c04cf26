//! The VGA text-mode console: the foreground virtual console's cells in
//! the adapter's text buffer at 0xB8000, and the hardware cursor.
//!
//! Linux: drivers/video/console/vgacon.c (`vgacon_startup`,
//! `vgacon_set_cursor_size`, `vga_set_mem_top`, `vgacon_cursor`).
//!
//! The text buffer lies in the first MiB, which the kernel's direct map
//! covers (arch/x86_64/mm/init_64.rs), so it is reached at
//! `phys_to_virt(0xB8000)` exactly as Linux's `VGA_MAP_MEM` does; an
//! `ioremap` would alias that mapping with another memory type. The
//! firmware's MTRRs make the legacy VGA window uncached. Presence is
//! probed as `vgacon_startup` does: two patterns written to the first
//! cell must read back. Each cell is a `u16`: glyph (CP437) in the low
//! byte, attribute in the high byte.
//!
//! # Locking
//! None of its own: vt.rs calls in with its `CONSOLES` lock held, which
//! orders every access to the buffer and the CRTC index/data ports.

use x86_64::instructions::port::Port;

use super::screen::{COLS, ROWS};
use crate::mm::addr::{PhysAddr, phys_to_virt};

/// The colour adapter's text buffer (Linux: `vga_vram_base` for
/// `VIDEO_TYPE_VGAC`).
const VGA_TEXT_PHYS: u64 = 0xb8000;
/// CRT controller index and data ports (Linux: `vga_video_port_reg`,
/// `vga_video_port_val` for a colour adapter).
const VGA_CRT_IC: u16 = 0x3d4;
const VGA_CRT_DC: u16 = 0x3d5;
/// CRTC registers (Linux: include/video/vga.h).
const VGA_CRTC_CURSOR_START: u8 = 0x0a;
const VGA_CRTC_CURSOR_END: u8 = 0x0b;
const VGA_CRTC_CURSOR_HI: u8 = 0x0e;
const VGA_CRTC_CURSOR_LO: u8 = 0x0f;
/// Cursor start register bit 5: the cursor is off.
const CURSOR_DISABLE: u8 = 0x20;
/// The underline cursor of a 16-line font (Linux: `CUR_UNDERLINE`,
/// scan lines 14-15 as `vgacon_set_cursor_size` programs them).
const CURSOR_SCANLINES: (u8, u8) = (14, 15);

/// The buffer's kernel address, once the probe found the adapter.
static VGA_TEXT: spin::Once<u64> = spin::Once::new();

/// The address of cell `index` of a buffer at `base`, if on screen.
fn cell_ptr(base: u64, index: usize) -> Option<*mut u16> {
    (index < COLS * ROWS).then(|| (base as *mut u16).wrapping_add(index))
}

fn write_cell(base: u64, index: usize, value: u16) {
    if let Some(p) = cell_ptr(base, index) {
        // SAFETY: `p` is inside the 4000-byte text buffer, which the direct
        // map maps for the kernel's lifetime, and 2-aligned; device memory,
        // hence volatile.
        unsafe { p.write_volatile(value) };
    }
}

fn read_cell(base: u64, index: usize) -> Option<u16> {
    let p = cell_ptr(base, index)?;
    // SAFETY: as in `write_cell`.
    Some(unsafe { p.read_volatile() })
}

/// Cell `index` as the adapter holds it (for self-tests).
pub fn vgacon_read(index: usize) -> Option<u16> {
    read_cell(*VGA_TEXT.get()?, index)
}

/// Probes the adapter (Linux: `vgacon_startup`'s pattern test); returns
/// whether text mode answers. The first cell is restored.
pub fn vgacon_startup() -> bool {
    let base = phys_to_virt(PhysAddr::new(VGA_TEXT_PHYS)).as_u64();
    let saved = read_cell(base, 0).unwrap_or(0);
    let mut present = true;
    for pattern in [0xaa55, 0x55aa] {
        write_cell(base, 0, pattern);
        present &= read_cell(base, 0) == Some(pattern);
    }
    write_cell(base, 0, saved);
    if !present {
        crate::pr_info!("vgacon: no VGA text buffer; virtual consoles are not drawn");
        return false;
    }
    VGA_TEXT.call_once(|| base);
    crtc_write(VGA_CRTC_CURSOR_START, CURSOR_SCANLINES.0);
    crtc_write(VGA_CRTC_CURSOR_END, CURSOR_SCANLINES.1);
    true
}

/// Whether [`vgacon_startup`] found the adapter.
pub fn vgacon_present() -> bool {
    VGA_TEXT.get().is_some()
}

/// Copies `cells` to the buffer from cell `offset` (Linux:
/// `scr_memcpyw` to `vc_origin`); cells past the screen are dropped.
pub fn vgacon_putcs(offset: usize, cells: &[u16]) {
    let Some(&base) = VGA_TEXT.get() else { return };
    for (i, &c) in cells.iter().enumerate() {
        write_cell(base, offset.saturating_add(i), c);
    }
}

/// Puts the hardware cursor on cell `pos`, or hides it (Linux:
/// `vgacon_cursor`, `write_vga(14, pos)`).
pub fn vgacon_cursor(pos: Option<usize>) {
    if !vgacon_present() {
        return;
    }
    match pos.filter(|&p| p < COLS * ROWS) {
        Some(p) => {
            let [lo, hi] = u16::try_from(p).unwrap_or(0).to_le_bytes();
            crtc_write(VGA_CRTC_CURSOR_START, CURSOR_SCANLINES.0);
            crtc_write(VGA_CRTC_CURSOR_HI, hi);
            crtc_write(VGA_CRTC_CURSOR_LO, lo);
        }
        None => crtc_write(VGA_CRTC_CURSOR_START, CURSOR_DISABLE),
    }
}

/// Writes CRTC register `reg` (Linux: `write_vga`, one register).
fn crtc_write(reg: u8, value: u8) {
    let mut index = Port::<u8>::new(VGA_CRT_IC);
    let mut data = Port::<u8>::new(VGA_CRT_DC);
    // SAFETY: the colour CRTC's index port; selecting a register has no
    // effect on memory.
    unsafe { index.write(reg) };
    // SAFETY: the CRTC data port; cursor registers only move the cursor.
    unsafe { data.write(value) };
}
