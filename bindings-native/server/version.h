// The versions quiverd reports: the Qdrant REST API it implements (GET / "version", which official clients
// check) and Quiver's own.
#ifndef QUIVER_SERVER_VERSION_H_
#define QUIVER_SERVER_VERSION_H_

namespace quiver::server {

inline constexpr const char* kQdrantApiVersion = "1.18.3";
#ifndef QUIVER_VERSION_STRING
#define QUIVER_VERSION_STRING "0.0.0"
#endif
inline constexpr const char* kQuiverVersion = QUIVER_VERSION_STRING;

}  // namespace quiver::server

#endif  // QUIVER_SERVER_VERSION_H_
