/*
 * Tests for node/config.c: built-in defaults, every setting, the exact error
 * lines for unknown and bad settings, the command line and its precedence.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "kith/error.h"

static char err[CONFIG_ERR_MAX];

static void clear_env(void)
{
    unsetenv("KITH_DATA");
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/ada", 1);
}

TestSuite(config, .init = clear_env);

Test(config, defaults_from_home)
{
    struct config c;

    config_init(&c);
    cr_assert_str_eq(c.data_dir, "/home/ada/.local/share/kith");
    cr_assert_str_eq(c.key_file, "");
    cr_assert_str_eq(c.socket_path, "");
    cr_assert_eq(c.key_source, CONFIG_KEY_FILE);
    cr_assert_eq(c.log_level, LOG_INFO);
    cr_assert_eq(c.session_idle_minutes, 60);
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0);
    cr_assert_str_eq(c.key_file, "/home/ada/.local/share/kith/node.key");
    cr_assert_str_eq(c.socket_path, "/home/ada/.local/share/kith/kithd.sock");
}

Test(config, data_dir_env_order)
{
    struct config c;

    setenv("XDG_DATA_HOME", "/xdg", 1);
    config_init(&c);
    cr_assert_str_eq(c.data_dir, "/xdg/kith");
    setenv("XDG_DATA_HOME", "relative/xdg", 1); /* ignored, as the XDG spec says */
    config_init(&c);
    cr_assert_str_eq(c.data_dir, "/home/ada/.local/share/kith");
    setenv("KITH_DATA", "/srv/kith", 1);
    config_init(&c);
    cr_assert_str_eq(c.data_dir, "/srv/kith");
}

Test(config, no_data_dir_at_all)
{
    struct config c;

    unsetenv("HOME");
    config_init(&c);
    cr_assert_str_eq(c.data_dir, "");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "no data directory: pass --data DIR, or set KITH_DATA or HOME");
}

Test(config, every_key)
{
    struct config c;
    const char *text = "; a comment\n"
                       "# another\n"
                       "[node]\n"
                       "data_dir = /var/lib/kith\n"
                       "key_file = /etc/kith/node.key\n"
                       "key_source = passphrase\n"
                       "log_level = debug ; inline comment\n"
                       "session_idle_minutes = 15\n"
                       "\n"
                       "[control]\r\n"
                       "socket = /run/kith/kithd.sock\r\n";

    config_init(&c);
    cr_assert_eq(config_load_string(&c, text, "k.conf", err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.data_dir, "/var/lib/kith");
    cr_assert_str_eq(c.key_file, "/etc/kith/node.key");
    cr_assert_eq(c.key_source, CONFIG_KEY_PASSPHRASE);
    cr_assert_eq(c.log_level, LOG_DEBUG);
    cr_assert_eq(c.session_idle_minutes, 15);
    cr_assert_str_eq(c.socket_path, "/run/kith/kithd.sock");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0);
    cr_assert_str_eq(c.key_file, "/etc/kith/node.key"); /* explicit paths stay */
}

Test(config, key_source_file_and_levels)
{
    static const char *levels[] = {"debug", "info", "warn", "error"};
    struct config c;
    char text[128];

    for (int i = 0; i < 4; i++) {
        config_init(&c);
        snprintf(text, sizeof(text), "[node]\nkey_source=file\nlog_level=%s\n", levels[i]);
        cr_assert_eq(config_load_string(&c, text, "k.conf", err, sizeof(err)), 0, "%s", err);
        cr_assert_eq(c.key_source, CONFIG_KEY_FILE);
        cr_assert_eq(c.log_level, (enum log_level)i);
    }
}

static void expect_error(const char *text, const char *want)
{
    struct config c;

    config_init(&c);
    err[0] = '\0';
    cr_assert_eq(config_load_string(&c, text, "kithd.conf", err, sizeof(err)), -KITH_EINVAL,
                 "accepted: %s", text);
    cr_assert_str_eq(err, want);
}

Test(config, unknown_key_with_line_number)
{
    expect_error("[node]\n"
                 "log_level = info\n"
                 "\n"
                 "foo = 1\n",
                 "kithd.conf:4: unknown setting \"foo\" in [node]");
    expect_error("[control]\nsocket=/s\ndata_dir=/x\n",
                 "kithd.conf:3: unknown setting \"data_dir\" in [control]");
}

Test(config, unknown_section_and_outside)
{
    expect_error("[node]\nlog_level=info\n[www]\nport = 8080\n",
                 "kithd.conf:4: unknown section [www]");
    expect_error("log_level = info\n",
                 "kithd.conf:1: setting \"log_level\" is outside any section (put it under "
                 "[node] or [control])");
}

