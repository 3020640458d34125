// End-to-end tests of the HTTP server: a real Server on an ephemeral loopback
// port, real models and photos, a camera fed by a video file written here, and
// a local webhook receiver.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <thread>

#include "faceatt/data_dir.h"
#include "faceatt/export.h"
#include "faceatt/server.h"
#include "faceatt/webhook.h"
#include "support/http_client.h"
#include "support/photos.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using testing::Base64;
using testing::Body;
using testing::Face;
using testing::Form;
using testing::ReadFile;
using testing::RealModels;
using testing::TempDir;

using namespace testing::photos;  // NOLINT: the shared photos by name

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A photo scaled to fit in a w x h canvas at `at` (grey elsewhere).
cv::Mat Canvas(const std::string& photo, int w, int h, cv::Rect at) {
  cv::Mat src = cv::imread(Face(photo));
  cv::Mat canvas(h, w, CV_8UC3, cv::Scalar(128, 128, 128));
  const double s = std::min(at.width / double(src.cols), at.height / double(src.rows));
  cv::Mat scaled;
  cv::resize(src, scaled, cv::Size(), s, s, cv::INTER_AREA);
  scaled.copyTo(canvas(cv::Rect(at.x, at.y, scaled.cols, scaled.rows)));
  return canvas;
}

// A short MJPG .avi of one still frame (the camera source of the tests).
void WriteVideo(const std::string& path, const cv::Mat& frame, int frames, double fps) {
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, frame.size());
  ASSERT_TRUE(writer.isOpened()) << "OpenCV cannot write " << path;
  for (int i = 0; i < frames; ++i) writer.write(frame);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::TestConfig();
    config_.paths.data_dir = dir_.path() + "/data";
    config_.server.port = 0;
    config_.server.host = "127.0.0.1";
    config_.logging.file = false;
  }
  void TearDown() override { StopServer(); }

  void OpenStore() {
    std::filesystem::create_directories(config_.paths.data_dir);
    StoreOptions so;
    so.path = DataDir(config_.paths.data_dir).database();
    auto s = OpenSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // Serves `store` (default: store_, opened here).
  void StartServer(ServerOptions options = {}, Store* store = nullptr) {
    auto models = RealModels();
    ASSERT_TRUE(models);
    if (!store_) OpenStore();
    options.webhook.retry_base_ms = 200;
    options.webhook.poll_ms = 100;
    options.camera.backoff_start_ms = 100;
    auto s = Server::Create(config_, models, store ? store : store_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  void StopServer() {
    if (server_) server_->Shutdown();
    server_.reset();
  }
  httplib::Client Client(const std::string& key = "") {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    if (!key.empty()) c.set_default_headers({{"X-API-Key", key}});
    return c;
  }
  // Enrolls a person through the API; returns the employee id.
  std::string Enroll(const std::string& name, std::vector<std::string> images,
                     const std::string& key = "") {
    auto c = Client(key);
    auto r = c.Post("/enroll", Form({{"name", name}}, std::move(images)));
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    return Body(r).value("employee_id", "");
  }
  httplib::Result Identify(const std::string& photo, const std::string& type = "IN",
                           const std::string& device = "kiosk-1", const std::string& key = "") {
    auto c = Client(key);
    return c.Post("/identify", Form({{"type", type}, {"device_id", device}}, {photo}));
  }

  TempDir dir_;
  Config config_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<testing::FailingStore> failing_;  // wraps store_ when a test injects failures
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, HealthConfigAndOpenApi) {
  StartServer();
  auto c = Client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto hb = Body(h);
  EXPECT_EQ(hb["status"], "healthy");
  EXPECT_EQ(hb["database"], "connected");
  EXPECT_EQ(hb["camera"], "none");
  EXPECT_EQ(hb["users"], 0);
  auto cfg = Body(c.Get("/config"));
  EXPECT_GT(cfg["tolerance"].get<double>(), 0);
  EXPECT_EQ(cfg["webhook_enabled"], false);
  EXPECT_EQ(cfg.dump().find("key"), std::string::npos) << "no secrets in /config";
  auto api = Body(c.Get("/openapi.json"));
  for (const char* p : {"/health", "/config", "/enroll", "/enroll/json", "/identify", "/recognize",
                        "/attendance", "/users", "/users/{id}", "/users/{id}/thumbnail", "/events",
                        "/metrics", "/webhooks/deliveries", "/stream.mjpeg", "/capture"})
    EXPECT_TRUE(api["paths"].contains(p)) << p;
  // Forms as the handlers read them; public endpoints need no key.
  EXPECT_TRUE(api["paths"]["/enroll"]["post"]["requestBody"]["content"]["multipart/form-data"]
                 ["schema"]["properties"]
                     .contains("name"));
  EXPECT_TRUE(api["paths"]["/identify"]["post"]["requestBody"]["content"]["multipart/form-data"]
                 ["schema"]["properties"]
                     .contains("device_id"));
  EXPECT_EQ(api["paths"]["/health"]["get"]["security"], json::array());
  EXPECT_TRUE(api["paths"]["/users"]["get"]["responses"].contains("401"));
  auto missing = c.Get("/no/such/thing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Body(missing)["error"]["code"], "not_found");
}

TEST_F(ServerTest, EnrollAndIdentifyWithEveryUploadReason) {
  StartServer();
  const std::string obama = Enroll("Barack Obama", {kObamaA, kObamaB});
  ASSERT_FALSE(obama.empty());
  const std::string biden = Enroll("Joe Biden", {kBiden});
  ASSERT_FALSE(biden.empty());

  auto r = Identify(kObamaProbe, "IN");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto b = Body(r);
  EXPECT_EQ(b["success"], true) << r->body;
  EXPECT_EQ(b["employee_id"], obama);
  EXPECT_EQ(b["name"], "Barack Obama");
  EXPECT_EQ(b["type"], "IN");
  EXPECT_LE(b["distance"].get<double>(), b["decided_threshold"].get<double>());

  // The same person and type again within the cooldown: already_recorded.
  auto again = Body(Identify(kObamaProbe2, "IN", "kiosk-2"));
  EXPECT_EQ(again["success"], false);
  EXPECT_EQ(again["reason"], "already_recorded");
  EXPECT_TRUE(again.contains("first_ts"));

  auto unknown = Body(Identify(kStranger));
  EXPECT_EQ(unknown["reason"], "unknown");
  EXPECT_GT(unknown["min_distance"].get<double>(), 0);
  EXPECT_EQ(Body(Identify(kNoFace))["reason"], "no_face");
  EXPECT_EQ(Body(Identify(kGroup))["reason"], "multi_face");

  auto c = Client();
  // JSON with a base64 image (and a data URL) works as the upload does.
  auto j = c.Post(
      "/identify",
      json{{"type", "OUT"}, {"device_id", "phone"}, {"image", Base64(ReadFile(Face(kObamaProbe2)))}}
          .dump(),
      "application/json");
  ASSERT_TRUE(j);
  EXPECT_EQ(Body(j)["success"], true) << j->body;
  EXPECT_EQ(Body(j)["type"], "OUT");
  auto dataurl =
      c.Post("/recognize",
             json{{"image", "data:image/jpeg;base64," + Base64(ReadFile(Face(kBiden)))}}.dump(),
             "application/json");
  ASSERT_TRUE(dataurl);
  EXPECT_EQ(Body(dataurl)["faces"][0]["employee_id"], biden) << dataurl->body;

  // Server-camera mode without a camera.
  auto cam = c.Post("/identify", R"({"type":"IN"})", "application/json");
  ASSERT_TRUE(cam);
  EXPECT_EQ(cam->status, 503);
  EXPECT_EQ(Body(cam)["reason"], "camera_unavailable");
  // One error shape, with the old clients' fields beside it.
  EXPECT_EQ(Body(cam)["success"], false);
  EXPECT_EQ(Body(cam)["error"]["code"], "unavailable");
  EXPECT_EQ(Body(cam)["error"]["reason"], "camera_unavailable");

  // Every attempt left a row: success, already_recorded, unknown, no_face, multi_face, success.
  AttendanceQuery all;
  all.limit = 0;
  auto rows = store_->QueryAttendance(all);
  ASSERT_TRUE(rows.ok());
  std::multiset<std::string> reasons;
  for (const auto& row : *rows) reasons.insert(row.status + "/" + row.reason);
  EXPECT_EQ(reasons.count("success/"), 2u);
  EXPECT_EQ(reasons.count("failed/already_recorded"), 1u);
  EXPECT_EQ(reasons.count("unknown/unknown"), 1u);
  EXPECT_EQ(reasons.count("failed/no_face"), 1u);
  EXPECT_EQ(reasons.count("failed/multi_face"), 1u);

  // /attendance filters.
  auto att = Body(c.Get("/attendance?employee_id=" + obama + "&status=success"));
  EXPECT_EQ(att["count"], 2);
  auto page = Body(c.Get("/attendance?limit=2&offset=1"));
  EXPECT_EQ(page["records"].size(), 2u);
  EXPECT_EQ(page["count"], rows->size());
  auto bad = c.Get("/attendance?from=yesterday");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // /recognize names every face and records nothing.
  auto rec = Body(c.Post("/recognize", Form({}, {kGroup})));
  EXPECT_GE(rec["faces"].size(), 2u);
  EXPECT_EQ(store_->CountAttendance(all).value(), static_cast<int64_t>(rows->size()));
}

TEST_F(ServerTest, BadQualityAndInternalError) {
  config_.quality.min_face_px = 5000;  // every face is too small
  StartServer();
  auto r = Body(Identify(kObamaProbe));
  EXPECT_EQ(r["reason"], "bad_quality");
  EXPECT_EQ(r["detail"], "too_small");
  StopServer();

  config_.quality = QualityConfig{};
  failing_ = std::make_unique<testing::FailingStore>(store_.get());
  StartServer({}, failing_.get());
  const std::string obama = Enroll("Barack Obama", {kObamaA});
  // The database fails under the server: recording fails -> internal_error (500).
  failing_->writes_left = 0;
  auto broken = Identify(kObamaProbe);
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 500);
  EXPECT_EQ(Body(broken)["reason"], "internal_error");
}

TEST_F(ServerTest, EnrollRulesOverHttp) {
  StartServer();
  auto c = Client();
  // JSON with base64 and with a data URL.
  auto j = c.Post("/enroll/json",
                  json{{"name", "Barack Obama"},
                       {"employee_id", "B-1"},
                       {"image", "data:image/jpeg;base64," + Base64(ReadFile(Face(kObamaA)))}}
                      .dump(),
                  "application/json");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, 200) << j->body;
  EXPECT_EQ(Body(j)["employee_id"], "B-1");
  // The same face as someone else: refused (409).
  auto dup = c.Post("/enroll", Form({{"name", "Someone Else"}}, {kObamaB}));
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->status, 409) << dup->body;
  EXPECT_NE(Body(dup)["error"]["message"].get<std::string>().find("force=true"), std::string::npos);
  EXPECT_EQ(Body(dup)["error"]["reason"], "face_enrolled_as_someone_else");
  // ...unless forced; an upload is no file of the server's, so no source path is kept.
  auto forced = c.Post("/enroll", Form({{"name", "Someone Else"}, {"force", "true"}}, {kObamaB}));
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->status, 200) << forced->body;
  auto rows = store_->LoadEmbeddings("");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  for (const auto& e : *rows) EXPECT_EQ(e.source_path, "") << e.employee_id;
  EXPECT_EQ(c.Post("/enroll", Form({{"name", "X"}, {"force", "maybe"}}, {kObamaB}))->status, 400);
  // No face: 422 with the CLI's reason.
  auto noface = c.Post("/enroll", Form({{"name", "Dog"}}, {kNoFace}));
  ASSERT_TRUE(noface);
  EXPECT_EQ(noface->status, 422);
  EXPECT_EQ(Body(noface)["error"]["reason"], "no_face");
  EXPECT_EQ(Body(noface)["success"], false);
  EXPECT_EQ(Body(noface)["reason"], "no_face");
  EXPECT_EQ(Body(noface)["message"], Body(noface)["error"]["message"]);
  auto multi = c.Post("/enroll/json",
                      json{{"name", "Cast"}, {"image", Base64(ReadFile(Face(kGroup)))}}.dump(),
                      "application/json");
  ASSERT_TRUE(multi);
  EXPECT_EQ(Body(multi)["error"]["reason"], "multi_face");
  // Missing name, malformed JSON, bad base64, a form without an image, malformed multipart.
  auto noname = c.Post("/enroll", Form({}, {kBiden}));
  ASSERT_TRUE(noname);
  EXPECT_EQ(noname->status, 400);
  EXPECT_EQ(Body(noname)["error"]["code"], "invalid_argument");
  auto malformed = c.Post("/enroll/json", "{\"name\": ", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(Body(malformed)["error"]["code"], "invalid_argument");
  auto b64 =
      c.Post("/enroll/json", R"({"name":"X","image":"!!!not base64!!!"})", "application/json");
  ASSERT_TRUE(b64);
  EXPECT_EQ(b64->status, 400);
  auto plain = c.Post("/enroll", "name=x", "application/x-www-form-urlencoded");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 400);
  auto broken =
      c.Post("/enroll", "--zzz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nX\r\n--nope",
             "multipart/form-data; boundary=zzz");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400) << broken->body;
  EXPECT_TRUE(Body(broken).contains("error")) << broken->body;
  auto notimage = c.Post("/identify", Form({{"type", "IN"}}, {}));
  ASSERT_TRUE(notimage);
  EXPECT_EQ(notimage->status, 400);
  httplib::MultipartFormDataItems junk{{"image", "this is not an image", "x.jpg", "image/jpeg"}};
  auto junkr = c.Post("/identify", junk);
  ASSERT_TRUE(junkr);
  EXPECT_EQ(junkr->status, 422);
  EXPECT_EQ(Body(junkr)["error"]["code"], "bad_input");
  EXPECT_EQ(Body(junkr)["success"], false);
  EXPECT_EQ(Body(junkr)["reason"], "bad_input");
  auto badtype = c.Post("/identify", Form({{"type", "SIDEWAYS"}}, {kObamaProbe}));
  ASSERT_TRUE(badtype);
  EXPECT_EQ(badtype->status, 400);
}

