// A Linux TAP device for the host simulator, as a small N-API class:
//
//   new Tap(name, offload)  opens /dev/net/tun as IFF_TAP|IFF_NO_PI, non-blocking; "" lets the kernel pick the name.
//                      offload: also IFF_VNET_HDR with checksum and TCP segmentation offload (TUNSETOFFLOAD
//                      TUN_F_CSUM|TUN_F_TSO4), so TCP frames pass in either direction as segments of up to 64 KiB
//   tap.name           the interface name the kernel gave
//   tap.start(cb)      polls the fd; each wake-up reads every queued frame (up to a batch) and calls
//                      cb(frames: Uint8Array[]) once, or cb(frames, error) once if reading failed (polling stops)
//   tap.write(frame, segment)
//                      write(2) straight from the Uint8Array's bytes; returns the bytes written or -errno. With
//                      offload, segment > 0 marks an IPv4/TCP frame with only the pseudo-header sum in its checksum
//                      field: the kernel completes the checksum and cuts a payload longer than segment bytes into
//                      segments of that many
//   tap.close()        stops polling and closes the fd; safe to call twice
//
// Frames are copied once, from a scratch buffer into a fresh ArrayBuffer each, so the stack may keep views of them.
// With offload, a received frame whose checksum the kernel left partial gets it completed here, so the stack
// sees only whole frames; a large TCP segment the kernel did not cut up arrives as one frame.

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

// Frames read per wake-up before returning to the event loop, so a flood cannot starve timers and other I/O.
#define MAX_BATCH 64
// Larger than any frame a TAP hands us (an IPv4 datagram of at most 65535 bytes, the Ethernet and virtio headers).
#define SCRATCH_LEN 65600
#define VNET_LEN sizeof(struct virtio_net_hdr)
#define ETH_LEN 14

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t *poll;         // non-NULL while started
  napi_ref self;           // weak; made strong while started so a polling device is not collected
  napi_ref callback;       // while started
  napi_async_context async;  // made by the first start, kept until finalized: a callback may close the device
  bool vnet;               // each frame read or written starts with a struct virtio_net_hdr
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
  size_t argc = 2;
  napi_value argv[2], self;
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
  bool offload = false;
  if (argc >= 2 && napi_get_value_bool(env, argv[1], &offload) != napi_ok) {
    napi_throw_type_error(env, NULL, "Tap(name, offload): offload must be a boolean");
    return NULL;
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "cannot open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    char what[64];
    snprintf(what, sizeof what, "cannot create TAP device '%s' (TUNSETIFF)", len ? name : "tap%d");
    return throw_errno(env, err, what);
  }
  int hdr = VNET_LEN;
  if (offload && (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0)) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "cannot turn on the TAP's offloads (TUNSETOFFLOAD)");
  }

  Tap *t = calloc(1, sizeof *t);
  if (!t) {
    close(fd);
    return throw_errno(env, ENOMEM, "Tap");
  }
  t->env = env;
  t->fd = fd;
  t->vnet = offload;
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

// The Internet checksum's sum (RFC 1071) of n bytes, summed in the host's byte order (the sum does not depend on
// the order, RFC 1071 2(B)) 32 bits at a time, folded to 16 bits and given back in network order.
static uint16_t ones_sum(const unsigned char *p, size_t n) {
  uint64_t sum = 0;
  uint32_t w;
  for (; n >= 4; p += 4, n -= 4) {
    memcpy(&w, p, 4);
    sum += w;
  }
  uint16_t h = 0;
  if (n >= 2) {
    memcpy(&h, p, 2);
    sum += h;
    p += 2;
    n -= 2;
  }
  if (n) {
    h = 0;
    memcpy(&h, p, 1);  // the odd byte, padded with zero after it
    sum += h;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  h = (uint16_t)sum;
  const unsigned char *b = (const unsigned char *)&h;  // back in memory, the sum's bytes are in network order
  return (uint16_t)(b[0] << 8 | b[1]);
}

// A frame the kernel left with a partial checksum (CHECKSUM_PARTIAL: the field holds the pseudo-header sum) gets
// its checksum completed. A header that points outside the frame leaves it as it is: the stack drops it then.
static void complete_checksum(unsigned char *frame, size_t len, const struct virtio_net_hdr *h) {
  if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return;
  size_t start = h->csum_start, at = start + h->csum_offset;
  if (start >= len || at + 2 > len) return;
  uint16_t c = ~ones_sum(frame + start, len - start);
  if (c == 0) c = 0xffff;  // UDP's "no checksum" is 0; one's-complement zero is 0xffff either way
  frame[at] = c >> 8;
  frame[at + 1] = c & 0xff;
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
    unsigned char *frame = scratch;
    size_t len = (size_t)r;
    if (t->vnet) {
      if (len < VNET_LEN) continue;  // never from a kernel that agreed to the header
      struct virtio_net_hdr h;
      memcpy(&h, scratch, VNET_LEN);
      frame += VNET_LEN;
      len -= VNET_LEN;
      complete_checksum(frame, len, &h);
    }
    void *bytes;
    napi_value ab, view;
    napi_create_arraybuffer(env, len, &bytes, &ab);
    memcpy(bytes, frame, len);
    napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &view);
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

// The virtio header of an IPv4/TCP frame whose checksum the kernel is to complete, cut into segments of `segment`
// bytes of payload if it carries more; false when the frame is no such thing.
static bool offload_header(const unsigned char *f, size_t len, uint32_t segment, struct virtio_net_hdr *h) {
  if (len < ETH_LEN + 20 || f[12] != 0x08 || f[13] != 0x00) return false;
  size_t ip = ETH_LEN, tcp = ip + (f[ip] & 0x0f) * 4u;
  bool fragment = (f[ip + 6] & 0x3f) || f[ip + 7];
  if (f[ip] >> 4 != 4 || tcp < ip + 20 || f[ip + 9] != 6 || fragment || len < tcp + 20) return false;
  size_t headers = tcp + (f[tcp + 12] >> 4) * 4u;
  if (headers < tcp + 20 || headers > len || segment > 0xffff) return false;
  h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h->csum_start = (uint16_t)tcp;
  h->csum_offset = 16;  // the TCP checksum field
  if (len - headers > segment) {
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h->gso_size = (uint16_t)segment;
    h->hdr_len = (uint16_t)headers;
  }
  return true;
}

static napi_value tap_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  Tap *t = unwrap(env, info, &argc, argv);
  if (!t) return NULL;
  napi_typedarray_type type;
  size_t len;
  void *data;
  uint32_t segment = 0;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || (argc >= 2 && napi_get_value_uint32(env, argv[1], &segment) != napi_ok)) {
    napi_throw_type_error(env, NULL, "Tap.write(frame, segment): a Uint8Array and a number");
    return NULL;
  }
  struct virtio_net_hdr h;
  memset(&h, 0, sizeof h);
  struct iovec iov[2] = {{&h, VNET_LEN}, {data, len}};
  ssize_t r;
  if (t->fd < 0) r = -1, errno = EBADF;
  else if (t->vnet && segment && !offload_header(data, len, segment, &h)) r = -1, errno = EINVAL;
  else do r = t->vnet ? writev(t->fd, iov, 2) : write(t->fd, data, len);
    while (r < 0 && errno == EINTR);
  if (r > 0 && t->vnet) r -= VNET_LEN;
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
