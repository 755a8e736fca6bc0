/*
 * The stream benchmark's throughput peers (bench/stream.ts compiles this with cc -O2 and runs
 * both ends pinned to CPU 1, nginx's worker having CPU 0): an upstream server and a client
 * that streams through nginx to it. Plain blocking sockets, one buffer per side, nothing
 * allocated per chunk: a peer that costs the machine little more than the kernel's copies, so
 * that plain proxying, not the peer, is what the anchor measures (the report still shows how
 * busy nginx's worker was).
 *
 *   stream-peer server          listens on 127.0.0.1 (a port of the kernel's choice, printed
 *                               on stdout), a thread per connection
 *   stream-peer client PORT up|down CHUNK SECONDS|=BYTES
 *                               one transfer through PORT; prints "<bytes> <seconds> <ok|bad>"
 *
 * A session starts with an ASCII line from the client:
 *   "UP <verify 0|1>\n"         the client writes CHUNK-byte chunks until SECONDS pass (or
 *                               BYTES are out), then half-closes; the server reads until the
 *                               end, then answers "<bytes> <ok|bad>\n" and closes
 *   "DOWN <chunk> <ms|=bytes>\n" the server writes chunks for ms (or exactly bytes), then closes
 * The payload is a 64-byte ASCII pattern repeated (string events see valid UTF-8); with BYTES,
 * the receiver checks every byte against the pattern (ok or bad): a filter must pass the
 * stream as it came.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.\n"
#define PATTERN_LEN 64
#define BUFFER_SIZE (4 << 20)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* a buffer of the pattern repeated, PATTERN_LEN bytes longer than asked, so that any offset
 * into the pattern has `size` bytes after it */
static char *pattern_buffer(size_t size) {
    char *b = malloc(size + PATTERN_LEN);
    if (b == NULL) { perror("malloc"); exit(1); }
    for (size_t i = 0; i < size + PATTERN_LEN; i++) b[i] = PATTERN[i % PATTERN_LEN];
    return b;
}

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

/* writes CHUNK-byte chunks until the deadline (or exactly `total` bytes, if not 0) */
static int pump(int fd, size_t chunk, double deadline, unsigned long long total) {
    static __thread char *block;
    unsigned long long sent = 0;
    if (block == NULL) block = pattern_buffer(BUFFER_SIZE);
    if (chunk > BUFFER_SIZE) chunk = BUFFER_SIZE;
    for (;;) {
        size_t len = chunk;
        if (total) {
            if (sent >= total) return 0;
            if (total - sent < len) len = (size_t) (total - sent);
        } else if (now() >= deadline) {
            return 0;
        }
        /* chunks are multiples of the pattern: each starts at its offset 0 */
        if (write_all(fd, block + sent % PATTERN_LEN, len) < 0) return -1;
        sent += len;
    }
}

/* reads until the end; counts, and checks the bytes against the pattern if asked */
static unsigned long long drain(int fd, char *buffer, int verify, int *bad, const char *first, size_t first_len) {
    static const char pattern[] = PATTERN PATTERN;
    unsigned long long got = 0;
    const char *data = first;
    ssize_t n = (ssize_t) first_len;
    for (;;) {
        if (verify) {
            for (ssize_t i = 0; i < n && !*bad; ) {
                size_t at = (got + i) % PATTERN_LEN;
                size_t run = PATTERN_LEN - at < (size_t) (n - i) ? PATTERN_LEN - at : (size_t) (n - i);
                if (memcmp(data + i, pattern + at, run) != 0) *bad = 1;
                i += run;
            }
        }
        got += n;
        n = read(fd, buffer, BUFFER_SIZE);
        if (n < 0 && errno == EINTR) { n = 0; continue; }
        if (n <= 0) return got;
        data = buffer;
    }
}

