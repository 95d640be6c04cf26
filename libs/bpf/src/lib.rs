//! Classic BPF (cBPF) socket filters: the checker and the interpreter
//! (Linux: net/core/filter.c `bpf_check_classic`, `sk_attach_filter`, and
//! the classic semantics its eBPF translation keeps; include/uapi/linux/
//! filter.h, bpf_common.h).
//!
//! A program is a list of [`SockFilter`] instructions over an accumulator
//! `A`, an index register `X` and 16 scratch words `M[]`. It reads the
//! packet at absolute or indexed offsets and returns how many bytes of the
//! packet to keep, 0 to drop it. [`bpf_check_classic`] refuses what Linux
//! refuses (bad opcodes, jumps out of the program, a missing final
//! return, constant division by zero, shifts of 32 or more, unknown
//! ancillary loads); [`bpf_run`] never panics: a load past the packet
//! ends the program with 0, as Linux does, and division by a zero `X`
//! too.
#![no_std]

/// One instruction (Linux: `struct sock_filter`, 8 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl SockFilter {
    /// Decodes one instruction from its 8 bytes in host order.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Self {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

// Instruction classes, sizes, modes and operations (Linux: bpf_common.h).
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_ST: u16 = 0x02;
pub const BPF_STX: u16 = 0x03;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_MISC: u16 = 0x07;
pub const BPF_W: u16 = 0x00;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;
pub const BPF_IMM: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MEM: u16 = 0x60;
pub const BPF_LEN: u16 = 0x80;
pub const BPF_MSH: u16 = 0xa0;
pub const BPF_ADD: u16 = 0x00;
pub const BPF_SUB: u16 = 0x10;
pub const BPF_MUL: u16 = 0x20;
pub const BPF_DIV: u16 = 0x30;
pub const BPF_OR: u16 = 0x40;
pub const BPF_AND: u16 = 0x50;
pub const BPF_LSH: u16 = 0x60;
pub const BPF_RSH: u16 = 0x70;
pub const BPF_NEG: u16 = 0x80;
pub const BPF_MOD: u16 = 0x90;
pub const BPF_XOR: u16 = 0xa0;
pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;
pub const BPF_JSET: u16 = 0x40;
pub const BPF_K: u16 = 0x00;
pub const BPF_X: u16 = 0x08;
pub const BPF_A: u16 = 0x10;
pub const BPF_TAX: u16 = 0x00;
pub const BPF_TXA: u16 = 0x80;

/// Linux: `BPF_MAXINSNS`, `BPF_MEMWORDS`.
pub const BPF_MAXINSNS: usize = 4096;
pub const BPF_MEMWORDS: u32 = 16;

/// Ancillary data, loaded at negative offsets (Linux: `SKF_AD_OFF`,
/// `SKF_NET_OFF`, `SKF_LL_OFF` and the `SKF_AD_*` that Ferrite knows).
pub const SKF_AD_OFF: i32 = -0x1000;
pub const SKF_AD_PROTOCOL: i32 = 0;
pub const SKF_AD_PKTTYPE: i32 = 4;
pub const SKF_AD_IFINDEX: i32 = 8;
pub const SKF_AD_MARK: i32 = 20;
pub const SKF_AD_QUEUE: i32 = 24;
pub const SKF_AD_HATYPE: i32 = 28;
pub const SKF_AD_RXHASH: i32 = 32;
pub const SKF_AD_CPU: i32 = 36;
pub const SKF_AD_VLAN_TAG: i32 = 44;
pub const SKF_AD_VLAN_TAG_PRESENT: i32 = 48;
pub const SKF_NET_OFF: i32 = -0x10_0000;
pub const SKF_LL_OFF: i32 = -0x20_0000;

/// Why a program is refused (Linux answers `EINVAL` for all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    Length,
    Opcode(usize),
    Jump(usize),
    Memory(usize),
    DivByZero(usize),
    Shift(usize),
    Ancillary(usize),
    NoReturn,
}

fn ancillary_known(k: u32) -> bool {
    let off = k as i32;
    if (SKF_AD_OFF..0).contains(&off) {
        let ad = off - SKF_AD_OFF;
        return matches!(
            ad,
            SKF_AD_PROTOCOL
                | SKF_AD_PKTTYPE
                | SKF_AD_IFINDEX
                | SKF_AD_MARK
                | SKF_AD_QUEUE
                | SKF_AD_HATYPE
                | SKF_AD_RXHASH
                | SKF_AD_CPU
                | SKF_AD_VLAN_TAG
                | SKF_AD_VLAN_TAG_PRESENT
        );
    }
    true
}

