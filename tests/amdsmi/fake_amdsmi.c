/* A stand-in for ROCm's libamd_smi.so, built with the tests: answers the AMD
 * SMI entry points lib/node/gpu_amdsmi.c uses from a state file the test rewrites
 * between reads.
 *
 * $FP_FAKE_AMDSMI_STATE names the file, read again at every call. Lines:
 *   init=RC                          amdsmi_init's return code (default 0)
 *   gpu bdf=0000:c1:00.0 [socket=N] [energy=COUNT] [resolution=15.3]
 *       [energy_rc=RC] [bdf_rc=RC] [id=0x74a0] [lost=1]
 * RC are AMD SMI status codes (2 not supported, 12 I/O error, 31 not
 * found). A GPU is known by its PCI address: its handle stays valid while
 * its line is there, and answers AMDSMI_STATUS_NOT_FOUND when the line is
 * gone or says lost=1. GPUs are grouped into sockets by socket= (0 by
 * default), in the order the sockets first appear. Without the variable or
 * the file, amdsmi_init says the driver is not loaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXDEV 64

enum {
	OK = 0,
	INVAL = 1,
	NOT_SUPPORTED = 2,
	IO = 12,
	INSUFFICIENT_SIZE = 41,
	NOT_FOUND = 31,
	NOT_INIT = 32,
	DRIVER_NOT_LOADED = 34,
	UNKNOWN = 0xFFFFFFFF,
};

/* A slot per address ever seen: handles stay stable. */
typedef struct {
	char bdf[32];
} slot_t;

/* amdsmi.h's own layout, bit fields and all, so the tests check the reader
 * decodes what the compiler lays out. */
typedef union {
	struct {
		uint64_t function_number : 3;
		uint64_t device_number : 5;
		uint64_t bus_number : 8;
		uint64_t domain_number : 48;
	};
	uint64_t as_uint;
} bdf_t;

typedef struct {
	int n; /* the socket's number in the state file */
} sock_t;

typedef struct {
	char bdf[32];
	int socket, lost;
	unsigned long long energy;
	float resolution;
	unsigned energy_rc, bdf_rc;
	unsigned id;
} gpu_t;

typedef struct {
	unsigned init_rc;
	gpu_t gpu[MAXDEV];
	unsigned ngpu;
} state_t;

static slot_t slots[MAXDEV];
static sock_t socks[MAXDEV];
static int refs;
static state_t st;

/* key=value; returns the next position or NULL at the end of the line. */
static char *_token(char *p, char **key, char **val)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n' || *p == '#')
		return NULL;
	*key = p;
	*val = NULL;
	while (*p && *p != '=' && *p != ' ' && *p != '\n')
		p++;
	if (*p != '=') {
		if (*p)
			*p++ = '\0';
		return p;
	}
	*p++ = '\0';
	*val = p;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	if (*p)
		*p++ = '\0';
	return p;
}

static void _set(gpu_t *d, const char *k, const char *v)
{
	if (!v)
		return;
	if (!strcmp(k, "bdf"))
		snprintf(d->bdf, sizeof(d->bdf), "%s", v);
	else if (!strcmp(k, "socket"))
		d->socket = atoi(v);
	else if (!strcmp(k, "energy"))
		d->energy = strtoull(v, NULL, 10);
	else if (!strcmp(k, "resolution"))
		d->resolution = strtof(v, NULL);
	else if (!strcmp(k, "energy_rc"))
		d->energy_rc = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, "bdf_rc"))
		d->bdf_rc = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, "id"))
		d->id = (unsigned)strtoul(v, NULL, 16);
	else if (!strcmp(k, "lost"))
		d->lost = atoi(v);
}

static int _load(void)
{
	const char *path = getenv("FP_FAKE_AMDSMI_STATE");
	char line[1024], *p, *k, *v;
	FILE *f;

	memset(&st, 0, sizeof(st));
	if (!path || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = _token(line, &k, &v);
		if (!p)
			continue;
		if (!strcmp(k, "init") && v) {
			st.init_rc = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "gpu") && st.ngpu < MAXDEV) {
			gpu_t *d = &st.gpu[st.ngpu++];

			d->resolution = 15.3f;
			d->id = 0x740f;
			while ((p = _token(p, &k, &v)))
				_set(d, k, v);
		}
	}
	fclose(f);
	return 0;
}

static slot_t *_slot(const char *bdf)
{
	for (int i = 0; i < MAXDEV; i++) {
		if (!strcmp(slots[i].bdf, bdf))
			return &slots[i];
		if (!slots[i].bdf[0]) {
			snprintf(slots[i].bdf, sizeof(slots[i].bdf), "%s", bdf);
			return &slots[i];
		}
	}
	return NULL;
}

