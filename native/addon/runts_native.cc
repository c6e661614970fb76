// runts_native: the few syscalls Node lacks. Every function is a thin, synchronous wrapper that throws
// an Error carrying `code` (e.g. "ENOENT") and `errno` on failure; waitPidfd is the one async call.
// Built without C++ exceptions (NAPI_DISABLE_CPP_EXCEPTIONS): the unwinder and demangler they pull in were
// most of the addon, and every CLI call that loads it pays for its size. A function that fails throws into
// JavaScript (fail, typeFail) and returns at once.
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/bpf.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

// only for its version macros: the init stub links libseccomp statically from the same headers (native/Makefile)
#include <seccomp.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

// With exceptions off, libstdc++'s throw helpers (reached only on an impossible string length or when memory
// runs out) would still link its unwinder and demangler into the addon: these abort instead.
namespace std {
void __throw_length_error(const char *) { abort(); }
void __throw_logic_error(const char *) { abort(); }
void __throw_out_of_range_fmt(const char *, ...) { abort(); }
void __throw_bad_alloc() { abort(); }
void __throw_bad_array_new_length() { abort(); }
void __glibcxx_assert_fail(const char *, int, const char *, const char *) noexcept { abort(); }
}  // namespace std
// libstdc++'s operator new throws std::bad_alloc itself
void *operator new(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
void *operator new[](size_t n) { return operator new(n); }
void operator delete(void *p) noexcept { free(p); }
void operator delete[](void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
void operator delete[](void *p, size_t) noexcept { free(p); }

namespace {

const char *errnoName(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTDIR: return "ENOTDIR";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTSOCK: return "ENOTSOCK";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOTTY: return "ENOTTY";
    case ECHILD: return "ECHILD";
    case EINTR: return "EINTR";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EISDIR: return "EISDIR";
    case EROFS: return "EROFS";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ELOOP: return "ELOOP";
    case EMFILE: return "EMFILE";
    case ENOSPC: return "ENOSPC";
    default: return "EUNKNOWN";
  }
}

Napi::Error errnoError(Napi::Env env, const std::string &what, int e) {
  Napi::Error err = Napi::Error::New(env, what + ": " + strerror(e));
  err.Set("code", Napi::String::New(env, errnoName(e)));
  err.Set("errno", Napi::Number::New(env, -e));
  err.Set("syscall", Napi::String::New(env, what));
  return err;
}

Napi::Value fail(Napi::Env env, const std::string &what, int e) {
  errnoError(env, what, e).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value typeFail(Napi::Env env, const char *msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

#define THROW_ERRNO(what) \
  do { int e_ = errno; return fail(env, what, e_); } while (0)

// The arguments' types, checked once at the top of a function: one letter each, n number, s string,
// u Uint8Array, B Buffer, * anything; those after a '?' may be missing. On a mismatch a TypeError is thrown.
bool argsOk(const Napi::CallbackInfo &info, const char *sig) {
  bool optional = false;
  size_t i = 0;
  for (const char *c = sig; *c; c++) {
    if (*c == '?') { optional = true; continue; }
    if (i >= info.Length()) {
      if (optional) return true;
      typeFail(info.Env(), "missing argument");
      return false;
    }
    Napi::Value v = info[i++];
    const char *want = nullptr;
    if (*c == 'n' && !v.IsNumber()) want = "expected a number argument";
    if (*c == 's' && !v.IsString()) want = "expected a string argument";
    if (*c == 'u' && !v.IsTypedArray()) want = "expected a Uint8Array";
    if (*c == 'B' && !v.IsBuffer()) want = "expected a Buffer";
    if (want) { typeFail(info.Env(), want); return false; }
  }
  return true;
}

#define ARGS(sig) \
  do { if (!argsOk(info, sig)) return info.Env().Undefined(); } while (0)

// Arguments argsOk has checked
int argInt(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
std::string argStr(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

static bool stubTrusted(int fd);
static Napi::Value untrustedStub(Napi::Env env, const std::string &path);

// Copy an executable (that passes stubTrusted) into a memfd, seal it against every change, return the fd
// (O_CLOEXEC).
Napi::Value SealedMemfdFrom(const Napi::CallbackInfo &info) {
  ARGS("s?s");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  std::string name = info.Length() > 1 ? argStr(info, 1) : "runts-init";
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) THROW_ERRNO("open " + path);
  if (!stubTrusted(src)) { close(src); return untrustedStub(env, path); }
  int mfd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) { int e = errno; close(src); return fail(env, "memfd_create", e); }
  // copied in the kernel (page cache to shmem): no buffer of ours is touched (issue #18)
  for (;;) {
    ssize_t n = sendfile(mfd, src, nullptr, 1 << 30);
    if (n < 0) { if (errno == EINTR) continue; int e = errno; close(src); close(mfd); return fail(env, "copy " + path, e); }
    if (n == 0) break;
  }
  close(src);
  if (fchmod(mfd, 0555) < 0) { int e = errno; close(mfd); return fail(env, "fchmod memfd", e); }
  int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  if (fcntl(mfd, F_ADD_SEALS, seals) < 0) { int e = errno; close(mfd); return fail(env, "seal memfd", e); }
  return Napi::Number::New(env, mfd);
}

// The same from bytes in memory (the stub embedded in a single-file executable).
Napi::Value SealedMemfdFromBytes(const Napi::CallbackInfo &info) {
  ARGS("u?s");
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  std::string name = info.Length() > 1 ? argStr(info, 1) : "runts-init";
  int mfd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) THROW_ERRNO("memfd_create");
  const uint8_t *p = bytes.Data();
  size_t n = bytes.ByteLength();
  for (size_t off = 0; off < n;) {
    ssize_t w = write(mfd, p + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; int e = errno; close(mfd); return fail(env, "write memfd", e); }
    off += (size_t)w;
  }
  if (fchmod(mfd, 0555) < 0) { int e = errno; close(mfd); return fail(env, "fchmod memfd", e); }
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) { int e = errno; close(mfd); return fail(env, "seal memfd", e); }
  return Napi::Number::New(env, mfd);
}

// ---- stub delivery without a copy (issue #18) ----
// The init stub installed beside the executable, opened O_PATH through a private overlayfs that nobody can write
// through (as runc 1.2's exeseal does for its own binary): the stub's directory over `lower` (an unrelated
// directory: overlayfs without an upper layer needs two lower layers), no upper layer, mounted read-only and
// never attached anywhere (fsopen/fsmount), so /proc/<pid>/exe of a process executing it opens a file of that
// mount only: writing is EROFS, and no mount flag can be cleared to change that (there is no upper layer). The
// mount goes away with the last fd. Needs CAP_SYS_ADMIN (not rootless); the caller falls back to a memfd.
// The file must pass stubTrusted. Returns the O_PATH fd (O_CLOEXEC).
// A stub file is as trusted as the executable that runs it: a regular file writable by its owner only, who is root,
// the caller, or the executable's owner (the same unmapped root in a user namespace).
static bool stubTrusted(int fd) {
  struct stat st, exe;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH))) return false;
  return st.st_uid == 0 || st.st_uid == geteuid() || (stat("/proc/self/exe", &exe) == 0 && st.st_uid == exe.st_uid);
}

