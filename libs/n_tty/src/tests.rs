//! Host tests of the line discipline, checked against what Linux's n_tty
//! does with the same bytes.

use linux_raw_sys::general as g;
use proptest::prelude::*;

use crate::*;

fn echoes(tty: &mut NTty) -> Vec<u8> {
    let mut out = [0; ECHO_BUF_SIZE];
    let n = tty.take_echoes(&mut out);
    out[..n].to_vec()
}

fn read_all(tty: &mut NTty, want: usize) -> ReadStep {
    let mut buf = vec![0; want];
    tty.read(&mut buf, 0)
}

fn read_bytes(tty: &mut NTty, want: usize) -> Vec<u8> {
    let mut buf = vec![0; want];
    match tty.read(&mut buf, 0) {
        ReadStep::Done(n) | ReadStep::Wait { copied: n, .. } => buf[..n].to_vec(),
    }
}

fn raw(min: u8, time: u8) -> NTty {
    let mut t = Termios::default();
    t.c_lflag &= !(g::ICANON | g::ECHO);
    t.c_cc[g::VMIN as usize] = min;
    t.c_cc[g::VTIME as usize] = time;
    NTty::new(t)
}

#[test]
fn default_termios_is_linux_tty_std_termios() {
    let t = Termios::default();
    assert_eq!(t.c_iflag, 0o400 | 0o2000);
    assert_eq!(t.c_oflag, 0o5);
    assert_eq!(t.c_cflag, 0o2277);
    assert_eq!(t.c_lflag, 0o105073);
    assert_eq!(&t.c_cc[..17], b"\x03\x1c\x7f\x15\x04\0\x01\0\x11\x13\x1a\0\x12\x0f\x17\x16\0");
    assert_eq!(Termios::from_bytes(&t.to_bytes()), t);
    let ws = Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 1, ws_ypixel: 2 };
    assert_eq!(Winsize::from_bytes(&ws.to_bytes()), ws);
}

#[test]
fn erase_edits_the_line_and_rubs_out_the_echo() {
    let mut tty = NTty::default();
    let got = tty.receive_buf(b"ab\x7fc");
    assert!(!got.wake_readers, "no line yet");
    assert_eq!(read_all(&mut tty, 10), ReadStep::Wait { copied: 0, timeout_ds: None });
    let got = tty.receive_buf(b"\r");
    assert!(got.wake_readers);
    assert_eq!(got.signals, 0);
    assert_eq!(echoes(&mut tty), b"ab\x08 \x08c\r\n");
    assert_eq!(read_bytes(&mut tty, 10), b"ac\n");
}

#[test]
fn interrupt_flushes_the_line_and_asks_for_sigint() {
    let mut tty = NTty::default();
    tty.receive_buf(b"sleep 10");
    echoes(&mut tty);
    let got = tty.receive_buf(b"\x03");
    assert_eq!(got.signals().collect::<Vec<_>>(), [g::SIGINT]);
    assert_eq!(echoes(&mut tty), b"^C");
    tty.receive_buf(b"\n");
    assert_eq!(read_bytes(&mut tty, 10), b"\n", "the interrupted line is gone");
    assert_eq!(
        tty.receive_buf(b"\x1c\x1a").signals().collect::<Vec<_>>(),
        [g::SIGQUIT, g::SIGTSTP]
    );
}

#[test]
fn noflsh_keeps_the_line_and_isig_off_makes_data() {
    let mut t = Termios::default();
    t.c_lflag |= g::NOFLSH;
    let mut tty = NTty::new(t);
    tty.receive_buf(b"ab\x03\n");
    assert_eq!(read_bytes(&mut tty, 10), b"ab\n");
    t.c_lflag &= !g::ISIG;
    tty.set_termios(t);
    assert_eq!(tty.receive_buf(b"\x03\n").signals, 0);
    assert_eq!(read_bytes(&mut tty, 10), b"\x03\n");
}

