#include "model/io_table.h"

#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "model/model.h"

namespace mhc {

const IoVariant& IoTable::variant(const std::string& name) const {
  for (const auto& v : variants)
    if (v.name == name) return v;
  throw std::out_of_range("no I/O variant " + name);
}

IoTable io_table(int n, int64_t C, int sinkhorn_iters, Pass pass) {
  IoTable t;
  t.n = n;
  t.C = C;
  t.pass = pass;
  struct Spec {
    const char* name;
    ResidualVariant variant;
    bool fused;
    int n;
  };
  // The plain residual has one stream whatever n the others use.
  const Spec specs[] = {{"residual", ResidualVariant::residual, true, 1},
                        {"hc", ResidualVariant::hc, false, n},
                        {"mhc_unfused", ResidualVariant::mhc, false, n},
                        {"mhc_fused", ResidualVariant::mhc, true, n}};
  for (const auto& sp : specs) {
    IoVariant v;
    v.name = sp.name;
    v.ops = residual_stream_ops(sp.variant, sp.fused, sp.n, C, sinkhorn_iters, pass, "");
    for (const auto& op : v.ops) {
      v.read_elems += op.read_elems();
      v.write_elems += op.write_elems();
      v.read_bytes += op.read_bytes;
      v.write_bytes += op.write_bytes;
    }
    t.variants.push_back(std::move(v));
  }
  return t;
}

nlohmann::json to_json(const IoTable& t) {
  nlohmann::json j;
  j["n"] = t.n;
  j["C"] = t.C;
  j["pass"] = t.pass == Pass::forward ? "forward" : "backward";
  j["units"] = {{"elements", "per token"}, {"bytes", "per token: stream values bf16 (2 B), coefficients fp32 (4 B)"}};
  nlohmann::json vars = nlohmann::json::object();
  for (const auto& v : t.variants) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : v.ops)
      ops.push_back({{"name", op.name},
                     {"kernel", op.kernel},
                     {"read_elems", op.read_elems()},
                     {"write_elems", op.write_elems()},
                     {"read_bytes", op.read_bytes},
                     {"write_bytes", op.write_bytes}});
    vars[v.name] = {{"read_elems", v.read_elems}, {"write_elems", v.write_elems}, {"read_bytes", v.read_bytes},
                    {"write_bytes", v.write_bytes}, {"ops", ops}};
  }
  j["variants"] = vars;
  return j;
}

std::string to_text(const IoTable& t) {
  std::ostringstream os;
  os << "Residual-stream memory I/O per token, " << (t.pass == Pass::forward ? "forward" : "backward") << ", n = " << t.n
     << ", C = " << t.C << " (paper Table 2; stream bf16, coefficients fp32; the sublayer F's own I/O excluded)\n";
  for (const auto& v : t.variants) {
    os << "\n" << v.name << "\n";
    os << "  " << std::left << std::setw(14) << "op" << std::right << std::setw(14) << "read elems" << std::setw(14)
       << "write elems" << std::setw(14) << "read bytes" << std::setw(14) << "write bytes" << "\n";
    auto row = [&](const std::string& name, double re, double we, double rb, double wb) {
      os << "  " << std::left << std::setw(14) << name << std::right << std::fixed << std::setprecision(0)
         << std::setw(14) << re << std::setw(14) << we << std::setw(14) << rb << std::setw(14) << wb << "\n";
    };
    for (const auto& op : v.ops) row(op.name, op.read_elems(), op.write_elems(), op.read_bytes, op.write_bytes);
    row("total", v.read_elems, v.write_elems, v.read_bytes, v.write_bytes);
  }
  const auto& res = t.variant("residual");
  const auto& unf = t.variant("mhc_unfused");
  const auto& fus = t.variant("mhc_fused");
  os << std::setprecision(2) << "\nbytes per token vs residual: mhc_unfused "
     << (unf.read_bytes + unf.write_bytes) / (res.read_bytes + res.write_bytes) << "x, mhc_fused "
     << (fus.read_bytes + fus.write_bytes) / (res.read_bytes + res.write_bytes) << "x\n";
  return os.str();
}

}  // namespace mhc
