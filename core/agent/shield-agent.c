/*
 * shield-agent: runs SHIELD target plugins on a data host on behalf of the
 * core, over mutually authenticated TLS.  A thin main over agentd.c.
 */
#include <stddef.h>

#include "agentd.h"

int
main(int argc, char **argv)
{
	struct agentd_config cfg;
	struct agentd *d;
	int rc;

	rc = agentd_configure(&cfg, argc, argv);
	if (rc != 0) {
		agentd_config_clear(&cfg);
		return rc > 0 ? 0 : 1;
	}
	if ((d = agentd_start(&cfg)) == NULL) {
		agentd_config_clear(&cfg);
		return 1;
	}
	rc = agentd_run(d);
	agentd_free(d);
	agentd_config_clear(&cfg);
	return rc;
}
