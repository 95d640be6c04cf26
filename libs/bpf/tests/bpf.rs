//! The checker and interpreter against the programs user space attaches:
//! busybox udhcpc's DHCP filter, and the failure cases Linux refuses or
//! ends with 0.

use bpf::*;

fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// busybox networking/udhcp/dhcpc.c `filter_instr`.
fn udhcpc_filter() -> Vec<SockFilter> {
    vec![
        stmt(BPF_LD | BPF_B | BPF_ABS, 9),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 6),
        stmt(BPF_LD | BPF_H | BPF_ABS, 6),
        jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
        stmt(BPF_LDX | BPF_B | BPF_MSH, 0),
        stmt(BPF_LD | BPF_H | BPF_IND, 2),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 68, 0, 1),
        stmt(BPF_RET | BPF_K, 0x7fff_ffff),
        stmt(BPF_RET | BPF_K, 0),
    ]
}

/// An IPv4 header (20 bytes) and a UDP header to `dport`.
fn udp_packet(proto: u8, frag: u16, dport: u16) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, 0, 0];
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]);
    p.extend_from_slice(&68u16.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&[0, 8, 0, 0]);
    p
}

fn dgram(buf: &[u8]) -> BpfPacket<'_> {
    BpfPacket { buf, data: 0, net: 0, protocol: 0x0800, pkttype: 0, ifindex: 1, hatype: 772 }
}

#[test]
fn udhcpc_filter_accepts_only_udp_to_port_68() {
    let prog = udhcpc_filter();
    assert_eq!(bpf_check_classic(&prog), Ok(()));
    assert_eq!(bpf_run(&prog, &dgram(&udp_packet(17, 0, 68))), 0x7fff_ffff);
    assert_eq!(bpf_run(&prog, &dgram(&udp_packet(17, 0, 67))), 0);
    assert_eq!(bpf_run(&prog, &dgram(&udp_packet(6, 0, 68))), 0);
    assert_eq!(bpf_run(&prog, &dgram(&udp_packet(17, 0x0001, 68))), 0, "a fragment");
}

#[test]
fn loads_past_the_packet_end_the_program_with_zero() {
    let prog = [stmt(BPF_LD | BPF_W | BPF_ABS, 100), stmt(BPF_RET | BPF_K, 5)];
    assert_eq!(bpf_run(&prog, &dgram(&[0; 20])), 0);
    let prog = [
        stmt(BPF_LDX | BPF_IMM, u32::MAX),
        stmt(BPF_LD | BPF_B | BPF_IND, 2),
        stmt(BPF_RET | BPF_A, 0),
    ];
    assert_eq!(bpf_run(&prog, &dgram(&[7; 20])), 0, "X + k wraps past the end");
}

#[test]
fn registers_memory_and_alu() {
    let prog = [
        stmt(BPF_LD | BPF_W | BPF_LEN, 0),
        stmt(BPF_ST, 3),
        stmt(BPF_LDX | BPF_W | BPF_MEM, 3),
        stmt(BPF_ALU | BPF_MUL | BPF_X, 0),
        stmt(BPF_ALU | BPF_SUB | BPF_K, 1),
        stmt(BPF_RET | BPF_A, 0),
    ];
    assert_eq!(bpf_check_classic(&prog), Ok(()));
    assert_eq!(bpf_run(&prog, &dgram(&[0; 10])), 99);
    let div_x =
        [stmt(BPF_LDX | BPF_IMM, 0), stmt(BPF_ALU | BPF_DIV | BPF_X, 0), stmt(BPF_RET | BPF_K, 9)];
    assert_eq!(bpf_run(&div_x, &dgram(&[0; 4])), 0, "division by a zero X");
}

#[test]
fn ancillary_and_special_offsets() {
    let frame = {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        f.extend_from_slice(&udp_packet(17, 0, 68));
        f
    };
    let raw = BpfPacket {
        buf: &frame,
        data: 0,
        net: 14,
        protocol: 0x0800,
        pkttype: 4,
        ifindex: 1,
        hatype: 772,
    };
    let proto = [
        stmt(BPF_LD | BPF_H | BPF_ABS, (SKF_AD_OFF + SKF_AD_PROTOCOL) as u32),
        stmt(BPF_RET | BPF_A, 0),
    ];
    assert_eq!(bpf_check_classic(&proto), Ok(()));
    assert_eq!(bpf_run(&proto, &raw), 0x0800);
    let pkttype = [
        stmt(BPF_LD | BPF_B | BPF_ABS, (SKF_AD_OFF + SKF_AD_PKTTYPE) as u32),
        stmt(BPF_RET | BPF_A, 0),
    ];
    assert_eq!(bpf_run(&pkttype, &raw), 4);
    let net = [stmt(BPF_LD | BPF_B | BPF_ABS, (SKF_NET_OFF + 9) as u32), stmt(BPF_RET | BPF_A, 0)];
    assert_eq!(bpf_run(&net, &raw), 17, "IP protocol through SKF_NET_OFF");
    let ll = [stmt(BPF_LD | BPF_H | BPF_ABS, (SKF_LL_OFF + 12) as u32), stmt(BPF_RET | BPF_A, 0)];
    assert_eq!(bpf_run(&ll, &raw), 0x0800, "ethertype through SKF_LL_OFF");
    let abs = [stmt(BPF_LD | BPF_H | BPF_ABS, 12), stmt(BPF_RET | BPF_A, 0)];
    assert_eq!(bpf_run(&abs, &raw), 0x0800, "SOCK_RAW sees the link header");
}

#[test]
fn checker_refuses_what_linux_refuses() {
    let ret = stmt(BPF_RET | BPF_K, 0);
    assert_eq!(bpf_check_classic(&[]), Err(CheckError::Length));
    assert_eq!(bpf_check_classic(&vec![ret; BPF_MAXINSNS + 1]), Err(CheckError::Length));
    assert_eq!(bpf_check_classic(&[stmt(BPF_LD | BPF_IMM, 1)]), Err(CheckError::NoReturn));
    assert_eq!(
        bpf_check_classic(&[jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret]),
        Err(CheckError::Jump(0))
    );
    assert_eq!(bpf_check_classic(&[stmt(BPF_JMP | BPF_JA, 1), ret]), Err(CheckError::Jump(0)));
    assert_eq!(bpf_check_classic(&[stmt(BPF_ST, 16), ret]), Err(CheckError::Memory(0)));
    assert_eq!(
        bpf_check_classic(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret]),
        Err(CheckError::DivByZero(0))
    );
    assert_eq!(
        bpf_check_classic(&[stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret]),
        Err(CheckError::Shift(0))
    );
    assert_eq!(
        bpf_check_classic(&[stmt(0x18 | BPF_LD | BPF_ABS, 0), ret]),
        Err(CheckError::Opcode(0))
    );
    let unknown_ad = (SKF_AD_OFF + 200) as u32;
    assert_eq!(
        bpf_check_classic(&[stmt(BPF_LD | BPF_W | BPF_ABS, unknown_ad), ret]),
        Err(CheckError::Ancillary(0))
    );
}

#[test]
fn unchecked_programs_never_panic() {
    // Every opcode with awkward operands, run without the checker.
    let pkt = [0xffu8; 64];
    for code in 0..=0xffu16 {
        for k in [0, 1, 15, 16, 31, 32, u32::MAX, 0xffff_f000, 0xfff0_0000, 0xffe0_0000] {
            let prog = [jump(code, k, 255, 255), stmt(BPF_RET | BPF_A, 0)];
            let _ = bpf_run(&prog, &dgram(&pkt));
            let _ = bpf_check_classic(&prog);
        }
    }
}
