// The few cryptographic helpers quiverd needs, all on OpenSSL's libcrypto: SHA-256 (snapshot checksums),
// HMAC-SHA256 (JWT signatures), a constant-time comparison for secrets, and base64url (JWT segments).
//
// Thread safety: every function is reentrant.
#ifndef QUIVER_SERVER_CRYPTO_H_
#define QUIVER_SERVER_CRYPTO_H_

#include <optional>
#include <string>
#include <string_view>

namespace quiver::server {

// The 32-byte digest, raw.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hexadecimal of any bytes.
std::string Hex(std::string_view bytes);

// True when a and b are equal. Takes the same time for every pair of inputs of the same lengths, and leaks
// nothing about where they differ; lengths are hidden by comparing digests.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// base64url without padding (RFC 7515); nullopt for a character outside the alphabet or a bad length.
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_CRYPTO_H_
