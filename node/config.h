/*
 * config: every kithd setting, its built-in default, the INI file (read with
 * inih) and the command line. A struct config is plain data owned by the
 * caller; nothing here touches the disk except config_load_file, and nothing
 * here keeps a pointer to its inputs.
 *
 * The order of precedence is: built-in defaults, then the config file, then
 * the drop-in files in the conf.d directory beside it (config_load_all), then
 * the command line. Paths left empty (key_file, socket_path) are filled from
 * data_dir by config_resolve once everything else is known, so `--data DIR`
 * alone moves everything.
 *
 * Errors are written for people into a caller's buffer as one line without
 * a program prefix, e.g. `kithd.conf:12: unknown setting "foo" in [node]`.
 */
#ifndef KITH_CONFIG_H
#define KITH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "serial.h"

/* Longest path kept (with its NUL). A control socket path is further bounded
 * by sun_path (107 bytes) in config_resolve. */
#define CONFIG_PATH_MAX 4096
/* Room for one error line. */
#define CONFIG_ERR_MAX 512

#define CONFIG_SESSION_IDLE_MIN 1
#define CONFIG_SESSION_IDLE_MAX 10080 /* a week, in minutes */

/* [sync]: see packaging/kithd.conf.example for what each one means. */
#define CONFIG_ADDR_MAX 192 /* "HOST:PORT" with its NUL (longer than a config line) */
#define CONFIG_PEERS_MAX 32 /* peer = HOST:PORT lines, file and command line together */
#define CONFIG_LISTEN_DEFAULT "[::]:7711" /* every address, IPv4 and IPv6 */
#define CONFIG_DISCOVERY_PORT_DEFAULT 7711
#define CONFIG_BEACON_INTERVAL_DEFAULT 30
#define CONFIG_BEACON_INTERVAL_MAX 3600
#define CONFIG_MAX_PEERS_DEFAULT 16
#define CONFIG_MAX_PEERS_MAX 1024
#define CONFIG_MAX_SYNCS_DEFAULT 4
#define CONFIG_IDLE_TIMEOUT_DEFAULT 120
#define CONFIG_IDLE_TIMEOUT_MIN 5
#define CONFIG_IDLE_TIMEOUT_MAX 86400
#define CONFIG_HANDSHAKE_TIMEOUT_DEFAULT 10
#define CONFIG_HANDSHAKE_TIMEOUT_MAX 300
/* [serial]: repeatable, one device each (packaging/SERIAL.md). */
#define CONFIG_SERIALS_MAX 8 /* [serial] sections and --serial together */

struct config_serial {
    char device[SERIAL_PATH_MAX]; /* required */
    uint32_t baud;                /* default SERIAL_BAUD_DEFAULT */
    enum serial_flow flow;        /* default none */
    enum serial_role role;        /* default auto */
};
/* [control] group: a system group name, as long as Debian allows (32)
 * with room to spare. */
#define CONFIG_GROUP_MAX 64
/* conf.d: the most drop-in files read beside one config file. */
#define CONFIG_DROPINS_MAX 64
/* [web]: the member's web page (node/WEB.md). */
#define CONFIG_WEB_DEFAULT "127.0.0.1:7780" /* this machine only */

enum config_key_source {
    CONFIG_KEY_FILE,      /* the node key is read from key_file (created on first start) */
    CONFIG_KEY_PASSPHRASE /* the node key is derived from a passphrase at start */
};

struct config {
    /* [node] */
    char data_dir[CONFIG_PATH_MAX];    /* default: see config_init */
    char key_file[CONFIG_PATH_MAX];    /* "" until resolved: DATA/node.key */
    enum config_key_source key_source; /* default CONFIG_KEY_FILE */
    enum log_level log_level;          /* default LOG_INFO */
    uint32_t session_idle_minutes;     /* default 60 */
    /* [control] */
    char socket_path[CONFIG_PATH_MAX]; /* "" until resolved: DATA/kithd.sock */
    /* A group whose members may use the control socket (mode 0660, owned
     * by this group); "" (the default) = the owner only (mode 0600). */
    char control_group[CONFIG_GROUP_MAX];
    /* [sync] */
    char listen[CONFIG_ADDR_MAX];                  /* ADDR:PORT; "" = do not listen ("off") */
    char peers[CONFIG_PEERS_MAX][CONFIG_ADDR_MAX]; /* HOST:PORT each, as written */
    size_t n_peers;
    int discovery;                      /* 1 = send and hear beacons (default) */
    uint16_t discovery_port;            /* UDP port of the beacons */
    uint32_t beacon_interval_seconds;   /* 1..CONFIG_BEACON_INTERVAL_MAX */
    uint32_t max_peers;                 /* open connections, 1..CONFIG_MAX_PEERS_MAX */
    uint32_t max_concurrent_syncs;      /* 1..CONFIG_MAX_PEERS_MAX, at most max_peers */
    uint32_t idle_timeout_seconds;      /* CONFIG_IDLE_TIMEOUT_MIN..MAX */
    uint32_t handshake_timeout_seconds; /* 1..CONFIG_HANDSHAKE_TIMEOUT_MAX */
    /* [serial], as many as CONFIG_SERIALS_MAX: a new entry at each device
     * line (inih hands over repeated sections as one) */
    struct config_serial serials[CONFIG_SERIALS_MAX];
    size_t n_serials;
    /* [web] */
    char web_listen[CONFIG_ADDR_MAX]; /* ADDR:PORT of the web page; "" = off */
    /* 1: anyone who can open the page may create an account; 0: only with
     * an invite code; -1 (unset): config_resolve picks 1 when web_listen is
     * a loopback address, else 0. */
    int allow_signup;
    /* Which file was read, "" if none (for the log), and how many drop-in
     * files from the conf.d directory beside it. */
    char config_file[CONFIG_PATH_MAX];
    size_t n_dropins;
};

