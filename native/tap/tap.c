// A Linux TAP device for the host simulator, as a small N-API class:
//
//   new Tap(name)      opens /dev/net/tun as IFF_TAP|IFF_NO_PI, non-blocking; "" lets the kernel pick the name
//   tap.name           the interface name the kernel gave
//   tap.start(cb)      polls the fd; each wake-up reads every queued frame (up to a batch) and calls
//                      cb(frames: Uint8Array[]) once, or cb(frames, error) once if reading failed (polling stops)
//   tap.write(frame)   write(2) straight from the Uint8Array's bytes; returns the bytes written or -errno
//   tap.close()        stops polling and closes the fd; safe to call twice
//
// Frames are copied once, from a scratch buffer into a fresh ArrayBuffer each, so the stack may keep views of them.

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

// Frames read per wake-up before returning to the event loop, so a flood cannot starve timers and other I/O.
#define MAX_BATCH 64
// Larger than any frame a TAP without offloads hands us (MTU at most 65535 plus the Ethernet header).
#define SCRATCH_LEN 65600

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t *poll;         // non-NULL while started
  napi_ref self;           // weak; made strong while started so a polling device is not collected
  napi_ref callback;       // while started
  napi_async_context async;  // made by the first start, kept until finalized: a callback may close the device
  char name[IFNAMSIZ];
} Tap;

static unsigned char scratch[SCRATCH_LEN];

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      const napi_extended_error_info *info;                            \
      napi_get_last_error_info(env, &info);                            \
      bool pending;                                                    \
      napi_is_exception_pending(env, &pending);                        \
      if (!pending) napi_throw_error(env, NULL, info->error_message ? info->error_message : #call); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

// Throws an Error whose code is the errno name (EPERM, ENOENT, ...) and whose message says what to do about it.
static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  const char *hint = "";
  if (err == EPERM || err == EACCES) hint = "TAP needs root or CAP_NET_ADMIN: ";
  else if (err == ENOENT || err == ENODEV) hint = "TAP unavailable (no /dev/net/tun; is the tun module loaded?): ";
  else if (err == EBUSY) hint = "TAP device is already open: ";
  else if (err == EINVAL) hint = "bad TAP name, or an interface that is not a TAP has it: ";
  snprintf(msg, sizeof msg, "%s%s: %s", hint, what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), msg);
  return NULL;
}

static void stop_poll(Tap *t) {
  if (!t->poll) return;
  uv_poll_stop(t->poll);
  uv_close((uv_handle_t *)t->poll, (uv_close_cb)free);
  t->poll = NULL;
  napi_delete_reference(t->env, t->callback);
  napi_reference_unref(t->env, t->self, NULL);
}

static void close_tap(Tap *t) {
  stop_poll(t);
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Tap *t = data;
  close_tap(t);
  if (t->async) napi_async_destroy(env, t->async);
  napi_delete_reference(env, t->self);
  free(t);
}

static Tap *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a Tap");
    return NULL;
  }
  return data;
}

