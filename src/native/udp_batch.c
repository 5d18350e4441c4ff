/*
 * udp_batch: UDP receive and send in batches (recvmmsg/sendmmsg) for psarnd, Linux only.
 *
 * Why: node:dgram pays per datagram for a Buffer, an rinfo object, an address string, a SendWrap
 * and one JS callback; on a DNS server that per-packet cost is most of the CPU. Here one poll
 * callback takes up to BATCH datagrams with one recvmmsg, makes ONE JS call for the batch, and
 * sends every reply with one sendmmsg. src/server/udp-batch.ts is the only user; node:dgram stays
 * the fallback wherever this module is not built or not Linux.
 *
 * Memory is shared with JS and owned by it (the GC frees it): JS allocates the input slots, the
 * output slots, their two Int32Array length tables and a Float64Array of counters, and passes
 * them to open(); napi references keep them alive until the socket's close callback. JS writes
 * each reply straight into its output slot (no copy here or there); out_lens says how long.
 *
 * Exports: open(config) -> handle, address(handle) -> [host, port], close(handle, done) -> bool,
 * the constants BATCH, SLOT_IN, SLOT_OUT, STATS (the counter count), STAT (counter name -> index
 * in the Float64Array, from stat_names below) and available.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, struct mmsghdr */
#endif

#include <node_api.h>

#ifdef __linux__

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

enum {
  BATCH = 64,        /* datagrams per recvmmsg/sendmmsg */
  SLOT_IN = 4096,    /* bytes per input slot: larger datagrams are dropped (MSG_TRUNC) */
  SLOT_OUT = 65536,  /* bytes per output slot: the largest UDP payload */
  MAX_ROUNDS = 8,    /* batches per poll callback, then back to the event loop (fairness) */
  PEER_SLOT = 17,    /* bytes per peer slot: the address length (0, 4 or 16), then the address */
};

/* Counter slots in the shared Float64Array; JS finds each by the name in stat_names (exported as STAT). */
typedef enum { STAT_RECEIVED, STAT_SENT, STAT_SEND_ERRORS, STAT_TRUNCATED, STAT_COUNT } stat_slot;

/* The names udp-batch.ts reads the counters by (BatchUdpStats); it refuses an addon whose names differ. */
static const char* const stat_names[STAT_COUNT] = {
    [STAT_RECEIVED] = "received",
    [STAT_SENT] = "sent",
    [STAT_SEND_ERRORS] = "sendErrors",
    [STAT_TRUNCATED] = "truncated",
};

/* napi references held while the socket is open. */
enum { REF_INPUT, REF_IN_LENS, REF_OUTPUT, REF_OUT_LENS, REF_STATS, REF_ON_BATCH, REF_ON_ERROR, REF_ON_CLOSE, REF_PEERS, REF_COUNT };

typedef enum { STATE_OPEN, STATE_CLOSING, STATE_CLOSED } socket_state;

typedef struct {
  uv_poll_t poll; /* poll.data points back here */
  napi_env env;
  int fd;
  socket_state state;
  bool wrapper_gone; /* the JS handle object was finalized */
  bool tearing_down; /* the environment is going away: no more calls into JS */
  napi_async_context async;
  napi_async_cleanup_hook_handle cleanup;
  napi_ref refs[REF_COUNT];
  uint8_t* input;
  int32_t* in_lens;
  uint8_t* output;
  int32_t* out_lens;
  double* stats;
  uint8_t* peer_addrs; /* BATCH * PEER_SLOT, or NULL when JS did not ask for peers */
  struct mmsghdr recv_msgs[BATCH];
  struct iovec recv_iov[BATCH];
  struct sockaddr_storage peers[BATCH];
  struct mmsghdr send_msgs[BATCH];
  struct iovec send_iov[BATCH];
} udp_batch;

/* ---------------------------------------------------------------- errors and JS calls */

