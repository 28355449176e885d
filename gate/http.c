/* http - consent-gate's libmicrohttpd front: daemon set-up with limits,
 * request accumulation, routing, response helpers with security headers,
 * access log, and the slow-request watchdog. The answers themselves are
 * built in reply.c, the counters bumped in counters.c.
 *
 * Limits: connection memory GATE_CONN_MEMORY (request line + headers: MHD
 * answers 431 past it, which also caps the header count), idle timeout
 * [gate] timeout, GATE_CONN_LIMIT connections, [gate] per_ip_limit per TCP
 * peer (counted here, not by MHD, so that [gate] trusted_proxies are
 * exempt: behind a proxy every visitor shares its address), POST bodies
 * GATE_FORM_MAX / GATE_API_MAX (413). MHD's timeout is an idle timeout, so
 * a client dripping one byte at a time would keep a connection for ever
 * (slowloris): the watchdog thread shuts down any connection whose current
 * request has been open longer than the timeout.
 *
 * Framing: a request with two Content-Length headers, with both
 * Content-Length and Transfer-Encoding, or with a transfer coding other
 * than "chunked" is answered (400 or 501) before its body is read, and the
 * connection is closed: MHD would otherwise pick one reading, and a proxy
 * in front may have picked the other (request smuggling).
 *
 * Client address: the TCP peer, or, when the peer is a trusted proxy, the
 * client its X-Forwarded-For names (gate_forwarded_client).
 *
 * Access log (info): endpoint, method, status, outcome, microseconds.
 * Never the path (it holds the token), the query, nor the client address. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gate/gate.h"

struct wconn { /* one TCP connection, for the watchdog */
    MHD_socket fd;
    int64_t start_ms; /* start of the current request */
    int cut;
    int counted; /* holds one count in the per-address table */
    uint8_t addr[CIDR_ADDR_LEN];
    struct wconn *prev, *next;
};

#define IP_BUCKETS 1024
struct ipslot { /* connections open from one TCP peer address */
    uint8_t addr[CIDR_ADDR_LEN];
    unsigned n;
    struct ipslot *next;
};

struct gate_http {
    struct gate *g;
    struct MHD_Daemon *d;
    struct MHD_Daemon *md; /* [gate] metrics_listen */
    struct cidr *allow;    /* [gate] metrics_allow; none: everyone who reaches md */
    size_t nallow;
    unsigned timeout_ms;
    pthread_mutex_t lock;
    struct wconn *conns;
    struct ipslot *ips[IP_BUCKETS];
    int64_t limit_logged_ms;
    pthread_t watchdog;
    int stop, watchdog_started;
};

struct reqctx { /* MHD's per-request closure */
    int64_t t0_us;
    int ep;
    char *arg;
    size_t arglen;
    struct buf body;
    int too_big;
    int body_refused;    /* a GET or HEAD that came with a body */
    const char *refusal; /* text of an answer decided in begin() */
    int close;           /* framing unclear: close after answering */
    int status, outcome; /* 0, GATE_OUT_ABORTED until a response is queued */
    char method[8];
    char client[CIDR_TEXT_MAX];
};

struct hscan { /* what begin() needs from the request headers */
    int ncl, nte;
    const char *te;
    struct buf xff; /* every X-Forwarded-For value, in order, joined by ',' */
    int xff_lost;   /* they did not fit: none is used */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The peer, or the client a trusted proxy names; "unknown" if neither. */
static void resolve_client(struct reqctx *c, struct MHD_Connection *conn,
                           const struct cfg *cfg, const struct hscan *h)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint8_t a[CIDR_ADDR_LEN];

    if (cidr_addr_from_sockaddr(ci ? ci->client_addr : NULL, a) != 0) {
        snprintf(c->client, sizeof c->client, "unknown");
        return;
    }
    if (h->xff.len && !h->xff_lost &&
        cidr_match(cfg->gate_trusted, cfg->ngate_trusted, a))
        gate_forwarded_client(buf_cstr(&h->xff), cfg->gate_trusted, cfg->ngate_trusted,
                              a);
    cidr_addr_format(a, c->client, sizeof c->client);
}

