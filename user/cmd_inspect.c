/* glimpse inspect: what glimpse attach would hook in a Go binary, and with which offsets. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "exit_codes.h"
#include "go_target.h"
#include "procfs.h"

static const char usage[] =
	"Usage: glimpse inspect (BINARY | -p PID) [--offsets-row]\n"
	"\n"
	"Shows a Go binary's version, the struct offsets glimpse would use (from DWARF, or its\n"
	"table for stripped binaries) and the functions and return points it would probe.\n"
	"  -p, --pid PID      inspect a running process's executable\n"
	"      --offsets-row  print only the offsets as a row of user/go_offsets_table.h\n"
	"  -h, --help         this help\n";

enum { OPT_OFFSETS_ROW = CLI_OPT_FIRST_PRIVATE };

static void print_hook(const struct go_hook *h)
{
	if (!h->found) {
		printf("  %-36s not in the binary\n", h->function);
		return;
	}
	printf("  %-36s entry at file offset 0x%llx, %u return(s):", h->function,
	       (unsigned long long)h->entry_offset, h->nrets);
	for (uint32_t i = 0; i < h->nrets; i++)
		printf(" 0x%llx", (unsigned long long)h->ret_offsets[i]);
	printf("\n");
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "offsets-row", no_argument, NULL, OPT_OFFSETS_ROW },
		CLI_COMMON_LONG_OPTIONS,
		{ 0 },
	};
	pid_t pid = 0;
	bool row = false;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:vh", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'p':
			if (!parse_pid(optarg, &pid))
				cli_usage_error("inspect", "-p: '%s' is not a process ID", optarg);
			break;
		case OPT_OFFSETS_ROW: row = true; break;
		case 'h': fputs(usage, stdout); return GLIMPSE_EXIT_OK;
		case ':': cli_usage_error("inspect", "%s needs a value", argv[optind - 1]);
		default: cli_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
		}
	}
	cli_apply_common();
	if ((pid == 0) == (optind >= argc) || optind + 1 < argc)
		cli_usage_error("inspect", "give exactly one BINARY or -p PID");
	struct go_target t;
	int rc = pid ? go_target_open(pid, &t) : go_target_open_file(argv[optind], &t);
	if (rc)
		return rc;
	const struct go_http_offsets *o = &t.offsets;
	if (row) {
		int major, minor;
		if (sscanf(t.go_version, "go%d.%d", &major, &minor) != 2)
			return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
		printf("\t{ \"%d.%d\", { %d, %d, %d, %d, %d, %d, %d, %d } },\n", major, minor, o->request_method,
		       o->request_url, o->request_pat, o->pattern_str, o->url_path, o->url_host,
		       o->response_status, o->response_statuscode);
		return 0;
	}
	printf("binary:      %s\n", t.binary);
	printf("go version:  %s\n", t.go_version);
	printf("offsets:     from %s\n", t.offsets_source);
	printf("  net/http.Request.Method %d, .URL %d, .pat %d; net/http.pattern.str %d\n", o->request_method,
	       o->request_url, o->request_pat, o->pattern_str);
	printf("  net/url.URL.Path %d, .Host %d; net/http.response.status %d; net/http.Response.StatusCode %d\n",
	       o->url_path, o->url_host, o->response_status, o->response_statuscode);
	printf("probes:\n");
	print_hook(&t.server);
	print_hook(&t.client);
	return 0;
}