Test(config, bad_values)
{
    expect_error("[node]\nkey_source = usb\n",
                 "kithd.conf:2: key_source must be file or passphrase, not \"usb\"");
    expect_error("[node]\n\nlog_level = loud\n",
                 "kithd.conf:3: log_level must be debug, info, warn or error, not \"loud\"");
    expect_error("[node]\nsession_idle_minutes = 0\n",
                 "kithd.conf:2: session_idle_minutes must be a whole number from 1 to 10080, "
                 "not \"0\"");
    expect_error("[node]\nsession_idle_minutes = 10081\n",
                 "kithd.conf:2: session_idle_minutes must be a whole number from 1 to 10080, "
                 "not \"10081\"");
    expect_error("[node]\nsession_idle_minutes = 5min\n",
                 "kithd.conf:2: session_idle_minutes must be a whole number from 1 to 10080, "
                 "not \"5min\"");
    expect_error("[node]\nsession_idle_minutes = -1\n",
                 "kithd.conf:2: session_idle_minutes must be a whole number from 1 to 10080, "
                 "not \"-1\"");
    expect_error("[node]\nsession_idle_minutes = 99999999999999999999999\n",
                 "kithd.conf:2: session_idle_minutes must be a whole number from 1 to 10080, "
                 "not \"99999999999999999999999\"");
    expect_error("[node]\ndata_dir =\n", "kithd.conf:2: data_dir is empty");
    expect_error("[control]\nsocket =   \n", "kithd.conf:2: socket is empty");
}

Test(config, session_idle_bounds_accepted)
{
    struct config c;

    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[node]\nsession_idle_minutes=1\n", "k", err, sizeof(err)),
                 0);
    cr_assert_eq(c.session_idle_minutes, 1);
    config_init(&c);
    cr_assert_eq(
        config_load_string(&c, "[node]\nsession_idle_minutes=10080\n", "k", err, sizeof(err)), 0);
    cr_assert_eq(c.session_idle_minutes, 10080);
}

Test(config, syntax_errors)
{
    expect_error("[node]\nlog_level info\n",
                 "kithd.conf:2: syntax error (expected [section] or name = value)");
    expect_error("[node\n", "kithd.conf:1: syntax error (expected [section] or name = value)");
    /* The first error wins, whichever kind it is. */
    expect_error("[node]\nnonsense\nfoo = 1\n",
                 "kithd.conf:2: syntax error (expected [section] or name = value)");
    expect_error("[node]\nfoo = 1\nnonsense\n", "kithd.conf:2: unknown setting \"foo\" in [node]");
}

Test(config, repeated_and_continued)
{
    expect_error("[node]\nlog_level = info\nlog_level = warn\n",
                 "kithd.conf:3: setting \"log_level\" in [node] is given twice");
    /* inih would treat the indented line as a continuation of data_dir. */
    expect_error("[node]\ndata_dir = /a\n  /b\n",
                 "kithd.conf:3: setting \"data_dir\" in [node] is given twice");
}

Test(config, long_line)
{
    char text[400];

    memset(text, 0, sizeof(text));
    strcpy(text, "[node]\ndata_dir = /");
    memset(text + strlen(text), 'a', 250);
    expect_error(text, "kithd.conf:2: line too long (at most 190 characters)");
}

Test(config, load_file)
{
    char dir[] = "/tmp/kith-config-XXXXXX";
    char path[128];
    struct config c;
    FILE *f;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kithd.conf", dir);

    config_init(&c);
    cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), -ENOENT);
    cr_assert(strstr(err, "cannot read the config file") != NULL, "%s", err);

    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("[node]\nlog_level = warn\n[control]\nsocket = /tmp/x.sock\n", f);
    fclose(f);
    cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.log_level, LOG_WARN);
    cr_assert_str_eq(c.socket_path, "/tmp/x.sock");
    cr_assert_str_eq(c.config_file, path);

    f = fopen(path, "w");
    fputs("[node]\nbad = 1\n", f);
    fclose(f);
    config_init(&c);
    char want[256];
    snprintf(want, sizeof(want), "%s:2: unknown setting \"bad\" in [node]", path);
    cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, want);

    f = fopen(path, "w");
    fwrite("[node]\n\0x", 1, 9, f);
    fclose(f);
    cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), -KITH_EINVAL);
    snprintf(want, sizeof(want), "%s: not a text file", path);
    cr_assert_str_eq(err, want);

    unlink(path);
    rmdir(dir);
}

static int parse(struct config_args *a, const char *const *argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    return config_parse_args(argc, argv, a, err, sizeof(err));
}

Test(config, args_parse)
{
    struct config_args a;
    const char *argv[] = {"kithd",   "--data",      "/d",   "--config=/c.conf", "--socket",
                          "/s.sock", "--log-level", "warn", "--key-file=/k",    NULL};

    cr_assert_eq(parse(&a, argv), 0, "%s", err);
    cr_assert_str_eq(a.data_dir, "/d");
    cr_assert_str_eq(a.config_file, "/c.conf");
    cr_assert_str_eq(a.socket_path, "/s.sock");
    cr_assert_str_eq(a.log_level, "warn");
    cr_assert_str_eq(a.key_file, "/k");
    cr_assert_eq(a.passphrase_stdin, 0);
    cr_assert_eq(a.help, 0);
    cr_assert_eq(a.version, 0);

    const char *argv2[] = {"kithd", "--passphrase-stdin", "--version", "--help", NULL};
    cr_assert_eq(parse(&a, argv2), 0, "%s", err);
    cr_assert_eq(a.passphrase_stdin, 1);
    cr_assert_eq(a.version, 1);
    cr_assert_eq(a.help, 1);
    cr_assert_null(a.data_dir);
}

