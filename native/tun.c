// synack_tun: the smallest native piece that lets Node attach a userspace stack to a Linux TUN or
// TAP device. It owns exactly what JavaScript cannot do: open("/dev/net/tun") + ioctl(TUNSETIFF)
// (optionally inside another network namespace via setns(2)), and a libuv uv_poll_t reader that
// drains the non-blocking fd on each readable event and calls back into JS once per frame, all
// frames of one wake-up inside ONE callback scope (so microtasks, and the stack's poll, run once
// per batch). Writing is one write(2) per frame: the device takes each write as one frame.
// Read first: Documentation/networking/tuntap.rst in the Linux tree, and setns(2).
//
// JS API (see src/link/tap.ts, which is the only caller):
//   open(name, tap, netnsPath|undefined, up) -> { fd, name, mtu, ifindex }   throws Error{code,errno,syscall}
//   write(fd, Uint8Array) -> bytes written, or -errno (never throws on the hot path)
//   startReader(fd, cb(frame|null, errno)) -> reader handle    (cb(null, errno) once on a read error, then stops)
//   stopReader(handle)  setRef(handle, bool)  close(fd)
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define READ_BUF 65536 // larger than any frame a TUN/TAP without IFF_VNET_HDR delivers
#define MAX_BATCH 256  // frames per readable event before yielding to the event loop

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_ref resource;
  napi_async_context ctx;
  int fd;
  int stopped;
  unsigned char buf[READ_BUF]; // per reader: worker threads may drain other devices at the same time
} reader_t;

/** Throws an Error like Node's system errors: message "<syscall> <CODE>: <strerror>", with code/errno/syscall. */
static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  char msg[256];
  const char *code = uv_err_name(-err);
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, code, strerror(err));
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  napi_throw(env, e);
  return NULL;
}

/** TUNSETIFF on a fresh fd, then the MTU, ifindex and (optionally) IFF_UP through an AF_INET socket in the same namespace. */
static int open_device(const char *want, int tap, int up, char *name_out, int *fd_out, int *mtu_out, int *ifindex_out, const char **syscall) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) { *syscall = "open /dev/net/tun"; return errno; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI; // no packet-info prefix, no virtio header
  size_t wl = strlen(want);
  memcpy(ifr.ifr_name, want, wl < IFNAMSIZ - 1 ? wl : IFNAMSIZ - 1); // the rest stays NUL
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { int e = errno; close(fd); *syscall = "ioctl(TUNSETIFF)"; return e; }
  memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { int e = errno; close(fd); *syscall = "socket"; return e; }
  if (ioctl(s, SIOCGIFMTU, &ifr) < 0) { int e = errno; close(s); close(fd); *syscall = "ioctl(SIOCGIFMTU)"; return e; }
  *mtu_out = ifr.ifr_mtu;
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) { int e = errno; close(s); close(fd); *syscall = "ioctl(SIOCGIFINDEX)"; return e; }
  *ifindex_out = ifr.ifr_ifindex;
  if (up) {
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
      int e = errno; close(s); close(fd); *syscall = "ioctl(SIOCSIFFLAGS)"; return e;
    }
  }
  close(s);
  *fd_out = fd;
  return 0;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char want[IFNAMSIZ] = {0};
  size_t n;
  if (napi_get_value_string_utf8(env, argv[0], want, sizeof want, &n) != napi_ok) { napi_throw_type_error(env, NULL, "name must be a string"); return NULL; }
  bool tap = true, up = false;
  napi_get_value_bool(env, argv[1], &tap);
  napi_get_value_bool(env, argv[3], &up);
  char nspath[4096] = {0};
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[2], &t));
  if (t == napi_string) CHECK(napi_get_value_string_utf8(env, argv[2], nspath, sizeof nspath, &n));

  // setns(2) moves only this thread; the device is created in (and bound to) the namespace the
  // fd was opened in, and the fd keeps working after we move back. Nothing else runs on the JS
  // thread meanwhile, so the switch is invisible to the rest of the process.
  int self = -1;
  if (nspath[0] != 0) {
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return throw_errno(env, errno, "open /proc/thread-self/ns/net");
    int target = open(nspath, O_RDONLY | O_CLOEXEC);
    if (target < 0) { int e = errno; close(self); return throw_errno(env, e, "open netns"); }
    int r = setns(target, CLONE_NEWNET);
    int e = errno;
    close(target);
    if (r < 0) { close(self); return throw_errno(env, e, "setns"); }
  }
  char name[IFNAMSIZ];
  int fd = -1, mtu = 0, ifindex = 0;
  const char *syscall = "";
  int err = open_device(want, tap, up, name, &fd, &mtu, &ifindex, &syscall);
  if (self >= 0) {
    if (setns(self, CLONE_NEWNET) < 0) napi_fatal_error("synack_tun", NAPI_AUTO_LENGTH, "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
    close(self);
  }
  if (err != 0) return throw_errno(env, err, syscall);

  napi_value out, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_named_property(env, out, "fd", v));
  CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "name", v));
  CHECK(napi_create_int32(env, mtu, &v));
  CHECK(napi_set_named_property(env, out, "mtu", v));
  CHECK(napi_create_int32(env, ifindex, &v));
  CHECK(napi_set_named_property(env, out, "ifindex", v));
  return out;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "frame must be a Uint8Array");
    return NULL;
  }
  ssize_t r;
  do r = write(fd, data, len); while (r < 0 && errno == EINTR);
  napi_value out;
  CHECK(napi_create_int64(env, r < 0 ? -errno : r, &out));
  return out;
}

