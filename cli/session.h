/*
 * session: where kith keeps the session token that account.create and
 * account.unlock return, so later commands can use it. One small file per
 * node socket, mode 0600 in a 0700 directory: $XDG_RUNTIME_DIR/kith/ (a
 * private tmpfs that goes away at logout) or else ~/.cache/kith/. The file
 * name is a hash of the socket's absolute path, so two nodes on one machine
 * keep separate sessions. $KITH_SESSION, when set, is the token to use and
 * no file is read.
 *
 * File format: the token on the first line, the account name on the second.
 */
#ifndef KITH_CLI_SESSION_H
#define KITH_CLI_SESSION_H

#include <stddef.h>

#define SESSION_TOKEN_MAX 256
#define SESSION_NAME_MAX 256

/*
 * The session file's path for socket_path into buf (capacity cap). Creates
 * no directory. Returns 0, -ENOENT (neither $XDG_RUNTIME_DIR nor $HOME is
 * set) or -ENAMETOOLONG.
 */
int session_path(const char *socket_path, char *buf, size_t cap);

/*
 * Load the token (and the account name, "" when unknown) for socket_path.
 * Returns 0; -ENOENT (no session kept); -EPROTO (the file is damaged); or
 * -errno. token and name are NUL-terminated on success; the caller wipes
 * token with sodium_memzero.
 */
int session_load(const char *socket_path, char token[SESSION_TOKEN_MAX],
                 char name[SESSION_NAME_MAX]);

/*
 * Keep token and name for socket_path, replacing any earlier session.
 * Creates the directory (0700) if needed; writes a temp file with mode 0600
 * and renames it into place so a reader never sees half a file. Returns 0,
 * -EINVAL (token or name has a newline or is too long) or -errno.
 */
int session_save(const char *socket_path, const char *token, const char *name);

/* Forget the session for socket_path. Returns 0 (also when there was none)
 * or -errno. */
int session_forget(const char *socket_path);

#endif
