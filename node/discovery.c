/*
 * discovery: LAN multicast beacons (see discovery.h). It owns one IPv4 and
 * one IPv6 UDP socket (either may be missing), the beacon timer, the "soon"
 * timer that answers a new node, the list of interfaces it has joined the
 * groups on, and a small table of nodes heard recently.
 *
 * Sending picks the interface per datagram: IPv4 by setting IP_MULTICAST_IF
 * just before a synchronous uv_udp_try_send (nothing else writes on the
 * socket, so the option cannot change under a queued send), IPv6 by the
 * scope id of the destination address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "discovery.h"
#include "kith/error.h"
#include "log.h"

#define STARTUP_GAP_MS 2000 /* the second beacon follows the first this soon */
#define MIN_GAP_MS 1000     /* extra beacons at most this often */
#define IFNAMES_MAX 256

struct iface {
    unsigned index;
    int family;
    struct in_addr v4; /* AF_INET: the interface's address, used as the source */
};

struct heard {
    uint8_t key[KITH_BEACON_KEY_BYTES];
    uint64_t at; /* uv_now; 0 = unused slot */
};

struct discovery {
    uv_loop_t *loop;
    uv_udp_t udp4, udp6;
    uv_timer_t tick, soon;
    int has4, has6, open_handles, stopping;
    struct discovery_config cfg;
    char ifnames[IFNAMES_MAX];
    struct kith_beacon beacon;
    struct iface ifs[DISCOVERY_IFACES_MAX];
    size_t n_ifs;
    struct heard heard[DISCOVERY_HEARD_MAX];
    uint64_t last_sent;
    uint64_t sent;
    unsigned ticks;
    uint8_t rbuf[2048];
};

static void on_closed(uv_handle_t *h)
{
    struct discovery *d = h->data;

    if (--d->open_handles == 0)
        free(d);
}

static void close_all(struct discovery *d)
{
    d->stopping = 1;
    uv_close((uv_handle_t *)&d->tick, on_closed);
    uv_close((uv_handle_t *)&d->soon, on_closed);
    if (d->has4)
        uv_close((uv_handle_t *)&d->udp4, on_closed);
    if (d->has6)
        uv_close((uv_handle_t *)&d->udp6, on_closed);
}

/* ---- Interfaces ---- */

/* Whether name is in the comma-separated list. */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

static int have_iface(const struct iface *ifs, size_t n, int family, unsigned index)
{
    for (size_t i = 0; i < n; i++)
        if (ifs[i].family == family && ifs[i].index == index)
            return 1;
    return 0;
}

/* Collect interfaces into out; loopback_only picks IPv4 loopback (the
 * fallback). Returns the count. */
static size_t scan(const struct discovery *d, const struct ifaddrs *all, int loopback_only,
                   struct iface *out)
{
    size_t n = 0;

    for (const struct ifaddrs *a = all; a != NULL && n < DISCOVERY_IFACES_MAX; a = a->ifa_next) {
        unsigned index;
        int family;

        if (a->ifa_addr == NULL || !(a->ifa_flags & IFF_UP))
            continue;
        family = a->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6)
            continue;
        if (loopback_only) {
            if (!(a->ifa_flags & IFF_LOOPBACK) || family != AF_INET)
                continue;
        } else if (d->ifnames[0] != '\0') {
            if (!listed(d->ifnames, a->ifa_name))
                continue;
        } else if (!(a->ifa_flags & IFF_MULTICAST) || (a->ifa_flags & IFF_LOOPBACK)) {
            continue;
        }
        if ((family == AF_INET && !d->has4) || (family == AF_INET6 && !d->has6))
            continue;
        if (family == AF_INET6 &&
            !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr))
            continue;
        index = if_nametoindex(a->ifa_name);
        if (index == 0 || have_iface(out, n, family, index))
            continue;
        out[n].index = index;
        out[n].family = family;
        if (family == AF_INET)
            out[n].v4 = ((struct sockaddr_in *)a->ifa_addr)->sin_addr;
        n++;
    }
    return n;
}

static void join(struct discovery *d, const struct iface *f)
{
    int fd, r;

    if (f->family == AF_INET) {
        struct ip_mreqn m;

        memset(&m, 0, sizeof(m));
        inet_pton(AF_INET, DISCOVERY_GROUP_V4, &m.imr_multiaddr);
        m.imr_address = f->v4;
        m.imr_ifindex = (int)f->index;
        uv_fileno((uv_handle_t *)&d->udp4, &fd);
        r = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
    } else {
        struct ipv6_mreq m;

        memset(&m, 0, sizeof(m));
        inet_pton(AF_INET6, DISCOVERY_GROUP_V6, &m.ipv6mr_multiaddr);
        m.ipv6mr_interface = f->index;
        uv_fileno((uv_handle_t *)&d->udp6, &fd);
        r = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
    }
    if (r < 0 && errno != EADDRINUSE)
        log_debug("discovery.join_failed", "interface=%u family=%s error=%s", f->index,
                  f->family == AF_INET ? "ipv4" : "ipv6", kith_errname(-errno));
}