TEST_F(ServerTest, UsersCrudAndThumbnailAndManualAttendance) {
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  auto c = Client();
  auto list = Body(c.Get("/users"));
  ASSERT_EQ(list["users"].size(), 1u);
  EXPECT_EQ(list["users"][0]["employee_id"], id);
  auto one = c.Get("/users/" + id);
  ASSERT_TRUE(one);
  EXPECT_EQ(Body(one)["embeddings"], 1);
  auto thumb = c.Get("/users/" + id + "/thumbnail");
  ASSERT_TRUE(thumb);
  ASSERT_EQ(thumb->status, 200);
  cv::Mat t =
      cv::imdecode(std::vector<uchar>(thumb->body.begin(), thumb->body.end()), cv::IMREAD_COLOR);
  EXPECT_FALSE(t.empty());
  auto patched =
      c.Patch("/users/" + id, R"({"name":"B. Obama","department":"Exec"})", "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(Body(patched)["name"], "B. Obama") << patched->body;
  EXPECT_EQ(Body(Identify(kObamaProbe))["name"], "B. Obama");
  auto badpatch = c.Patch("/users/" + id, R"({"salary":1})", "application/json");
  ASSERT_TRUE(badpatch);
  EXPECT_EQ(badpatch->status, 400);
  auto manual =
      c.Post("/attendance", json{{"employee_id", id}, {"type", "OUT"}}.dump(), "application/json");
  ASSERT_TRUE(manual);
  EXPECT_EQ(manual->status, 200) << manual->body;
  auto nobody = c.Post("/attendance", json{{"employee_id", "NOPE1"}, {"type", "IN"}}.dump(),
                       "application/json");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 404);
  EXPECT_EQ(Body(nobody)["success"], false);
  EXPECT_EQ(Body(nobody)["reason"], "not_found");
  EXPECT_EQ(Body(c.Get("/attendance?employee_id=" + id + "&type=OUT"))["count"], 1);
  auto del = c.Delete("/users/" + id);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  auto gone = c.Get("/users/" + id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(Body(gone)["error"]["code"], "not_found");
  EXPECT_EQ(Body(Identify(kObamaProbe2, "OUT"))["reason"], "unknown");
}

// Issue 14: a class's key identifies and reports only its class; a face of
// someone outside the group comes back unknown; another group is refused.
TEST_F(ServerTest, GroupsScopeIdentificationReportsAndKeys) {
  config_.server.admin_keys = {"admin-key"};
  config_.server.group_keys = {"3A=teacher-3a"};
  config_.attendance.device_groups = {"door-3b=3B"};
  StartServer();
  const std::string obama = Enroll("Barack Obama", {kObamaA, kObamaB}, "admin-key");
  const std::string biden =
      Enroll("Joe Biden", {kBiden, "people/face_recognition/biden/biden.jpg"}, "admin-key");
  auto admin = Client("admin-key");
  ASSERT_EQ(admin.Put("/groups/3A/members/" + obama, "", "application/json")->status, 200);
  ASSERT_EQ(admin.Put("/groups/3B/members/" + biden, "", "application/json")->status, 200);
  EXPECT_EQ(admin.Put("/groups/3A/members/NOBODY", "", "application/json")->status, 404);
  EXPECT_EQ(Body(admin.Get("/groups"))["groups"]["3A"], json::array({obama}));

  // Scoped /recognize: Obama is in 3A, so in 3B he is unknown.
  auto recognize = [&](const std::string& group, const std::string& key) {
    auto c = Client(key);
    return c.Post("/recognize?group=" + group, Form({}, {kObamaProbe}));
  };
  auto in_3a = recognize("3A", "admin-key");
  ASSERT_EQ(in_3a->status, 200) << in_3a->body;
  EXPECT_EQ(Body(in_3a)["faces"][0]["employee_id"], obama);
  auto in_3b = recognize("3B", "admin-key");
  ASSERT_EQ(in_3b->status, 200);
  EXPECT_EQ(Body(in_3b)["faces"][0]["employee_id"], nullptr);
  EXPECT_EQ(recognize("9Z", "admin-key")->status, 404);
  // A device bound to 3B records Obama as unknown; the teacher's key records him.
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN", "door-3b", "admin-key"))["reason"], "unknown");
  auto teacher_in = Identify(kObamaProbe, "IN", "kiosk-1", "teacher-3a");
  ASSERT_EQ(teacher_in->status, 200) << teacher_in->body;
  EXPECT_EQ(Body(teacher_in)["employee_id"], obama);

  // The teacher's key: its own group only, and only the group routes.
  auto teacher = Client("teacher-3a");
  EXPECT_EQ(recognize("3B", "teacher-3a")->status, 403);
  EXPECT_EQ(teacher.Get("/attendance/today?group=3B")->status, 403);
  EXPECT_EQ(teacher.Get("/users/" + biden + "/status")->status, 403);
  EXPECT_EQ(teacher.Get("/attendance")->status, 403);
  EXPECT_EQ(teacher.Get("/users")->status, 403);
  EXPECT_EQ(teacher.Post("/enroll/json", "{}", "application/json")->status, 403);
  auto board = teacher.Get("/attendance/today");
  ASSERT_EQ(board->status, 200) << board->body;
  ASSERT_EQ(Body(board)["people"].size(), 1u);
  EXPECT_EQ(Body(board)["people"][0]["employee_id"], obama);
  EXPECT_EQ(Body(board)["people"][0]["state"], "in");
  auto status = teacher.Get("/users/" + obama + "/status");
  ASSERT_EQ(status->status, 200);
  EXPECT_EQ(Body(status)["state"], "in");
  // The whole company's board (admin): Biden has not come.
  auto all = Body(admin.Get("/attendance/today"));
  EXPECT_EQ(all["counts"]["in"], 1);
  EXPECT_EQ(all["counts"]["absent"], 1);
  auto summary = admin.Get("/attendance/summary?group=3A");
  ASSERT_EQ(summary->status, 200) << summary->body;
  ASSERT_EQ(Body(summary)["days"].size(), 1u);
  EXPECT_EQ(Body(summary)["days"][0]["first_in"].is_string(), true);
  EXPECT_EQ(admin.Get("/attendance/summary?from=2026-12-01&to=2026-11-01")->status, 400);
}

// Issue 14: photos added to an existing person over HTTP must be theirs.
TEST_F(ServerTest, EnrollRefusesAnotherPersonsPhotoForAnExistingId) {
  StartServer();
  const std::string obama = Enroll("Barack Obama", {kObamaA, kObamaB});
  auto c = Client();
  auto wrong = c.Post("/enroll", Form({{"employee_id", obama}}, {kBiden}));
  ASSERT_EQ(wrong->status, 409) << wrong->body;
  EXPECT_EQ(Body(wrong)["error"]["reason"], "face_does_not_match_person");
  EXPECT_NE(Body(wrong)["error"]["message"].get<std::string>().find("distance"), std::string::npos);
  auto renamed = c.Post("/enroll", Form({{"employee_id", obama}, {"name", "Joe"}}, {kObamaProbe}));
  ASSERT_EQ(renamed->status, 400) << renamed->body;
  EXPECT_EQ(Body(renamed)["error"]["reason"], "name_mismatch");
  EXPECT_EQ(Body(c.Get("/users/" + obama))["embeddings"], 2);
  auto own = c.Post("/enroll", Form({{"employee_id", obama}}, {kObamaProbe}));
  ASSERT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(Body(own)["embeddings"], 3);
}

// Issue 16: one person's photos, listed, shown and removed one by one.
TEST_F(ServerTest, OnePersonsPhotosAreListedShownAndRemoved) {
  config_.server.admin_keys = {"admin-key"};
  config_.server.reader_keys = {"reader-key-789"};
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA, kObamaB}, "admin-key");
  auto admin = Client("admin-key");
  auto reader = Client("reader-key-789");
  auto list = Body(reader.Get("/users/" + id + "/photos"));
  ASSERT_EQ(list["photos"].size(), 2u) << list.dump();
  const int64_t first = list["photos"][0]["id"], second = list["photos"][1]["id"];
  EXPECT_TRUE(list["photos"][0]["has_image"].get<bool>());
  EXPECT_FALSE(list["photos"][0]["model"].get<std::string>().empty());
  auto image = reader.Get("/users/" + id + "/photos/" + std::to_string(first));
  ASSERT_TRUE(image);
  ASSERT_EQ(image->status, 200);
  cv::Mat m =
      cv::imdecode(std::vector<uchar>(image->body.begin(), image->body.end()), cv::IMREAD_COLOR);
  EXPECT_FALSE(m.empty());
  EXPECT_EQ(reader.Get("/users/" + id + "/photos/999999")->status, 404);
  EXPECT_EQ(reader.Get("/users/NOPE1/photos")->status, 404);
  // Readers see; only admins remove. The second goes; the first (kObamaA) stays.
  EXPECT_EQ(reader.Delete("/users/" + id + "/photos/" + std::to_string(second))->status, 403);
  auto del = admin.Delete("/users/" + id + "/photos/" + std::to_string(second));
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(Body(del)["deleted"], second);
  EXPECT_EQ(admin.Delete("/users/" + id + "/photos/" + std::to_string(second))->status, 404);
  EXPECT_EQ(admin.Get("/users/" + id + "/photos/" + std::to_string(second))->status, 404);
  auto left = Body(reader.Get("/users/" + id + "/photos"));
  ASSERT_EQ(left["photos"].size(), 1u);
  EXPECT_EQ(left["photos"][0]["id"], first);
  auto last = admin.Delete("/users/" + id + "/photos/" + std::to_string(first));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 409) << last->body;
  EXPECT_EQ(Body(reader.Get("/users/" + id))["embeddings"], 1);
  // The remaining photo still identifies them.
  auto who = Body(Identify(kObamaProbe, "IN", "kiosk-1", "admin-key"));
  EXPECT_EQ(who["employee_id"], id) << who.dump();
}

