/* The node's CPU layout through hwloc: which CPUs (PU os_index) belong to
 * which package, share a core, are offline; and Slurm CPU list parsing. */
#ifndef FP_TOPOLOGY_H
#define FP_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "sample.h"

typedef struct fp_topology fp_topology_t;

/* This machine, as hwloc sees it (disallowed CPUs included: a node plugin
 * accounts for the whole node, not for its own cgroup). */
fp_topology_t *fp_topology_load(fp_error_t *err);
/* An hwloc XML export (lstopo foo.xml, or tools/fp-simnode's topology.xml). */
fp_topology_t *fp_topology_load_xml(const char *path, fp_error_t *err);
/* An hwloc synthetic description, e.g. "package:2 core:4 pu:2". */
fp_topology_t *fp_topology_load_synthetic(const char *desc, fp_error_t *err);
void fp_topology_free(fp_topology_t *topo);

/* CPU ids run 0..ncpus-1: the highest os_index, online or not, plus one. */
size_t fp_topology_ncpus(const fp_topology_t *topo);
size_t fp_topology_npackages(const fp_topology_t *topo);
/* Package i (0..npackages-1): its os_index, and its online CPUs, ascending. */
int fp_topology_package_id(const fp_topology_t *topo, size_t i);
const int *fp_topology_package_cpus(const fp_topology_t *topo, size_t i,
				    size_t *ncpus);

/* Per CPU id; all return -1 / false / NULL for an offline or unknown CPU. */
bool fp_topology_cpu_online(const fp_topology_t *topo, int cpu);
int fp_topology_cpu_package(const fp_topology_t *topo, int cpu);
/* A node-wide core number (hwloc logical index): equal for SMT siblings. */
int fp_topology_cpu_core(const fp_topology_t *topo, int cpu);
/* The online CPUs of cpu's core, cpu included, ascending. */
const int *fp_topology_cpu_siblings(const fp_topology_t *topo, int cpu,
				    size_t *n);

/* Sets desc->cpus and replaces desc->packages with this topology's. */
int fp_topology_fill_desc(const fp_topology_t *topo, fp_node_desc_t *desc,
			  fp_error_t *err);

/* Parses a Slurm CPU list ("0-3,8,10-11") into an ascending, duplicate-free
 * malloc'ed array. With ncpus > 0, ids must be below it. Garbage, empty lists,
 * open or reversed ranges are FP_EPARSE errors naming the input. */
int fp_topology_cpulist_parse(const char *list, size_t ncpus, int **cpus,
			      size_t *n, fp_error_t *err);

#endif