static Napi::Value untrustedStub(Napi::Env env, const std::string &path) {
  return fail(env, path + ": not a regular file of root, the caller or the executable's owner, writable by its owner only", EPERM);
}

static std::string ovlEscape(const std::string &p) {
  std::string r;
  for (char c : p) { if (c == '\\' || c == ':') r += '\\'; r += c; }
  return r;
}

Napi::Value StubOverlayFd(const Napi::CallbackInfo &info) {
  ARGS("sss");
  Napi::Env env = info.Env();
  std::string dir = argStr(info, 0), name = argStr(info, 1), lower = argStr(info, 2);
  if (name.empty() || name.find('/') != std::string::npos) return fail(env, "stub name " + name, EINVAL);
  // the file must be in `dir` itself: a file of that name in `lower` would show through the overlay otherwise
  int own = open((dir + "/" + name).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (own < 0) THROW_ERRNO("open " + dir + "/" + name);
  bool trusted = stubTrusted(own);
  close(own);
  if (!trusted) return untrustedStub(env, dir + "/" + name);
  int ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (ctx < 0) THROW_ERRNO("fsopen overlay");
  std::string lowers = ovlEscape(dir) + ":" + ovlEscape(lower);
  if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir", lowers.c_str(), 0) < 0) {
    int e = errno; close(ctx); return fail(env, "overlay lowerdir=" + lowers, e);
  }
  // xino would only log to the kernel's ring buffer when the layers are on different file systems
  syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "xino", "off", 0);
  if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) { int e = errno; close(ctx); return fail(env, "overlay create", e); }
  int mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  int e = errno;
  close(ctx);
  if (mnt < 0) return fail(env, "fsmount overlay", e);
  int fd = openat(mnt, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  e = errno;
  close(mnt);
  if (fd < 0) return fail(env, "open " + dir + "/" + name, e);
  if (!stubTrusted(fd)) {
    close(fd);
    return untrustedStub(env, dir + "/" + name);
  }
  return Napi::Number::New(env, fd);
}
// ---- end of stub delivery ----

Napi::Value MemfdSeals(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  int r = fcntl(argInt(info, 0), F_GET_SEALS);
  if (r < 0) THROW_ERRNO("F_GET_SEALS");
  return Napi::Number::New(env, r);
}

// flock(fd, "ex"|"sh"|"un", nonblock) -> true, or false when nonblock and held elsewhere.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  ARGS("ns?*");
  Napi::Env env = info.Env();
  int fd = argInt(info, 0);
  std::string how = argStr(info, 1);
  int op = how == "ex" ? LOCK_EX : how == "sh" ? LOCK_SH : how == "un" ? LOCK_UN : -1;
  if (op < 0) return typeFail(env, "flock: mode must be ex, sh or un");
  bool nonblock = info.Length() > 2 && info[2].ToBoolean();
  if (nonblock) op |= LOCK_NB;
  int r;
  do r = flock(fd, op); while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (nonblock && errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    THROW_ERRNO("flock");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  int fd = syscall(SYS_pidfd_open, argInt(info, 0), 0);
  if (fd < 0) THROW_ERRNO("pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(env, fd);
}

// pidfdGetfd(pidfd, fd) -> a copy (close-on-exec) of the fd numbered `fd` in the process behind the pidfd.
Napi::Value PidfdGetfd(const Napi::CallbackInfo &info) {
  ARGS("nn");
  Napi::Env env = info.Env();
  int fd = syscall(SYS_pidfd_getfd, argInt(info, 0), argInt(info, 1), 0);
  if (fd < 0) THROW_ERRNO("pidfd_getfd");
  return Napi::Number::New(env, fd);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  ARGS("nn");
  Napi::Env env = info.Env();
  if (syscall(SYS_pidfd_send_signal, argInt(info, 0), argInt(info, 1), nullptr, 0) < 0) THROW_ERRNO("pidfd_send_signal");
  return env.Undefined();
}

// true once the process behind the pidfd has exited (a zombie counts), polling up to ms.
Napi::Value PollPidfdExited(const Napi::CallbackInfo &info) {
  ARGS("n?n");
  Napi::Env env = info.Env();
  struct pollfd p = {argInt(info, 0), POLLIN, 0};
  int ms = info.Length() > 1 ? argInt(info, 1) : 0;
  int r;
  do r = poll(&p, 1, ms); while (r < 0 && errno == EINTR);
  if (r < 0) THROW_ERRNO("poll pidfd");
  return Napi::Boolean::New(env, r > 0);
}

// waitid(P_PIDFD) retried on EINTR; `si` zeroed first (si_pid stays 0 when WNOHANG finds the child running).
static int waitPidfdInfo(int pidfd, int flags, siginfo_t *si) {
  memset(si, 0, sizeof *si);
  int r;
  do r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, flags); while (r < 0 && errno == EINTR);
  return r;
}

