// DualPipe and DualPipeV (deepseek-ai/DualPipe). Both run the same eight per-rank phases
// (deepseek-ai/DualPipe dualpipe.py, DualPipe.step: the loop counts of its eight steps), written here in terms of the rank's two
// chunks: "phase 0" is the chunk in which the rank sits h = min(r, P-1-r) stages from the start of
// its micro-batches' path, "phase 1" the other one.
//   1. 2(n-h-1) F0           2. h+1 (F0 F1)            3. n-h-1 (B1 W F1), zero-bubble B1
//   4. N/2-P+h+1 ((F0,B1) (F1,B0)) overlapped pairs; the middle rank runs its first pair unoverlapped
//   5. n-h-1 (B1 (F1,B0))    6. h+1 (B1 B0), the second half zero-bubble
//   7. n-h-1 (W B0), zero-bubble B0                   8. h+1 W
// with n = P/2 for DualPipe (n = devices for DualPipeV). A zero-bubble backward is emitted as
// Phase::B and its weight gradient as a later Phase::W (first in, first out); the others as Phase::BW.
#include <algorithm>
#include <deque>
#include <stdexcept>

#include "schedule/schedule_generators.h"

namespace mhc::detail {
namespace {

// Emits one rank's tasks. `chunk_of_phase[p]` is the rank's chunk playing phase p and
// `micro_of(chunk, i)` the i-th micro-batch that passes through that chunk.
template <typename MicroOf>
void emit_dualpipe_rank(Schedule& s, int rank, int h, int n, int half_micro, const int chunk_of_phase[2],
                        MicroOf micro_of) {
  auto& out = s.per_rank[rank];
  const bool middle = h == n - 1;
  int next_f[2] = {0, 0}, next_b[2] = {0, 0};
  std::deque<ScheduledTask> weight_queue;
  auto stage = [&](int chunk) { return s.stage_of_chunk[rank][chunk]; };

  auto forward = [&](int phase) {
    int c = chunk_of_phase[phase];
    ScheduledTask t;
    t.phase = Phase::F;
    t.micro = micro_of(c, next_f[c]++);
    t.chunk = c;
    t.stage = stage(c);
    out.push_back(t);
  };
  auto backward = [&](int phase, bool zero_bubble) {
    int c = chunk_of_phase[phase];
    ScheduledTask t;
    t.phase = zero_bubble ? Phase::B : Phase::BW;
    t.micro = micro_of(c, next_b[c]++);
    t.chunk = c;
    t.stage = stage(c);
    out.push_back(t);
    if (zero_bubble) {
      t.phase = Phase::W;
      weight_queue.push_back(t);
    }
  };
  auto weight = [&]() {
    if (weight_queue.empty()) throw std::logic_error("dualpipe: W with no pending zero-bubble backward");
    out.push_back(weight_queue.front());
    weight_queue.pop_front();
  };
  auto pair = [&](int fphase, int bphase) {
    int cf = chunk_of_phase[fphase], cb = chunk_of_phase[bphase];
    ScheduledTask t;
    t.phase = Phase::FB;
    t.micro = micro_of(cf, next_f[cf]++);
    t.chunk = cf;
    t.stage = stage(cf);
    t.micro2 = micro_of(cb, next_b[cb]++);
    t.chunk2 = cb;
    t.stage2 = stage(cb);
    out.push_back(t);
  };

  for (int i = 0; i < 2 * (n - h - 1); ++i) forward(0);  // 1
  for (int i = 0; i < h + 1; ++i) {                      // 2
    forward(0);
    forward(1);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 3
    backward(1, true);
    weight();
    forward(1);
  }
  const int main_steps = half_micro - 2 * n + h + 1;  // 4
  for (int i = 0; i < main_steps; ++i) {
    if (i == 0 && middle) {
      // dualpipe.py: the middle rank does not overlap its first pair, to shorten the bubble.
      forward(0);
      backward(1, false);
    } else {
      pair(0, 1);
    }
    pair(1, 0);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 5
    backward(1, false);
    pair(1, 0);
  }
  bool zero_bubble = false;  // 6: the zero-bubble switch flips half-way, on B1 or B0 by parity of h
  for (int i = 0; i < h + 1; ++i) {
    if (i == (h + 1) / 2 && h % 2 == 1) zero_bubble = true;
    backward(1, zero_bubble);
    if (i == (h + 1) / 2 && h % 2 == 0) zero_bubble = true;
    backward(0, zero_bubble);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 7
    weight();
    backward(0, true);
  }
  for (int i = 0; i < h + 1; ++i) weight();  // 8
  if (!weight_queue.empty()) throw std::logic_error("dualpipe: zero-bubble backward without its W");
}

}  // namespace

void generate_dualpipe(Schedule& s) {
  // P ranks, N micro-batches: the first N/2 flow rank 0 -> P-1 (chunk 0), the rest P-1 -> 0
  // (chunk 1). In the first half of the ranks phase 0 is chunk 0; in the second half it is chunk 1.
  const int P = s.ranks, n = P / 2, half = s.request.micro / 2;
  auto micro_of = [half](int chunk, int i) { return chunk * half + i; };
  for (int r = 0; r < P; ++r) {
    const int h = std::min(r, P - 1 - r);
    const int phases[2] = {r < n ? 0 : 1, r < n ? 1 : 0};
    emit_dualpipe_rank(s, r, h, n, half, phases, micro_of);
  }
}

void generate_dualpipe_v(Schedule& s) {
  // n = P/2 devices; every micro-batch runs chunk 0 down the devices and chunk 1 back up, so device d
  // plays DualPipe's rank d with N micro-batches per direction (dualpipev.py's steps with
  // half-rank d and the last device as the middle one).
  const int n = s.ranks, N = s.request.micro;
  auto micro_of = [](int, int i) { return i; };
  for (int d = 0; d < n; ++d) {
    const int phases[2] = {0, 1};
    emit_dualpipe_rank(s, d, d, n, N, phases, micro_of);
  }
}

}  // namespace mhc::detail