/* Look at the interfaces again and join the groups on new ones. */
static void refresh_interfaces(struct discovery *d)
{
    struct iface now[DISCOVERY_IFACES_MAX];
    struct ifaddrs *all = NULL;
    size_t n;

    if (getifaddrs(&all) < 0) {
        log_warn("discovery.no_interfaces", "error=%s", kith_errname(-errno));
        return;
    }
    n = scan(d, all, 0, now);
    if (n == 0 && d->ifnames[0] == '\0')
        n = scan(d, all, 1, now);
    freeifaddrs(all);
    for (size_t i = 0; i < n; i++)
        if (!have_iface(d->ifs, d->n_ifs, now[i].family, now[i].index))
            join(d, &now[i]);
    memcpy(d->ifs, now, n * sizeof(now[0]));
    d->n_ifs = n;
}

/* ---- Sending ---- */

static void send_beacon(struct discovery *d)
{
    uint8_t buf[KITH_BEACON_MAX];
    struct sockaddr_in dst4;
    struct sockaddr_in6 dst6;
    uv_buf_t b;
    size_t len = 0;
    int fd, r;

    if (kith_beacon_encode(&d->beacon, buf, sizeof(buf), &len) < 0)
        return;
    b = uv_buf_init((char *)buf, (unsigned)len);
    uv_ip4_addr(DISCOVERY_GROUP_V4, d->cfg.port, &dst4);
    uv_ip6_addr(DISCOVERY_GROUP_V6, d->cfg.port, &dst6);
    for (size_t i = 0; i < d->n_ifs; i++) {
        const struct iface *f = &d->ifs[i];

        if (f->family == AF_INET) {
            struct ip_mreqn m;

            memset(&m, 0, sizeof(m));
            m.imr_address = f->v4;
            m.imr_ifindex = (int)f->index;
            uv_fileno((uv_handle_t *)&d->udp4, &fd);
            r = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)) < 0 ? -errno : 0;
            if (r == 0)
                r = uv_udp_try_send(&d->udp4, &b, 1, (struct sockaddr *)&dst4);
        } else {
            dst6.sin6_scope_id = f->index;
            r = uv_udp_try_send(&d->udp6, &b, 1, (struct sockaddr *)&dst6);
        }
        if (r < 0)
            log_debug("discovery.send_failed", "interface=%u family=%s error=%s", f->index,
                      f->family == AF_INET ? "ipv4" : "ipv6", kith_errname(r));
        else
            d->sent++;
    }
    d->last_sent = uv_now(d->loop);
}

/* interval +-25 %, at random, so that nodes started together drift apart. */
static uint64_t jittered(uint32_t ms)
{
    return (uint64_t)ms - ms / 4 + randombytes_uniform(ms / 2 + 1);
}

static void on_tick(uv_timer_t *t)
{
    struct discovery *d = t->data;
    uint32_t next = d->cfg.interval_ms;

    refresh_interfaces(d);
    send_beacon(d);
    /* A second beacon shortly after the first, in case the first was lost. */
    if (d->ticks++ == 0 && next > STARTUP_GAP_MS)
        next = STARTUP_GAP_MS;
    uv_timer_start(&d->tick, on_tick, jittered(next), 0);
}

static void on_soon(uv_timer_t *t)
{
    send_beacon(t->data);
}

void discovery_announce(struct discovery *d)
{
    uint64_t delay, now;

    if (d->stopping || uv_is_active((uv_handle_t *)&d->soon))
        return;
    now = uv_now(d->loop);
    delay = randombytes_uniform(DISCOVERY_SOON_MS + 1);
    if (d->last_sent != 0 && d->last_sent + MIN_GAP_MS > now + delay)
        delay = d->last_sent + MIN_GAP_MS - now;
    uv_timer_start(&d->soon, on_soon, delay, 0);
}

void discovery_set_groups(struct discovery *d, const struct kith_beacon_group *groups, size_t n)
{
    if (n > KITH_BEACON_GROUPS_MAX)
        n = KITH_BEACON_GROUPS_MAX;
    memcpy(d->beacon.groups, groups, n * sizeof(groups[0]));
    d->beacon.n_groups = (uint8_t)n;
}

uint64_t discovery_sent(const struct discovery *d)
{
    return d->sent;
}

/* ---- Receiving ---- */

/* Remember key as heard now; returns 1 if it was not heard in the last
 * three intervals. */
