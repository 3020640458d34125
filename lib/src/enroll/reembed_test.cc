#include "faceatt/reembed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;
using testing::Face;
using testing::FilesIn;

// People enrolled under an "old model" (the fake embedder: mean colours, behind
// the real detector and landmarks, so the chips kept are the real ones), then
// re-embedded with the real recognizer.
class ReembedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = testing::RealModels();
    ASSERT_TRUE(models_);
    pipeline_ = models_->NewPipeline();
    old_pipeline_ = std::make_unique<FacePipeline>(
        pipeline_->detector().Clone(), pipeline_->aligner().Clone(),
        std::make_unique<testing::FakeEmbedder>(), pipeline_->options());
    StoreOptions o;
    o.path = dir_ / "faceatt.db";
    store_ = std::move(OpenSqliteStore(o)).value();
    config_ = testing::TestConfig();
    Config old_config = config_;
    old_config.enroll.check_duplicates = false;  // mean colours all look alike
    old_service_ = std::make_unique<FaceService>(old_config, "fake:1", MatchDefaults{0.6, 0},
                                                 store_.get(), DataDir(dir_.path()));
  }

  std::unique_ptr<FaceService> NewService(Store* store) {
    auto s = FaceService::Open(config_, models_, store, DataDir(dir_.path()));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Enrolls the first `n` LFW photos of `person` with the old model.
  std::string EnrollOld(const std::vector<std::string>& photos) {
    EnrollRequest r;
    r.name = fs::path(photos.front()).parent_path().filename().string();
    r.largest = true;  // some LFW photos show others behind the person
    for (const auto& p : photos) r.images.push_back({p, ""});
    auto result = old_service_->Enroll(*old_pipeline_, r);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->accepted, static_cast<int>(photos.size()));
    return result->user.employee_id;
  }

  std::vector<std::string> Lfw(const std::string& person, size_t from, size_t to) {
    auto all = FilesIn(Face("lfw/" + person));
    to = std::min(to, all.size());
    return std::vector<std::string>(all.begin() + from, all.begin() + to);
  }

  // The current model's embedding of a photo, computed from the photo itself.
  Embedding Direct(const std::string& photo) {
    AnalyzeOptions opts;
    opts.keep_chips = true;
    auto faces = pipeline_->Analyze(*ReadImageFile(photo, {}), opts);
    EXPECT_TRUE(faces.ok() && !faces->empty()) << photo;
    auto e = pipeline_->EmbedChips({faces->front().chip});
    return e->front();
  }

  testing::TempDir dir_;
  Config config_;
  std::shared_ptr<const Models> models_;
  std::unique_ptr<FacePipeline> pipeline_, old_pipeline_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FaceService> old_service_;
};

const std::vector<std::string> kPeople = {"Tony_Blair", "Serena_Williams", "Al_Gore", "Laura_Bush"};

TEST_F(ReembedTest, SwitchedModelIdentifiesTheSamePeople) {
  std::map<std::string, std::string> id_of;
  for (const auto& p : kPeople) id_of[p] = EnrollOld(Lfw(p, 0, 3));
  auto service = NewService(store_.get());
  ASSERT_TRUE(service);
  EXPECT_EQ(service->people(), 0u);  // nobody has the real model's embeddings yet
  EXPECT_EQ(store_->UsersNeedingReenrollment(service->model_id())->size(), kPeople.size());

  auto s = Reembed(config_, *service, *pipeline_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->people_total, 4);
  EXPECT_EQ(s->people_reembedded, 4);
  EXPECT_EQ(s->embeddings_reembedded, 12);
  EXPECT_EQ(s->from_chip, 12);
  EXPECT_TRUE(s->failures.empty());
  EXPECT_TRUE(store_->UsersNeedingReenrollment(service->model_id())->empty());
  EXPECT_EQ(service->people(), 4u);
  // Old embeddings are kept beside the new ones.
  EXPECT_EQ(store_->LoadEmbeddings("fake:1")->size(), 12u);

  // The kept chip gives the embedding the photo itself gives.
  const auto reembedded = store_->LoadEmbeddings(service->model_id());
  ASSERT_TRUE(reembedded.ok());
  for (const auto& e : *reembedded) {
    const Embedding direct = Direct(e.source_path);
    float worst = 0;
    for (int i = 0; i < kEmbeddingDim; ++i)
      worst = std::max(worst, std::abs(direct[i] - e.vector[i]));
    EXPECT_LT(worst, 1e-4) << e.source_path;
  }
  // Photos not enrolled are named correctly: never the wrong person, and at
  // most one in four left unknown (the margin rule refuses close calls).
  int probes = 0, correct = 0;
  for (const auto& p : kPeople)
    for (const auto& photo : Lfw(p, 3, 5)) {
      auto id = service->Identify(*pipeline_, *ReadImageFile(photo, {}));
      ASSERT_TRUE(id.ok());
      ASSERT_FALSE(id->faces.empty()) << photo;
      ++probes;
      if (id->faces[0].matched) {
        EXPECT_EQ(id->faces[0].employee_id, id_of[p]) << photo;
        correct += id->faces[0].employee_id == id_of[p];
      }
    }
  EXPECT_GE(correct, probes * 3 / 4) << correct << " of " << probes;
}

