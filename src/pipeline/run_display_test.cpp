#include "pipeline/run_display.h"

#include <gtest/gtest.h>

#include "core/terminal.h"

namespace aimara::pipeline {
namespace {

JobStatus job(int64_t id, std::string title, std::string stage) {
  JobStatus s;
  s.id = id;
  s.title = std::move(title);
  s.platform = "youtube";
  s.duration_ms = 3 * 3600 * 1000;
  s.stage = std::move(stage);
  s.progress = 0.5;
  s.eta_s = 125;
  return s;
}

std::map<int64_t, JobStatus> sample_jobs() {
  std::map<int64_t, JobStatus> jobs;
  jobs[1] = job(1, "Entrevista con José Martínez — edición especial del lunes por la noche",
                "transcribing");
  jobs[2] = job(2, "line one\nline two\x1b[2J\x1b]0;retitled\x07", "extracting_entities");
  jobs[3] = job(3, "東京の朝のニュース番組、特別編集版", "queued for audio");
  jobs[4] = job(4, "done", "completed");
  return jobs;
}

TEST(RunDisplayTable, NoLineWrapsOnAnyWidth) {
  for (int columns : {40, 80, 120, 300}) {
    auto lines = render_table(sample_jobs(), 61.0, columns);
    ASSERT_EQ(lines.size(), 6u) << columns;  // progress, header, four rows
    for (const auto& line : lines) {
      EXPECT_LE(display_width(line), static_cast<size_t>(columns - 1)) << columns << ": " << line;
      EXPECT_EQ(line.find('\n'), std::string::npos);
      EXPECT_EQ(line.find('\x1b'), std::string::npos);
      EXPECT_EQ(line.find('\x07'), std::string::npos);
    }
  }
}

TEST(RunDisplayTable, ColumnsLineUpWhateverTheScript) {
  auto lines = render_table(sample_jobs(), 61.0, 100);
  // The platform column starts at the same column on the header and every row.
  auto platform_column = [](const std::string& line, std::string_view word) {
    return display_width(line.substr(0, line.find(word)));
  };
  size_t header = platform_column(lines[1], "platform");
  for (size_t i = 2; i < lines.size(); ++i) {
    EXPECT_EQ(platform_column(lines[i], "youtube"), header) << lines[i];
  }
  EXPECT_NE(lines[2].find("Entrevista con José"), std::string::npos);
  EXPECT_NE(lines[2].find("~"), std::string::npos);  // cut to fit
}

TEST(RunDisplayTable, CountsFinishedJobsInTheProgressLine) {
  auto lines = render_table(sample_jobs(), 61.0, 80);
  EXPECT_NE(lines[0].find("1/4 videos"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("elapsed 1:01"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace aimara::pipeline
