/*
 * recvfd: the manager's end of a --console-socket.
 *
 *   recvfd SOCKET TIMEOUT_MS INPUT MARKER
 *
 * Listens on the unix stream socket path SOCKET, accepts one connection, receives one file descriptor
 * with SCM_RIGHTS (the pty master of a container started with process.terminal), writes INPUT into it,
 * then copies what comes back to stdout until MARKER has been seen, the master reports EOF/EIO, or
 * TIMEOUT_MS has passed. The first line of stdout is "fd: <readlink of the received descriptor>".
 * Exit status: 0 when MARKER was seen, 1 when it was not, 2 when no descriptor arrived.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_readable(int fd, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: recvfd SOCKET TIMEOUT_MS INPUT MARKER\n");
    return 2;
  }
  const char *sock_path = argv[1];
  long long deadline = now_ms() + atoll(argv[2]);
  const char *input = argv[3], *marker = argv[4];

  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (ls < 0 || strlen(sock_path) >= sizeof addr.sun_path) { perror("socket"); return 2; }
  strcpy(addr.sun_path, sock_path);
  unlink(sock_path);
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1) < 0) { perror("bind/listen"); return 2; }

  if (!wait_readable(ls, deadline)) { fprintf(stderr, "recvfd: no connection\n"); return 2; }
  int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) { perror("accept"); return 2; }

  char data[256];
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  if (!wait_readable(conn, deadline)) { fprintf(stderr, "recvfd: nothing received\n"); return 2; }
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) { perror("recvmsg"); return 2; }
  int master = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      memcpy(&master, CMSG_DATA(c), sizeof master);
      break;
    }
  }
  close(conn);
  close(ls);
  unlink(sock_path);
  if (master < 0) { fprintf(stderr, "recvfd: no SCM_RIGHTS descriptor\n"); return 2; }

  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/self/fd/%d", master);
  ssize_t n = readlink(link, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  printf("fd: %s\n", target);
  fflush(stdout);

  size_t len = strlen(input);
  for (size_t off = 0; off < len;) {
    ssize_t w = write(master, input + off, len - off);
    if (w < 0) { if (errno == EINTR) continue; perror("write"); return 1; }
    off += (size_t)w;
  }

  /* Keep what came back so the marker is found even across reads. */
  static char seen[1 << 16];
  size_t seen_len = 0;
  while (wait_readable(master, deadline)) {
    char buf[4096];
    ssize_t r = read(master, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    fwrite(buf, 1, (size_t)r, stdout);
    fflush(stdout);
    if (seen_len + (size_t)r < sizeof seen - 1) {
      memcpy(seen + seen_len, buf, (size_t)r);
      seen_len += (size_t)r;
      seen[seen_len] = 0;
      if (strstr(seen, marker)) return 0;
    }
  }
  return 1;
}
