#include "faceatt/bulk_enroll.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/testing.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

TEST(ParseLabel, IdNameOrBoth) {
  auto id = ParseLabel("EMP001");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->employee_id, "EMP001");
  EXPECT_EQ(id->name, "");
  auto both = ParseLabel("EMP001_Hong Gildong");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->employee_id, "EMP001");
  EXPECT_EQ(both->name, "Hong Gildong");
  auto name = ParseLabel("George_W_Bush");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->employee_id, "");
  EXPECT_EQ(name->name, "George W Bush");
  auto korean = ParseLabel("홍길동");
  ASSERT_TRUE(korean.ok());
  EXPECT_EQ(korean->name, "홍길동");
}

TEST(ParseLabel, RefusesPathTricks) {
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "../etc", "a/b", "a\\b", ".hidden", std::string("a\0b", 3), "tab\tname"})
    EXPECT_EQ(ParseLabel(bad).status().code(), Code::kInvalidArgument) << bad;
}

TEST(PeopleCsv, OverridesAndRefusesUnsafeRows) {
  testing::TempDir t;
  testing::WriteFile(t / "people.csv",
                     "label,employee_id,name,department\r\n"
                     "alice,E1,\"Lee, Alice\",R&D\r\n"
                     "bob,,Bob \"B\" Kim,\r\n");
  auto rows = ReadPeopleCsv(t / "people.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at("alice").employee_id, "E1");
  EXPECT_EQ(rows->at("alice").name, "Lee, Alice");
  EXPECT_EQ(rows->at("alice").department, "R&D");
  EXPECT_EQ(rows->at("bob").employee_id, "");
  testing::WriteFile(t / "bad.csv", "label,employee_id,name\n/etc,E1,x\n");
  EXPECT_EQ(ReadPeopleCsv(t / "bad.csv").status().code(), Code::kBadInput);
  testing::WriteFile(t / "badid.csv", "label,employee_id,name\nok,E 1,x\n");
  EXPECT_EQ(ReadPeopleCsv(t / "badid.csv").status().code(), Code::kBadInput);
  testing::WriteFile(t / "nolabel.csv", "who,name\nx,y\n");
  EXPECT_EQ(ReadPeopleCsv(t / "nolabel.csv").status().code(), Code::kBadInput);
}

// A store and a face service in t/data, and options for t/kf with two jobs.
struct Enrolling {
  Enrolling(const Config& config, std::shared_ptr<const Models> models, const testing::TempDir& t)
      : dir(t.path()) {
    StoreOptions so;
    so.path = t / "data/faceatt.db";
    fs::create_directories(t / "data");
    store = std::move(OpenSqliteStore(so)).value();
    service =
        std::move(FaceService::Open(config, models, store.get(), DataDir(t / "data"))).value();
  }
  BulkOptions Options() const {
    BulkOptions o;
    o.dir = dir + "/kf";
    o.jobs = 2;
    return o;
  }
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<FaceService> service;
};

// The library end to end: a dry run writes nothing, a real run stores whole
// people, --update re-embeds a changed image in place.
TEST(BulkEnroll, DryRunThenRunThenUpdate) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  testing::TempDir t;
  fs::create_directories(t / "kf");
  for (const char* who : {"Tony_Blair", "Serena_Williams"})
    fs::copy(testing::Face(std::string("lfw/") + who), t / (std::string("kf/") + who),
             fs::copy_options::recursive);
  testing::WriteFile(t / "kf/people.csv",
                     "label,employee_id,name,department,group\r\n"
                     "Tony_Blair,,Tony Blair,,Class 3A; Staff\r\n");
  Config config = testing::TestConfig();
  Enrolling e(config, models, t);
  auto& store = e.store;
  auto& service = e.service;
  BulkOptions o = e.Options();
  o.dry_run = true;
  int calls = 0;
  o.progress = [&](const BulkProgress& p) {
    ++calls;
    EXPECT_LE(p.done, p.total);
  };
  auto dry = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->people_created, 2);
  EXPECT_EQ(*store->CountUsers(), 0);
  EXPECT_TRUE(store->ListGroups()->empty());
  EXPECT_FALSE(fs::exists(t / "data/faces"));
  EXPECT_GT(calls, 0);

  o.dry_run = false;
  auto run = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->people_created, 2);
  EXPECT_EQ(*store->CountEmbeddings(), run->images_enrolled);
  EXPECT_EQ(run->images_enrolled + run->images_rejected, run->images_total);
  EXPECT_TRUE(run->warnings.empty());
  EXPECT_EQ(service->people(), 2u);
  // people.csv's group column put Tony Blair, and only him, in both groups.
  auto groups = *store->ListGroups();
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups["Class 3A"].size(), 1u);
  EXPECT_EQ(store->GetUser(groups["Class 3A"][0])->name, "Tony Blair");
  EXPECT_EQ(groups["Staff"], groups["Class 3A"]);

  // Replace one photo with another of the same person: without --update it is
  // reported as changed, with --update re-embedded in place.
  const auto blair = testing::FilesIn(t / "kf/Tony_Blair");
  const std::string other = testing::FilesIn(testing::Face("lfw/Tony_Blair")).back();
  fs::remove(blair[0]);
  cv::Mat img = *ReadImageFile(other, {});
  cv::Mat flipped;
  cv::flip(img, flipped, 1);
  testing::WriteFile(blair[0], *EncodeJpeg(flipped, 95));
  const int64_t embeddings = *store->CountEmbeddings();
  auto changed = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->images_enrolled, 0);
  int changed_seen = 0;
  for (const auto& i : changed->images) changed_seen += i.reason == kChanged;
  EXPECT_EQ(changed_seen, 1);
  o.update = true;
  auto updated = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->images_updated, 1);
  EXPECT_EQ(updated->people_updated, 1);
  EXPECT_EQ(*store->CountEmbeddings(), embeddings);
  auto again = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->images_updated + again->images_enrolled, 0);

  // Report: CSV by extension, JSON otherwise.
  ASSERT_TRUE(WriteBulkReport(*run, t / "r.csv").ok());
  EXPECT_EQ(
      testing::ReadFile(t / "r.csv").rfind("label,path,employee_id,outcome,reason,detail\r\n", 0),
      0u);
  ASSERT_TRUE(WriteBulkReport(*run, t / "r.json").ok());
  EXPECT_NE(testing::ReadFile(t / "r.json").find("\"images_enrolled\""), std::string::npos);
}