// { code, signal } of an exited child, as waitPidfd and waitPidfdSync give it (one of the two is null).
static Napi::Object exitStatus(Napi::Env env, int siCode, int siStatus) {
  Napi::Object o = Napi::Object::New(env);
  bool exited = siCode == CLD_EXITED;
  o.Set("code", exited ? Napi::Number::New(env, siStatus) : env.Null());
  o.Set("signal", exited ? env.Null() : Napi::Number::New(env, siStatus));
  return o;
}

// reapPidfd(pidfd) -> true when the child behind the pidfd had exited and is now reaped, false while it runs.
Napi::Value ReapPidfd(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  siginfo_t si;
  if (waitPidfdInfo(argInt(info, 0), WEXITED | WNOHANG, &si) < 0) THROW_ERRNO("waitid");
  return Napi::Boolean::New(env, si.si_pid != 0);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, int pidfd) : Napi::AsyncWorker(env), pidfd_(pidfd), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    siginfo_t si;
    if (waitPidfdInfo(pidfd_, WEXITED, &si) < 0) { err_ = errno; return; }
    code_ = si.si_code;
    status_ = si.si_status;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (err_) { deferred_.Reject(errnoError(env, "waitid", err_).Value()); return; }
    deferred_.Resolve(exitStatus(env, code_, status_));
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  int pidfd_;
  int err_ = 0, code_ = 0, status_ = 0;
  Napi::Promise::Deferred deferred_;
};

// Reap the child behind the pidfd (it must be our child, or reparented to us as subreaper).
Napi::Value WaitPidfd(const Napi::CallbackInfo &info) {
  ARGS("n");
  auto *w = new WaitWorker(info.Env(), argInt(info, 0));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// forwardSignals: the pidfd the handler sends on to (-1: none), the signals it holds and their previous actions.
// forwardSignal may run on any thread of the engine.
static volatile sig_atomic_t forwardPidfd = -1;
static uint32_t forwardMask;
static struct sigaction forwardOld[32];

static void forwardSignal(int sig) {
  int saved = errno;
  int fd = forwardPidfd;
  if (fd >= 0) syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);  // ESRCH once it exited: nothing to do
  errno = saved;
}

// forwardSignals(pidfd, mask): from now on each signal of `mask` (bit n: signal n, 1..31) that this process gets
// is sent on to the process behind the pidfd, by a handler (not signalfd: a signal blocked in one thread would be
// delivered to another thread of the engine and kill the process); the signals of an earlier call get their
// previous actions back first. forwardSignals(-1, 0) only restores.
Napi::Value ForwardSignals(const Napi::CallbackInfo &info) {
  ARGS("nn");
  Napi::Env env = info.Env();
  for (int sig = 1; sig < 32; sig++)
    if ((forwardMask >> sig) & 1) sigaction(sig, &forwardOld[sig], nullptr);
  forwardMask = 0;
  forwardPidfd = argInt(info, 0);
  uint32_t mask = info[1].As<Napi::Number>().Uint32Value();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forwardSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig = 1; sig < 32; sig++) {
    if (!((mask >> sig) & 1)) continue;
    if (sigaction(sig, &sa, &forwardOld[sig]) < 0) THROW_ERRNO("sigaction");
    forwardMask |= 1u << sig;
  }
  return env.Undefined();
}

// waitPidfdSync(pidfd) -> { code, signal }: waitPidfd, blocking this thread (no worker thread, no event loop).
Napi::Value WaitPidfdSync(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  siginfo_t si;
  if (waitPidfdInfo(argInt(info, 0), WEXITED, &si) < 0) THROW_ERRNO("waitid");
  return exitStatus(env, si.si_code, si.si_status);
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo &info) {
  ARGS("?*");
  Napi::Env env = info.Env();
  bool on = info.Length() == 0 || info[0].ToBoolean();
  int was = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0) < 0) THROW_ERRNO("prctl(PR_GET_CHILD_SUBREAPER)");
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0) THROW_ERRNO("prctl(PR_SET_CHILD_SUBREAPER)");
  return Napi::Boolean::New(env, was != 0);
}

// Build a sockaddr_un; long paths go through an O_PATH fd of the directory (/proc/self/fd/N/name).
struct Addr {
  struct sockaddr_un sa;
  socklen_t len;
  int dirfd = -1;
  ~Addr() { if (dirfd >= 0) close(dirfd); }
};

// false when it failed (an exception is pending)
bool makeAddr(Napi::Env env, const std::string &path, Addr &a) {
  memset(&a.sa, 0, sizeof a.sa);
  a.sa.sun_family = AF_UNIX;
  std::string p = path;
  if (p.size() >= sizeof a.sa.sun_path) {
    size_t slash = p.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
    std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
    a.dirfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (a.dirfd < 0) { int e = errno; fail(env, "open " + dir, e); return false; }
    p = "/proc/self/fd/" + std::to_string(a.dirfd) + "/" + base;
    if (p.size() >= sizeof a.sa.sun_path) { fail(env, "socket path " + path, ENAMETOOLONG); return false; }
  }
  memcpy(a.sa.sun_path, p.c_str(), p.size());
  a.len = offsetof(struct sockaddr_un, sun_path) + p.size() + 1;
  return true;
}

