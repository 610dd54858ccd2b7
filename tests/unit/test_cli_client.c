/*
 * Unit tests for cli/client.c: finding the socket, the plain-words error
 * lines, and the conversation itself against a peer on a real Unix socket
 * that answers, fails, or breaks the protocol on purpose (the daemon cannot
 * be made to misbehave; the end-to-end test drives the real one).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/client.c"

static char dir[] = "/tmp/kith-test-client-XXXXXX";
static char sock[100];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/k.sock", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cli_client, default_socket_order)
{
    char buf[256];

    setenv("HOME", "/home/pat", 1);
    unsetenv("XDG_DATA_HOME");
    unsetenv("KITH_DATA");
    unsetenv("KITH_SOCKET");
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/home/pat/.local/share/kith/kithd.sock");
    setenv("XDG_DATA_HOME", "relative/data", 1);
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/home/pat/.local/share/kith/kithd.sock");
    setenv("XDG_DATA_HOME", "/data", 1);
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/data/kith/kithd.sock");
    setenv("KITH_DATA", "/srv/kith", 1);
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/srv/kith/kithd.sock");
    setenv("KITH_SOCKET", "/tmp/k.sock", 1);
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/tmp/k.sock");
    cr_assert_eq(client_default_socket(buf, 5), -ENAMETOOLONG);
    unsetenv("KITH_SOCKET");
    unsetenv("KITH_DATA");
    unsetenv("XDG_DATA_HOME");
    unsetenv("HOME");
    cr_assert_eq(client_default_socket(buf, sizeof(buf)), -ENOENT);
}

/* No node of one's own but the packaged system node: its socket. */
Test(cli_client, default_socket_falls_back_to_the_system_node)
{
    char tmpd[] = "/tmp/kith-cli-sock-XXXXXX";
    char sys[128], home[128], own[192], buf[256], cmd[512];
    int fd;

    cr_assert_not_null(mkdtemp(tmpd));
    snprintf(sys, sizeof(sys), "%s/system.sock", tmpd);
    snprintf(home, sizeof(home), "%s/home", tmpd);
    snprintf(own, sizeof(own), "%s/.local/share/kith/kithd.sock", home);
    setenv("HOME", home, 1);
    unsetenv("XDG_DATA_HOME");
    unsetenv("KITH_DATA");
    unsetenv("KITH_SOCKET");

    /* Neither exists: the per-user path, so the error names it. */
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, own);
    fd = open(sys, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    /* Only the system one exists: it is used. */
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, sys);
    /* No HOME at all either: still the system node. */
    unsetenv("HOME");
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, sys);
    cr_assert_eq(client_default_socket_at(NULL, buf, sizeof(buf)), -ENOENT);
    setenv("HOME", home, 1);
    /* KITH_DATA or KITH_SOCKET name a node: no fallback. */
    setenv("KITH_DATA", "/srv/kith", 1);
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/srv/kith/kithd.sock");
    unsetenv("KITH_DATA");
    setenv("KITH_SOCKET", "/tmp/k.sock", 1);
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "/tmp/k.sock");
    unsetenv("KITH_SOCKET");
    /* The user's own node exists: it wins. */
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/.local/share/kith' && touch '%s'", home, own);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(client_default_socket_at(sys, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, own);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpd);
    cr_assert_eq(system(cmd), 0);
}

static const char *explain(int code, int from_node, const char *msg, const struct client_what *what)
{
    static char buf[1024];
    struct client_error e = {.code = code, .from_node = from_node};
    snprintf(e.message, sizeof(e.message), "%s", msg);
    client_explain(&e, what, "/d/kithd.sock", buf, sizeof(buf));
    return buf;
}

