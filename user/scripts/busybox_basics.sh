#!/bin/sh
# The busybox script of issue 3: sh, echo, ls, cat, mkdir, rm, cp, mv, grep,
# sed, wc, sort, sleep, kill, true/false, pipelines, redirections, subshells,
# $(...) and background jobs with wait. Its whole output is compared byte for
# byte with busybox_basics.expected, recorded on Linux
# (`cargo xtask systest --linux --bless busybox_basics`), so it prints
# nothing that differs between kernels or runs: no pids, times, or `uname -r`.
# `ps` needs /proc and lives in busybox_ps.sh.

cd /tmp && rm -rf bb && mkdir bb && cd bb || exit 1

echo "== echo and variables"
echo hello world
name=ferrite
echo "name=$name len=${#name} upper=$(echo $name | tr a-z A-Z)"
printf '%s|%d|%x\n' text 42 255
echo -n "no newline"; echo " then newline"

echo "== files: mkdir, ls, cat, cp, mv, rm"
mkdir -p d/sub
echo one > d/a.txt
echo two >> d/a.txt
printf 'x\ny\n' > d/b.txt
ls d
ls -1 d | wc -l
cat d/a.txt d/b.txt
cp d/a.txt d/sub/c.txt
mv d/b.txt d/sub/
ls d/sub
rm d/sub/c.txt
ls d/sub
rm -r d/sub
ls d
[ -d d/sub ] || echo "d/sub removed"
ls -ld d | cut -c1-10

echo "== grep, sed, wc, sort"
printf 'banana\napple\ncherry\napple pie\n' > fruit
grep apple fruit
grep -c apple fruit
grep -v apple fruit
grep -q cherry fruit && echo "grep -q found cherry"
grep -q durian fruit || echo "grep -q: no durian (status $?)"
sed 's/apple/APPLE/' fruit
sed -n '2p' fruit
sed -e '/banana/d' -e 's/^/> /' fruit
wc -l < fruit
wc -w fruit
sort fruit
sort -r fruit | head -n 2
printf '3\n10\n2\n' | sort -n
printf 'b\na\nb\nc\na\n' | sort -u

echo "== true, false, exit statuses"
true; echo "true: $?"
false; echo "false: $?"
! false && echo "! false"
true && echo "and runs" || echo "not this"
false || echo "or runs"
sh -c 'exit 7'; echo "sh -c exit 7: $?"
if grep -q banana fruit; then echo "if: yes"; else echo "if: no"; fi

echo "== pipelines and redirections"
echo $(echo "a b c" | tr ' ' '\n' | sort -r)
cat fruit | grep an | wc -l
false | true; echo "pipeline status is the last: $?"
echo "to stderr" 1>&2 2>/dev/null
ls /no/such/dir 2>/dev/null || echo "ls of a missing dir failed"
ls /no/such/dir 2>err.txt; wc -l < err.txt
echo out > both.txt 2>&1
cat < both.txt
exec 3> fd3.txt; echo "via fd 3" >&3; exec 3>&-; cat fd3.txt
cat <<END
here-doc with $name
END
: > empty; wc -c < empty

echo "== subshells and command substitution"
x=outer
(x=inner; echo "in subshell: $x")
echo "after subshell: $x"
(cd d && pwd)
pwd
count=$(ls d | wc -l)
echo "count=$count"
echo "nested: $(echo "$(echo deep)")"
echo "arith: $((6 * 7)) $((17 % 5))"
echo $(for i in 1 2 3; do printf '%s-' "$i"; done)
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo "while: $i"
case $name in ferr*) echo "case matched";; *) echo "case missed";; esac
f() { echo "function got $# args: $*"; return 3; }
f a b; echo "function returned $?"

echo "== background jobs, wait, sleep, kill"
(sleep 0.2; echo "background 1 done" > bg1) &
(echo "background 2 done" > bg2) &
wait
cat bg1 bg2
echo "waited for both"
sh -c 'exit 5' &
wait $!; echo "wait status: $?"
sleep 10 &
victim=$!
kill $victim
wait $victim; echo "killed job status: $?"
sleep 10 &
victim=$!
kill -9 $victim
wait $victim; echo "kill -9 status: $?"
kill -0 $$ && echo "kill -0 on the shell itself works"
sleep 0.1; echo "slept"
trap 'echo "trapped USR1"' USR1
kill -USR1 $$
echo "after trap"

echo "== done"
cd /tmp && rm -rf bb
