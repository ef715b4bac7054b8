/* SPDX-License-Identifier: MIT */
/*
 * slowlink.c - a TCP proxy that behaves like a bad 2G link.
 *
 * Tests and benchmarks put slowlink between the village agent and the hub
 * to see how sync copes with the links villages really have: a few kbit/s
 * shared by every connection, hundreds of milliseconds of latency, links
 * that stall, and transfers cut in the middle. It relays bytes opaquely, so
 * TLS passes through untouched. One poll() loop serves every connection:
 * each chunk read is queued with the time it may leave (read time plus the
 * latency), and leaves once that time has come, the direction's shared
 * token bucket allows it and no stall holds it. Cuts and stalls count bytes
 * actually delivered, so a test that cuts at byte 2000 cuts at byte 2000
 * every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC        1000000000LL
#define NS_PER_MS         1000000LL
#define QUEUE_MAX         (1024 * 1024) /* memory queued per direction per connection */
#define READ_MAX          (16 * 1024)
#define QUANTUM           1024 /* a rate-limited write waits for this many tokens */
#define ACCEPT_BACKOFF_NS (100 * NS_PER_MS)
#define MAX_RATE_KBIT     10000000ULL /* 10 Gbit/s keeps token arithmetic in range */
#define MAX_MS            3600000ULL
#define MAX_BYTES         (1ULL << 62)
#define NEVER             INT64_MAX

/* A flow is one direction of a connection; its index is the side it reads. */
enum { CLIENT = 0, SERVER = 1 };
enum { UP = CLIENT, DOWN = SERVER };

struct chunk {
    struct chunk *next;
    int64_t ready_at; /* monotonic ns before which no byte of it leaves */
    size_t len;
    size_t off; /* bytes already delivered */
    unsigned char data[];
};

struct flow {
    struct chunk *head;
    struct chunk *tail;
    size_t cost;    /* memory the queue holds, chunk headers included */
    int64_t eof_at; /* when the source's EOF may be passed on */
    int src_eof;
    int shut_done;   /* EOF passed on to the destination */
    int out_blocked; /* the destination said EAGAIN; wait for POLLOUT */
};

struct conn {
    int fd[2];
    int connecting; /* the upstream connect() is still in progress */
    int dead;       /* cut or failed: close without flushing */
    int stall_done;
    int64_t stall_until;
    uint64_t passed; /* bytes delivered, both directions */
    struct flow flow[2];
    size_t slot[2]; /* index of each side in the pollfd array */
};

/* Tokens are kept in nanobytes so that refills need no division. */
struct bucket {
    int64_t rate; /* bytes per second; 0 for unlimited */
    int64_t cap;
    int64_t tokens;
    int64_t last;
};

struct options {
    const char *listen_addr;
    const char *connect_addr;
    const char *stats_path;
    const char *port_path;
    uint64_t rate_kbit;
    uint64_t latency_ms;
    uint64_t cut_after;
    uint64_t cut_every;
    uint64_t stall_after;
    uint64_t stall_ms;
    int have_stall_after;
    int have_stall_ms;
};

struct proxy {
    struct options opt;
    struct sockaddr_storage upstream;
    socklen_t upstream_len;
    int listen_fd;
    int64_t accept_paused_until;
    struct conn **conns;
    size_t n_conns;
    size_t cap_conns;
    struct pollfd *pfds;
    size_t cap_pfds;
    size_t rotate; /* where the next pump pass starts, for fairness */
    struct bucket bucket[2];
    uint64_t every_count; /* bytes since the last --cut-every cut */
    uint64_t connections;
    uint64_t bytes[2];
    uint64_t cuts;
    int stats_failed;
};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t quit_requested;

