/* Specification of lib/rapl: discovery and reading of powercap trees, all
 * generated in temporary directories shaped like the kernel's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/rapl.h"
#include "sysfs_tree.h"

/* Makes root/rel a zone directory with the given files (NULL: absent). */
static void _zone(const char *root, const char *rel, const char *name,
		  const char *energy, const char *max)
{
	char d[1024];

	snprintf(d, sizeof(d), "%s/%s", root, rel);
	assert_int_equal(mkdir(d, 0755), 0);
	if (name)
		_put(d, "name", name);
	if (energy)
		_put(d, "energy_uj", energy);
	if (max)
		_put(d, "max_energy_range_uj", max);
}

static char *_root(void)
{
	return _tree_root("/tmp/test_rapl.XXXXXX");
}

/* A two-socket Intel server: package + dram per socket, with core. */
static char *_two_sockets(void)
{
	char *r = _root();

	_zone(r, "intel-rapl:0", "package-0\n", "1000\n", "262143999938\n");
	_zone(r, "intel-rapl:0/intel-rapl:0:0", "dram\n", "200\n",
	      "65532610987\n");
	_zone(r, "intel-rapl:0/intel-rapl:0:1", "core\n", "500\n",
	      "262143999938\n");
	_zone(r, "intel-rapl:1", "package-1\n", "3000\n", "262143999938\n");
	_zone(r, "intel-rapl:1/intel-rapl:1:0", "dram\n", "400\n",
	      "65532610987\n");
	_zone(r, "intel-rapl:1/intel-rapl:1:1", "uncore\n", "7\n",
	      "262143999938\n");
	return r;
}

static void two_packages_with_dram_give_four_domains(void **st)
{
	char *r = _two_sockets();
	fp_error_t err = { 0 };
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, &err);
	const char *names[] = { "package-0", "dram-0", "package-1", "dram-1" };
	int kinds[] = { FP_DOMAIN_PACKAGE, FP_DOMAIN_DRAM, FP_DOMAIN_PACKAGE,
			FP_DOMAIN_DRAM };
	int pkgs[] = { 0, 0, 1, 1 };

	assert_non_null(rapl);
	assert_int_equal(fp_rapl_ndomains(rapl), 4);
	for (size_t i = 0; i < 4; i++) {
		const fp_domain_t *d = fp_rapl_domain(rapl, i);

		assert_string_equal(d->name, names[i]);
		assert_int_equal(d->kind, kinds[i]);
		assert_int_equal(d->package, pkgs[i]);
		assert_true(d->idle_w < 0);
	}
	fp_rapl_close(rapl);
	_rm(r);
}

static void counter_values_are_read_in_domain_order(void **st)
{
	char *r = _two_sockets();
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, NULL);
	uint64_t e[4];
	bool v[4];

	assert_non_null(rapl);
	assert_int_equal(fp_rapl_read_all(rapl, e, v), 4);
	assert_true(v[0] && v[1] && v[2] && v[3]);
	assert_int_equal(e[0], 1000);
	assert_int_equal(e[1], 200);
	assert_int_equal(e[2], 3000);
	assert_int_equal(e[3], 400);
	fp_rapl_close(rapl);
	_rm(r);
}

static void dram_zone_keeps_its_own_wrap_value(void **st)
{
	char *r = _two_sockets();
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, NULL);

	assert_non_null(rapl);
	assert_int_equal(fp_rapl_domain(rapl, 0)->max_energy_range_uj,
			 262143999938ULL);
	assert_int_equal(fp_rapl_domain(rapl, 1)->max_energy_range_uj,
			 65532610987ULL);
	fp_rapl_close(rapl);
	_rm(r);
}

static void core_and_uncore_are_never_domains(void **st)
{
	char *r = _two_sockets();
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, NULL);

	for (size_t i = 0; i < fp_rapl_ndomains(rapl); i++) {
		assert_null(strstr(fp_rapl_domain(rapl, i)->name, "core"));
	}
	fp_rapl_close(rapl);
	_rm(r);
}

static void flat_links_to_subzones_count_once(void **st)
{
	char *r = _two_sockets(), link[1024];
	fp_rapl_t *rapl;

	/* /sys/class/powercap lists every zone flat, as symlinks. */
	snprintf(link, sizeof(link), "%s/intel-rapl:0:0", r);
	assert_int_equal(symlink("intel-rapl:0/intel-rapl:0:0", link), 0);
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 4);
	fp_rapl_close(rapl);
	_rm(r);
}