#[test]
fn eof_ends_a_line_unread_and_alone_means_end_of_file() {
    let mut tty = NTty::default();
    tty.receive_buf(b"abc\x04");
    assert_eq!(echoes(&mut tty), b"abc");
    assert_eq!(tty.inq(), 3);
    assert_eq!(read_all(&mut tty, 10), ReadStep::Done(3));
    tty.receive_buf(b"\x04");
    assert_eq!(read_all(&mut tty, 10), ReadStep::Done(0));
    assert_eq!(read_all(&mut tty, 10), ReadStep::Wait { copied: 0, timeout_ds: None });
}

#[test]
fn a_short_read_leaves_the_rest_of_the_line() {
    let mut tty = NTty::default();
    tty.receive_buf(b"hello\nworld\n");
    assert_eq!(tty.inq(), 12);
    assert_eq!(read_bytes(&mut tty, 2), b"he");
    assert_eq!(read_bytes(&mut tty, 100), b"llo\n");
    assert_eq!(read_bytes(&mut tty, 100), b"world\n");
}

#[test]
fn kill_rubs_out_the_whole_line() {
    let mut tty = NTty::default();
    tty.receive_buf(b"abc\x15");
    assert_eq!(echoes(&mut tty), b"abc\x08 \x08\x08 \x08\x08 \x08");
    tty.receive_buf(b"x\n");
    assert_eq!(read_bytes(&mut tty, 10), b"x\n");

    let mut t = Termios::default();
    t.c_lflag &= !g::ECHOKE;
    let mut tty = NTty::new(t);
    tty.receive_buf(b"abc\x15");
    assert_eq!(echoes(&mut tty), b"abc^U\r\n", "ECHOK without ECHOKE: kill char and newline");
}

#[test]
fn word_erase_and_literal_next() {
    let mut tty = NTty::default();
    tty.receive_buf(b"foo bar_1  \x17\n");
    assert_eq!(read_bytes(&mut tty, 20), b"foo \n");
    let got = tty.receive_buf(b"\x16\x03\n");
    assert_eq!(got.signals, 0);
    assert_eq!(echoes(&mut tty), b"foo bar_1  \x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08\r\n^\x08^C\r\n");
    assert_eq!(read_bytes(&mut tty, 20), b"\x03\n");
}

#[test]
fn erasing_a_control_char_and_a_tab() {
    let mut tty = NTty::default();
    tty.receive_buf(b"\x01\x7f");
    assert_eq!(echoes(&mut tty), b"^A\x08 \x08\x08 \x08");
    tty.receive_buf(b"ab\tx\x7f\x7f");
    assert_eq!(echoes(&mut tty), b"ab\tx\x08 \x08\x08\x08\x08\x08\x08\x08");
    tty.receive_buf(b"\n");
    assert_eq!(read_bytes(&mut tty, 20), b"ab\n");
}

#[test]
fn utf8_erase_removes_a_whole_character() {
    let mut t = Termios::default();
    t.c_iflag |= g::IUTF8;
    let mut tty = NTty::new(t);
    tty.receive_buf("aé\x7f\n".as_bytes());
    assert_eq!(read_bytes(&mut tty, 20), b"a\n");
    assert_eq!(echoes(&mut tty), "aé\x08 \x08\r\n".as_bytes());
}

#[test]
fn echo_flags() {
    let mut t = Termios::default();
    t.c_lflag &= !g::ECHO;
    t.c_lflag |= g::ECHONL;
    let mut tty = NTty::new(t);
    tty.receive_buf(b"secret\n");
    assert_eq!(echoes(&mut tty), b"\r\n", "ECHONL echoes only the newline");
    t.c_lflag &= !(g::ECHOCTL | g::ECHONL);
    t.c_lflag |= g::ECHO;
    let mut tty = NTty::new(t);
    tty.receive_buf(b"\x01");
    assert_eq!(echoes(&mut tty), b"\x01");
    t.c_lflag &= !g::ECHOE;
    let mut tty = NTty::new(t);
    tty.receive_buf(b"a\x7f");
    assert_eq!(echoes(&mut tty), b"a\x7f", "without ECHOE the erase char itself is echoed");
}

