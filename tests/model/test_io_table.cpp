// Paper Table 2 and the fused post-res kernel's (n+1)C / nC, for n = 1..16 and several widths.
#include <gtest/gtest.h>

#include "model/io_table.h"

using namespace mhc;

namespace {
const Op& find(const IoVariant& v, const std::string& name) {
  for (const auto& op : v.ops)
    if (op.name == name) return op;
  throw std::runtime_error("missing op " + name);
}
}  // namespace

class Table2 : public ::testing::TestWithParam<std::tuple<int, int64_t>> {};

TEST_P(Table2, HcTotalsAndRowsMatchThePaper) {
  auto [n, C] = GetParam();
  const double N = n, c = double(C), mapping = N * N + 2 * N;
  auto t = io_table(n, C, 20, Pass::forward);
  const auto& hc = t.variant("hc");
  EXPECT_EQ(hc.read_elems, (5 * N + 1) * c + mapping);
  EXPECT_EQ(hc.write_elems, (3 * N + 1) * c + mapping);
  EXPECT_EQ(find(hc, "compute_h").read_elems(), N * c);
  EXPECT_EQ(find(hc, "compute_h").write_elems(), mapping);
  EXPECT_EQ(find(hc, "apply_pre").read_elems(), N * c + N);
  EXPECT_EQ(find(hc, "apply_pre").write_elems(), c);
  EXPECT_EQ(find(hc, "apply_post").read_elems(), c + N);
  EXPECT_EQ(find(hc, "apply_post").write_elems(), N * c);
  EXPECT_EQ(find(hc, "apply_res").read_elems(), N * c + N * N);
  EXPECT_EQ(find(hc, "apply_res").write_elems(), N * c);
  EXPECT_EQ(find(hc, "merge").read_elems(), 2 * N * c);
  EXPECT_EQ(find(hc, "merge").write_elems(), N * c);
  // Bytes: stream values bf16, coefficients fp32.
  EXPECT_EQ(hc.read_bytes, 2 * (5 * N + 1) * c + 4 * mapping);
  EXPECT_EQ(hc.write_bytes, 2 * (3 * N + 1) * c + 4 * mapping);

  const auto& res = t.variant("residual");
  EXPECT_EQ(res.read_elems, 2 * c);
  EXPECT_EQ(res.write_elems, c);

  // The unfused mHC post path (apply_post + apply_res + merge) moves (3n+1)C in and 3nC out;
  // the fused post-res kernel (n+1)C in and nC out (plus its n^2 + n coefficients).
  const auto& unf = t.variant("mhc_unfused");
  double post_read = 0, post_write = 0;
  for (auto name : {"apply_post", "apply_res", "merge"}) {
    post_read += find(unf, name).stream_read_elems;
    post_write += find(unf, name).stream_write_elems;
  }
  EXPECT_EQ(post_read, (3 * N + 1) * c);
  EXPECT_EQ(post_write, 3 * N * c);
  const auto& post = find(t.variant("mhc_fused"), "post_res");
  EXPECT_EQ(post.stream_read_elems, (N + 1) * c);
  EXPECT_EQ(post.stream_write_elems, N * c);
  EXPECT_EQ(post.coef_read_elems, N * N + N);
  EXPECT_EQ(post.read_bytes, 2 * (N + 1) * c + 4 * (N * N + N));
  EXPECT_EQ(post.write_bytes, 2 * N * c);
  // Fused mHC reads x twice (coefficients, pre-apply) and x, f once more in post-res.
  EXPECT_EQ(t.variant("mhc_fused").read_elems - t.variant("mhc_fused").ops[0].coef_read_elems,
            (3 * N + 1) * c + (N * N + 2 * N + 1) + N * N + N + N * N + N);
  // At real widths (C >> n^2) fusing moves fewer bytes; at C = 7 the coefficients dominate.
  if (C >= 1280) {
    EXPECT_LT(t.variant("mhc_fused").read_bytes + t.variant("mhc_fused").write_bytes,
              unf.read_bytes + unf.write_bytes);
  }
}

INSTANTIATE_TEST_SUITE_P(NAndC, Table2,
                         ::testing::Combine(::testing::Range(1, 17), ::testing::Values<int64_t>(7, 1280, 2560, 7168)));

TEST(IoTable, JsonShape) {
  auto j = to_json(io_table(4, 2560, 20, Pass::forward));
  EXPECT_EQ(j["n"], 4);
  EXPECT_EQ(j["C"], 2560);
  for (auto v : {"residual", "hc", "mhc_unfused", "mhc_fused"}) {
    ASSERT_TRUE(j["variants"].contains(v)) << v;
    for (auto k : {"read_elems", "write_elems", "read_bytes", "write_bytes", "ops"})
      EXPECT_TRUE(j["variants"][v].contains(k)) << v << " " << k;
    EXPECT_TRUE(j["variants"][v]["ops"][0].contains("name"));
  }
  EXPECT_EQ(j["variants"]["hc"]["read_elems"], 21 * 2560 + 24);
}

TEST(IoTable, NEqualsOneMhcReducesToResidualWidth) {
  // With one stream the fused post-res reads x and f (2C) and writes C, like a residual merge.
  auto t = io_table(1, 4096, 20, Pass::forward);
  const auto& post = find(t.variant("mhc_fused"), "post_res");
  EXPECT_EQ(post.stream_read_elems, t.variant("residual").read_elems);
  EXPECT_EQ(post.stream_write_elems, t.variant("residual").write_elems);
}
