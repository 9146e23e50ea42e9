#include "engine/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/json_input.h"

namespace mhc {

namespace {

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Length-prefixed strings: the message parts may contain any byte.
std::string field(const std::string& s) { return std::to_string(s.size()) + ":" + s; }

std::string take_field(const std::string& data, size_t& pos) {
  size_t colon = data.find(':', pos);
  if (colon == std::string::npos) throw std::runtime_error("child process: malformed answer");
  size_t len = std::stoul(data.substr(pos, colon - pos));
  std::string s = data.substr(colon + 1, len);
  pos = colon + 1 + len;
  return s;
}

// In a fresh child: closes every descriptor above stderr but keep. A child inherits the read ends of
// its running siblings' pipes; a library may hold other descriptors. None of them is the child's.
void close_inherited_descriptors(int keep) {
  const bool below = keep <= 3 || ::close_range(3, static_cast<unsigned>(keep) - 1, 0) == 0;
  if (below && ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0) return;
  rlimit limit{};
  const int top = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (1u << 20)
                      ? static_cast<int>(limit.rlim_cur) : (1 << 20);
  for (int fd = 3; fd < top; ++fd)
    if (fd != keep) ::close(fd);
}

// One child at work: its pid, the read end of its answer pipe, what it has written so far.
struct RunningChild {
  size_t index = 0;
  pid_t pid = -1;
  int fd = -1;
  std::string data;
  std::chrono::steady_clock::time_point start;
};

// Forks a child that runs work() and writes its answer ("R" result, "I" input error, "E" error) to
// the pipe. Throws std::runtime_error when the pipe or the fork fails.
RunningChild start_child(const std::function<std::string()>& work, const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(what + ": pipe: " + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(what + ": fork: " + std::strerror(e));
  }
  if (pid == 0) {
    // A worker never outlives the process waiting for it: a sweep that is killed leaves no simulation
    // running. The signal follows the death of the forking thread, which outlives its children. A
    // parent that died before prctl() took effect is seen by getppid().
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    close_inherited_descriptors(fds[1]);
    std::string out;
    try {
      out = "R" + work();
    } catch (const InputError& e) {
      out = "I" + field(e.file()) + field(e.path()) + field(e.message());
    } catch (const std::exception& e) {
      out = "E" + field(e.what());
    } catch (...) {
      out = "E" + field("unknown error");
    }
    write_all(fds[1], out);
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  RunningChild c;
  c.pid = pid;
  c.fd = fds[0];
  c.start = std::chrono::steady_clock::now();
  return c;
}

// Reads what is ready on the child's pipe; false once the pipe is at its end (or broken).
bool read_some(RunningChild& c) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.data.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The child has closed its pipe: reaps it and decodes its answer.
ChildAnswer finish_child(RunningChild& c, const std::string& what) {
  ::close(c.fd);
  c.fd = -1;
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildAnswer a;
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
  const std::string& data = c.data;
  size_t pos = 1;
  try {
    if (data.empty()) {
      const std::string why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                  : "exit status " + std::to_string(WEXITSTATUS(status));
      throw std::runtime_error(what + ": the worker process died (" + why + ")");
    }
    if (data[0] == 'I') {
      std::string file = take_field(data, pos), path = take_field(data, pos), message = take_field(data, pos);
      throw InputError(file, path, message);
    }
    if (data[0] == 'E') throw std::runtime_error(what + ": " + take_field(data, pos));
    a.value = data.substr(1);
  } catch (...) {
    a.error = std::current_exception();
  }
  return a;
}

void kill_and_reap(std::vector<RunningChild>& running) {
  for (RunningChild& c : running) {
    ::kill(c.pid, SIGKILL);
    ::close(c.fd);
    while (::waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  running.clear();
}

}  // namespace

void run_in_children(size_t count, int jobs, const std::function<std::string(size_t)>& work,
                     const std::function<std::string(size_t)>& what,
                     const std::function<void(size_t, ChildAnswer)>& on_done) {
  const size_t limit = static_cast<size_t>(std::max(1, jobs));
  std::vector<RunningChild> running;
  try {
    size_t next = 0;
    while (next < count || !running.empty()) {
      while (next < count && running.size() < limit) {
        const size_t i = next++;
        try {
          RunningChild c = start_child([&] { return work(i); }, what(i));
          c.index = i;
          running.push_back(std::move(c));
        } catch (...) {
          ChildAnswer a;
          a.error = std::current_exception();
          on_done(i, std::move(a));
        }
      }
      if (running.empty()) continue;
      std::vector<pollfd> fds(running.size());
      for (size_t k = 0; k < running.size(); ++k) fds[k] = pollfd{running[k].fd, POLLIN, 0};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("waiting for worker processes: poll: ") + std::strerror(errno));
      }
      for (size_t k = running.size(); k-- > 0;) {
        if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) || read_some(running[k])) continue;
        RunningChild c = std::move(running[k]);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
        ChildAnswer a = finish_child(c, what(c.index));
        on_done(c.index, std::move(a));
      }
    }
  } catch (...) {
    kill_and_reap(running);
    throw;
  }
}

std::string run_in_child(const std::function<std::string()>& work, const std::string& what) {
  ChildAnswer answer;
  run_in_children(1, 1, [&](size_t) { return work(); }, [&](size_t) { return what; },
                  [&](size_t, ChildAnswer a) { answer = std::move(a); });
  if (answer.error) std::rethrow_exception(answer.error);
  return answer.value;
}

}  // namespace mhc
