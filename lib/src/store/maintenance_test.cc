#include "faceatt/maintenance.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;
using testing::Face;
using testing::TempDir;

const std::string kPhoto = "people/face_recognition/obama/obama.jpg";

class DeletePersonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(data_.database());
    ASSERT_TRUE(store_);
  }
  // An embedding whose thumbnail and crop are real files in the data folder
  // (copies of a real photo); the source photo stays where it is.
  StoredEmbedding WithFiles(const std::string& who, int n) {
    StoredEmbedding e;
    e.model_id = "m:1";
    e.vector.fill(0.1f * n);
    e.source_path = Face(kPhoto);
    e.thumbnail_path = "thumbnails/" + who + "/" + std::to_string(n) + ".jpg";
    e.crop_path = "faces/" + who + "/" + std::to_string(n) + ".jpg";
    for (const auto* p : {&e.thumbnail_path, &e.crop_path}) {
      fs::create_directories(fs::path(data_.Absolute(*p)).parent_path());
      fs::copy_file(Face(kPhoto), data_.Absolute(*p));
    }
    return e;
  }
  int FilesUnder(const std::string& dir) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      n += it->is_regular_file();
    return n;
  }

  TempDir dir_;
  DataDir data_{dir_.path()};
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(DeletePersonTest, RemovesThePersonAndOnlyTheirFiles) {
  ASSERT_TRUE(store_->CreateUser({"A", "Ann", ""}, {WithFiles("A", 1), WithFiles("A", 2)}).ok());
  ASSERT_TRUE(store_->CreateUser({"B", "Bob", ""}, {WithFiles("B", 1)}).ok());
  ASSERT_TRUE(store_->AddAttendance(testing::AttendanceRow("A")).ok());
  ASSERT_TRUE(store_->AddAttendance(testing::AttendanceRow("B")).ok());
  ASSERT_EQ(FilesUnder(data_.thumbnails()) + FilesUnder(data_.faces()), 6);

  auto gone = DeletePerson(*store_, data_, "A", false);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->embeddings, 2);
  EXPECT_EQ(gone->files_removed, 4);
  EXPECT_EQ(store_->GetUser("A").status().code(), Code::kNotFound);
  EXPECT_EQ(FilesUnder(data_.thumbnails() + "/A") + FilesUnder(data_.faces() + "/A"), 0);
  EXPECT_EQ(FilesUnder(data_.thumbnails() + "/B") + FilesUnder(data_.faces() + "/B"), 2);
  EXPECT_TRUE(fs::exists(Face(kPhoto)));       // never the source photo
  EXPECT_EQ(*store_->CountAttendance({}), 2);  // attendance kept

  EXPECT_EQ(DeletePerson(*store_, data_, "A", false).status().code(), Code::kNotFound);

  // Purging takes the attendance rows too; files already gone are not an error.
  fs::remove(data_.Absolute("thumbnails/B/1.jpg"));
  gone = DeletePerson(*store_, data_, "B", true);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->embeddings, 1);
  EXPECT_EQ(gone->files_removed, 1);
  EXPECT_EQ(*store_->CountAttendance({}), 1);
  EXPECT_EQ(*store_->CountEmbeddings(), 0);
}

TEST_F(DeletePersonTest, AFailedDeleteKeepsThePersonAndTheirFiles) {
  ASSERT_TRUE(store_->CreateUser({"A", "Ann", ""}, {WithFiles("A", 1)}).ok());
  testing::FailingStore failing(store_.get());
  failing.writes_left = 0;
  auto gone = DeletePerson(failing, data_, "A", true);
  EXPECT_EQ(gone.status().code(), Code::kIoError);
  EXPECT_TRUE(store_->GetUser("A").ok());
  EXPECT_EQ(store_->ListEmbeddings("A")->size(), 1u);
  EXPECT_EQ(FilesUnder(data_.thumbnails()) + FilesUnder(data_.faces()), 2);
}

}  // namespace
}  // namespace faceatt