// Issue 12: a symlink loop among a person's photos threw out of the folder scan
// and ended the whole run (exit 10); a folder starting with '.' was skipped
// silently where docs/admin.md promises a bad_label report.
TEST(BulkEnroll, SymlinkLoopIsOnePhotosBadInputAndDotFolderIsBadLabel) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  testing::TempDir t;
  fs::create_directories(t / "kf");
  fs::copy(testing::Face("lfw/Tony_Blair"), t / "kf/Tony_Blair", fs::copy_options::recursive);
  const int photos = static_cast<int>(testing::FilesIn(t / "kf/Tony_Blair").size());
  fs::create_symlink("loop.jpg", t / "kf/Tony_Blair/loop.jpg");
  fs::create_directories(t / "kf/.hidden");
  fs::copy(testing::FilesIn(testing::Face("lfw/Serena_Williams")).front(), t / "kf/.hidden/a.jpg");
  Config config = testing::TestConfig();
  Enrolling e(config, models, t);
  auto run = BulkEnroll(config, *models, *e.service, *e.store, e.Options());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->people_created, 1);
  EXPECT_EQ(run->images_total, photos + 2);
  int loops = 0, hidden = 0;
  for (const auto& i : run->images) {
    if (i.path.find("loop.jpg") != std::string::npos) {
      ++loops;
      EXPECT_EQ(i.outcome, kBulkRejected);
      EXPECT_EQ(i.reason, kBadInput);
    }
    if (i.label == ".hidden") {
      ++hidden;
      EXPECT_EQ(i.outcome, kBulkRejected);
      EXPECT_EQ(i.reason, kBadLabel);
    }
  }
  EXPECT_EQ(loops, 1);
  EXPECT_EQ(hidden, 1);
  EXPECT_GT(run->images_enrolled, 0);
}

// The warnings an admin needs: two folders of one person, a folder holding
// someone else's photo; and --largest for photos with people in the background.
TEST(BulkEnroll, WarnsOfSamePersonAndOutliersAndTakesTheLargestFaceOnRequest) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  testing::TempDir t;
  const auto blair = testing::FilesIn(testing::Face("lfw/Tony_Blair"));
  const auto serena = testing::FilesIn(testing::Face("lfw/Serena_Williams"));
  ASSERT_GE(blair.size(), 7u);
  ASSERT_GE(serena.size(), 3u);
  for (const char* d : {"kf/Tony_Blair", "kf/Blair_T", "kf/Serena_Williams", "kf/Pair"})
    fs::create_directories(t / d);
  for (int i = 0; i < 3; ++i) {
    fs::copy(blair[i], t / "kf/Tony_Blair");
    fs::copy(blair[i + 3], t / "kf/Blair_T");
    fs::copy(serena[i], t / "kf/Serena_Williams");
  }
  fs::copy(blair[6], t / "kf/Serena_Williams");  // not Serena
  fs::copy(testing::Face("group/face_recognition__two_people.jpg"), t / "kf/Pair");
  Config config = testing::TestConfig();
  config.enroll.check_duplicates = false;
  Enrolling e(config, models, t);
  auto& store = e.store;
  auto& service = e.service;
  BulkOptions o = e.Options();
  auto run = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  int same = 0, outliers = 0;
  for (const auto& w : run->warnings) {
    if (w.kind == "same_person") {
      ++same;
      EXPECT_NE(w.message.find("Tony_Blair"), std::string::npos) << w.message;
      EXPECT_NE(w.message.find("Blair_T"), std::string::npos) << w.message;
    }
    if (w.kind == "outlier") {
      ++outliers;
      EXPECT_NE(w.message.find("folder Serena_Williams"), std::string::npos) << w.message;
      EXPECT_NE(w.message.find(fs::path(blair[6]).filename().string()), std::string::npos)
          << w.message;
    }
  }
  EXPECT_EQ(same, 1);
  EXPECT_EQ(outliers, 1);
  int multi = 0;
  for (const auto& i : run->images) multi += i.label == "Pair" && i.reason == kMultiFace;
  EXPECT_EQ(multi, 1);
  o.largest = true;
  auto largest = BulkEnroll(config, *models, *service, *store, o);
  ASSERT_TRUE(largest.ok()) << largest.status().ToString();
  EXPECT_EQ(largest->images_enrolled, 1);
  EXPECT_EQ(largest->people_created, 1);
}

}  // namespace
}  // namespace faceatt
