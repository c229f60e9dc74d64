/* A GPU vendor's library (NVML, AMD SMI) loaded at run time: opened, its
 * symbols looked up, closed, each fault named with the vendor and path. */
#include "gpu_backend.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fp_gpu_lib_open(fp_gpu_lib_t *l, const char *vendor, const char *path,
		    char *why, size_t whysize)
{
	const char *e;

	memset(l, 0, sizeof(*l));
	l->vendor = vendor;
	if (!(l->path = strdup(path)))
		return -2;
	l->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!l->dl) {
		e = dlerror();
		snprintf(why, whysize, "%s %s: cannot load: %s", vendor, path,
			 e ? e : "unknown error");
		free(l->path);
		l->path = NULL;
		return -1;
	}
	return 0;
}

void *fp_gpu_lib_sym(const fp_gpu_lib_t *l, const char *name, bool required,
		     char *why, size_t whysize)
{
	void *p = dlsym(l->dl, name);

	if (!p && required)
		snprintf(why, whysize, "%s %s: no %s", l->vendor, l->path,
			 name);
	return p;
}

void fp_gpu_lib_close(fp_gpu_lib_t *l)
{
	if (l->dl)
		dlclose(l->dl);
	free(l->path);
	memset(l, 0, sizeof(*l));
}
