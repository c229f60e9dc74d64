/* A job's energy by part and the GPUs it held, summed over its step
 * records: each GPU's energy, time held, idleness, share of the footprint. */
#include "summary_build.h"

#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"

/* ---- the job's energy by part and the GPUs it held -------------------
 *
 * From the nodes' step records (step.h): each (step, node) gives its
 * energy split into RAPL (packages and DRAM, apart in records since the
 * split), GPU and the rest, and the GPUs it held, each with the step's
 * share of it. An older record has one GPU figure for all its GPUs: it is
 * given to them evenly here, and the GPU says so ("energy_split"). */

static int _span_cmp(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The time covered by the spans: overlapping steps count once. */
static double _union_s(double (*s)[2], size_t n)
{
	double total = 0, a, b;

	if (!n)
		return 0;
	qsort(s, n, sizeof(*s), _span_cmp);
	a = s[0][0];
	b = s[0][1];
	for (size_t i = 1; i < n; i++) {
		if (s[i][0] > b) {
			total += b - a;
			a = s[i][0];
		}
		if (s[i][1] > b)
			b = s[i][1];
	}
	return total + b - a;
}

static struct held *_held_of(struct held **h, size_t *n, const char *node,
			     json_t *g)
{
	json_int_t index = json_integer_value(json_object_get(g, "index"));
	struct held *x;

	for (size_t i = 0; i < *n; i++)
		if ((*h)[i].index == index && !strcmp((*h)[i].node, node))
			return &(*h)[i];
	x = realloc(*h, (*n + 1) * sizeof(**h));
	if (!x)
		return NULL;
	*h = x;
	x = &x[(*n)++];
	memset(x, 0, sizeof(*x));
	x->node = node;
	x->index = index;
	x->gpu = g;
	x->floor_w = NAN;
	x->steps = json_array();
	return x->steps ? x : NULL;
}

static const fp_carbon_node_t *_node_of(const fp_result_t *r, const char *n)
{
	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].node && !strcmp(r->nodes[i].node, n))
			return &r->nodes[i];
	return NULL;
}

static json_t *_gpu_text(json_t *g, const char *k)
{
	json_t *v = json_object_get(g, k);

	return json_is_string(v) ? json_string(json_string_value(v))
				 : json_null();
}

/* One GPU of "gpus": what the node published of it, its share of the
 * job's energy and footprint, and whether it idled through the hold. */
json_t *fp_summary_held_json(const fp_result_t *r, const struct held *h)
{
	const fp_carbon_node_t *n = _node_of(r, h->node);
	double held = _union_s(h->span, h->nspan);
	double mean = held > 0 ? h->energy_j / held : NAN;
	double limit = h->floor_w * FP_GPU_IDLE_RATIO + FP_GPU_IDLE_MARGIN_W;
	double cost = n && n->energy_j > 0
			      ? n->operational_g * h->energy_j / n->energy_j
			      : NAN;
	bool timed = !h->untimed && h->step_s > 0;
	double idle_share = timed ? h->idle_s / h->step_s : NAN;
	double busy_share = timed ? (h->judged_s - h->idle_s) / h->step_s : NAN;
	json_t *idle;

	/* idle for most of the time the job held it; used for at least
	 * half of it; else (its floor unknown or unread too long) not
	 * judged. Records without the times: by the mean power. */
	if (timed)
		idle = idle_share > 0.5	   ? json_true()
		       : busy_share >= 0.5 ? json_false()
					   : json_null();
	else
		idle = isfinite(mean) && isfinite(limit)
			       ? json_boolean(mean <= limit)
			       : json_null();
	return json_pack(
		"{s:s, s:I, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, "
		"s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
		"node", h->node, "index", h->index, "uuid",
		_gpu_text(h->gpu, "uuid"), "model", _gpu_text(h->gpu, "model"),
		"vendor", _gpu_text(h->gpu, "vendor"), "source",
		_gpu_text(h->gpu, "source"), "steps", h->steps, "held_s",
		num(held), "energy_Wh", wh(h->energy_j), "energy_split",
		json_string(h->even ? "even" : "device"), "mean_W", num(mean),
		"floor_W", num(h->floor_w), "idle", idle, "idle_by",
		timed ? "time" : "mean", "idle_share", num(idle_share),
		"unread_share", num(timed ? h->unread_s / h->step_s : NAN),
		"idle_below_W", num(limit), "operational_g", num(cost),
		"footprint_share",
		num(r->footprint_g > 0 ? cost / r->footprint_g : NAN));
}

/* Adds record p to the sums and its GPUs to h; -1 out of memory. */
int fp_summary_held_add(json_t *p, double sum[NPARTS], struct held **h,
			size_t *nh)
{
	static const char *const keys[NPARTS] = { "energy_j", "cpu_dram_j",
						  "gpu_j",    "rest_j",
						  "cpu_j",    "dram_j" };
	const char *node = json_string_value(json_object_get(p, "node"));
	json_t *gpus = json_object_get(p, "gpus"), *g;
	json_t *step = json_object_get(p, "step");
	double end = fp_json_number(p, "last_t");
	double s = fp_json_number(p, "seconds");
	double gpu_j = fp_json_number(p, "gpu_j");
	size_t k;

	for (int i = 0; i < NPARTS; i++)
		/* NAN spreads: unknown (cpu_j, dram_j: a record made
		 * before the split) */
		sum[i] += fp_json_number(p, keys[i]);
	if (!node)
		node = "";
	json_array_foreach(gpus, k, g)
	{
		struct held *x = _held_of(h, nh, node, g);
		double(*span)[2];
		double fl = fp_json_number(g, "floor_w");
		double own = fp_json_number(g, "energy_j");

		if (!x)
			return -1;
		/* the step's share of this GPU, as the node attributed it;
		 * a record without it: its GPU energy evenly */
		if (!isfinite(own)) {
			own = gpu_j / (double)json_array_size(gpus);
			x->even = true;
		}
		x->energy_j += own;
		if (isfinite(fp_json_number(g, "idle_s")) &&
		    isfinite(fp_json_number(g, "judged_s")) &&
		    isfinite(fp_json_number(g, "unread_s")) && isfinite(s)) {
			x->step_s += s;
			x->idle_s += fp_json_number(g, "idle_s");
			x->judged_s += fp_json_number(g, "judged_s");
			x->unread_s += fp_json_number(g, "unread_s");
		} else {
			x->untimed = true;
		}
		/* the floor only goes down: the latest record's is lowest */
		if (isfinite(fl) && !(fl >= x->floor_w))
			x->floor_w = fl;
		if (json_is_string(step) &&
		    json_array_append_new(x->steps,
					  json_string(json_string_value(step))))
			return -1;
		if (!isfinite(end) || !isfinite(s))
			continue;
		span = realloc(x->span, (x->nspan + 1) * sizeof(*span));
		if (!span)
			return -1;
		x->span = span;
		x->span[x->nspan][0] = end - s;
		x->span[x->nspan++][1] = end;
	}
	return 0;
}
