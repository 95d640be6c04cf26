#!/bin/sh
# Shell-level behaviour with one result line per check: exit statuses of
# signals and pipelines, redirection order, job control without a
# terminal, and a pipeline of many processes.
pass() { echo "ok - shell/$1"; }
fail() { echo "not ok - shell/$1: $2"; failed=1; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "$*"; fi; }
failed=0

sleep 10 & pid=$!; kill -TERM $pid; wait $pid; st=$?
check sigterm_status_143 [ "$st" = 143 ]
sh -c 'kill -KILL $$'; st=$?
check self_sigkill_status_137 [ "$st" = 137 ]
sh -c 'exit 300'; st=$?
check exit_300_is_44 [ "$st" = 44 ]
/no/such/program 2>/dev/null; st=$?
check missing_command_127 [ "$st" = 127 ]
: > /tmp/shell-noexec; chmod 644 /tmp/shell-noexec
/tmp/shell-noexec 2>/dev/null; st=$?
check not_executable_126 [ "$st" = 126 ]
out=$( (echo out; echo err 1>&2) 2>&1 >/dev/null )
check redirect_order [ "$out" = err ]
n=$(seq 1 200 | cat | cat | cat | cat | cat | cat | cat | cat | wc -l)
check long_pipeline [ "$n" = 200 ]
big=$(yes abcdefgh | head -n 20000 | wc -c)
check pipe_larger_than_buffer [ "$big" = 180000 ]
for i in 1 2 3 4 5 6 7 8; do (sleep 0.1; exit $i) & done
wait
check wait_all_jobs true
printf 'line1\nline2\n' > /tmp/shell-read
{ read a; read b; } < /tmp/shell-read
check read_builtin [ "$a-$b" = line1-line2 ]
printf '#!/bin/sh\necho "args: $*"\n' > /tmp/shell-script; chmod 755 /tmp/shell-script
check script_exec [ "$(/tmp/shell-script x y)" = "args: x y" ]
check env_passed [ "$(FOO=bar sh -c 'echo $FOO')" = bar ]
cd /tmp; check cd_pwd [ "$(pwd)" = /tmp ]
check cat_dev_null [ -z "$(cat /dev/null)" ]
check head_dev_zero [ "$(head -c 5 /dev/zero | wc -c)" = 5 ]
rm -f /tmp/shell-noexec /tmp/shell-read /tmp/shell-script
exit $failed
