// Runs work in fork()ed children and returns each result string to the parent over a pipe. SimGrid
// allows one simulation per process, so every simulation runs in its own child; errors in the child
// come back as the same exceptions (InputError stays InputError). A child is killed when its parent
// dies (PR_SET_PDEATHSIG), so no worker outlives a killed parent.
//
// Children are forked from the calling thread only, never from several threads at once: a child of a
// multi-threaded process may inherit a lock that another thread held (an allocator's, the
// sanitizers' stack depot) and wait on it forever. Parallel work is many children of one thread.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <string>

namespace mhc {

// Blocks until the child ends. Throws InputError / std::runtime_error as the child did, or
// std::runtime_error when the child died without an answer. `what` names the work in messages.
std::string run_in_child(const std::function<std::string()>& work, const std::string& what);

// What one child answered: its result, or the exception it threw (or why it died), and its wall time.
struct ChildAnswer {
  std::string value;
  std::exception_ptr error;
  double seconds = 0;
};

// Runs work(0) .. work(count - 1), each in its own child, at most `jobs` at a time; on_done(i, answer)
// runs in the calling thread as each child ends, in the order they end. what(i) names work i in
// messages. If on_done throws, the children still running are killed and reaped before it propagates.
void run_in_children(size_t count, int jobs, const std::function<std::string(size_t)>& work,
                     const std::function<std::string(size_t)>& what,
                     const std::function<void(size_t, ChildAnswer)>& on_done);

}  // namespace mhc
