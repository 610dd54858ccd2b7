/*
 * session: the session-token file (see session.h). Owns nothing past a call.
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* Directory for session files into buf; mkdirs when create is set. */
static int session_dir(char *buf, size_t cap, int create)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    const char *home = getenv("HOME");
    int n;

    if (run && *run) {
        n = snprintf(buf, cap, "%s/kith", run);
        if (n < 0 || (size_t)n >= cap)
            return -ENAMETOOLONG;
        if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -errno;
        return 0;
    }
    if (!home || !*home)
        return -ENOENT;
    n = snprintf(buf, cap, "%s/.cache", home);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -errno;
    n = snprintf(buf, cap, "%s/.cache/kith", home);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* The socket path made absolute (without resolving the socket itself, which
 * may not exist yet) so "./kithd.sock" and "/x/kithd.sock" agree. */
static int absolute(const char *path, char *buf, size_t cap)
{
    char cwd[PATH_MAX];
    int n;

    if (path[0] == '/')
        n = snprintf(buf, cap, "%s", path);
    else if (!getcwd(cwd, sizeof(cwd)))
        return -errno;
    else
        n = snprintf(buf, cap, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

int session_path(const char *socket_path, char *buf, size_t cap)
{
    char dir[PATH_MAX], abs[PATH_MAX + 256];
    unsigned char h[8];
    char hex[sizeof(h) * 2 + 1];
    int r, n;

    if ((r = session_dir(dir, sizeof(dir), 0)) < 0)
        return r;
    if ((r = absolute(socket_path, abs, sizeof(abs))) < 0)
        return r;
    crypto_generichash(h, sizeof(h), (const unsigned char *)abs, strlen(abs), NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    n = snprintf(buf, cap, "%s/session-%s", dir, hex);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

int session_load(const char *socket_path, char token[SESSION_TOKEN_MAX],
                 char name[SESSION_NAME_MAX])
{
    const char *env = getenv("KITH_SESSION");
    char path[PATH_MAX];
    char data[SESSION_TOKEN_MAX + SESSION_NAME_MAX + 2];
    ssize_t n;
    int fd, r;

    if (env && *env) {
        if (strlen(env) >= SESSION_TOKEN_MAX)
            return -EPROTO;
        memcpy(token, env, strlen(env) + 1);
        name[0] = '\0';
        return 0;
    }
    if ((r = session_path(socket_path, path, sizeof(path))) < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    do
        n = read(fd, data, sizeof(data) - 1);
    while (n < 0 && errno == EINTR);
    r = n < 0 ? -errno : 0;
    close(fd);
    if (r < 0)
        return r;
    data[n] = '\0';
    char *nl = strchr(data, '\n');
    r = -EPROTO;
    if (!nl || nl == data || (size_t)(nl - data) >= SESSION_TOKEN_MAX)
        goto out;
    *nl = '\0';
    char *nm = nl + 1;
    char *nl2 = strchr(nm, '\n');
    if (nl2)
        *nl2 = '\0';
    if (strlen(nm) >= SESSION_NAME_MAX)
        goto out;
    memcpy(token, data, (size_t)(nl - data) + 1);
    memcpy(name, nm, strlen(nm) + 1);
    r = 0;
out:
    sodium_memzero(data, sizeof(data));
    return r;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int session_save(const char *socket_path, const char *token, const char *name)
{
    char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 16];
    int fd = -1, r, n;

    if (strchr(token, '\n') || strchr(name, '\n') || strlen(token) >= SESSION_TOKEN_MAX ||
        strlen(name) >= SESSION_NAME_MAX || !*token)
        return -EINVAL;
    if ((r = session_dir(dir, sizeof(dir), 1)) < 0)
        return r;
    if ((r = session_path(socket_path, path, sizeof(path))) < 0)
        return r;
    n = snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    if ((r = write_all(fd, token, strlen(token))) < 0 || (r = write_all(fd, "\n", 1)) < 0 ||
        (r = write_all(fd, name, strlen(name))) < 0 || (r = write_all(fd, "\n", 1)) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        r = -errno;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        r = -errno;
        goto fail;
    }
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return r;
}

int session_forget(const char *socket_path)
{
    char path[PATH_MAX];
    int r;

    if ((r = session_path(socket_path, path, sizeof(path))) < 0)
        return r;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}