Test(cli_client, node_errors_in_plain_words)
{
    struct client_what g = {.group = "x"}, p = {.post = "abcd"}, a = {.account = "alice"};

    cr_assert_str_eq(explain(-KITH_EPASSPHRASE, 1, "", &a),
                     "wrong passphrase, or no account called \"alice\"");
    cr_assert_str_eq(explain(-KITH_EPASSPHRASE, 1, "", NULL), "wrong passphrase");
    cr_assert_str_eq(explain(-KITH_ENOTFOUND, 1, "", &g), "unknown group \"x\"");
    cr_assert_str_eq(explain(-KITH_ENOTFOUND, 1, "", &p),
                     "no post has an id starting with \"abcd\"");
    cr_assert_str_eq(explain(-KITH_ENOTFOUND, 1, "", &a),
                     "there is no account called \"alice\" on this node");
    cr_assert_str_eq(explain(-KITH_ENOTYOURS, 1, "", &p), "that post is not yours");
    cr_assert_str_eq(explain(-KITH_EAMBIGUOUS, 1, "", &p),
                     "more than one post has an id starting with \"abcd\" (type more of the id)");
    cr_assert_str_eq(explain(-KITH_EEXIST, 1, "", &a),
                     "there is already an account called \"alice\"");
    cr_assert_str_eq(explain(-KITH_ENOTMEMBER, 1, "", &g), "you are not in the group \"x\"");
    cr_assert_str_eq(explain(-KITH_ELOCKED, 1, "whatever", NULL),
                     "no account is unlocked (run: kith unlock NAME)");
    cr_assert_str_eq(explain(-KITH_EDELETED, 1, "", &p), "that post was deleted by its author");
    /* Without a better wording, the node's own line. */
    cr_assert_str_eq(explain(-KITH_ENAME, 1, "the name is too long", &a), "the name is too long");
    cr_assert_str_eq(explain(-KITH_ENOTFOUND, 1, "no such thing", NULL), "no such thing");
    cr_assert_str_eq(explain(-KITH_ESTORE, 1, "", NULL), kith_strerror(-KITH_ESTORE));
}

Test(cli_client, connection_errors_in_plain_words)
{
    cr_assert_str_eq(explain(-ENOENT, 0, "", NULL),
                     "the node is not running (no socket at /d/kithd.sock)");
    cr_assert_str_eq(explain(-ECONNREFUSED, 0, "", NULL),
                     "the node is not running (nothing is listening at /d/kithd.sock)");
    cr_assert_str_eq(explain(-ECONNRESET, 0, "", NULL),
                     "the node stopped before it answered (run kith status to see if it is back)");
    cr_assert_str_eq(explain(-EPIPE, 0, "", NULL), explain(-ECONNRESET, 0, "", NULL));
}

/* A peer that reads one request line and answers with reply (printf format
 * with %lld for the request's id), then closes; reply NULL closes at once
 * after reading. */
struct peer {
    int lfd;
    const char *reply;
    char got[4096];
};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    int fd = accept(p->lfd, NULL, NULL);
    size_t n = 0;

    if (fd < 0)
        return NULL;
    while (n < sizeof(p->got) - 1) {
        ssize_t r = read(fd, p->got + n, 1);
        if (r <= 0 || p->got[n] == '\n')
            break;
        n++;
    }
    p->got[n] = '\0';
    if (p->reply) {
        json_t *req = json_loads(p->got, 0, NULL);
        char out[4096];
        int k = snprintf(out, sizeof(out), p->reply,
                         (long long)json_integer_value(json_object_get(req, "id")));
        json_decref(req);
        (void)!write(fd, out, (size_t)k);
    }
    close(fd);
    return NULL;
}

static void listen_on(struct peer *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    p->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(p->lfd, 0);
    cr_assert_eq(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(p->lfd, 1), 0);
}

static int call_peer(struct peer *p, json_t **result, struct client_error *err)
{
    struct client *c;
    pthread_t t;

    listen_on(p);
    cr_assert_eq(pthread_create(&t, NULL, peer_main, p), 0);
    cr_assert_eq(client_new(sock, &c), 0);
    json_t *req = json_pack("{s:s, s:s}", "cmd", "status", "passphrase", "x");
    int r = client_call(c, req, result, err);
    json_decref(req);
    pthread_join(t, NULL);
    client_free(c);
    close(p->lfd);
    return r;
}

