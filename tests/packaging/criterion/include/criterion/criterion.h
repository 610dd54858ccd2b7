/*
 * A small stand-in for Criterion's test API, for the unit test runs under
 * qemu (tests/packaging/cross-test.sh). Debian has no Criterion for armhf,
 * and its arm64 Criterion cannot be installed next to the amd64 one
 * (libnanomsg5 and libgit2-dev are not Multi-Arch: same). It covers what
 * tests/unit uses: Test and TestSuite with .init, .fini and .timeout, the
 * cr_assert_* family, cr_expect_eq, cr_skip_test and cr_log_info. Each test
 * runs in its own process, as with Criterion. Not for native builds: they
 * use Debian's Criterion.
 */
#ifndef KITH_CRITERION_STANDIN_H
#define KITH_CRITERION_STANDIN_H

#include <stddef.h>
#include <string.h>

struct criterion_test_extra_data {
    int unused_;
    void (*init)(void);
    void (*fini)(void);
    double timeout;
};

void crs_register_test(const char *suite, const char *name, void (*fn)(void),
                       const struct criterion_test_extra_data *extra);
void crs_register_suite(const char *suite, const struct criterion_test_extra_data *extra);
__attribute__((noreturn)) void crs_fail(const char *file, int line, const char *expr,
                                        const char *fmt, ...);
void crs_expect_fail(const char *file, int line, const char *expr, const char *fmt, ...);
__attribute__((noreturn)) void crs_skip(const char *fmt, ...);
void crs_log(const char *fmt, ...);

#define Test(suite, name, ...)                                                                     \
    static void crs_fn_##suite##_##name(void);                                                     \
    static const struct criterion_test_extra_data crs_extra_##suite##_##name = {.unused_ = 0,      \
                                                                                __VA_ARGS__};      \
    __attribute__((constructor)) static void crs_reg_##suite##_##name(void)                        \
    {                                                                                              \
        crs_register_test(#suite, #name, crs_fn_##suite##_##name, &crs_extra_##suite##_##name);    \
    }                                                                                              \
    static void crs_fn_##suite##_##name(void)

#define TestSuite(suite, ...)                                                                      \
    static const struct criterion_test_extra_data crs_suite_##suite = {.unused_ = 0, __VA_ARGS__}; \
    __attribute__((constructor)) static void crs_regsuite_##suite(void)                            \
    {                                                                                              \
        crs_register_suite(#suite, &crs_suite_##suite);                                            \
    }

/* how: crs_fail (stops the test) or crs_expect_fail (marks it failed). */
#define CRS_CHECK_(how, cond, expr, ...)                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            how(__FILE__, __LINE__, expr, "" __VA_ARGS__);                                         \
    } while (0)

#define cr_assert(c, ...) CRS_CHECK_(crs_fail, (c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) CRS_CHECK_(crs_fail, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_fail(...) CRS_CHECK_(crs_fail, 0, "cr_assert_fail", __VA_ARGS__)
#define cr_assert_null(p, ...) CRS_CHECK_(crs_fail, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) CRS_CHECK_(crs_fail, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_eq(a, b, ...) CRS_CHECK_(crs_fail, (a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) CRS_CHECK_(crs_fail, (a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) CRS_CHECK_(crs_fail, (a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) CRS_CHECK_(crs_fail, (a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) CRS_CHECK_(crs_fail, (a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) CRS_CHECK_(crs_fail, (a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)                                                                \
    CRS_CHECK_(crs_fail, strcmp((a), (b)) == 0, "strcmp(" #a ", " #b ") == 0", __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...)                                                               \
    CRS_CHECK_(crs_fail, strcmp((a), (b)) != 0, "strcmp(" #a ", " #b ") != 0", __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...)                                                             \
    CRS_CHECK_(crs_fail, memcmp((a), (b), (n)) == 0, "memcmp(" #a ", " #b ", " #n ") == 0",        \
               __VA_ARGS__)
#define cr_assert_arr_neq(a, b, n, ...)                                                            \
    CRS_CHECK_(crs_fail, memcmp((a), (b), (n)) != 0, "memcmp(" #a ", " #b ", " #n ") != 0",        \
               __VA_ARGS__)
#define cr_expect_eq(a, b, ...) CRS_CHECK_(crs_expect_fail, (a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_skip_test(...) crs_skip("" __VA_ARGS__)
#define cr_log_info(...) crs_log(__VA_ARGS__)

#endif