TEST_F(ServerTest, ApiKeyRoles) {
  config_.server.admin_keys = {"admin-key-123"};
  config_.server.device_keys = {"device-key-456"};
  config_.server.reader_keys = {"reader-key-789"};
  StartServer();
  auto status = [&](const std::string& method, const std::string& path, const httplib::Headers& h) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    httplib::Result r =
        method == "GET" ? c.Get(path, h) : c.Post(path, h, "{}", "application/json");
    return r ? r->status : -1;
  };
  const httplib::Headers none, admin{{"Authorization", "Bearer admin-key-123"}},
      device{{"X-API-Key", "device-key-456"}}, reader{{"Authorization", "Bearer reader-key-789"}},
      wrong{{"X-API-Key", "device-key-457"}};
  EXPECT_EQ(status("GET", "/health", none), 200);
  EXPECT_EQ(status("GET", "/users", none), 401);
  EXPECT_EQ(status("GET", "/users", wrong), 401);
  EXPECT_EQ(status("GET", "/users", reader), 200);
  EXPECT_EQ(status("GET", "/users", admin), 200);
  EXPECT_EQ(status("GET", "/users", device), 403);
  EXPECT_EQ(status("GET", "/attendance", reader), 200);
  EXPECT_EQ(status("POST", "/enroll/json", reader), 403);
  EXPECT_EQ(status("POST", "/enroll/json", device), 403);
  EXPECT_EQ(status("POST", "/enroll/json", admin), 400);  // allowed in; the body lacks a name
  EXPECT_EQ(status("POST", "/attendance", reader), 403);
  EXPECT_EQ(status("POST", "/identify", reader), 403);
  EXPECT_EQ(status("POST", "/identify", device), 503);  // allowed in; camera mode without a camera
  EXPECT_EQ(status("GET", "/capture", device), 503);    // allowed in; no camera
  EXPECT_EQ(status("GET", "/capture", reader), 403);
  EXPECT_EQ(status("GET", "/webhooks/deliveries", reader), 403);
  EXPECT_EQ(status("GET", "/webhooks/deliveries", admin), 200);
  // A real identify with the device key.
  const std::string id = Enroll("Barack Obama", {kObamaA}, "admin-key-123");
  auto r = Identify(kObamaProbe, "IN", "kiosk", "device-key-456");
  ASSERT_TRUE(r);
  EXPECT_EQ(Body(r)["employee_id"], id);
}