static const char usage_text[] =
    "usage: slowlink --listen HOST:PORT --connect HOST:PORT [options]\n"
    "\n"
    "A TCP proxy that emulates a bad link; bytes pass through untouched.\n"
    "\n"
    "  --listen HOST:PORT    where to accept; port 0 picks a free port\n"
    "  --connect HOST:PORT   where to relay each connection\n"
    "  --rate KBIT           kbit/s per direction, shared by all connections (0: unlimited)\n"
    "  --latency MS          one-way delay added to every byte in each direction\n"
    "  --cut-after BYTES     close a connection once BYTES (both directions) have passed\n"
    "  --cut-every BYTES     close the current connection every BYTES of traffic, counted\n"
    "                        over all connections (cuts: 0 or absent means never)\n"
    "  --stall-after BYTES   after BYTES on a connection, stop forwarding once ...\n"
    "  --stall-ms MS         ... for MS milliseconds (the two go together)\n"
    "  --stats FILE          write {\"connections\",\"bytes_up\",\"bytes_down\",\"cuts\"} as\n"
    "                        JSON after each closed connection and on exit\n"
    "  --port-file FILE      write the listening port to FILE\n"
    "  --help                this text\n"
    "\n"
    "Prints \"listening on HOST:PORT\" once ready. SIGTERM or SIGINT: write stats, exit 0.\n"
    "Exit status 2 for bad arguments, 1 when the proxy cannot start.\n";

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int64_t min_i64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ---- arguments ---- */

/* parse_uint: a plain decimal number from 0 to max; -1 for anything else. */
static int parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long value;

    if (*text < '0' || *text > '9')
        return -1; /* strtoull would accept spaces and a minus sign */
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max)
        return -1;
    *out = value;
    return 0;
}

/* resolve: HOST:PORT (HOST may be [v6]) into an address. NULL, or why not. */
static const char *resolve(const char *spec, int passive, struct sockaddr_storage *addr,
                           socklen_t *addr_len)
{
    const char *colon = strrchr(spec, ':');
    const char *why = NULL;
    const char *host_start = spec;
    struct addrinfo hints, *found = NULL;
    char port_text[8];
    uint64_t port;
    size_t host_len;
    char *host;
    int rc;

    if (colon == NULL || colon == spec)
        return "want HOST:PORT";
    if (parse_uint(colon + 1, 65535, &port) < 0 || (!passive && port == 0))
        return passive ? "the port must be 0 to 65535" : "the port must be 1 to 65535";
    host_len = (size_t)(colon - spec);
    if (host_len >= 2 && spec[0] == '[' && spec[host_len - 1] == ']') {
        host_start++;
        host_len -= 2;
    }
    host = malloc(host_len + 1);
    if (host == NULL)
        return "out of memory";
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    snprintf(port_text, sizeof port_text, "%u", (unsigned)port);

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    rc = getaddrinfo(host, port_text, &hints, &found);
    if (rc != 0)
        why = gai_strerror(rc);
    else if (found->ai_addrlen > sizeof *addr)
        why = "address too long";
    else {
        memcpy(addr, found->ai_addr, found->ai_addrlen);
        *addr_len = found->ai_addrlen;
    }
    if (found != NULL)
        freeaddrinfo(found);
    free(host);
    return why;
}