/// Checks a program before it is attached (Linux: `bpf_check_classic`).
pub fn bpf_check_classic(prog: &[SockFilter]) -> Result<(), CheckError> {
    if prog.is_empty() || prog.len() > BPF_MAXINSNS {
        return Err(CheckError::Length);
    }
    for (pc, ins) in prog.iter().enumerate() {
        let code = ins.code;
        let class = code & 0x07;
        let ok = match class {
            BPF_LD | BPF_LDX => {
                let size = code & 0x18;
                let mode = code & 0xe0;
                match (class, mode) {
                    (BPF_LD, BPF_ABS | BPF_IND) => {
                        if mode == BPF_ABS && !ancillary_known(ins.k) {
                            return Err(CheckError::Ancillary(pc));
                        }
                        size != 0x18
                    }
                    (_, BPF_IMM | BPF_LEN) => size == BPF_W,
                    (_, BPF_MEM) => {
                        if ins.k >= BPF_MEMWORDS {
                            return Err(CheckError::Memory(pc));
                        }
                        size == BPF_W
                    }
                    (BPF_LDX, BPF_MSH) => size == BPF_B,
                    _ => false,
                }
            }
            BPF_ST | BPF_STX => {
                if ins.k >= BPF_MEMWORDS {
                    return Err(CheckError::Memory(pc));
                }
                code & !0x07 == 0
            }
            BPF_ALU => {
                let op = code & 0xf0;
                let src = code & 0x08;
                if code & !0xff != 0 || code & 0x07 != BPF_ALU {
                    false
                } else if src == BPF_K && matches!(op, BPF_DIV | BPF_MOD) && ins.k == 0 {
                    return Err(CheckError::DivByZero(pc));
                } else if src == BPF_K && matches!(op, BPF_LSH | BPF_RSH) && ins.k >= 32 {
                    return Err(CheckError::Shift(pc));
                } else {
                    op <= BPF_XOR && (op != BPF_NEG || src == BPF_K)
                }
            }
            BPF_JMP => {
                let op = code & 0xf0;
                let rest = prog.len() - pc - 1;
                if op == BPF_JA {
                    if ins.k as usize >= rest {
                        return Err(CheckError::Jump(pc));
                    }
                    code == BPF_JMP | BPF_JA
                } else {
                    if usize::from(ins.jt) >= rest || usize::from(ins.jf) >= rest {
                        return Err(CheckError::Jump(pc));
                    }
                    op <= BPF_JSET && code & !0xf8 == BPF_JMP
                }
            }
            BPF_RET => matches!(code & 0x18, BPF_K | BPF_X | BPF_A) && code & !0x1f == 0,
            BPF_MISC => matches!(code & 0xf8, BPF_TAX | BPF_TXA),
            _ => false,
        };
        if !ok {
            return Err(CheckError::Opcode(pc));
        }
    }
    match prog.last() {
        Some(last) if last.code & 0x07 == BPF_RET => Ok(()),
        _ => Err(CheckError::NoReturn),
    }
}

/// The packet and what the ancillary loads read (Linux: the `sk_buff`
/// the filter runs on).
pub struct BpfPacket<'a> {
    /// From the link-layer header on.
    pub buf: &'a [u8],
    /// Where offset 0 of `BPF_ABS` is (Linux: `skb->data`): the link
    /// header for `SOCK_RAW`, the network header for `SOCK_DGRAM`.
    pub data: usize,
    /// Where the network header starts in `buf`.
    pub net: usize,
    /// `ntohs(skb->protocol)`, `PACKET_*`, the device's index and type.
    pub protocol: u16,
    pub pkttype: u8,
    pub ifindex: u32,
    pub hatype: u16,
}

