/* Differential oracle for tests/test_mmsg_c.py: batched UDP over loopback with sendmmsg/recvmmsg
 * called directly (no GLib), the way GLib's g_socket_send_messages/g_socket_receive_messages drive
 * them on Linux (reference glib-socket-semantics.md §2.6, §2.7). test_mmsg_c.py compiles it with
 * `gcc -O2 -Wall` into a temporary directory; no binary is kept in the repository.
 *
 *   mmsg_probe FAMILY OP...
 *
 * FAMILY is 4 (127.0.0.1) or 6 (::1). The probe makes two UDP sockets bound to loopback port 0:
 * a blocking sender and a non-blocking receiver (as a GLib socket with blocking=FALSE), both
 * with SO_RCVBUF raised to 4 MiB (SO_RCVBUFFORCE where permitted) so that nothing is dropped.
 * The OPs run in order:
 *
 *   send=LAYOUTS[/FLAGS]  one g_socket_send_messages: a message per layout, sent to the receiver
 *                         by address; then 20 ms for loopback delivery to settle
 *   recv=LAYOUTS[/FLAGS]  one non-blocking g_socket_receive_messages: a message per layout
 *
 * LAYOUTS is a ';'-separated list of message layouts, each a ','-separated list of vector sizes,
 * optionally followed by "@COUNT" to repeat it: "4,8" is one message of two vectors (4 and 8
 * bytes), "13@3" three messages of one 13-byte vector, "0" a message with no vectors at all
 * (msg_iovlen 0); a 0 among other sizes ("4,0,8") is a literal zero-sized vector. A sent
 * datagram is the concatenation of its vectors; byte j of the k-th message of the whole run
 * (counting every message of every send, sent or not) is (k * 37 + j * 11 + 5) & 0xff.
 * Receive vectors are filled with 0xee before the call. FLAGS is a '+'-joined list of peek,
 * trunc, dontwait, waitall, errqueue, oob or decimal numbers; default 0.
 *
 * Both loops are GLib's: clamp the batch to IOV_MAX (1024), then call the syscall on the rest
 * (vec + n, count - n) until all moved; EINTR retries; EAGAIN or another error stops with the
 * count so far, or reports the error when nothing moved; a return of 0 stops. sendmmsg gets
 * flags | MSG_NOSIGNAL; recvmmsg gets flags | MSG_CMSG_CLOEXEC | MSG_NOSIGNAL (EINVAL: retried
 * without MSG_CMSG_CLOEXEC), a 128-byte source-address buffer and no control buffer.
 *
 * Output, one JSON object on stdout:
 *   {"family": 4|6, "rcvbuf": effective SO_RCVBUF of the receiver, "ops": [OP...]} with
 *   send: {"op": "send", "count": messages given, "ret": n or -1, "errno": errno or 0,
 *          "error": strerror or null, "msg_len": [msg_len of each of the n sent]}
 *   recv: {"op": "recv", "count": messages given, "ret": n or -1, "errno": errno or 0,
 *          "error": strerror or null,
 *          "msgs": [{"len": msg_len, "flags": msg_flags, "family": sa_family,
 *                    "port_nonzero": bool, "from_sender": bool (source is the sender's address),
 *                    "data": [hex of each vector's whole buffer]} for each of the n received]}
 * Exit status 2 on bad arguments, 1 on a setup failure (message on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024 /* G_IOV_MAX on Linux (IOV_MAX / UIO_MAXIOV) */
#define RCVBUF (4 << 20)
#define NAME_SIZE 128 /* GLib's source-address storage */
#define FILL 0xee

struct layout {
    size_t count;  /* messages */
    size_t nvec;   /* vectors per message (0: none) */
    size_t *sizes; /* nvec sizes */
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void usage(const char *why, const char *arg) {
    fprintf(stderr, "mmsg_probe: %s: %s\n", why, arg);
    exit(2);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("calloc");
    return p;
}

static size_t number(const char *s, const char *arg) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        usage("bad number", arg);
    return (size_t)v;
}