static napi_value tap_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  char name[IFNAMSIZ + 1] = "";
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "Tap(name): name must be a string (\"\" lets the kernel choose)");
    return NULL;
  }
  if (len >= IFNAMSIZ) {
    napi_throw_range_error(env, NULL, "Tap(name): interface names are at most 15 bytes");
    return NULL;
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "cannot open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    char what[64];
    snprintf(what, sizeof what, "cannot create TAP device '%s' (TUNSETIFF)", len ? name : "tap%d");
    return throw_errno(env, err, what);
  }

  Tap *t = calloc(1, sizeof *t);
  if (!t) {
    close(fd);
    return throw_errno(env, ENOMEM, "Tap");
  }
  t->env = env;
  t->fd = fd;
  memcpy(t->name, ifr.ifr_name, IFNAMSIZ - 1);
  if (napi_wrap(env, self, t, finalize, NULL, &t->self) != napi_ok) {
    close(fd);
    free(t);
    napi_throw_error(env, NULL, "Tap: napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value tap_name(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Tap *t = unwrap(env, info, &argc, NULL);
  if (!t) return NULL;
  napi_value s;
  CHECK(napi_create_string_utf8(env, t->name, NAPI_AUTO_LENGTH, &s));
  return s;
}

// Builds the error passed to the receive callback when read(2) fails for good (e.g. the device was deleted).
static napi_value read_error(napi_env env, Tap *t, int err) {
  char msg[128];
  snprintf(msg, sizeof msg, "TAP device '%s': read failed: %s", t->name, strerror(err));
  napi_value code, text, e;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  return e;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  Tap *t = poll->data;
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  napi_value frames, args[2];
  napi_create_array(env, &frames);
  uint32_t n = 0;
  int err = status < 0 ? -status : 0;
  while (!err && n < MAX_BATCH) {
    ssize_t r = read(t->fd, scratch, sizeof scratch);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) err = errno;
      break;
    }
    void *bytes;
    napi_value ab, view;
    napi_create_arraybuffer(env, (size_t)r, &bytes, &ab);
    memcpy(bytes, scratch, (size_t)r);
    napi_create_typedarray(env, napi_uint8_array, (size_t)r, ab, 0, &view);
    napi_set_element(env, frames, n++, view);
  }

  if (n || err) {
    size_t argc = 1;
    args[0] = frames;
    if (err) args[argc++] = read_error(env, t, err);
    napi_value cb, self, result;
    bool pending = false;
    napi_get_reference_value(env, t->callback, &cb);
    napi_get_reference_value(env, t->self, &self);
    if (err) stop_poll(t);  // before the call, so the callback may close the device
    if (napi_make_callback(env, t->async, self, cb, argc, args, &result) != napi_ok &&
        napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);  // an exception from the receiver becomes an uncaught exception
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value tap_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Tap *t = unwrap(env, info, &argc, argv);
  if (!t) return NULL;
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "Tap.start(callback): callback must be a function");
    return NULL;
  }
  if (t->fd < 0) {
    napi_throw_error(env, "ERR_TAP_CLOSED", "Tap.start: device is closed");
    return NULL;
  }
  if (t->poll) {
    napi_throw_error(env, "ERR_TAP_STARTED", "Tap.start: already started");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (!t->async) {
    napi_value resource, resource_name;
    CHECK(napi_create_object(env, &resource));
    CHECK(napi_create_string_utf8(env, "TapRead", NAPI_AUTO_LENGTH, &resource_name));
    CHECK(napi_async_init(env, resource, resource_name, &t->async));
  }
  uv_poll_t *poll = malloc(sizeof *poll);
  if (!poll) return throw_errno(env, ENOMEM, "Tap.start");
  int rc = uv_poll_init(loop, poll, t->fd);
  if (rc < 0) {
    free(poll);
    return throw_errno(env, -rc, "Tap.start: uv_poll_init");
  }
  poll->data = t;
  t->poll = poll;
  napi_create_reference(env, argv[0], 1, &t->callback);
  napi_reference_ref(env, t->self, NULL);
  rc = uv_poll_start(poll, UV_READABLE, on_readable);
  if (rc < 0) {
    stop_poll(t);
    return throw_errno(env, -rc, "Tap.start: uv_poll_start");
  }
  return NULL;
}

static napi_value tap_write(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  Tap *t = unwrap(env, info, &argc, argv);
  if (!t) return NULL;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "Tap.write(frame): frame must be a Uint8Array");
    return NULL;
  }
  ssize_t r;
  do r = t->fd < 0 ? (errno = EBADF, -1) : write(t->fd, data, len);
  while (r < 0 && errno == EINTR);
  CHECK(napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &result));
  return result;
}

static napi_value tap_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Tap *t = unwrap(env, info, &argc, NULL);
  if (t) close_tap(t);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"name", NULL, NULL, tap_name, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, tap_start, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, tap_write, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  CHECK(napi_define_class(env, "Tap", NAPI_AUTO_LENGTH, tap_new, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  CHECK(napi_set_named_property(env, exports, "Tap", cls));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
