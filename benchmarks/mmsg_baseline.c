/* C baseline for benchmarks/bench_messages.py: the same batched UDP work as the Python side,
 * with sendmmsg/recvmmsg, 64-byte datagrams, on 127.0.0.1. bench_messages.py compiles it with
 * `gcc -O2` into a temporary directory; no binary is kept in the repository.
 *
 *   mmsg_baseline send  BATCH COUNT FILL  send FILL datagrams from A to B in sendmmsg calls of
 *                                         BATCH (timed), then take them off B's queue again
 *                                         (untimed); repeat until COUNT have been sent
 *   mmsg_baseline recv  BATCH COUNT FILL  queue FILL datagrams from A on B (untimed), then take
 *                                         them with recvmmsg calls of BATCH, each with its source
 *                                         address, into preallocated buffers (timed); repeat
 *                                         until COUNT have been received
 *   mmsg_baseline round BATCH COUNT       sendmmsg BATCH datagrams from A to B, then recvmmsg
 *                                         them on B, until COUNT datagrams have gone round (all
 *                                         timed)
 *
 * FILL (8192 in the benchmark) stays below what B's receive buffer holds, so the kernel never
 * drops a datagram; a shortfall is an error (exit status 3), never a silent loss. Every socket
 * is non-blocking, as gsocklab's OS sockets always are, and has SO_RCVBUF = 8 MiB, as on the
 * Python side. Headers, iovecs and buffers are built once per run and reused, so only the
 * system calls (and, for recv, restoring msg_namelen) are in the timed loop: the C meaning of
 * "messages built once and reused". Every timed call moves a whole batch.
 * Output: one JSON object on stdout, {"seconds": timed seconds, "datagrams": n}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define PAYLOAD 64
#define RECV_SIZE 2048      /* room per received datagram, as on the Python side */
#define MAX_BATCH 1024      /* IOV_MAX: gsocklab and GLib clamp batches to it */
#define RCVBUF (8 << 20)

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void fail(const char *what) {
    fprintf(stderr, "%s\n", what);
    exit(3);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int udp_socket(struct sockaddr_in *bound) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int size = RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0) die("SO_RCVBUF");
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) die("bind");
    socklen_t len = sizeof *bound;
    if (getsockname(fd, (struct sockaddr *)bound, &len) < 0) die("getsockname");
    return fd;
}