/** Releases the JS references and the reader once libuv has let go of the handle (outside any callback scope). */
static void on_closed(uv_handle_t *h) {
  reader_t *r = (reader_t *)h->data;
  napi_delete_reference(r->env, r->cb);
  napi_delete_reference(r->env, r->resource);
  napi_async_destroy(r->env, r->ctx);
  free(r);
}

/** Stops the poll; the reader is freed once libuv has closed the handle. Never closes the fd. */
static void reader_stop(reader_t *r) {
  if (r->stopped) return;
  r->stopped = 1;
  uv_poll_stop(&r->poll);
  uv_close((uv_handle_t *)&r->poll, on_closed);
}

/** Calls cb(frame, 0) or cb(null, errno); returns 0, or -1 when JS threw (the exception is rethrown as uncaught). */
static int deliver(reader_t *r, napi_value cb, napi_value recv, const unsigned char *frame, ssize_t len, int err) {
  napi_env env = r->env;
  napi_value args[2];
  if (frame != NULL) {
    void *dst;
    napi_value ab;
    if (napi_create_arraybuffer(env, (size_t)len, &dst, &ab) != napi_ok) return -1;
    memcpy(dst, frame, (size_t)len);
    if (napi_create_typedarray(env, napi_uint8_array, (size_t)len, ab, 0, &args[0]) != napi_ok) return -1;
  } else {
    napi_get_null(env, &args[0]);
  }
  napi_create_int32(env, err, &args[1]);
  napi_value ignored;
  if (napi_call_function(env, recv, cb, 2, args, &ignored) != napi_ok) {
    napi_value e;
    if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
    return -1;
  }
  return 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  reader_t *r = (reader_t *)h->data;
  if (r->stopped) return;
  napi_env env = r->env;
  napi_handle_scope hs;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return;
  napi_value resource, cb;
  napi_get_reference_value(env, r->resource, &resource);
  napi_get_reference_value(env, r->cb, &cb);
  napi_callback_scope cs;
  if (napi_open_callback_scope(env, resource, r->ctx, &cs) != napi_ok) { napi_close_handle_scope(env, hs); return; }
  // On an error the poll is stopped before JS hears of it, so JS may close the fd at once (the
  // reader's memory lives until libuv's close callback, after this function returns).
  if (status < 0) {
    reader_stop(r);
    deliver(r, cb, resource, NULL, 0, -status);
  } else {
    for (int i = 0; i < MAX_BATCH && !r->stopped; i++) {
      ssize_t n = read(r->fd, r->buf, sizeof r->buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        int e = errno;
        reader_stop(r);
        deliver(r, cb, resource, NULL, 0, e);
        break;
      }
      if (n == 0) break; // not expected from a TUN/TAP fd; nothing to deliver
      if (deliver(r, cb, resource, r->buf, n, 0) != 0) break;
    }
  }
  napi_close_callback_scope(env, cs); // microtasks (the driver's kick) run here, once per batch
  napi_close_handle_scope(env, hs);
}

static napi_value js_start_reader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  reader_t *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, ENOMEM, "startReader");
  r->env = env;
  r->fd = fd;
  napi_value resource, name, handle;
  CHECK(napi_create_object(env, &resource));
  CHECK(napi_create_string_utf8(env, "synack:tap", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, resource, name, &r->ctx));
  CHECK(napi_create_reference(env, argv[1], 1, &r->cb));
  CHECK(napi_create_reference(env, resource, 1, &r->resource));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int e = uv_poll_init(loop, &r->poll, fd);
  if (e == 0) {
    r->poll.data = r;
    e = uv_poll_start(&r->poll, UV_READABLE, on_poll);
    if (e != 0) { reader_stop(r); return throw_errno(env, -e, "uv_poll_start"); }
  } else {
    napi_delete_reference(env, r->cb);
    napi_delete_reference(env, r->resource);
    napi_async_destroy(env, r->ctx);
    free(r);
    return throw_errno(env, -e, "uv_poll_init");
  }
  CHECK(napi_create_external(env, r, NULL, NULL, &handle));
  return handle;
}

static reader_t *reader_arg(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) napi_throw_type_error(env, NULL, "not a reader handle");
  return (reader_t *)p;
}

static napi_value js_stop_reader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = reader_arg(env, argv[0]);
  if (r != NULL) reader_stop(r);
  return NULL;
}

static napi_value js_set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *r = reader_arg(env, argv[0]);
  bool on = true;
  napi_get_value_bool(env, argv[1], &on);
  if (r != NULL && !r->stopped) {
    if (on) uv_ref((uv_handle_t *)&r->poll);
    else uv_unref((uv_handle_t *)&r->poll);
  }
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (close(fd) < 0) return throw_errno(env, errno, "close");
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
    {"write", NULL, js_write, NULL, NULL, NULL, napi_default, NULL},
    {"startReader", NULL, js_start_reader, NULL, NULL, NULL, napi_default, NULL},
    {"stopReader", NULL, js_stop_reader, NULL, NULL, NULL, napi_default, NULL},
    {"setRef", NULL, js_set_ref, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