Test(config, args_errors)
{
    struct config_args a;
    const char *unknown[] = {"kithd", "--daemonize", NULL};
    const char *missing[] = {"kithd", "--data", NULL};
    const char *stray[] = {"kithd", "extra", NULL};
    const char *single[] = {"kithd", "-d", "/x", NULL};
    const char *valued[] = {"kithd", "--help=yes", NULL};
    const char *both[] = {"kithd", "--key-file", "/k", "--passphrase-stdin", NULL};

    cr_assert_eq(parse(&a, unknown), -KITH_EINVAL);
    cr_assert_str_eq(err, "unknown option \"--daemonize\" (see kithd --help)");
    cr_assert_eq(parse(&a, missing), -KITH_EINVAL);
    cr_assert_str_eq(err, "--data needs a value (see kithd --help)");
    cr_assert_eq(parse(&a, stray), -KITH_EINVAL);
    cr_assert_str_eq(err, "unexpected argument \"extra\" (see kithd --help)");
    cr_assert_eq(parse(&a, single), -KITH_EINVAL);
    cr_assert_str_eq(err, "unexpected argument \"-d\" (see kithd --help)");
    cr_assert_eq(parse(&a, valued), -KITH_EINVAL);
    cr_assert_str_eq(err, "--help takes no value");
    cr_assert_eq(parse(&a, both), -KITH_EINVAL);
    cr_assert_str_eq(err, "--key-file and --passphrase-stdin cannot be used together");
}

Test(config, args_override_file)
{
    struct config c;
    struct config_args a;
    const char *argv[] = {"kithd", "--data", "/cli", "--log-level", "error", NULL};

    config_init(&c);
    cr_assert_eq(config_load_string(&c,
                                    "[node]\ndata_dir=/file\nlog_level=debug\n"
                                    "session_idle_minutes=5\n",
                                    "k", err, sizeof(err)),
                 0);
    cr_assert_eq(parse(&a, argv), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.data_dir, "/cli");
    cr_assert_eq(c.log_level, LOG_ERROR);
    cr_assert_eq(c.session_idle_minutes, 5); /* not on the command line: the file's */
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0);
    cr_assert_str_eq(c.key_file, "/cli/node.key");
    cr_assert_str_eq(c.socket_path, "/cli/kithd.sock");
}

Test(config, args_select_key_source)
{
    struct config c;
    struct config_args a;
    const char *pass[] = {"kithd", "--passphrase-stdin", NULL};
    const char *file[] = {"kithd", "--key-file", "/k", NULL};

    config_init(&c);
    cr_assert_eq(parse(&a, pass), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0);
    cr_assert_eq(c.key_source, CONFIG_KEY_PASSPHRASE);

    cr_assert_eq(parse(&a, file), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0);
    cr_assert_eq(c.key_source, CONFIG_KEY_FILE);
    cr_assert_str_eq(c.key_file, "/k");
}

Test(config, args_bad_values)
{
    struct config c;
    struct config_args a;
    const char *level[] = {"kithd", "--log-level", "chatty", NULL};
    const char *empty[] = {"kithd", "--data=", NULL};

    config_init(&c);
    cr_assert_eq(parse(&a, level), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "--log-level must be debug, info, warn or error, not \"chatty\"");
    cr_assert_eq(parse(&a, empty), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "--data is empty");
}

Test(config, relative_data_dir_made_absolute)
{
    struct config c;
    char cwd[1024], want[1200];

    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    config_init(&c);
    snprintf(c.data_dir, sizeof(c.data_dir), "rel/kith");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0, "%s", err);
    snprintf(want, sizeof(want), "%s/rel/kith", cwd);
    cr_assert_str_eq(c.data_dir, want);
}

Test(config, socket_path_too_long)
{
    struct config c;
    char dir[200];

    memset(dir, 'd', sizeof(dir) - 1);
    dir[0] = '/';
    dir[sizeof(dir) - 1] = '\0';
    config_init(&c);
    snprintf(c.data_dir, sizeof(c.data_dir), "%s", dir);
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), -KITH_EINVAL);
    cr_assert(strstr(err, "is too long (at most 107 characters); choose a shorter one with "
                          "--socket") != NULL,
              "%s", err);
}

Test(config, usage_names_every_option)
{
    static const char *opts[] = {
        "--data",    "--config", "--socket", "--log-level", "--key-file",     "--passphrase-stdin",
        "--version", "--help",   "--listen", "--peer",      "--no-discovery", "--serial",
        "--web"};

    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        cr_assert(strstr(config_usage(), opts[i]) != NULL, "%s", opts[i]);
}

/* The shipped example must parse as it is, and with every setting turned on
 * (the leading ';' removed from each commented-out setting). */
