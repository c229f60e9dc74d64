/* RAPL energy counters through the Linux powercap tree: discovers the
 * package, dram and psys zones once, then reads their counters at each poll. */
#ifndef FP_RAPL_H
#define FP_RAPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sample.h"

#define FP_RAPL_DEFAULT_ROOT "/sys/class/powercap"
/* File a simulator (tools/fp-simnode) leaves at the root of a fake tree. */
#define FP_RAPL_SIMULATED_MARKER "fp-simulated"

typedef struct fp_rapl fp_rapl_t;

/* Opens every usable zone under root (NULL: FP_RAPL_DEFAULT_ROOT). Zones that
 * lack a file or cannot be read are reported once through log (may be NULL)
 * and skipped. core/uncore subzones are parts of their package and are never
 * exposed. Domains are ordered package-0, dram-0, package-1, ..., psys.
 * Returns NULL with FP_ENOTSUP when no usable zone exists. */
fp_rapl_t *fp_rapl_open(const char *root, fp_log_fn log, void *log_ctx,
			fp_error_t *err);
void fp_rapl_close(fp_rapl_t *rapl);

size_t fp_rapl_ndomains(const fp_rapl_t *rapl);
/* Domain i (name, kind, package, max_energy_range_uj; idle_w is -1). */
const fp_domain_t *fp_rapl_domain(const fp_rapl_t *rapl, size_t i);
/* True when root carries the simulator's marker file. */
bool fp_rapl_simulated(const fp_rapl_t *rapl);

/* Replaces desc's domains with this tree's, in fp_rapl_domain() order. */
int fp_rapl_fill_desc(const fp_rapl_t *rapl, fp_node_desc_t *desc,
		      fp_error_t *err);

/* Reads the counters of desc's domains, matched by name, into energy_uj[] and
 * valid[] (both desc->ndomains long). A domain whose read fails, or which this
 * tree does not have, is valid=false for this read; a failing domain is
 * logged once until it recovers. Returns the number of valid domains. */
size_t fp_rapl_read(fp_rapl_t *rapl, const fp_node_desc_t *desc,
		    uint64_t *energy_uj, bool *valid);

/* Same, in fp_rapl_domain() order (arrays fp_rapl_ndomains() long). */
size_t fp_rapl_read_all(fp_rapl_t *rapl, uint64_t *energy_uj, bool *valid);

#endif
