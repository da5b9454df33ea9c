// Status and Result<T>: how every fallible engine call reports failure.
//
// A Status is either OK (no allocation, a null pointer) or a code with a message that names the input and what is
// wrong with it. Result<T> holds either a T or a non-OK Status. No exception leaves the engine's API; these two
// types carry every error instead.
//
// Thread safety: distinct objects may be used from distinct threads; a single object is not synchronized.
#ifndef QUIVER_STATUS_H_
#define QUIVER_STATUS_H_

#include <cassert>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace quiver {

// Stable numeric codes: the C API and the JS bindings expose these numbers. New codes may be added.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the caller's input is malformed or out of range
  kNotFound = 2,            // a named collection, point, file or vector does not exist
  kAlreadyExists = 3,       // creating something that exists
  kCorruption = 4,          // stored bytes fail a checksum or a structural check
  kIOError = 5,             // the operating system or storage backend failed
  kNotSupported = 6,        // an optional capability this build or backend lacks
  kFailedPrecondition = 7,  // the object is in the wrong state (closed, read-only, ...)
  kBusy = 8,                // another writer holds the lock
  kResourceExhausted = 9,   // a size limit was exceeded
  kInternal = 10,           // a broken invariant inside Quiver (a bug)
};

// The lower-case name of a code, for messages and logs ("invalid argument").
std::string_view StatusCodeName(StatusCode code);
// The code as an identifier, its enumerator without the k ("InvalidArgument"): the JS package's error codes.
std::string_view StatusCodeSymbol(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return Status(StatusCode::kInvalidArgument, msg); }
  static Status NotFound(std::string_view msg) { return Status(StatusCode::kNotFound, msg); }
  static Status AlreadyExists(std::string_view msg) { return Status(StatusCode::kAlreadyExists, msg); }
  static Status Corruption(std::string_view msg) { return Status(StatusCode::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(StatusCode::kIOError, msg); }
  static Status NotSupported(std::string_view msg) { return Status(StatusCode::kNotSupported, msg); }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(StatusCode::kFailedPrecondition, msg);
  }
  static Status Busy(std::string_view msg) { return Status(StatusCode::kBusy, msg); }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(StatusCode::kResourceExhausted, msg);
  }
  static Status Internal(std::string_view msg) { return Status(StatusCode::kInternal, msg); }

  bool ok() const noexcept { return state_ == nullptr; }
  StatusCode code() const noexcept { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  std::string_view message() const noexcept { return state_ ? std::string_view(state_->message) : ""; }
  // "invalid argument: vector has 3 dimensions, expected 4", or "OK".
  std::string ToString() const;

  bool IsInvalidArgument() const noexcept { return code() == StatusCode::kInvalidArgument; }
  bool IsNotFound() const noexcept { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const noexcept { return code() == StatusCode::kCorruption; }
  bool IsIOError() const noexcept { return code() == StatusCode::kIOError; }

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// Either a value or a non-OK Status. Constructing a Result from an OK Status is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : status_(), has_value_(true) { new (&storage_) T(value); }
  Result(T&& value) : status_(), has_value_(true) { new (&storage_) T(std::move(value)); }
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status>>>
  Result(U&& value) : status_(), has_value_(true) {
    new (&storage_) T(std::forward<U>(value));
  }
  Result(Status status) : status_(std::move(status)), has_value_(false) {
    assert(!status_.ok() && "Result constructed from an OK status");
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status");
  }
  Result(const Result& other) : status_(other.status_), has_value_(other.has_value_) {
    if (has_value_) new (&storage_) T(other.value());
  }
  Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : status_(std::move(other.status_)), has_value_(other.has_value_) {
    if (has_value_) new (&storage_) T(std::move(other.value()));
  }
  Result& operator=(Result other) {
    Reset();
    status_ = std::move(other.status_);
    has_value_ = other.has_value_;
    if (has_value_) new (&storage_) T(std::move(other.value()));
    return *this;
  }
  ~Result() { Reset(); }

  bool ok() const noexcept { return has_value_; }
  const Status& status() const& noexcept { return status_; }
  Status status() && { return std::move(status_); }

  T& value() & {
    assert(has_value_);
    return *std::launder(reinterpret_cast<T*>(&storage_));
  }
  const T& value() const& {
    assert(has_value_);
    return *std::launder(reinterpret_cast<const T*>(&storage_));
  }
  T&& value() && {
    assert(has_value_);
    return std::move(*std::launder(reinterpret_cast<T*>(&storage_)));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Reset() {
    if (has_value_) {
      value().~T();
      has_value_ = false;
    }
  }

  Status status_;
  bool has_value_;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace quiver

#define QUIVER_CONCAT_INNER_(a, b) a##b
#define QUIVER_CONCAT_(a, b) QUIVER_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define QUIVER_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::quiver::Status _quiver_status = (expr);     \
    if (!_quiver_status.ok()) return _quiver_status; \
  } while (0)

// `QUIVER_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result's value or returns its Status.
#define QUIVER_ASSIGN_OR_RETURN(lhs, expr) \
  QUIVER_ASSIGN_OR_RETURN_IMPL_(QUIVER_CONCAT_(_quiver_result_, __LINE__), lhs, expr)
#define QUIVER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#endif  // QUIVER_STATUS_H_