Test(config, example_file_parses)
{
    char path[512], line[512], on[] = "/tmp/kith-config-example-XXXXXX";
    struct config c;
    FILE *in, *out;
    int fd, settings = 0;

    snprintf(path, sizeof(path), "%s/packaging/kithd.conf.example", KITH_SOURCE_DIR);
    config_init(&c);
    cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), 0, "%s", err);

    fd = mkstemp(on);
    cr_assert_geq(fd, 0);
    out = fdopen(fd, "w");
    in = fopen(path, "r");
    cr_assert_not_null(in);
    while (fgets(line, sizeof(line), in) != NULL) {
        if (line[0] == ';' && line[1] != ' ' && line[1] != '\n') {
            fputs(line + 1, out);
            settings++;
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    fclose(out);
    /* every setting of the table is documented (peer twice; [serial] with
     * a second section of device and baud) */
    cr_assert_eq(settings, 26);
    config_init(&c);
    cr_assert_eq(config_load_file(&c, on, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.data_dir, "/var/lib/kith");
    cr_assert_str_eq(c.socket_path, "/var/lib/kith/kithd.sock");
    cr_assert_str_eq(c.control_group, "kith");
    cr_assert_eq(c.session_idle_minutes, 60);
    cr_assert_str_eq(c.listen, "[::]:7711");
    cr_assert_eq(c.n_peers, 2);
    cr_assert_eq(c.discovery, 1);
    cr_assert_eq(c.n_serials, 2);
    cr_assert_str_eq(c.web_listen, "127.0.0.1:7780");
    cr_assert_eq(c.allow_signup, 1);
    cr_assert_str_eq(c.serials[0].device, "/dev/rfcomm0");
    cr_assert_eq(c.serials[0].baud, 115200);
    cr_assert_str_eq(c.serials[1].device, "/dev/ttyUSB0");
    cr_assert_eq(c.serials[1].baud, 921600);
    unlink(on);
}

/* ---- [sync] ---- */

Test(config, sync_defaults)
{
    struct config c;

    config_init(&c);
    cr_assert_str_eq(c.listen, "[::]:7711");
    cr_assert_eq(c.n_peers, 0);
    cr_assert_eq(c.discovery, 1);
    cr_assert_eq(c.discovery_port, 7711);
    cr_assert_eq(c.beacon_interval_seconds, 30);
    cr_assert_eq(c.max_peers, 16);
    cr_assert_eq(c.max_concurrent_syncs, 4);
    cr_assert_eq(c.idle_timeout_seconds, 120);
    cr_assert_eq(c.handshake_timeout_seconds, 10);
}

Test(config, sync_every_key)
{
    struct config c;
    const char *text = "[sync]\n"
                       "listen = 192.0.2.5:0\n"
                       "peer = pi.local:7711\n"
                       "peer = [fe80::1%eth0]:7712\n"
                       "peer = 10.0.0.9:1\n"
                       "discovery = off\n"
                       "discovery_port = 17711\n"
                       "beacon_interval_seconds = 5\n"
                       "max_peers = 8\n"
                       "max_concurrent_syncs = 2\n"
                       "idle_timeout_seconds = 60\n"
                       "handshake_timeout_seconds = 3\n";

    config_init(&c);
    cr_assert_eq(config_load_string(&c, text, "k.conf", err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.listen, "192.0.2.5:0");
    cr_assert_eq(c.n_peers, 3);
    cr_assert_str_eq(c.peers[0], "pi.local:7711");
    cr_assert_str_eq(c.peers[1], "[fe80::1%eth0]:7712");
    cr_assert_str_eq(c.peers[2], "10.0.0.9:1");
    cr_assert_eq(c.discovery, 0);
    cr_assert_eq(c.discovery_port, 17711);
    cr_assert_eq(c.beacon_interval_seconds, 5);
    cr_assert_eq(c.max_peers, 8);
    cr_assert_eq(c.max_concurrent_syncs, 2);
    cr_assert_eq(c.idle_timeout_seconds, 60);
    cr_assert_eq(c.handshake_timeout_seconds, 3);

    config_init(&c);
    cr_assert_eq(
        config_load_string(&c, "[sync]\nlisten = off\ndiscovery = on\n", "k", err, sizeof(err)), 0,
        "%s", err);
    cr_assert_str_eq(c.listen, "");
    cr_assert_eq(c.discovery, 1);
    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[sync]\nlisten = [::1]:65535\n", "k", err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(c.listen, "[::1]:65535");
}

Test(config, sync_bad_values)
{
    expect_error("[sync]\nlisten = pi.local:7711\n",
                 "kithd.conf:2: listen must be ADDR:PORT with a numeric address (such as "
                 "0.0.0.0:7711 or [::]:7711) or off, not \"pi.local:7711\"");
    expect_error("[sync]\nlisten = 0.0.0.0\n",
                 "kithd.conf:2: listen must be ADDR:PORT with a numeric address (such as "
                 "0.0.0.0:7711 or [::]:7711) or off, not \"0.0.0.0\"");
    expect_error("[sync]\nlisten = 0.0.0.0:70000\n",
                 "kithd.conf:2: listen must be ADDR:PORT with a numeric address (such as "
                 "0.0.0.0:7711 or [::]:7711) or off, not \"0.0.0.0:70000\"");
    expect_error("[sync]\npeer = pi.local:0\n",
                 "kithd.conf:2: peer must be HOST:PORT with a port from 1 to 65535, not "
                 "\"pi.local:0\"");
    expect_error("[sync]\npeer = ::1:7711\n",
                 "kithd.conf:2: peer must be HOST:PORT with a port from 1 to 65535, not "
                 "\"::1:7711\"");
    expect_error("[sync]\ndiscovery = yes\n",
                 "kithd.conf:2: discovery must be on or off, not \"yes\"");
    expect_error("[sync]\ndiscovery_port = 0\n",
                 "kithd.conf:2: discovery_port must be a whole number from 1 to 65535, not "
                 "\"0\"");
    expect_error("[sync]\nbeacon_interval_seconds = 3601\n",
                 "kithd.conf:2: beacon_interval_seconds must be a whole number from 1 to 3600, "
                 "not \"3601\"");
    expect_error("[sync]\nmax_peers = 0\n",
                 "kithd.conf:2: max_peers must be a whole number from 1 to 1024, not \"0\"");
    expect_error("[sync]\nmax_concurrent_syncs = 1025\n",
                 "kithd.conf:2: max_concurrent_syncs must be a whole number from 1 to 1024, not "
                 "\"1025\"");
    expect_error("[sync]\nidle_timeout_seconds = 4\n",
                 "kithd.conf:2: idle_timeout_seconds must be a whole number from 5 to 86400, not "
                 "\"4\"");
    expect_error("[sync]\nhandshake_timeout_seconds = 10s\n",
                 "kithd.conf:2: handshake_timeout_seconds must be a whole number from 1 to 300, "
                 "not \"10s\"");
    expect_error("[sync]\nmax_peers = 4\nmax_peers = 5\n",
                 "kithd.conf:3: setting \"max_peers\" in [sync] is given twice");
    expect_error("[sync]\nport = 7711\n", "kithd.conf:2: unknown setting \"port\" in [sync]");
}

Test(config, sync_too_many_peers)
{
    char text[CONFIG_PEERS_MAX * 32 + 64];
    size_t n = 0;
    char want[128];

    n += (size_t)snprintf(text + n, sizeof(text) - n, "[sync]\n");
    for (int i = 0; i <= CONFIG_PEERS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "peer = 10.0.0.%d:7711\n", i + 1);
    snprintf(want, sizeof(want), "kithd.conf:%d: too many peers (at most %d)", CONFIG_PEERS_MAX + 2,
             CONFIG_PEERS_MAX);
    expect_error(text, want);
}

Test(config, sync_args)
{
    struct config c;
    struct config_args a;
    const char *argv[] = {"kithd",        "--listen=127.0.0.1:0", "--peer", "10.0.0.1:7711",
                          "--peer=pi:99", "--no-discovery",       NULL};

    cr_assert_eq(parse(&a, argv), 0, "%s", err);
    cr_assert_str_eq(a.listen, "127.0.0.1:0");
    cr_assert_eq(a.n_peers, 2);
    cr_assert_str_eq(a.peers[0], "10.0.0.1:7711");
    cr_assert_str_eq(a.peers[1], "pi:99");
    cr_assert_eq(a.no_discovery, 1);

    /* --listen replaces the file's; --peer adds to the file's. */
    config_init(&c);
    cr_assert_eq(
        config_load_string(&c, "[sync]\nlisten=0.0.0.0:1\npeer=file:1\n", "k", err, sizeof(err)),
        0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.listen, "127.0.0.1:0");
    cr_assert_eq(c.n_peers, 3);
    cr_assert_str_eq(c.peers[0], "file:1");
    cr_assert_str_eq(c.peers[2], "pi:99");
    cr_assert_eq(c.discovery, 0);

    const char *valued[] = {"kithd", "--no-discovery=1", NULL};
    cr_assert_eq(parse(&a, valued), -KITH_EINVAL);
    cr_assert_str_eq(err, "--no-discovery takes no value");

    const char *badl[] = {"kithd", "--listen", "localhost:1", NULL};
    cr_assert_eq(parse(&a, badl), 0);
    config_init(&c);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "--listen must be ADDR:PORT with a numeric address (such as "
                          "0.0.0.0:7711 or [::]:7711) or off, not \"localhost:1\"");
    const char *badp[] = {"kithd", "--peer", "x", NULL};
    cr_assert_eq(parse(&a, badp), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "--peer must be HOST:PORT with a port from 1 to 65535, not \"x\"");
}

Test(config, sync_args_too_many_peers)
{
    const char *argv[2 * CONFIG_PEERS_MAX + 4];
    struct config_args a;
    struct config c;
    int n = 0;

    argv[n++] = "kithd";
    for (int i = 0; i <= CONFIG_PEERS_MAX; i++) {
        argv[n++] = "--peer";
        argv[n++] = "h:1";
    }
    argv[n] = NULL;
    cr_assert_eq(parse(&a, argv), -KITH_EINVAL);
    cr_assert_str_eq(err, "too many --peer options (at most 32)");

    /* The file's and the command line's together. */
    argv[2 * CONFIG_PEERS_MAX - 1] = NULL;
    cr_assert_eq(parse(&a, argv), 0, "%s", err);
    cr_assert_eq(a.n_peers, CONFIG_PEERS_MAX - 1);
    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[sync]\npeer=a:1\npeer=b:2\n", "k", err, sizeof(err)), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "too many peers in the config file and --peer (at most 32)");
}

Test(config, sync_syncs_capped_by_peers)
{
    struct config c;

    config_init(&c);
    snprintf(c.data_dir, sizeof(c.data_dir), "/d");
    cr_assert_eq(config_load_string(&c, "[sync]\nmax_peers = 2\nmax_concurrent_syncs = 9\n", "k",
                                    err, sizeof(err)),
                 0);
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.max_concurrent_syncs, 2);
}

/* ---- [serial] ---- */

Test(config, serial_none_by_default)
{
    struct config c;

    config_init(&c);
    cr_assert_eq(c.n_serials, 0);
}

Test(config, serial_repeated_sections)
{
    struct config c;
    const char *text = "[serial]\n"
                       "device = /dev/rfcomm0\n"
                       "\n"
                       "[serial]\n"
                       "device = /dev/ttyUSB0\n"
                       "baud = 921600\n"
                       "flow = rtscts\n"
                       "role = responder\n"
                       "[sync]\n"
                       "listen = off\n"
                       "[serial]\n"
                       "device = /dev/ttyACM0\n"
                       "role = initiator\n"
                       "baud = 9600\n";

    config_init(&c);
    cr_assert_eq(config_load_string(&c, text, "k", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.n_serials, 3);
    cr_assert_str_eq(c.serials[0].device, "/dev/rfcomm0");
    cr_assert_eq(c.serials[0].baud, 115200);
    cr_assert_eq(c.serials[0].flow, SERIAL_FLOW_NONE);
    cr_assert_eq(c.serials[0].role, SERIAL_ROLE_AUTO);
    cr_assert_str_eq(c.serials[1].device, "/dev/ttyUSB0");
    cr_assert_eq(c.serials[1].baud, 921600);
    cr_assert_eq(c.serials[1].flow, SERIAL_FLOW_RTSCTS);
    cr_assert_eq(c.serials[1].role, SERIAL_ROLE_RESPONDER);
    cr_assert_str_eq(c.serials[2].device, "/dev/ttyACM0");
    cr_assert_eq(c.serials[2].baud, 9600);
    cr_assert_eq(c.serials[2].role, SERIAL_ROLE_INITIATOR);
    cr_assert_str_eq(c.listen, "");
}

Test(config, serial_bad_values)
{
    expect_error("[serial]\nbaud = 115200\ndevice = /dev/x\n",
                 "kithd.conf:2: each [serial] section must start with device = PATH (before "
                 "\"baud\")");
    /* A second section that forgets its device would set the first one's. */
    expect_error("[serial]\ndevice = /dev/a\n[serial]\nflow = none\n",
                 "kithd.conf:4: each [serial] section must start with device = PATH (before "
                 "\"flow\")");
    expect_error("[serial]\ndevice = /dev/a\nbaud = 115201\n",
                 "kithd.conf:3: baud must be a standard rate (such as 9600, 57600, 115200, "
                 "230400, 460800 or 921600), not \"115201\"");
    expect_error("[serial]\ndevice = /dev/a\nbaud = fast\n",
                 "kithd.conf:3: baud must be a whole number from 1 to 4000000, not \"fast\"");
    expect_error("[serial]\ndevice = /dev/a\nflow = xon\n",
                 "kithd.conf:3: flow must be none or rtscts, not \"xon\"");
    expect_error("[serial]\ndevice = /dev/a\nrole = leader\n",
                 "kithd.conf:3: role must be auto, initiator or responder, not \"leader\"");
    expect_error("[serial]\ndevice = /dev/a\nbaud = 9600\nbaud = 9600\n",
                 "kithd.conf:4: setting \"baud\" in [serial] is given twice");
    expect_error("[serial]\ndevice =\n",
                 "kithd.conf:2: device must be a path of 1 to 255 characters");
}

Test(config, serial_too_many)
{
    char text[CONFIG_SERIALS_MAX * 40 + 64], want[128];
    size_t n = 0;

    for (int i = 0; i <= CONFIG_SERIALS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[serial]\ndevice = /dev/ttyUSB%d\n", i);
    snprintf(want, sizeof(want), "kithd.conf:%d: too many serial devices (at most %d)",
             2 * CONFIG_SERIALS_MAX + 2, CONFIG_SERIALS_MAX);
    expect_error(text, want);
}

Test(config, serial_args)
{
    struct config c;
    struct config_args a;
    const char *argv[] = {"kithd", "--serial", "/tmp/relay/a@921600", "--serial=/dev/rfcomm1",
                          NULL};

    cr_assert_eq(parse(&a, argv), 0, "%s", err);
    cr_assert_eq(a.n_serials, 2);
    cr_assert_str_eq(a.serials[0], "/tmp/relay/a@921600");
    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[serial]\ndevice=/dev/rfcomm0\nrole=initiator\n", "k", err,
                                    sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.n_serials, 3);
    cr_assert_str_eq(c.serials[0].device, "/dev/rfcomm0");
    cr_assert_eq(c.serials[0].role, SERIAL_ROLE_INITIATOR);
    cr_assert_str_eq(c.serials[1].device, "/tmp/relay/a");
    cr_assert_eq(c.serials[1].baud, 921600);
    cr_assert_eq(c.serials[1].role, SERIAL_ROLE_AUTO);
    cr_assert_str_eq(c.serials[2].device, "/dev/rfcomm1");
    cr_assert_eq(c.serials[2].baud, 115200);

    const char *bad[] = {"kithd", "--serial", "/dev/x@12345", NULL};
    cr_assert_eq(parse(&a, bad), 0);
    config_init(&c);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "--serial must be DEVICE or DEVICE@BAUD with a standard baud rate (such "
                          "as /dev/rfcomm0@115200), not \"/dev/x@12345\"");
}

Test(config, serial_args_too_many)
{
    const char *argv[2 * CONFIG_SERIALS_MAX + 4];
    struct config_args a;
    struct config c;
    int n = 0;

    argv[n++] = "kithd";
    for (int i = 0; i <= CONFIG_SERIALS_MAX; i++) {
        argv[n++] = "--serial";
        argv[n++] = "/dev/ttyS0";
    }
    argv[n] = NULL;
    cr_assert_eq(parse(&a, argv), -KITH_EINVAL);
    cr_assert_str_eq(err, "too many --serial options (at most 8)");

    argv[2 * CONFIG_SERIALS_MAX - 1] = NULL;
    cr_assert_eq(parse(&a, argv), 0, "%s", err);
    cr_assert_eq(a.n_serials, CONFIG_SERIALS_MAX - 1);
    config_init(&c);
    cr_assert_eq(
        config_load_string(&c, "[serial]\ndevice=/a\n[serial]\ndevice=/b\n", "k", err, sizeof(err)),
        0, "%s", err);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert_str_eq(err, "too many serial devices in the config file and --serial (at most 8)");
}

/* ---- [web] ---- */

Test(config, web_defaults)
{
    struct config c;

    config_init(&c);
    cr_assert_str_eq(c.web_listen, CONFIG_WEB_DEFAULT);
    cr_assert_str_eq(c.web_listen, "127.0.0.1:7780");
    cr_assert_eq(c.allow_signup, -1);
    strcpy(c.data_dir, "/d");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.allow_signup, 1); /* this machine only: open */
}

