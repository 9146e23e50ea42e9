// The per-token DRAM bytes the mHC I/O model says each forward kernel must move (mHC paper, arXiv
// 2512.24880, Sec. 4.3.1 and Table 2), to set next to what the profiler measured. Stream elements are bf16
// (2 B), coefficient elements fp32 (4 B).
//
// This is the one place profile-info and the byte-check tests take their expectation from; once the
// model stage emits Op lists, point `ExpectedBytesFn` at it instead (same signature).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "profile/profile.h"

namespace mhc {

struct IoBytesPerToken {
  double read = 0.0;
  double write = 0.0;
};

// nullopt for kernels the I/O model does not cover (backward kernels, GEMMs, attention, norms).
std::optional<IoBytesPerToken> io_model_bytes_per_token(const std::string& kernel, int n, int64_t C);

using ExpectedBytesFn = std::function<std::optional<IoBytesPerToken>(const ProfileEntry&)>;
// io_model_bytes_per_token applied to an entry's kernel and shape.
ExpectedBytesFn formula_expected_bytes();

}  // namespace mhc