impl BpfPacket<'_> {
    /// The bytes at `off` (from `data`, or a special base), or `None`
    /// past either end.
    fn bytes(&self, off: i64, len: usize) -> Option<&[u8]> {
        let at = if (i64::from(SKF_LL_OFF)..i64::from(SKF_AD_OFF)).contains(&off) {
            let (base, from) = if off >= i64::from(SKF_NET_OFF) {
                (self.net, SKF_NET_OFF)
            } else {
                (0, SKF_LL_OFF)
            };
            base.checked_add(usize::try_from(off - i64::from(from)).ok()?)?
        } else {
            self.data.checked_add(usize::try_from(off).ok()?)?
        };
        self.buf.get(at..at.checked_add(len)?)
    }

    fn load(&self, off: i64, size: u16) -> Option<u32> {
        let v = match size {
            BPF_W => {
                let b = self.bytes(off, 4)?;
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }
            BPF_H => {
                let b = self.bytes(off, 2)?;
                u32::from(u16::from_be_bytes([b[0], b[1]]))
            }
            _ => u32::from(*self.bytes(off, 1)?.first()?),
        };
        Some(v)
    }

    fn ancillary(&self, k: u32) -> u32 {
        match k as i32 - SKF_AD_OFF {
            SKF_AD_PROTOCOL => u32::from(self.protocol),
            SKF_AD_PKTTYPE => u32::from(self.pkttype),
            SKF_AD_IFINDEX => self.ifindex,
            SKF_AD_HATYPE => u32::from(self.hatype),
            _ => 0,
        }
    }

    fn len(&self) -> u32 {
        u32::try_from(self.buf.len().saturating_sub(self.data)).unwrap_or(u32::MAX)
    }
}

/// Runs a checked program over a packet: the number of bytes to keep
/// (Linux: `bpf_prog_run` of a classic filter). An unchecked program
/// cannot panic either: it ends with 0 wherever it goes wrong.
pub fn bpf_run(prog: &[SockFilter], pkt: &BpfPacket<'_>) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; BPF_MEMWORDS as usize];
    let mut pc = 0usize;
    while let Some(ins) = prog.get(pc) {
        pc += 1;
        let k = ins.k;
        let code = ins.code;
        let src = if code & BPF_X != 0 { x } else { k };
        match code & 0x07 {
            BPF_LD => {
                let size = code & 0x18;
                a = match code & 0xe0 {
                    BPF_IMM => k,
                    BPF_LEN => pkt.len(),
                    BPF_MEM => mem.get(k as usize).copied().unwrap_or(0),
                    BPF_ABS if (k as i32) >= SKF_AD_OFF && (k as i32) < 0 => pkt.ancillary(k),
                    BPF_ABS => match pkt.load(i64::from(k as i32), size) {
                        Some(v) => v,
                        None => return 0,
                    },
                    BPF_IND => match pkt.load(i64::from(x) + i64::from(k as i32), size) {
                        Some(v) => v,
                        None => return 0,
                    },
                    _ => return 0,
                };
            }
            BPF_LDX => {
                x = match code & 0xe0 {
                    BPF_IMM => k,
                    BPF_LEN => pkt.len(),
                    BPF_MEM => mem.get(k as usize).copied().unwrap_or(0),
                    BPF_MSH => match pkt.load(i64::from(k as i32), BPF_B) {
                        Some(v) => (v & 0xf) << 2,
                        None => return 0,
                    },
                    _ => return 0,
                };
            }
            BPF_ST | BPF_STX => {
                let v = if code & 0x07 == BPF_ST { a } else { x };
                match mem.get_mut(k as usize) {
                    Some(slot) => *slot = v,
                    None => return 0,
                }
            }
            BPF_ALU => {
                a = match code & 0xf0 {
                    BPF_ADD => a.wrapping_add(src),
                    BPF_SUB => a.wrapping_sub(src),
                    BPF_MUL => a.wrapping_mul(src),
                    BPF_DIV => match a.checked_div(src) {
                        Some(v) => v,
                        None => return 0,
                    },
                    BPF_MOD => match a.checked_rem(src) {
                        Some(v) => v,
                        None => return 0,
                    },
                    BPF_OR => a | src,
                    BPF_AND => a & src,
                    BPF_XOR => a ^ src,
                    BPF_LSH => a.checked_shl(src).unwrap_or(0),
                    BPF_RSH => a.checked_shr(src).unwrap_or(0),
                    BPF_NEG => a.wrapping_neg(),
                    _ => return 0,
                };
            }
            BPF_JMP => {
                let taken = match code & 0xf0 {
                    BPF_JA => {
                        pc = pc.saturating_add(k as usize);
                        continue;
                    }
                    BPF_JEQ => a == src,
                    BPF_JGT => a > src,
                    BPF_JGE => a >= src,
                    BPF_JSET => a & src != 0,
                    _ => return 0,
                };
                pc += usize::from(if taken { ins.jt } else { ins.jf });
            }
            BPF_RET => {
                return match code & 0x18 {
                    BPF_A => a,
                    BPF_X => x,
                    _ => k,
                };
            }
            _ => {
                if code & 0xf8 == BPF_TXA {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
    0
}
