//! Configuration-space registers and bits, with Linux's names and values
//! (include/uapi/linux/pci_regs.h, include/uapi/linux/virtio_pci.h).

pub const PCI_VENDOR_ID: usize = 0x00;
pub const PCI_DEVICE_ID: usize = 0x02;
pub const PCI_COMMAND: usize = 0x04;
pub const PCI_COMMAND_IO: u16 = 0x1;
pub const PCI_COMMAND_MEMORY: u16 = 0x2;
pub const PCI_COMMAND_MASTER: u16 = 0x4;
pub const PCI_COMMAND_INTX_DISABLE: u16 = 0x400;
pub const PCI_STATUS: usize = 0x06;
pub const PCI_STATUS_CAP_LIST: u16 = 0x10;
/// Revision in bits 0-7, then prog-if, subclass and class (Linux reads it
/// as one dword and keeps `class = dword >> 8`).
pub const PCI_CLASS_REVISION: usize = 0x08;
pub const PCI_HEADER_TYPE: usize = 0x0e;
pub const PCI_HEADER_TYPE_MASK: u8 = 0x7f;
pub const PCI_HEADER_TYPE_NORMAL: u8 = 0;
pub const PCI_HEADER_TYPE_BRIDGE: u8 = 1;
pub const PCI_HEADER_TYPE_CARDBUS: u8 = 2;
/// Bit 7 of the header type: the device has functions 1-7.
pub const PCI_HEADER_TYPE_MFD: u8 = 0x80;
pub const PCI_BASE_ADDRESS_0: usize = 0x10;
pub const PCI_BASE_ADDRESS_SPACE_IO: u32 = 0x01;
pub const PCI_BASE_ADDRESS_MEM_TYPE_MASK: u32 = 0x06;
pub const PCI_BASE_ADDRESS_MEM_TYPE_32: u32 = 0x00;
pub const PCI_BASE_ADDRESS_MEM_TYPE_64: u32 = 0x04;
pub const PCI_BASE_ADDRESS_MEM_PREFETCH: u32 = 0x08;
pub const PCI_BASE_ADDRESS_MEM_MASK: u32 = !0x0f;
pub const PCI_BASE_ADDRESS_IO_MASK: u32 = !0x03;
pub const PCI_SUBSYSTEM_VENDOR_ID: usize = 0x2c;
pub const PCI_SUBSYSTEM_ID: usize = 0x2e;
pub const PCI_CAPABILITY_LIST: usize = 0x34;
pub const PCI_INTERRUPT_LINE: usize = 0x3c;
pub const PCI_INTERRUPT_PIN: usize = 0x3d;
/// Type-1 (bridge) header: the bus numbers behind the bridge.
pub const PCI_PRIMARY_BUS: usize = 0x18;
pub const PCI_SECONDARY_BUS: usize = 0x19;
pub const PCI_SUBORDINATE_BUS: usize = 0x1a;

/// BARs in a type-0 header; a bridge has two.
pub const PCI_STD_NUM_BARS: usize = 6;
pub const PCI_BRIDGE_NUM_BARS: usize = 2;

pub const PCI_CAP_ID_PM: u8 = 0x01;
pub const PCI_CAP_ID_MSI: u8 = 0x05;
pub const PCI_CAP_ID_VNDR: u8 = 0x09;
pub const PCI_CAP_ID_EXP: u8 = 0x10;
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
/// Capabilities live above the standard header.
pub const PCI_STD_HEADER_SIZEOF: u8 = 0x40;
/// Linux's bound on a capability walk (`PCI_FIND_CAP_TTL`): a list that
/// loops ends after this many steps.
pub const PCI_FIND_CAP_TTL: usize = 48;

/// Red Hat's vendor ID, which virtio devices carry
/// (Linux: `PCI_VENDOR_ID_REDHAT_QUMRANET`).
pub const PCI_VENDOR_ID_REDHAT_QUMRANET: u16 = 0x1af4;

/// `struct virtio_pci_cap` fields, as offsets from the capability.
pub const VIRTIO_PCI_CAP_CFG_TYPE: usize = 3;
pub const VIRTIO_PCI_CAP_BAR: usize = 4;
pub const VIRTIO_PCI_CAP_OFFSET: usize = 8;
pub const VIRTIO_PCI_CAP_LENGTH: usize = 12;
/// `struct virtio_pci_notify_cap`: the multiplier follows the header.
pub const VIRTIO_PCI_NOTIFY_CAP_MULT: usize = 16;
pub const VIRTIO_PCI_CAP_COMMON_CFG: u8 = 1;
pub const VIRTIO_PCI_CAP_NOTIFY_CFG: u8 = 2;
pub const VIRTIO_PCI_CAP_ISR_CFG: u8 = 3;
pub const VIRTIO_PCI_CAP_DEVICE_CFG: u8 = 4;
pub const VIRTIO_PCI_CAP_PCI_CFG: u8 = 5;
