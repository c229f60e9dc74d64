/* libfootprint's whole public API in one include: the node half (what a
 * node measured and how it is shared among its steps) and the carbon half
 * (what a job's energy emitted, signed). Each header also compiles alone. */
#ifndef FP_FOOTPRINT_H
#define FP_FOOTPRINT_H

/* shared by both halves */
#include "error.h"
#include "file.h"
#include "json.h"
#include "utf8.h"
#include "option.h"
#include "iso8601.h"
#include "sample.h"
#include "source.h"
#include "step.h"

/* the node half: powercap, CPUs, activity, meters and GPUs to each step's energy */
#include "rapl.h"
#include "topology.h"
#include "activity.h"
#include "sensor.h"
#include "gpu.h"
#include "engine.h"
#include "trace.h"
#include "publish.h"
#include "metrics.h"
#include "poller.h"

/* the carbon half: footprint.conf, intensity series, the footprint, its summary and signature */
#include "config.h"
#include "series.h"
#include "feed.h"
#include "carbon.h"
#include "summary.h"
#include "sign.h"
#include "watermark.h"
#include "whatif.h"
#include "site_metrics.h"
#include "slurmconf.h"
#include "report.h"
#include "report_html.h"

#endif
