/* libFuzzer target: the wall-meter feed parser (fp_sensor_read). The input
 * is up to 4 feed contents separated by NUL bytes, read in turn by one
 * sensor, so the energy/power integration between readings is fuzzed too.
 * lib/node/sensor.c only reads files: the feed is a tmpfs file. */
#include <fcntl.h>
#include <math.h>

#include "fuzz.h"

#include "footprint/sensor.h"

static char path[128];

static void write_feed(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_sensor_config_t cfg = { 0 };
	fp_sensor_reading_t r;
	fp_error_t err = { 0 };
	fp_sensor_t *s;
	size_t off = 0;

	if (!path[0]) {
		fuzz_tmp_path(path, sizeof(path), "sensor");
		atexit(cleanup);
	}
	cfg.path = path;
	cfg.max_age_s = 1e12; /* time comes from the input: never stale */
	cfg.ceiling_w = 20000;
	s = fp_sensor_new(&cfg, NULL, NULL, &err);
	if (!s)
		abort();
	for (int i = 0; i < 4 && off <= size; i++) {
		const uint8_t *nul = memchr(data + off, 0, size - off);
		size_t n = nul ? (size_t)(nul - (data + off)) : size - off;

		write_feed(data + off, n);
		fp_sensor_read(s, 1.7e9, &r);
		if (r.valid)
			fp_sensor_note_rapl(s, r.energy_j < 1.0, r.energy_j,
					    1.0);
		off += n + 1;
	}
	fp_sensor_free(s);
	return 0;
}
