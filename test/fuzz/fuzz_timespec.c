/*
 * libFuzzer target for the timespec parser: any bytes must parse or fail
 * cleanly; whatever parses must print a canonical form that parses back to
 * an equal schedule and have a next run after an instant taken from the
 * input, within 1970-2100.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timespec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse one input and check the invariants of what parses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	char text[512], err[TIMESPEC_ERR_MAX], canon[TIMESPEC_CANONICAL_MAX];
	char again[TIMESPEC_CANONICAL_MAX];
	struct tspec ts, back;
	uint64_t seed = 0;
	int64_t after, next;
	size_t i, n;

	if (!initialized) {
		/* A zone with DST, so next() meets its transitions. */
		setenv("TZ", "America/New_York", 1);
		tzset();
		initialized = 1;
	}
	n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	if (timespec_parse(text, &ts, err, sizeof err) != 0) {
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			abort();
		return 0;
	}
	if (timespec_canonical(&ts, canon, sizeof canon) <= 0 ||
	    timespec_parse(canon, &back, err, sizeof err) != 0 ||
	    !timespec_equal(&ts, &back) ||
	    timespec_canonical(&back, again, sizeof again) <= 0 ||
	    strcmp(canon, again) != 0)
		abort();
	for (i = 0; i < size; i++)
		seed = seed * 131 + data[i];
	/* An instant between 1970 and 2100. */
	after = (int64_t)(seed % 4102444800ULL);
	for (i = 0; i < 3; i++) {
		next = timespec_next(&ts, after);
		if (next <= after)
			abort();
		after = next;
	}
	return 0;
}
