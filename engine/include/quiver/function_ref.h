// FunctionRef<R(Args...)>: a non-owning reference to a callable, two words, no allocation. Used for callbacks on
// hot paths (the allow-list predicate of a search) where std::function's allocation and copy would cost. The
// referenced callable must outlive the FunctionRef.
#ifndef QUIVER_FUNCTION_REF_H_
#define QUIVER_FUNCTION_REF_H_

#include <type_traits>
#include <utility>

namespace quiver {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* obj, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace quiver

#endif  // QUIVER_FUNCTION_REF_H_