/* parse_args: 0 to run, 1 after --help, -1 after reporting a bad argument. */
static int parse_args(int argc, char **argv, struct options *opt)
{
    /* A numeric option has a target and a range; the others keep the text. */
    struct {
        const char *name;
        const char **text;
        uint64_t *number;
        uint64_t max;
        const char *unit;
        int *seen;
    } known[] = {
        {"--listen", &opt->listen_addr, NULL, 0, NULL, NULL},
        {"--connect", &opt->connect_addr, NULL, 0, NULL, NULL},
        {"--stats", &opt->stats_path, NULL, 0, NULL, NULL},
        {"--port-file", &opt->port_path, NULL, 0, NULL, NULL},
        {"--rate", NULL, &opt->rate_kbit, MAX_RATE_KBIT, "kbit/s", NULL},
        {"--latency", NULL, &opt->latency_ms, MAX_MS, "milliseconds", NULL},
        {"--cut-after", NULL, &opt->cut_after, MAX_BYTES, "bytes", NULL},
        {"--cut-every", NULL, &opt->cut_every, MAX_BYTES, "bytes", NULL},
        {"--stall-after", NULL, &opt->stall_after, MAX_BYTES, "bytes", &opt->have_stall_after},
        {"--stall-ms", NULL, &opt->stall_ms, MAX_MS, "milliseconds", &opt->have_stall_ms},
    };
    size_t n_known = sizeof known / sizeof known[0];
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const char *value = eq != NULL ? eq + 1 : NULL;
        size_t k;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        }
        for (k = 0; k < n_known; k++)
            if (strlen(known[k].name) == name_len && strncmp(arg, known[k].name, name_len) == 0)
                break;
        if (k == n_known) {
            fprintf(stderr, "slowlink: unknown argument '%.*s' (see --help)\n", (int)name_len, arg);
            return -1;
        }
        if (value == NULL && i + 1 < argc)
            value = argv[++i];
        if (value == NULL) {
            fprintf(stderr, "slowlink: %s needs a value (see --help)\n", known[k].name);
            return -1;
        }
        if (known[k].text != NULL) {
            *known[k].text = value;
            continue;
        }
        if (parse_uint(value, known[k].max, known[k].number) < 0) {
            fprintf(stderr, "slowlink: %s '%s': want %s, a whole number from 0 to %" PRIu64 "\n",
                    known[k].name, value, known[k].unit, known[k].max);
            return -1;
        }
        if (known[k].seen != NULL)
            *known[k].seen = 1;
    }

    if (opt->listen_addr == NULL || opt->connect_addr == NULL) {
        fprintf(stderr, "slowlink: --listen and --connect are required (see --help)\n");
        return -1;
    }
    if (opt->have_stall_after != opt->have_stall_ms) {
        fprintf(stderr, "slowlink: --stall-after and --stall-ms go together (see --help)\n");
        return -1;
    }
    return 0;
}

/* ---- files ---- */

/* write_atomic: replace path with text through a temporary file and rename(),
 * so that readers see the old content or the new, never half of it. */
static int write_atomic(const char *path, const char *text)
{
    size_t tmp_size = strlen(path) + 32;
    char *tmp = malloc(tmp_size);
    FILE *fp = NULL;

    if (tmp == NULL)
        return -1;
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());
    fp = fopen(tmp, "w");
    if (fp == NULL)
        goto fail;
    if (fputs(text, fp) == EOF)
        goto fail;
    if (fclose(fp) != 0) {
        fp = NULL;
        goto fail;
    }
    fp = NULL;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return 0;

fail:
    if (fp != NULL)
        fclose(fp);
    unlink(tmp);
    free(tmp);
    return -1;
}

static void stats_write(struct proxy *p)
{
    char text[160];

    if (p->opt.stats_path == NULL)
        return;
    snprintf(text, sizeof text,
             "{\"connections\":%" PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
             ",\"cuts\":%" PRIu64 "}\n",
             p->connections, p->bytes[UP], p->bytes[DOWN], p->cuts);
    if (write_atomic(p->opt.stats_path, text) < 0 && !p->stats_failed) {
        fprintf(stderr, "slowlink: cannot write stats to %s: %s\n", p->opt.stats_path,
                strerror(errno));
        p->stats_failed = 1; /* say it once, keep relaying */
    }
}

/* ---- the token buckets ---- */

static void bucket_init(struct bucket *b, uint64_t rate_kbit, int64_t now)
{
    b->rate = (int64_t)rate_kbit * 125;
    b->cap = (b->rate / 50 > QUANTUM ? b->rate / 50 : QUANTUM) * NS_PER_SEC;
    b->tokens = b->cap;
    b->last = now;
}

static void bucket_refill(struct bucket *b, int64_t now)
{
    int64_t elapsed = now - b->last;

    if (b->rate == 0 || elapsed <= 0)
        return;
    b->last = now;
    if (elapsed > NS_PER_SEC)
        elapsed = NS_PER_SEC; /* the bucket is full by then anyway */
    b->tokens += elapsed * b->rate;
    if (b->tokens > b->cap)
        b->tokens = b->cap;
}

/* bucket_wait: nanoseconds until the bucket holds want bytes. */
static int64_t bucket_wait(const struct bucket *b, size_t want)
{
    int64_t missing = (int64_t)want * NS_PER_SEC - b->tokens;

    if (missing <= 0)
        return 0;
    return (missing + b->rate - 1) / b->rate;
}

/* ---- connections ---- */