Napi::Value UnixListen(const Napi::CallbackInfo &info) {
  ARGS("s?n");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  int backlog = info.Length() > 1 ? argInt(info, 1) : 1;
  Addr a;
  if (!makeAddr(env, path, a)) return env.Undefined();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) THROW_ERRNO("socket");
  if (bind(fd, (struct sockaddr *)&a.sa, a.len) < 0) { int e = errno; close(fd); return fail(env, "bind " + path, e); }
  if (listen(fd, backlog) < 0) { int e = errno; close(fd); return fail(env, "listen " + path, e); }
  return Napi::Number::New(env, fd);
}

Napi::Value UnixConnect(const Napi::CallbackInfo &info) {
  ARGS("s");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  Addr a;
  if (!makeAddr(env, path, a)) return env.Undefined();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) THROW_ERRNO("socket");
  int r;
  do r = connect(fd, (struct sockaddr *)&a.sa, a.len); while (r < 0 && errno == EINTR);
  if (r < 0) { int e = errno; close(fd); return fail(env, "connect " + path, e); }
  return Napi::Number::New(env, fd);
}

Napi::Value UnixAccept(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  int fd;
  do fd = accept4(argInt(info, 0), nullptr, nullptr, SOCK_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) THROW_ERRNO("accept");
  return Napi::Number::New(env, fd);
}

// recvFd(sock) -> { fd, data }: one message carrying one descriptor (SCM_RIGHTS).
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  int sock = argInt(info, 0);
  char data[4096];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {data, sizeof data};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) THROW_ERRNO("recvmsg");
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  }
  if (fd < 0) return fail(env, "recvmsg: no file descriptor received", EBADMSG);
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", Napi::Number::New(env, fd));
  o.Set("data", Napi::Buffer<char>::Copy(env, data, n));
  return o;
}

Napi::Value SendFd(const Napi::CallbackInfo &info) {
  ARGS("nn?*");
  Napi::Env env = info.Env();
  int sock = argInt(info, 0), fd = argInt(info, 1);
  std::string data = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string("x");
  if (data.empty()) data = "x";
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {(void *)data.data(), data.size()};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = sendmsg(sock, &m, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) THROW_ERRNO("sendmsg");
  return env.Undefined();
}

Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  struct winsize ws;
  if (ioctl(argInt(info, 0), TIOCGWINSZ, &ws) < 0) THROW_ERRNO("TIOCGWINSZ");
  Napi::Object o = Napi::Object::New(env);
  o.Set("rows", Napi::Number::New(env, ws.ws_row));
  o.Set("cols", Napi::Number::New(env, ws.ws_col));
  return o;
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  ARGS("nnn");
  Napi::Env env = info.Env();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)argInt(info, 1);
  ws.ws_col = (unsigned short)argInt(info, 2);
  if (ioctl(argInt(info, 0), TIOCSWINSZ, &ws) < 0) THROW_ERRNO("TIOCSWINSZ");
  return env.Undefined();
}

// ttyMakeRaw(fd): the terminal in raw mode as runc sets its own (cfmakeraw: no echo, no signals, no input or
// output processing, OPOST included); returns the previous termios for ttyRestore.
Napi::Value TtyMakeRaw(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  int fd = argInt(info, 0);
  struct termios saved, raw;
  if (tcgetattr(fd, &saved) < 0) THROW_ERRNO("tcgetattr");
  raw = saved;
  cfmakeraw(&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &raw) < 0) THROW_ERRNO("tcsetattr");
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t *>(&saved), sizeof saved);
}

// ttyRestore(fd, saved): put back what ttyMakeRaw returned.
Napi::Value TtyRestore(const Napi::CallbackInfo &info) {
  ARGS("nB");
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  struct termios t;
  if (b.Length() != sizeof t) return typeFail(env, "ttyRestore: not a saved termios");
  memcpy(&t, b.Data(), sizeof t);
  if (tcsetattr(argInt(info, 0), TCSANOW, &t) < 0) THROW_ERRNO("tcsetattr");
  return env.Undefined();
}

Napi::Value StatfsType(const Napi::CallbackInfo &info) {
  ARGS("s");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  struct statfs s;
  if (statfs(path.c_str(), &s) < 0) THROW_ERRNO("statfs " + path);
  return Napi::Number::New(env, (double)(unsigned long)s.f_type);
}

// umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW): the caller has checked that the mount on top there is its own
Napi::Value DetachMount(const Napi::CallbackInfo &info) {
  ARGS("s");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) THROW_ERRNO("umount " + path);
  return env.Undefined();
}

Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  ARGS("s?n");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  int mode = info.Length() > 1 ? argInt(info, 1) : 0600;
  if (mkfifo(path.c_str(), mode) < 0) THROW_ERRNO("mkfifo " + path);
  return env.Undefined();
}

// mknod(path, mode, major, minor): mode holds the file type bits (S_IFCHR, S_IFBLK, S_IFIFO) and the
// permissions (image layers: device nodes, and overlay whiteouts, a character device 0/0).
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  ARGS("snnn");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  dev_t dev = makedev((unsigned)argInt(info, 2), (unsigned)argInt(info, 3));
  if (mknod(path.c_str(), (mode_t)argInt(info, 1), dev) < 0) THROW_ERRNO("mknod " + path);
  return env.Undefined();
}

// lsetxattr(path, name, value): on the link itself, never following a symlink.
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  ARGS("ssB");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  std::string name = argStr(info, 1);
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0) THROW_ERRNO("setxattr " + name + " " + path);
  return env.Undefined();
}

