// The one part of a multipart/form-data body that quiverd reads: the file field of a snapshot upload.
//
// Thread safety: reentrant.
#ifndef QUIVER_SERVER_MULTIPART_H_
#define QUIVER_SERVER_MULTIPART_H_

#include <string_view>

#include "quiver/status.h"

namespace quiver::server {

// The content of the part named `field` (or, when no part has that name, of the only part) of a
// multipart/form-data `body` whose Content-Type header is `content_type`. A view into `body`. InvalidArgument
// naming what is wrong for anything else.
Result<std::string_view> MultipartField(std::string_view content_type, std::string_view body,
                                        std::string_view field);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_MULTIPART_H_
