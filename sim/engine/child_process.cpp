#include "engine/child_process.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

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

// In a fresh child: closes every descriptor above stderr but keep. Threads fork concurrently (a sweep
// runs one worker per job), so a child inherits its siblings' pipe write ends; held open there, they
// keep a sibling's reader from seeing end-of-file until this child ends too.
void close_inherited_descriptors(int keep) {
  const bool below = keep <= 3 || ::close_range(3, static_cast<unsigned>(keep) - 1, 0) == 0;
  if (below && ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0) return;
  rlimit limit{};
  const int top = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (1u << 20)
                      ? static_cast<int>(limit.rlim_cur) : (1 << 20);
  for (int fd = 3; fd < top; ++fd)
    if (fd != keep) ::close(fd);
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& work, const std::string& what) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(what + ": pipe: " + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(what + ": fork: " + std::strerror(errno));
  }
  if (pid == 0) {
    // A worker never outlives the process waiting for it: a sweep that is killed leaves no simulation
    // running. The signal follows the death of the forking thread, which blocks below until the child
    // ends. A parent that died before prctl() took effect is seen by getppid().
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
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (data.empty()) {
    std::string why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit status " + std::to_string(WEXITSTATUS(status));
    throw std::runtime_error(what + ": the worker process died (" + why + ")");
  }
  size_t pos = 1;
  if (data[0] == 'I') {
    std::string file = take_field(data, pos), path = take_field(data, pos), message = take_field(data, pos);
    throw InputError(file, path, message);
  }
  if (data[0] == 'E') throw std::runtime_error(what + ": " + take_field(data, pos));
  return data.substr(1);
}

}  // namespace mhc
