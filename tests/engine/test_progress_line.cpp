// The progress line: silent for short runs and without a label, then one line every few seconds with
// the share of tasks ended, the simulated time and the wall time.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "engine/progress_line.h"

using namespace mhc;

namespace {

std::string written(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += char(c);
  return s;
}

}  // namespace

TEST(ProgressLine, PrintsAfterTheFirstSecondsThenEveryFew) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  double now = 100.0;
  ProgressLine p("mhc n = 4", 4096, out, [&] { return now; }, 3.0, 5.0);
  now = 102.0;
  p.task_ended(1024, 0.5);  // 2 s in: too early
  EXPECT_EQ(written(out), "");
  now = 103.5;
  p.task_ended(2048, 0.75);
  EXPECT_EQ(written(out), "mhcsim: mhc n = 4: 50% of 4096 tasks ended, 0.750 s of the step simulated, 4 s wall\n");
  now = 107.0;
  p.task_ended(3072, 1.0);  // 3.5 s after the last line: not yet
  now = 108.6;
  p.task_ended(4096, 1.25);
  EXPECT_EQ(written(out), "mhcsim: mhc n = 4: 50% of 4096 tasks ended, 0.750 s of the step simulated, 4 s wall\n"
                          "mhcsim: mhc n = 4: 100% of 4096 tasks ended, 1.250 s of the step simulated, 9 s wall\n");
  std::fclose(out);
}

TEST(ProgressLine, AnEmptyLabelNeverPrints) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  double now = 0.0;
  ProgressLine p("", 1 << 20, out, [&] { return now; }, 0.0, 0.0);
  for (size_t done = 1024; done <= (1 << 20); done += 1024) {
    now += 10.0;
    p.task_ended(done, double(done));
  }
  EXPECT_EQ(written(out), "");
  std::fclose(out);
}
