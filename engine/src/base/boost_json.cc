// Boost.JSON in header-only mode: its implementation is compiled once, here, for every target (natively and in
// WASM alike, so no Boost library needs linking). The engine uses only the non-throwing parts of its API.
#include <boost/json/src.hpp>