static void set_socket_options(int fd)
{
    int one = 1;
    int flags = fcntl(fd, F_GETFL);

    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    /* The emulated link decides when bytes leave, not Nagle's algorithm. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void conn_free(struct conn *c)
{
    int d;

    if (c == NULL)
        return;
    for (d = 0; d < 2; d++) {
        struct chunk *ch = c->flow[d].head;

        while (ch != NULL) {
            struct chunk *next = ch->next;

            free(ch);
            ch = next;
        }
        if (c->fd[d] >= 0)
            close(c->fd[d]);
    }
    free(c);
}

/* conn_check_thresholds: cut or stall the connection once its counts say so. */
static void conn_check_thresholds(struct proxy *p, struct conn *c, int64_t now)
{
    int cut = 0;

    if (p->opt.cut_after != 0 && c->passed >= p->opt.cut_after)
        cut = 1;
    if (p->opt.cut_every != 0 && p->every_count >= p->opt.cut_every) {
        cut = 1;
        p->every_count = 0;
    }
    if (cut) {
        c->dead = 1;
        p->cuts++;
        return;
    }
    if (p->opt.have_stall_after && !c->stall_done && c->passed >= p->opt.stall_after) {
        c->stall_done = 1;
        c->stall_until = now + (int64_t)p->opt.stall_ms * NS_PER_MS;
    }
}

static int conn_open(struct proxy *p, int client_fd, int64_t now)
{
    struct conn *c = NULL;
    int server_fd = -1;
    int connecting = 0;

    if (p->n_conns == p->cap_conns) {
        size_t cap = p->cap_conns ? p->cap_conns * 2 : 64;
        struct conn **grown = realloc(p->conns, cap * sizeof *grown);

        if (grown == NULL)
            goto oom;
        p->conns = grown;
        p->cap_conns = cap;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto oom;
    server_fd = socket(p->upstream.ss_family, SOCK_STREAM, 0);
    if (server_fd < 0) {
        fprintf(stderr, "slowlink: cannot open a socket to %s: %s\n", p->opt.connect_addr,
                strerror(errno));
        goto fail;
    }
    set_socket_options(client_fd);
    set_socket_options(server_fd);
    if (connect(server_fd, (struct sockaddr *)&p->upstream, p->upstream_len) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            fprintf(stderr, "slowlink: cannot connect to %s: %s\n", p->opt.connect_addr,
                    strerror(errno));
            goto fail;
        }
        connecting = 1;
    }
    c->fd[CLIENT] = client_fd;
    c->fd[SERVER] = server_fd;
    c->connecting = connecting;
    conn_check_thresholds(p, c, now); /* --stall-after 0 stalls from the start */
    p->conns[p->n_conns++] = c;
    return 0;

oom:
    fprintf(stderr, "slowlink: out of memory, refusing a connection\n");
fail:
    if (server_fd >= 0)
        close(server_fd);
    free(c);
    return -1;
}

/* conn_connected: the upstream connect() finished, one way or the other. */
static void conn_connected(struct proxy *p, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd[SERVER], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        fprintf(stderr, "slowlink: cannot connect to %s: %s\n", p->opt.connect_addr, strerror(err));
        c->dead = 1;
        return;
    }
    c->connecting = 0;
}

/* flow_sendable: bytes of the head chunk that may go before a cut or stall. */
static size_t flow_sendable(const struct proxy *p, const struct conn *c, const struct flow *f)
{
    uint64_t n = f->head->len - f->head->off;

    if (p->opt.cut_after != 0)
        n = min_u64(n, p->opt.cut_after - c->passed);
    if (p->opt.cut_every != 0)
        n = min_u64(n, p->opt.cut_every - p->every_count);
    if (p->opt.have_stall_after && !c->stall_done)
        n = min_u64(n, p->opt.stall_after - c->passed);
    return (size_t)n;
}

