/*
 * Unit tests for cli/body.c: the text of a post from words, stdin and an
 * editor (a real one: a small shell script set as $EDITOR).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/body.c"

static char dir[] = "/tmp/kith-test-body-XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    setenv("XDG_RUNTIME_DIR", dir, 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cli_body, strip_comments)
{
    char t[] = "hello\n# comment\nworld\n#last";
    body_strip_comments(t);
    cr_assert_str_eq(t, "hello\nworld\n");

    char t2[] = " # kept: not at the start\n#gone\n";
    body_strip_comments(t2);
    cr_assert_str_eq(t2, " # kept: not at the start\n");
}

Test(cli_body, trim)
{
    char t[] = "\n  \n\t\nfirst line\n\nsecond  \n\n \t";
    body_trim(t);
    cr_assert_str_eq(t, "first line\n\nsecond");

    char t2[] = "   indented stays";
    body_trim(t2);
    cr_assert_str_eq(t2, "   indented stays");

    char t3[] = " \n\t \n";
    body_trim(t3);
    cr_assert_str_eq(t3, "");
}

Test(cli_body, blank)
{
    cr_assert_eq(body_is_blank(""), 1);
    cr_assert_eq(body_is_blank(" \n\t\r"), 1);
    cr_assert_eq(body_is_blank(" x "), 0);
}

Test(cli_body, words_are_joined_with_spaces)
{
    char *pos[] = {"Hello", "peer", "group  "};
    char *out = NULL;

    cr_assert_eq(body_get(3, pos, "", &out), 0);
    cr_assert_str_eq(out, "Hello peer group");
    free(out);
}

Test(cli_body, dash_reads_stdin)
{
    char *pos[] = {"-"};
    char *out = NULL;
    int p[2];

    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], "from stdin\n\n", 12), 12);
    close(p[1]);
    int saved = dup(STDIN_FILENO);
    dup2(p[0], STDIN_FILENO);
    close(p[0]);
    int r = body_get(1, pos, "", &out);
    dup2(saved, STDIN_FILENO);
    close(saved);
    cr_assert_eq(r, 0);
    cr_assert_str_eq(out, "from stdin");
    free(out);
}

Test(cli_body, stdin_over_the_limit_is_refused)
{
    char *pos[] = {"-"};
    char *out = NULL;
    char path[] = "/tmp/kith-test-big-XXXXXX";
    int fd = mkstemp(path);
    static char block[65536];

    cr_assert_geq(fd, 0);
    memset(block, 'a', sizeof(block));
    for (size_t i = 0; i <= BODY_READ_MAX / sizeof(block); i++)
        cr_assert_eq(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    int saved = dup(STDIN_FILENO);
    dup2(fd, STDIN_FILENO);
    close(fd);
    int r = body_get(1, pos, "", &out);
    dup2(saved, STDIN_FILENO);
    close(saved);
    cr_assert_eq(r, -EFBIG);
    cr_assert_null(out);
}

static void write_script(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

Test(cli_body, editor_text_without_comment_lines, .init = setup, .fini = teardown)
{
    char editor[256], *out = NULL;

    /* The editor sees the header, keeps it, and adds text above it. */
    snprintf(editor, sizeof(editor), "%s/ed.sh", dir);
    write_script(editor, "#!/bin/sh\n"
                         "grep -q '^# Group: Walkers' \"$1\" || exit 3\n"
                         "{ printf 'Written in the editor\\n\\nSecond paragraph\\n'; cat \"$1\"; }"
                         " > \"$1.new\" && mv \"$1.new\" \"$1\"\n");
    setenv("EDITOR", editor, 1);
    cr_assert_eq(body_get(0, NULL, "# Group: Walkers\n# Leave empty to cancel.\n", &out), 0);
    cr_assert_str_eq(out, "Written in the editor\n\nSecond paragraph");
    free(out);
}

Test(cli_body, editor_left_empty_gives_blank_text, .init = setup, .fini = teardown)
{
    char *out = NULL;

    setenv("EDITOR", "true", 1);
    cr_assert_eq(body_get(0, NULL, "# nothing\n", &out), 0);
    cr_assert_eq(body_is_blank(out), 1);
    free(out);
}

Test(cli_body, failing_editor_gives_echild_and_removes_the_draft, .init = setup, .fini = teardown)
{
    char *out = NULL, cmd[256];

    setenv("EDITOR", "false", 1);
    cr_assert_eq(body_get(0, NULL, "# x\n", &out), -ECHILD);
    cr_assert_null(out);
    /* No draft left behind in the runtime dir. */
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cli_body, editor_command_may_hold_arguments, .init = setup, .fini = teardown)
{
    char editor[256], setting[300], *out = NULL;

    snprintf(editor, sizeof(editor), "%s/ed2.sh", dir);
    write_script(editor, "#!/bin/sh\n[ \"$1\" = --flag ] || exit 4\necho \"$2\" > \"$2\"\n");
    snprintf(setting, sizeof(setting), "%s --flag", editor);
    setenv("EDITOR", setting, 1);
    cr_assert_eq(body_get(0, NULL, "# x\n", &out), 0);
    /* The file name the editor got: a 0600 draft in the runtime dir. */
    cr_assert_eq(strncmp(out, dir, strlen(dir)), 0);
    cr_assert_eq(strncmp(out + strlen(dir), "/kith-post-", 11), 0);
    free(out);
}

Test(cli_body, no_editor_and_no_terminal_is_refused, .init = setup, .fini = teardown)
{
    int status;

    unsetenv("EDITOR");
    /* A child in a new session has no controlling terminal, as under cron
     * or ctest; it reports what body_get returned as its exit status. */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char *out = NULL;
        if (setsid() < 0)
            _exit(100);
        int r = body_get(0, NULL, "# x\n", &out);
        _exit(r == -ENOTTY && out == NULL ? 0 : 101);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0);
}