/* Throws an Error like Node's errno errors: message "bind EADDRINUSE", code, errno (negative), syscall. */
static void throw_errno(napi_env env, int err, const char* syscall) {
  char name[64];
  char message[160];
  uv_err_name_r(-err, name, sizeof name);
  snprintf(message, sizeof message, "%s %s", syscall, name);
  napi_value msg, code, errno_value, syscall_value, error;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_int32(env, -err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_create_error(env, code, msg, &error) != napi_ok) {
    napi_throw_error(env, name, message);
    return;
  }
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
}

static void throw_type_error(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
}

/*
 * Calls a JS function held in refs[which] from a libuv callback. napi_make_callback enters the
 * context and, being the outermost call, runs the nextTick and microtask queues afterwards, as
 * Node does for its own handles. Returns false when the call threw (the exception is left
 * pending) or JS cannot run.
 */
static bool call_js(udp_batch* s, int which, size_t argc, const napi_value* argv) {
  napi_value fn, global, result;
  if (s->refs[which] == NULL) return false;
  if (napi_get_reference_value(s->env, s->refs[which], &fn) != napi_ok || fn == NULL) return false;
  if (napi_get_global(s->env, &global) != napi_ok) return false;
  return napi_make_callback(s->env, s->async, global, fn, argc, argv, &result) == napi_ok;
}

/*
 * Takes the pending JS exception, if there is one, into *exception and clears it. Every call into
 * JS from a libuv callback ends here when it fails: an exception left pending would make every
 * later Node-API call of this callback fail, and nothing above a libuv callback would catch it.
 * Returns false when none was pending (the call failed because JS cannot run any more).
 */
static bool take_exception(napi_env env, napi_value* exception) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return false;
  return napi_get_and_clear_last_exception(env, exception) == napi_ok;
}

/*
 * call_js for onError and done: the TS side never lets them throw, so whatever they throw anyway
 * is dropped here, a last resort rather than a path.
 */
static void call_js_dropping(udp_batch* s, int which, size_t argc, const napi_value* argv) {
  napi_value dropped;
  if (!call_js(s, which, argc, argv)) take_exception(s->env, &dropped);
}

/*
 * Reports a failed syscall as onError(undefined, code, syscall). Strings only: building an Error
 * object needs an entered V8 context, which a libuv callback does not have; JS builds it.
 */
static void report_errno(udp_batch* s, int err, const char* syscall) {
  char name[64];
  napi_value argv[3];
  uv_err_name_r(-err, name, sizeof name);
  if (napi_get_undefined(s->env, &argv[0]) != napi_ok ||
      napi_create_string_utf8(s->env, name, NAPI_AUTO_LENGTH, &argv[1]) != napi_ok ||
      napi_create_string_utf8(s->env, syscall, NAPI_AUTO_LENGTH, &argv[2]) != napi_ok) {
    return;
  }
  call_js_dropping(s, REF_ON_ERROR, 3, argv);
}

/* ---------------------------------------------------------------- the data path */

/*
 * The peer's address for JS, which hashes it into DNS server cookies (RFC 9018 §4.4): length 4
 * or 16, then the address; an IPv4-mapped IPv6 address (a dual-stack socket) as its 4 bytes.
 */
static void write_peer(uint8_t* slot, const struct sockaddr_storage* peer) {
  static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (peer->ss_family == AF_INET) {
    slot[0] = 4;
    memcpy(slot + 1, &((const struct sockaddr_in*)peer)->sin_addr, 4);
  } else if (peer->ss_family == AF_INET6) {
    const uint8_t* a = ((const struct sockaddr_in6*)peer)->sin6_addr.s6_addr;
    if (memcmp(a, v4_mapped, sizeof v4_mapped) == 0) {
      slot[0] = 4;
      memcpy(slot + 1, a + 12, 4);
    } else {
      slot[0] = 16;
      memcpy(slot + 1, a, 16);
    }
  } else {
    slot[0] = 0;
  }
}

