/* Specification of lib/topology: packages, SMT siblings and offline CPUs
 * from synthetic and XML topologies, and Slurm CPU list parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "footprint/topology.h"

/* Two packages of two cores, 2-way SMT, CPUs 0-7, of which 2, 6 and 7 are
 * offline: the shape `lstopo` exports for such a machine (complete_cpuset
 * keeps them, no PU object). */
static const char offline_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
	"<topology version=\"2.0\">\n"
	"  <object type=\"Machine\" os_index=\"0\" cpuset=\"0x0000003b\" "
	"complete_cpuset=\"0x000000ff\" allowed_cpuset=\"0x0000003b\" "
	"nodeset=\"0x1\" complete_nodeset=\"0x1\" allowed_nodeset=\"0x1\" "
	"gp_index=\"1\">\n"
	"    <object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x0000003b\" "
	"complete_cpuset=\"0x000000ff\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"2\" "
	"local_memory=\"1073741824\"/>\n"
	"    <object type=\"Package\" os_index=\"0\" cpuset=\"0x0000000b\" "
	"complete_cpuset=\"0x0000000f\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"3\">\n"
	"      <object type=\"Core\" os_index=\"0\" cpuset=\"0x00000003\" "
	"complete_cpuset=\"0x00000003\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"4\">\n"
	"        <object type=\"PU\" os_index=\"0\" cpuset=\"0x00000001\" "
	"complete_cpuset=\"0x00000001\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"5\"/>\n"
	"        <object type=\"PU\" os_index=\"1\" cpuset=\"0x00000002\" "
	"complete_cpuset=\"0x00000002\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"6\"/>\n"
	"      </object>\n"
	"      <object type=\"Core\" os_index=\"1\" cpuset=\"0x00000008\" "
	"complete_cpuset=\"0x0000000c\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"7\">\n"
	"        <object type=\"PU\" os_index=\"3\" cpuset=\"0x00000008\" "
	"complete_cpuset=\"0x00000008\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"8\"/>\n"
	"      </object>\n"
	"    </object>\n"
	"    <object type=\"Package\" os_index=\"1\" cpuset=\"0x00000030\" "
	"complete_cpuset=\"0x000000f0\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"9\">\n"
	"      <object type=\"Core\" os_index=\"0\" cpuset=\"0x00000030\" "
	"complete_cpuset=\"0x00000030\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"10\">\n"
	"        <object type=\"PU\" os_index=\"4\" cpuset=\"0x00000010\" "
	"complete_cpuset=\"0x00000010\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"11\"/>\n"
	"        <object type=\"PU\" os_index=\"5\" cpuset=\"0x00000020\" "
	"complete_cpuset=\"0x00000020\" nodeset=\"0x1\" "
	"complete_nodeset=\"0x1\" gp_index=\"12\"/>\n"
	"      </object>\n"
	"    </object>\n"
	"  </object>\n"
	"</topology>\n";

