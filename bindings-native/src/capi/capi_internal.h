// What the C API's files share (quiver.h over the engine's C++ API and its request layer, quiver/api.h): the
// handles' definitions, the error slot each handle carries, and the guard that turns every exception into a
// status code. One file per handle: options_c.cc, database_c.cc, collection_c.cc, result_c.cc (DuckDB's
// capi/*-c.cpp are the model); none of them parses or prints a Qdrant body itself.
//
// Thread safety: an ErrorSlot is internally synchronised; the handles follow quiver.h's rules.
#ifndef QUIVER_CAPI_INTERNAL_H_
#define QUIVER_CAPI_INTERNAL_H_

#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quiver.h"
#include "quiver/api.h"
#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/thread_pool.h"

// The C codes are the engine's StatusCode numbers; QV_NO_MEMORY and QV_MISUSE are the C API's own.
static_assert(QV_OK == static_cast<int>(quiver::StatusCode::kOk));
static_assert(QV_INVALID_ARGUMENT == static_cast<int>(quiver::StatusCode::kInvalidArgument));
static_assert(QV_NOT_FOUND == static_cast<int>(quiver::StatusCode::kNotFound));
static_assert(QV_ALREADY_EXISTS == static_cast<int>(quiver::StatusCode::kAlreadyExists));
static_assert(QV_CORRUPTION == static_cast<int>(quiver::StatusCode::kCorruption));
static_assert(QV_IO_ERROR == static_cast<int>(quiver::StatusCode::kIOError));
static_assert(QV_NOT_SUPPORTED == static_cast<int>(quiver::StatusCode::kNotSupported));
static_assert(QV_FAILED_PRECONDITION == static_cast<int>(quiver::StatusCode::kFailedPrecondition));
static_assert(QV_BUSY == static_cast<int>(quiver::StatusCode::kBusy));
static_assert(QV_RESOURCE_EXHAUSTED == static_cast<int>(quiver::StatusCode::kResourceExhausted));
static_assert(QV_INTERNAL == static_cast<int>(quiver::StatusCode::kInternal));
static_assert(QV_NO_MEMORY == static_cast<int>(quiver::StatusCode::kInternal) + 1,
              "the C API's own codes follow the engine's");

namespace quiver::capi {

// A handle's last error. The message pointer handed out stays valid until the next failed call on the handle.
struct ErrorSlot {
  mutable std::mutex mu;
  int code = QV_OK;
  std::string message;

  int Set(int c, std::string_view msg);
  int Set(const Status& s);
};

// Runs `body` (returning a Status), storing its outcome on `slot`. Catches everything.
template <typename F>
int Guard(ErrorSlot* slot, F&& body) {
  try {
    return slot->Set(body());
  } catch (const std::bad_alloc&) {
    return slot->Set(QV_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return slot->Set(QV_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return slot->Set(QV_INTERNAL, "unexpected exception");
  }
}

// InvalidArgument for a NULL or inconsistent pointer argument.
Status Misuse(const char* what);
// Copies `s` into a malloc'd NUL-terminated string the caller frees with qv_free.
Status Dup(std::string_view s, char** out);
inline std::string_view Str(const char* s) { return s ? std::string_view(s) : std::string_view(); }
std::vector<PointId> Ids(const uint64_t* ids, size_t count);
// Runs a request-layer operation and hands back its printed result (`out` may be NULL) and affected-point count
// (`count` may be NULL).
Status RunJson(Collection& collection, api::Operation operation, const char* body, char** out, uint64_t* count);

}  // namespace quiver::capi

struct qv_options {
  quiver::DatabaseOptions options;
  size_t threads = 0;
  bool auto_threads = false;
};

struct qv_database {
  quiver::capi::ErrorSlot error;
  std::unique_ptr<quiver::ThreadPool> pool;  // declared before db: destroyed after it
  std::unique_ptr<quiver::Database> db;
  bool closed = false;
};

struct qv_collection {
  quiver::capi::ErrorSlot error;
  std::shared_ptr<quiver::Collection> collection;
};

struct qv_result {
  enum class Kind { kScored, kRecords, kScroll };
  Kind kind = Kind::kScored;
  std::vector<quiver::ScoredPoint> points;
  std::vector<std::string> ids;  // text of each id
  std::optional<quiver::PointId> next_offset;
  std::string json;
  bool json_built = false;
};

#endif  // QUIVER_CAPI_INTERNAL_H_