/* One recvmmsg into the input slots. Returns the count, 0 when nothing is waiting, -1 on error (reported). */
static int receive_batch(udp_batch* s) {
  for (int i = 0; i < BATCH; i++) {
    s->recv_msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    s->recv_msgs[i].msg_hdr.msg_flags = 0;
    s->recv_msgs[i].msg_len = 0;
  }
  int n;
  do {
    n = recvmmsg(s->fd, s->recv_msgs, BATCH, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    report_errno(s, errno, "recvmmsg");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    s->out_lens[i] = 0;
    if (s->recv_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      /* Bigger than SLOT_IN: a DNS query never is (RFC 1035 §4.2.1; EDNS queries stay small). */
      s->in_lens[i] = -1;
      s->stats[STAT_TRUNCATED] += 1;
    } else {
      s->in_lens[i] = (int32_t)s->recv_msgs[i].msg_len; /* <= SLOT_IN */
    }
    if (s->peer_addrs != NULL) write_peer(s->peer_addrs + (size_t)i * PEER_SLOT, &s->peers[i]);
  }
  s->stats[STAT_RECEIVED] += n;
  return n;
}

/* Sends every slot i < n whose out_lens[i] > 0 back to peers[i]. Never blocks; failures are counted and dropped. */
static void send_batch(udp_batch* s, int n) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = s->out_lens[i];
    s->out_lens[i] = 0;
    if (len <= 0) continue;
    if (len > SLOT_OUT || s->in_lens[i] < 0) {
      s->stats[STAT_SEND_ERRORS] += 1;
      continue;
    }
    struct mmsghdr* m = &s->send_msgs[count];
    s->send_iov[count].iov_base = s->output + (size_t)i * SLOT_OUT;
    s->send_iov[count].iov_len = (size_t)len;
    memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
    m->msg_hdr.msg_name = &s->peers[i];
    m->msg_hdr.msg_namelen = s->recv_msgs[i].msg_hdr.msg_namelen;
    m->msg_hdr.msg_iov = &s->send_iov[count];
    m->msg_hdr.msg_iovlen = 1;
    m->msg_len = 0;
    count++;
  }
  int done = 0;
  while (done < count) {
    int r = sendmmsg(s->fd, s->send_msgs + done, (unsigned int)(count - done), MSG_DONTWAIT);
    if (r > 0) {
      /* A partial send: the rest go in the next call. */
      s->stats[STAT_SENT] += r;
      done += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
      /* This datagram is bad (unreachable peer, EPERM from a firewall, ...): drop it, try the rest. */
      s->stats[STAT_SEND_ERRORS] += 1;
      done += 1;
    } else {
      /* Send buffer full (or a 0 that should not happen): drop the rest rather than block. */
      s->stats[STAT_SEND_ERRORS] += count - done;
      done = count;
    }
  }
}

/* Calls onBatch(n). An exception goes to onError; returns false when JS cannot run any more. */
static bool deliver_batch(udp_batch* s, int n) {
  napi_value argv[1];
  napi_value exception;
  if (napi_create_int32(s->env, n, &argv[0]) != napi_ok) return false;
  if (call_js(s, REF_ON_BATCH, 1, argv)) return true;
  if (!take_exception(s->env, &exception)) return false;
  call_js_dropping(s, REF_ON_ERROR, 1, &exception);
  return true;
}

static void on_readable(uv_poll_t* poll, int status, int events) {
  (void)events;
  udp_batch* s = poll->data;
  if (s->state != STATE_OPEN || s->tearing_down) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  if (status < 0) {
    report_errno(s, -status, "poll");
  } else {
    /* Level-triggered: whatever is left after MAX_ROUNDS comes back on the next loop turn. */
    for (int round = 0; round < MAX_ROUNDS; round++) {
      int n = receive_batch(s);
      if (n <= 0) break;
      bool js_ok = deliver_batch(s, n);
      /* The fd stays open until the close callback, so replies of a batch whose callback called close() still go. */
      send_batch(s, n);
      if (!js_ok || s->state != STATE_OPEN || n < BATCH) break;
    }
  }
  napi_close_handle_scope(s->env, scope);
}