Test(config, web_keys)
{
    struct config c;

    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[web]\nlisten = 0.0.0.0:8080\n", "k", err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(c.web_listen, "0.0.0.0:8080");
    strcpy(c.data_dir, "/d");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0);
    cr_assert_eq(c.allow_signup, 0); /* the LAN: invite only unless said */
    config_init(&c);
    cr_assert_eq(config_load_string(&c, "[web]\nlisten = [::]:8080\nallow_signup = yes\n", "k", err,
                                    sizeof(err)),
                 0, "%s", err);
    strcpy(c.data_dir, "/d");
    cr_assert_eq(config_resolve(&c, err, sizeof(err)), 0);
    cr_assert_str_eq(c.web_listen, "[::]:8080");
    cr_assert_eq(c.allow_signup, 1);
    config_init(&c);
    cr_assert_eq(
        config_load_string(&c, "[web]\nlisten = off\nallow_signup = no\n", "k", err, sizeof(err)),
        0);
    cr_assert_str_eq(c.web_listen, "");
    cr_assert_eq(c.allow_signup, 0);
}

Test(config, web_bad_values)
{
    expect_error("[web]\nlisten = localhost:80\n",
                 "kithd.conf:2: web listen must be ADDR:PORT with a numeric address (such as "
                 "127.0.0.1:7780 or 0.0.0.0:7780) or off, not \"localhost:80\"");
    expect_error("[web]\nallow_signup = maybe\n",
                 "kithd.conf:2: allow_signup must be yes or no, not \"maybe\"");
}