static void _assert_cpus(const int *got, size_t n, const int *want,
			 size_t nwant)
{
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

static void synthetic_two_packages_with_smt_split_cpus_by_package(void **s)
{
	fp_topology_t *t =
		fp_topology_load_synthetic("package:2 core:4 pu:2", NULL);
	const int p0[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	const int p1[] = { 8, 9, 10, 11, 12, 13, 14, 15 };
	const int *c;
	size_t n;

	assert_non_null(t);
	assert_int_equal(fp_topology_ncpus(t), 16);
	assert_int_equal(fp_topology_npackages(t), 2);
	assert_int_equal(fp_topology_package_id(t, 0), 0);
	assert_int_equal(fp_topology_package_id(t, 1), 1);
	c = fp_topology_package_cpus(t, 0, &n);
	_assert_cpus(c, n, p0, 8);
	c = fp_topology_package_cpus(t, 1, &n);
	_assert_cpus(c, n, p1, 8);
	assert_int_equal(fp_topology_cpu_package(t, 9), 1);
	fp_topology_free(t);
}

static void smt_siblings_share_a_core(void **s)
{
	fp_topology_t *t =
		fp_topology_load_synthetic("package:2 core:4 pu:2", NULL);
	const int sib[] = { 10, 11 };
	const int *c;
	size_t n;

	assert_int_equal(fp_topology_cpu_core(t, 10),
			 fp_topology_cpu_core(t, 11));
	assert_int_not_equal(fp_topology_cpu_core(t, 11),
			     fp_topology_cpu_core(t, 12));
	/* Core numbers are node-wide, not per package. */
	assert_int_not_equal(fp_topology_cpu_core(t, 0),
			     fp_topology_cpu_core(t, 8));
	c = fp_topology_cpu_siblings(t, 11, &n);
	_assert_cpus(c, n, sib, 2);
	fp_topology_free(t);
}

static void os_indexes_need_not_follow_packages(void **s)
{
	/* Intel numbering: the second hyperthreads come after all cores. */
	fp_topology_t *t = fp_topology_load_synthetic(
		"package:2 core:2 pu:2(indexes=0,4,1,5,2,6,3,7)", NULL);
	const int p0[] = { 0, 1, 4, 5 };
	const int sib[] = { 1, 5 };
	const int *c;
	size_t n;

	assert_non_null(t);
	c = fp_topology_package_cpus(t, 0, &n);
	_assert_cpus(c, n, p0, 4);
	c = fp_topology_cpu_siblings(t, 5, &n);
	_assert_cpus(c, n, sib, 2);
	fp_topology_free(t);
}

static char *_xml_file(void)
{
	char tmpl[] = "/tmp/test_topology.XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, offline_xml, strlen(offline_xml)),
			 (ssize_t)strlen(offline_xml));
	close(fd);
	return strdup(tmpl);
}

static void offline_cpus_count_in_ncpus_but_in_no_package(void **s)
{
	char *path = _xml_file();
	fp_error_t err = { 0 };
	fp_topology_t *t = fp_topology_load_xml(path, &err);
	const int p0[] = { 0, 1, 3 }, p1[] = { 4, 5 };
	const int *c;
	size_t n;

	assert_non_null(t);
	assert_int_equal(fp_topology_ncpus(t), 8);
	c = fp_topology_package_cpus(t, 0, &n);
	_assert_cpus(c, n, p0, 3);
	c = fp_topology_package_cpus(t, 1, &n);
	_assert_cpus(c, n, p1, 2);
	assert_false(fp_topology_cpu_online(t, 2));
	assert_false(fp_topology_cpu_online(t, 7));
	assert_true(fp_topology_cpu_online(t, 3));
	assert_int_equal(fp_topology_cpu_package(t, 6), -1);
	assert_null(fp_topology_cpu_siblings(t, 2, &n));
	assert_int_equal(n, 0);
	fp_topology_free(t);
	unlink(path);
	free(path);
}

static void offline_sibling_leaves_its_core_with_one_cpu(void **s)
{
	char *path = _xml_file();
	fp_topology_t *t = fp_topology_load_xml(path, NULL);
	const int one[] = { 3 }, two[] = { 0, 1 };
	const int *c;
	size_t n;

	c = fp_topology_cpu_siblings(t, 3, &n);
	_assert_cpus(c, n, one, 1);
	c = fp_topology_cpu_siblings(t, 0, &n);
	_assert_cpus(c, n, two, 2);
	fp_topology_free(t);
	unlink(path);
	free(path);
}

static void fill_desc_sets_cpus_and_packages(void **s)
{
	char *path = _xml_file();
	fp_topology_t *t = fp_topology_load_xml(path, NULL);
	fp_node_desc_t *d = fp_sample_node_desc_new();

	assert_int_equal(fp_topology_fill_desc(t, d, NULL), 0);
	assert_int_equal(d->cpus, 8);
	assert_int_equal(d->npackages, 2);
	assert_int_equal(d->packages[1].id, 1);
	assert_int_equal(d->packages[1].ncpus, 2);
	assert_int_equal(d->packages[1].cpus[0], 4);
	/* Filling again replaces, it does not append. */
	assert_int_equal(fp_topology_fill_desc(t, d, NULL), 0);
	assert_int_equal(d->npackages, 2);
	fp_sample_node_desc_free(d);
	fp_topology_free(t);
	unlink(path);
	free(path);
}

static void missing_xml_is_an_error_naming_the_file(void **s)
{
	fp_error_t err = { 0 };

	assert_null(fp_topology_load_xml("/nonexistent/topo.xml", &err));
	assert_int_not_equal(err.code, FP_OK);
	assert_non_null(strstr(err.msg, "/nonexistent/topo.xml"));
}

static void bad_synthetic_description_is_an_error(void **s)
{
	fp_error_t err = { 0 };

	assert_null(fp_topology_load_synthetic("package:two", &err));
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, "package:two"));
}

