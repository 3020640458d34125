#include "faceatt/face_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/testing.h"

namespace faceatt {
namespace {

using testing::Face;
using testing::FilesIn;

class FaceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = testing::RealModels();
    ASSERT_TRUE(models_);
    pipeline_ = models_->NewPipeline();
    StoreOptions o;
    o.path = dir_ / "faceatt.db";
    store_ = std::move(OpenSqliteStore(o)).value();
    failing_ = std::make_unique<testing::FailingStore>(store_.get());
    auto s =
        FaceService::Open(testing::TestConfig(), models_, failing_.get(), DataDir(dir_.path()));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(s).value();
  }
  EnrollRequest Request(const std::string& name, const std::vector<std::string>& files) {
    EnrollRequest r;
    r.name = name;
    for (const auto& f : files) r.images.push_back({f, ""});
    return r;
  }
  std::vector<std::string> Photos(const std::string& rel, size_t from, size_t to) {
    auto all = FilesIn(Face(rel));
    return std::vector<std::string>(all.begin() + from, all.begin() + std::min(to, all.size()));
  }

  testing::TempDir dir_;
  std::shared_ptr<const Models> models_;
  std::unique_ptr<FacePipeline> pipeline_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<testing::FailingStore> failing_;
  std::unique_ptr<FaceService> service_;
};

TEST_F(FaceServiceTest, EnrollThenIdentifyOtherPhotos) {
  auto raj = service_->Enroll(*pipeline_, Request("Raj", Photos("people/bbt/raj", 0, 3)));
  ASSERT_TRUE(raj.ok()) << raj.status().ToString();
  EXPECT_TRUE(raj->created);
  EXPECT_EQ(raj->accepted, 3);
  auto penny = service_->Enroll(*pipeline_, Request("Penny", Photos("people/bbt/penny", 0, 3)));
  ASSERT_TRUE(penny.ok()) << penny.status().ToString();
  EXPECT_NE(raj->user.employee_id, penny->user.employee_id);
  EXPECT_EQ(service_->people(), 2u);
  // Thumbnails exist, stored relative to the data folder.
  auto stored = store_->LoadEmbeddings(service_->model_id());
  ASSERT_TRUE(stored.ok());
  for (const auto& e : *stored) {
    EXPECT_EQ(e.thumbnail_path.rfind("thumbnails/", 0), 0u) << e.thumbnail_path;
    EXPECT_TRUE(std::filesystem::exists(dir_ / e.thumbnail_path));
  }
  for (const auto& photo : Photos("people/bbt/raj", 3, 5)) {
    auto id = service_->Identify(*pipeline_, *ReadImageFile(photo, {}));
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(id->faces.size(), 1u);
    EXPECT_EQ(id->faces[0].employee_id, raj->user.employee_id) << photo;
    EXPECT_EQ(id->faces[0].name, "Raj");
    EXPECT_LE(id->faces[0].distance, id->faces[0].threshold);
  }
  auto stranger =
      service_->Identify(*pipeline_, *ReadImageFile(Face("single/compreface__einstein.jpeg"), {}));
  ASSERT_TRUE(stranger.ok());
  ASSERT_EQ(stranger->faces.size(), 1u);
  EXPECT_FALSE(stranger->faces[0].matched);
  EXPECT_EQ(stranger->faces[0].reason, kUnknown);
  auto none = service_->Identify(*pipeline_, *ReadImageFile(Face("noface/dlib__dog.jpg"), {}));
  EXPECT_EQ(none->reason, kNoFace);
}

TEST_F(FaceServiceTest, SameFaceUnderANewNameIsRefusedUnlessForced) {
  ASSERT_TRUE(service_->Enroll(*pipeline_, Request("Amy", Photos("people/bbt/amy", 0, 2))).ok());
  auto again = service_->Enroll(*pipeline_, Request("Amy Two", Photos("people/bbt/amy", 2, 3)));
  ASSERT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("EMP001"), std::string::npos);
  EXPECT_NE(again.status().message().find("Amy"), std::string::npos);
  EXPECT_EQ(*store_->CountUsers(), 1);
  // Adding photos to the same person is not a duplicate.
  auto more = Request("", Photos("people/bbt/amy", 3, 4));
  more.employee_id = "EMP001";
  auto added = service_->Enroll(*pipeline_, more);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_FALSE(added->created);
  EXPECT_EQ(added->user.embeddings, 3);
  auto forced_req = Request("Amy Two", Photos("people/bbt/amy", 2, 3));
  forced_req.force = true;
  EXPECT_TRUE(service_->Enroll(*pipeline_, forced_req).ok());
  EXPECT_EQ(*store_->CountUsers(), 2);
}

