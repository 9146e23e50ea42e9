#include "model/saved_activations.h"

#include <algorithm>
#include <map>

namespace mhc {

double ActivationAccount::stored_by(const std::string& op) const {
  double b = 0;
  for (const auto& t : tensors)
    if (t.stored && !t.kept_by.empty() && t.kept_by.front() == op) b += t.bytes;
  return b;
}

std::vector<std::string> rebuilt_sublayer_inputs(const Scenario& s) {
  if (s.mhc.recompute && s.mhc.variant != ResidualVariant::residual) return {"attn.input", "ffn.input"};
  return {};
}

ActivationAccount account_activations(const std::vector<Op>& forward, const std::vector<std::string>& rebuilt_inputs) {
  std::map<std::string, const Op*> by_name;
  for (const auto& op : forward) by_name[op.name] = &op;
  ActivationAccount a;
  std::map<std::string, size_t> index;
  // Per tensor, the ops that need it in the backward: kept by them, or read by their recomputation.
  std::vector<std::vector<const Op*>> users;
  auto note = [&](const TensorRef& t, const std::string& role, double bytes, const Op& user) {
    auto [it, added] = index.emplace(t.id, a.tensors.size());
    if (added) {
      a.tensors.push_back(KeptTensor{t.id, t.producer, role, t.format.name, 0, {}, true, ""});
      users.emplace_back();
    }
    KeptTensor& k = a.tensors[it->second];
    k.bytes = std::max(k.bytes, bytes);
    if (k.role.empty()) k.role = role;
    if (std::find(k.kept_by.begin(), k.kept_by.end(), user.name) == k.kept_by.end()) k.kept_by.push_back(user.name);
    users[it->second].push_back(&user);
  };
  for (const auto& op : forward) {
    if (op.kind == OpKind::mhc || op.kind == OpKind::residual) continue;
    for (const auto& t : op.saved) note(t, t.role, t.bytes() * op.token_share * t.kept_share, op);
    // A recomputed op re-reads its inputs: the copies it keeps anyway (in their storage format), or
    // the tensors as their producers wrote them.
    if (op.recompute != RecomputeMode::none)
      for (const auto& t : op.inputs)
        if (std::none_of(op.saved.begin(), op.saved.end(), [&](const SavedTensor& k) { return k.id == t.id; }))
          note(t, "", t.bytes() * op.token_share, op);
  }
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    KeptTensor& k = a.tensors[i];
    auto p = by_name.find(k.producer);
    if (p == by_name.end()) {
      if (std::find(rebuilt_inputs.begin(), rebuilt_inputs.end(), k.id) != rebuilt_inputs.end()) {
        k.stored = false;
        k.rebuilt_by = "mhc";
      }
    } else if (const Op& prod = *p->second; prod.recompute == RecomputeMode::discard_output) {
      k.stored = false;
    } else if (prod.recompute == RecomputeMode::checkpoint) {
      // Rebuilt when only its own group needs it; an op outside the group keeps the copy.
      k.stored = std::any_of(users[i].begin(), users[i].end(), [&](const Op* u) {
        return u->recompute != RecomputeMode::checkpoint || u->recompute_group != prod.recompute_group;
      });
    }
    if (p != by_name.end() && !k.stored) k.rebuilt_by = p->second->recompute_reason;
    (k.stored ? a.stored : k.rebuilt_by == "mhc" ? a.rebuilt_by_mhc : a.rebuilt) += k.bytes;
  }
  return a;
}

}  // namespace mhc
