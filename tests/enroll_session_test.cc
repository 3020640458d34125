// End-to-end tests of POST /guide and the webcam enrollment sessions on a real
// Server with the real models and photos from ../shared/faces.
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "faceatt/clock.h"
#include "faceatt/data_dir.h"
#include "faceatt/server.h"
#include "support/http_client.h"
#include "support/photos.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using testing::Body;
using testing::Face;
using testing::Form;
using testing::ReadFile;
using testing::TempDir;

using namespace testing::photos;  // NOLINT: the shared photos by name

const std::string kPerson = "lfw/Vladimir_Putin/Vladimir_Putin_000";  // + 1..8 + ".jpg"

std::string Photo(int i) { return kPerson + std::to_string(i) + ".jpg"; }

class WebGuideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::TestConfig();
    config_.paths.data_dir = dir_.path() + "/data";
    config_.server.port = 0;
    config_.logging.file = false;
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  void Start(ServerOptions options = {}) {
    std::filesystem::create_directories(config_.paths.data_dir);
    store_ = testing::OpenTestStore(DataDir(config_.paths.data_dir).database());
    ASSERT_TRUE(store_);
    auto s = Server::Create(config_, testing::RealModels(), store_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Start().ok());
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  json Guide(const std::string& photo,
             std::initializer_list<std::pair<std::string, std::string>> fields = {}) {
    auto r = Client().Post("/guide", Form(fields, {photo}));
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return Body(r);
  }
  // POSTs `image` (encoded as JPEG) as a raw image/jpeg body to `path`.
  httplib::Result PostJpeg(const std::string& path, const cv::Mat& image) {
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg);
    return Client().Post(path, std::string(jpeg.begin(), jpeg.end()), "image/jpeg");
  }

  TempDir dir_;
  Config config_;
  // A test's clock, if any: it must outlive the server's threads (the gallery
  // sync reads it), so it is the fixture's and TearDown stops the server first.
  std::unique_ptr<ManualClock> clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebGuideTest, GuidanceForRealPhotosAndNothingIsRecorded) {
  Start();
  auto one = Guide(Photo(1));
  EXPECT_EQ(one["faces"], 1);
  EXPECT_EQ(one["guidance"], "ready") << one.dump();
  ASSERT_TRUE(one["box"].is_object());
  EXPECT_GT(one["box"]["right"].get<int>(), one["box"]["left"].get<int>());
  ASSERT_TRUE(one["pose"].is_object()) << "68-point landmarks give a pose";
  for (const char* angle : {"yaw", "pitch", "roll"})
    EXPECT_LT(std::abs(one["pose"][angle].get<double>()), 45) << angle << one.dump();
  EXPECT_TRUE(one["quality"]["issue"].is_null());
  EXPECT_GT(one["quality"]["sharpness"].get<double>(), 0);

  auto none = Guide(kNoFace);
  EXPECT_EQ(none["faces"], 0);
  EXPECT_EQ(none["guidance"], "no_face");
  EXPECT_TRUE(none["box"].is_null());
  EXPECT_TRUE(none["pose"].is_null());
  auto many = Guide(kGroup);
  EXPECT_GT(many["faces"].get<int>(), 1);
  EXPECT_EQ(many["guidance"], "multi_face");

  // The same face small in a large frame: come closer; off the oval: into the oval.
  cv::Mat face = cv::imread(Face(Photo(1)));
  cv::Mat far(1500, 1500, CV_8UC3, cv::Scalar(128, 128, 128));
  face.copyTo(far(cv::Rect(625, 575, face.cols, face.rows)));
  auto closer = PostJpeg("/guide", far);
  ASSERT_TRUE(closer);
  EXPECT_EQ(Body(closer)["guidance"], "come_closer") << closer->body;
  // ...unless the page draws its oval there.
  auto there = Guide(Photo(1), {{"oval_cx", "0.5"}, {"oval_cy", "0.5"}});
  EXPECT_EQ(there["guidance"], "ready");
  auto moved_oval = Client().Post("/guide?oval_cx=0.2&oval_cy=0.2", Form({}, {Photo(1)}));
  ASSERT_TRUE(moved_oval);
  EXPECT_EQ(Body(moved_oval)["guidance"], "move_into_oval") << moved_oval->body;
  auto dark_frame = face * 0.08;
  auto dark = PostJpeg("/guide", dark_frame);
  ASSERT_TRUE(dark);
  const std::string dark_guidance = Body(dark)["guidance"];
  EXPECT_TRUE(dark_guidance == "too_dark" || dark_guidance == "no_face") << dark->body;

  // A mirrored face turns the other way: yaw and roll change sign, pitch stays.
  cv::Mat turned = cv::imread(Face(Photo(2)));
  cv::Mat mirrored;
  cv::flip(turned, mirrored, 1);
  auto a = Body(PostJpeg("/guide", turned));
  auto b = Body(PostJpeg("/guide", mirrored));
  ASSERT_TRUE(a["pose"].is_object() && b["pose"].is_object()) << a.dump() << b.dump();
  EXPECT_NEAR(a["pose"]["yaw"].get<double>(), -b["pose"]["yaw"].get<double>(), 4);
  EXPECT_NEAR(a["pose"]["roll"].get<double>(), -b["pose"]["roll"].get<double>(), 3);
  EXPECT_NEAR(a["pose"]["pitch"].get<double>(), b["pose"]["pitch"].get<double>(), 4);

  // A face that jumps between two frames of one session: hold still.
  cv::Mat left(300, 420, CV_8UC3, cv::Scalar(128, 128, 128)), right = left.clone();
  face.copyTo(left(cv::Rect(40, 25, face.cols, face.rows)));
  face.copyTo(right(cv::Rect(80, 25, face.cols, face.rows)));
  auto first = Client().Post(
      "/guide?session=s1&oval_cx=0.5&oval_cy=0.5&oval_rx=0.4&oval_ry=0.45",
      [&] {
        std::vector<uchar> j;
        cv::imencode(".jpg", left, j);
        return std::string(j.begin(), j.end());
      }(),
      "image/jpeg");
  ASSERT_TRUE(first);
  EXPECT_EQ(Body(first)["guidance"], "ready") << first->body;
  std::vector<uchar> j;
  cv::imencode(".jpg", right, j);
  auto second = Client().Post("/guide?session=s1&oval_cx=0.5&oval_cy=0.5&oval_rx=0.4&oval_ry=0.45",
                              std::string(j.begin(), j.end()), "image/jpeg");
  ASSERT_TRUE(second);
  EXPECT_EQ(Body(second)["guidance"], "hold_still") << second->body;

  // Bad input: 400, and no attendance row for any of it.
  auto bad_oval = Client().Post("/guide", Form({{"oval_rx", "2"}}, {Photo(1)}));
  ASSERT_TRUE(bad_oval);
  EXPECT_EQ(bad_oval->status, 400);
  auto no_image = Client().Post("/guide", "{}", "application/json");
  ASSERT_TRUE(no_image);
  EXPECT_EQ(no_image->status, 400);
  auto junk = Client().Post("/guide", "not a jpeg", "image/jpeg");
  ASSERT_TRUE(junk);
  EXPECT_GE(junk->status, 400);
  EXPECT_LT(junk->status, 500);
  AttendanceQuery all;
  all.limit = 0;
  EXPECT_EQ(store_->CountAttendance(all).value(), 0);
}

