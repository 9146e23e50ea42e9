// Worker processes: a worker that dies is reported with its signal, and a worker never outlives the
// process waiting for it (a killed sweep leaves no simulation running).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/json_input.h"
#include "engine/child_process.h"

using namespace mhc;

TEST(ChildProcess, AWorkerKilledBySignalIsReportedWithIt) {
  try {
    run_in_child([]() -> std::string { ::raise(SIGKILL); return "unreachable"; }, "the worker");
    ADD_FAILURE() << "a killed worker returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the worker: the worker process died (killed by signal 9)"), std::string::npos)
        << e.what();
  }
}

// A worker is born holding whatever its parent has open (a sibling's answer pipe, a library's
// files); if it kept a sibling's write end, that sibling's reader would wait for this worker too.
TEST(ChildProcess, AWorkerHoldsNoDescriptorOfItsParentButStdio) {
  int sibling[2];
  ASSERT_EQ(::pipe(sibling), 0);
  const std::string seen = run_in_child(
      [&] {
        std::string s;
        for (int fd : {0, 1, 2, sibling[0], sibling[1]}) s += ::fcntl(fd, F_GETFD) == -1 ? 'c' : 'o';
        return s;
      },
      "the worker");
  ::close(sibling[0]);
  ::close(sibling[1]);
  EXPECT_EQ(seen, "ooocc") << "stdin, stdout, stderr open; a sibling's pipe ends closed";
}

TEST(ChildProcess, AWorkerDiesWithItsParent) {
  // This process adopts orphans (as init would), so it can see how the worker ends.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  // The worker names itself in a file: it holds no descriptor of its parent's (test above).
  const std::string pid_file = testing::TempDir() + "/child_process_worker.pid";
  std::remove(pid_file.c_str());
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the sweep: waits for a worker that would run for a minute
    try {
      run_in_child(
          [&] {
            std::ofstream(pid_file + ".part") << ::getpid();
            std::rename((pid_file + ".part").c_str(), pid_file.c_str());
            ::sleep(60);
            return std::string("finished");
          },
          "the worker");
    } catch (...) {
    }
    ::_exit(0);
  }
  pid_t worker = 0;
  for (int i = 0; i < 200 && worker == 0; ++i) {
    std::ifstream in(pid_file);
    if (!(in >> worker)) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_NE(worker, 0) << "the worker never started";
  std::remove(pid_file.c_str());
  ::kill(parent, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  // The orphaned worker is now this process's child: it must end within seconds, killed.
  pid_t ended = 0;
  for (int i = 0; i < 100 && ended == 0; ++i) {
    ended = ::waitpid(worker, &status, WNOHANG);
    if (ended == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (ended == 0) {
    ::kill(worker, SIGKILL);
    ::waitpid(worker, &status, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(ended, worker) << "the worker outlived its parent by 5 s";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

namespace {

double monotonic_s() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);  // one clock for every process of the machine
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

// A pool of workers: never more than `jobs` alive at once, and `jobs` of them do run side by side.
TEST(ChildProcesses, RunAtMostJobsAtATimeAndSideBySide) {
  const size_t count = 5;
  std::vector<std::pair<double, double>> spans(count);
  std::vector<size_t> order;
  run_in_children(
      count, 2,
      [](size_t i) {
        const double start = monotonic_s();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return std::to_string(i) + " " + std::to_string(start) + " " + std::to_string(monotonic_s());
      },
      [](size_t i) { return "work " + std::to_string(i); },
      [&](size_t i, ChildAnswer a) {
        ASSERT_FALSE(a.error);
        size_t index = 0;
        double start = 0, end = 0;
        ASSERT_EQ(std::sscanf(a.value.c_str(), "%zu %lf %lf", &index, &start, &end), 3) << a.value;
        EXPECT_EQ(index, i) << "each answer reaches the work that gave it";
        EXPECT_GT(a.seconds, 0.25);  // from the fork to the answer, around the 0.3 s sleep
        spans[i] = {start, end};
        order.push_back(i);
      });
  ASSERT_EQ(order.size(), count) << "every work ends once";
  int most = 0;
  for (const auto& [start, end] : spans) {
    int alive = 0;  // workers running at this one's start
    for (const auto& [s, e] : spans) alive += s <= start && start < e;
    most = std::max(most, alive);
  }
  EXPECT_EQ(most, 2);
}

// Each worker's answer is its own: a result, its InputError, another error, or how it died.
TEST(ChildProcesses, EachWorkerFailsAlone) {
  std::vector<ChildAnswer> answers(4);
  run_in_children(
      4, 3,
      [](size_t i) -> std::string {
        if (i == 1) throw InputError("in.json", "/a/b", "expected a number");
        if (i == 2) throw std::runtime_error("no route");
        if (i == 3) ::_exit(3);
        return "ok";
      },
      [](size_t i) { return "work " + std::to_string(i); },
      [&](size_t i, ChildAnswer a) { answers[i] = std::move(a); });
  EXPECT_EQ(answers[0].value, "ok");
  EXPECT_FALSE(answers[0].error);
  auto message = [](const ChildAnswer& a) {
    try {
      std::rethrow_exception(a.error);
    } catch (const InputError& e) {
      return "input: " + e.file() + " " + e.path() + " " + e.message();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  ASSERT_TRUE(answers[1].error);
  EXPECT_EQ(message(answers[1]), "input: in.json /a/b expected a number");
  ASSERT_TRUE(answers[2].error);
  EXPECT_EQ(message(answers[2]), "work 2: no route");
  ASSERT_TRUE(answers[3].error);
  EXPECT_EQ(message(answers[3]), "work 3: the worker process died (exit status 3)");
}

// The parent gives up (its callback throws): the workers still running are killed, not waited for.
TEST(ChildProcesses, WorkersStillRunningAreKilledWhenTheParentGivesUp) {
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(run_in_children(
                   3, 3,
                   [](size_t i) {
                     if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(60));
                     return std::string("done");
                   },
                   [](size_t i) { return "work " + std::to_string(i); },
                   [](size_t, ChildAnswer) { throw std::runtime_error("stop"); }),
               std::runtime_error);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "no child left, running or unreaped";
  EXPECT_EQ(errno, ECHILD);
}