TEST_F(ReembedTest, ResumesAfterAFailedWriteAndSkipsWhatIsDone) {
  for (const auto& p : kPeople) EnrollOld(Lfw(p, 0, 2));
  testing::FailingStore failing(store_.get());
  auto service = NewService(&failing);
  ASSERT_TRUE(service);
  failing.writes_left = 1;  // the second person's transaction fails
  auto stopped = Reembed(config_, *service, *pipeline_);
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(store_->UsersNeedingReenrollment(service->model_id())->size(), kPeople.size() - 1);

  failing.writes_left = 1 << 30;
  auto resumed = Reembed(config_, *service, *pipeline_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->people_skipped, 1);
  EXPECT_EQ(resumed->people_reembedded, 3);
  EXPECT_EQ(resumed->embeddings_reembedded, 6);
  EXPECT_EQ(store_->LoadEmbeddings(service->model_id())->size(), 8u);

  auto again = Reembed(config_, *service, *pipeline_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->people_skipped, 4);
  EXPECT_EQ(again->embeddings_reembedded, 0);
  EXPECT_EQ(store_->LoadEmbeddings(service->model_id())->size(), 8u);
}

TEST_F(ReembedTest, MissingChipFallsBackToTheSourceAndTheUnrecoverableAreListed) {
  // Blair: chips deleted, photos still there. Bush: chips and photos gone.
  const std::string blair = EnrollOld(Lfw("Tony_Blair", 0, 2));
  fs::create_directories(dir_ / "moved");
  std::vector<std::string> copies;
  for (const auto& photo : Lfw("Laura_Bush", 0, 2)) {
    copies.push_back(dir_ / ("moved/" + fs::path(photo).filename().string()));
    fs::copy_file(photo, copies.back());
  }
  const std::string bush = EnrollOld(copies);
  const auto old_rows = store_->LoadEmbeddings("fake:1");
  ASSERT_TRUE(old_rows.ok());
  for (const auto& e : *old_rows) {
    ASSERT_FALSE(e.crop_path.empty());  // enroll keeps the chip by default
    ASSERT_TRUE(fs::remove(dir_ / e.crop_path));
  }
  for (const auto& c : copies) fs::remove(c);

  auto service = NewService(store_.get());
  ASSERT_TRUE(service);
  auto s = Reembed(config_, *service, *pipeline_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->people_reembedded, 1);
  EXPECT_EQ(s->from_source, 2);
  EXPECT_EQ(s->people_failed, 1);
  EXPECT_EQ(s->embeddings_failed, 2);
  ASSERT_EQ(s->failures.size(), 2u);
  for (const auto& f : s->failures) {
    EXPECT_EQ(f.employee_id, bush);
    EXPECT_NE(f.reason.find("aligned chip"), std::string::npos) << f.reason;
    EXPECT_NE(f.reason.find("source photo"), std::string::npos) << f.reason;
    EXPECT_NE(f.reason.find("missing"), std::string::npos) << f.reason;
  }
  // Blair's new embeddings equal the photos' own, and the chips are kept again.
  const auto reembedded = store_->LoadEmbeddings(service->model_id());
  ASSERT_TRUE(reembedded.ok());
  for (const auto& e : *reembedded) {
    EXPECT_EQ(e.employee_id, blair);
    EXPECT_TRUE(fs::exists(dir_ / e.crop_path)) << e.crop_path;
    const Embedding direct = Direct(e.source_path);
    for (int i = 0; i < kEmbeddingDim; ++i) ASSERT_NEAR(direct[i], e.vector[i], 1e-4);
  }
  EXPECT_EQ(*store_->UsersNeedingReenrollment(service->model_id()), std::vector<std::string>{bush});
}

}  // namespace
}  // namespace faceatt