// Issue 14 over HTTP: POST /attendance at its real time (with its offset),
// PATCH and void, each audited with the key; refused corrections (reader key,
// no reason, voided row, bad time) change nothing; a deleted person's rows
// keep their name.
TEST_F(ServerTest, AttendanceCorrectionsAreAuditedWithTheKey) {
  config_.server.admin_keys = {"admin-key-123"};
  config_.server.reader_keys = {"reader-key-789"};
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA}, "admin-key-123");
  auto admin = Client("admin-key-123");
  auto reader = Client("reader-key-789");
  auto added = admin.Post("/attendance",
                          json{{"employee_id", id},
                               {"type", "OUT"},
                               {"ts", "2026-11-20T18:00:00+09:00"},
                               {"reason", "forgot to check out"},
                               {"by", "Ms. Lee"}}
                              .dump(),
                          "application/json");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200) << added->body;  // the old attendance API's code
  const json row = Body(added);
  const std::string row_id = std::to_string(row["id"].get<int64_t>());
  EXPECT_EQ(row["ts_server"], "2026-11-20T09:00:00.000Z");
  EXPECT_EQ(row["added_by_admin"], true);
  EXPECT_EQ(row["name_at_event"], "Barack Obama");
  ASSERT_EQ(row["corrections"].size(), 1u);
  const std::string by = row["corrections"][0]["by"];
  EXPECT_EQ(by.rfind("key:admin:", 0), 0u) << by;
  EXPECT_NE(by.find("(Ms. Lee)"), std::string::npos) << by;
  EXPECT_EQ(by.find("admin-key-123"), std::string::npos) << "the key itself is never stored";

  // Refused: nothing changes.
  const std::string before = Body(reader.Get("/attendance/" + row_id)).dump();
  auto status = [&](httplib::Result r) { return r ? r->status : -1; };
  EXPECT_EQ(status(reader.Patch("/attendance/" + row_id, R"({"type":"IN","reason":"x"})",
                                "application/json")),
            403);
  EXPECT_EQ(status(admin.Patch("/attendance/" + row_id, R"({"type":"IN"})", "application/json")),
            400);
  EXPECT_EQ(status(admin.Patch("/attendance/" + row_id, R"({"ts":"soon","reason":"x"})",
                               "application/json")),
            400);
  EXPECT_EQ(status(admin.Post("/attendance/99999/void", R"({"reason":"x"})", "application/json")),
            404);
  EXPECT_EQ(Body(reader.Get("/attendance/" + row_id)).dump(), before);

  auto amended = admin.Patch("/attendance/" + row_id,
                             R"({"ts":"2026-11-20T18:30:00+09:00","reason":"left later"})",
                             "application/json");
  ASSERT_TRUE(amended);
  ASSERT_EQ(amended->status, 200) << amended->body;
  EXPECT_EQ(Body(amended)["ts_server"], "2026-11-20T09:30:00.000Z");
  EXPECT_EQ(Body(amended)["corrected"], true);
  auto voided = admin.Post("/attendance/" + row_id + "/void", R"({"reason":"wrong person"})",
                           "application/json");
  ASSERT_TRUE(voided);
  ASSERT_EQ(voided->status, 200) << voided->body;
  EXPECT_EQ(Body(voided)["voided"], true);
  ASSERT_EQ(Body(voided)["corrections"].size(), 3u);
  EXPECT_EQ(Body(voided)["corrections"][2]["action"], "void");
  EXPECT_EQ(status(admin.Post("/attendance/" + row_id + "/void", R"({"reason":"again"})",
                              "application/json")),
            409);
  EXPECT_EQ(Body(reader.Get("/attendance?employee_id=" + id))["count"], 0);  // voided: left out

  // The audit rows are in the database.
  auto trail = store_->AttendanceAudit(std::stoll(row_id));
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 3u);
  EXPECT_EQ((*trail)[1].reason, "left later");

  // Deleting the person keeps the name on their rows.
  auto kept = admin.Post("/attendance", json{{"employee_id", id}, {"type", "IN"}}.dump(),
                         "application/json");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->status, 200) << kept->body;
  ASSERT_EQ(status(admin.Delete("/users/" + id)), 200);
  auto after = Body(reader.Get("/attendance?employee_id=" + id));
  ASSERT_EQ(after["records"].size(), 1u);
  EXPECT_EQ(after["records"][0]["name_at_event"], "Barack Obama");
  EXPECT_TRUE(after["records"][0]["current_name"].is_null());
  // Its id is retired: re-enrolling with it is refused unless asked.
  auto again =
      admin.Post("/enroll", Form({{"name", "Brand New Hire"}, {"employee_id", id}}, {kObamaProbe}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
}

// Issue 14 evidence: with attendance.keep_photos each success or unknown
// attempt keeps its face crop under data/attempts/; only an admin fetches it,
// and a row's image_ref never reaches outside that folder.
TEST_F(ServerTest, KeptPhotosAreServedToAdminsOnlyFromTheAttemptsFolder) {
  config_.server.admin_keys = {"admin-key-123"};
  config_.server.reader_keys = {"reader-key-789"};
  config_.server.device_keys = {"device-key-456"};
  config_.attendance.keep_photos = true;
  StartServer();
  Enroll("Barack Obama", {kObamaA}, "admin-key-123");
  auto known = Identify(kObamaProbe, "IN", "kiosk-1", "device-key-456");
  ASSERT_TRUE(known);
  ASSERT_EQ(known->status, 200) << known->body;
  ASSERT_EQ(Body(known)["success"], true) << known->body;
  const int64_t id = Body(known)["record_id"];
  auto row = store_->GetAttendance(id);
  ASSERT_TRUE(row.ok());
  ASSERT_EQ(row->image_ref.rfind("attempts/", 0), 0u) << row->image_ref;
  const std::string file = DataDir(config_.paths.data_dir).root() + "/" + row->image_ref;
  const cv::Mat kept = cv::imread(file);
  ASSERT_FALSE(kept.empty()) << file;
  EXPECT_GT(kept.cols, 40);

  auto admin = Client("admin-key-123");
  auto photo = admin.Get("/attendance/" + std::to_string(id) + "/photo");
  ASSERT_TRUE(photo);
  ASSERT_EQ(photo->status, 200) << photo->body;
  EXPECT_EQ(photo->get_header_value("Content-Type"), "image/jpeg");
  const std::vector<uchar> bytes(photo->body.begin(), photo->body.end());
  EXPECT_EQ(cv::imdecode(bytes, cv::IMREAD_COLOR).size(), kept.size());
  auto reader = Client("reader-key-789").Get("/attendance/" + std::to_string(id) + "/photo");
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->status, 403);

  // An unknown face keeps its crop too.
  auto stranger = Identify(kStranger, "IN", "kiosk-1", "device-key-456");
  ASSERT_TRUE(stranger);
  ASSERT_EQ(Body(stranger)["reason"], "unknown") << stranger->body;
  auto unknown = store_->GetAttendance(Body(stranger)["record_id"].get<int64_t>());
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(std::filesystem::is_regular_file(DataDir(config_.paths.data_dir).root() + "/" +
                                               unknown->image_ref))
      << unknown->image_ref;

  // Rows naming files outside attempts/ (imported from another system, or
  // forged) are 404, as is a row with no photo and a photo since swept.
  for (const std::string ref :
       {"../../etc/passwd", "/etc/passwd", "faceatt.db", "attempts/../faceatt.db", ""}) {
    auto r = testing::AttendanceRow(nullptr, "", kStatusUnknown, 1764000000000);
    r.image_ref = ref;
    auto foreign = store_->AddAttendance(r);
    ASSERT_TRUE(foreign.ok());
    auto got = admin.Get("/attendance/" + std::to_string(*foreign) + "/photo");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 404) << ref << ": " << got->body.substr(0, 200);
  }
  std::filesystem::remove(file);
  auto gone = admin.Get("/attendance/" + std::to_string(id) + "/photo");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_NE(gone->body.find("photo no longer kept"), std::string::npos) << gone->body;
}

