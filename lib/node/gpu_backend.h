/* Private to lib/gpu*.c: what a vendor reader (gpu_nvml.c, gpu_amdsmi.c,
 * gpu_hwmon.c) gives the common code in gpu.c, which owns wraps, resets and
 * integration. */
#ifndef FP_GPU_BACKEND_H
#define FP_GPU_BACKEND_H

#include "footprint/gpu.h"

typedef struct fp_gpu_dev fp_gpu_dev_t;

/* A vendor's library, loaded by its backend (gpu_lib.c). */
typedef struct fp_gpu_lib {
	void *dl;
	char *path;	    /* as configured: in messages */
	const char *vendor; /* "NVML", "AMD SMI": in messages */
} fp_gpu_lib_t;

/* Loads path into l: 0, -1 with why ("NVML <path>: cannot load: ..."),
 * -2 out of memory. */
int fp_gpu_lib_open(fp_gpu_lib_t *l, const char *vendor, const char *path,
		    char *why, size_t whysize);
/* The symbol name, or NULL (with why when it is required). */
void *fp_gpu_lib_sym(const fp_gpu_lib_t *l, const char *name, bool required,
		     char *why, size_t whysize);
void fp_gpu_lib_close(fp_gpu_lib_t *l);

typedef struct fp_gpu_ops {
	/* One raw value: the counter in device units (source counter) or
	 * power in device units (power-integral). -1 with why filled
	 * (naming the file or call and the fault) on failure. */
	int (*read)(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
		    size_t whysize);
	/* Per-process samples into d->procs (NULL: not supported). */
	int (*procs)(fp_gpu_t *g, fp_gpu_dev_t *d, fp_error_t *err);
	void (*free)(fp_gpu_dev_t *d);
} fp_gpu_ops_t;

struct fp_gpu_dev {
	fp_gpu_info_t info; /* its strings point to the four below */
	char *uuid, *pci, *name, *path;
	const fp_gpu_ops_t *ops;
	void *priv;
	/* µJ per counter unit, or µW per power unit (NVML: mJ and mW; AMD
	 * SMI: its counter's resolution, 15.3 µJ on MI200/MI300, not an
	 * integer). */
	double unit;
	/* Largest raw counter value before it wraps to 0. */
	uint64_t max_raw;

	/* Accounting state, gpu.c's only. */
	bool have_base;
	bool failing;
	uint64_t prev_raw;
	double prev_t;
	uint64_t total_uj;
	double frac_uj;
	char fault[512];

	/* A MIG instance (info.flags FP_GPU_MIG_INSTANCE): its parent is
	 * g->migp[migp], read in its place; owed is the energy (µJ) its
	 * share came to beyond what it was given (may be below 0), give the
	 * part of this read's (gpu.c's). The parent's own reading is rd. */
	size_t migp;
	double owed;
	uint64_t give;
	fp_gpu_reading_t rd;
	char *parent_uuid;

	/* Per-process samples (gpu_nvml.c). */
	fp_gpu_proc_t *procs;
	size_t nprocs, procs_cap;
	uint64_t last_seen_us;
};

struct fp_gpu {
	fp_log_fn log;
	void *log_ctx;
	fp_gpu_dev_t *devs;
	size_t ndevs;
	/* GPUs in MIG mode with instances: read here, given to their
	 * instances in devs by share, and not devices themselves. */
	fp_gpu_dev_t *migp;
	size_t nmigp;
	void *nvml;   /* gpu_nvml.c's library state */
	void *amdsmi; /* gpu_amdsmi.c's */
};

void fp_gpu_log(const fp_gpu_t *g, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A zeroed device appended to g (NULL on allocation failure). The pointer
 * is valid until the next call. */
fp_gpu_dev_t *fp_gpu_add_dev(fp_gpu_t *g);
/* Sets the device's strings (copies; NULL reads as ""), -1 on ENOMEM. */
int fp_gpu_dev_strings(fp_gpu_dev_t *d, const char *uuid, const char *pci,
		       const char *name, const char *path);

/* Moves the last device of g (a GPU in MIG mode, read for its instances)
 * to g->migp, returning its index there; -1 on ENOMEM. */
long fp_gpu_dev_to_migp(fp_gpu_t *g);

/* Vendor discovery: appends devices to g. 0, or -1 with why (the vendor is
 * absent or unusable: a missing library, no GPU hwmon). ENOMEM is -2. */
int fp_gpu_nvml_open(fp_gpu_t *g, const char *lib, char *why, size_t whysize);
void fp_gpu_nvml_close(fp_gpu_t *g);
int fp_gpu_amdsmi_open(fp_gpu_t *g, const char *lib, char *why, size_t whysize);
void fp_gpu_amdsmi_close(fp_gpu_t *g);
int fp_gpu_hwmon_open(fp_gpu_t *g, const char *root, char *why, size_t whysize);

/* An AMD PCI device id amdgpu flags AMD_IS_APU (FP_GPU_APU): one list for
 * hwmon's and AMD SMI's devices. */
bool fp_gpu_amd_apu(unsigned long devid);

#endif
