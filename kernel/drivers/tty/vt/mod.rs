//! Virtual terminals on the VGA text screen. Linux: drivers/tty/vt/,
//! drivers/video/console/vgacon.c.

pub mod console_codes;
pub mod consolemap;
pub mod defkeymap;
pub mod i8042;
pub mod keyboard;
pub mod keyboard_input;
pub mod screen;
pub mod vc_screen;
pub mod vgacon;
#[allow(clippy::module_inception, reason = "Linux's name: drivers/tty/vt/vt.c")]
pub mod vt;
pub mod vt_ioctl;
