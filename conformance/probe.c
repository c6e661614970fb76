/*
 * probe: prints, as one JSON object on stdout, what the process sees of its own environment.
 *
 * Built by conformance/run.mjs with `cc -static -O2` and copied into the container rootfs, so it needs
 * nothing from the container (no libc, no shell, no /etc). Every field is best effort: a value that
 * cannot be read is null (or missing from a map), never a crash.
 *
 *   probe [ARGS...]     the arguments are echoed back in "args" (argv[0] included)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int first;

static void str(const char *s) {
  if (!s) { fputs("null", stdout); return; }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f) printf("\\u%04x", *p);
      else putchar(*p);
    }
  }
  putchar('"');
}

static void key(const char *k) {
  if (!first) putchar(',');
  first = 0;
  str(k);
  putchar(':');
}

static void open_obj(const char *k) { key(k); putchar('{'); first = 1; }
static void close_obj(void) { putchar('}'); first = 0; }
static void open_arr(const char *k) { key(k); putchar('['); first = 1; }
static void close_arr(void) { putchar(']'); first = 0; }
static void elem_sep(void) { if (!first) putchar(','); first = 0; }

/* Whole small file into a static buffer; NULL when unreadable. */
static char *slurp(const char *path) {
  static char buf[1 << 16];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
    if (r < 0) { if (errno == EINTR) continue; close(fd); return NULL; }
    if (r == 0 || n + (size_t)r >= sizeof buf - 1) { n += r > 0 ? (size_t)r : 0; break; }
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  return buf;
}

static void file_field(const char *k, const char *path) {
  key(k);
  char *s = slurp(path);
  if (s) {
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n') s[--n] = 0;
  }
  str(s);
}

/* Each line of a file as an array element. */
static void lines_field(const char *k, const char *path) {
  char *s = slurp(path);
  key(k);
  if (!s) { fputs("null", stdout); return; }
  putchar('[');
  first = 1;
  for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) { elem_sep(); str(line); }
  close_arr();
}

static void num(const char *k, long long v) { key(k); printf("%lld", v); }

static void rlim_val(rlim_t v) {
  if (v == RLIM_INFINITY) str("unlimited");
  else printf("%llu", (unsigned long long)v);
}

static const struct { const char *name; int res; } rlimits[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

static const char *status_keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
                                    "Cpus_allowed_list", "Mems_allowed_list"};

/* struct sched_attr (linux/sched/types.h), its first version */
struct probe_sched_attr {
  unsigned size, policy;
  unsigned long long flags;
  int nice;
  unsigned priority;
  unsigned long long runtime, deadline, period;
};

int main(int argc, char **argv) {
  first = 1;
  putchar('{');

  open_arr("args");
  for (int i = 0; i < argc; i++) { elem_sep(); str(argv[i]); }
  close_arr();

  num("pid", getpid());
  num("ppid", getppid());

  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  key("uid");
  if (getresuid(&ru, &eu, &su) == 0) printf("[%u,%u,%u]", ru, eu, su); else fputs("null", stdout);
  key("gid");
  if (getresgid(&rg, &eg, &sg) == 0) printf("[%u,%u,%u]", rg, eg, sg); else fputs("null", stdout);
  {
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    open_arr("groups");
    for (int i = 0; i < n; i++) { elem_sep(); printf("%u", groups[i]); }
    close_arr();
  }

  /* Capability sets and friends, as the kernel shows them in /proc/self/status. */
  open_obj("status");
  {
    char *s = slurp("/proc/self/status");
    for (char *line = s ? strtok(s, "\n") : NULL; line; line = strtok(NULL, "\n")) {
      char *colon = strchr(line, ':');
      if (!colon) continue;
      *colon = 0;
      for (size_t i = 0; i < sizeof status_keys / sizeof *status_keys; i++) {
        if (strcmp(line, status_keys[i]) == 0) {
          char *v = colon + 1;
          while (*v == ' ' || *v == '\t') v++;
          key(line);
          str(v);
        }
      }
    }
  }
  close_obj();

  open_obj("rlimits");
  for (size_t i = 0; i < sizeof rlimits / sizeof *rlimits; i++) {
    struct rlimit rl;
    if (getrlimit(rlimits[i].res, &rl) != 0) continue;
    key(rlimits[i].name);
    putchar('[');
    rlim_val(rl.rlim_cur);
    putchar(',');
    rlim_val(rl.rlim_max);
    putchar(']');
  }
  close_obj();

  {
    mode_t m = umask(0);
    umask(m);
    key("umask");
    char b[8];
    snprintf(b, sizeof b, "%04o", (unsigned)m);
    str(b);
  }

  {
    char cwd[PATH_MAX];
    key("cwd");
    str(getcwd(cwd, sizeof cwd));
  }

  {
    struct utsname u;
    if (uname(&u) == 0) {
      key("hostname"); str(u.nodename);
      key("domainname"); str(u.domainname);
      key("machine"); str(u.machine);
    }
  }

  open_arr("env");
  for (char **e = environ; e && *e; e++) { elem_sep(); str(*e); }
  close_arr();

  /* Open descriptors, without the one opendir uses to list them. */
  open_obj("fds");
  {
    DIR *d = opendir("/proc/self/fd");
    if (d) {
      int self = dirfd(d);
      struct dirent *de;
      while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int fd = atoi(de->d_name);
        if (fd == self) continue;
        char path[64], target[PATH_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) n = 0;
        target[n] = 0;
        key(de->d_name);
        str(target);
      }
      closedir(d);
    }
  }
  close_obj();

  lines_field("mountinfo", "/proc/self/mountinfo");
  file_field("oomScoreAdj", "/proc/self/oom_score_adj");

  {
    int p = personality(0xffffffff);
    num("personality", p);
  }

  open_obj("ns");
  {
    static const char *types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
                                  "time_for_children", "user", "uts"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
      char path[64], target[256];
      snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = 0;
      key(types[i]);
      str(target);
    }
  }
  close_obj();

  file_field("uidMap", "/proc/self/uid_map");
  file_field("gidMap", "/proc/self/gid_map");
  file_field("setgroups", "/proc/self/setgroups");
  file_field("timensOffsets", "/proc/self/timens_offsets");
  lines_field("cgroup", "/proc/self/cgroup");

  /* process.scheduler: sched_getattr(2) */
  {
    struct probe_sched_attr a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0) {
      open_obj("sched");
      num("policy", a.policy);
      num("flags", (long long)a.flags);
      num("nice", a.nice);
      num("priority", a.priority);
      num("runtime", (long long)a.runtime);
      num("deadline", (long long)a.deadline);
      num("period", (long long)a.period);
      close_obj();
    }
  }
  /* process.ioPriority: ioprio_get(IOPRIO_WHO_PROCESS, 0) = class << 13 | level */
  {
    long r = syscall(SYS_ioprio_get, 1, 0);
    if (r >= 0) num("ioprio", r);
  }
  /* linux.memoryPolicy: get_mempolicy(2): the mode with its mode flags, and the first word of the node mask */
  {
    int mode = 0;
    unsigned long mask[16];
    memset(mask, 0, sizeof mask);
    if (syscall(SYS_get_mempolicy, &mode, mask, sizeof mask * 8, NULL, 0UL) == 0) {
      open_obj("mempolicy");
      num("mode", mode);
      num("nodes", (long long)mask[0]);
      close_obj();
    }
  }

  open_obj("clocks");
  {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) { key("monotonic"); printf("%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec); }
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0) { key("boottime"); printf("%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec); }
  }
  close_obj();

  puts("}");
  return fflush(stdout) == 0 ? 0 : 1;
}