/* flow_fill: one read from the flow's source into its queue. */
static void flow_fill(struct proxy *p, struct conn *c, int d, int64_t now)
{
    unsigned char buf[READ_MAX];
    struct flow *f = &c->flow[d];
    size_t room = QUEUE_MAX - f->cost;
    struct chunk *ch;
    ssize_t got;

    if (room <= sizeof *ch)
        return;
    room -= sizeof *ch;
    got = read(c->fd[d], buf, room < sizeof buf ? room : sizeof buf);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->dead = 1;
        return;
    }
    if (got == 0) {
        f->src_eof = 1;
        f->eof_at = now + (int64_t)p->opt.latency_ms * NS_PER_MS;
        return;
    }
    ch = malloc(sizeof *ch + (size_t)got);
    if (ch == NULL) {
        fprintf(stderr, "slowlink: out of memory, dropping a connection\n");
        c->dead = 1;
        return;
    }
    ch->next = NULL;
    ch->ready_at = now + (int64_t)p->opt.latency_ms * NS_PER_MS;
    ch->len = (size_t)got;
    ch->off = 0;
    memcpy(ch->data, buf, (size_t)got);
    if (f->tail != NULL)
        f->tail->next = ch;
    else
        f->head = ch;
    f->tail = ch;
    f->cost += sizeof *ch + (size_t)got;
}

/* flow_pump: deliver whatever the latency, the bucket, cuts and stalls allow,
 * then pass on the source's EOF once the queue is empty. */
static void flow_pump(struct proxy *p, struct conn *c, int d, int64_t now)
{
    struct flow *f = &c->flow[d];
    struct bucket *b = &p->bucket[d];
    int dst = c->fd[1 - d];

    if (c->connecting)
        return;
    while (!c->dead && now >= c->stall_until) {
        struct chunk *ch = f->head;
        ssize_t put;
        size_t n;

        if (ch == NULL) {
            if (f->src_eof && !f->shut_done && now >= f->eof_at) {
                shutdown(dst, SHUT_WR);
                f->shut_done = 1;
            }
            return;
        }
        if (f->out_blocked || ch->ready_at > now)
            return;
        n = flow_sendable(p, c, f);
        if (b->rate != 0) {
            size_t have = (size_t)(b->tokens / NS_PER_SEC);

            if (have < (n < QUANTUM ? n : QUANTUM))
                return;
            if (n > have)
                n = have;
        }
        put = write(dst, ch->data + ch->off, n);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                f->out_blocked = 1;
            else
                c->dead = 1;
            return;
        }
        ch->off += (size_t)put;
        c->passed += (uint64_t)put;
        p->every_count += (uint64_t)put;
        p->bytes[d] += (uint64_t)put;
        if (b->rate != 0)
            b->tokens -= (int64_t)put * NS_PER_SEC;
        if (ch->off == ch->len) {
            f->head = ch->next;
            if (f->head == NULL)
                f->tail = NULL;
            f->cost -= sizeof *ch + ch->len;
            free(ch);
        }
        conn_check_thresholds(p, c, now);
    }
}

/* conn_deadline: the earliest time a timer of this connection expires. */
static int64_t conn_deadline(const struct proxy *p, const struct conn *c, int64_t now)
{
    int64_t when = NEVER;
    int d;

    if (c->connecting)
        return NEVER;
    for (d = 0; d < 2; d++) {
        const struct flow *f = &c->flow[d];
        const struct bucket *b = &p->bucket[d];

        if (f->head == NULL && !(f->src_eof && !f->shut_done))
            continue;
        if (now < c->stall_until)
            when = min_i64(when, c->stall_until);
        else if (f->head == NULL)
            when = min_i64(when, f->eof_at);
        else if (f->out_blocked)
            continue; /* POLLOUT will wake us */
        else if (f->head->ready_at > now)
            when = min_i64(when, f->head->ready_at);
        else if (b->rate != 0) {
            size_t n = flow_sendable(p, c, f);

            when = min_i64(when, now + bucket_wait(b, n < QUANTUM ? n : QUANTUM));
        }
    }
    return when;
}

static short conn_events(const struct conn *c, int side)
{
    const struct flow *in = &c->flow[side];
    const struct flow *out = &c->flow[1 - side];
    short events = 0;

    if (side == SERVER && c->connecting)
        return POLLOUT;
    if (!in->src_eof && QUEUE_MAX - in->cost > sizeof(struct chunk))
        events |= POLLIN;
    if (out->out_blocked)
        events |= POLLOUT;
    return events;
}