static void *serve(void *arg) {
    int fd = (int) (long) arg;
    char *buffer = malloc(BUFFER_SIZE);
    char line[128];
    size_t have = 0;
    char *end = NULL;
    while (buffer && end == NULL && have < sizeof(line) - 1) {
        ssize_t n = read(fd, buffer + have, BUFFER_SIZE - have);
        if (n <= 0) goto done;
        have += (size_t) n;
        end = memchr(buffer, '\n', have);
    }
    if (end == NULL) goto done;
    size_t line_len = (size_t) (end - buffer);
    if (line_len >= sizeof(line)) goto done;
    memcpy(line, buffer, line_len);
    line[line_len] = '\0';
    size_t rest = have - line_len - 1;

    int verify;
    size_t chunk;
    char how[64];
    if (sscanf(line, "UP %d", &verify) == 1) {
        int bad = 0;
        /* what came after the line is counted (and checked) before the next read */
        unsigned long long got = drain(fd, buffer, verify, &bad, end + 1, rest);
        char answer[64];
        int len = snprintf(answer, sizeof(answer), "%llu %s\n", got, bad ? "bad" : "ok");
        write_all(fd, answer, (size_t) len);
    } else if (sscanf(line, "DOWN %zu %63s", &chunk, how) == 2) {
        if (how[0] == '=') {
            pump(fd, chunk, 0, strtoull(how + 1, NULL, 10));
        } else {
            pump(fd, chunk, now() + atof(how) / 1000, 0);
        }
    }
done:
    free(buffer);
    close(fd);
    return NULL;
}

static int server(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    socklen_t len = sizeof(addr);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(fd, 128) < 0
        || getsockname(fd, (struct sockaddr *) &addr, &len) < 0)
    {
        perror("stream-peer server");
        return 1;
    }
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("accept");
            return 1;
        }
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attr, serve, (void *) (long) c) != 0) close(c);
        pthread_attr_destroy(&attr);
    }
}

static int client(int port, const char *direction, size_t chunk, const char *amount) {
    int verify = amount[0] == '=';
    unsigned long long total = verify ? strtoull(amount + 1, NULL, 10) : 0;
    double seconds = verify ? 0 : atof(amount);
    char *buffer = malloc(BUFFER_SIZE);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short) port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (buffer == NULL || fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        perror("stream-peer client");
        return 1;
    }
    double start = now();
    char line[128];
    unsigned long long got;
    int bad = 0;
    if (strcmp(direction, "up") == 0) {
        int len = snprintf(line, sizeof(line), "UP %d\n", verify);
        if (write_all(fd, line, (size_t) len) < 0 || pump(fd, chunk, start + seconds, total) < 0) {
            perror("stream-peer client: sending");
            return 1;
        }
        shutdown(fd, SHUT_WR);
        size_t have = 0;
        for (;;) {
            ssize_t n = read(fd, line + have, sizeof(line) - 1 - have);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            have += (size_t) n;
        }
        line[have] = '\0';
        char verdict[8] = "";
        if (sscanf(line, "%llu %7s", &got, verdict) != 2) {
            fprintf(stderr, "stream-peer client: the upstream answered \"%s\"\n", line);
            return 1;
        }
        bad = strcmp(verdict, "ok") != 0;
    } else {
        int len = verify ? snprintf(line, sizeof(line), "DOWN %zu =%llu\n", chunk, total)
                         : snprintf(line, sizeof(line), "DOWN %zu %.0f\n", chunk, seconds * 1000);
        if (write_all(fd, line, (size_t) len) < 0) {
            perror("stream-peer client: sending");
            return 1;
        }
        got = drain(fd, buffer, verify, &bad, "", 0);
    }
    double elapsed = now() - start;
    if (verify && got != total) bad = 1;
    printf("%llu %.6f %s\n", got, elapsed, bad ? "bad" : "ok");
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "server") == 0) return server();
    if (argc == 6 && strcmp(argv[1], "client") == 0) {
        return client(atoi(argv[2]), argv[3], strtoul(argv[4], NULL, 10), argv[5]);
    }
    fprintf(stderr, "usage: stream-peer server | client PORT up|down CHUNK SECONDS|=BYTES\n");
    return 2;
}
