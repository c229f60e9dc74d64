/* Where a node's energy came from over an interval (trace-v1, step 4):
 * the names the engine, the nodes' step records and the summary share. */
#ifndef FP_SOURCE_H
#define FP_SOURCE_H

typedef enum fp_source {
	FP_SOURCE_WALL = 0,
	FP_SOURCE_PSYS,
	FP_SOURCE_CALIBRATED,
	FP_SOURCE_RAPL,
	FP_SOURCE_COUNT
} fp_source_t;

/* "wall", "psys", "calibrated", "rapl" ("unknown" out of range). */
static inline const char *fp_source_name(fp_source_t source)
{
	switch (source) {
	case FP_SOURCE_WALL:
		return "wall";
	case FP_SOURCE_PSYS:
		return "psys";
	case FP_SOURCE_CALIBRATED:
		return "calibrated";
	case FP_SOURCE_RAPL:
		return "rapl";
	default:
		return "unknown";
	}
}

#endif
