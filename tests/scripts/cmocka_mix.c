// SPDX-License-Identifier: MIT
/* A cmocka program for test_summary.py: with no argument one test passes
 * and one calls skip(), as on a host without io_uring; with "fail" a third
 * fails; with "crash" the second test dies before cmocka reports it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const char *mode = "";

static void test_passes(void **state)
{
	(void)state;
}

static void test_skips(void **state)
{
	(void)state;
	if (!strcmp(mode, "crash"))
		raise(SIGKILL);
	skip();
}

static void test_fails(void **state)
{
	(void)state;
	if (!strcmp(mode, "fail"))
		fail_msg("failing on purpose");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passes),
		cmocka_unit_test(test_skips),
		cmocka_unit_test(test_fails),
	};

	if (argc > 1)
		mode = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