TEST_F(ServerTest, PhotosAreNotKeptByDefaultAndOldOnesSweptAtStart) {
  // Photos kept while keep_photos was on still go after the retention period.
  const std::string day = config_.paths.data_dir + "/attempts/2026-01-01";
  std::filesystem::create_directories(day);
  testing::WriteFile(day + "/old.jpg", testing::ReadFile(testing::Face(kObamaA)));
  testing::WriteFile(day + "/new.jpg", testing::ReadFile(testing::Face(kObamaA)));
  const auto long_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 91);
  std::filesystem::last_write_time(day + "/old.jpg", long_ago);
  StartServer();
  for (int i = 0; i < 100 && std::filesystem::exists(day + "/old.jpg"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(std::filesystem::exists(day + "/old.jpg"));
  EXPECT_TRUE(std::filesystem::exists(day + "/new.jpg"));
  std::filesystem::remove_all(config_.paths.data_dir + "/attempts");
  Enroll("Barack Obama", {kObamaA});
  auto known = Identify(kObamaProbe);
  ASSERT_TRUE(known);
  ASSERT_EQ(Body(known)["success"], true) << known->body;
  auto row = store_->GetAttendance(Body(known)["record_id"].get<int64_t>());
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->image_ref, "");
  EXPECT_FALSE(std::filesystem::exists(DataDir(config_.paths.data_dir).root() + "/attempts"));
}

TEST_F(ServerTest, NoKeysMeansLoopbackOnly) {
  config_.server.host = "0.0.0.0";
  StartServer();
  EXPECT_EQ(server_->host(), "127.0.0.1");
  EXPECT_EQ(Client().Get("/health")->status, 200);
  // A page on another host name that resolves to 127.0.0.1 (DNS rebinding) is refused.
  const std::string rebound =
      testing::RawHttp(server_->port(),
                       "GET /users HTTP/1.1\r\nHost: attacker.example:8000\r\n"
                       "Connection: close\r\n\r\n");
  EXPECT_EQ(rebound.rfind("HTTP/1.1 403", 0), 0u) << rebound.substr(0, 200);
  const std::string local = testing::RawHttp(server_->port(),
                                             "GET /users HTTP/1.1\r\nHost: localhost:8000\r\n"
                                             "Connection: close\r\n\r\n");
  EXPECT_EQ(local.rfind("HTTP/1.1 200", 0), 0u) << local.substr(0, 200);
}

