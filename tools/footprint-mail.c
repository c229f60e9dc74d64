/* footprint-mail: slurmctld's MailProg. For job-end mails it adds the job's
 * footprint (from its signed summary) to the body, then runs the real mail.
 *
 * slurmctld runs it as `MailProg -s SUBJECT USER` with stdin on /dev/null
 * and an environment of SLURM_JOB_* variables only (no SLURM_CONF, no
 * PATH), as SlurmUser, from its log folder, and kills it after 120 s. The
 * summary is written by footprint-worker a few seconds after the job ends,
 * possibly after this mail is queued: we wait up to MailWait seconds.
 *
 * With MailHTML= the mail is a MIME message of our own, the text and the
 * HTML report of sfootprint -j N --html, handed to sendmail(8): mail(1)
 * has no portable way to set its headers.
 *
 * Whatever fails here, the mail still goes: a bad footprint.conf or a
 * failing Mailer falls back to /usr/bin/mail, a failing Sendmail to the
 * text mail. Exit: the mailer's status. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "footprint/config.h"
#include "footprint/file.h"
#include "footprint/report.h"
#include "footprint/report_html.h"
#include "footprint/sign.h"
#include "footprint/summary.h"
#include "footprint/whatif.h"

#define FALLBACK_MAILER "/usr/bin/mail"
/* slurmctld kills MailProg after 120 s: leave the mailer time to run. */
#define MAX_WAIT_S 100
#define POLL_NS 500000000L
#define MAX_STDIN (1 << 20)

