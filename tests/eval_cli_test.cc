// End-to-end: faceatt eval and faceatt calibrate through the binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "faceatt/config.h"
#include "support/testing.h"

namespace faceatt::testing {
namespace {
namespace fs = std::filesystem;

// A config file with comments, pointing at the shared models and a data folder.
void WriteConfig(const TempDir& dir) {
  WriteFile(dir / "config.toml",
            "# my site's settings\n"
            "[paths]\n"
            "data_dir = \"data\"  # where the database lives\n"
            "models_dir = \"" +
                ModelsDir() +
                "\"\n"
                "\n"
                "[recognition]\n"
                "# tuned by hand last year\n"
                "tolerance = 0.5    # accept at this distance or less\n"
                "margin = 0.02      # next-best person must be this much further\n");
}

// Three LFW people with 6+ photos and one with three, as symlinks.
std::string Subset(const TempDir& dir) {
  const std::string lfw = Face("lfw");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(lfw)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  int many = 0, few = 0;
  for (const auto& name : names) {
    const auto files = FilesIn(lfw + "/" + name);
    if (files.size() >= 6 && many < 3)
      ++many;
    else if (files.size() == 3 && few < 1)
      ++few;
    else
      continue;
    fs::create_directories(dir / ("people/" + name));
    for (const auto& f : files)
      fs::create_symlink(f, dir / ("people/" + name + "/" + fs::path(f).filename().string()));
  }
  return dir / "people";
}

TEST(EvalCliTest, JsonReportAndPlotWithoutTouchingTheDatabase) {
  TempDir dir;
  WriteConfig(dir);
  const std::string people = Subset(dir);
  CliResult r =
      RunCli({"eval", people, "--json", "--plot", dir / "hist.png", "--jobs", "2"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["people_enrolled"], 3);
  EXPECT_EQ(j["impostor_people"], 1);
  EXPECT_EQ(j["enroll_per_person"], 3);
  EXPECT_DOUBLE_EQ(j["tolerance"].get<double>(), 0.5);  // the config file's, not the model default
  EXPECT_DOUBLE_EQ(j["margin"].get<double>(), 0.02);
  EXPECT_GT(j["genuine_probes"].get<int>(), 0);
  EXPECT_GT(j["impostor_probes"].get<int>(), 0);
  for (const char* key :
       {"rank1", "correct_accept_rate", "wrong_accept_rate", "impostor_accept_rate"}) {
    EXPECT_GE(j[key].get<double>(), 0.0) << key;
    EXPECT_LE(j[key].get<double>(), 1.0) << key;
  }
  EXPECT_LE(j["correct_accept_rate"].get<double>() + j["wrong_accept_rate"].get<double>(),
            1.0 + 1e-9);
  ASSERT_EQ(j["operating_points"].size(), 3u);
  EXPECT_EQ(ReadFile(dir / "hist.png").substr(1, 3), "PNG");
  EXPECT_FALSE(fs::exists(dir / "data")) << "eval created the user's data folder";
}

TEST(EvalCliTest, TextReportAndBadFolder) {
  TempDir dir;
  WriteConfig(dir);
  const std::string people = Subset(dir);
  CliResult r = RunCli({"eval", people, "--enroll", "2"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rank-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("people enrolled  4 (2 photos each"), std::string::npos) << r.out;
  CliResult missing = RunCli({"eval", dir / "nowhere"}, dir.path());
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
}

TEST(CalibrateCliTest, ApplyWritesThresholdsAndKeepsComments) {
  TempDir dir;
  WriteConfig(dir);
  const std::string people = Subset(dir);
  int enrolled = 0;
  for (const auto& e : fs::directory_iterator(people)) {
    auto files = FilesIn(e.path().string());
    files.resize(3);
    std::vector<std::string> args = {"enroll", "--name", e.path().filename().string(), "--largest",
                                     "--force"};
    args.insert(args.end(), files.begin(), files.end());
    CliResult r = RunCli(args, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ++enrolled;
  }
  ASSERT_EQ(enrolled, 4);
  const std::string before = ReadFile(dir / "config.toml");
  CliResult dry = RunCli({"calibrate"}, dir.path());
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("suggested"), std::string::npos);
  EXPECT_EQ(ReadFile(dir / "config.toml"), before)
      << "calibrate without --apply changed the config";

  CliResult r = RunCli({"calibrate", "--target-far", "0.05", "--apply"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string after = ReadFile(dir / "config.toml");
  for (const char* comment :
       {"# my site's settings", "# where the database lives", "# tuned by hand last year",
        "# accept at this distance or less", "# next-best person must be this much further"})
    EXPECT_NE(after.find(comment), std::string::npos) << comment << "\n" << after;
  // The file now holds the suggested values that were printed.
  const size_t at = r.out.find("suggested         tolerance ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double suggested = std::stod(r.out.substr(at + 28, 5));
  auto config = Config::Load(dir / "config.toml", true, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_DOUBLE_EQ(config->recognition.tolerance, suggested);
}

// Mislabelled enrollments: each "person" is three different LFW people, so a
// photo is far from its person's other photos. The suggestion would name
// fewer than half of them: --apply refuses it (exit 4) and leaves the file
// alone, unless --force.
TEST(CalibrateCliTest, ApplyRefusesASuggestionThatRejectsMostPeople) {
  TempDir dir;
  WriteConfig(dir);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(Face("lfw"))) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  ASSERT_GE(names.size(), 24u);
  for (int p = 0; p < 8; ++p) {
    std::vector<std::string> args = {"enroll", "--name", "Mixed " + std::to_string(p), "--largest",
                                     "--force"};
    for (int k = 0; k < 3; ++k) args.push_back(FilesIn(names[p * 3 + k]).front());
    CliResult r = RunCli(args, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string before = ReadFile(dir / "config.toml");
  CliResult r = RunCli({"calibrate", "--apply"}, dir.path());
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("fewer than half"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir / "config.toml"), before);
  const size_t at = r.out.find("with them         ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_LT(std::stod(r.out.substr(at + 18, 5)), 50.0) << r.out;
  CliResult forced = RunCli({"calibrate", "--apply", "--force"}, dir.path());
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(ReadFile(dir / "config.toml"), before);
}

TEST(CalibrateCliTest, NeedsEnrolledPeople) {
  TempDir dir;
  WriteConfig(dir);
  CliResult r = RunCli({"calibrate"}, dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

}  // namespace
}  // namespace faceatt::testing