/* Headers for sending BATCH 64-byte datagrams to `to`, each from its own buffer. */
static struct mmsghdr *output_batch(int batch, struct sockaddr_in *to) {
    static char payload[MAX_BATCH][PAYLOAD];
    static struct iovec iov[MAX_BATCH];
    static struct mmsghdr msgs[MAX_BATCH];
    for (int i = 0; i < batch; i++) {
        memset(payload[i], 'x', PAYLOAD);
        iov[i] = (struct iovec){.iov_base = payload[i], .iov_len = PAYLOAD};
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = to, .msg_namelen = sizeof *to, .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    return msgs;
}

/* Headers for receiving BATCH datagrams, each into its own buffer, with its source address. */
static struct mmsghdr *input_batch(int batch) {
    static char buffers[MAX_BATCH][RECV_SIZE];
    static struct sockaddr_storage names[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    static struct mmsghdr msgs[MAX_BATCH];
    for (int i = 0; i < batch; i++) {
        iov[i] = (struct iovec){.iov_base = buffers[i], .iov_len = RECV_SIZE};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &names[i], .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    return msgs;
}

/* recvmmsg resets msg_namelen to the length of each source address: restore it, as a
 * reused header array needs (gsocklab does the same with one memmove). */
static void rearm(struct mmsghdr *msgs, int n) {
    for (int i = 0; i < n; i++) msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
}

static long send_all(int fd, struct mmsghdr *msgs, int n) {
    int done = 0;
    while (done < n) {
        int r = sendmmsg(fd, msgs + done, n - done, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return done; /* the caller reports the shortfall */
            die("sendmmsg");
        }
        done += r;
    }
    return done;
}

/* Receive exactly n queued datagrams; anything less means the kernel dropped some. */
static void recv_all(int fd, struct mmsghdr *msgs, int n) {
    int done = 0;
    while (done < n) {
        rearm(msgs + done, n - done);
        int r = recvmmsg(fd, msgs + done, n - done, 0, NULL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) fail("recvmmsg: fewer datagrams queued than sent (dropped?)");
            die("recvmmsg");
        }
        done += r;
    }
}

static void check_received(struct mmsghdr *msgs, int n, const struct sockaddr_in *from) {
    for (int i = 0; i < n; i++) {
        const struct sockaddr_in *src = msgs[i].msg_hdr.msg_name;
        if (msgs[i].msg_len != PAYLOAD || src->sin_port != from->sin_port ||
            ((char *)msgs[i].msg_hdr.msg_iov->iov_base)[PAYLOAD - 1] != 'x') {
            fail("recvmmsg: a datagram with the wrong length, data or source");
        }
    }
}

static int mode_send(int batch, long count, int fill) {
    struct sockaddr_in a_addr, b_addr;
    int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    struct mmsghdr *out = output_batch(batch, &b_addr);
    struct mmsghdr *in = input_batch(MAX_BATCH);
    fill -= fill % batch; /* every timed call sends a whole batch */
    double busy = 0;
    long sent = 0;
    while (sent < count) {
        double t0 = now();
        for (int queued = 0; queued < fill; queued += batch)
            if (send_all(a, out, batch) != batch) fail("sendmmsg: short send");
        busy += now() - t0;
        sent += fill;
        for (int got = 0; got < fill;) { /* untimed: take them off B's queue again */
            int n = fill - got < MAX_BATCH ? fill - got : MAX_BATCH;
            recv_all(b, in, n);
            got += n;
        }
        check_received(in, 1, &a_addr);
    }
    printf("{\"seconds\": %.9f, \"datagrams\": %ld}\n", busy, sent);
    return 0;
}

static int mode_recv(int batch, long count, int fill) {
    struct sockaddr_in a_addr, b_addr;
    int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    struct mmsghdr *out = output_batch(fill < MAX_BATCH ? fill : MAX_BATCH, &b_addr);
    struct mmsghdr *in = input_batch(batch);
    fill -= fill % batch; /* every timed call asks for a whole batch */
    double busy = 0;
    long received = 0;
    while (received < count) {
        for (int queued = 0; queued < fill;) { /* untimed: queue `fill` datagrams */
            int n = fill - queued < MAX_BATCH ? fill - queued : MAX_BATCH;
            if (send_all(a, out, n) != n) fail("sendmmsg: short send while filling");
            queued += n;
        }
        double t0 = now();
        for (int got = 0; got < fill; got += batch) recv_all(b, in, batch);
        busy += now() - t0;
        received += fill;
        check_received(in, batch, &a_addr);
    }
    printf("{\"seconds\": %.9f, \"datagrams\": %ld}\n", busy, received);
    return 0;
}

static int mode_round(int batch, long count) {
    struct sockaddr_in a_addr, b_addr;
    int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    struct mmsghdr *out = output_batch(batch, &b_addr);
    struct mmsghdr *in = input_batch(batch);
    long rounds = count / batch;
    double t0 = now();
    for (long r = 0; r < rounds; r++) {
        if (send_all(a, out, batch) != batch) fail("sendmmsg: short send");
        recv_all(b, in, batch);
    }
    double elapsed = now() - t0;
    check_received(in, batch, &a_addr);
    printf("{\"seconds\": %.9f, \"datagrams\": %ld}\n", elapsed, rounds * batch);
    return 0;
}

int main(int argc, char **argv) {
    int with_fill = argc == 5 && (!strcmp(argv[1], "send") || !strcmp(argv[1], "recv"));
    if (!with_fill && !(argc == 4 && !strcmp(argv[1], "round"))) {
        fprintf(stderr, "usage: %s send|recv BATCH COUNT FILL | round BATCH COUNT\n", argv[0]);
        return 2;
    }
    int batch = atoi(argv[2]);
    long count = atol(argv[3]);
    int fill = with_fill ? atoi(argv[4]) : batch;
    if (batch < 1 || batch > MAX_BATCH || count < batch || fill < batch) {
        fprintf(stderr, "BATCH must be 1..%d, COUNT and FILL at least BATCH\n", MAX_BATCH);
        return 2;
    }
    if (!strcmp(argv[1], "send")) return mode_send(batch, count, fill);
    if (!strcmp(argv[1], "recv")) return mode_recv(batch, count, fill);
    return mode_round(batch, count);
}
