/* The data one poll of a node produces: the in-memory form of trace v1
 * (docs/trace-format.md). Readers fill it, the attribution engine and the
 * trace recorder consume it. */
#ifndef FP_SAMPLE_H
#define FP_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fp_domain_kind {
	FP_DOMAIN_PACKAGE = 0,
	FP_DOMAIN_DRAM,
	FP_DOMAIN_PSYS,
} fp_domain_kind_t;

typedef struct fp_domain {
	char *name; /* "package-0", "dram-0", "psys" */
	fp_domain_kind_t kind;
	int package; /* package id; -1 for psys */
	uint64_t max_energy_range_uj;
	double idle_w; /* idle power; < 0 when unknown */
} fp_domain_t;

typedef struct fp_package {
	int id;
	int *cpus; /* PU os_index values */
	size_t ncpus;
} fp_package_t;

/* A GPU of the node (trace v1 "Extension: accelerators"). */
typedef struct fp_node_gpu {
	char *uuid;		/* NVML UUID, or the PCI address (hwmon) */
	char *vendor;		/* "nvidia", "amd", "intel" */
	uint64_t max_energy_uj; /* wraps to 0 after it; 0: never wraps */
	double idle_w;		/* idle power; < 0 when not given */
	/* The reader integrates power (no device counter): said in the
	 * trace as "source": "power-integral". */
	bool power_integral;
} fp_node_gpu_t;

/* Header: what does not change between samples. */
typedef struct fp_node_desc {
	char *node;
	size_t cpus; /* CPU ids are 0..cpus-1 */
	fp_package_t *packages;
	size_t npackages;
	fp_domain_t *domains;
	size_t ndomains;
	bool activity_cycles; /* step counters are cycles, not ns */
	fp_node_gpu_t *gpus;  /* index i is GPU i of every per-GPU array */
	size_t ngpus;	      /* 0: no GPU fields anywhere */
} fp_node_desc_t;

typedef struct fp_step_sample {
	char *id; /* "4242.batch", "4242.0", "4242.extern" */
	uint64_t job;
	int *alloc; /* allocated CPU ids */
	size_t nalloc;
	uint64_t *cpu_ns; /* cumulative, length desc->cpus */
	/* A reader's hint (lib/activity sets it): when changed_known, the
	 * counters of CPUs whose bit is clear in changed (one bit per CPU)
	 * equal this step's counters in the sample numbered seq - 1. */
	uint64_t *changed; /* FP_BITMAP_WORDS(desc->cpus) words, or NULL */
	bool changed_known;
	/* GPUs allocated to the step (indices into desc->gpus), and
	 * optionally a cumulative activity counter for each, in the same
	 * order (gpu_busy NULL: none; gpu_busy_valid[k] false: null). */
	int *gpus;
	size_t ngpus;
	uint64_t *gpu_busy;
	bool *gpu_busy_valid;
} fp_step_sample_t;

#define FP_BITMAP_WORDS(n) (((n) + 63) / 64)

typedef struct fp_sample {
	double t;	     /* Unix seconds */
	uint64_t *energy_uj; /* length desc->ndomains */
	bool *energy_valid;  /* length desc->ndomains */
	double wall_j;
	bool wall_valid;
	/* Cumulative energy of each GPU in µJ, length desc->ngpus (NULL when
	 * the node has none: every GPU read failed). */
	uint64_t *gpu_energy_uj;
	bool *gpu_valid;
	uint64_t *cpu_busy_ns; /* length desc->cpus */
	fp_step_sample_t *steps;
	size_t nsteps;
	uint64_t seq; /* a reader's read number, or 0 */
	/* A reader's hint: the steps (ids, jobs, allocations, order) are
	 * those of the sample numbered seq - 1. */
	bool steps_same;
} fp_sample_t;

fp_node_desc_t *fp_sample_node_desc_new(void);
void fp_sample_node_desc_free(fp_node_desc_t *desc);
/* Deep copy; NULL on allocation failure. */
fp_node_desc_t *fp_sample_node_desc_dup(const fp_node_desc_t *desc);
/* Index of the domain called name, or -1. */
int fp_sample_node_desc_domain(const fp_node_desc_t *desc, const char *name);
/* Index of the package with id, or -1. */
int fp_sample_node_desc_package(const fp_node_desc_t *desc, int id);

/* A sample with arrays sized for desc, zeroed, no steps. */
fp_sample_t *fp_sample_new(const fp_node_desc_t *desc);
void fp_sample_free(fp_sample_t *s);
/* Appends a step (id copied, alloc copied, cpu_ns zeroed, length desc->cpus).
 * Returns the new step or NULL on allocation failure. */
fp_step_sample_t *fp_sample_add_step(fp_sample_t *s, const fp_node_desc_t *desc,
				     const char *id, uint64_t job,
				     const int *alloc, size_t nalloc);
/* Sets the step's GPUs (copied) and, when busy is not NULL, their activity
 * counters (busy_valid NULL: all valid). Returns 0, or -1 on allocation
 * failure (the step is left without GPUs). */
int fp_sample_step_set_gpus(fp_step_sample_t *st, const int *gpus, size_t n,
			    const uint64_t *busy, const bool *busy_valid);
/* Drops all steps, keeps the arrays. */
void fp_sample_clear_steps(fp_sample_t *s);

#endif
