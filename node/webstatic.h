/*
 * webstatic: the web page's static files (CSS, icons, fonts) from one
 * directory that a request cannot leave. It owns an open descriptor of that
 * directory; every file is opened relative to it one path segment at a
 * time with O_NOFOLLOW, so neither "..", an encoded dot or slash, nor a
 * symbolic link (inside or pointing out) gets anywhere.
 *
 * Accepted request paths are deliberately narrow: segments of
 * [A-Za-z0-9_.-] that do not start with '.', joined by single '/', at most
 * WEBSTATIC_PATH_MAX bytes and WEBSTATIC_DEPTH_MAX segments, ending in an
 * extension we have a content type for (css, svg, png, ico, woff2, txt).
 * Anything else is "not found". Only regular files up to
 * WEBSTATIC_FILE_MAX bytes are served.
 */
#ifndef KITH_WEBSTATIC_H
#define KITH_WEBSTATIC_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define WEBSTATIC_PATH_MAX 255
#define WEBSTATIC_DEPTH_MAX 8
#define WEBSTATIC_FILE_MAX 1048576 /* 1 MiB */
#define WEBSTATIC_MAX_AGE_S 86400  /* Cache-Control max-age of static files */

struct webstatic;

/*
 * Serve the directory dir under the URL prefix (e.g. "/static/", which
 * must start and end with '/'; copied). Returns 0, -KITH_EINVAL (bad
 * prefix) or -errno from opening dir (-ENOENT, -ENOTDIR, -EACCES...).
 * *out is the caller's: webstatic_close().
 */
int webstatic_open(const char *dir, const char *prefix, struct webstatic **out);

/* Close the directory and free. NULL is fine. */
void webstatic_close(struct webstatic *ws);

/*
 * Check a path relative to the directory (the request path without the
 * prefix, not percent-decoded) against the rules above, and give its
 * content type (a static string). Pure.
 * Returns 0 or -KITH_EREQUEST (refused: traversal, '%', '\\', empty or
 * dot segment, bad character, too long or deep) or -KITH_ENOTFOUND (an
 * extension we do not serve).
 */
int webstatic_check(const char *rel, const char **type);

/*
 * Read the file rel (checked as webstatic_check) into *data (malloc'd,
 * *len bytes, the caller frees) and give its type.
 * Returns 0, the errors of webstatic_check, -KITH_ENOTFOUND (no such
 * file, not a regular file, or a symbolic link on the way), -KITH_ETOOBIG
 * or -errno (-EACCES, -ENOMEM...).
 */
int webstatic_read(struct webstatic *ws, const char *rel, char **data, size_t *len,
                   const char **type);

/*
 * An http_handler for GET and HEAD routes whose arg is a struct webstatic:
 * the file at the request path minus the prefix, with its type and
 * Cache-Control: public, max-age=WEBSTATIC_MAX_AGE_S; 404 for anything
 * refused or missing. Returns 0 or -ENOMEM.
 */
int webstatic_handler(void *arg, const struct http_request *req, struct http_response *resp);

#endif
