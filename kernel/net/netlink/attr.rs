//! Netlink message and attribute encoding (Linux: include/net/netlink.h
//! `nlmsg_put`, `nla_put*`, `nla_nest_start`, `nla_parse`; lib/nlattr.c).
//!
//! [`NlBuf`] appends messages (`struct nlmsghdr` + a fixed header + TLV
//! attributes, each padded to 4 bytes) to a byte buffer. [`nlmsg_iter`]
//! walks the messages of a received buffer and [`Attrs`] indexes the
//! attributes after a fixed header, as `nla_parse` fills its `tb[]`: the
//! last of a type wins, a truncated attribute ends the walk.
//!
//! # Locking
//! None: plain buffers.
#![deny(unsafe_code)]

use alloc::vec::Vec;

/// `sizeof(struct nlmsghdr)` (Linux: `NLMSG_HDRLEN`).
pub const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct nlattr)` (Linux: `NLA_HDRLEN`).
pub const NLA_HDRLEN: usize = 4;
/// Linux: `NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`, `NLA_TYPE_MASK`.
pub const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// The `nlmsghdr` types and flags, and the family numbers, in the widths
/// of the fields that hold them.
#[expect(clippy::cast_possible_truncation, reason = "every value is below 0x1000")]
pub mod consts {
    use linux_raw_sys::net as uapi_net;
    use linux_raw_sys::netlink as nl;

    pub const NLM_F_REQUEST: u16 = nl::NLM_F_REQUEST as u16;
    pub const NLM_F_MULTI: u16 = nl::NLM_F_MULTI as u16;
    pub const NLM_F_ACK: u16 = nl::NLM_F_ACK as u16;
    pub const NLM_F_DUMP: u16 = nl::NLM_F_DUMP as u16;
    pub const NLM_F_CAPPED: u16 = nl::NLM_F_CAPPED as u16;
    pub const NLMSG_ERROR: u16 = nl::NLMSG_ERROR as u16;
    pub const NLMSG_DONE: u16 = nl::NLMSG_DONE as u16;
    pub const NLMSG_MIN_TYPE: u16 = nl::NLMSG_MIN_TYPE as u16;
    pub const AF_UNSPEC: u8 = uapi_net::AF_UNSPEC as u8;
    pub const AF_INET: u8 = uapi_net::AF_INET as u8;
    pub const AF_INET6: u8 = uapi_net::AF_INET6 as u8;
    pub const AF_NETLINK: u16 = uapi_net::AF_NETLINK as u16;
    pub const RTPROT_KERNEL: u8 = nl::RTPROT_KERNEL as u8;
    pub const IFAPROT_KERNEL_LO: u8 = nl::IFAPROT_KERNEL_LO as u8;
}

/// Rounds up to the 4-byte alignment of messages and attributes (Linux:
/// `NLMSG_ALIGN`, `NLA_ALIGN`).
pub const fn nlmsg_align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// A message header (Linux: `struct nlmsghdr`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NlMsgHdr {
    pub len: u32,
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl NlMsgHdr {
    /// Decodes the first 16 bytes; `None` if shorter.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b = b.get(..NLMSG_HDRLEN)?;
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(Self {
            len: u32_at(0),
            ty: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32_at(8),
            pid: u32_at(12),
        })
    }

    pub fn to_bytes(self) -> [u8; NLMSG_HDRLEN] {
        let mut b = [0; NLMSG_HDRLEN];
        b[..4].copy_from_slice(&self.len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.ty.to_ne_bytes());
        b[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        b[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        b[12..].copy_from_slice(&self.pid.to_ne_bytes());
        b
    }
}

/// The well-formed messages of a buffer, with their payloads (Linux:
/// `nlmsg_ok` + `nlmsg_next` as `netlink_rcv_skb` walks them): the walk
/// stops at a length below the header or past the end.
pub fn nlmsg_iter(mut data: &[u8]) -> impl Iterator<Item = (NlMsgHdr, &[u8])> {
    core::iter::from_fn(move || {
        let hdr = NlMsgHdr::parse(data)?;
        let len = hdr.len as usize;
        if len < NLMSG_HDRLEN || len > data.len() {
            return None;
        }
        let payload = data.get(NLMSG_HDRLEN..len)?;
        data = data.get(nlmsg_align(len)..).unwrap_or_default();
        Some((hdr, payload))
    })
}

/// A builder of messages (Linux: an `sk_buff` filled by `nlmsg_put` and
/// `nla_put`).
#[derive(Default)]
pub struct NlBuf {
    pub buf: Vec<u8>,
}

impl NlBuf {
    pub fn new() -> Self {
        Self { buf: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn pad(&mut self) {
        self.buf.resize(nlmsg_align(self.buf.len()), 0);
    }

    /// Starts a message; returns where it starts, for [`Self::end`]
    /// (Linux: `nlmsg_put`).
    pub fn begin(&mut self, ty: u16, flags: u16, seq: u32, pid: u32) -> usize {
        self.pad();
        let at = self.buf.len();
        let hdr = NlMsgHdr { len: 0, ty, flags, seq, pid };
        self.buf.extend_from_slice(&hdr.to_bytes());
        at
    }

    /// Appends raw bytes padded to 4 (a family header such as `ifinfomsg`).
    pub fn put(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        self.pad();
    }

    /// Writes the length of the message started at `at` (Linux:
    /// `nlmsg_end`).
    pub fn end(&mut self, at: usize) {
        self.set_u32_len(at);
    }

    fn set_u32_len(&mut self, at: usize) {
        let len = u32::try_from(self.buf.len().saturating_sub(at)).unwrap_or(u32::MAX);
        if let Some(b) = self.buf.get_mut(at..at + 4) {
            b.copy_from_slice(&len.to_ne_bytes());
        }
    }

    /// One attribute (Linux: `nla_put`): its length counts the header
    /// and the value, not the padding.
    pub fn attr(&mut self, ty: u16, val: &[u8]) {
        let len = u16::try_from(NLA_HDRLEN + val.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(val);
        self.pad();
    }

    pub fn attr_u8(&mut self, ty: u16, v: u8) {
        self.attr(ty, &[v]);
    }

    pub fn attr_u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_ne_bytes());
    }

    /// A NUL-terminated string (Linux: `nla_put_string`).
    pub fn attr_str(&mut self, ty: u16, s: &str) {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(ty, &v);
    }

    /// Opens a nested attribute (Linux: `nla_nest_start`, which sets
    /// `NLA_F_NESTED`, or `nla_nest_start_noflag` for the older nests
    /// such as `IFLA_XDP` and `TCA_STATS2`).
    pub fn nest_start(&mut self, ty: u16, flag: bool) -> usize {
        let at = self.buf.len();
        self.attr(if flag { ty | NLA_F_NESTED } else { ty }, &[]);
        at
    }

    /// Linux: `nla_nest_end`.
    pub fn nest_end(&mut self, at: usize) {
        let len = u16::try_from(self.buf.len().saturating_sub(at)).unwrap_or(u16::MAX);
        if let Some(b) = self.buf.get_mut(at..at + 2) {
            b.copy_from_slice(&len.to_ne_bytes());
        }
    }
}

/// Attributes by type (Linux: the `tb[]` of `nla_parse`, without a
/// policy: each handler checks the lengths it needs).
pub struct Attrs<'a> {
    list: Vec<(u16, &'a [u8])>,
}

impl<'a> Attrs<'a> {
    /// Parses the attributes in `data`.
    pub fn parse(mut data: &'a [u8]) -> Self {
        let mut list = Vec::new();
        while data.len() >= NLA_HDRLEN {
            let len = usize::from(u16::from_ne_bytes([data[0], data[1]]));
            let ty = u16::from_ne_bytes([data[2], data[3]]) & NLA_TYPE_MASK;
            let Some(val) = data.get(NLA_HDRLEN..len.max(NLA_HDRLEN)) else { break };
            if len < NLA_HDRLEN {
                break;
            }
            list.push((ty, val));
            data = data.get(nlmsg_align(len)..).unwrap_or_default();
        }
        Self { list }
    }

    /// The last attribute of type `ty`.
    pub fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.list.iter().rev().find(|(t, _)| *t == ty).map(|(_, v)| *v)
    }

    pub fn u32(&self, ty: u16) -> Option<u32> {
        let v = self.get(ty)?.get(..4)?;
        Some(u32::from_ne_bytes([v[0], v[1], v[2], v[3]]))
    }

    /// A string attribute up to its NUL (Linux: `nla_strscpy` source).
    pub fn str(&self, ty: u16) -> Option<&'a [u8]> {
        let v = self.get(ty)?;
        Some(v.split(|&b| b == 0).next().unwrap_or_default())
    }

    /// An address attribute of exactly `N` bytes or more (the head).
    pub fn addr<const N: usize>(&self, ty: u16) -> Option<[u8; N]> {
        self.get(ty)?.get(..N)?.try_into().ok()
    }
}

crate::ktest!(netlink_attr_roundtrip, {
    let mut b = NlBuf::new();
    let at = b.begin(16, 1, 7, 0);
    b.put(&[1, 2, 3]);
    b.attr_str(3, "lo");
    b.attr_u32(4, 65536);
    let n = b.nest_start(26, true);
    b.attr_u8(1, 9);
    b.nest_end(n);
    b.end(at);
    let msgs: Vec<_> = nlmsg_iter(&b.buf).collect();
    crate::kassert!(msgs.len() == 1, "one message");
    let (hdr, payload) = msgs[0];
    crate::kassert!(hdr.len as usize == b.len() && hdr.seq == 7, "header");
    let attrs = Attrs::parse(&payload[4..]);
    crate::kassert!(attrs.str(3) == Some(&b"lo"[..]), "string");
    crate::kassert!(attrs.u32(4) == Some(65536), "u32");
    let nested = Attrs::parse(attrs.get(26).unwrap_or_default());
    crate::kassert!(nested.get(1) == Some(&[9][..]), "nested");
    crate::kassert!(Attrs::parse(&[8, 0, 1, 0, 1]).get(1).is_none(), "truncated");
    crate::kassert!(nlmsg_iter(&b.buf[..20]).count() == 0, "short buffer");
    Ok(())
});