TEST_F(ServerTest, UploadLimitAndCors) {
  config_.server.max_upload_bytes = 100'000;
  config_.server.cors_origins = {"https://kiosk.example"};
  StartServer();
  const std::string answer = testing::RawHttp(
      server_->port(),
      "POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 5000000\r\nConnection: close\r\n\r\n{\"image\":\"");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"code\":\"too_large\""), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"success\":false"), std::string::npos) << answer;
  // Under the limit is fine.
  auto c = Client();
  EXPECT_EQ(c.Post("/identify", json{{"image", Base64(std::string(1000, 'x'))}}.dump(),
                   "application/json")
                ->status,
            422);

  auto allowed = c.Get("/health", {{"Origin", "https://kiosk.example"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->get_header_value("Access-Control-Allow-Origin"), "https://kiosk.example");
  auto other = c.Get("/health", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
  // A form post from another site needs no preflight; it is refused all the same.
  httplib::MultipartFormDataItems form = {{"name", "Mallory", "", ""}};
  auto forged = c.Post("/enroll", {{"Origin", "https://evil.example"}}, form);
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_EQ(*store_->CountUsers(), 0);
  auto pre = c.Options("/identify", {{"Origin", "https://kiosk.example"},
                                     {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  auto badpre = c.Options("/identify", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(badpre);
  EXPECT_EQ(badpre->status, 403);
}

// A chunked body's head: request line and headers, then `bytes` of JSON in
// 64 KB chunks, unterminated unless `finish`.
std::string ChunkedRequest(const std::string& path, const std::string& headers, size_t bytes,
                           bool finish) {
  std::string out = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
                    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(65536, ' ');
  for (size_t sent = 0; sent < bytes; sent += chunk.size()) out += "10000\r\n" + chunk + "\r\n";
  if (finish) out += "0\r\n\r\n";
  return out;
}

// Issue 12 item 3: chunked and compressed bodies count against
// server.max_upload_bytes (after inflation), and the key is checked before a
// body is read at all.
TEST_F(ServerTest, ChunkedAndCompressedBodiesAreBoundedAfterTheKeyCheck) {
  config_.server.max_upload_bytes = 200'000;
  config_.server.device_keys = {"device-key-456"};
  StartServer();
  const int port = server_->port();
  // No key: 401 after the headers, the 300 KB that follow are never read.
  std::string anon = testing::RawHttp(port, ChunkedRequest("/identify", "", 300'000, false));
  EXPECT_EQ(anon.rfind("HTTP/1.1 401", 0), 0u) << anon.substr(0, 300);
  // With the key: over the limit is 413 too_large, not 400 "malformed JSON".
  std::string big = testing::RawHttp(
      port, ChunkedRequest("/identify", "X-API-Key: device-key-456\r\n", 600'000, true));
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big.substr(0, 300);
  EXPECT_NE(big.find("\"code\":\"too_large\""), std::string::npos) << big;
  // Under the limit, a chunked body is read and parsed as usual.
  std::string small = testing::RawHttp(
      port, ChunkedRequest("/identify", "X-API-Key: device-key-456\r\n", 60'000, true));
  EXPECT_EQ(small.rfind("HTTP/1.1 400", 0), 0u) << small.substr(0, 300);  // blanks, not JSON
  // A gzip body of ~5 KB inflating to 5 MB: 413, whatever its Content-Length.
  const std::string zeros = dir_.path() + "/zeros.gz";
  ASSERT_EQ(std::system(("head -c 5000000 /dev/zero | gzip -c > " + zeros).c_str()), 0);
  const std::string gz = ReadFile(zeros);
  ASSERT_LT(gz.size(), 200'000u);
  auto c = Client("device-key-456");
  auto inflated = c.Post("/identify", {{"Content-Encoding", "gzip"}}, gz, "application/json");
  ASSERT_TRUE(inflated);
  EXPECT_EQ(inflated->status, 413) << inflated->body;
  // Without the key it is refused before being inflated.
  auto anon_gz = Client().Post("/identify", {{"Content-Encoding", "gzip"}}, gz, "application/json");
  ASSERT_TRUE(anon_gz);
  EXPECT_EQ(anon_gz->status, 401);
  // A body on an unknown route or a GET is not read either.
  std::string nowhere = testing::RawHttp(
      port, ChunkedRequest("/nowhere", "X-API-Key: device-key-456\r\n", 300'000, false));
  EXPECT_EQ(nowhere.rfind("HTTP/1.1 404", 0), 0u) << nowhere.substr(0, 300);
  // The server is still up and a normal identify works.
  EXPECT_EQ(Client().Get("/health")->status, 200);
}

// Issue 12 item 8: a Content-Length that is not one number is refused.
TEST_F(ServerTest, ConflictingOrNonNumericContentLengthIs400) {
  StartServer();
  const int port = server_->port();
  for (const std::string length_headers :
       {"Content-Length: abc\r\n", "Content-Length: 5\r\nContent-Length: 7\r\n",
        "Content-Length: -1\r\n", "Content-Length: 5, 7\r\n"}) {
    const std::string answer = testing::RawHttp(
        port, "POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                  length_headers + "Connection: close\r\n\r\n{\"a\":1}");
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << length_headers << answer.substr(0, 300);
  }
  // Two equal ones are the same length, stated twice.
  const std::string same = testing::RawHttp(
      port,
      "POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}");
  EXPECT_EQ(same.rfind("HTTP/1.1 503", 0), 0u) << same.substr(0, 300);  // camera mode, no camera
}

// Issue 12 item 5: with no keys, only loopback Host values.
TEST_F(ServerTest, NoKeysAcceptsOnlyLoopbackHostNames) {
  StartServer();
  for (const std::string host : {"localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:8000",
                                 "127.1.2.3:80", "[::1]", "[::1]:8000", "LOCALHOST"}) {
    const std::string a = testing::RawHttp(
        server_->port(), "GET /users HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(a.rfind("HTTP/1.1 200", 0), 0u) << host << ": " << a.substr(0, 200);
  }
  for (const std::string host :
       {"127.attacker.example", "127.0.0.1.nip.io", "127.0.0.1.nip.io:8000", "128.0.0.1",
        "127.0.0.256", "127.0.0", "localhost.attacker.example", "[::2]", "localhost:80x", ""}) {
    const std::string a = testing::RawHttp(
        server_->port(), "GET /users HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(a.rfind("HTTP/1.1 403", 0), 0u) << host << ": " << a.substr(0, 200);
  }
}

// Issue 12 item 4: text that is not UTF-8 is refused before anything is
// written, and rows written before the fix still read back (as U+FFFD).
TEST_F(ServerTest, TextThatIsNotUtf8IsRefusedAndOldRowsStillRead) {
  StartServer();
  auto c = Client();
  const std::string bad = "\xff\xfe";
  for (const char* field : {"device_id", "ts_client", "type"}) {
    auto items = Form({{"type", "IN"}, {"device_id", "kiosk"}}, {kObamaProbe});
    items.push_back({field, bad, "", ""});
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const auto& i) { return i.name == field && i.content != bad; }),
                items.end());
    auto r = c.Post("/identify", items);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << field << ": " << r->body;
  }
  auto json_bad = c.Post("/identify", "{\"device_id\":\"" + bad + "\"}", "application/json");
  ASSERT_TRUE(json_bad);
  EXPECT_EQ(json_bad->status, 400);
  auto attendance = Body(c.Get("/attendance"));
  EXPECT_EQ(attendance["count"], 0) << attendance.dump();
  // An enroll whose file name is not UTF-8 creates nobody.
  httplib::MultipartFormDataItems enroll = {
      {"name", "Barack Obama", "", ""},
      {"image", ReadFile(Face(kObamaA)), "obama" + bad + ".jpg", "image/jpeg"}};
  auto e = c.Post("/enroll", enroll);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400) << e->body;
  auto named = c.Post("/enroll", Form({{"name", "Obama" + bad}}, {kObamaA}));
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 400) << named->body;
  EXPECT_EQ(*store_->CountUsers(), 0);
  auto path = c.Get("/users/%ff%fe");
  ASSERT_TRUE(path);
  EXPECT_TRUE(path->status == 400 || path->status == 404) << path->status;
  // A row stored before the fix: every reader still answers, with U+FFFD.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DataDir(config_.paths.data_dir).database().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO attendance (type, status, device_id, ts_server, ts_client) "
                         "VALUES ('IN', 'unknown', CAST(X'FFFE' AS TEXT), "
                         "'2026-11-21T08:30:00.123Z', CAST(X'6162FF' AS TEXT))",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto rows = c.Get("/attendance");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->status, 200) << rows->body;
  auto row = Body(rows)["records"][0];
  EXPECT_EQ(row["device_id"], "\xEF\xBF\xBD\xEF\xBF\xBD") << row.dump();
}

// Issue 12 item 6: a client sending its headers a byte at a time is dropped at
// server.request_timeout_seconds (each read is well inside the read timeout),
// and one address may not hold more than max_connections_per_address.
TEST_F(ServerTest, SlowClientsAreDroppedAndConnectionsPerAddressBounded) {
  config_.server.request_timeout_seconds = 2;
  config_.server.read_timeout_seconds = 10;
  config_.server.max_connections_per_address = 3;
  StartServer();
  const int port = server_->port();
  const int slow = testing::ConnectLoopback(port);
  ASSERT_GE(slow, 0);
  const std::string head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaa";
  const auto t0 = std::chrono::steady_clock::now();
  bool dropped = false;
  for (size_t i = 0; i < head.size() && !dropped; ++i) {
    if (::send(slow, &head[i], 1, MSG_NOSIGNAL) != 1) dropped = true;
    char c;  // the server closed it: recv says so at once
    if (!dropped && ::recv(slow, &c, 1, MSG_DONTWAIT) == 0) dropped = true;
    if (!dropped) Sleep(500);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(slow);
  EXPECT_TRUE(dropped) << "a request trickling in for " << seconds << " s was not dropped";
  EXPECT_LT(seconds, 8.0);  // well before the read timeout could have ended it (never hit)
  // Three connections from one address are served; the fourth is refused with 429.
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(testing::ConnectLoopback(port));
    ASSERT_GE(held.back(), 0);
    ::send(held.back(), "GET /hea", 8, MSG_NOSIGNAL);
  }
  Sleep(200);
  const std::string refused =
      testing::RawHttp(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(refused.rfind("HTTP/1.1 429", 0), 0u) << refused.substr(0, 200);
  for (int fd : held) ::close(fd);
  Sleep(300);
  EXPECT_EQ(Client().Get("/health")->status, 200);
}

// Requests that go wrong in the ways a kiosk's or an admin's can: each answer
// says what happened, and deactivated people are no longer recognised.
TEST_F(ServerTest, MalformedIdentifyAutoTypeAndDeactivatedPeople) {
  StartServer();
  auto c = Client();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  auto bad_json = c.Post("/identify", "{\"type\": ", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(Body(bad_json)["error"]["code"], "invalid_argument");
  auto wrong_type = c.Post("/identify", json{{"type", 5}}.dump(), "application/json");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400) << wrong_type->body;
  auto lunch = c.Post("/identify", Form({{"type", "LUNCH"}}, {kObamaProbe}));
  ASSERT_TRUE(lunch);
  EXPECT_EQ(lunch->status, 400);
  EXPECT_NE(Body(lunch)["error"]["message"].get<std::string>().find("IN, OUT or auto"),
            std::string::npos);
  // auto: IN, then (still in front of the camera) already recorded, not an OUT.
  auto first = Body(Identify(kObamaProbe, "auto"));
  EXPECT_EQ(first["success"], true) << first.dump();
  EXPECT_EQ(first["type"], "IN");
  auto second = Body(Identify(kObamaProbe2, "auto"));
  EXPECT_EQ(second["success"], false) << second.dump();
  EXPECT_EQ(second["reason"], "already_recorded");
  EXPECT_EQ(second["type"], "IN");
  // Deactivated: unknown from now on; reactivated: known again.
  auto off = c.Patch("/users/" + id, json{{"active", false}}.dump(), "application/json");
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 200) << off->body;
  EXPECT_EQ(Body(Identify(kObamaProbe, "OUT"))["reason"], "unknown");
  c.Patch("/users/" + id, json{{"active", true}}.dump(), "application/json");
  EXPECT_EQ(Body(Identify(kObamaProbe, "OUT"))["employee_id"], id);
}

// Every pipeline busy and no room to wait: 503 at once, not a hung kiosk.
TEST_F(ServerTest, FullQueueAnswers503) {
  config_.server.workers = 1;
  config_.server.queue_length = 0;
  StartServer();
  Enroll("Barack Obama", {kObamaA});
  constexpr int kClients = 4;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      auto r = Client().Post("/recognize", Form({}, {kObamaProbe2}));
      statuses[i] = r ? r->status : -1;
    });
  for (auto& t : threads) t.join();
  int ok = 0, busy = 0;
  for (int s : statuses) {
    ok += s == 200;
    busy += s == 503;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1) << "four 1080p photos at once on one pipeline with no queue";
  EXPECT_EQ(ok + busy, kClients);
}

TEST_F(ServerTest, ConcurrentIdentifyRecordsOnce) {
  config_.server.workers = 2;
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  constexpr int kClients = 6;
  std::vector<json> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      auto r = Identify(i % 2 ? kObamaProbe : kObamaProbe2, "IN", "kiosk-" + std::to_string(i));
      if (r) answers[i] = Body(r);
    });
  for (auto& t : threads) t.join();
  int recorded = 0, already = 0;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.is_object()) << "a request got no answer";
    EXPECT_EQ(a["employee_id"], id) << a.dump();
    if (a["success"] == true) ++recorded;
    if (a.value("reason", "") == "already_recorded") ++already;
  }
  EXPECT_EQ(recorded, 1);
  EXPECT_EQ(already, kClients - 1);
  auto metrics = Client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(
                "faceatt_http_requests_total{route=\"/identify\",method=\"POST\",code=\"200\"} 6"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("faceatt_recognitions_total{outcome=\"already_recorded\"} 5"),
            std::string::npos);
  for (const char* stage : {"decode", "analyze", "detect", "landmarks", "embed", "record"})
    EXPECT_NE(metrics->body.find("faceatt_stage_duration_seconds_count{stage=\"" +
                                 std::string(stage) + "\"} 6"),
              std::string::npos)
        << stage << "\n"
        << metrics->body;
  EXPECT_NE(metrics->body.find("le=\"0.005\""), std::string::npos);
  // GET /metrics itself counted with its real status (httplib's -1 until it sends).
  auto again = Client().Get("/metrics");
  EXPECT_NE(again->body.find("route=\"/metrics\",method=\"GET\",code=\"200\"} 1"),
            std::string::npos)
      << again->body;
}

TEST_F(ServerTest, ServerSentEvents) {
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  std::atomic<bool> connected{false}, got{false};
  std::string seen;
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    c.Get("/events", [&](const char* data, size_t n) {
      seen.append(data, n);
      if (seen.find(": connected") != std::string::npos) connected = true;
      if (seen.find("event: attendance") != std::string::npos) {
        got = true;
        return false;
      }
      return seen.size() < 100'000;
    });
  });
  for (int i = 0; i < 300 && !connected; ++i) Sleep(20);
  ASSERT_TRUE(connected);
  EXPECT_EQ(Body(Identify(kObamaProbe))["success"], true);
  reader.join();
  EXPECT_TRUE(got);
  EXPECT_NE(seen.find(id), std::string::npos);
}

// ---- Camera and MJPEG ----

class CameraServerTest : public ServerTest {
 protected:
  void UseVideo(const cv::Mat& frame) {
    const std::string path = dir_ / "camera.avi";
    WriteVideo(path, frame, 20, 10);  // 2 s, then the file ends and the camera reconnects
    config_.camera.source = path;
    config_.camera.fps = 10;
  }
  // Waits (bounded) until /capture answers 200.
  bool WaitForCamera() {
    auto c = Client();
    for (int i = 0; i < 200; ++i) {
      auto r = c.Get("/capture");
      if (r && r->status == 200) return true;
      Sleep(50);
    }
    return false;
  }
  double Metric(const std::string& name) {
    auto r = Client().Get("/metrics");
    if (!r) return -1;
    const auto at = r->body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(r->body.substr(at + name.size() + 2));
  }
};

TEST_F(CameraServerTest, CameraModeIdentifyCaptureAndStream) {
  UseVideo(Canvas(kObamaProbe2, 640, 480, cv::Rect(120, 40, 400, 400)));
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA, kObamaB});
  ASSERT_TRUE(WaitForCamera());
  auto c = Client();
  auto cap = c.Get("/capture");
  cv::Mat frame =
      cv::imdecode(std::vector<uchar>(cap->body.begin(), cap->body.end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(frame.empty());
  EXPECT_EQ(frame.cols, 640);
  EXPECT_EQ(frame.rows, 480);
  auto preview = c.Get("/capture?preview=1");
  ASSERT_TRUE(preview);
  cv::Mat annotated = cv::imdecode(std::vector<uchar>(preview->body.begin(), preview->body.end()),
                                   cv::IMREAD_COLOR);
  ASSERT_FALSE(annotated.empty());
  cv::Mat diff;
  cv::absdiff(frame, annotated, diff);
  EXPECT_GT(cv::sum(diff)[0] + cv::sum(diff)[1] + cv::sum(diff)[2], 0)
      << "the overlay draws something";

  auto r = c.Post("/identify", R"({"type":"IN","ts_client":"2026-11-22T08:00:00+09:00"})",
                  "application/json");
  ASSERT_TRUE(r);
  auto b = Body(r);
  EXPECT_EQ(b["success"], true) << r->body;
  EXPECT_EQ(b["employee_id"], id);
  AttendanceQuery q;
  auto rows = store_->QueryAttendance(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->front().device_id, config_.camera.device_id);

  // MJPEG: two parts, each a decodable JPEG of the frame size.
  std::string stream;
  httplib::Client sc("127.0.0.1", server_->port());
  sc.set_read_timeout(30, 0);
  auto sr = sc.Get(
      "/stream.mjpeg",
      [&](const httplib::Response& res) {
        EXPECT_NE(
            res.get_header_value("Content-Type").find("multipart/x-mixed-replace; boundary=frame"),
            std::string::npos);
        return true;
      },
      [&](const char* data, size_t n) {
        stream.append(data, n);
        size_t first = stream.find("--frame");
        return !(first != std::string::npos &&
                 stream.find("--frame", first + 7) != std::string::npos) &&
               stream.size() < 5'000'000;
      });
  const size_t body_at = stream.find("\r\n\r\n");
  const size_t next = stream.find("\r\n--frame", body_at);
  ASSERT_NE(body_at, std::string::npos);
  ASSERT_NE(next, std::string::npos);
  cv::Mat part = cv::imdecode(
      std::vector<uchar>(stream.begin() + body_at + 4, stream.begin() + next), cv::IMREAD_COLOR);
  ASSERT_FALSE(part.empty());
  EXPECT_EQ(part.cols, 640);

  // The 2 s file ends; the camera re-opens it and frames keep coming.
  double reconnects = 0;
  for (int i = 0; i < 300 && reconnects < 1; ++i) {
    Sleep(50);
    reconnects = Metric("faceatt_camera_reconnects_total");
  }
  EXPECT_GE(reconnects, 1);
  const double frames_before = Metric("faceatt_camera_frames_total");
  double frames_after = frames_before;
  for (int i = 0; i < 200 && frames_after <= frames_before; ++i) {
    Sleep(50);
    frames_after = Metric("faceatt_camera_frames_total");
  }
  EXPECT_GT(frames_after, frames_before);
  EXPECT_TRUE(WaitForCamera());
}

TEST_F(CameraServerTest, FaceOutsideTheGuideIsOutOfArea) {
  UseVideo(Canvas(kObamaProbe2, 640, 480, cv::Rect(0, 0, 220, 220)));
  StartServer();
  Enroll("Barack Obama", {kObamaA});
  ASSERT_TRUE(WaitForCamera());
  auto r = Client().Post("/identify", R"({"type":"IN"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(Body(r)["reason"], "out_of_area") << r->body;
}

// ---- Webhooks ----

// A local receiver that answers `fail_first` requests with 500.
class Receiver {
 public:
  explicit Receiver(int fail_first = 0, int port = 0) : fail_first_(fail_first) {
    svr_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++calls_;
      if (calls_ <= fail_first_) {
        res.status = 500;
        return;
      }
      bodies_.push_back(req.body);
      signatures_.push_back(req.get_header_value(kSignatureHeader));
      auth_.push_back(req.get_header_value("Authorization"));
      res.status = 204;
    });
    if (port == 0)
      port_ = svr_.bind_to_any_port("127.0.0.1");
    else
      port_ = svr_.bind_to_port("127.0.0.1", port) ? port : -1;
    if (port_ <= 0) return;
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() before listen has begun would be lost and join() would hang.
    for (int i = 0; i < 2000 && !svr_.is_running(); ++i) Sleep(1);
  }
  ~Receiver() { Stop(); }
  void Stop() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> signatures() {
    std::lock_guard lock(mu_);
    return signatures_;
  }
  std::vector<std::string> auth() {
    std::lock_guard lock(mu_);
    return auth_;
  }
  bool WaitForBodies(size_t n) {
    for (int i = 0; i < 400; ++i) {
      if (bodies().size() >= n) return true;
      Sleep(50);
    }
    return false;
  }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
  int fail_first_;
  std::mutex mu_;
  int calls_ = 0;
  std::vector<std::string> bodies_, signatures_, auth_;
};

// HMAC-SHA256 computed here, independently of the server's code.
std::string HmacHex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  char hex[3];
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

TEST_F(ServerTest, WebhookIsSignedRetriedAndCooledDown) {
  Receiver receiver(/*fail_first=*/2);
  ASSERT_GT(receiver.port(), 0);
  config_.webhook.urls = {receiver.url()};
  config_.webhook.secret = "s3cret";
  config_.webhook.bearer_token = "tok-1";
  config_.webhook.cooldown_seconds = 3600;
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN"))["success"], true);
  ASSERT_TRUE(receiver.WaitForBodies(1));
  EXPECT_EQ(receiver.calls(), 3) << "two 500s, then delivered";
  const std::string body = receiver.bodies()[0];
  EXPECT_EQ(receiver.signatures()[0], "sha256=" + HmacHex("s3cret", body));
  EXPECT_NE(receiver.signatures()[0], "sha256=" + HmacHex("other", body));
  EXPECT_EQ(receiver.auth()[0], "Bearer tok-1");
  auto payload = json::parse(body);
  EXPECT_EQ(payload["event"], "attendance.recognized");
  EXPECT_EQ(payload["employee_id"], id);
  EXPECT_EQ(payload["type"], "IN");
  EXPECT_EQ(payload["device_id"], "kiosk-1");
  EXPECT_TRUE(payload["box"].is_object());
  EXPECT_TRUE(payload["frame_info"].is_object());

  // An OUT is recorded but the person's webhook cooldown suppresses the event.
  EXPECT_EQ(Body(Identify(kObamaProbe2, "OUT"))["success"], true);
  auto deliveries = Body(Client().Get("/webhooks/deliveries"));
  ASSERT_EQ(deliveries["deliveries"].size(), 1u) << deliveries.dump();
  EXPECT_EQ(deliveries["deliveries"][0]["status"], "delivered");
  EXPECT_EQ(deliveries["deliveries"][0]["attempts"], 3);
  // An unknown face is its own event.
  Identify(kStranger);
  ASSERT_TRUE(receiver.WaitForBodies(2));
  EXPECT_EQ(json::parse(receiver.bodies()[1])["event"], "attendance.unknown");
}

// A receiver that never accepts: the delivery is retried max_attempts times,
// then marked failed, and the outbox says so.
TEST_F(ServerTest, WebhookGivesUpAfterMaxAttempts) {
  Receiver receiver(/*fail_first=*/1000);
  ASSERT_GT(receiver.port(), 0);
  config_.webhook.urls = {receiver.url()};
  config_.webhook.max_attempts = 3;
  StartServer();
  Enroll("Barack Obama", {kObamaA});
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN"))["success"], true);
  json deliveries;
  for (int i = 0; i < 100; ++i) {
    deliveries = Body(Client().Get("/webhooks/deliveries"));
    if (deliveries["counts"]["failed"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(deliveries["counts"]["failed"], 1) << deliveries.dump();
  EXPECT_EQ(deliveries["deliveries"][0]["attempts"], 3);
  EXPECT_EQ(deliveries["deliveries"][0]["last_http_status"], 500);
  EXPECT_EQ(receiver.calls(), 3);
}

TEST_F(ServerTest, WebhookQueuedWhileReceiverDownIsDeliveredAfterRestart) {
  int port = 0;
  {
    Receiver probe;  // finds a free port, then goes away: nothing listens there
    port = probe.port();
  }
  ASSERT_GT(port, 0);
  config_.webhook.urls = {"http://127.0.0.1:" + std::to_string(port) + "/hook"};
  config_.webhook.secret = "k";
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN"))["success"], true);
  // At least one failed attempt, then stop the server (flush fails too) and close the database.
  for (int i = 0; i < 200; ++i) {
    auto rows = store_->ListOutbox("", 10);
    if (rows.ok() && !rows->empty() && rows->front().attempts > 0) break;
    Sleep(50);
  }
  StopServer();
  auto pending = store_->ListOutbox(kOutboxPending, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_GE(pending->front().attempts, 1);
  EXPECT_FALSE(pending->front().last_error.empty());
  store_.reset();

  Receiver receiver(0, port);
  ASSERT_EQ(receiver.port(), port);
  OpenStore();
  StartServer();
  ASSERT_TRUE(receiver.WaitForBodies(1));
  EXPECT_EQ(json::parse(receiver.bodies()[0])["employee_id"], id);
  for (int i = 0; i < 100 && store_->CountOutbox(kOutboxDelivered).value() < 1; ++i) Sleep(50);
  EXPECT_EQ(store_->CountOutbox(kOutboxDelivered).value(), 1);
  EXPECT_EQ(store_->CountOutbox(kOutboxPending).value(), 0);
}

// The admin page's CSV download: exactly the rows GET /attendance's filters
// select (every page), refused filters refused the same way.
TEST_F(ServerTest, AttendanceCsvHoldsTheFilteredRows) {
  StartServer();
  const std::string id = Enroll("Barack Obama", {kObamaA});
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN"))["success"], true);
  EXPECT_EQ(Body(Identify(kStranger, "IN"))["reason"], "unknown");
  auto c = Client();
  ASSERT_EQ(
      c.Post("/attendance", json{{"employee_id", id}, {"type", "OUT"}}.dump(), "application/json")
          ->status,
      200);
  for (const std::string filter : {"", "status=success", "status=unknown", "type=OUT"}) {
    auto listed = c.Get("/attendance?" + filter);
    auto csv = c.Get("/attendance.csv?" + filter);
    ASSERT_TRUE(listed && csv);
    ASSERT_EQ(csv->status, 200) << csv->body;
    EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
    auto rows = ParseCsv(csv->body);
    ASSERT_TRUE(rows.ok());
    std::set<std::string> csv_ids, listed_ids;
    for (size_t i = 1; i < rows->size(); ++i) csv_ids.insert((*rows)[i][0]);
    const json list = Body(listed);
    for (const auto& r : list["records"]) listed_ids.insert(std::to_string(r["id"].get<int64_t>()));
    EXPECT_EQ(csv_ids, listed_ids) << filter;
    EXPECT_EQ(csv_ids.size(), list["count"].get<size_t>()) << filter;
  }
  EXPECT_EQ(c.Get("/attendance.csv?status=lost")->status, 400);
  EXPECT_EQ(c.Get("/attendance.csv?from=yesterday")->status, 400);
}

// The admin page's retry: a delivery that gave up is due again, and
// delivered this time; a delivered one cannot be retried (409).
TEST_F(ServerTest, WebhookDeliveryRetriedByHand) {
  Receiver receiver(/*fail_first=*/2);
  ASSERT_GT(receiver.port(), 0);
  config_.webhook.urls = {receiver.url()};
  config_.webhook.max_attempts = 2;
  StartServer();
  Enroll("Barack Obama", {kObamaA});
  EXPECT_EQ(Body(Identify(kObamaProbe, "IN"))["success"], true);
  for (int i = 0; i < 100 && store_->CountOutbox(kOutboxFailed).value() < 1; ++i) Sleep(50);
  auto failed = store_->ListOutbox(kOutboxFailed, 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  const std::string retry = "/webhooks/deliveries/" + std::to_string(failed->front().id) + "/retry";
  auto c = Client();
  auto r = c.Post(retry, "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["status"], "pending");
  ASSERT_TRUE(receiver.WaitForBodies(1)) << "the third call is accepted";
  for (int i = 0; i < 100 && store_->CountOutbox(kOutboxDelivered).value() < 1; ++i) Sleep(50);
  EXPECT_EQ(store_->CountOutbox(kOutboxDelivered).value(), 1);
  auto again = c.Post(retry, "", "text/plain");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  auto unknown = c.Post("/webhooks/deliveries/987654/retry", "", "text/plain");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  // The failed attempts were logged at warn: the admin page's recent errors show them.
  auto errors = Body(c.Get("/errors/recent"));
  bool logged = false;
  for (const auto& e : errors["errors"])
    logged |= e["source"] == "log" &&
              e["message"].get<std::string>().find("webhook") != std::string::npos;
  EXPECT_TRUE(logged) << errors.dump();
}

// 5xx answers are kept for the admin page, newest last, at most 50.
TEST_F(ServerTest, RecentErrorsKeepServerFailures) {
  OpenStore();
  failing_ = std::make_unique<testing::FailingStore>(store_.get());
  StartServer({}, failing_.get());
  Enroll("Barack Obama", {kObamaA});
  failing_->writes_left = 0;
  for (int i = 0; i < 52; ++i) {
    auto broken = Identify(kObamaProbe);
    ASSERT_TRUE(broken);
    ASSERT_EQ(broken->status, 500);
  }
  auto c = Client();
  auto r = c.Get("/errors/recent");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json errors = Body(r)["errors"];
  EXPECT_EQ(errors.size(), 50u);
  const json last = errors.back();
  EXPECT_EQ(last["source"], "POST /identify");
  EXPECT_EQ(last["code"], 500);
  EXPECT_NE(last["message"].get<std::string>().find("injected write failure"), std::string::npos)
      << last.dump();
  EXPECT_TRUE(ParseTimestamp(last["ts"]).ok());
}

}  // namespace
}  // namespace faceatt
