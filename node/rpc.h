/*
 * rpc: the control protocol (node/CONTROL.md). Turns one JSON request line
 * into one JSON response line by calling the service. Pure of I/O: the
 * control socket (control.c) feeds it lines; tests and the fuzzer call it
 * directly.
 */
#ifndef KITH_RPC_H
#define KITH_RPC_H

#include <stddef.h>

struct service;

/* Longest request line accepted, newline excluded (a post body of 64 KiB
 * escaped as JSON fits). */
#define RPC_LINE_MAX (1024 * 1024)

/*
 * Handle one request (line, len bytes, no newline; need not be
 * NUL-terminated). Always sets *response to a malloc'd NUL-terminated JSON
 * object without a newline, owned by the caller (free()); a malformed
 * request gets an error response. Returns 0, or -ENOMEM when no response
 * could be made (then *response is NULL).
 */
int rpc_handle(struct service *svc, const char *line, size_t len, char **response);

#endif