static void flat_only_subzones_are_found(void **st)
{
	char *r = _root();
	fp_rapl_t *rapl;

	_zone(r, "intel-rapl:0", "package-0\n", "1\n", "100\n");
	_zone(r, "intel-rapl:0:0", "dram\n", "2\n", "50\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 2);
	assert_string_equal(fp_rapl_domain(rapl, 1)->name, "dram-0");
	fp_rapl_close(rapl);
	_rm(r);
}

static void zone_missing_a_file_is_skipped_with_one_log(void **st)
{
	char *r = _two_sockets();
	logs_t l = { 0 };
	fp_rapl_t *rapl;

	_zone(r, "intel-rapl:2", "package-2\n", NULL, "100\n");
	rapl = fp_rapl_open(r, _log, &l, NULL);
	assert_non_null(rapl);
	assert_int_equal(fp_rapl_ndomains(rapl), 4);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "intel-rapl:2"));
	assert_non_null(strstr(l.last, "energy_uj"));
	fp_rapl_close(rapl);
	_rm(r);
}

static void unreadable_zone_is_skipped_with_one_log(void **st)
{
	char *r = _two_sockets(), d[1024];
	logs_t l = { 0 };
	fp_rapl_t *rapl;

	/* Tests run as root, where mode 000 still reads: a directory in place
	 * of the file fails the read the way a 0400 file fails for a user. */
	_zone(r, "intel-rapl:2", "package-2\n", NULL, "100\n");
	snprintf(d, sizeof(d), "%s/intel-rapl:2/energy_uj", r);
	assert_int_equal(mkdir(d, 0755), 0);
	rapl = fp_rapl_open(r, _log, &l, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 4);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "intel-rapl:2"));
	fp_rapl_close(rapl);
	_rm(r);
}

static void garbage_counter_at_open_is_skipped(void **st)
{
	char *r = _root();
	logs_t l = { 0 };
	fp_rapl_t *rapl;

	_zone(r, "intel-rapl:0", "package-0\n", "12x\n", "100\n");
	_zone(r, "intel-rapl:1", "package-1\n", "5\n", "100\n");
	rapl = fp_rapl_open(r, _log, &l, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 1);
	assert_string_equal(fp_rapl_domain(rapl, 0)->name, "package-1");
	assert_int_equal(l.n, 1);
	fp_rapl_close(rapl);
	_rm(r);
}

