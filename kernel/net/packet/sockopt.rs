//! `SOL_PACKET` options (Linux: net/packet/af_packet.c
//! `packet_setsockopt`, `packet_getsockopt`).
//!
//! Kept: `PACKET_AUXDATA` (a `tpacket_auxdata` control message with each
//! packet), `PACKET_ORIGDEV`, `PACKET_IGNORE_OUTGOING`, `PACKET_VERSION`
//! (only rings use it), `PACKET_STATISTICS`. Memberships
//! (`PACKET_ADD_MEMBERSHIP`) are checked and accepted: on `lo` every
//! packet already reaches every socket. The mmap rings are not there
//! (`EOPNOTSUPP`).
//!
//! # Locking
//! The socket's `inner`, briefly.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::if_packet as uapi_pkt;

use super::PacketSock;
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::dev_get_by_index;

/// The options a socket keeps.
#[derive(Default)]
pub(super) struct PacketOpts {
    pub auxdata: bool,
    pub origdev: bool,
    pub ignore_outgoing: bool,
    /// `TPACKET_V1`..`V3` (Linux: `po->tp_version`).
    pub version: u32,
}

/// Linux: `TPACKET_V3`, the last ring version.
const TPACKET_V3: u32 = 2;
/// Linux: `sizeof(struct packet_mreq)`.
const PACKET_MREQ_SIZE: usize = 16;

fn int_of(optval: &[u8]) -> KResult<u32> {
    let b = optval.get(..4).ok_or(Errno::EINVAL)?;
    Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Linux: `packet_setsockopt`: `ENOPROTOOPT` for another level or an
/// unknown option.
pub(super) fn packet_setsockopt(
    po: &PacketSock,
    level: u32,
    optname: u32,
    optval: &[u8],
) -> KResult<()> {
    if level != linux_raw_sys::net::SOL_PACKET {
        return Err(Errno::ENOPROTOOPT);
    }
    match optname {
        uapi_pkt::PACKET_ADD_MEMBERSHIP | uapi_pkt::PACKET_DROP_MEMBERSHIP => {
            if optval.len() < PACKET_MREQ_SIZE {
                return Err(Errno::EINVAL);
            }
            let ifindex = i32::from_ne_bytes([optval[0], optval[1], optval[2], optval[3]]);
            let alen = usize::from(u16::from_ne_bytes([optval[6], optval[7]]));
            if alen > 8 {
                return Err(Errno::EINVAL);
            }
            let found = u32::try_from(ifindex).ok().and_then(dev_get_by_index);
            found.map(drop).ok_or(Errno::ENODEV)
        }
        uapi_pkt::PACKET_AUXDATA => set(po, optval, |o, v| o.auxdata = v != 0),
        uapi_pkt::PACKET_ORIGDEV => set(po, optval, |o, v| o.origdev = v != 0),
        uapi_pkt::PACKET_IGNORE_OUTGOING => set(po, optval, |o, v| o.ignore_outgoing = v != 0),
        uapi_pkt::PACKET_VERSION => {
            let v = int_of(optval)?;
            if v > TPACKET_V3 {
                return Err(Errno::EINVAL);
            }
            po.inner.lock().opts.version = v;
            Ok(())
        }
        // TODO(issue 7): the mmap rings (tcpdump's fast path).
        uapi_pkt::PACKET_RX_RING | uapi_pkt::PACKET_TX_RING => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::ENOPROTOOPT),
    }
}

fn set(po: &PacketSock, optval: &[u8], f: impl FnOnce(&mut PacketOpts, u32)) -> KResult<()> {
    let v = int_of(optval)?;
    f(&mut po.inner.lock().opts, v);
    Ok(())
}

/// Linux: `packet_getsockopt`.
pub(super) fn packet_getsockopt(
    po: &PacketSock,
    level: u32,
    optname: u32,
    _len: usize,
) -> KResult<Vec<u8>> {
    if level != linux_raw_sys::net::SOL_PACKET {
        return Err(Errno::ENOPROTOOPT);
    }
    let mut st = po.inner.lock();
    let int = |v: u32| Ok(v.to_ne_bytes().to_vec());
    match optname {
        uapi_pkt::PACKET_AUXDATA => int(u32::from(st.opts.auxdata)),
        uapi_pkt::PACKET_ORIGDEV => int(u32::from(st.opts.origdev)),
        uapi_pkt::PACKET_IGNORE_OUTGOING => int(u32::from(st.opts.ignore_outgoing)),
        uapi_pkt::PACKET_VERSION => int(st.opts.version),
        // `struct tpacket_stats`: packets (drops included) and drops,
        // reset by the read.
        uapi_pkt::PACKET_STATISTICS => {
            let drops = st.tp_drops;
            let packets = st.tp_packets.saturating_add(drops);
            st.tp_packets = 0;
            st.tp_drops = 0;
            let mut b = packets.to_ne_bytes().to_vec();
            b.extend_from_slice(&drops.to_ne_bytes());
            Ok(b)
        }
        _ => Err(Errno::ENOPROTOOPT),
    }
}