// mountFs(source, target, fstype, data): a new mount of a file system (image bundles: overlay), flags
// MS_NOSUID|MS_NODEV are not set (the image's setuid files must work as in any engine).
Napi::Value MountFs(const Napi::CallbackInfo &info) {
  ARGS("ssss");
  Napi::Env env = info.Env();
  std::string source = argStr(info, 0), target = argStr(info, 1), fstype = argStr(info, 2), data = argStr(info, 3);
  if (mount(source.c_str(), target.c_str(), fstype.c_str(), 0, data.c_str()) < 0) THROW_ERRNO("mount " + fstype + " on " + target);
  return env.Undefined();
}

// socketPair() -> [a, b]: a connected AF_UNIX stream pair, both O_CLOEXEC (one end is handed to a child by
// spawn, which dup2s it without the flag). Node's own pipes read in libuv and drop SCM_RIGHTS.
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) THROW_ERRNO("socketpair");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set((uint32_t)0, Napi::Number::New(env, sv[0]));
  a.Set((uint32_t)1, Napi::Number::New(env, sv[1]));
  return a;
}

// seccompFlagSupported(flag): whether the kernel knows a SECCOMP_FILTER_FLAG_* bit. As runc does it: a filter
// with that flag and a NULL program fails with EFAULT when the flag is known, EINVAL when not (nothing loads).
Napi::Value SeccompFlagSupported(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  unsigned flag = (unsigned)argInt(info, 0);
  long r = syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flag, nullptr);
  return Napi::Boolean::New(env, r < 0 && errno == EFAULT);
}

// attachDeviceFilter(cgroupDir, insns): load a BPF_PROG_TYPE_CGROUP_DEVICE program (the instructions come from
// src/cgroups/bpf.ts) and attach it to a cgroup2 directory with BPF_F_ALLOW_MULTI. The attachment keeps the
// program alive; both fds are closed. The verifier's log is part of the error.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  ARGS("sB");
  Napi::Env env = info.Env();
  std::string dir = argStr(info, 0);
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  static char log[8192];
  log[0] = 0;
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = (uint32_t)(insns.Length() / 8);
  load.insns = (uint64_t)(uintptr_t)insns.Data();
  load.license = (uint64_t)(uintptr_t)"Apache";
  load.log_level = 1;
  load.log_size = sizeof log;
  load.log_buf = (uint64_t)(uintptr_t)log;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (prog < 0 && errno == ENOSPC) {
    // the log did not fit: load again without it, the errno is what matters
    load.log_level = 0; load.log_size = 0; load.log_buf = 0;
    prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  }
  if (prog < 0) {
    int e = errno;
    std::string what = std::string("load the device eBPF program: ") + strerror(e);
    if (log[0]) what += std::string(" (verifier: ") + log + ")";
    Napi::Error err = Napi::Error::New(env, what);
    err.Set("errno", Napi::Number::New(env, e));
    err.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int cg = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    int e = errno;
    close(prog);
    errno = e;
    THROW_ERRNO("open " + dir);
  }
  union bpf_attr at;
  memset(&at, 0, sizeof at);
  at.target_fd = (uint32_t)cg;
  at.attach_bpf_fd = (uint32_t)prog;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  long r = syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at);
  int e = errno;
  close(cg);
  close(prog);
  if (r < 0) {
    errno = e;
    THROW_ERRNO("attach the device eBPF program to " + dir);
  }
  return env.Undefined();
}

// ---- netlink (linux.netDevices): runts' side of moving a device into the container's network namespace ----

// One request on a fresh NETLINK_ROUTE socket of runts' own network namespace; each answer message goes to
// onMsg (dumps until NLMSG_DONE). Returns 0 or -errno (the kernel's NLMSG_ERROR, or the socket's).
template <typename F>
int nlRequest(void *req, size_t len, F onMsg) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return -errno;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  struct nlmsghdr *h = (struct nlmsghdr *)req;
  h->nlmsg_seq = 1;
  if (sendto(s, req, len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) { int e = errno; close(s); return -e; }
  static char buf[32768];
  for (;;) {
    ssize_t n;
    do n = recv(s, buf, sizeof buf, 0); while (n < 0 && errno == EINTR);
    if (n < 0) { int e = errno; close(s); return -e; }
    for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_type == NLMSG_DONE) { close(s); return 0; }
      if (m->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
        close(s);
        return e;
      }
      onMsg(m);
    }
  }
}

// append an attribute to the request in buf (room is the caller's: requests here are small and fixed)
void nlAttr(char *buf, unsigned short type, const void *data, size_t len) {
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  struct rtattr *a = (struct rtattr *)(buf + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

std::string addrText(int family, const void *p) {
  char t[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, p, t, sizeof t);
  return t;
}

// netLinkAddrs(name) -> { index, addrs: [{ family, prefixlen, flags, scope, local, broadcast }] }: a device of
// runts' network namespace and its addresses (RTM_GETADDR dump; flags from IFA_FLAGS when the kernel sends it).
// A missing device throws ENODEV.
Napi::Value NetLinkAddrs(const Napi::CallbackInfo &info) {
  ARGS("s");
  Napi::Env env = info.Env();
  std::string name = argStr(info, 0);
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) THROW_ERRNO("device " + name);
  struct { struct nlmsghdr h; struct ifaddrmsg a; } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.a);
  req.h.nlmsg_type = RTM_GETADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.a.ifa_family = AF_UNSPEC;
  Napi::Array addrs = Napi::Array::New(env);
  uint32_t count = 0;
  int r = nlRequest(&req, req.h.nlmsg_len, [&](struct nlmsghdr *m) {
    if (m->nlmsg_type != RTM_NEWADDR) return;
    struct ifaddrmsg *a = (struct ifaddrmsg *)NLMSG_DATA(m);
    if (a->ifa_index != index || (a->ifa_family != AF_INET && a->ifa_family != AF_INET6)) return;
    uint32_t flags = a->ifa_flags;
    const void *local = nullptr, *address = nullptr, *brd = nullptr;
    int len = (int)IFA_PAYLOAD(m);
    for (struct rtattr *t = IFA_RTA(a); RTA_OK(t, len); t = RTA_NEXT(t, len)) {
      if (t->rta_type == IFA_FLAGS && RTA_PAYLOAD(t) >= 4) memcpy(&flags, RTA_DATA(t), 4);
      if (t->rta_type == IFA_LOCAL) local = RTA_DATA(t);
      if (t->rta_type == IFA_ADDRESS) address = RTA_DATA(t);
      if (t->rta_type == IFA_BROADCAST) brd = RTA_DATA(t);
    }
    if (!local) local = address;
    if (!local) return;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", Napi::Number::New(env, a->ifa_family));
    o.Set("prefixlen", Napi::Number::New(env, a->ifa_prefixlen));
    o.Set("flags", Napi::Number::New(env, flags));
    o.Set("scope", Napi::Number::New(env, a->ifa_scope));
    o.Set("local", Napi::String::New(env, addrText(a->ifa_family, local)));
    if (brd) o.Set("broadcast", Napi::String::New(env, addrText(a->ifa_family, brd)));
    addrs.Set(count++, o);
  });
  if (r < 0) { errno = -r; THROW_ERRNO("list the addresses of " + name); }
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, index));
  out.Set("addrs", addrs);
  return out;
}

