/* GPU energy readers behind one interface: NVIDIA through NVML and AMD through
 * AMD SMI (both loaded at run time), amdgpu and i915/xe through hwmon. */
#ifndef FP_GPU_H
#define FP_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FP_GPU_DEFAULT_HWMON_ROOT "/sys/class/hwmon"
#define FP_GPU_DEFAULT_NVML_LIB "libnvidia-ml.so.1"
/* ROCm's name for it (/opt/rocm/lib, on the loader's path with ROCm's
 * ld.so.conf.d entry). */
#define FP_GPU_DEFAULT_AMDSMI_LIB "libamd_smi.so"

/* No accelerator draws this much (a GB200 superchip is ~2.7 kW): a counter
 * that went down is a wrap only if the energy that implies fits under it
 * over the time since the previous read; otherwise it is a reset. */
#define FP_GPU_MAX_W 10000.0

typedef enum fp_gpu_vendor {
	FP_GPU_NVIDIA,
	FP_GPU_AMD,
	FP_GPU_INTEL,
} fp_gpu_vendor_t;

typedef enum fp_gpu_source {
	FP_GPU_COUNTER,	       /* the device's own cumulative energy */
	FP_GPU_POWER_INTEGRAL, /* the reader's trapezoid of power readings */
} fp_gpu_source_t;

/* fp_gpu_info_t.flags */
/* An APU whose GPU power includes the CPU cores (AMD MI300A-style, and the
 * socket power amdgpu reports on Ryzen APUs): the same joules are in the
 * RAPL package domain. Adding this device's energy to RAPL counts them
 * twice; a caller must use one or the other. Detected by PCI device id
 * (a known list: an APU not in it is not flagged). */
#define FP_GPU_APU 0x1u
/* NVIDIA MIG mode is on but NVML lists no MIG instance on it: the GPU is
 * read as one device, as without MIG. */
#define FP_GPU_MIG 0x2u
/* A MIG instance (a "MIG-..." UUID): NVML has energy only for its parent
 * GPU, so the instance's energy is its share (fp_gpu_info_t.share) of the
 * parent's, read once; the instances of one GPU sum to it exactly. The
 * parent itself is not a device: its instances stand in its place. */
#define FP_GPU_MIG_INSTANCE 0x4u

typedef struct fp_gpu_info {
	size_t index; /* 0..n-1: NVML devices in NVML order (a GPU
				 * in MIG mode replaced by its instances in
				 * NVML's MIG order), then AMD SMI and hwmon
				 * devices by PCI address */
	fp_gpu_vendor_t vendor;
	/* Stable id as trace-v1 records it: the NVML UUID ("GPU-...", or
	 * "MIG-..." for a MIG instance), or
	 * the PCI address for AMD SMI and hwmon devices (one id whichever
	 * of the two reads an AMD GPU). */
	const char *uuid;
	const char *pci;  /* "0000:3b:00.0" (lower case), "" if unknown */
	const char *name; /* NVML name, amdgpu product_name, or driver */
	const char *path; /* hwmon directory, "nvml <lib> #i" or
				 * "amdsmi <lib> <pci>" */
	fp_gpu_source_t source;
	unsigned flags;
	/* FP_GPU_MIG_INSTANCE only ("" and 0 otherwise): the parent GPU's
	 * UUID and NVML index, the instance's SMs (nvmlDeviceGetAttributes,
	 * 0 if unknown). */
	const char *parent_uuid;
	unsigned parent_nvml_index;
	unsigned sm_count;
	/* The part of its GPU's energy this device is given: 1 for a whole
	 * GPU; a MIG instance's SMs over those of its GPU's instances (equal
	 * parts when any of them is unknown). */
	double share;
} fp_gpu_info_t;

typedef struct fp_gpu_opts {
	/* /sys/class/hwmon (hwmonN entries with name and device link) or
	 * /sys/class/drm (cardN/device/hwmon/hwmonM). NULL:
	 * FP_GPU_DEFAULT_HWMON_ROOT; "": no hwmon devices. */
	const char *hwmon_root;
	/* dlopen()ed at fp_gpu_open. NULL: FP_GPU_DEFAULT_NVML_LIB; "": no
	 * NVML. */
	const char *nvml_lib;
	/* dlopen()ed at fp_gpu_open. NULL: FP_GPU_DEFAULT_AMDSMI_LIB; "": no
	 * AMD SMI. An AMD GPU it gives an energy counter for is read through
	 * it, not through its hwmon power. */
	const char *amdsmi_lib;
	fp_log_fn log; /* may be NULL */
	void *log_ctx;
} fp_gpu_opts_t;

typedef struct fp_gpu fp_gpu_t;

/* Discovers every readable GPU. A vendor that is absent (no NVML library,
 * NVML without a driver, no GPU hwmon; no AMD SMI where hwmon has amdgpu
 * devices) is logged once at FP_LOG_INFO; a
 * device that cannot be read at open is logged and skipped. Returns NULL with
 * FP_ENOTSUP and a message naming each root and library tried (and why,
 * e.g. dlerror()) when no device is found; never crashes on a missing or
 * broken library. opts may be NULL (defaults). */
fp_gpu_t *fp_gpu_open(const fp_gpu_opts_t *opts, fp_error_t *err);
/* Shuts NVML and AMD SMI down and unloads them; NULL is a no-op. */
void fp_gpu_close(fp_gpu_t *gpu);

size_t fp_gpu_ndevices(const fp_gpu_t *gpu);
/* Device i, owned by gpu (NULL past the end). */
const fp_gpu_info_t *fp_gpu_device(const fp_gpu_t *gpu, size_t i);
const char *fp_gpu_vendor_name(fp_gpu_vendor_t v); /* nvidia, amd, intel */
const char *fp_gpu_source_name(fp_gpu_source_t s); /* counter,
						       power-integral */

