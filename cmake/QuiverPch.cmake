# Precompiled headers: the standard library and Boost.JSON parsed once per target instead of once per file (and
# Catch2 once for every test). On the 2-core CI machine, parsing these headers was a third of the build.

set(QUIVER_PCH_HEADERS
  <algorithm> <cstdint> <cstring> <functional> <map> <memory> <mutex> <optional> <set> <span> <string>
  <string_view> <unordered_map> <vector> <boost/json.hpp>)

# The shared headers, precompiled for `target` (whose sources all use the same flags: give sources with their own
# instruction-set flags SKIP_PRECOMPILE_HEADERS).
function(quiver_precompile_headers target)
  target_precompile_headers(${target} PRIVATE ${QUIVER_PCH_HEADERS} ${ARGN})
endfunction()
