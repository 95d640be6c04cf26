/*
 * The program fork_exec.c runs (and open_close.c opens): it does nothing, so
 * that the benchmark times execve and process teardown, not the program.
 * Packed as /usr/lib/bench/exec_target, not as a benchmark.
 */
int main(void)
{
	return 0;
}
