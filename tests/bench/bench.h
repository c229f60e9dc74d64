/* Shared bits of the benchmarks: the process's resident memory. */
#ifndef FP_BENCH_H
#define FP_BENCH_H

#include <stdio.h>
#include <string.h>

/* A field of /proc/self/status in KiB: "VmRSS" (all resident memory) or
 * "RssAnon" (heap and stacks only: what a leak grows, without the code
 * pages a long run faults in); -1 when unreadable. */
static inline long bench_status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

#endif
