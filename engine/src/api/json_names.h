// The JSON reading helpers (payload/json_util.h, payload/json_read.h) under the short names the request layer's
// parsers use.
#ifndef QUIVER_API_JSON_NAMES_H_
#define QUIVER_API_JSON_NAMES_H_

#include <boost/json/value.hpp>

#include "payload/json_read.h"
#include "payload/json_util.h"

namespace quiver::api {

namespace json = boost::json;
using payload::BadField;
using payload::CheckKeys;
using payload::Element;
using payload::Find;
using payload::Member;

}  // namespace quiver::api

#endif  // QUIVER_API_JSON_NAMES_H_