static enum MHD_Result run(struct gate *g, struct MHD_Connection *conn, struct reqctx *c,
                           unsigned status)
{
    struct gate_req r = {0};
    enum MHD_Result ret;

    r.g = g;
    r.snap = snap_current(&g->live);
    r.conn = conn;
    r.method = c->method;
    r.arg = c->arg ? c->arg : "";
    r.arglen = c->arglen;
    /* only a POST has a body: the handlers tell GET from POST by it */
    r.body = strcmp(c->method, "POST") != 0 ? NULL : c->body.data ? c->body.data : "";
    r.bodylen = c->body.len;
    r.ep = c->ep;
    r.client_ip = c->client;
    ret = gate_answer(&r, status, c->refusal, c->close);
    snap_release(r.snap);
    c->status = r.status;
    c->outcome = r.outcome;
    gate_count(g, c->ep, r.outcome);
    return ret;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct hscan *h = cls;

    (void)kind;
    if (strcasecmp(key, "Content-Length") == 0) {
        h->ncl++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        h->nte++;
        h->te = value;
    } else if (strcasecmp(key, "X-Forwarded-For") == 0) {
        /* the right end matters: a value that does not fit drops them all */
        if (!h->xff_lost && ((h->xff.len && buf_putc(&h->xff, ',') != 0) ||
                             buf_puts(&h->xff, value) != 0))
            h->xff_lost = 1;
    }
    return MHD_YES;
}

/* Headers: framing, then the client address (needs the snapshot's
 * trusted proxies). Returns as gate_framing. */
static unsigned read_headers(struct gate *g, struct reqctx *c,
                             struct MHD_Connection *conn)
{
    struct hscan h = {0, 0, NULL, BUF_INIT(GATE_CONN_MEMORY), 0};
    struct snap *snap;
    unsigned st;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
    /* RFC 9112 §6 (gate_framing): unclear framing is answered before
     * the body is read, then the connection is closed */
    st = gate_framing(h.ncl, h.nte, h.te, &c->refusal);
    c->close = st != 0;
    snap = snap_current(&g->live);
    resolve_client(c, conn, snap->cfg, &h);
    snap_release(snap);
    buf_free(&h.xff);
    return st;
}

/* First call for a request: route it, check the framing, method and
 * announced size. Returns 0 to go on, or the HTTP status to answer with at
 * once. */
static unsigned begin(struct gate *g, struct reqctx *c, const char *url,
                      const char *method, struct MHD_Connection *conn)
{
    const char *arg, *cl;
    size_t cap;
    unsigned st;

    c->t0_us = now_us();
    snprintf(c->method, sizeof c->method, "%s", method);
    c->ep = gate_route(url, &arg);
    c->arglen = strlen(arg);
    c->arg = strdup(arg);
    if (c->arg == NULL)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    if ((st = read_headers(g, c, conn)) != 0)
        return st;
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    st = gate_admit(c->ep, method, cl, &cap);
    if (cap)
        buf_init(&c->body, cap);
    return st;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct gate *g = cls;
    struct reqctx *c = *con_cls;
    unsigned st;

    (void)version;
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL)
            return MHD_NO;
        c->outcome = GATE_OUT_ABORTED; /* until a response is queued */
        *con_cls = c;
        st = begin(g, c, url, method, conn);
        if (st == MHD_HTTP_INTERNAL_SERVER_ERROR)
            return MHD_NO;
        /* Answering now would make MHD close the connection (the request
         * is not fully read): only errors do, the rest waits for the
         * second call so keep-alive works. */
        if (st != 0)
            return run(g, conn, c, st);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (strcmp(c->method, "POST") != 0)
            c->body_refused = 1;
        else if (!c->too_big && buf_append(&c->body, upload_data, *upload_data_size) != 0)
            c->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return run(g, conn, c,
               c->too_big        ? MHD_HTTP_CONTENT_TOO_LARGE
               : c->body_refused ? MHD_HTTP_BAD_REQUEST
                                 : 0);
}

/* ---- connection tracking (per-address limit, slowloris watchdog) ----- */

static struct ipslot **ip_bucket(struct gate_http *h, const uint8_t a[CIDR_ADDR_LEN])
{
    uint32_t x = 2166136261u; /* FNV-1a: spread, not secrecy; chains are short */

    for (int i = 0; i < CIDR_ADDR_LEN; i++)
        x = (x ^ a[i]) * 16777619u;
    return &h->ips[x % IP_BUCKETS];
}

/* Count one more connection from a; the new count, or 0 out of memory.
 * Caller holds h->lock. */
static unsigned ip_add(struct gate_http *h, const uint8_t a[CIDR_ADDR_LEN])
{
    struct ipslot **b = ip_bucket(h, a), *p;

    for (p = *b; p; p = p->next)
        if (memcmp(p->addr, a, CIDR_ADDR_LEN) == 0)
            return ++p->n;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return 0;
    memcpy(p->addr, a, CIDR_ADDR_LEN);
    p->n = 1;
    p->next = *b;
    *b = p;
    return 1;
}

static void ip_del(struct gate_http *h, const uint8_t a[CIDR_ADDR_LEN])
{
    for (struct ipslot **pp = ip_bucket(h, a), *p; (p = *pp) != NULL; pp = &p->next)
        if (memcmp(p->addr, a, CIDR_ADDR_LEN) == 0) {
            if (--p->n == 0) {
                *pp = p->next;
                free(p);
            }
            return;
        }
}