/* ---- the proxy ---- */

static void proxy_accept(struct proxy *p, int64_t now)
{
    int i;

    for (i = 0; i < 64; i++) {
        int fd = accept(p->listen_fd, NULL, NULL);

        if (fd < 0) {
            int err = errno;

            if (err == ECONNABORTED || err == EINTR)
                continue;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                /* Out of descriptors: the listener would stay readable and spin. */
                fprintf(stderr, "slowlink: cannot accept: %s; pausing\n", strerror(err));
                p->accept_paused_until = now + ACCEPT_BACKOFF_NS;
            }
            return;
        }
        p->connections++;
        if (conn_open(p, fd, now) < 0) {
            close(fd);
            stats_write(p);
        }
    }
}

static void proxy_pump(struct proxy *p, int64_t now)
{
    size_t n = p->n_conns;
    size_t k;
    int d;

    bucket_refill(&p->bucket[UP], now);
    bucket_refill(&p->bucket[DOWN], now);
    for (k = 0; k < n; k++) {
        struct conn *c = p->conns[(p->rotate + k) % n];

        for (d = 0; d < 2; d++)
            flow_pump(p, c, d, now);
    }
    p->rotate++;
}

/* proxy_reap: close cut, failed and finished connections. */
static void proxy_reap(struct proxy *p)
{
    size_t i = 0;
    int closed = 0;

    while (i < p->n_conns) {
        struct conn *c = p->conns[i];

        if (c->dead || (c->flow[UP].shut_done && c->flow[DOWN].shut_done)) {
            conn_free(c);
            p->conns[i] = p->conns[--p->n_conns];
            closed = 1;
        } else {
            i++;
        }
    }
    if (closed)
        stats_write(p);
}