#[test]
fn carriage_return_handling() {
    let mut t = Termios { c_iflag: g::IGNCR, ..Termios::default() };
    let mut tty = NTty::new(t);
    tty.receive_buf(b"a\r\n");
    assert_eq!(read_bytes(&mut tty, 10), b"a\n");
    t.c_iflag = g::INLCR;
    tty.set_termios(t);
    tty.receive_buf(b"b\n\r\x04");
    assert_eq!(read_bytes(&mut tty, 10), b"b\r\r", "INLCR: \\n is \\r; \\r without ICRNL is data");
    assert_eq!(tty.inq(), 0);
}

#[test]
fn reprint_echoes_the_line_again() {
    let mut tty = NTty::default();
    tty.receive_buf(b"ls\x12");
    assert_eq!(echoes(&mut tty), b"ls^R\r\nls");
}

#[test]
fn vmin_vtime() {
    let mut tty = raw(0, 0);
    assert_eq!(read_all(&mut tty, 4), ReadStep::Done(0), "polling read");
    tty.receive_buf(b"xy");
    assert_eq!(read_all(&mut tty, 4), ReadStep::Done(2));

    let mut tty = raw(1, 0);
    assert_eq!(read_all(&mut tty, 4), ReadStep::Wait { copied: 0, timeout_ds: None });
    assert!(tty.receive_buf(b"k").wake_readers);
    assert_eq!(read_bytes(&mut tty, 4), b"k");

    let mut tty = raw(3, 0);
    tty.receive_buf(b"ab");
    let mut buf = [0; 8];
    assert_eq!(tty.read(&mut buf, 0), ReadStep::Wait { copied: 2, timeout_ds: None });
    tty.receive_buf(b"cd");
    assert_eq!(tty.read(&mut buf[2..], 2), ReadStep::Done(2));
    assert_eq!(&buf[..4], b"abcd");
    tty.receive_buf(b"e");
    assert_eq!(tty.read(&mut buf[..1], 0), ReadStep::Done(1), "MIN is capped by the request");

    let mut tty = raw(0, 5);
    assert_eq!(read_all(&mut tty, 4), ReadStep::Wait { copied: 0, timeout_ds: Some(5) });
    tty.receive_buf(b"z");
    assert_eq!(read_all(&mut tty, 4), ReadStep::Done(1));

    let mut tty = raw(2, 5);
    assert_eq!(read_all(&mut tty, 4), ReadStep::Wait { copied: 0, timeout_ds: None });
    tty.receive_buf(b"q");
    assert_eq!(read_all(&mut tty, 4), ReadStep::Wait { copied: 1, timeout_ds: Some(5) });
}

#[test]
fn poll_and_fionread() {
    let mut tty = raw(3, 0);
    tty.receive_buf(b"ab");
    assert!(tty.input_available(false));
    assert!(!tty.input_available(true), "poll waits for VMIN bytes when VTIME is 0");
    assert_eq!(tty.inq(), 2);
    let mut tty = NTty::default();
    tty.receive_buf(b"ab");
    assert!(!tty.input_available(true));
    assert_eq!(tty.inq(), 0, "an unfinished line is not readable");
    tty.flush_input();
    tty.receive_buf(b"\n");
    assert_eq!(read_bytes(&mut tty, 10), b"\n");
}

#[test]
fn switching_modes_keeps_typed_input() {
    let mut tty = NTty::default();
    tty.receive_buf(b"ab");
    let mut t = Termios::default();
    t.c_lflag &= !g::ICANON;
    tty.set_termios(t);
    assert_eq!(read_bytes(&mut tty, 10), b"ab");
    tty.receive_buf(b"cd");
    tty.set_termios(Termios::default());
    assert_eq!(read_bytes(&mut tty, 10), b"cd", "pending raw input becomes a line");
}

#[test]
fn a_full_buffer_still_takes_the_newline() {
    let mut tty = NTty::default();
    tty.receive_buf(&[b'a'; 5000]);
    echoes(&mut tty);
    tty.receive_buf(b"\n");
    let line = read_bytes(&mut tty, 8000);
    assert_eq!(line.len(), N_TTY_BUF_SIZE);
    assert_eq!(line.last(), Some(&b'\n'));
}