Test(cli_client, success_gives_the_result, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = "{\"id\": %lld, \"ok\": true, \"result\": {\"posts\": 3}}\n"};
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), 0);
    cr_assert_eq(json_integer_value(json_object_get(result, "posts")), 3);
    json_decref(result);
    /* The request went as one compact line with our id. */
    json_t *req = json_loads(p.got, 0, NULL);
    cr_assert_not_null(req);
    cr_assert_str_eq(json_string_value(json_object_get(req, "cmd")), "status");
    cr_assert_eq(json_integer_value(json_object_get(req, "id")), 1);
    json_decref(req);
}

Test(cli_client, request_that_names_its_own_id, .init = setup, .fini = teardown)
{
    /* A request id chosen by the caller is sent as given and must come
     * back as the echo. */
    struct peer p = {.reply = "{\"id\": \"3fa1c2\", \"ok\": true, \"result\": {}}\n"};
    struct client *c;
    struct client_error err;
    json_t *result;
    pthread_t t;

    listen_on(&p);
    cr_assert_eq(pthread_create(&t, NULL, peer_main, &p), 0);
    cr_assert_eq(client_new(sock, &c), 0);
    json_t *req = json_pack("{s:s, s:s}", "cmd", "thread.show", "id", "3fa1c2");
    cr_assert_eq(client_call(c, req, &result, &err), 0);
    json_decref(req);
    json_decref(result);
    pthread_join(t, NULL);
    client_free(c);
    close(p.lfd);
    json_t *sent = json_loads(p.got, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(sent, "id")), "3fa1c2");
    json_decref(sent);
}

Test(cli_client, node_error_is_passed_on, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = "{\"id\": %lld, \"ok\": false, \"error\": {\"code\": -31101, "
                              "\"name\": \"KITH_ELOCKED\", \"message\": \"locked\"}}\n"};
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), -KITH_ELOCKED);
    cr_assert_null(result);
    cr_assert_eq(err.from_node, 1);
    cr_assert_eq(err.code, -KITH_ELOCKED);
    cr_assert_str_eq(err.name, "KITH_ELOCKED");
    cr_assert_str_eq(err.message, "locked");
}

Test(cli_client, node_vanishing_mid_answer, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = "{\"id\": %lld, \"ok\": tr"}; /* no newline, then closed */
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), -ECONNRESET);
    cr_assert_null(result);
    cr_assert_eq(err.from_node, 0);
    cr_assert_eq(err.code, -ECONNRESET);
}

Test(cli_client, node_closing_without_answer, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = NULL};
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), -ECONNRESET);
    cr_assert_null(result);
}

Test(cli_client, answer_to_another_request_is_refused, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = "{\"id\": 99%lld, \"ok\": true, \"result\": {}}\n"};
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), -EPROTO);
    cr_assert_null(result);
}

Test(cli_client, garbage_answer_is_refused, .init = setup, .fini = teardown)
{
    struct peer p = {.reply = "HTTP/1.0 200 OK %lld\n"};
    struct client_error err;
    json_t *result;

    cr_assert_eq(call_peer(&p, &result, &err), -EPROTO);
    cr_assert_null(result);
}

Test(cli_client, nobody_listening, .init = setup, .fini = teardown)
{
    struct client *c;
    struct client_error err;
    json_t *result;

    cr_assert_eq(client_new(sock, &c), 0);
    json_t *req = json_pack("{s:s}", "cmd", "status");
    cr_assert_eq(client_call(c, req, &result, &err), -ENOENT);
    cr_assert_eq(err.code, -ENOENT);
    /* A socket file left behind by a node that was killed. */
    struct peer p;
    listen_on(&p);
    close(p.lfd);
    cr_assert_eq(client_call(c, req, &result, &err), -ECONNREFUSED);
    json_decref(req);
    client_free(c);
}

Test(cli_client, socket_path_too_long)
{
    char path[200];
    struct client *c;
    struct client_error err;
    json_t *result;

    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    cr_assert_eq(client_new(path, &c), 0);
    json_t *req = json_pack("{s:s}", "cmd", "status");
    cr_assert_eq(client_call(c, req, &result, &err), -ENAMETOOLONG);
    json_decref(req);
    client_free(c);
}