/* ---------------------------------------------------------------- lifetime */

static void release_napi(udp_batch* s) {
  for (int i = 0; i < REF_COUNT; i++) {
    if (s->refs[i] != NULL) {
      napi_delete_reference(s->env, s->refs[i]);
      s->refs[i] = NULL;
    }
  }
  if (s->async != NULL) {
    napi_async_destroy(s->env, s->async);
    s->async = NULL;
  }
  if (s->cleanup != NULL) {
    napi_remove_async_cleanup_hook(s->cleanup);
    s->cleanup = NULL;
  }
}

/* The poll handle is closed: close the fd, call done() unless the environment is going away, free. */
static void on_closed(uv_handle_t* handle) {
  udp_batch* s = handle->data;
  if (s->fd >= 0) {
    close(s->fd); /* Linux releases the fd even when close reports EINTR: never retry */
    s->fd = -1;
  }
  s->state = STATE_CLOSED;
  if (!s->tearing_down && s->refs[REF_ON_CLOSE] != NULL) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(s->env, &scope) == napi_ok) {
      call_js_dropping(s, REF_ON_CLOSE, 0, NULL);
      napi_close_handle_scope(s->env, scope);
    }
  }
  release_napi(s); /* last: removing the cleanup hook may let the environment finish */
  if (s->wrapper_gone) free(s);
}

static void begin_close(udp_batch* s) {
  s->state = STATE_CLOSING;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t*)&s->poll, on_closed);
}

/* A worker thread ending or the process exiting with the socket still open: close it without JS. */
static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  udp_batch* s = arg;
  s->cleanup = handle;
  s->tearing_down = true;
  if (s->state == STATE_OPEN) begin_close(s);
  /* Otherwise a close is under way and on_closed removes this hook. */
}

/* The JS handle object is gone. The struct outlives it while the socket is still open. */
static void on_wrapper_finalized(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  udp_batch* s = data;
  s->wrapper_gone = true;
  if (s->state == STATE_CLOSED) free(s);
}

/* ---------------------------------------------------------------- open */

/* Creates, configures and binds a non-blocking socket. Returns the fd, or -errno with *syscall set. */
static int open_socket(const struct sockaddr* addr, socklen_t addr_len, bool reuse_port, const char** syscall) {
  int family = addr->sa_family;
  int one = 1;
  *syscall = "socket";
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int err = 0;
  /* Like Node's udp6 sockets: IPv6 only, so an IPv4 socket can share the port. */
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    err = errno;
    *syscall = "setsockopt";
  }
  /* Several processes of a node:cluster each bind the same port; the kernel spreads datagrams. */
  if (err == 0 && reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    err = errno;
    *syscall = "setsockopt";
  }
  if (err == 0 && bind(fd, addr, addr_len) != 0) {
    err = errno;
    *syscall = "bind";
  }
  if (err != 0) {
    close(fd);
    return -err;
  }
  return fd;
}

static bool get_property(napi_env env, napi_value object, const char* name, napi_valuetype expected, napi_value* out) {
  napi_valuetype type;
  if (napi_get_named_property(env, object, name, out) != napi_ok) return false;
  if (napi_typeof(env, *out, &type) != napi_ok) return false;
  return type == expected;
}

/* A Buffer / Uint8Array of at least min_bytes. */
static bool get_bytes(napi_env env, napi_value object, const char* name, size_t min_bytes, napi_value* value, uint8_t** data) {
  napi_typedarray_type type;
  size_t length;
  napi_value buffer;
  size_t offset;
  void* raw;
  bool is_typed = false;
  if (napi_get_named_property(env, object, name, value) != napi_ok) return false;
  if (napi_is_typedarray(env, *value, &is_typed) != napi_ok || !is_typed) return false;
  if (napi_get_typedarray_info(env, *value, &type, &length, &raw, &buffer, &offset) != napi_ok) return false;
  if (type != napi_uint8_array || length < min_bytes || raw == NULL) return false;
  *data = raw;
  return true;
}

