/*
 * shieldd: the SHIELD daemon.  A thin main over daemon.c, so that tests can
 * link everything else.
 */
#include <string.h>

#include "daemon.h"

int
main(int argc, char **argv)
{
	struct shieldd d;
	int rc;

	memset(&d, 0, sizeof d);
	d.lock_fd = -1;
	rc = shieldd_configure(&d.cfg, argc, argv);
	if (rc != 0) {
		shieldd_config_clear(&d.cfg);
		return rc > 0 ? 0 : 1;
	}
	if (shieldd_start(&d) != 0) {
		shieldd_free(&d);
		return 1;
	}
	rc = shieldd_run(&d);
	shieldd_free(&d);
	return rc;
}