/* The limit for a new peer: none for a trusted proxy (it carries every
 * visitor; it is the proxy's job to limit them), else per_ip_limit (0:
 * none). Read per connection so a reload applies at once. */
static unsigned peer_limit(struct gate *g, const uint8_t a[CIDR_ADDR_LEN])
{
    struct snap *s = snap_current(&g->live);
    unsigned lim = cidr_match(s->cfg->gate_trusted, s->cfg->ngate_trusted, a)
                       ? 0
                       : s->cfg->gate_per_ip_limit;

    snap_release(s);
    return lim;
}

/* Track a new connection; past its address's limit it is shut down at
 * once (MHD reads EOF and closes it before reading a request). Counted
 * here rather than in an accept policy callback so the check and the count
 * are one step under the lock, whatever thread accepted. */
static void conn_started(struct gate_http *h, struct MHD_Connection *conn,
                         struct wconn *w)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    unsigned lim = 0, n;
    int64_t now = now_us() / 1000;

    w->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
    w->start_ms = now;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (cidr_addr_from_sockaddr(ci ? ci->client_addr : NULL, w->addr) == 0) {
        lim = peer_limit(h->g, w->addr);
        /* one IPv6 host usually holds a whole /64: count it as one */
        if (!cidr_addr_is_v4(w->addr))
            memset(w->addr + 8, 0, CIDR_ADDR_LEN - 8);
    }
    pthread_mutex_lock(&h->lock);
    w->next = h->conns;
    if (h->conns)
        h->conns->prev = w;
    h->conns = w;
    n = lim ? ip_add(h, w->addr) : 0;
    w->counted = n != 0;
    if (n > lim) {
        if (w->fd != MHD_INVALID_SOCKET)
            shutdown(w->fd, SHUT_RDWR);
        w->cut = 1;
        if (now - h->limit_logged_ms >= 1000) { /* at most once a second */
            h->limit_logged_ms = now;
            log_warn("connection refused: per-address limit reached limit=%u", lim);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct gate_http *h = cls;
    struct wconn *w = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        w = calloc(1, sizeof *w);
        if (w == NULL)
            return;
        conn_started(h, conn, w);
        *socket_context = w;
    } else if (w) {
        pthread_mutex_lock(&h->lock);
        if (w->counted)
            ip_del(h, w->addr);
        if (w->prev)
            w->prev->next = w->next;
        else
            h->conns = w->next;
        if (w->next)
            w->next->prev = w->prev;
        pthread_mutex_unlock(&h->lock);
        free(w);
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct gate_http *h = cls;
    struct reqctx *c = *con_cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct wconn *w = ci ? ci->socket_context : NULL;

    if (w) { /* the next request on this connection gets a fresh deadline */
        pthread_mutex_lock(&h->lock);
        w->start_ms = now_us() / 1000;
        pthread_mutex_unlock(&h->lock);
    }
    if (c == NULL)
        return;
    if (c->status == 0) /* no response queued: never reached run() */
        gate_count(h->g, c->ep, GATE_OUT_ABORTED);
    if (h->g->access_log)
        log_info("access ep=%s method=%s status=%d outcome=%s us=%lld%s",
                 gate_ep_name(c->ep), c->method, c->status, gate_outcome_name(c->outcome),
                 (long long)(now_us() - c->t0_us),
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=yes");
    free(c->arg);
    buf_free(&c->body);
    free(c);
    *con_cls = NULL;
}

static void *watchdog(void *arg)
{
    struct gate_http *h = arg;

    for (;;) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        int64_t now;
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&h->lock);
        if (h->stop) {
            pthread_mutex_unlock(&h->lock);
            return NULL;
        }
        now = now_us() / 1000;
        for (struct wconn *w = h->conns; w; w = w->next)
            if (!w->cut && w->fd != MHD_INVALID_SOCKET &&
                now - w->start_ms > h->timeout_ms) {
                /* MHD sees EOF/error on its next read and closes it. */
                shutdown(w->fd, SHUT_RDWR);
                w->cut = 1;
            }
        pthread_mutex_unlock(&h->lock);
    }
}

/* ---- daemon --------------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6,
                        char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':'), *h = listen;
    size_t hl;
    struct addrinfo hints = {0}, *ai = NULL;
    int rc;

    if (colon == NULL || colon[1] == '\0')
        return snprintf(err, errlen, "listen '%s': expected HOST:PORT", listen), -1;
    hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
        h++, hl -= 2;
    if (hl == 0 || hl >= sizeof host)
        return snprintf(err, errlen, "listen '%s': bad host", listen), -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0)
        return snprintf(err, errlen, "listen '%s': %s", listen, gai_strerror(rc)), -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return 0;
}

/* libmicrohttpd's own messages may quote the request URL (the token) or
 * the client address: only the format text is logged, never its
 * arguments. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[256];

    (void)cls;
    (void)ap;
    snprintf(line, sizeof line, "%s", fmt);
    line[strcspn(line, "\n")] = '\0';
    log_warn("httpd: %s", line);
}

static enum MHD_Result metrics_reply(struct MHD_Connection *conn, unsigned status,
                                     const char *type, const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The metrics listener: GET /metrics and nothing else, no body. */