Test(config, web_args)
{
    const char *argv[] = {"kithd", "--web", "127.0.0.1:0"};
    const char *off[] = {"kithd", "--web=off"};
    const char *bad[] = {"kithd", "--web", "nowhere"};
    struct config_args a;
    struct config c;

    cr_assert_eq(config_parse_args(3, argv, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.web, "127.0.0.1:0");
    config_init(&c);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.web_listen, "127.0.0.1:0");
    cr_assert_eq(config_parse_args(2, off, &a, err, sizeof(err)), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), 0);
    cr_assert_str_eq(c.web_listen, "");
    cr_assert_eq(config_parse_args(3, bad, &a, err, sizeof(err)), 0);
    cr_assert_eq(config_from_args(&c, &a, err, sizeof(err)), -KITH_EINVAL);
    cr_assert(strncmp(err, "--web listen must be", 20) == 0, "%s", err);
}

/* ---- [control] group ---- */

Test(config, control_group)
{
    struct config c;

    config_init(&c);
    cr_assert_str_eq(c.control_group, ""); /* owner only by default */
    cr_assert_eq(config_load_string(&c, "[control]\ngroup = kith\n", "k", err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(c.control_group, "kith");
    /* Empty again: a later drop-in can turn it off. */
    cr_assert_eq(config_load_string(&c, "[control]\ngroup =\n", "k", err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(c.control_group, "");
    expect_error("[control]\ngroup = kith members\n",
                 "kithd.conf:2: group must be the name of a system group, not \"kith members\"");
    expect_error("[control]\ngroup = a:b\n",
                 "kithd.conf:2: group must be the name of a system group, not \"a:b\"");
    expect_error("[control]\ngroup = "
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                 "kithd.conf:2: group is too long (at most 63 characters)");
    expect_error("[control]\ngroup = kith\ngroup = staff\n",
                 "kithd.conf:3: setting \"group\" in [control] is given twice");
}

/* ---- conf.d ---- */

static char confdir[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void make_confdir(void)
{
    clear_env();
    strcpy(confdir, "/tmp/kith-confd-XXXXXX");
    cr_assert_not_null(mkdtemp(confdir));
}

static void rm_confdir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", confdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(confd, .init = make_confdir, .fini = rm_confdir);

Test(confd, no_confd_is_fine)
{
    char path[128];
    struct config c;

    write_file(confdir, "kithd.conf", "[node]\nlog_level = warn\n");
    snprintf(path, sizeof(path), "%s/kithd.conf", confdir);
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.log_level, LOG_WARN);
    cr_assert_eq(c.n_dropins, 0);
    cr_assert_str_eq(c.config_file, path);
}

Test(confd, name_order_and_override)
{
    char path[128], d[128];
    struct config c;

    write_file(confdir, "kithd.conf",
               "[node]\nlog_level = warn\nsession_idle_minutes = 30\n"
               "[sync]\npeer = a.example:1\nmax_peers = 8\n");
    snprintf(d, sizeof(d), "%s/conf.d", confdir);
    cr_assert_eq(mkdir(d, 0700), 0);
    /* Written out of order: the name decides, not the directory's order. */
    write_file(d, "20-late.conf", "[node]\nlog_level = error\n[control]\ngroup = kith\n");
    write_file(d, "10-early.conf",
               "[node]\nlog_level = debug\nsession_idle_minutes = 5\n[sync]\npeer = b.example:2\n");
    write_file(d, "README", "not a config file at all\n");
    write_file(d, "old.conf.dpkg-old", "nonsense\n");
    write_file(d, ".hidden.conf", "nonsense\n");
    snprintf(path, sizeof(path), "%s/kithd.conf", confdir);
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.n_dropins, 2);
    cr_assert_eq(c.log_level, LOG_ERROR);      /* 20-late.conf came last */
    cr_assert_eq(c.session_idle_minutes, 5);   /* 10-early.conf over kithd.conf */
    cr_assert_eq(c.max_peers, 8);              /* only in kithd.conf */
    cr_assert_str_eq(c.control_group, "kith"); /* only in a drop-in */
    cr_assert_str_eq(c.config_file, path);     /* the main file, for the log */
    cr_assert_eq(c.n_peers, 2);                /* peer lines add up */
    cr_assert_str_eq(c.peers[0], "a.example:1");
    cr_assert_str_eq(c.peers[1], "b.example:2");
}

Test(confd, errors_name_the_dropin)
{
    char path[128], d[128], want[256];
    struct config c;

    write_file(confdir, "kithd.conf", "[node]\nlog_level = warn\n");
    snprintf(d, sizeof(d), "%s/conf.d", confdir);
    cr_assert_eq(mkdir(d, 0700), 0);
    write_file(d, "10-a.conf", "[node]\nlog_level = info\n");
    /* Within one file a setting given twice is still an error. */
    write_file(d, "20-b.conf", "[node]\nlog_level = info\nlog_level = debug\n");
    snprintf(path, sizeof(path), "%s/kithd.conf", confdir);
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), -KITH_EINVAL);
    snprintf(want, sizeof(want), "%s/20-b.conf:3: setting \"log_level\" in [node] is given twice",
             d);
    cr_assert_str_eq(err, want);

    write_file(d, "20-b.conf", "[node]\nfoo = 1\n");
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), -KITH_EINVAL);
    snprintf(want, sizeof(want), "%s/20-b.conf:2: unknown setting \"foo\" in [node]", d);
    cr_assert_str_eq(err, want);

    /* A [serial] section in a drop-in starts its own device. */
    write_file(confdir, "kithd.conf", "[serial]\ndevice = /dev/ttyUSB0\n");
    write_file(d, "20-b.conf", "[serial]\nbaud = 9600\n");
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), -KITH_EINVAL);
    snprintf(want, sizeof(want),
             "%s/20-b.conf:2: each [serial] section must start with device = PATH (before "
             "\"baud\")",
             d);
    cr_assert_str_eq(err, want);
}