/* A typed array of the given type with at least min_length elements. */
static bool get_typed(napi_env env, napi_value object, const char* name, napi_typedarray_type want, size_t min_length, napi_value* value, void** data) {
  napi_typedarray_type type;
  size_t length;
  napi_value buffer;
  size_t offset;
  bool is_typed = false;
  if (napi_get_named_property(env, object, name, value) != napi_ok) return false;
  if (napi_is_typedarray(env, *value, &is_typed) != napi_ok || !is_typed) return false;
  if (napi_get_typedarray_info(env, *value, &type, &length, data, &buffer, &offset) != napi_ok) return false;
  return type == want && length >= min_length && *data != NULL;
}

/*
 * open({ host, port, ipv6, reusePort, input, inLens, output, outLens, stats, onBatch, onError, peers? })
 * host is an IP literal (the TS side resolves names); throws errno errors like Node's.
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value config, v;
  napi_value values[REF_COUNT];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_object) {
    throw_type_error(env, "udp_batch.open: expected a config object");
    return NULL;
  }
  config = argv[0];

  char host[INET6_ADDRSTRLEN + 64];
  size_t host_len = 0;
  double port_number = -1;
  bool ipv6 = false;
  bool reuse_port = false;
  if (!get_property(env, config, "host", napi_string, &v) ||
      napi_get_value_string_utf8(env, v, host, sizeof host, &host_len) != napi_ok || host_len + 1 >= sizeof host) {
    throw_type_error(env, "udp_batch.open: host must be an IP address string");
    return NULL;
  }
  if (!get_property(env, config, "port", napi_number, &v) || napi_get_value_double(env, v, &port_number) != napi_ok ||
      !(port_number >= 0 && port_number <= 65535) || port_number != (double)(int)port_number) {
    napi_throw_range_error(env, "ERR_SOCKET_BAD_PORT", "udp_batch.open: port must be an integer 0..65535");
    return NULL;
  }
  if (!get_property(env, config, "ipv6", napi_boolean, &v) || napi_get_value_bool(env, v, &ipv6) != napi_ok ||
      !get_property(env, config, "reusePort", napi_boolean, &v) || napi_get_value_bool(env, v, &reuse_port) != napi_ok) {
    throw_type_error(env, "udp_batch.open: ipv6 and reusePort must be booleans");
    return NULL;
  }
  uint8_t* input;
  uint8_t* output;
  void* in_lens;
  void* out_lens;
  void* stats;
  if (!get_bytes(env, config, "input", (size_t)BATCH * SLOT_IN, &values[REF_INPUT], &input) ||
      !get_bytes(env, config, "output", (size_t)BATCH * SLOT_OUT, &values[REF_OUTPUT], &output) ||
      !get_typed(env, config, "inLens", napi_int32_array, BATCH, &values[REF_IN_LENS], &in_lens) ||
      !get_typed(env, config, "outLens", napi_int32_array, BATCH, &values[REF_OUT_LENS], &out_lens) ||
      !get_typed(env, config, "stats", napi_float64_array, STAT_COUNT, &values[REF_STATS], &stats)) {
    throw_type_error(env, "udp_batch.open: input/output must be Buffers of BATCH*SLOT_IN/BATCH*SLOT_OUT bytes, "
                          "inLens/outLens Int32Arrays of BATCH, stats a Float64Array of STATS");
    return NULL;
  }
  if (!get_property(env, config, "onBatch", napi_function, &values[REF_ON_BATCH]) ||
      !get_property(env, config, "onError", napi_function, &values[REF_ON_ERROR])) {
    throw_type_error(env, "udp_batch.open: onBatch and onError must be functions");
    return NULL;
  }
  values[REF_ON_CLOSE] = NULL;
  /* peers is optional: a caller that does not pass it gets no addresses. */
  uint8_t* peer_addrs = NULL;
  bool has_peers = false;
  values[REF_PEERS] = NULL;
  if (napi_has_named_property(env, config, "peers", &has_peers) != napi_ok) return NULL;
  if (has_peers && !get_bytes(env, config, "peers", (size_t)BATCH * PEER_SLOT, &values[REF_PEERS], &peer_addrs)) {
    throw_type_error(env, "udp_batch.open: peers must be a Buffer of BATCH*PEER_SLOT bytes");
    return NULL;
  }

  struct sockaddr_storage addr;
  socklen_t addr_len;
  memset(&addr, 0, sizeof addr);
  int err = ipv6 ? uv_ip6_addr(host, (int)port_number, (struct sockaddr_in6*)&addr)
                 : uv_ip4_addr(host, (int)port_number, (struct sockaddr_in*)&addr);
  if (err != 0) {
    throw_errno(env, EINVAL, "bind");
    return NULL;
  }
  addr_len = ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, "ERR_UDP_BATCH", "udp_batch.open: no event loop");
    return NULL;
  }

  udp_batch* s = calloc(1, sizeof *s);
  if (s == NULL) {
    throw_errno(env, ENOMEM, "open");
    return NULL;
  }
  s->env = env;
  s->input = input;
  s->output = output;
  s->in_lens = in_lens;
  s->out_lens = out_lens;
  s->stats = stats;
  s->peer_addrs = peer_addrs;
  for (int i = 0; i < BATCH; i++) {
    s->recv_iov[i].iov_base = s->input + (size_t)i * SLOT_IN;
    s->recv_iov[i].iov_len = SLOT_IN;
    s->recv_msgs[i].msg_hdr.msg_name = &s->peers[i];
    s->recv_msgs[i].msg_hdr.msg_iov = &s->recv_iov[i];
    s->recv_msgs[i].msg_hdr.msg_iovlen = 1;
  }

  const char* syscall = "socket";
  s->fd = open_socket((struct sockaddr*)&addr, addr_len, reuse_port, &syscall);
  if (s->fd < 0) {
    int e = -s->fd;
    free(s);
    throw_errno(env, e, syscall);
    return NULL;
  }
  err = uv_poll_init(loop, &s->poll, s->fd);
  if (err != 0) {
    close(s->fd);
    free(s);
    throw_errno(env, -err, "uv_poll_init");
    return NULL;
  }
  s->poll.data = s;

  /* From here on the poll handle exists: every failure closes it through begin_close. */
  napi_value handle = NULL;
  napi_value resource_name;
  bool ok = napi_create_string_utf8(env, "psarn:UdpBatch", NAPI_AUTO_LENGTH, &resource_name) == napi_ok &&
            napi_async_init(env, NULL, resource_name, &s->async) == napi_ok;
  for (int i = 0; ok && i < REF_COUNT; i++) {
    if (values[i] != NULL) ok = napi_create_reference(env, values[i], 1, &s->refs[i]) == napi_ok;
  }
  ok = ok && napi_create_object(env, &handle) == napi_ok;
  bool wrapped = ok && napi_wrap(env, handle, s, on_wrapper_finalized, NULL, NULL) == napi_ok;
  ok = wrapped && napi_add_async_cleanup_hook(env, on_env_cleanup, s, &s->cleanup) == napi_ok;
  err = ok ? uv_poll_start(&s->poll, UV_READABLE, on_readable) : 0;
  if (!ok || err != 0) {
    s->tearing_down = true; /* no close callback into JS */
    s->wrapper_gone = !wrapped; /* when wrapped, the finalizer frees */
    begin_close(s);
    if (err != 0) {
      throw_errno(env, -err, "uv_poll_start");
    } else {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) {
        napi_throw_error(env, "ERR_UDP_BATCH", "udp_batch.open: Node-API call failed");
      }
    }
    return NULL;
  }
  return handle;
}

