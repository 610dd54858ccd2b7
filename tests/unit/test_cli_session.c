/*
 * Unit tests for cli/session.c: where the session token is kept, with what
 * permissions, and that $KITH_SESSION overrides the file.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../cli/session.c"

static char dir[] = "/tmp/kith-test-session-XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(sodium_init() >= 0, 1);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    unsetenv("KITH_SESSION");
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cli_session, .init = setup, .fini = teardown);

Test(cli_session, save_load_forget)
{
    char token[SESSION_TOKEN_MAX], name[SESSION_NAME_MAX], path[4096];
    struct stat st;

    cr_assert_eq(session_load("/run/a/kithd.sock", token, name), -ENOENT);
    cr_assert_eq(session_save("/run/a/kithd.sock", "00ff11ee", "alice"), 0);
    cr_assert_eq(session_load("/run/a/kithd.sock", token, name), 0);
    cr_assert_str_eq(token, "00ff11ee");
    cr_assert_str_eq(name, "alice");

    cr_assert_eq(session_path("/run/a/kithd.sock", path, sizeof(path)), 0);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    char d[4096];
    snprintf(d, sizeof(d), "%s/kith", dir);
    cr_assert_eq(stat(d, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);

    cr_assert_eq(session_forget("/run/a/kithd.sock"), 0);
    cr_assert_eq(session_load("/run/a/kithd.sock", token, name), -ENOENT);
    cr_assert_eq(session_forget("/run/a/kithd.sock"), 0);
}

Test(cli_session, each_socket_has_its_own_file)
{
    char token[SESSION_TOKEN_MAX], name[SESSION_NAME_MAX], p1[4096], p2[4096];

    cr_assert_eq(session_save("/run/a/kithd.sock", "aa", "alice"), 0);
    cr_assert_eq(session_save("/run/b/kithd.sock", "bb", "bob"), 0);
    cr_assert_eq(session_load("/run/a/kithd.sock", token, name), 0);
    cr_assert_str_eq(token, "aa");
    cr_assert_eq(session_load("/run/b/kithd.sock", token, name), 0);
    cr_assert_str_eq(token, "bb");
    cr_assert_str_eq(name, "bob");
    cr_assert_eq(session_path("/run/a/kithd.sock", p1, sizeof(p1)), 0);
    cr_assert_eq(session_path("/run/b/kithd.sock", p2, sizeof(p2)), 0);
    cr_assert_str_neq(p1, p2);
    /* The name is a hash: it says nothing about where the node is. */
    cr_assert_null(strstr(p1, "run/a"));
}

Test(cli_session, relative_socket_path_means_the_same_node)
{
    char p1[4096], p2[4096], cwd[4096];

    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(session_path("kithd.sock", p1, sizeof(p1)), 0);
    char abs[4200];
    snprintf(abs, sizeof(abs), "%s/kithd.sock", dir);
    cr_assert_eq(session_path(abs, p2, sizeof(p2)), 0);
    cr_assert_str_eq(p1, p2);
    cr_assert_eq(chdir(cwd), 0);
}

Test(cli_session, env_overrides_the_file)
{
    char token[SESSION_TOKEN_MAX], name[SESSION_NAME_MAX];

    cr_assert_eq(session_save("/run/a/kithd.sock", "aa", "alice"), 0);
    setenv("KITH_SESSION", "cafe", 1);
    cr_assert_eq(session_load("/run/a/kithd.sock", token, name), 0);
    cr_assert_str_eq(token, "cafe");
    cr_assert_str_eq(name, "");
}

Test(cli_session, home_cache_when_no_runtime_dir)
{
    char path[4096], want[4200];

    unsetenv("XDG_RUNTIME_DIR");
    setenv("HOME", dir, 1);
    cr_assert_eq(session_save("/x/kithd.sock", "aa", "alice"), 0);
    cr_assert_eq(session_path("/x/kithd.sock", path, sizeof(path)), 0);
    snprintf(want, sizeof(want), "%s/.cache/kith/session-", dir);
    cr_assert_eq(strncmp(path, want, strlen(want)), 0);
    cr_assert_eq(access(path, R_OK), 0);
    unsetenv("HOME");
    cr_assert_eq(session_path("/x/kithd.sock", path, sizeof(path)), -ENOENT);
}

Test(cli_session, refuses_newlines_and_damaged_files)
{
    char token[SESSION_TOKEN_MAX], name[SESSION_NAME_MAX], path[4096];

    cr_assert_eq(session_save("/s", "a\nb", "alice"), -EINVAL);
    cr_assert_eq(session_save("/s", "ab", "al\nice"), -EINVAL);
    cr_assert_eq(session_save("/s", "", "alice"), -EINVAL);
    cr_assert_eq(session_save("/s", "ab", "alice"), 0);
    cr_assert_eq(session_path("/s", path, sizeof(path)), 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("no newline at all", f);
    fclose(f);
    cr_assert_eq(session_load("/s", token, name), -EPROTO);
}