/* What happened to a device's reading at this read. */
typedef enum fp_gpu_event {
	FP_GPU_EV_NONE,
	FP_GPU_EV_BASELINE, /* first valid read: energy starts at 0 */
	FP_GPU_EV_WRAP,	    /* the counter went round once: counted */
	FP_GPU_EV_RESET,    /* the counter went down (driver reload,
				 * device reset): the interval's energy is
				 * unknown; this reading is the new base */
	FP_GPU_EV_FAILED,   /* the read failed (fault says why) */
	FP_GPU_EV_RETURNED, /* valid again after failures: the interval
				 * carries the whole gap */
} fp_gpu_event_t;

typedef struct fp_gpu_reading {
	/* Cumulative energy since fp_gpu_open in µJ, never decreasing: a
	 * wrap adds the counter's range, a reset adds nothing, a failed read
	 * holds the last value. */
	uint64_t energy_uj;
	/* false for a failed read and for a reset (no value for the
	 * interval: trace-v1 writes null). */
	bool valid;
	fp_gpu_event_t event;
	/* Why a read failed, naming device, file or call and fault; owned by
	 * gpu, valid until the next read; "" when valid. */
	const char *fault;
} fp_gpu_reading_t;

/* Reads every device at time t (seconds on a monotonic clock, the
 * caller's; used only to integrate power and to judge wraps) into out[]
 * (fp_gpu_ndevices() long). A device whose read fails is valid=false for
 * this read and comes back when it reads again (a hwmon device that
 * vanished is looked for again by PCI address, an NVML one by UUID, an
 * AMD SMI one by PCI address among AMD SMI's devices); each
 * failing device is logged once until it recovers. err (may be NULL) gets
 * the first fault of this read, FP_EIO. Returns the number of valid
 * readings. Power-integral devices integrate across a gap from the last
 * good reading to the next. */
size_t fp_gpu_read(fp_gpu_t *gpu, double t, fp_gpu_reading_t *out,
		   fp_error_t *err);

/* One process's activity on a GPU since the previous call for that GPU
 * (NVML per-process utilisation samples). */
typedef struct fp_gpu_proc {
	unsigned pid;
	unsigned sm_util;      /* SM (3D/compute) busy, percent */
	unsigned mem_util;     /* frame-buffer memory busy, percent */
	uint64_t timestamp_us; /* the sample's CPU time, µs */
	/* The time this sample covers: since the device's previous sample
	 * (the driver samples all its processes at once), 0 for the earliest
	 * samples of the first call, whose start is unknown. sm_util x period_us is
	 * the process's SM-busy time (FP_GPU_PROC_BUSY_NS). */
	uint64_t period_us;
} fp_gpu_proc_t;

/* SM-busy time of one sample in ns: percent x µs x 1000 / 100. */
#define FP_GPU_PROC_BUSY_NS(p) ((uint64_t)(p)->sm_util * (p)->period_us * 10)

/* Samples of device i newer than the last ones returned, into an array owned
 * by gpu and reused at every call (do not free it). *n = 0 with 0 when
 * there is no new sample. -1 with FP_ENOTSUP for a device or vendor that
 * has no per-process activity (hwmon devices), FP_EIO for a failed call. */
int fp_gpu_procs(fp_gpu_t *gpu, size_t i, const fp_gpu_proc_t **procs,
		 size_t *n, fp_error_t *err);

/* Maps a list of GPU ids, separated by commas, to devices of gpu: a
 * number N is the reader's device N (NVML order, a GPU in MIG mode counted
 * as its instances, then hwmon devices by PCI address, as Slurm's gres.conf
 * AutoDetect orders them); "GPU-..." an NVML UUID, "MIG-..." that MIG
 * instance; a PCI address (0000:3b:00.0 or 3b:00.0, any case) a device at
 * that address; a GPU in MIG mode named by its UUID or PCI address is all
 * its instances; a
 * ZE_AFFINITY_MASK "N.M" (sub-device M of N) device N. Each device once,
 * in the list's order, into out[] (cap long), *n how many. An id that
 * matches no device fails with FP_EINVAL naming it; out then holds the
 * ones that did, and unknown (usize long, NULL: not wanted) every id that
 * matched none, comma-separated (those that fit). */
int fp_gpu_map_ids(const char *list, const fp_gpu_t *gpu, size_t *out,
		   size_t cap, size_t *n, char *unknown, size_t usize,
		   fp_error_t *err);

/* The lowest mean power each GPU of the node was seen at over a window of
 * consecutive polls at least FP_GPU_FLOOR_MIN_S long (its idle floor),
 * against which a GPU a job held is judged idle. Not over one poll: a
 * counter that moves every 50-100 ms reads up to a tenth low over a short
 * one (a step daemon's fresh poll), and a power that low would pass a
 * busy GPU for idle. */
#define FP_GPU_FLOOR_MIN_S 2.0
typedef struct fp_gpu_floor fp_gpu_floor_t;

fp_gpu_floor_t *fp_gpu_floor_new(size_t ngpus);
void fp_gpu_floor_free(fp_gpu_floor_t *f);
/* One poll's cumulative readings (µJ, ngpus long) at t (seconds); an
 * invalid one (valid NULL: all valid) ends that GPU's window without a
 * power, as does a counter that went down. */
void fp_gpu_floor_push(fp_gpu_floor_t *f, double t, const uint64_t *uj,
		       const bool *valid);
/* GPU g's floor in W; NAN until one window was seen. */
double fp_gpu_floor_w(const fp_gpu_floor_t *f, size_t g);

#endif
