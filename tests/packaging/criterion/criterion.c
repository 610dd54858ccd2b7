/*
 * The runner of the Criterion stand-in (include/criterion/criterion.h):
 * main() runs every registered test in a child process (suite init, test
 * init, the test, test fini, suite fini, under an alarm when a timeout is
 * set), prints one line per test that did not pass and Criterion's
 * "Synthesis" line, and exits 1 if any test failed or crashed. Command-line
 * arguments (ctest passes --jobs 2) are ignored; tests run one at a time.
 * CRS_TIMEOUT_SCALE multiplies every timeout (emulated CPUs are slower).
 * CRS_EXCLUDE lists tests not to run, as suite::name separated by spaces;
 * they count as skipped.
 */
#include "criterion/criterion.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CRS_MAX 1024
#define CRS_SKIPPED 77

struct crs_test {
    const char *suite;
    const char *name;
    void (*fn)(void);
    const struct criterion_test_extra_data *extra;
};

struct crs_suite {
    const char *name;
    const struct criterion_test_extra_data *extra;
};

static struct crs_test tests[CRS_MAX];
static size_t n_tests;
static struct crs_suite suites[CRS_MAX];
static size_t n_suites;

/* In the child: the test being run, for the finis after a failure. */
static const struct crs_test *current;
static const struct criterion_test_extra_data *current_suite;
static int expect_failed;
static int in_fini;

void crs_register_test(const char *suite, const char *name, void (*fn)(void),
                       const struct criterion_test_extra_data *extra)
{
    if (n_tests == CRS_MAX) {
        fprintf(stderr, "criterion stand-in: more than %d tests\n", CRS_MAX);
        exit(2);
    }
    tests[n_tests++] = (struct crs_test){suite, name, fn, extra};
}

void crs_register_suite(const char *suite, const struct criterion_test_extra_data *extra)
{
    if (n_suites == CRS_MAX) {
        fprintf(stderr, "criterion stand-in: more than %d suites\n", CRS_MAX);
        exit(2);
    }
    suites[n_suites++] = (struct crs_suite){suite, extra};
}

static const struct criterion_test_extra_data *find_suite(const char *name)
{
    for (size_t i = 0; i < n_suites; i++)
        if (strcmp(suites[i].name, name) == 0)
            return suites[i].extra;
    return NULL;
}

static void run_finis(void)
{
    if (in_fini)
        return;
    in_fini = 1;
    if (current->extra->fini)
        current->extra->fini();
    if (current_suite && current_suite->fini)
        current_suite->fini();
}

static void report(const char *file, int line, const char *expr, const char *fmt, va_list ap)
{
    fprintf(stderr, "[FAIL] %s::%s: %s:%d: %s", current->suite, current->name, file, line, expr);
    if (fmt[0] != '\0') {
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
    }
    fputc('\n', stderr);
}

void crs_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(file, line, expr, fmt, ap);
    va_end(ap);
    run_finis();
    _exit(1);
}

void crs_expect_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(file, line, expr, fmt, ap);
    va_end(ap);
    expect_failed = 1;
}

void crs_skip(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "[SKIP] %s::%s: ", current->suite, current->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    run_finis();
    _exit(CRS_SKIPPED);
}

void crs_log(const char *fmt, ...)
{
    va_list ap;

    fputs("[----] ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int excluded(const struct crs_test *t)
{
    const char *list = getenv("CRS_EXCLUDE");
    size_t ls = strlen(t->suite), ln = strlen(t->name);

    while (list && *list) {
        size_t len = strcspn(list, " ");
        if (len == ls + 2 + ln && strncmp(list, t->suite, ls) == 0 &&
            strncmp(list + ls, "::", 2) == 0 && strncmp(list + ls + 2, t->name, ln) == 0)
            return 1;
        list += len;
        list += strspn(list, " ");
    }
    return 0;
}

static void run_child(const struct crs_test *t)
{
    double timeout = t->extra->timeout;

    current = t;
    current_suite = find_suite(t->suite);
    if (timeout <= 0 && current_suite)
        timeout = current_suite->timeout;
    if (timeout > 0 && getenv("CRS_TIMEOUT_SCALE"))
        timeout *= atof(getenv("CRS_TIMEOUT_SCALE"));
    if (timeout > 0)
        alarm((unsigned)timeout + 1);
    if (current_suite && current_suite->init)
        current_suite->init();
    if (t->extra->init)
        t->extra->init();
    t->fn();
    run_finis();
    fflush(NULL);
    _exit(expect_failed ? 1 : 0);
}

int main(void)
{
    int passed = 0, failed = 0, crashed = 0, skipped = 0;

    for (size_t i = 0; i < n_tests; i++) {
        const struct crs_test *t = &tests[i];
        int status;
        pid_t pid;

        if (excluded(t)) {
            fprintf(stderr, "[SKIP] %s::%s: in CRS_EXCLUDE\n", t->suite, t->name);
            skipped++;
            continue;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0)
            run_child(t);
        if (waitpid(pid, &status, 0) < 0) {
            perror("waitpid");
            return 2;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == CRS_SKIPPED) {
            skipped++;
        } else if (WIFEXITED(status)) {
            failed++;
        } else {
            int sig = WTERMSIG(status);
            fprintf(stderr, "[FAIL] %s::%s: %s\n", t->suite, t->name,
                    sig == SIGALRM ? "timed out" : strsignal(sig));
            crashed++;
        }
    }
    fprintf(stderr,
            "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d | "
            "Skipped: %d\n",
            passed + failed + crashed, passed, failed, crashed, skipped);
    return failed + crashed > 0 ? 1 : 0;
}
