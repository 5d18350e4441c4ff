# udp_batch: recvmmsg/sendmmsg UDP I/O for psarnd (see udp_batch.c). Built by `npm run build:native`.
# Linux only: elsewhere the module builds but exports { available: false } and psarnd uses node:dgram.
{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["udp_batch.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
