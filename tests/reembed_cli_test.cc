// End to end: people enrolled with the DenseNet, the configuration switched to
// the ResNet, `faceatt reembed`, and the same people are named again.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Face;
using testing::FilesIn;

class ReembedCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::RealModels()) << "models are required";
    resnet_ = {{"FACEATT_PATHS_MODELS_DIR", testing::ModelsDir()}};  // auto: the ResNet
    densenet_ = resnet_;
    densenet_["FACEATT_MODELS_RECOGNIZER"] =
        testing::ModelsDir() + "/face_recognition_densenet_model_v1.dat";
  }
  testing::CliResult Run(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env) {
    return testing::RunCli(args, work_.path(), env);
  }
  std::string Enroll(const std::string& name, const std::vector<std::string>& photos) {
    std::vector<std::string> args = {"enroll", "--json", "--largest", "--force", "--name", name};
    args.insert(args.end(), photos.begin(), photos.end());
    auto r = Run(args, densenet_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["employee_id"].get<std::string>() : "";
  }
  // The employee id named for the largest face of each photo ("" = nobody).
  std::vector<std::string> Identify(const std::vector<std::string>& photos,
                                    const std::map<std::string, std::string>& env,
                                    std::string* err = nullptr) {
    std::vector<std::string> args = {"identify", "--json"};
    args.insert(args.end(), photos.begin(), photos.end());
    auto r = Run(args, env);
    if (err) *err = r.err;
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const json j = json::parse(line);
      out.push_back(j["faces"].empty() || !j["faces"][0]["matched"].get<bool>()
                        ? ""
                        : j["faces"][0]["employee_id"].get<std::string>());
    }
    return out;
  }
  std::string ModelIdOf(const std::string& employee_id, size_t row) {
    auto r = Run({"users", "show", employee_id, "--json"}, resnet_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["thumbnails"][row]["model_id"].get<std::string>();
  }

  testing::TempDir work_;
  std::map<std::string, std::string> resnet_, densenet_;
};

TEST_F(ReembedCliTest, DenseNetDatabaseSwitchedToResNetNamesTheSamePeople) {
  const std::vector<std::string> people = {"Abdullah_Gul",     "Adrien_Brody", "Al_Gore",
                                           "Alejandro_Toledo", "Ali_Naimi",    "Alvaro_Uribe"};
  std::map<std::string, std::string> id_of;
  for (const auto& p : people) {
    auto photos = FilesIn(Face("lfw/" + p));
    id_of[p] = Enroll(p, {photos.begin(), photos.begin() + 3});
    ASSERT_FALSE(id_of[p].empty());
  }
  // Someone whose photos were moved away and whose chips were deleted.
  fs::create_directories(work_ / "gone");
  std::vector<std::string> copies;
  for (const auto& photo : FilesIn(Face("lfw/Ana_Palacio"))) {
    if (copies.size() == 2) break;
    copies.push_back(work_ / ("gone/" + fs::path(photo).filename().string()));
    fs::copy_file(photo, copies.back());
  }
  const std::string gone = Enroll("Ana Palacio", copies);
  ASSERT_FALSE(gone.empty());
  const json shown = json::parse(Run({"users", "show", gone, "--json"}, densenet_).out);
  for (const auto& row : shown["thumbnails"])
    ASSERT_TRUE(fs::remove(row["crop"].get<std::string>())) << row.dump();
  for (const auto& c : copies) fs::remove(c);

  std::vector<std::string> probes, expected;
  for (const auto& p : people) {
    auto photos = FilesIn(Face("lfw/" + p));
    for (size_t i = 3; i < photos.size(); ++i) {
      probes.push_back(photos[i]);
      expected.push_back(id_of[p]);
    }
  }
  // On the ResNet, before reembed: nobody is known, and the warning says what to run.
  std::string err;
  for (const auto& named : Identify(probes, resnet_, &err)) EXPECT_EQ(named, "");
  EXPECT_NE(err.find("faceatt reembed"), std::string::npos) << err;

  auto r = Run({"reembed"}, resnet_);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // one person could not be re-embedded
  EXPECT_NE(r.out.find("people: 7 total, 6 re-embedded, 0 already done, 1 with photos not "
                       "re-embedded"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("embeddings: 18 re-embedded (18 from kept chips"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  " + gone + "\tAna Palacio\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
  EXPECT_NE(ModelIdOf(id_of["Al_Gore"], 0), ModelIdOf(id_of["Al_Gore"], 3));  // old one kept

  // The ResNet names the same people (it scores 99% on LFW; allow one miss).
  const auto named = Identify(probes, resnet_);
  ASSERT_EQ(named.size(), probes.size());
  int correct = 0, wrong = 0;
  for (size_t i = 0; i < named.size(); ++i) {
    if (named[i] == expected[i])
      ++correct;
    else if (!named[i].empty())
      ++wrong;
  }
  EXPECT_GE(probes.size(), 20u);
  EXPECT_EQ(wrong, 0);
  EXPECT_GE(correct, static_cast<int>(probes.size()) - 1) << correct << " of " << probes.size();

  // Again: everyone done is skipped; the one who cannot be is listed again.
  r = Run({"reembed"}, resnet_);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("people: 7 total, 0 re-embedded, 6 already done"), std::string::npos)
      << r.out;
  // Switching back needs no second reembed: the DenseNet's embeddings were kept.
  int back = 0;
  const auto dense = Identify(probes, densenet_);
  for (size_t i = 0; i < dense.size(); ++i) back += dense[i] == expected[i];
  EXPECT_GE(back, static_cast<int>(probes.size()) * 7 / 10);
}

}  // namespace
}  // namespace faceatt