static int heard_new(struct discovery *d, const uint8_t *key)
{
    uint64_t now = uv_now(d->loop) + 1, recent = 3 * (uint64_t)d->cfg.interval_ms;
    struct heard *slot = &d->heard[0];

    for (size_t i = 0; i < DISCOVERY_HEARD_MAX; i++) {
        struct heard *h = &d->heard[i];

        if (h->at != 0 && memcmp(h->key, key, KITH_BEACON_KEY_BYTES) == 0) {
            int fresh = now - h->at > recent;

            h->at = now;
            return fresh;
        }
        if (h->at < slot->at)
            slot = h;
    }
    memcpy(slot->key, key, KITH_BEACON_KEY_BYTES);
    slot->at = now;
    return 1;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct discovery *d = h->data;

    buf->base = (char *)d->rbuf;
    buf->len = sizeof(d->rbuf);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    struct discovery *d = h->data;
    struct kith_beacon b;
    struct sockaddr_storage from;
    int r;

    if (nread <= 0 || addr == NULL || d->stopping || (flags & UV_UDP_PARTIAL))
        return;
    r = kith_beacon_decode(d->rbuf, (size_t)nread, &b);
    if (r < 0) {
        log_debug("discovery.bad_beacon", "bytes=%zd error=%s", nread, kith_errname(r));
        return;
    }
    if (memcmp(b.node_key, d->cfg.node_key, KITH_BEACON_KEY_BYTES) == 0)
        return;
    memset(&from, 0, sizeof(from));
    if (addr->sa_family == AF_INET) {
        memcpy(&from, addr, sizeof(struct sockaddr_in));
        ((struct sockaddr_in *)&from)->sin_port = htons(b.tcp_port);
    } else if (addr->sa_family == AF_INET6) {
        memcpy(&from, addr, sizeof(struct sockaddr_in6));
        ((struct sockaddr_in6 *)&from)->sin6_port = htons(b.tcp_port);
    } else {
        return;
    }
    if (heard_new(d, b.node_key))
        discovery_announce(d);
    d->cfg.on_beacon(d, &b, (struct sockaddr *)&from, d->cfg.arg);
}

/* ---- Start and stop ---- */

static int open_socket(struct discovery *d, uv_udp_t *h, int family)
{
    struct sockaddr_storage ss;
    unsigned flags = UV_UDP_REUSEADDR;
    int r;

    r = uv_udp_init_ex(d->loop, h, family);
    if (r < 0)
        return r; /* no socket, no handle to close */
    h->data = d;
    d->open_handles++;
    if (family == AF_INET) {
        d->has4 = 1;
        uv_ip4_addr("0.0.0.0", d->cfg.port, (struct sockaddr_in *)&ss);
    } else {
        d->has6 = 1;
        flags |= UV_UDP_IPV6ONLY;
        uv_ip6_addr("::", d->cfg.port, (struct sockaddr_in6 *)&ss);
    }
    r = uv_udp_bind(h, (struct sockaddr *)&ss, flags);
    if (r == 0)
        r = uv_udp_set_multicast_loop(h, 1);
    if (r == 0)
        r = uv_udp_set_multicast_ttl(h, 1);
    if (r == 0)
        r = uv_udp_recv_start(h, on_alloc, on_recv);
    return r;
}

int discovery_start(uv_loop_t *loop, const struct discovery_config *cfg, struct discovery **out)
{
    struct discovery *d;
    int r4, r6;

    *out = NULL;
    if (cfg->tcp_port == 0 || cfg->on_beacon == NULL ||
        (cfg->interfaces != NULL && strlen(cfg->interfaces) >= IFNAMES_MAX))
        return -KITH_EINVAL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -ENOMEM;
    d->loop = loop;
    d->cfg = *cfg;
    d->cfg.interfaces = NULL; /* copied below: the caller's string */
    if (cfg->interfaces != NULL)
        memcpy(d->ifnames, cfg->interfaces, strlen(cfg->interfaces) + 1);
    if (d->cfg.port == 0)
        d->cfg.port = DISCOVERY_PORT_DEFAULT;
    if (d->cfg.interval_ms == 0)
        d->cfg.interval_ms = DISCOVERY_INTERVAL_DEFAULT_MS;
    memcpy(d->beacon.node_key, cfg->node_key, KITH_BEACON_KEY_BYTES);
    d->beacon.tcp_port = cfg->tcp_port;

    uv_timer_init(loop, &d->tick);
    uv_timer_init(loop, &d->soon);
    d->tick.data = d->soon.data = d;
    d->open_handles = 2;
    r4 = open_socket(d, &d->udp4, AF_INET);
    if (r4 < 0 && d->has4) {
        uv_close((uv_handle_t *)&d->udp4, on_closed);
        d->has4 = 0;
    }
    r6 = open_socket(d, &d->udp6, AF_INET6);
    if (r6 < 0 && d->has6) {
        uv_close((uv_handle_t *)&d->udp6, on_closed);
        d->has6 = 0;
    }
    if (!d->has4 && !d->has6) {
        close_all(d);
        return r4;
    }
    if (r4 < 0 || r6 < 0)
        log_info("discovery.partial", "ipv4=%s ipv6=%s", r4 < 0 ? kith_errname(r4) : "ok",
                 r6 < 0 ? kith_errname(r6) : "ok");
    uv_timer_start(&d->tick, on_tick, 0, 0);
    *out = d;
    return 0;
}

void discovery_stop(struct discovery *d)
{
    if (d == NULL || d->stopping)
        return;
    close_all(d);
}
