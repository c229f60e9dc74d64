/* The heater's wall-power meter feed: one JSON object in a file the vendor's
 * agent rewrites (or lines on a FIFO), validated into a cumulative energy. */
#include "footprint/sensor.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* A feed is one small object; anything much larger is not a feed. */
#define FEED_MAX 65536

struct fp_sensor {
	char *path;
	double max_age_s;
	double ceiling_w;
	fp_log_fn log;
	void *log_ctx;
	fp_sensor_fault_t logged; /* fault last logged, until cleared */
	bool rapl_logged;
	/* The last reading accepted as a base for deltas. */
	bool have_base;
	fp_sensor_mode_t base_mode;
	double base_time;
	double base_value; /* energy_j or power_w of the feed */
	double energy_j;   /* what we report, cumulative */
	/* FIFO: kept open; the newest complete line is the current feed. */
	int fifo_fd;
	char *fifo_buf;
	size_t fifo_len;
	char *fifo_line;
	char *fbuf;   /* a regular file's text, reused */
	bool regular; /* the feed was a regular file */
};

const char *fp_sensor_fault_str(fp_sensor_fault_t f)
{
	switch (f) {
	case FP_SENSOR_OK:
		return "ok";
	case FP_SENSOR_MISSING:
		return "missing";
	case FP_SENSOR_UNREADABLE:
		return "unreadable";
	case FP_SENSOR_MALFORMED:
		return "malformed";
	case FP_SENSOR_NONFINITE:
		return "non-finite";
	case FP_SENSOR_NEGATIVE:
		return "negative";
	case FP_SENSOR_STALE:
		return "stale";
	case FP_SENSOR_IMPLAUSIBLE:
		return "implausible";
	case FP_SENSOR_BELOW_RAPL:
		return "below RAPL";
	case FP_SENSOR_TIME_BACK:
		return "time went back";
	}
	return "unknown";
}

const char *fp_sensor_mode_str(fp_sensor_mode_t m)
{
	switch (m) {
	case FP_SENSOR_ENERGY:
		return "energy";
	case FP_SENSOR_POWER:
		return "power";
	case FP_SENSOR_NONE:
		break;
	}
	return "none";
}

static void _log(const fp_sensor_t *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void _log(const fp_sensor_t *s, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(s->log, s->log_ctx, level, fmt, ap);
	va_end(ap);
}

fp_sensor_t *fp_sensor_new(const fp_sensor_config_t *cfg, fp_log_fn log,
			   void *log_ctx, fp_error_t *err)
{
	fp_sensor_t *s;

	fp_error_clear(err);
	if (!cfg || !cfg->path || !*cfg->path) {
		fp_error_set(err, FP_EINVAL, "sensor feed: no path given");
		return NULL;
	}
	if (!isfinite(cfg->max_age_s) || cfg->max_age_s <= 0 ||
	    !isfinite(cfg->ceiling_w)) {
		fp_error_set(
			err, FP_EINVAL,
			"sensor feed %s: max age must be > 0 s and the ceiling "
			"finite",
			cfg->path);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(cfg->path))) {
		free(s);
		fp_error_set(err, FP_ENOMEM, "sensor feed %s: out of memory",
			     cfg->path);
		return NULL;
	}
	s->max_age_s = cfg->max_age_s;
	s->ceiling_w = cfg->ceiling_w;
	s->log = log;
	s->log_ctx = log_ctx;
	s->fifo_fd = -1;
	return s;
}

void fp_sensor_free(fp_sensor_t *s)
{
	if (!s)
		return;
	if (s->fifo_fd >= 0)
		close(s->fifo_fd);
	free(s->fifo_buf);
	free(s->fifo_line);
	free(s->fbuf);
	free(s->path);
	free(s);
}