static udp_batch* unwrap_handle(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < want || napi_unwrap(env, argv[0], &data) != napi_ok || data == NULL) {
    throw_type_error(env, "udp_batch: expected a handle returned by open()");
    return NULL;
  }
  return data;
}

/* address(handle) -> [host, port], from getsockname (port 0 resolved to the bound port). */
static napi_value js_address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_batch* s = unwrap_handle(env, info, 1, argv);
  if (s == NULL) return NULL;
  if (s->state != STATE_OPEN) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "udp_batch.address: socket is closed");
    return NULL;
  }
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(s->fd, (struct sockaddr*)&addr, &len) != 0) {
    throw_errno(env, errno, "getsockname");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1] = {0};
  int port;
  int err;
  if (addr.ss_family == AF_INET6) {
    struct sockaddr_in6* a6 = (struct sockaddr_in6*)&addr;
    err = uv_ip6_name(a6, host, sizeof host);
    port = ntohs(a6->sin6_port);
  } else {
    struct sockaddr_in* a4 = (struct sockaddr_in*)&addr;
    err = uv_ip4_name(a4, host, sizeof host);
    port = ntohs(a4->sin_port);
  }
  if (err != 0) {
    throw_errno(env, -err, "getsockname");
    return NULL;
  }
  napi_value result, host_value, port_value;
  if (napi_create_array_with_length(env, 2, &result) != napi_ok ||
      napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &host_value) != napi_ok ||
      napi_create_int32(env, port, &port_value) != napi_ok ||
      napi_set_element(env, result, 0, host_value) != napi_ok || napi_set_element(env, result, 1, port_value) != napi_ok) {
    return NULL;
  }
  return result;
}