static void this_machine_loads(void **s)
{
	fp_topology_t *t = fp_topology_load(NULL);

	assert_non_null(t);
	assert_true(fp_topology_ncpus(t) >= 1);
	assert_true(fp_topology_npackages(t) >= 1);
	fp_topology_free(t);
}

static void cpulist_ranges_and_singles_parse(void **s)
{
	const int want[] = { 0, 1, 2, 3, 8, 10, 11 };
	int *c;
	size_t n;

	assert_int_equal(
		fp_topology_cpulist_parse("0-3,8,10-11", 0, &c, &n, NULL), 0);
	_assert_cpus(c, n, want, 7);
	free(c);
}

static void cpulist_overlaps_are_merged(void **s)
{
	const int want[] = { 1, 2, 3 };
	int *c;
	size_t n;

	assert_int_equal(fp_topology_cpulist_parse("3,1-2,2", 0, &c, &n, NULL),
			 0);
	_assert_cpus(c, n, want, 3);
	free(c);
}

static void _bad(const char *list, size_t ncpus)
{
	fp_error_t err = { 0 };
	int *c = (int *)1;
	size_t n = 99;

	assert_int_equal(fp_topology_cpulist_parse(list, ncpus, &c, &n, &err),
			 -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, list));
	assert_null(c);
	assert_int_equal(n, 0);
}

static void cpulist_garbage_is_rejected_naming_the_input(void **s)
{
	_bad("abc", 0);
	_bad("0-3x", 0);
	_bad("1,,2", 0);
	_bad(" 1", 0);
	_bad("-1", 0);
	_bad("3,", 0);
}

static void cpulist_open_and_reversed_ranges_are_rejected(void **s)
{
	_bad("1-", 0);
	_bad("5-2", 0);
	_bad("0-3:2", 0);
}

static void cpulist_empty_is_rejected(void **s)
{
	_bad("", 0);
}

static void cpulist_ids_beyond_the_node_are_rejected(void **s)
{
	int *c;
	size_t n;

	_bad("0-8", 8);
	_bad("99999999999", 0);
	assert_int_equal(fp_topology_cpulist_parse("0-7", 8, &c, &n, NULL), 0);
	assert_int_equal(n, 8);
	free(c);
}

static void free_of_null_is_a_no_op(void **s)
{
	fp_topology_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			synthetic_two_packages_with_smt_split_cpus_by_package),
		cmocka_unit_test(smt_siblings_share_a_core),
		cmocka_unit_test(os_indexes_need_not_follow_packages),
		cmocka_unit_test(offline_cpus_count_in_ncpus_but_in_no_package),
		cmocka_unit_test(offline_sibling_leaves_its_core_with_one_cpu),
		cmocka_unit_test(fill_desc_sets_cpus_and_packages),
		cmocka_unit_test(missing_xml_is_an_error_naming_the_file),
		cmocka_unit_test(bad_synthetic_description_is_an_error),
		cmocka_unit_test(this_machine_loads),
		cmocka_unit_test(cpulist_ranges_and_singles_parse),
		cmocka_unit_test(cpulist_overlaps_are_merged),
		cmocka_unit_test(cpulist_garbage_is_rejected_naming_the_input),
		cmocka_unit_test(cpulist_open_and_reversed_ranges_are_rejected),
		cmocka_unit_test(cpulist_empty_is_rejected),
		cmocka_unit_test(cpulist_ids_beyond_the_node_are_rejected),
		cmocka_unit_test(free_of_null_is_a_no_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