/* The current state of the GPU behind handle h, or an error code. */
static unsigned _gpu(void *h, gpu_t **d)
{
	slot_t *s = h;

	if (!refs)
		return NOT_INIT;
	if (!s)
		return INVAL;
	if (_load())
		return UNKNOWN;
	for (unsigned i = 0; i < st.ngpu; i++) {
		if (strcmp(st.gpu[i].bdf, s->bdf))
			continue;
		if (st.gpu[i].lost)
			return NOT_FOUND;
		*d = &st.gpu[i];
		return OK;
	}
	return NOT_FOUND;
}

unsigned amdsmi_status_code_to_string(unsigned rc, const char **s)
{
	if (!s)
		return INVAL;
	switch (rc) {
	case OK:
		*s = "AMDSMI_STATUS_SUCCESS: Call succeeded";
		break;
	case INVAL:
		*s = "AMDSMI_STATUS_INVAL: Invalid parameters";
		break;
	case NOT_SUPPORTED:
		*s = "AMDSMI_STATUS_NOT_SUPPORTED: Command not supported";
		break;
	case IO:
		*s = "AMDSMI_STATUS_IO: I/O Error";
		break;
	case NOT_FOUND:
		*s = "AMDSMI_STATUS_NOT_FOUND: Device Not found";
		break;
	case NOT_INIT:
		*s = "AMDSMI_STATUS_NOT_INIT: Device not initialized";
		break;
	case DRIVER_NOT_LOADED:
		*s = "AMDSMI_STATUS_DRIVER_NOT_LOADED: Processor driver not "
		     "loaded";
		break;
	default:
		*s = "AMDSMI_STATUS_UNKNOWN_ERROR: An unknown error occurred";
	}
	return OK;
}

unsigned amdsmi_init(uint64_t flags)
{
	if (!(flags & (1u << 1)))
		return INVAL; /* asked for no GPU */
	if (_load())
		return DRIVER_NOT_LOADED;
	if (st.init_rc)
		return st.init_rc;
	refs++;
	return OK;
}

unsigned amdsmi_shut_down(void)
{
	if (!refs)
		return NOT_INIT;
	refs--;
	return OK;
}

/* As AMD SMI: with no buffer the count; with one, at most *n written and
 * *n the count there is. */
static unsigned _give(void **out, uint32_t *n, void **all, uint32_t count)
{
	uint32_t cap = *n;

	*n = count;
	if (!out)
		return OK;
	for (uint32_t i = 0; i < count && i < cap; i++)
		out[i] = all[i];
	return count > cap ? INSUFFICIENT_SIZE : OK;
}

unsigned amdsmi_get_socket_handles(uint32_t *n, void **out)
{
	void *all[MAXDEV];
	uint32_t count = 0;

	if (!refs)
		return NOT_INIT;
	if (!n)
		return INVAL;
	if (_load())
		return UNKNOWN;
	for (unsigned i = 0; i < st.ngpu; i++) {
		uint32_t j;

		if (st.gpu[i].lost)
			continue;
		for (j = 0; j < count; j++)
			if (((sock_t *)all[j])->n == st.gpu[i].socket)
				break;
		if (j < count)
			continue;
		socks[count].n = st.gpu[i].socket;
		all[count] = &socks[count];
		count++;
	}
	return _give(out, n, all, count);
}

unsigned amdsmi_get_processor_handles(void *socket, uint32_t *n, void **out)
{
	void *all[MAXDEV];
	uint32_t count = 0;
	sock_t *s = socket;

	if (!refs)
		return NOT_INIT;
	if (!n || !s)
		return INVAL;
	if (_load())
		return UNKNOWN;
	for (unsigned i = 0; i < st.ngpu; i++) {
		if (st.gpu[i].lost || st.gpu[i].socket != s->n)
			continue;
		all[count] = _slot(st.gpu[i].bdf);
		if (!all[count])
			return UNKNOWN;
		count++;
	}
	return _give(out, n, all, count);
}

unsigned amdsmi_get_gpu_device_bdf(void *h, bdf_t *bdf)
{
	unsigned dom, bus, dev, fn;
	gpu_t *d;
	unsigned rc = _gpu(h, &d);

	if (rc)
		return rc;
	if (!bdf)
		return INVAL;
	if (d->bdf_rc)
		return d->bdf_rc;
	if (sscanf(d->bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return UNKNOWN;
	bdf->as_uint = 0;
	bdf->domain_number = dom;
	bdf->bus_number = bus;
	bdf->device_number = dev;
	bdf->function_number = fn;
	return OK;
}

unsigned amdsmi_get_energy_count(void *h, uint64_t *energy, float *res,
				 uint64_t *ts)
{
	gpu_t *d;
	unsigned rc = _gpu(h, &d);

	if (rc)
		return rc;
	if (!energy || !res || !ts)
		return INVAL;
	if (d->energy_rc)
		return d->energy_rc;
	*energy = d->energy;
	*res = d->resolution;
	*ts = 0;
	return OK;
}

unsigned amdsmi_get_gpu_id(void *h, uint16_t *id)
{
	gpu_t *d;
	unsigned rc = _gpu(h, &d);

	if (rc)
		return rc;
	if (!id)
		return INVAL;
	*id = (uint16_t)d->id;
	return OK;
}