// netLinkMove(name, newName, nsFd): move a device of runts' network namespace into the namespace behind nsFd,
// renamed in the same request (RTM_NEWLINK with IFLA_NET_NS_FD and IFLA_IFNAME, as runc does: no clash with a
// name in either namespace in between). The kernel takes the device down and drops its addresses.
Napi::Value NetLinkMove(const Napi::CallbackInfo &info) {
  ARGS("ssn");
  Napi::Env env = info.Env();
  std::string name = argStr(info, 0), newName = argStr(info, 1);
  uint32_t nsfd = (uint32_t)argInt(info, 2);
  if (newName.size() >= IFNAMSIZ) return fail(env, "device name " + newName, EINVAL);
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) THROW_ERRNO("device " + name);
  alignas(NLMSG_ALIGNTO) char req[128];
  memset(req, 0, sizeof req);
  struct nlmsghdr *h = (struct nlmsghdr *)req;
  struct ifinfomsg *ifi = (struct ifinfomsg *)NLMSG_DATA(h);
  h->nlmsg_len = NLMSG_LENGTH(sizeof *ifi);
  h->nlmsg_type = RTM_NEWLINK;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int)index;
  nlAttr(req, IFLA_IFNAME, newName.c_str(), newName.size() + 1);
  nlAttr(req, IFLA_NET_NS_FD, &nsfd, sizeof nsfd);
  int r = nlRequest(req, h->nlmsg_len, [](struct nlmsghdr *) {});
  if (r < 0) { errno = -r; THROW_ERRNO("move " + name); }
  return env.Undefined();
}

// ---- files, synchronously, for the short calls (state, kill, start, delete): with these they load no node:fs
// (+138 page faults under Bun, docs/performance.md). Thin wrappers of one syscall each (fsRemoveTree: rm -rf
// that never follows a symlink); errors carry `code` as above. Every fd is opened O_CLOEXEC.

Napi::Value FsOpen(const Napi::CallbackInfo &info) {
  ARGS("sn?n");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  int mode = info.Length() > 2 ? argInt(info, 2) : 0666;
  int fd;
  do fd = open(path.c_str(), argInt(info, 1) | O_CLOEXEC, mode); while (fd < 0 && errno == EINTR);
  if (fd < 0) THROW_ERRNO("open " + path);
  return Napi::Number::New(env, fd);
}

Napi::Value FsClose(const Napi::CallbackInfo &info) {
  ARGS("n");
  if (close(argInt(info, 0)) < 0 && errno != EINTR) { int e = errno; return fail(info.Env(), "close", e); }
  return info.Env().Undefined();
}

// fsRead(fd, buf) / fsWrite(fd, buf): one read(2) / write(2) (EINTR retried); the byte count
Napi::Value FsRead(const Napi::CallbackInfo &info) {
  ARGS("nu");
  Napi::Env env = info.Env();
  Napi::Uint8Array b = info[1].As<Napi::Uint8Array>();
  ssize_t n;
  do n = read(argInt(info, 0), b.Data(), b.ByteLength()); while (n < 0 && errno == EINTR);
  if (n < 0) THROW_ERRNO("read");
  return Napi::Number::New(env, (double)n);
}

Napi::Value FsWrite(const Napi::CallbackInfo &info) {
  ARGS("nu");
  Napi::Env env = info.Env();
  Napi::Uint8Array b = info[1].As<Napi::Uint8Array>();
  ssize_t n;
  do n = write(argInt(info, 0), b.Data(), b.ByteLength()); while (n < 0 && errno == EINTR);
  if (n < 0) THROW_ERRNO("write");
  return Napi::Number::New(env, (double)n);
}

// Read fd to its end into `out` (EINTR retried; a non-blocking fd's EAGAIN waited out with poll; ECONNRESET, a
// socket whose peer closed with data unread, taken as the end): 0 or an errno.
static int readFully(int fd, std::string &out) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) { struct pollfd p = {fd, POLLIN, 0}; poll(&p, 1, -1); continue; }
    if (n < 0 && errno == ECONNRESET) return 0;
    if (n < 0) return errno;
    if (n == 0) return 0;
    out.append(buf, (size_t)n);
  }
}

// fsReadToEnd(fd): read fd to EOF (readFully) -> the bytes as a latin1 string, one char per byte ("" at once in
// start's usual case: the init's socket closes on its execve); no typed array made
Napi::Value FsReadToEnd(const Napi::CallbackInfo &info) {
  ARGS("n");
  Napi::Env env = info.Env();
  std::string out;
  if (int e = readFully(argInt(info, 0), out)) return fail(env, "read", e);
  napi_value v;
  if (napi_create_string_latin1(env, out.data(), out.size(), &v) != napi_ok) return fail(env, "read", ENOMEM);
  return Napi::Value(env, v);
}