TEST_F(WebGuideTest, GuideNeedsTheDeviceRole) {
  config_.server.admin_keys = {"a"};
  config_.server.device_keys = {"d"};
  config_.server.reader_keys = {"r"};
  Start();
  auto c = Client();
  EXPECT_EQ(c.Post("/guide", Form({}, {Photo(1)}))->status, 401);
  c.set_default_headers({{"X-API-Key", "r"}});
  EXPECT_EQ(c.Post("/guide", Form({}, {Photo(1)}))->status, 403);
  c.set_default_headers({{"X-API-Key", "d"}});
  EXPECT_EQ(c.Post("/guide", Form({}, {Photo(1)}))->status, 200);
  EXPECT_EQ(c.Post("/enroll/sessions", R"({"name":"X"})", "application/json")->status, 403);
}

TEST_F(WebGuideTest, EnrollSessionFromFramesThenIdentified) {
  Start();
  auto c = Client();
  auto start = c.Post("/enroll/sessions",
                      R"({"name":"Vladimir Putin","groups":["Leaders"],"department":"Kremlin"})",
                      "application/json");
  ASSERT_TRUE(start);
  ASSERT_EQ(start->status, 201) << start->body;
  const json started = Body(start);
  const std::string id = started["session_id"];
  EXPECT_EQ(started["needed_poses"], json({"front", "left", "right", "up", "down"}));
  ASSERT_TRUE(ParseTimestamp(started["expires_at"]).ok());
  const std::string frames = "/enroll/sessions/" + id + "/frames";

  // Completing before any frame was accepted: 409.
  EXPECT_EQ(c.Post("/enroll/sessions/" + id + "/complete", "", "text/plain")->status, 409);
  // A frame without a face and one with several are refused with their reason.
  auto dog = Body(c.Post(frames, Form({}, {kNoFace})));
  EXPECT_EQ(dog["accepted"], false);
  EXPECT_EQ(dog["reason"], "no_face");
  auto group = Body(c.Post(frames, Form({}, {kGroup})));
  EXPECT_EQ(group["reason"], "multi_face");

  int accepted = 0;
  std::set<std::string> reasons;
  for (int i = 1; i <= 6; ++i) {
    auto r = c.Post(frames, Form({}, {Photo(i)}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json b = Body(r);
    EXPECT_EQ(b["progress"]["frames"], i + 2);
    if (b["accepted"] == true) {
      ++accepted;
      EXPECT_TRUE(b["reason"].is_null());
      EXPECT_TRUE(b["pose_bucket"].is_string());
    } else {
      reasons.insert(b["reason"].get<std::string>());
    }
    // Memory stays bounded: at most two frames per pose are kept.
    EXPECT_LE(b["progress"]["kept"].get<size_t>(), 2 * b["progress"]["poses_done"].size())
        << b.dump();
  }
  EXPECT_GE(accepted, 2) << "LFW photos of one man: most are usable frames";
  for (const auto& r : reasons)
    EXPECT_TRUE(r == "duplicate_pose" || r == "not_ready" || r == "bad_quality") << r;

  auto done = c.Post("/enroll/sessions/" + id + "/complete", "", "text/plain");
  ASSERT_TRUE(done);
  ASSERT_EQ(done->status, 201) << done->body;
  const json person = Body(done);
  const std::string employee_id = person["employee_id"];
  EXPECT_EQ(person["name"], "Vladimir Putin");
  EXPECT_GE(person["accepted"].get<int>(), 1);
  EXPECT_LE(person["accepted"].get<int>(), 5);
  EXPECT_EQ(person["groups"], json({"Leaders"}));
  auto groups = store_->ListGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ((*groups)["Leaders"], std::vector<std::string>{employee_id});
  // The session is over; the person is recognised in photos never sent.
  EXPECT_EQ(c.Post(frames, Form({}, {Photo(7)}))->status, 404);
  for (int i : {7, 8}) {
    auto who = Body(c.Post("/recognize", Form({}, {Photo(i)})));
    ASSERT_EQ(who["faces"].size(), 1u) << who.dump();
    EXPECT_EQ(who["faces"][0]["employee_id"], employee_id) << who.dump();
  }

  // A second session for the same face, as someone else: refused as /enroll refuses.
  auto again = Body(c.Post("/enroll/sessions", R"({"name":"Someone Else"})", "application/json"));
  const std::string id2 = again["session_id"];
  auto f = Body(c.Post("/enroll/sessions/" + id2 + "/frames", Form({}, {Photo(7)})));
  ASSERT_EQ(f["accepted"], true) << f.dump();
  auto dup = c.Post("/enroll/sessions/" + id2 + "/complete", "", "text/plain");
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->status, 409) << dup->body;
  EXPECT_EQ(Body(dup)["error"]["reason"], "face_enrolled_as_someone_else");
  // Cancel: 204, then the session is gone.
  EXPECT_EQ(c.Delete("/enroll/sessions/" + id2)->status, 204);
  EXPECT_EQ(c.Delete("/enroll/sessions/" + id2)->status, 404);
  EXPECT_EQ(c.Post("/enroll/sessions/" + id2 + "/complete", "", "text/plain")->status, 404);
}

TEST_F(WebGuideTest, EnrollSessionsExpireAndAreBounded) {
  clock_ = std::make_unique<ManualClock>(SystemClock().NowMillis());
  ManualClock& clock = *clock_;
  ServerOptions options;
  options.clock = &clock;
  Start(options);
  auto c = Client();
  EXPECT_EQ(c.Post("/enroll/sessions", R"({})", "application/json")->status, 400);
  EXPECT_EQ(c.Post("/enroll/sessions", R"({"name":"X","groups":"A"})", "application/json")->status,
            400);
  EXPECT_EQ(c.Post("/enroll/sessions/0123abcd/frames", Form({}, {Photo(1)}))->status, 404);
  EXPECT_EQ(c.Post("/enroll/sessions/not-hex/frames", Form({}, {Photo(1)}))->status, 404);
  std::vector<std::string> ids;
  for (int i = 0; i < 32; ++i) {
    auto r = c.Post("/enroll/sessions", R"({"name":"P"})", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << i << r->body;
    ids.push_back(Body(r)["session_id"]);
  }
  auto full = c.Post("/enroll/sessions", R"({"name":"P"})", "application/json");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503) << full->body;
  // Ten minutes on, every session has expired: 404, and there is room again.
  clock.Advance(10 * 60 * 1000);
  auto late = c.Post("/enroll/sessions/" + ids[0] + "/frames", Form({}, {Photo(1)}));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 404);
  EXPECT_EQ(Body(late)["error"]["code"], "not_found");
  EXPECT_EQ(c.Post("/enroll/sessions", R"({"name":"P"})", "application/json")->status, 201);
}

}  // namespace
}  // namespace faceatt
