// SPDX-License-Identifier: Apache-2.0
#include "export/curl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct curl_lib lib;
static const struct curl_lib *loaded;
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, sizeof(why), "libcurl is not installed (%s)", dlerror());
		return;
	}
	CURLcode (*global_init)(long flags);
	*(void **)&global_init = dlsym(h, "curl_global_init");
	*(void **)&lib.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&lib.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&lib.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&lib.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&lib.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&lib.easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&lib.slist_append = dlsym(h, "curl_slist_append");
	*(void **)&lib.slist_free_all = dlsym(h, "curl_slist_free_all");
	if (!global_init || !lib.easy_init || !lib.easy_setopt || !lib.easy_perform || !lib.easy_getinfo ||
	    !lib.easy_cleanup || !lib.easy_strerror || !lib.slist_append || !lib.slist_free_all) {
		snprintf(why, sizeof(why), "the libcurl found lacks a function glimpse uses");
		dlclose(h);
		return;
	}
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof(why), "libcurl failed to initialise");
		return; /* stays loaded: a library may not be unloaded after a failed init */
	}
	loaded = &lib;
}

const struct curl_lib *curl_lib_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", why);
	return loaded;
}

const struct curl_lib *curl_lib(void)
{
	return loaded;
}