/* proxy_poll: wait for sockets or timers; fills p->pfds. -1 on failure. */
static int proxy_poll(struct proxy *p, int64_t now)
{
    size_t need = 2 + 2 * p->n_conns;
    int64_t when = NEVER;
    size_t n = 0, i;
    int side, timeout = -1;

    if (need > p->cap_pfds) {
        struct pollfd *grown = realloc(p->pfds, need * 2 * sizeof *grown);

        if (grown == NULL) {
            fprintf(stderr, "slowlink: out of memory\n");
            return -1;
        }
        p->pfds = grown;
        p->cap_pfds = need * 2;
    }
    p->pfds[n].fd = sig_pipe[0];
    p->pfds[n++].events = POLLIN;
    p->pfds[n].fd = now >= p->accept_paused_until ? p->listen_fd : -1;
    p->pfds[n++].events = POLLIN;
    if (now < p->accept_paused_until)
        when = p->accept_paused_until;
    for (i = 0; i < p->n_conns; i++) {
        struct conn *c = p->conns[i];

        for (side = 0; side < 2; side++) {
            short events = conn_events(c, side);

            /* A socket we want nothing from stays out: its POLLHUP would spin. */
            p->pfds[n].fd = events != 0 ? c->fd[side] : -1;
            p->pfds[n].events = events;
            c->slot[side] = n++;
        }
        when = min_i64(when, conn_deadline(p, c, now));
    }
    for (i = 0; i < n; i++)
        p->pfds[i].revents = 0;

    if (when != NEVER) {
        int64_t wait_ms = when <= now ? 0 : (when - now + NS_PER_MS - 1) / NS_PER_MS;

        timeout = wait_ms > 60000 ? 60000 : (int)wait_ms;
    }
    if (poll(p->pfds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
        fprintf(stderr, "slowlink: poll: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void proxy_handle(struct proxy *p, int64_t now)
{
    size_t i;
    int side;

    for (i = 0; i < p->n_conns; i++) {
        struct conn *c = p->conns[i];

        for (side = 0; side < 2 && !c->dead; side++) {
            const struct pollfd *pfd = &p->pfds[c->slot[side]];

            if (pfd->revents == 0)
                continue;
            if (side == SERVER && c->connecting) {
                conn_connected(p, c);
                continue;
            }
            if (pfd->revents & (POLLOUT | POLLERR | POLLHUP))
                c->flow[1 - side].out_blocked = 0;
            if ((pfd->events & POLLIN) && (pfd->revents & (POLLIN | POLLERR | POLLHUP)))
                flow_fill(p, c, side, now);
        }
    }
    if (p->pfds[1].revents & POLLIN)
        proxy_accept(p, now);
}

static int proxy_run(struct proxy *p)
{
    for (;;) {
        int64_t now = now_ns();

        proxy_pump(p, now);
        proxy_reap(p);
        if (quit_requested)
            return 0;
        if (proxy_poll(p, now) < 0)
            return 1;
        if (quit_requested)
            return 0;
        proxy_handle(p, now_ns());
    }
}

/* ---- setup ---- */

static void on_signal(int sig)
{
    int saved = errno;
    char byte = (char)sig;

    quit_requested = 1;
    if (write(sig_pipe[1], &byte, 1) < 0) {
        /* The pipe is full, so poll() wakes anyway. */
    }
    errno = saved;
}

static int setup_signals(void)
{
    struct sigaction sa;
    int i;

    if (pipe(sig_pipe) < 0)
        return -1;
    for (i = 0; i < 2; i++) {
        int flags = fcntl(sig_pipe[i], F_GETFL);

        if (flags < 0 || fcntl(sig_pipe[i], F_SETFL, flags | O_NONBLOCK) < 0)
            return -1;
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = on_signal;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    return 0;
}

/* raise_fd_limit: hundreds of connections need two descriptors each. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int open_listener(struct proxy *p, const struct sockaddr_storage *addr, socklen_t len)
{
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    char host[NI_MAXHOST], port[NI_MAXSERV], line[NI_MAXHOST + NI_MAXSERV + 32];
    int one = 1;
    int fd;

    fd = socket(addr->ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0)
        goto fail;
    set_socket_options(fd);
    if (getnameinfo((struct sockaddr *)&bound, bound_len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        errno = EINVAL;
        goto fail;
    }
    p->listen_fd = fd;
    if (p->opt.port_path != NULL) {
        snprintf(line, sizeof line, "%s\n", port);
        if (write_atomic(p->opt.port_path, line) < 0) {
            fprintf(stderr, "slowlink: cannot write %s: %s\n", p->opt.port_path, strerror(errno));
            return -1;
        }
    }
    if (bound.ss_family == AF_INET6)
        printf("listening on [%s]:%s\n", host, port);
    else
        printf("listening on %s:%s\n", host, port);
    fflush(stdout);
    return 0;

fail:
    fprintf(stderr, "slowlink: cannot listen on %s: %s\n", p->opt.listen_addr, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int main(int argc, char **argv)
{
    struct proxy p;
    struct sockaddr_storage listen_addr;
    socklen_t listen_len = 0;
    const char *why;
    int64_t now;
    size_t i;
    int rc;

    memset(&p, 0, sizeof p);
    p.listen_fd = -1;
    rc = parse_args(argc, argv, &p.opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    why = resolve(p.opt.listen_addr, 1, &listen_addr, &listen_len);
    if (why != NULL) {
        fprintf(stderr, "slowlink: --listen '%s': %s\n", p.opt.listen_addr, why);
        return 2;
    }
    why = resolve(p.opt.connect_addr, 0, &p.upstream, &p.upstream_len);
    if (why != NULL) {
        fprintf(stderr, "slowlink: --connect '%s': %s\n", p.opt.connect_addr, why);
        return 2;
    }
    if (setup_signals() < 0) {
        fprintf(stderr, "slowlink: cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    raise_fd_limit();
    if (open_listener(&p, &listen_addr, listen_len) < 0)
        return 1;
    now = now_ns();
    bucket_init(&p.bucket[UP], p.opt.rate_kbit, now);
    bucket_init(&p.bucket[DOWN], p.opt.rate_kbit, now);
    stats_write(&p);

    rc = proxy_run(&p);

    stats_write(&p);
    for (i = 0; i < p.n_conns; i++)
        conn_free(p.conns[i]);
    free(p.conns);
    free(p.pfds);
    close(p.listen_fd);
    return rc;
}
