/*
 * body: collecting post text (see body.h). Owns the editor's temp file for
 * the time the editor runs; the file is made 0600 in $XDG_RUNTIME_DIR when
 * there is one (a private tmpfs), so a draft does not linger on the disk.
 */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_fd_all(int fd, char **out)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);

    *out = NULL;
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (cap - len < 2) {
            if (cap >= BODY_READ_MAX + 2) {
                free(buf);
                return -EFBIG;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno > 0 ? errno : EIO;
            free(buf);
            return -e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > BODY_READ_MAX) {
            free(buf);
            return -EFBIG;
        }
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

void body_strip_comments(char *text)
{
    char *r = text, *w = text;

    while (*r) {
        char *nl = strchr(r, '\n');
        size_t n = nl ? (size_t)(nl - r) + 1 : strlen(r);
        if (r[0] != '#') {
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    *w = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void body_trim(char *text)
{
    size_t n = strlen(text);
    size_t start = 0, i = 0;

    while (n > 0 && is_space(text[n - 1]))
        n--;
    text[n] = '\0';
    /* Leading blank lines go; leading spaces on the first line stay (they
     * may be deliberate indentation). */
    while (i < n) {
        size_t j = i;
        while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
            j++;
        if (j < n && text[j] == '\n') {
            i = j + 1;
            start = i;
            continue;
        }
        break;
    }
    if (start > 0)
        memmove(text, text + start, n - start + 1);
}

int body_is_blank(const char *text)
{
    for (; *text; text++)
        if (!is_space(*text))
            return 0;
    return 1;
}

/* Is prog an executable somewhere in $PATH (or a path itself)? */
static int in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *c = strchr(path, ':');
        size_t n = c ? (size_t)(c - path) : strlen(path);
        int k = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", prog);
        if (k > 0 && (size_t)k < sizeof(buf) && access(buf, X_OK) == 0)
            return 1;
        path += n + (c ? 1 : 0);
    }
    return 0;
}

/* Run the editor command (a shell word list, like git's core.editor) on
 * file. Returns 0 or -ECHILD. */
static int run_editor(const char *editor, const char *file)
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* The editor needs the terminal even when stdin was redirected. */
        if (!isatty(STDIN_FILENO)) {
            int tty = open("/dev/tty", O_RDONLY);
            if (tty >= 0) {
                dup2(tty, STDIN_FILENO);
                close(tty);
            }
        }
        /* Like git: the editor setting is shell words ("nano -R"), and the
         * file name is passed as "$1" so the shell never parses it. */
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "%s \"$1\"", editor);
        execl("/bin/sh", "sh", "-c", cmd, "sh", file, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int body_from_editor(const char *header, char **out)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    const char *tmpdir = getenv("TMPDIR");
    const char *editor = getenv("EDITOR");
    char path[PATH_MAX];
    char *text = NULL;
    int fd = -1, r;

    if (!editor || !*editor) {
        /* A terminal editor with no terminal would wait forever. An $EDITOR
         * that someone set is run anyway: it may be a script or a window. */
        int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (tty < 0)
            return -ENOTTY;
        close(tty);
        editor = in_path("editor") ? "editor" : "vi";
    }
    snprintf(path, sizeof(path), "%s/kith-post-XXXXXX.md",
             run && *run         ? run
             : tmpdir && *tmpdir ? tmpdir
                                 : "/tmp");
    fd = mkstemps(path, 3); /* mode 0600 */
    if (fd < 0)
        return -errno;
    size_t hl = strlen(header);
    if (write(fd, "\n", 1) != 1 || write(fd, header, hl) != (ssize_t)hl) {
        r = -errno;
        goto fail;
    }
    close(fd);
    fd = -1;
    r = run_editor(editor, path);
    if (r < 0)
        goto fail;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto fail;
    }
    if ((r = read_fd_all(fd, &text)) < 0 || !text) {
        r = r < 0 ? r : -EIO;
        goto fail;
    }
    close(fd);
    unlink(path);
    body_strip_comments(text);
    *out = text;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    unlink(path);
    free(text);
    return r;
}

int body_get(int npos, char *const *pos, const char *header, char **out)
{
    char *text = NULL;
    int r;

    *out = NULL;
    if (npos == 1 && strcmp(pos[0], "-") == 0) {
        if ((r = read_fd_all(STDIN_FILENO, &text)) < 0 || !text)
            return r < 0 ? r : -EIO;
    } else if (npos == 0) {
        if ((r = body_from_editor(header, &text)) < 0 || !text)
            return r < 0 ? r : -EIO;
    } else {
        size_t n = 0;
        for (int i = 0; i < npos; i++)
            n += strlen(pos[i]) + 1;
        if (n > BODY_READ_MAX)
            return -EFBIG;
        text = malloc(n + 1);
        if (!text)
            return -ENOMEM;
        text[0] = '\0';
        char *p = text;
        for (int i = 0; i < npos; i++) {
            size_t k = strlen(pos[i]);
            if (i > 0)
                *p++ = ' ';
            memcpy(p, pos[i], k);
            p += k;
        }
        *p = '\0';
    }
    body_trim(text);
    *out = text;
    return 0;
}
