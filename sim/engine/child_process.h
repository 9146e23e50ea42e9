// Runs work in a fork()ed child and returns its result string to the parent over a pipe. SimGrid
// allows one simulation per process, so every simulation runs in its own child; errors in the child
// come back as the same exceptions (InputError stays InputError). The child is killed when its parent
// dies (PR_SET_PDEATHSIG), so no worker outlives a killed parent.
#pragma once

#include <functional>
#include <string>

namespace mhc {

// Blocks until the child ends. Throws InputError / std::runtime_error as the child did, or
// std::runtime_error when the child died without an answer. `what` names the work in messages.
std::string run_in_child(const std::function<std::string()>& work, const std::string& what);

}  // namespace mhc