static void amd_package_only_tree_gives_packages(void **st)
{
	char *r = _root();
	fp_rapl_t *rapl;

	_zone(r, "intel-rapl:0", "package-0\n", "11\n", "4294967295\n");
	_zone(r, "intel-rapl:1", "package-1\n", "22\n", "4294967295\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_non_null(rapl);
	assert_int_equal(fp_rapl_ndomains(rapl), 2);
	assert_string_equal(fp_rapl_domain(rapl, 0)->name, "package-0");
	assert_string_equal(fp_rapl_domain(rapl, 1)->name, "package-1");
	fp_rapl_close(rapl);
	_rm(r);
}

static void psys_is_kept_separate_whatever_its_directory(void **st)
{
	char *r = _root();
	fp_rapl_t *rapl;
	const fp_domain_t *d;

	/* A one-socket laptop: psys is intel-rapl:1. */
	_zone(r, "intel-rapl:0", "package-0\n", "11\n", "100\n");
	_zone(r, "intel-rapl:1", "psys\n", "99\n", "200\n");
	_zone(r, "intel-rapl:0/intel-rapl:0:0", "dram\n", "2\n", "50\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 3);
	d = fp_rapl_domain(rapl, 2);
	assert_string_equal(d->name, "psys");
	assert_int_equal(d->kind, FP_DOMAIN_PSYS);
	assert_int_equal(d->package, -1);
	assert_int_equal(d->max_energy_range_uj, 200);
	fp_rapl_close(rapl);
	_rm(r);
}

static void mmio_duplicates_are_ignored(void **st)
{
	char *r = _root();
	fp_rapl_t *rapl;

	_zone(r, "intel-rapl:0", "package-0\n", "11\n", "100\n");
	_zone(r, "intel-rapl-mmio:0", "package-0\n", "11\n", "100\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_int_equal(fp_rapl_ndomains(rapl), 1);
	fp_rapl_close(rapl);
	_rm(r);
}

static void zone_failing_mid_run_is_invalid_once_logged_then_recovers(void **st)
{
	char *r = _two_sockets(), d[1024];
	logs_t l = { 0 };
	fp_rapl_t *rapl = fp_rapl_open(r, _log, &l, NULL);
	uint64_t e[4];
	bool v[4];

	snprintf(d, sizeof(d), "%s/intel-rapl:1", r);
	_put(d, "energy_uj", "");
	assert_int_equal(fp_rapl_read_all(rapl, e, v), 3);
	assert_false(v[2]);
	assert_true(v[0] && v[1] && v[3]);
	assert_int_equal(fp_rapl_read_all(rapl, e, v), 3);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "package-1"));
	_put(d, "energy_uj", "3500\n");
	assert_int_equal(fp_rapl_read_all(rapl, e, v), 4);
	assert_true(v[2]);
	assert_int_equal(e[2], 3500);
	assert_int_equal(l.n, 1);
	/* A new failure after recovery is news again. */
	_put(d, "energy_uj", "zz\n");
	fp_rapl_read_all(rapl, e, v);
	assert_int_equal(l.n, 2);
	fp_rapl_close(rapl);
	_rm(r);
}

static void empty_root_is_not_supported(void **st)
{
	char *r = _root();
	fp_error_t err = { 0 };

	assert_null(fp_rapl_open(r, NULL, NULL, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, r));
	_rm(r);
}

static void missing_root_is_not_supported(void **st)
{
	fp_error_t err = { 0 };

	assert_null(fp_rapl_open("/nonexistent/powercap", NULL, NULL, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "/nonexistent/powercap"));
}

static void simulated_marker_is_reported(void **st)
{
	char *r = _two_sockets();
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, NULL);

	assert_false(fp_rapl_simulated(rapl));
	fp_rapl_close(rapl);
	_put(r, FP_RAPL_SIMULATED_MARKER, "simulated\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	assert_true(fp_rapl_simulated(rapl));
	fp_rapl_close(rapl);
	_rm(r);
}

static void fill_desc_copies_domains_and_read_follows_desc_order(void **st)
{
	char *r = _two_sockets();
	fp_rapl_t *rapl = fp_rapl_open(r, NULL, NULL, NULL);
	fp_node_desc_t *desc = fp_sample_node_desc_new();
	fp_domain_t tmp;
	uint64_t e[4];
	bool v[4];

	assert_int_equal(fp_rapl_fill_desc(rapl, desc, NULL), 0);
	assert_int_equal(desc->ndomains, 4);
	assert_string_equal(desc->domains[1].name, "dram-0");
	assert_int_equal(desc->domains[1].max_energy_range_uj, 65532610987ULL);
	assert_true(desc->domains[1].idle_w < 0);
	/* A desc from elsewhere (a trace header) may order them otherwise. */
	tmp = desc->domains[0];
	desc->domains[0] = desc->domains[3];
	desc->domains[3] = tmp;
	assert_int_equal(fp_rapl_read(rapl, desc, e, v), 4);
	assert_int_equal(e[0], 400);
	assert_int_equal(e[3], 1000);
	fp_sample_node_desc_free(desc);
	fp_rapl_close(rapl);
	_rm(r);
}

static void desc_domain_absent_from_tree_reads_invalid(void **st)
{
	char *r = _root();
	fp_rapl_t *rapl;
	fp_node_desc_t *desc = fp_sample_node_desc_new();
	uint64_t e[2];
	bool v[2];

	_zone(r, "intel-rapl:0", "package-0\n", "11\n", "100\n");
	rapl = fp_rapl_open(r, NULL, NULL, NULL);
	desc->domains = calloc(2, sizeof(*desc->domains));
	desc->ndomains = 2;
	desc->domains[0].name = strdup("package-0");
	desc->domains[1].name = strdup("dram-0");
	assert_int_equal(fp_rapl_read(rapl, desc, e, v), 1);
	assert_true(v[0]);
	assert_false(v[1]);
	fp_sample_node_desc_free(desc);
	fp_rapl_close(rapl);
	_rm(r);
}

static void close_of_null_is_a_no_op(void **st)
{
	fp_rapl_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_packages_with_dram_give_four_domains),
		cmocka_unit_test(counter_values_are_read_in_domain_order),
		cmocka_unit_test(dram_zone_keeps_its_own_wrap_value),
		cmocka_unit_test(core_and_uncore_are_never_domains),
		cmocka_unit_test(flat_links_to_subzones_count_once),
		cmocka_unit_test(flat_only_subzones_are_found),
		cmocka_unit_test(zone_missing_a_file_is_skipped_with_one_log),
		cmocka_unit_test(unreadable_zone_is_skipped_with_one_log),
		cmocka_unit_test(garbage_counter_at_open_is_skipped),
		cmocka_unit_test(amd_package_only_tree_gives_packages),
		cmocka_unit_test(psys_is_kept_separate_whatever_its_directory),
		cmocka_unit_test(mmio_duplicates_are_ignored),
		cmocka_unit_test(
			zone_failing_mid_run_is_invalid_once_logged_then_recovers),
		cmocka_unit_test(empty_root_is_not_supported),
		cmocka_unit_test(missing_root_is_not_supported),
		cmocka_unit_test(simulated_marker_is_reported),
		cmocka_unit_test(
			fill_desc_copies_domains_and_read_follows_desc_order),
		cmocka_unit_test(desc_domain_absent_from_tree_reads_invalid),
		cmocka_unit_test(close_of_null_is_a_no_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