#[test]
fn flow_control_characters_are_consumed() {
    let mut tty = NTty::default();
    tty.receive_buf(b"\x13");
    assert!(tty.is_stopped());
    tty.receive_buf(b"\x11a\n");
    assert!(!tty.is_stopped());
    assert_eq!(read_bytes(&mut tty, 10), b"a\n");
}

#[test]
fn output_processing() {
    let mut tty = NTty::default();
    let mut out = [0; 32];
    assert_eq!(tty.process_output(b"a\nb", &mut out), (3, 4));
    assert_eq!(&out[..4], b"a\r\nb");
    assert_eq!(tty.process_output(b"\n\n", &mut out[..3]), (1, 2), "an expansion is never split");

    let mut t =
        Termios { c_oflag: g::OPOST | g::XTABS | g::OCRNL | g::OLCUC, ..Termios::default() };
    let mut tty = NTty::new(t);
    assert_eq!(tty.process_output(b"ab\tc\r", &mut out), (5, 10));
    assert_eq!(&out[..10], b"AB      C\n");

    t.c_oflag = g::OPOST | g::ONOCR;
    let mut tty = NTty::new(t);
    assert_eq!(tty.process_output(b"\rx\r", &mut out), (3, 2));
    assert_eq!(&out[..2], b"x\r");

    t.c_oflag = g::ONLCR;
    let mut tty = NTty::new(t);
    assert_eq!(tty.process_output(b"\n", &mut out), (1, 1), "ONLCR needs OPOST");
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics_and_reads_stay_in_bounds(
        iflag in any::<u32>(),
        oflag in any::<u32>(),
        lflag in any::<u32>(),
        cc in proptest::array::uniform19(any::<u8>()),
        ops in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..64), 0usize..80, any::<u8>()), 0..60),
    ) {
        let t = Termios { c_iflag: iflag, c_oflag: oflag, c_cflag: 0, c_lflag: lflag, c_line: 0, c_cc: cc };
        let mut tty = NTty::new(t);
        for (input, want, action) in ops {
            let got = tty.receive_buf(&input);
            prop_assert!(got.signals & !((1 << g::SIGINT) | (1 << g::SIGQUIT) | (1 << g::SIGTSTP)) == 0);
            let before = tty.inq();
            prop_assert!(before <= N_TTY_BUF_SIZE);
            let mut buf = vec![0; want];
            let n = match tty.read(&mut buf, usize::from(action)) {
                ReadStep::Done(n) | ReadStep::Wait { copied: n, .. } => n,
            };
            prop_assert!(n <= want);
            let mut small = [0; 7];
            prop_assert!(tty.take_echoes(&mut small) <= 7);
            let (used, made) = tty.process_output(&input, &mut buf);
            prop_assert!(used <= input.len() && made <= buf.len());
            match action % 8 {
                0 => tty.flush_input(),
                1 => tty.set_termios(Termios { c_lflag: lflag ^ u32::from(action), ..t }),
                _ => {}
            }
        }
    }
}

#[test]
fn receive_room_keeps_a_slot_and_lets_a_full_line_end() {
    let mut tty = raw(1, 0);
    assert_eq!(tty.receive_room(), N_TTY_BUF_SIZE - 1);
    tty.receive_buf(&[b'x'; N_TTY_BUF_SIZE]);
    assert_eq!(tty.receive_room(), 0, "raw: full, the writer waits");
    let mut canon = NTty::default();
    canon.receive_buf(&[b'y'; N_TTY_BUF_SIZE]);
    assert_eq!(canon.receive_room(), 1, "an unfinished line still takes its newline");
    canon.receive_buf(b"\n");
    assert_eq!(canon.receive_room(), 0, "a complete line: wait for the reader");
    assert_eq!(read_bytes(&mut canon, N_TTY_BUF_SIZE).last(), Some(&b'\n'));
    assert_eq!(canon.receive_room(), N_TTY_BUF_SIZE - 1);
}