static int _fault(fp_sensor_t *s, fp_sensor_reading_t *r, fp_sensor_fault_t f,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Marks r invalid; the message names the file, then the fault. */
static int _fault(fp_sensor_t *s, fp_sensor_reading_t *r, fp_sensor_fault_t f,
		  const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r->valid = false;
	r->fault = f;
	r->energy_j = s->energy_j;
	snprintf(r->reason, sizeof(r->reason), "sensor feed %s: %s: %s",
		 s->path, fp_sensor_fault_str(f), what);
	return -1;
}

/* Newest complete line written to the FIFO since the last call, or the one
 * before when nothing new arrived: the agent writes, we never block. */
static int _read_fifo(fp_sensor_t *s, char **out, size_t *len, const char **why)
{
	char chunk[4096];
	ssize_t n;

	if (s->fifo_fd < 0) {
		s->fifo_fd = open(s->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (s->fifo_fd < 0) {
			*why = strerror(errno);
			return -1;
		}
	}
	while ((n = read(s->fifo_fd, chunk, sizeof(chunk))) > 0) {
		char *nb;

		if (s->fifo_len + (size_t)n > FEED_MAX)
			s->fifo_len = 0; /* a runaway line: drop it */
		nb = realloc(s->fifo_buf, s->fifo_len + (size_t)n + 1);
		if (!nb) {
			*why = strerror(ENOMEM);
			return -1;
		}
		s->fifo_buf = nb;
		memcpy(nb + s->fifo_len, chunk, (size_t)n);
		s->fifo_len += (size_t)n;
		nb[s->fifo_len] = '\0';
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		*why = strerror(errno);
		return -1;
	}
	for (size_t end = s->fifo_len; end > 0 && s->fifo_buf; end--) {
		size_t start;
		char *line;

		if (s->fifo_buf[end - 1] != '\n')
			continue;
		start = end - 1;
		while (start > 0 && s->fifo_buf[start - 1] != '\n')
			start--;
		if (start == end - 1)
			continue; /* an empty line */
		line = strndup(s->fifo_buf + start, end - 1 - start);
		if (!line) {
			*why = strerror(ENOMEM);
			return -1;
		}
		free(s->fifo_line);
		s->fifo_line = line;
		memmove(s->fifo_buf, s->fifo_buf + end, s->fifo_len - end);
		s->fifo_len -= end;
		break;
	}
	if (!s->fifo_line) {
		*why = "nothing written to the FIFO yet";
		errno = ENOENT;
		return -1;
	}
	*out = strdup(s->fifo_line);
	*len = *out ? strlen(*out) : 0;
	return *out ? 0 : -1;
}

/* The text of the feed opened as fd, a regular file of size bytes (-1:
 * unknown, then a short read is its end, as for any regular file), in the
 * sensor's own buffer: read until size bytes or the end. */
static int _read_file(fp_sensor_t *s, int fd, off_t size, char **out,
		      size_t *len, const char **why)
{
	size_t got = 0;
	ssize_t n = 0;

	if (!s->fbuf && !(s->fbuf = malloc(FEED_MAX + 1))) {
		*why = strerror(ENOMEM);
		return -1;
	}
	while (got < FEED_MAX &&
	       (n = read(fd, s->fbuf + got, FEED_MAX - got)) > 0) {
		bool shorter = (size_t)n < FEED_MAX - got;

		got += (size_t)n;
		if (size < 0 ? shorter : (off_t)got >= size)
			break; /* the whole file: no read to see the end */
	}
	if (n < 0) {
		*why = strerror(errno);
		return -1;
	}
	s->fbuf[got] = '\0';
	*out = s->fbuf;
	*len = got;
	return 0;
}

/* Python's json module writes NaN and Infinity, which JSON (and jansson) do
 * not accept: tell that apart from plain garbage. */
static bool _looks_nonfinite(const char *text, const json_error_t *je)
{
	return strstr(text, "NaN") || strstr(text, "Infinity") ||
	       strstr(je->text, "overflow");
}

static int _number(fp_sensor_t *s, fp_sensor_reading_t *r, json_t *obj,
		   const char *key, double *v)
{
	json_t *j = json_object_get(obj, key);

	if (!json_is_number(j))
		return _fault(s, r, FP_SENSOR_MALFORMED,
			      j ? "\"%s\" is not a number" : "missing \"%s\"",
			      key);
	*v = json_number_value(j);
	if (!isfinite(*v))
		return _fault(s, r, FP_SENSOR_NONFINITE, "\"%s\" is not finite",
			      key);
	return 0;
}

/* Parses and checks the feed text; on success sets r's mode, time, meter,
 * simulated, and *value (energy_j or power_w). */
static int _parse(fp_sensor_t *s, fp_sensor_reading_t *r, const char *text,
		  size_t len, double *value)
{
	json_t *root, *j;
	json_error_t je;
	const char *key;
	int rc = -1;

	root = json_loadb(text, len, 0, &je);
	if (!root) {
		if (_looks_nonfinite(text, &je))
			return _fault(s, r, FP_SENSOR_NONFINITE,
				      "a value is NaN, infinite or too large");
		return _fault(s, r, FP_SENSOR_MALFORMED,
			      "bad JSON at line %d column %d: %s", je.line,
			      je.column, je.text);
	}
	if (!json_is_object(root)) {
		_fault(s, r, FP_SENSOR_MALFORMED, "not a JSON object");
		goto out;
	}
	if (json_object_get(root, "energy_j") &&
	    json_object_get(root, "power_w")) {
		_fault(s, r, FP_SENSOR_MALFORMED,
		       "both \"energy_j\" and \"power_w\"");
		goto out;
	}
	r->mode = json_object_get(root, "power_w") ? FP_SENSOR_POWER
						   : FP_SENSOR_ENERGY;
	key = r->mode == FP_SENSOR_POWER ? "power_w" : "energy_j";
	if (_number(s, r, root, "time", &r->time) ||
	    _number(s, r, root, key, value))
		goto out;
	j = json_object_get(root, "meter");
	if (j && !json_is_string(j)) {
		_fault(s, r, FP_SENSOR_MALFORMED, "\"meter\" is not a string");
		goto out;
	}
	if (j)
		snprintf(r->meter, sizeof(r->meter), "%s",
			 json_string_value(j));
	j = json_object_get(root, "simulated");
	if (j && !json_is_boolean(j)) {
		_fault(s, r, FP_SENSOR_MALFORMED,
		       "\"simulated\" is not true or false");
		goto out;
	}
	r->simulated = json_is_true(j);
	if (*value < 0) {
		_fault(s, r, FP_SENSOR_NEGATIVE, "\"%s\" is %g", key, *value);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static void _report(fp_sensor_t *s, const fp_sensor_reading_t *r)
{
	if (!r->valid && r->fault != s->logged) {
		_log(s, FP_LOG_WARN, "%s", r->reason);
		s->logged = r->fault;
	} else if (r->valid && s->logged != FP_SENSOR_OK) {
		_log(s, FP_LOG_INFO, "sensor feed %s: valid again", s->path);
		s->logged = FP_SENSOR_OK;
	}
}

static int _read(fp_sensor_t *s, double now, fp_sensor_reading_t *r)
{
	const char *why = NULL;
	char *text = NULL;
	double value = 0, dt;
	struct stat st;
	size_t len = 0;
	int rc, fd;

	/* non-blocking: opening a FIFO no agent writes to must not wait */
	fd = open(s->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return _fault(s, r,
			      errno == ENOENT ? FP_SENSOR_MISSING
					      : FP_SENSOR_UNREADABLE,
			      "%s", strerror(errno));
	/* a feed that was a regular file is read without asking again (one
	 * system call less a poll); nothing read, and it is looked at anew */
	rc = -1;
	if (s->regular) {
		rc = _read_file(s, fd, -1, &text, &len, &why);
		if (rc || !len)
			s->regular = false;
	}
	if (!s->regular) {
		if (fstat(fd, &st)) {
			rc = -1;
			why = strerror(errno);
		} else if (S_ISFIFO(st.st_mode)) {
			rc = _read_fifo(s, &text, &len, &why);
		} else {
			rc = _read_file(s, fd, st.st_size, &text, &len, &why);
			s->regular = !rc && S_ISREG(st.st_mode);
		}
	}
	close(fd);
	if (rc)
		return _fault(s, r, FP_SENSOR_UNREADABLE, "%s", why);
	rc = _parse(s, r, text, len, &value);
	if (text != s->fbuf)
		free(text);
	if (rc) {
		s->regular = false; /* maybe no longer a file: look */
		return -1;
	}
	r->age_s = now - r->time;
	if (r->age_s > s->max_age_s)
		return _fault(s, r, FP_SENSOR_STALE,
			      "reading is %.1f s old (max %g s)", r->age_s,
			      s->max_age_s);
	if (r->age_s < -s->max_age_s)
		return _fault(s, r, FP_SENSOR_STALE,
			      "reading is %.1f s in the future (clock skew?)",
			      -r->age_s);
	if (s->have_base && r->time < s->base_time) {
		double prev = s->base_time;

		/* Refused once: the next reading is judged from this one, so
		 * a meter whose clock was set back is not refused for ever. */
		s->base_time = r->time;
		s->base_value = value;
		s->base_mode = r->mode;
		return _fault(s, r, FP_SENSOR_TIME_BACK,
			      "time %.3f is %.3f s before the previous "
			      "reading's",
			      r->time, prev - r->time);
	}
	dt = s->have_base && s->base_mode == r->mode ? r->time - s->base_time
						     : 0;
	if (r->mode == FP_SENSOR_POWER) {
		r->power_w = value;
		if (s->ceiling_w > 0 && value > s->ceiling_w)
			/* The base stays: integrating from a spike would
			 * carry it into the next interval. */
			return _fault(s, r, FP_SENSOR_IMPLAUSIBLE,
				      "%.1f W is above the %g W ceiling", value,
				      s->ceiling_w);
		/* dt 0: the same reading again, nothing to integrate */
		if (dt > 0)
			s->energy_j += (s->base_value + value) / 2 * dt;
		s->base_time = r->time;
		s->base_value = value;
	} else {
		double prev = s->base_value;
		bool cont = s->have_base && s->base_mode == r->mode;

		r->power_w = cont && dt > 0 && value >= prev
				     ? (value - prev) / dt
				     : NAN;
		/* The next delta starts here even when this one is rejected,
		 * so one glitch is rejected once, not forever. */
		s->base_time = r->time;
		s->base_value = value;
		s->base_mode = r->mode;
		s->have_base = true;
		if (s->ceiling_w > 0 && isfinite(r->power_w) &&
		    r->power_w > s->ceiling_w)
			return _fault(s, r, FP_SENSOR_IMPLAUSIBLE,
				      "implied %.1f W is above the %g W "
				      "ceiling",
				      r->power_w, s->ceiling_w);
		if ((cont && value < prev) ||
		    (!cont && s->have_base && value < s->energy_j))
			r->reset = true;
		s->energy_j = value;
	}
	s->base_mode = r->mode;
	s->have_base = true;
	r->valid = true;
	r->energy_j = s->energy_j;
	if (r->reset)
		_log(s, FP_LOG_INFO,
		     "sensor feed %s: meter reset (counter went back to "
		     "%.3f J)",
		     s->path, r->energy_j);
	return 0;
}

int fp_sensor_read(fp_sensor_t *s, double now, fp_sensor_reading_t *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->power_w = NAN;
	r->time = NAN;
	r->age_s = NAN;
	rc = _read(s, now, r);
	_report(s, r);
	return rc;
}

void fp_sensor_note_rapl(fp_sensor_t *s, bool below, double wall_delta_j,
			 double rapl_delta_j)
{
	if (below && !s->rapl_logged)
		_log(s, FP_LOG_WARN,
		     "sensor feed %s: %s: wall %.3f J is less than RAPL "
		     "%.3f J over the same interval",
		     s->path, fp_sensor_fault_str(FP_SENSOR_BELOW_RAPL),
		     wall_delta_j, rapl_delta_j);
	else if (!below && s->rapl_logged)
		_log(s, FP_LOG_INFO,
		     "sensor feed %s: wall energy above RAPL again", s->path);
	s->rapl_logged = below;
}
