/*
 * shieldd: the SHIELD daemon.  A thin main; the daemon lives in daemon.c.
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "shieldd: not built yet\n");
	return 1;
}
