// Collection configuration as JSON, in the shape of Qdrant's create-collection body:
//   {"vectors": {"size": 384, "distance": "Cosine"}, "hnsw_config": {"m": 16, "ef_construct": 100}}
//   {"vectors": {"image": {"size": 512, "distance": "Dot"}, "text": {...}}, ...}
// A vector's "hnsw_config" and "quantization_config" ({"scalar": {"type": "int8", "quantile": 0.99}}) override
// the collection's; Quiver's extension "index": "flat" skips the graph. Used by
// the manifest, the snapshot, the REST server and the bindings.
#ifndef QUIVER_DB_CONFIG_JSON_H_
#define QUIVER_DB_CONFIG_JSON_H_

#include <boost/json/value.hpp>
#include <string_view>

#include "quiver/types.h"

namespace quiver::db {

boost::json::value ConfigToJson(const CollectionConfig& config);
// Parses and validates (ValidateConfig). InvalidArgument names the bad part: "config.vectors.size: ...".
Result<CollectionConfig> ConfigFromJson(const boost::json::value& json, std::string_view path = "config");

}  // namespace quiver::db

#endif  // QUIVER_DB_CONFIG_JSON_H_
