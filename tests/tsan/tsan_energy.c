/* ThreadSanitizer harness for acct_gather_energy/footprint in slurmd: the
 * real plugin, loaded as slurmd loads it, its poller thread running while
 * other threads ask for the node's energy.
 *
 * In slurmd the plugin's thread polls the node under poll_lock while RPC
 * threads (node registration, energy requests, several at once) read the
 * node's values and keep the running average, and fini stops the thread
 * through a flag. Here the node is one that fp-simnode keeps writing; four
 * threads read the node's energy while a fifth asks for fresh polls
 * through the poll fifo, as step daemons do. Built with -fsanitize=thread,
 * any unsynchronised access is a report. FP_TSAN_ENERGY names the plugin,
 * FP_TSAN_SIMNODE fp-simnode (make tsan sets both). */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/common/slurm_xlator.h"
#include "src/common/log.h"
#include "src/common/parse_config.h"
#include "src/common/slurm_acct_gather_energy.h"
#include "src/common/xmalloc.h"
#include "src/common/xstring.h"

#define READERS 4
#define SECONDS 3

extern char **environ;

static int (*p_init)(void), (*p_fini)(void);
static void (*p_conf_options)(s_p_options_t **, int *);
static void (*p_conf_set)(int, s_p_hashtbl_t *);
static int (*p_get_data)(enum acct_energy_type, void *);
static char dir[] = "/tmp/fp-tsan-energy-XXXXXX";
static pid_t simnode = -1;
static int running = 1;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pid_t spawn(char **argv)
{
	pid_t pid;

	return posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) ? -1 : pid;
}

static int setup(void **state)
{
	const char *so = getenv("FP_TSAN_ENERGY");
	const char *sim = getenv("FP_TSAN_SIMNODE");
	char path[200], root[200], conf[200];
	char *once[] = { (char *)sim, "--root", root, "--once", NULL };
	char *run[] = { (char *)sim, "--root",	  root, "--interval",
			"0.1",	     "--seconds", "60", NULL };
	FILE *f;
	void *h;
	int status;
	pid_t pid;

	if (!so || !sim || !mkdtemp(dir))
		return -1;
	snprintf(root, sizeof(root), "%s/sim", dir);
	pid = spawn(once);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		return -1;
	simnode = spawn(run);
	snprintf(conf, sizeof(conf), "%s/acct_gather.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
		"EnergyFootprintSimulatedNode=%s\n"
		"EnergyFootprintRunDir=%s/run\n"
		"EnergyFootprintPollInterval=0.1\n"
		"EnergyFootprintMetrics=%s/footprint.prom\n"
		"EnergyFootprintIdleWatts=package=3,dram=1\n",
		root, dir, dir);
	if (fclose(f))
		return -1;
	/* The plugin asks running_in_slurmd(): this process is slurmd. */
	slurm_prog_name = xstrdup("slurmd");
	snprintf(path, sizeof(path), "%s", so);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "tsan_energy: %s\n", dlerror());
		return -1;
	}
	p_init = (int (*)(void))dlsym(h, "init");
	p_fini = (int (*)(void))dlsym(h, "fini");
	p_conf_options = (void (*)(s_p_options_t **, int *))dlsym(
		h, "acct_gather_energy_p_conf_options");
	p_conf_set = (void (*)(int, s_p_hashtbl_t *))dlsym(
		h, "acct_gather_energy_p_conf_set");
	p_get_data = (int (*)(enum acct_energy_type,
			      void *))dlsym(h, "acct_gather_energy_p_get_data");
	return p_init && p_fini && p_conf_options && p_conf_set && p_get_data
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	char cmd[200];

	if (simnode > 0) {
		kill(simnode, SIGTERM);
		waitpid(simnode, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/* acct_gather.conf read as slurm_acct_gather.c reads it */
static void start_plugin(void)
{
	s_p_options_t *opts = NULL;
	s_p_hashtbl_t *tbl;
	char conf[200];
	int n = 0;

	assert_int_equal(p_init(), 0);
	p_conf_options(&opts, &n);
	xrealloc(opts, (n + 1) * sizeof(*opts));
	tbl = s_p_hashtbl_create(opts);
	snprintf(conf, sizeof(conf), "%s/acct_gather.conf", dir);
	assert_int_equal(s_p_parse_file(tbl, NULL, conf, false, NULL), 0);
	p_conf_set(0, tbl);
	s_p_hashtbl_destroy(tbl);
	for (int i = 0; i < n; i++)
		xfree(opts[i].key);
	xfree(opts);
}

struct reader {
	unsigned long reads, ready;
	int backwards;
};

/* An RPC thread: the node's energy, as slurmd's energy request asks it. */
static void *read_node(void *arg)
{
	struct reader *r = arg;
	uint64_t last = 0;

	while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
		acct_gather_energy_t e = { 0 };
		time_t t;

		p_get_data(ENERGY_DATA_NODE_ENERGY, &e);
		p_get_data(ENERGY_DATA_LAST_POLL, &t);
		r->reads++;
		if (e.consumed_energy != NO_VAL64 && e.consumed_energy) {
			r->ready++;
			if (e.consumed_energy < last)
				r->backwards++;
			last = e.consumed_energy;
		}
		usleep(1000);
	}
	return NULL;
}

/* A step daemon asking for a fresh value through the fifo. */
static void *ask_polls(void *arg)
{
	char fifo[200];
	int fd;

	snprintf(fifo, sizeof(fifo), "%s/run/poll.fifo", dir);
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	while (fd >= 0 && __atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
		if (write(fd, "p", 1) < 0)
			break;
		usleep(30000);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_node_energy_read_from_rpc_threads_while_polling(void **state)
{
	pthread_t t[READERS + 1];
	struct reader r[READERS] = { { 0 } };
	double t0 = mono();
	unsigned long ready = 0;

	start_plugin();
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, read_node, &r[i]),
				 0);
	assert_int_equal(pthread_create(&t[READERS], NULL, ask_polls, NULL), 0);
	while (mono() - t0 < SECONDS)
		usleep(50000);
	__atomic_store_n(&running, 0, __ATOMIC_RELEASE);
	for (int i = 0; i <= READERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* fini stops the poller thread, woken through the fifo rather than
	 * at its next poll */
	t0 = mono();
	assert_int_equal(p_fini(), 0);
	assert_true(mono() - t0 < 1.0);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(r[i].backwards, 0);
		ready += r[i].ready;
	}
	assert_true(ready > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_node_energy_read_from_rpc_threads_while_polling),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
