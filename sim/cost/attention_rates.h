// Attention priced by FLOP rate. Fused attention kernels are benchmarked as a FLOP rate against the
// sequence length, head dim and mask (FlashAttention-3, arXiv 2407.08608, Figures 5-6: 16k tokens in
// batch x seq, 2048 / head_dim heads); once the batch fills the GPU with tiles the rate depends on
// those, not on the token count or the number of heads. So an attention op takes the rate of entries
// with its mask, interpolated
//  - in log2(seq) between the two bracketing sequence lengths of one head dim (clamped at the ends of
//    the data: no extrapolation), then
//  - linearly in the mean head dim (d_qk + d_v) / 2 between the two bracketing head dims (clamped
//    likewise: a head dim beyond the data takes the nearest one's rate, and says so);
// a sliding-window or sparse op at the causal rate of the sequence length whose mean keys per query
// equal its own (2 keys - 1): the rate follows the keys each query tile walks over. Its time is its
// FLOPs over that rate, or its bytes at the copy bandwidth if that is longer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profile/profile.h"

namespace mhc {

struct AttentionRate {
  double flops_per_s = 0.0;
  std::string how;  // which entries, at what rates, and how they were combined
  std::vector<const ProfileEntry*> used;
};

// nullopt when no entry of `entries` (one attention kernel) has a full-attention shape with the
// query's mask.
std::optional<AttentionRate> attention_rate(const ProfileShape& query, const std::vector<const ProfileEntry*>& entries);

// The sequence length at which full causal attention has the same mean keys per query as `shape`
// (itself for full attention).
double rate_sequence_length(const ProfileShape& shape);

}  // namespace mhc