static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct gate_http *h = cls;
    static int first;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_data_size)
        return MHD_NO;
    if (h->nallow) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        uint8_t a[CIDR_ADDR_LEN];
        if (!ci || cidr_addr_from_sockaddr(ci->client_addr, a) != 0 ||
            !cidr_match(h->allow, h->nallow, a))
            return metrics_reply(conn, MHD_HTTP_FORBIDDEN, "text/plain", "forbidden\n", 10);
    }
    if (strcmp(url, "/metrics") != 0)
        return metrics_reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return metrics_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n",
                             9);
    struct buf b = BUF_INIT(1 << 20);
    enum MHD_Result ret =
        gate_metrics_render(h->g, &b) == 0
            ? metrics_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                            buf_cstr(&b), b.len)
            : metrics_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "error\n", 6);
    buf_free(&b);
    return ret;
}

static int metrics_start(struct gate_http *h, const struct cfg *cfg, char *err,
                         size_t errlen)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (!cfg->gate_metrics_listen || strcmp(cfg->gate_metrics_listen, "off") == 0)
        return 0;
    if (parse_listen(cfg->gate_metrics_listen, &ss, &v6, err, errlen) != 0)
        return -1;
    if (cfg->ngate_metrics_allow) {
        h->allow = calloc(cfg->ngate_metrics_allow, sizeof *h->allow);
        if (!h->allow)
            return snprintf(err, errlen, "out of memory"), -1;
        memcpy(h->allow, cfg->gate_metrics_allow,
               cfg->ngate_metrics_allow * sizeof *h->allow);
        h->nallow = cfg->ngate_metrics_allow;
    }
    /* clang-format off */
    h->md = MHD_start_daemon(
        flags | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, on_metrics, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->gate_timeout,
        MHD_OPTION_CONNECTION_LIMIT, 16u,
        MHD_OPTION_END);
    /* clang-format on */
    if (h->md == NULL)
        return snprintf(err, errlen,
                        "cannot listen on %s for metrics (address in use or not "
                        "permitted?)",
                        cfg->gate_metrics_listen),
               -1;
    return 0;
}

struct gate_http *gate_http_start(struct gate *g, const struct cfg *cfg, char *err,
                                  size_t errlen)
{
    struct sockaddr_storage ss;
    struct gate_http *h;
    int v6 = 0;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (parse_listen(cfg->gate_listen, &ss, &v6, err, errlen) != 0)
        return NULL;
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return snprintf(err, errlen, "out of memory"), NULL;
    h->g = g;
    h->timeout_ms = cfg->gate_timeout * 1000u;
    pthread_mutex_init(&h->lock, NULL);
    /* clang-format off */
    h->d = MHD_start_daemon(
        flags | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, on_request, g,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->gate_threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->gate_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GATE_CONN_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)GATE_CONN_LIMIT,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    /* clang-format on */
    if (h->d == NULL) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not permitted?)",
                 cfg->gate_listen);
        gate_http_stop(h);
        return NULL;
    }
    if (metrics_start(h, cfg, err, errlen) != 0) {
        gate_http_stop(h);
        return NULL;
    }
    if (pthread_create(&h->watchdog, NULL, watchdog, h) == 0)
        h->watchdog_started = 1;
    return h;
}

void gate_http_stop(struct gate_http *h)
{
    if (h == NULL)
        return;
    if (h->watchdog_started) {
        pthread_mutex_lock(&h->lock);
        h->stop = 1;
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watchdog, NULL);
    }
    if (h->md)
        MHD_stop_daemon(h->md);
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->allow);
    for (size_t i = 0; i < IP_BUCKETS; i++) /* empty after MHD_stop_daemon */
        for (struct ipslot *p = h->ips[i], *n; p; p = n) {
            n = p->next;
            free(p);
        }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

uint16_t gate_http_metrics_port(const struct gate_http *h)
{
    const union MHD_DaemonInfo *di =
        h && h->md ? MHD_get_daemon_info(h->md, MHD_DAEMON_INFO_BIND_PORT) : NULL;

    return di ? di->port : 0;
}

uint16_t gate_http_port(const struct gate_http *h)
{
    const union MHD_DaemonInfo *di =
        h && h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;

    return di ? di->port : 0;
}
