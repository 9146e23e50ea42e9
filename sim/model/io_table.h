// Memory I/O per token of the residual stream (paper Table 2), derived from the model's op lists:
// residual, HC, unfused mHC and fused mHC, each op and the totals, in elements and bytes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model_ops.h"

namespace mhc {

struct IoVariant {
  std::string name;  // "residual", "hc", "mhc_unfused", "mhc_fused"
  std::vector<Op> ops;
  double read_elems = 0, write_elems = 0, read_bytes = 0, write_bytes = 0;
};

struct IoTable {
  int n = 1;
  int64_t C = 0;
  Pass pass = Pass::forward;
  std::vector<IoVariant> variants;
  const IoVariant& variant(const std::string& name) const;
};

IoTable io_table(int n, int64_t C, int sinkhorn_iters, Pass pass);
nlohmann::json to_json(const IoTable& table);
std::string to_text(const IoTable& table);

}  // namespace mhc
