// What the programs that measure Quiver through its C API share: failing loudly on an error code, and the
// in-memory database they all measure (one thread, no background merges: the caller optimizes).
#ifndef QUIVER_BENCH_PEER_QUIVER_CAPI_H_
#define QUIVER_BENCH_PEER_QUIVER_CAPI_H_

#include <cstdio>
#include <cstdlib>

#include "quiver.h"

namespace peer {

inline void CheckQv(int code, const char* what, const char* message) {
  if (code == QV_OK) return;
  std::fprintf(stderr, "%s: %s: %s\n", what, qv_status_name(code), message ? message : "");
  std::exit(1);
}

inline qv_database* OpenSingleThreaded() {
  qv_options* options = nullptr;
  CheckQv(qv_options_create(&options), "qv_options_create", "");
  CheckQv(qv_options_set(options, "threads", "1"), "threads", "");
  CheckQv(qv_options_set(options, "auto_optimize", "false"), "auto_optimize", "");
  qv_database* db = nullptr;
  char* err = nullptr;
  CheckQv(qv_open(nullptr, options, &db, &err), "qv_open", err);
  qv_options_destroy(options);
  return db;
}

}  // namespace peer

#endif  // QUIVER_BENCH_PEER_QUIVER_CAPI_H_
