// SHA-256 (FIPS 180-4), for content-addressing sweep points: a point's key is the hash of what it
// runs, so finished work is found again by its content, not by a path or a counter.
#pragma once

#include <cstdint>
#include <string>

namespace mhc {

// The digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(const std::string& data);
// The digest of a file's bytes; InputError naming the file when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace mhc