static int parse_flags(char *s, const char *arg) {
    int flags = 0;
    for (char *save = NULL, *tok = strtok_r(s, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        if (!strcmp(tok, "peek"))
            flags |= MSG_PEEK;
        else if (!strcmp(tok, "trunc"))
            flags |= MSG_TRUNC;
        else if (!strcmp(tok, "dontwait"))
            flags |= MSG_DONTWAIT;
        else if (!strcmp(tok, "waitall"))
            flags |= MSG_WAITALL;
        else if (!strcmp(tok, "errqueue"))
            flags |= MSG_ERRQUEUE;
        else if (!strcmp(tok, "oob"))
            flags |= MSG_OOB;
        else
            flags |= (int)number(tok, arg);
    }
    return flags;
}

/* "4,8@3;0;13" -> layouts; returns how many, total messages in *total. */
static struct layout *parse_layouts(char *s, size_t *nlayouts, size_t *total, const char *arg) {
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ';';
    struct layout *out = xcalloc(cap, sizeof *out);
    size_t n = 0;
    *total = 0;
    for (char *save = NULL, *msg = strtok_r(s, ";", &save); msg; msg = strtok_r(NULL, ";", &save)) {
        struct layout *l = &out[n++];
        char *at = strchr(msg, '@');
        l->count = 1;
        if (at) {
            *at = '\0';
            l->count = number(at + 1, arg);
        }
        size_t nvec = 1;
        for (const char *p = msg; *p; p++)
            nvec += *p == ',';
        l->sizes = xcalloc(nvec, sizeof *l->sizes);
        size_t i = 0;
        for (char *save2 = NULL, *v = strtok_r(msg, ",", &save2); v; v = strtok_r(NULL, ",", &save2))
            l->sizes[i++] = number(v, arg);
        l->nvec = (i == 1 && l->sizes[0] == 0) ? 0 : i; /* "0" alone: no vectors */
        if (i == 0)
            usage("empty layout", arg);
        *total += l->count;
    }
    if (n == 0)
        usage("no layouts", arg);
    *nlayouts = n;
    return out;
}

static unsigned char pattern(size_t k, size_t j) {
    return (unsigned char)((k * 37 + j * 11 + 5) & 0xff);
}

static void print_hex(const unsigned char *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
    putchar('"');
}

static void print_error(int ret, int err) {
    if (ret < 0)
        printf("\"errno\": %d, \"error\": \"%s\"", err, strerror(err));
    else
        printf("\"errno\": 0, \"error\": null");
}

/* Builds the iovecs of `total` messages from the layouts; buffers allocated, filled by `fill`. */
static void build(struct mmsghdr *vec, struct layout *layouts, size_t nlayouts, int sending, size_t *next_k) {
    size_t m = 0;
    for (size_t li = 0; li < nlayouts; li++) {
        struct layout *l = &layouts[li];
        for (size_t c = 0; c < l->count; c++, m++) {
            struct msghdr *h = &vec[m].msg_hdr;
            struct iovec *iov = l->nvec ? xcalloc(l->nvec, sizeof *iov) : NULL;
            size_t j = 0;
            for (size_t v = 0; v < l->nvec; v++) {
                unsigned char *buf = xcalloc(l->sizes[v], 1);
                for (size_t b = 0; b < l->sizes[v]; b++, j++)
                    buf[b] = sending ? pattern(*next_k, j) : FILL;
                iov[v].iov_base = buf;
                iov[v].iov_len = l->sizes[v];
            }
            h->msg_iov = iov;
            h->msg_iovlen = l->nvec;
            if (sending)
                (*next_k)++;
        }
    }
}

static void release(struct mmsghdr *vec, size_t total) {
    for (size_t m = 0; m < total; m++) {
        for (size_t v = 0; v < vec[m].msg_hdr.msg_iovlen; v++)
            free(vec[m].msg_hdr.msg_iov[v].iov_base);
        free(vec[m].msg_hdr.msg_iov);
        free(vec[m].msg_hdr.msg_name);
    }
    free(vec);
}

/* GLib's loop: returns the count moved, or -1 with *err set when nothing moved. */
static int glib_loop(int fd, struct mmsghdr *vec, size_t total, int flags, int receiving, int *err) {
    unsigned int count = total > MAX_BATCH ? MAX_BATCH : (unsigned int)total;
    unsigned int n = 0;
    *err = 0;
    while (n < count) {
        int r = receiving ? recvmmsg(fd, vec + n, count - n, flags | MSG_NOSIGNAL, NULL)
                          : sendmmsg(fd, vec + n, count - n, flags | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (receiving && errno == EINVAL && (flags & MSG_CMSG_CLOEXEC)) {
                flags &= ~MSG_CMSG_CLOEXEC;
                continue;
            }
            if (n > 0)
                break;
            *err = errno;
            return -1;
        }
        if (r == 0)
            break;
        n += (unsigned int)r;
    }
    return (int)n;
}

static int udp_socket(int family, struct sockaddr_storage *addr, socklen_t *len) {
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    int size = RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
        die("setsockopt SO_RCVBUF");
    memset(addr, 0, sizeof *addr);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)addr, *len) < 0)
        die("bind");
    if (getsockname(fd, (struct sockaddr *)addr, len) < 0)
        die("getsockname");
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 2)
        usage("usage", "mmsg_probe 4|6 (send=LAYOUTS[/FLAGS] | recv=LAYOUTS[/FLAGS])...");
    int v = (int)number(argv[1], argv[1]);
    if (v != 4 && v != 6)
        usage("family must be 4 or 6", argv[1]);
    int family = v == 4 ? AF_INET : AF_INET6;

    struct sockaddr_storage rx_addr, tx_addr;
    socklen_t rx_len, tx_len;
    int rx = udp_socket(family, &rx_addr, &rx_len);
    int tx = udp_socket(family, &tx_addr, &tx_len);
    if (fcntl(rx, F_SETFL, fcntl(rx, F_GETFL) | O_NONBLOCK) < 0)
        die("fcntl");
    int rcvbuf = 0;
    socklen_t optlen = sizeof rcvbuf;
    if (getsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &optlen) < 0)
        die("getsockopt");

    printf("{\"family\": %d, \"rcvbuf\": %d, \"ops\": [", v, rcvbuf);
    size_t next_k = 0;
    for (int a = 2; a < argc; a++) {
        char *arg = strdup(argv[a]);
        int receiving;
        if (!strncmp(arg, "send=", 5))
            receiving = 0;
        else if (!strncmp(arg, "recv=", 5))
            receiving = 1;
        else
            usage("unknown op", argv[a]);
        char *spec = arg + 5;
        char *slash = strchr(spec, '/');
        int flags = 0;
        if (slash) {
            *slash = '\0';
            flags = parse_flags(slash + 1, argv[a]);
        }
        size_t nlayouts, total;
        struct layout *layouts = parse_layouts(spec, &nlayouts, &total, argv[a]);
        struct mmsghdr *vec = xcalloc(total, sizeof *vec);
        build(vec, layouts, nlayouts, !receiving, &next_k);
        for (size_t m = 0; m < total; m++) {
            struct msghdr *h = &vec[m].msg_hdr;
            h->msg_name = xcalloc(1, NAME_SIZE);
            if (receiving) {
                h->msg_namelen = NAME_SIZE;
            } else {
                memcpy(h->msg_name, &rx_addr, rx_len);
                h->msg_namelen = rx_len;
            }
        }
        int err;
        int ret;
        if (receiving)
            ret = glib_loop(rx, vec, total, flags | MSG_CMSG_CLOEXEC, 1, &err);
        else
            ret = glib_loop(tx, vec, total, flags, 0, &err);

        printf("%s{\"op\": \"%s\", \"count\": %zu, \"ret\": %d, ", a > 2 ? ", " : "", receiving ? "recv" : "send",
               total, ret);
        print_error(ret, err);
        if (!receiving) {
            printf(", \"msg_len\": [");
            for (int m = 0; m < ret; m++)
                printf("%s%u", m ? ", " : "", vec[m].msg_len);
            printf("]}");
            fflush(stdout);
            struct timespec settle = {0, 20 * 1000 * 1000};
            nanosleep(&settle, NULL);
        } else {
            printf(", \"msgs\": [");
            for (int m = 0; m < ret; m++) {
                struct msghdr *h = &vec[m].msg_hdr;
                struct sockaddr *sa = h->msg_name;
                int port = 0, from_sender = 0;
                if (h->msg_namelen >= sizeof(sa_family_t) && sa->sa_family == AF_INET) {
                    port = ntohs(((struct sockaddr_in *)sa)->sin_port);
                    from_sender = h->msg_namelen == tx_len && !memcmp(sa, &tx_addr, tx_len);
                } else if (h->msg_namelen >= sizeof(sa_family_t) && sa->sa_family == AF_INET6) {
                    port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
                    from_sender = h->msg_namelen == tx_len && !memcmp(sa, &tx_addr, tx_len);
                }
                printf("%s{\"len\": %u, \"flags\": %d, \"family\": %d, \"port_nonzero\": %s, "
                       "\"from_sender\": %s, \"data\": [",
                       m ? ", " : "", vec[m].msg_len, h->msg_flags, h->msg_namelen ? sa->sa_family : 0,
                       port ? "true" : "false", from_sender ? "true" : "false");
                for (size_t i = 0; i < h->msg_iovlen; i++) {
                    if (i)
                        printf(", ");
                    print_hex(h->msg_iov[i].iov_base, h->msg_iov[i].iov_len);
                }
                printf("]}");
            }
            printf("]}");
        }
        release(vec, total);
        for (size_t li = 0; li < nlayouts; li++)
            free(layouts[li].sizes);
        free(layouts);
        free(arg);
    }
    printf("]}\n");
    close(tx);
    close(rx);
    return 0;
}