static void _note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void _note(const char *fmt, ...)
{
	va_list ap;

	/* slurmctld logs MailProg's output when it fails. */
	fprintf(stderr, "footprint-mail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* SLURM_CONF of slurmctld, for MailProg's bare environment: slurmscriptd,
 * our parent, is a fork of slurmctld and keeps its command line (-f FILE)
 * and environment. */
static bool _conf_from_process(pid_t pid, char *buf, size_t size)
{
	char path[64], data[65536];
	size_t n;
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((f = fopen(path, "r"))) {
		n = fread(data, 1, sizeof(data) - 1, f);
		fclose(f);
		data[n] = '\0';
		for (size_t i = 0; i < n && !found; i += strlen(data + i) + 1)
			if (!strcmp(data + i, "-f") && i + 3 < n) {
				snprintf(buf, size, "%s", data + i + 3);
				found = true;
			}
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if (!found && (f = fopen(path, "r"))) {
		n = fread(data, 1, sizeof(data) - 1, f);
		fclose(f);
		data[n] = '\0';
		for (size_t i = 0; i < n && !found; i += strlen(data + i) + 1)
			if (!strncmp(data + i, "SLURM_CONF=", 11) &&
			    data[i + 11]) {
				snprintf(buf, size, "%s", data + i + 11);
				found = true;
			}
	}
	return found;
}

static pid_t _parent_of(pid_t pid)
{
	char path[64];
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	/* "pid (comm) state ppid": comm may hold spaces and ')'. */
	{
		char line[1024], *p;

		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
			sscanf(p + 1, " %*c %d", &ppid);
	}
	fclose(f);
	return (pid_t)ppid;
}

static const char *_slurm_conf(char *buf, size_t size)
{
	const char *env = getenv("SLURM_CONF");
	pid_t pid = getppid();

	if (env && *env)
		return env;
	/* slurmscriptd, then slurmctld itself. */
	for (int i = 0; i < 2 && pid > 1; i++, pid = _parent_of(pid))
		if (_conf_from_process(pid, buf, size))
			return buf;
	return NULL;
}

static bool _wants_footprint(const char *type, const char *subject)
{
	if (type && (!strcasecmp(type, "Ended") || !strcasecmp(type, "Failed")))
		return true;
	return subject &&
	       (strstr(subject, " Ended") || strstr(subject, " Failed"));
}

/* SLURM_JOB_ID, else "Job_id=N" of the subject. */
static unsigned long _job_id(const char *subject)
{
	const char *env = getenv("SLURM_JOB_ID"), *p;
	char *end;
	unsigned long id;

	if (env && *env) {
		id = strtoul(env, &end, 10);
		if (!*end && id)
			return id;
	}
	if (subject && (p = strstr(subject, "Job_id=")) &&
	    isdigit((unsigned char)p[7]))
		return strtoul(p + 7, NULL, 10);
	return 0;
}

/* The page of sfootprint -j N --html for r (payload, its summary). NULL
 * (said) when it cannot be built: the mail then goes as text. The caller
 * free()s it. */
static char *_html_report(fp_config_t *cfg, const fp_report_t *r,
			  const char *status, const char *payload)
{
	fp_error_t err = { 0 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	int rc = -1;

	if (!f)
		fp_error_set(&err, FP_ENOMEM, "out of memory");
	else {
		rc = fp_report_html_page(r, status, payload, cfg, NULL, f,
					 &err);
		if (fclose(f) && !rc) {
			fp_error_set(&err, FP_ENOMEM, "out of memory");
			rc = -1;
		}
	}
	if (rc) {
		_note("job %llu: no HTML report, the mail goes as text: %s",
		      (unsigned long long)r->job_id, err.msg);
		free(page);
		page = NULL;
	}
	return page;
}

/* The footprint section's text of a valid summary: with its energy by
 * part and GPUs where it has them (summaries since issue #15 made with
 * NodePartsDir=). */
static char *_footprint_text(const fp_report_t *r, const char *status,
			     const json_t *summary)
{
	char *parts = fp_summary_parts_mail(summary);
	char *s = fp_report_mail_with(r, status, parts);

	free(parts);
	return s;
}

/* The footprint section: from the verified summary, or why it is not
 * there. The worker writes summaries atomically (link of a complete file),
 * so a present but invalid one will not get better by waiting. With html,
 * also the HTML report of a valid summary (*html NULL otherwise). */
static char *_footprint_section(fp_config_t *cfg, unsigned long id, char **html)
{
	char path[4096], why[1200], status[600];
	unsigned wait = cfg->mail_wait < MAX_WAIT_S ? cfg->mail_wait
						    : MAX_WAIT_S;
	struct timespec t0, now, pause = { 0, POLL_NS };
	fp_summary_file_t f;
	fp_error_t err = { 0 };
	fp_keyset_t *ks;
	fp_report_t *r;
	char *s = NULL;

	/* The current and retired keys footprint.conf trusts, as
	 * sfootprint -j: a summary of a retired key is still valid. */
	ks = fp_sign_keyset_new_config(cfg, &err);
	/* keys that cannot be read (NULL) leave a summary there unverified,
	 * and a missing one still missing */
	if (!ks)
		_note("%s", err.msg);
	fp_summary_load_path(path, sizeof(path), cfg->spool_dir, id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fp_summary_load(&f, path, ks, id) == FP_SUMMARY_ABSENT) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 >=
		    wait)
			break;
		fp_summary_load_clear(&f);
		nanosleep(&pause, NULL);
	}
	r = f.state == FP_SUMMARY_VALID
		    ? fp_report_from_summary(path, f.payload, &f.err)
		    : NULL;
	if (f.state == FP_SUMMARY_ABSENT) {
		snprintf(why, sizeof(why), "no summary after %u s", wait);
		s = fp_report_mail_unavailable(id, why);
	} else if (f.state == FP_SUMMARY_UNREADABLE) {
		_note("%s", f.err.msg);
		s = fp_report_mail_unavailable(id, f.err.msg);
	} else if (!ks) {
		s = fp_report_mail_unavailable(id, "its signature cannot be "
						   "checked here");
	} else if (!r) {
		/* there, but damaged or forged: never taken for a missing
		 * one */
		_note("%s", f.err.msg);
		snprintf(why, sizeof(why), "the signed summary is INVALID: %s",
			 f.err.msg);
		s = fp_report_mail_unavailable(id, why);
	} else {
		snprintf(status, sizeof(status), "valid (kid %s, %s)",
			 fp_sign_key_kid(f.info.key),
			 fp_sign_key_alg(f.info.key));
		s = _footprint_text(r, status, f.root);
		if (s && html)
			*html = _html_report(cfg, r, status, f.payload);
		fp_report_free(r);
	}
	fp_summary_load_clear(&f);
	fp_sign_keyset_free(ks);
	return s;
}

/* What came on stdin (nothing from slurmctld; a site's own wrapper may pass
 * a body), without hanging on a terminal or on a pipe nobody writes to. */
static char *_read_stdin(size_t *len)
{
	char *buf = malloc(MAX_STDIN + 1);
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t n;

	*len = 0;
	if (!buf)
		return NULL;
	if (!isatty(STDIN_FILENO))
		while (*len < MAX_STDIN && poll(&p, 1, 2000) > 0 &&
		       (n = read(STDIN_FILENO, buf + *len, MAX_STDIN - *len)) >
			       0)
			*len += (size_t)n;
	buf[*len] = '\0';
	return buf;
}

/* Runs mailer with argv[1..] and body on stdin (body NULL: our own stdin).
 * Returns its exit status; 127 when it could not be executed. */
static int _run_mailer(const char *mailer, char **argv, const char *body)
{
	int in[2] = { -1, -1 }, st[2], status, child_errno = 0;
	pid_t pid;
	ssize_t n;

	argv[0] = (char *)mailer;
	/* Tells the parent whether exec() worked: closed on exec. */
	if (pipe2(st, O_CLOEXEC) || (body && pipe(in))) {
		_note("%s: pipe: %s", mailer, strerror(errno));
		return 127;
	}
	pid = fork();
	if (pid < 0) {
		_note("%s: fork: %s", mailer, strerror(errno));
		return 127;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (body) {
			dup2(in[0], STDIN_FILENO);
			close(in[0]);
			close(in[1]);
		}
		close(st[0]);
		execv(mailer, argv);
		child_errno = errno;
		if (write(st[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(st[1]);
	if (body) {
		size_t len = strlen(body), off = 0;

		close(in[0]);
		while (off < len &&
		       (n = write(in[1], body + off, len - off)) > 0)
			off += (size_t)n;
		close(in[1]);
	}
	n = read(st[0], &child_errno, sizeof(child_errno));
	close(st[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(child_errno)) {
		_note("%s: %s", mailer, strerror(child_errno));
		return 127;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	_note("%s: killed by signal %d", mailer, WTERMSIG(status));
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* A header value without CR, LF or other controls (no header injection),
 * in RFC 2047 base64 words when it is not plain ASCII. */
static void _put_header(FILE *f, const char *name, const char *value)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	bool ascii = true;
	size_t n = strlen(value);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] >= 0x80)
			ascii = false;
	fprintf(f, "%s: ", name);
	if (ascii) {
		for (size_t i = 0; i < n; i++)
			fputc(iscntrl((unsigned char)value[i]) ? ' ' : value[i],
			      f);
		fputc('\n', f);
		return;
	}
	/* At most 45 bytes a word (60 characters of base64), and whole
	 * characters: RFC 2047 forbids splitting one over two words. */
	for (size_t i = 0, k; i < n; i += k) {
		unsigned char in[45];

		k = n - i < 45 ? n - i : 45;
		while (i + k < n && k > 1 &&
		       ((unsigned char)value[i + k] & 0xc0) == 0x80)
			k--;

		for (size_t j = 0; j < k; j++)
			in[j] = iscntrl((unsigned char)value[i + j])
					? ' '
					: (unsigned char)value[i + j];
		fputs(i ? "\n =?UTF-8?B?" : "=?UTF-8?B?", f);
		for (size_t j = 0; j < k; j += 3) {
			unsigned v =
				(unsigned)in[j] << 16 |
				(j + 1 < k ? (unsigned)in[j + 1] << 8 : 0) |
				(j + 2 < k ? in[j + 2] : 0);

			fputc(b64[v >> 18 & 63], f);
			fputc(b64[v >> 12 & 63], f);
			fputc(j + 1 < k ? b64[v >> 6 & 63] : '=', f);
			fputc(j + 2 < k ? b64[v & 63] : '=', f);
		}
		fputs("?=", f);
	}
	fputc('\n', f);
}

/* One MIME part: text of short lines as 8bit, anything else (the HTML
 * page's long SVG lines, a NUL) in base64 lines of 76. */
static void _put_part(FILE *f, const char *boundary, const char *type,
		      const char *disposition, const char *data)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	size_t n = strlen(data), line = 0;
	bool plain = true;

	for (size_t i = 0; i < n && plain; i++) {
		line = data[i] == '\n' ? 0 : line + 1;
		if (line > 998 || data[i] == '\r')
			plain = false;
	}
	fprintf(f,
		"--%s\nContent-Type: %s; charset=utf-8\n"
		"Content-Transfer-Encoding: %s\n",
		boundary, type, plain ? "8bit" : "base64");
	if (disposition)
		fprintf(f, "Content-Disposition: %s\n", disposition);
	fputc('\n', f);
	if (plain) {
		fputs(data, f);
		if (n && data[n - 1] != '\n')
			fputc('\n', f);
		return;
	}
	for (size_t i = 0; i < n; i += 3) {
		const unsigned char *p = (const unsigned char *)data + i;
		unsigned v = (unsigned)p[0] << 16 |
			     (i + 1 < n ? (unsigned)p[1] << 8 : 0) |
			     (i + 2 < n ? p[2] : 0);

		fputc(b64[v >> 18 & 63], f);
		fputc(b64[v >> 12 & 63], f);
		fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? b64[v & 63] : '=', f);
		if ((i / 3 + 1) % 19 == 0 || i + 3 >= n)
			fputc('\n', f);
	}
}

/* The whole message for sendmail(8): headers, the text, and the HTML
 * report as the other alternative or as job-N.html attached. The
 * boundary holds "=_", which base64 and our text cannot produce together
 * at a line start. The caller free()s it. */
static char *_mime_message(const fp_config_t *cfg, unsigned long id,
			   const char *subject, char **rcpt, int nrcpt,
			   const char *text, const char *html)
{
	bool alt = cfg->mail_html == FP_MAIL_HTML_ALTERNATIVE;
	char boundary[96], disposition[96], *msg = NULL, *to = NULL;
	size_t len = 0, tolen = 0;
	FILE *f = open_memstream(&to, &tolen);

	if (!f)
		return NULL;
	for (int i = 0; i < nrcpt; i++)
		fprintf(f, "%s%s", i ? ", " : "", rcpt[i]);
	if (fclose(f)) {
		free(to);
		return NULL;
	}
	snprintf(boundary, sizeof(boundary), "=_footprint_%lu_%ld_%d", id,
		 (long)time(NULL), (int)getpid());
	snprintf(disposition, sizeof(disposition),
		 "attachment; filename=\"job-%lu.html\"", id);
	if (!(f = open_memstream(&msg, &len))) {
		free(to);
		return NULL;
	}
	_put_header(f, "To", to);
	_put_header(f, "Subject", subject ? subject : "");
	fputs("MIME-Version: 1.0\nAuto-Submitted: auto-generated\n", f);
	fprintf(f, "Content-Type: multipart/%s; boundary=\"%s\"\n\n",
		alt ? "alternative" : "mixed", boundary);
	fputs("This is a MIME message: the job's footprint as text and as a "
	      "web page.\n\n",
	      f);
	_put_part(f, boundary, "text/plain", alt ? NULL : "inline", text);
	_put_part(f, boundary, "text/html", alt ? NULL : disposition, html);
	fprintf(f, "--%s--\n", boundary);
	free(to);
	if (fclose(f)) {
		free(msg);
		return NULL;
	}
	return msg;
}

/* Sends msg with sendmail -oi -- RCPT...; its exit status, 127 when it
 * could not be run. */
static int _run_sendmail(const char *sendmail, char **rcpt, int nrcpt,
			 const char *msg)
{
	char **argv = calloc((size_t)nrcpt + 4, sizeof(*argv));
	int rc;

	if (!argv)
		return 127;
	argv[1] = "-oi";
	argv[2] = "--";
	for (int i = 0; i < nrcpt; i++)
		argv[3 + i] = rcpt[i];
	rc = _run_mailer(sendmail, argv, msg);
	free(argv);
	return rc;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *subject = NULL, *mailer = FALLBACK_MAILER;
	char **margv = calloc((size_t)argc + 1, sizeof(*margv));
	char conf_path[4096], sbuf[4096], *section = NULL, *body = NULL;
	char *html = NULL, **rcpt = calloc((size_t)argc + 1, sizeof(*rcpt));
	fp_config_t *cfg = NULL;
	fp_error_t err = { 0 };
	unsigned long id;
	int margc = 1, nrcpt = 0, rc;
	bool footprint;

	if (!margv || !rcpt)
		return 1;
	/* --config is ours; everything else goes to the mailer unchanged. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--config=", 9)) {
			config = argv[i] + 9;
			continue;
		}
		if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			subject = argv[i + 1];
			margv[margc++] = argv[i++];
		} else if (argv[i][0] != '-') {
			/* mail(1)'s recipients: what sendmail is given */
			rcpt[nrcpt++] = argv[i];
		}
		margv[margc++] = argv[i];
	}
	margv[margc] = NULL;
	signal(SIGPIPE, SIG_IGN);
	/* The mailer (and what it runs) needs a PATH; slurmctld gives none. */
	setenv("PATH",
	       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	       "/sbin:/bin",
	       0);

	if (fp_report_conf_path(config, getenv("FOOTPRINT_CONF"),
				_slurm_conf(sbuf, sizeof(sbuf)), conf_path,
				sizeof(conf_path)) == 0)
		cfg = fp_config_load(conf_path, &err);
	else
		snprintf(err.msg, sizeof(err.msg), "out of memory");
	if (!cfg)
		_note("%s; mailing with %s", err.msg, FALLBACK_MAILER);
	else if (cfg->mailer && *cfg->mailer)
		mailer = cfg->mailer;

	footprint = _wants_footprint(getenv("SLURM_JOB_MAIL_TYPE"), subject);
	id = footprint ? _job_id(subject) : 0;
	if (!footprint || !id) {
		/* Began, Requeued, time limits...: exactly the mail slurmctld
		 * asked for. */
		rc = _run_mailer(mailer, margv, NULL);
		if (rc != 0 && strcmp(mailer, FALLBACK_MAILER))
			rc = _run_mailer(FALLBACK_MAILER, margv, NULL);
		goto out;
	}
	if (cfg) {
		section = _footprint_section(
			cfg, id,
			cfg->mail_html != FP_MAIL_HTML_NO && nrcpt ? &html
								   : NULL);
	} else {
		char why[600];

		snprintf(why, sizeof(why), "footprint.conf %s cannot be read",
			 conf_path);
		section = fp_report_mail_unavailable(id, why);
	}
	{
		size_t len;
		char *in = _read_stdin(&len);

		/* Their text first, then a blank line and ours. */
		if (asprintf(&body, "%s%s%s%s", len ? in : "",
			     len && in[len - 1] != '\n' ? "\n" : "",
			     len ? "\n" : "", section ? section : "") < 0)
			body = NULL;
		free(in);
	}
	if (html && body) {
		char *msg = _mime_message(cfg, id, subject, rcpt, nrcpt, body,
					  html);

		rc = msg ? _run_sendmail(cfg->sendmail, rcpt, nrcpt, msg) : 127;
		free(msg);
		if (rc == 0)
			goto out;
		_note("%s exited with %d; mailing the text with %s",
		      cfg->sendmail, rc, mailer);
	}
	rc = _run_mailer(mailer, margv, body ? body : "");
	if (rc != 0 && strcmp(mailer, FALLBACK_MAILER)) {
		_note("%s exited with %d; mailing with %s", mailer, rc,
		      FALLBACK_MAILER);
		rc = _run_mailer(FALLBACK_MAILER, margv, body ? body : "");
	}
out:
	free(section);
	free(body);
	free(html);
	free(rcpt);
	free(margv);
	fp_config_free(cfg);
	return rc;
}
