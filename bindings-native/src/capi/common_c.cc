// The C API's shared pieces (capi_internal.h) and its version and status functions.
#include <cstdlib>
#include <cstring>

#include "capi/capi_internal.h"

namespace quiver::capi {

int ErrorSlot::Set(int c, std::string_view msg) {
  std::lock_guard<std::mutex> lock(mu);
  code = c;
  if (c != QV_OK) {
    try {
      message.assign(msg);
    } catch (...) {
      message.clear();
    }
  }
  return c;
}

int ErrorSlot::Set(const Status& s) {
  if (s.ok()) return Set(QV_OK, "");
  return Set(static_cast<int>(s.code()), s.message());
}

Status Misuse(const char* what) { return Status(StatusCode::kInvalidArgument, what); }

Status Dup(std::string_view s, char** out) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  return Status::OK();
}

std::vector<PointId> Ids(const uint64_t* ids, size_t count) {
  std::vector<PointId> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(PointId::Number(ids[i]));
  return out;
}

Status RunJson(Collection& collection, api::Operation operation, const char* body, char** out, uint64_t* count) {
  if (!body) return Misuse("body is NULL");
  QUIVER_ASSIGN_OR_RETURN(api::Response response, api::Call(collection, operation, {}, body));
  if (count) *count = api::AffectedPoints(response);
  if (out) return Dup(api::Print(response), out);
  return Status::OK();
}

}  // namespace quiver::capi

extern "C" {

const char* qv_version(void) { return QUIVER_VERSION; }
int qv_version_number(void) { return QUIVER_VERSION_NUMBER; }

const char* qv_status_name(int code) {
  if (code >= QV_OK && code <= QV_INTERNAL) {
    // The engine's names are static storage and NUL-terminated.
    return quiver::StatusCodeName(static_cast<quiver::StatusCode>(code)).data();
  }
  switch (code) {
    case QV_NO_MEMORY:
      return "out of memory";
    case QV_MISUSE:
      return "API misuse";
    default:
      return "unknown";
  }
}

void qv_free(void* p) { std::free(p); }

}  // extern "C"