Test(confd, not_a_directory)
{
    char path[128], want[256];
    struct config c;

    write_file(confdir, "kithd.conf", "[node]\nlog_level = warn\n");
    write_file(confdir, "conf.d", "a file where the directory should be\n");
    snprintf(path, sizeof(path), "%s/kithd.conf", confdir);
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), -ENOTDIR);
    snprintf(want, sizeof(want), "cannot read the config directory %s/conf.d: not a directory",
             confdir);
    cr_assert_str_eq(err, want);
}

Test(confd, too_many)
{
    char path[128], d[128], name[32];
    struct config c;

    write_file(confdir, "kithd.conf", "");
    snprintf(d, sizeof(d), "%s/conf.d", confdir);
    cr_assert_eq(mkdir(d, 0700), 0);
    for (int i = 0; i <= CONFIG_DROPINS_MAX; i++) {
        snprintf(name, sizeof(name), "%03d.conf", i);
        write_file(d, name, "[node]\nlog_level = debug\n");
    }
    snprintf(path, sizeof(path), "%s/kithd.conf", confdir);
    config_init(&c);
    cr_assert_eq(config_load_all(&c, path, err, sizeof(err)), -KITH_EINVAL);
    cr_assert(strstr(err, "too many files in ") != NULL, "%s", err);
    cr_assert(strstr(err, "(at most 64)") != NULL, "%s", err);
}