// Write all of `data` to fd (EINTR retried; a non-blocking fd's EAGAIN waited out with poll): 0 or an errno.
static int writeFully(int fd, const std::string &data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) { struct pollfd p = {fd, POLLOUT, 0}; poll(&p, 1, -1); continue; }
    if (n < 0) return errno;
    off += (size_t)n;
  }
  return 0;
}

// fsWriteAll(fd, text): all of text as UTF-8 (writeFully); EPIPE is thrown
Napi::Value FsWriteAll(const Napi::CallbackInfo &info) {
  ARGS("ns");
  Napi::Env env = info.Env();
  int e = writeFully(argInt(info, 0), argStr(info, 1));
  if (e) return fail(env, "write", e);
  return env.Undefined();
}

// fsReadText(path, orUndefined) -> the whole file as UTF-8 text (procfs and cgroupfs files included: read to EOF);
// with orUndefined, a file that cannot be read gives undefined instead of an error (no Error object is made: a
// process that exited is the usual case of `delete`)
Napi::Value FsReadText(const Napi::CallbackInfo &info) {
  ARGS("s?*");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  bool opt = info.Length() > 1 && info[1].ToBoolean();
  int fd;
  do fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0 && opt) return env.Undefined();
  if (fd < 0) THROW_ERRNO("open " + path);
  std::string out;
  int e = readFully(fd, out);
  close(fd);
  if (e && opt) return env.Undefined();
  if (e) return fail(env, "read " + path, e);
  return Napi::String::New(env, out);
}

// fsWriteFile(path, text, flags, mode): open (flags | O_WRONLY | O_CREAT), write all, close
Napi::Value FsWriteFile(const Napi::CallbackInfo &info) {
  ARGS("ssnn");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0), data = argStr(info, 1);
  int fd;
  do fd = open(path.c_str(), argInt(info, 2) | O_WRONLY | O_CREAT | O_CLOEXEC, argInt(info, 3)); while (fd < 0 && errno == EINTR);
  if (fd < 0) THROW_ERRNO("open " + path);
  if (int e = writeFully(fd, data)) { close(fd); return fail(env, "write " + path, e); }
  if (close(fd) < 0 && errno != EINTR) THROW_ERRNO("close " + path);
  return env.Undefined();
}

// fsExists(path): stat(2) succeeds (any type, a socket included; symlinks followed, as existsSync)
Napi::Value FsExists(const Napi::CallbackInfo &info) {
  ARGS("s");
  struct stat st;
  return Napi::Boolean::New(info.Env(), stat(argStr(info, 0).c_str(), &st) == 0);
}

Napi::Value FsRename(const Napi::CallbackInfo &info) {
  ARGS("ss");
  std::string from = argStr(info, 0), to = argStr(info, 1);
  if (rename(from.c_str(), to.c_str()) < 0) { int e = errno; return fail(info.Env(), "rename " + from, e); }
  return info.Env().Undefined();
}

Napi::Value FsUnlink(const Napi::CallbackInfo &info) {
  ARGS("s");
  std::string path = argStr(info, 0);
  if (unlink(path.c_str()) < 0) { int e = errno; return fail(info.Env(), "unlink " + path, e); }
  return info.Env().Undefined();
}

Napi::Value FsRmdir(const Napi::CallbackInfo &info) {
  ARGS("s");
  std::string path = argStr(info, 0);
  if (rmdir(path.c_str()) < 0) { int e = errno; return fail(info.Env(), "rmdir " + path, e); }
  return info.Env().Undefined();
}

// fsSubdirs(dir) -> the names of its sub-directories (not following symlinks)
Napi::Value FsSubdirs(const Napi::CallbackInfo &info) {
  ARGS("s");
  Napi::Env env = info.Env();
  std::string path = argStr(info, 0);
  DIR *d = opendir(path.c_str());
  if (!d) THROW_ERRNO("opendir " + path);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    bool isDir = de->d_type == DT_DIR;
    if (de->d_type == DT_UNKNOWN) {
      struct stat st;
      isDir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (isDir) out.Set(i++, Napi::String::New(env, de->d_name));
  }
  closedir(d);
  return out;
}

// Remove what is in the directory open at dfd (closed here), depth first, never following a symlink (each
// entry is opened O_NOFOLLOW relative to its parent). Returns 0 or an errno.
int removeIn(int dfd, int depth) {
  if (depth > 64) { close(dfd); return ELOOP; }
  DIR *d = fdopendir(dfd);
  if (!d) { int e = errno; close(dfd); return e; }
  int err = 0;
  for (struct dirent *de; !err && (de = readdir(d));) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) { err = errno; break; }
    int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) { if (errno != ENOENT) err = errno; continue; }
    err = removeIn(sub, depth + 1);
    if (!err && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) err = errno;
    if (!err) rewinddir(d);
  }
  closedir(d);
  return err;
}