/* close(handle, done) -> true when this call started the close; done() runs once the fd is closed. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_value result;
  udp_batch* s = unwrap_handle(env, info, 2, argv);
  if (s == NULL) return NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    throw_type_error(env, "udp_batch.close: done must be a function");
    return NULL;
  }
  bool started = s->state == STATE_OPEN;
  if (started) {
    if (napi_create_reference(env, argv[1], 1, &s->refs[REF_ON_CLOSE]) != napi_ok) s->refs[REF_ON_CLOSE] = NULL;
    begin_close(s);
  }
  if (napi_get_boolean(env, started, &result) != napi_ok) return NULL;
  return result;
}

static bool set_int(napi_env env, napi_value exports, const char* name, int32_t value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok && napi_set_named_property(env, exports, name, v) == napi_ok;
}

/* exports.STAT = { received: 0, sent: 1, ... }, frozen: the counter names and their slots. */
static bool set_stat_names(napi_env env, napi_value exports) {
  napi_value names;
  if (napi_create_object(env, &names) != napi_ok) return false;
  for (int i = 0; i < STAT_COUNT; i++) {
    if (!set_int(env, names, stat_names[i], i)) return false;
  }
  return napi_object_freeze(env, names) == napi_ok && napi_set_named_property(env, exports, "STAT", names) == napi_ok;
}

static bool set_fn(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  napi_value yes;
  if (napi_get_boolean(env, true, &yes) != napi_ok || napi_set_named_property(env, exports, "available", yes) != napi_ok ||
      !set_int(env, exports, "BATCH", BATCH) || !set_int(env, exports, "SLOT_IN", SLOT_IN) ||
      !set_int(env, exports, "SLOT_OUT", SLOT_OUT) || !set_int(env, exports, "STATS", STAT_COUNT) ||
      !set_stat_names(env, exports) ||
      !set_fn(env, exports, "open", js_open) || !set_fn(env, exports, "address", js_address) ||
      !set_fn(env, exports, "close", js_close)) {
    return NULL;
  }
  return exports;
}

#else /* not Linux: no recvmmsg/sendmmsg; the loader sees available === false and psarnd uses node:dgram */

NAPI_MODULE_INIT() {
  napi_value no;
  if (napi_get_boolean(env, false, &no) != napi_ok || napi_set_named_property(env, exports, "available", no) != napi_ok) {
    return NULL;
  }
  return exports;
}

#endif