// Issue 14: Al Gore's photo added to Obama's record went in silently.
TEST_F(FaceServiceTest, WrongPhotoAddedToAnExistingPersonIsRefusedUnlessForced) {
  auto obama =
      service_->Enroll(*pipeline_, Request("Obama", Photos("people/face_recognition/obama", 0, 2)));
  ASSERT_TRUE(obama.ok()) << obama.status().ToString();
  auto wrong = Request("", Photos("lfw/Al_Gore", 0, 1));
  wrong.employee_id = obama->user.employee_id;
  auto refused = service_->Enroll(*pipeline_, wrong);
  ASSERT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_EQ(refused.status().reason(), kNotThisPerson);
  EXPECT_NE(refused.status().message().find("distance 0."), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(store_->GetUser(obama->user.employee_id)->embeddings, 2);
  // Their own third photo is accepted; --force takes the wrong one anyway.
  auto own = Request("", Photos("people/face_recognition/obama", 2, 3));
  own.employee_id = obama->user.employee_id;
  ASSERT_TRUE(service_->Enroll(*pipeline_, own).ok());
  wrong.force = true;
  ASSERT_TRUE(service_->Enroll(*pipeline_, wrong).ok());
  EXPECT_EQ(store_->GetUser(obama->user.employee_id)->embeddings, 4);
}

TEST_F(FaceServiceTest, AMismatchedNameForAnExistingIdIsAnError) {
  auto amy = service_->Enroll(*pipeline_, Request("Amy", Photos("people/bbt/amy", 0, 1)));
  ASSERT_TRUE(amy.ok());
  auto other = Request("Penny", Photos("people/bbt/amy", 1, 2));
  other.employee_id = amy->user.employee_id;
  auto r = service_->Enroll(*pipeline_, other);
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().reason(), kNameMismatch);
  EXPECT_EQ(store_->GetUser(amy->user.employee_id)->embeddings, 1);
  other.name = "Amy";  // the same name is fine
  EXPECT_TRUE(service_->Enroll(*pipeline_, other).ok());
}

// With a margin so large that identify calls every face ambiguous, the
// duplicate check still refuses a face within the tolerance of someone else.
TEST_F(FaceServiceTest, DuplicateCheckIgnoresTheMargin) {
  Config config = testing::TestConfig();
  config.recognition.margin = 1.5;
  FaceService strict(config, models_->model_id(), models_->defaults(), store_.get(),
                     DataDir(dir_.path()));
  ASSERT_TRUE(strict.Enroll(*pipeline_, Request("Amy", Photos("people/bbt/amy", 0, 2))).ok());
  ASSERT_TRUE(strict.Enroll(*pipeline_, Request("Penny", Photos("people/bbt/penny", 0, 2))).ok());
  auto probe = strict.Identify(*pipeline_, *ReadImageFile(Photos("people/bbt/amy", 2, 3)[0], {}));
  ASSERT_TRUE(probe.ok());
  ASSERT_EQ(probe->faces.size(), 1u);
  EXPECT_FALSE(probe->faces[0].matched);  // identify: ambiguous under this margin
  auto again = strict.Enroll(*pipeline_, Request("Amy Again", Photos("people/bbt/amy", 2, 3)));
  ASSERT_EQ(again.status().code(), Code::kConflict);
  EXPECT_EQ(again.status().reason(), kEnrolledAsSomeoneElse);
  EXPECT_EQ(*store_->CountUsers(), 2);
}

// Issue 14: identification scoped to a group names only its people; a face of
// someone enrolled outside the group comes back unknown.
TEST_F(FaceServiceTest, ScopedIdentificationNamesOnlyTheGroupsPeople) {
  auto raj = service_->Enroll(*pipeline_, Request("Raj", Photos("people/bbt/raj", 0, 3)));
  auto penny = service_->Enroll(*pipeline_, Request("Penny", Photos("people/bbt/penny", 0, 3)));
  ASSERT_TRUE(raj.ok() && penny.ok());
  ASSERT_TRUE(store_->SetGroupMembership(raj->user.employee_id, "Class 3A", true).ok());
  ASSERT_TRUE(service_->Reload().ok());
  IdentifyOptions scoped;
  scoped.group = "Class 3A";
  auto insider =
      service_->Identify(*pipeline_, *ReadImageFile(Photos("people/bbt/raj", 3, 4)[0], {}), scoped);
  ASSERT_TRUE(insider.ok());
  ASSERT_EQ(insider->faces.size(), 1u);
  EXPECT_EQ(insider->faces[0].employee_id, raj->user.employee_id);
  const std::string penny_photo = Photos("people/bbt/penny", 3, 4)[0];
  auto everyone = service_->Identify(*pipeline_, *ReadImageFile(penny_photo, {}));
  ASSERT_TRUE(everyone.ok());
  EXPECT_EQ(everyone->faces[0].employee_id, penny->user.employee_id);
  auto outsider = service_->Identify(*pipeline_, *ReadImageFile(penny_photo, {}), scoped);
  ASSERT_TRUE(outsider.ok());
  ASSERT_EQ(outsider->faces.size(), 1u);
  EXPECT_FALSE(outsider->faces[0].matched);
  EXPECT_EQ(outsider->faces[0].reason, kUnknown);
  for (const auto& c : outsider->faces[0].candidates)
    EXPECT_EQ(c.employee_id, raj->user.employee_id);  // nobody outside the group is named
  scoped.group = "Class 9Z";
  EXPECT_EQ(service_->Identify(*pipeline_, *ReadImageFile(penny_photo, {}), scoped).status().code(),
            Code::kNotFound);
}