/* What the command line said; pointers point into argv. Unset = NULL / 0. */
struct config_args {
    const char *data_dir;
    const char *config_file;
    const char *socket_path;
    const char *log_level;
    const char *key_file;
    const char *listen;
    const char *web;                     /* --web ADDR:PORT or off */
    const char *peers[CONFIG_PEERS_MAX]; /* --peer, repeatable */
    size_t n_peers;
    const char *serials[CONFIG_SERIALS_MAX]; /* --serial DEVICE[@BAUD], repeatable */
    size_t n_serials;
    int no_discovery;
    int passphrase_stdin;
    int version;
    int help;
};

/* The usage text for --help (static string, ends with a newline). */
const char *config_usage(void);

/*
 * Fill c with the built-in defaults. data_dir comes from the environment:
 * $KITH_DATA, else $XDG_DATA_HOME/kith (if absolute), else
 * $HOME/.local/share/kith; if none is set data_dir is "" and config_resolve
 * fails unless a data dir is given later. Never fails.
 */
void config_init(struct config *c);

/*
 * Apply the settings in the NUL-terminated INI text over c. name is the
 * file name shown in errors. Returns 0, or -KITH_EINVAL with err set
 * ("NAME:LINE: ..."): unknown section or key, bad value, syntax error. On
 * error c may be partly changed (the caller exits).
 */
int config_load_string(struct config *c, const char *text, const char *name, char *err,
                       size_t errlen);

/*
 * Read the INI file at path over c (see config_load_string). Returns 0,
 * -KITH_EINVAL (bad content), or -errno when the file cannot be opened; err
 * is set in every failure case.
 */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/*
 * Read the config file at path (config_load_file), then every file whose
 * name ends in ".conf" (and does not start with a dot) in the directory
 * conf.d beside it, in byte order of their names (so 10-a.conf before
 * 20-b.conf). Each file is checked on its own: within one file a setting
 * given twice is an error, while a later file's setting replaces an earlier
 * file's. The exceptions are the lists: peer lines and [serial] sections
 * add to those of earlier files. A missing conf.d is fine; one that cannot
 * be read, a drop-in that cannot be read or has a bad line, or more than
 * CONFIG_DROPINS_MAX drop-ins is an error. Sets c->config_file to path and
 * c->n_dropins. Returns 0, -KITH_EINVAL or -errno with err set ("NAME:LINE:
 * ..." names the file at fault). On error c may be partly changed.
 */
int config_load_all(struct config *c, const char *path, char *err, size_t errlen);

/*
 * Parse kithd's command line (argv[0] is skipped). Options take their value
 * as `--opt VALUE` or `--opt=VALUE`; --peer may be given up to
 * CONFIG_PEERS_MAX times, --serial up to CONFIG_SERIALS_MAX times. Returns 0, or -KITH_EINVAL with
 * err set (unknown option, missing value, stray argument, both --key-file and
 * --passphrase-stdin, too many --peer). out's pointers point into argv.
 */
int config_parse_args(int argc, const char *const argv[], struct config_args *out, char *err,
                      size_t errlen);

/*
 * Apply command-line overrides over c (after the config file). --key-file
 * selects key_source=file and --passphrase-stdin selects key_source=
 * passphrase. --listen replaces the file's listen; --peer adds to the
 * file's peers; --serial adds to the file's [serial] devices (baud from
 * DEVICE@BAUD, flow none, role auto); --no-discovery turns discovery off.
 * Returns 0 or -KITH_EINVAL with err set (bad log level, empty or too long
 * path, bad --listen, --peer or --serial, too many peers or devices).
 */
int config_from_args(struct config *c, const struct config_args *a, char *err, size_t errlen);

/*
 * Finish c: fail if data_dir is unknown, make a relative data_dir absolute
 * (from the working directory), fill key_file and socket_path from data_dir
 * when empty, check that the socket path fits a Unix socket address, and
 * lower max_concurrent_syncs to max_peers if it is over. Returns 0 or
 * -KITH_EINVAL with err set.
 */
int config_resolve(struct config *c, char *err, size_t errlen);

#endif