// fsRemoveTree(path): rm -rf; a path that does not exist is fine; a symlink is removed, not followed
Napi::Value FsRemoveTree(const Napi::CallbackInfo &info) {
  ARGS("s");
  std::string path = argStr(info, 0);
  if (unlink(path.c_str()) == 0 || errno == ENOENT) return info.Env().Undefined();
  if (errno != EISDIR) { int e = errno; return fail(info.Env(), "unlink " + path, e); }
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { int e = errno; if (e == ENOENT) return info.Env().Undefined(); return fail(info.Env(), "open " + path, e); }
  int e = removeIn(fd, 0);
  if (!e && rmdir(path.c_str()) < 0 && errno != ENOENT) e = errno;
  if (e) return fail(info.Env(), "remove " + path, e);
  return info.Env().Undefined();
}
// fsStat(path | fd, nofollow) -> [mode, dev, ino] of stat(2) / lstat(2) / fstat(2) (dev and ino as doubles: exact
// below 2^53, which namespace inodes and device numbers are)
Napi::Value FsStat(const Napi::CallbackInfo &info) {
  ARGS("*?*");
  Napi::Env env = info.Env();
  struct stat st;
  int r;
  std::string path;
  if (info[0].IsNumber()) r = fstat(argInt(info, 0), &st);
  else if (info[0].IsString()) {
    path = argStr(info, 0);
    r = info.Length() > 1 && info[1].ToBoolean() ? lstat(path.c_str(), &st) : stat(path.c_str(), &st);
  } else return typeFail(env, "fsStat: a path or an fd");
  if (r < 0) THROW_ERRNO("stat " + path);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, st.st_mode));
  out.Set(1u, Napi::Number::New(env, (double)st.st_dev));
  out.Set(2u, Napi::Number::New(env, (double)st.st_ino));
  return out;
}

// fsMkdir(path, mode): one mkdir(2)
Napi::Value FsMkdir(const Napi::CallbackInfo &info) {
  ARGS("sn");
  std::string path = argStr(info, 0);
  if (mkdir(path.c_str(), (mode_t)argInt(info, 1)) < 0) { int e = errno; return fail(info.Env(), "mkdir " + path, e); }
  return info.Env().Undefined();
}

// fsRealpath(path) -> realpath(3)
Napi::Value FsRealpath(const Napi::CallbackInfo &info) {
  ARGS("s");
  std::string path = argStr(info, 0);
  char *r = realpath(path.c_str(), nullptr);
  if (!r) { int e = errno; return fail(info.Env(), "realpath " + path, e); }
  Napi::String out = Napi::String::New(info.Env(), r);
  free(r);
  return out;
}

// fsAccess(path, mode) -> whether access(2) allows it (R_OK 4, W_OK 2, X_OK 1)
Napi::Value FsAccess(const Napi::CallbackInfo &info) {
  ARGS("sn");
  return Napi::Boolean::New(info.Env(), access(argStr(info, 0).c_str(), argInt(info, 1)) == 0);
}
// ---- end of the file functions

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sealedMemfdFrom", Napi::Function::New(env, SealedMemfdFrom));
  exports.Set("sealedMemfdFromBytes", Napi::Function::New(env, SealedMemfdFromBytes));
  exports.Set("memfdSeals", Napi::Function::New(env, MemfdSeals));
  exports.Set("stubOverlayFd", Napi::Function::New(env, StubOverlayFd));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd));
  exports.Set("pollPidfdExited", Napi::Function::New(env, PollPidfdExited));
  exports.Set("waitPidfd", Napi::Function::New(env, WaitPidfd));
  exports.Set("waitPidfdSync", Napi::Function::New(env, WaitPidfdSync));
  exports.Set("forwardSignals", Napi::Function::New(env, ForwardSignals));
  exports.Set("reapPidfd", Napi::Function::New(env, ReapPidfd));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect));
  exports.Set("unixAccept", Napi::Function::New(env, UnixAccept));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("sendFd", Napi::Function::New(env, SendFd));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("ttyMakeRaw", Napi::Function::New(env, TtyMakeRaw));
  exports.Set("ttyRestore", Napi::Function::New(env, TtyRestore));
  exports.Set("statfsType", Napi::Function::New(env, StatfsType));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("detachMount", Napi::Function::New(env, DetachMount));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("mountFs", Napi::Function::New(env, MountFs));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("seccompFlagSupported", Napi::Function::New(env, SeccompFlagSupported));
  // the libseccomp the init stub is built with (same build, same headers): features' annotation
  exports.Set("libseccompVersion", Napi::String::New(env, std::to_string(SCMP_VER_MAJOR) + "." +
                                                          std::to_string(SCMP_VER_MINOR) + "." +
                                                          std::to_string(SCMP_VER_MICRO)));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("netLinkAddrs", Napi::Function::New(env, NetLinkAddrs));
  exports.Set("netLinkMove", Napi::Function::New(env, NetLinkMove));
  // files, for the short calls
  exports.Set("fsOpen", Napi::Function::New(env, FsOpen));
  exports.Set("fsClose", Napi::Function::New(env, FsClose));
  exports.Set("fsRead", Napi::Function::New(env, FsRead));
  exports.Set("fsWrite", Napi::Function::New(env, FsWrite));
  exports.Set("fsReadToEnd", Napi::Function::New(env, FsReadToEnd));
  exports.Set("fsWriteAll", Napi::Function::New(env, FsWriteAll));
  exports.Set("fsReadText", Napi::Function::New(env, FsReadText));
  exports.Set("fsWriteFile", Napi::Function::New(env, FsWriteFile));
  exports.Set("fsExists", Napi::Function::New(env, FsExists));
  exports.Set("fsRename", Napi::Function::New(env, FsRename));
  exports.Set("fsUnlink", Napi::Function::New(env, FsUnlink));
  exports.Set("fsRmdir", Napi::Function::New(env, FsRmdir));
  exports.Set("fsRemoveTree", Napi::Function::New(env, FsRemoveTree));
  exports.Set("fsSubdirs", Napi::Function::New(env, FsSubdirs));
  exports.Set("fsStat", Napi::Function::New(env, FsStat));
  exports.Set("fsMkdir", Napi::Function::New(env, FsMkdir));
  exports.Set("fsRealpath", Napi::Function::New(env, FsRealpath));
  exports.Set("fsAccess", Napi::Function::New(env, FsAccess));
  return exports;
}

}  // namespace

NODE_API_MODULE(runts_native, Init)