TEST_F(FaceServiceTest, RejectedImagesSayWhyAndNothingIsStored) {
  testing::WriteFile(dir_ / "broken.jpg", "not an image");
  auto r = Request("Nobody", {Face("noface/dlib__dog.jpg"), dir_ / "broken.jpg",
                              Face("group/face-api.js__bbt1.jpg"), dir_ / "missing.jpg"});
  auto result = service_->Enroll(*pipeline_, r);
  ASSERT_EQ(result.status().code(), Code::kBadInput);
  const std::string& msg = result.status().message();
  EXPECT_NE(msg.find("no_face"), std::string::npos);
  EXPECT_NE(msg.find("bad_input"), std::string::npos);
  EXPECT_NE(msg.find("multi_face"), std::string::npos);
  EXPECT_EQ(*store_->CountUsers(), 0);
  // --largest takes the biggest face of a group photo.
  auto largest = Request("Group Largest", {Face("group/face-api.js__bbt1.jpg")});
  largest.largest = true;
  EXPECT_TRUE(service_->Enroll(*pipeline_, largest).ok());
}

// The network runs only for the face that is enrolled: a group photo refused
// as multi_face costs no pass, and --largest embeds one face (and its mirror).
TEST_F(FaceServiceTest, OnlyTheEnrolledFaceIsEmbedded) {
  auto embedder = std::make_unique<testing::FakeEmbedder>();
  testing::FakeEmbedder* counter = embedder.get();
  FacePipeline counting(pipeline_->detector().Clone(), pipeline_->aligner().Clone(),
                        std::move(embedder), pipeline_->options());
  const std::string group = Face("group/face-api.js__bbt1.jpg");
  std::optional<PreparedFace> face;
  ImageOutcome refused = service_->Prepare(counting, {group, ""}, /*largest=*/false, &face);
  EXPECT_EQ(refused.reason, kMultiFace);
  EXPECT_FALSE(face);
  EXPECT_EQ(counter->chips_embedded, 0);
  ImageOutcome taken = service_->Prepare(counting, {group, ""}, /*largest=*/true, &face);
  ASSERT_TRUE(taken.accepted) << taken.reason << " " << taken.detail;
  ASSERT_TRUE(face);
  EXPECT_TRUE(face->face.has_embedding);
  EXPECT_EQ(counter->chips_embedded, pipeline_->options().flip ? 2 : 1);
  EXPECT_GT(counting.last_times().embed, 0.0);
}

TEST_F(FaceServiceTest, SameImageTwiceCountsOnceAndIsNotReEnrolled) {
  auto photos = Photos("people/bbt/howard", 0, 1);
  auto r = Request("Howard", {photos[0], photos[0]});
  auto first = service_->Enroll(*pipeline_, r);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->accepted, 1);
  EXPECT_EQ(first->outcomes[1].reason, kAlreadyEnrolled);
  auto more = Request("", photos);
  more.employee_id = first->user.employee_id;
  EXPECT_EQ(service_->Enroll(*pipeline_, more).status().code(), Code::kBadInput);
}

TEST_F(FaceServiceTest, StoreFailureLeavesNoPersonAndNoGalleryEntry) {
  failing_->writes_left = 0;
  auto r = service_->Enroll(*pipeline_, Request("Leonard", Photos("people/bbt/leonard", 0, 3)));
  EXPECT_EQ(r.status().code(), Code::kIoError);
  EXPECT_EQ(service_->people(), 0u);
  EXPECT_EQ(*store_->CountUsers(), 0);
  failing_->writes_left = 1;
  EXPECT_TRUE(
      service_->Enroll(*pipeline_, Request("Leonard", Photos("people/bbt/leonard", 0, 3))).ok());
}

TEST_F(FaceServiceTest, OtherModelsEmbeddingsAreNotCompared) {
  StoredEmbedding foreign;
  foreign.model_id = "resnet:000000000000";
  ASSERT_TRUE(store_->CreateUser({"OLD1", "Old Model", ""}, {foreign}).ok());
  ASSERT_TRUE(service_->Reload().ok());
  EXPECT_EQ(service_->people(), 0u);
  EXPECT_EQ(*store_->UsersNeedingReenrollment(service_->model_id()),
            std::vector<std::string>{"OLD1"});
}

}  // namespace
}  // namespace faceatt
