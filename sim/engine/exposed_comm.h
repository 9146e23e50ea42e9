// Exposed communication: the time a GPU's compute stream sat idle waiting for communication, charged
// to the communication that was blocking it at each instant.
//
// The rule. For every compute task C on the compute stream (high-priority kernels wait alongside the
// compute task of their pair, so counting them too would count one wait twice), C could have started
// at ready(C) = max(0, end of its non-communication predecessors). Over [ready(C), start(C)) the GPU
// waits, and at an instant t the communication blocking it is every communication predecessor of C
// still unfinished at t (end > t). When several are unfinished, the instant is split equally between
// their distinct categories: with v(S) = the wait saved if the categories in S took no time, this is
// the Shapley value of the wait (each slice [e_k, e_k+1) between consecutive ends is needed by the
// categories still running, and only by them), so a pipeline receive that ends early is charged only
// for the time it alone or together with others held C, not for the all-to-all after it. Instants at
// which every communication predecessor has ended (C waited for something else) are charged to none.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_result.h"

namespace mhc {

// Splits the wait [ready, start) over `comms` (end, category) of one task by the rule above and adds
// the shares into `by_category`. Exposed for tests.
void attribute_wait(double ready, double start, std::vector<std::pair<double, const std::string*>> comms,
                    std::map<std::string, double>& by_category);

// Fills exposed_comm_s_by_category of `result` from its timings (used by simulate_here()).
void compute_exposed_comm(const TaskGraph& graph, EngineResult& result);

}  // namespace mhc
