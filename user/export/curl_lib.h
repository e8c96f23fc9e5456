/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded when the first OTLP exporter starts instead of with glimpse: its TLS and
 * directory stack (OpenSSL, Kerberos, LDAP, SSH, ...: ~3.6 MB resident once the loader has
 * relocated it) then stays out of every glimpse that exports nothing, and out of the
 * short-lived child that loads BPF objects (base/bpf_child.h). Compiled against, not linked
 * (as capstone: binfmt/disasm.c). */
#ifndef GLIMPSE_EXPORT_CURL_LIB_H
#define GLIMPSE_EXPORT_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

struct curl_lib {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* Loads and initialises libcurl once (any thread); NULL, with the reason in err, when it
 * cannot. The table lives as long as glimpse. */
const struct curl_lib *curl_lib_load(char *err, size_t errlen);
/* The table once curl_lib_load succeeded (every exporter exists only after that). */
const struct curl_lib *curl_lib(void);

#endif
