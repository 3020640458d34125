// Issue 15, part 1: the clients of the services faceatt replaces work
// unchanged. Each request here is one those clients send, written from their
// contracts (docs/migrate.md, "Clients"), against the real `faceatt serve`
// binary with real photos; each field they read is checked.
//   - the Korean attendance API: /health, /enroll, /identify (upload and
//     camera mode), GET and POST /attendance, forms, empty query parameters;
//   - the ML microservice (server.compat = "ml"): /enroll, /recognize,
//     /recognize/realtime with its webhook dispatch, /health, /config;
//   - server.trusted_networks: a keyless kiosk on a trusted network.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

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
using testing::ServeProcess;

using namespace testing::photos;  // NOLINT: the shared photos by name

const std::string kRose = "people/face_recognition/rose_leslie/img1.jpg";  // never enrolled
const std::string kKitA = "people/face_recognition/kit_harington/john1.jpeg";
const std::string kKitB = "people/face_recognition/kit_harington/john2.jpeg";
const std::string kKitProbe = "people/face_recognition/kit_harington/johnsnow_test1.jpg";

// Every key the old clients read is there.
void ExpectKeys(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) EXPECT_TRUE(j.contains(k)) << "no '" << k << "' in " << j.dump();
}

// An urlencoded body of `fields` (values percent-encoded).
std::string UrlEncoded(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += k + '=';
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}

// One `faceatt serve` per test suite, shared by its tests (each starts in a
// few seconds: the models load). Derived suites start it in SetUpTestSuite.
template <class Suite>
class OneServePerSuite : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete serve_;
    serve_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(serve_ && serve_->port() > 0) << "faceatt serve did not start";
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", serve_->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  static inline ServeProcess* serve_ = nullptr;
};

// ---------------------------------------------------------------------------
// The Korean attendance API's clients: kiosks posting photos (MODE_B), kiosks
// asking for the server camera's frame (MODE_A), and HR scripts.
class KoreanClientTest : public OneServePerSuite<KoreanClientTest> {
 protected:
  static void SetUpTestSuite() {
    serve_ = new ServeProcess;
    serve_->Start(serve_->BaseConfig());
  }
  // Enrolls as that API's kiosks did (multipart image, name, employee_id, device_id).
  void Enroll(const std::string& id, const std::string& name, const std::string& photo) {
    auto r = Client().Post(
        "/enroll", Form({{"name", name}, {"employee_id", id}, {"device_id", "KIOSK_01"}}, {photo}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;  // that API answered 200, never 201
    const json j = Body(r);
    EXPECT_EQ(j["success"], true);
    EXPECT_EQ(j["employee_id"], id);
    EXPECT_TRUE(j["message"].is_string()) << r->body;
  }
};

TEST_F(KoreanClientTest, HealthSaysHealthyAndConnectedBesideFaceattsFields) {
  auto r = Client().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json j = Body(r);
  EXPECT_EQ(j["status"], "healthy");
  EXPECT_EQ(j["database"], "connected");
  ExpectKeys(j, {"models", "model_id", "camera", "version", "users", "embeddings"});
}

TEST_F(KoreanClientTest, IdentifyInBothModesWithUserBesideName) {
  Enroll("KR100", "Barack Obama", kObamaA);
  auto c = Client();
  // MODE_B: a multipart upload with type, device_id and ts_client.
  auto up = c.Post(
      "/identify",
      Form({{"type", "IN"}, {"device_id", "KIOSK_01"}, {"ts_client", "2025-01-01T09:00:00Z"}},
           {kObamaProbe}));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200) << up->body;
  json j = Body(up);
  ExpectKeys(
      j, {"success", "employee_id", "name", "user", "distance", "decided_threshold", "message"});
  EXPECT_EQ(j["success"], true) << up->body;
  EXPECT_EQ(j["employee_id"], "KR100");
  EXPECT_EQ(j["name"], "Barack Obama");
  EXPECT_EQ(j["user"], j["name"]);
  EXPECT_LE(j["distance"].get<double>(), j["decided_threshold"].get<double>());
  // A stranger: success false with reason, message and min_distance.
  auto stranger = c.Post("/identify", Form({{"type", "IN"}, {"device_id", "KIOSK_01"}}, {kRose}));
  ASSERT_TRUE(stranger);
  j = Body(stranger);
  EXPECT_EQ(stranger->status, 200);
  EXPECT_EQ(j["success"], false);
  EXPECT_EQ(j["reason"], "unknown");
  ExpectKeys(j, {"message", "min_distance"});
  EXPECT_GT(j["min_distance"].get<double>(), 0);
  // MODE_A: JSON without an image asks for the server camera, which this
  // server has not: the old reason camera_unavailable, success false.
  auto cam = c.Post("/identify", R"({"type":"IN","device_id":"KIOSK_01"})", "application/json");
  ASSERT_TRUE(cam);
  EXPECT_EQ(cam->status, 503);
  j = Body(cam);
  EXPECT_EQ(j["success"], false);
  EXPECT_EQ(j["reason"], "camera_unavailable");
  EXPECT_TRUE(j["message"].is_string());
  // An urlencoded form with a base64 image is an upload too.
  auto form = c.Post(
      "/identify",
      UrlEncoded(
          {{"type", "OUT"}, {"device_id", "KIOSK_02"}, {"image", Base64(ReadFile(Face(kObamaB)))}}),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  j = Body(form);
  EXPECT_EQ(form->status, 200) << form->body;
  EXPECT_EQ(j["success"], true) << form->body;
  EXPECT_EQ(j["user"], "Barack Obama");
  EXPECT_EQ(j["type"], "OUT");
  // An error answer carries success too (422: not an image).
  httplib::MultipartFormDataItems junk{{"image", "not an image", "x.jpg", "image/jpeg"}};
  auto bad = c.Post("/identify", junk);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);
  EXPECT_EQ(Body(bad)["success"], false);
  EXPECT_TRUE(Body(bad)["message"].is_string());
}

TEST_F(KoreanClientTest, AttendanceRowsAndManualRecordsInEveryBodyForm) {
  Enroll("KR200", "Joe Biden", kBiden);
  auto c = Client();
  // POST /attendance: JSON as the old HR scripts sent it, with distance.
  auto manual = c.Post("/attendance",
                       json{{"employee_id", "KR200"},
                            {"type", "IN"},
                            {"device_id", "DEVICE_01"},
                            {"distance", 0.35},
                            {"image_ref", "path/to/image.jpg"},
                            {"ts_client", "2025-01-01T12:00:00Z"}}
                           .dump(),
                       "application/json");
  ASSERT_TRUE(manual);
  EXPECT_EQ(manual->status, 200) << manual->body;
  EXPECT_EQ(Body(manual)["success"], true);
  EXPECT_TRUE(Body(manual)["message"].is_string());
  // The same as an urlencoded form and as a multipart form.
  auto urlenc = c.Post("/attendance",
                       UrlEncoded({{"employee_id", "KR200"}, {"type", "OUT"}, {"distance", "0.4"}}),
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(urlenc);
  EXPECT_EQ(urlenc->status, 200) << urlenc->body;
  EXPECT_EQ(Body(urlenc)["type"], "OUT");
  auto multi = c.Post("/attendance", Form({{"employee_id", "KR200"}, {"type", "IN"}}));
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->status, 200) << multi->body;
  // GET /attendance?employee_id=KR200&limit=10: the old table's columns.
  auto rows = c.Get("/attendance?employee_id=KR200&limit=10");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->status, 200) << rows->body;
  const json list = Body(rows)["records"];
  ASSERT_EQ(list.size(), 3u) << rows->body;
  for (const auto& row : list) {
    ExpectKeys(row, {"id", "employee_id", "type", "device_id", "distance", "ts_server", "ts_client",
                     "image_ref"});
    EXPECT_EQ(row["employee_id"], "KR200");
  }
  const json first = list.back();  // newest first: the JSON record is the last
  EXPECT_EQ(first["device_id"], "DEVICE_01");
  EXPECT_DOUBLE_EQ(first["distance"].get<double>(), 0.35);
  EXPECT_EQ(first["ts_client"], "2025-01-01T12:00:00Z");
  EXPECT_TRUE(list.front()["distance"].is_null()) << "the multipart row gave none";
  EXPECT_DOUBLE_EQ(list[1]["distance"].get<double>(), 0.4);
}

TEST_F(KoreanClientTest, EmptyQueryParametersMeanNoFilter) {
  auto c = Client();
  for (const char* device : {"KIOSK_05", "KIOSK_06"})  // two audit rows (no face)
    ASSERT_TRUE(c.Post("/identify", Form({{"device_id", device}}, {kNoFace})));
  auto all = c.Get("/attendance");
  ASSERT_TRUE(all);
  const int64_t total = Body(all)["count"];
  ASSERT_GE(total, 2);
  auto empty = c.Get("/attendance?employee_id=&status=&type=&from=&to=&offset=&limit=3");
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty->status, 200) << empty->body;
  EXPECT_EQ(Body(empty)["count"], total);
  EXPECT_EQ(Body(empty)["records"].size(), static_cast<size_t>(std::min<int64_t>(3, total)));
  EXPECT_EQ(Body(empty)["limit"], 3);
  auto nolimit = c.Get("/attendance?limit=");
  ASSERT_TRUE(nolimit);
  EXPECT_EQ(Body(nolimit)["limit"], 100);
}

TEST_F(KoreanClientTest, FormsAreAcceptedWhereJsonIs) {
  auto c = Client();
  // /enroll with an urlencoded form and a base64 image, and /enroll/json too.
  auto enroll = c.Post("/enroll",
                       UrlEncoded({{"name", "Kit Harington"},
                                   {"employee_id", "KR400"},
                                   {"image", Base64(ReadFile(Face(kKitA)))}}),
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(enroll);
  EXPECT_EQ(enroll->status, 200) << enroll->body;
  EXPECT_EQ(Body(enroll)["employee_id"], "KR400");
  auto more = c.Post(
      "/enroll/json",
      UrlEncoded(
          {{"employee_id", "KR400"}, {"force", "true"}, {"image", Base64(ReadFile(Face(kKitB)))}}),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(more);
  EXPECT_EQ(more->status, 200) << more->body;
  EXPECT_EQ(Body(more)["embeddings"], 2);
  // PATCH /users/{id} as a form; "false" is a boolean here.
  auto patch = c.Patch("/users/KR400", UrlEncoded({{"department", "Exec"}, {"active", "false"}}),
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->status, 200) << patch->body;
  EXPECT_EQ(Body(patch)["active"], false);
  EXPECT_EQ(Body(patch)["department"], "Exec");
  // ...and as a multipart form (httplib's client has no multipart PATCH).
  auto back =
      c.Patch("/users/KR400",
              "--b0\r\nContent-Disposition: form-data; name=\"active\"\r\n\r\ntrue\r\n--b0--\r\n",
              "multipart/form-data; boundary=b0");
  ASSERT_TRUE(back);
  EXPECT_EQ(Body(back)["active"], true) << back->body;
  // POST /recognize with an urlencoded image.
  auto rec = c.Post("/recognize", UrlEncoded({{"image", Base64(ReadFile(Face(kKitProbe)))}}),
                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, 200) << rec->body;
  ASSERT_EQ(Body(rec)["faces"].size(), 1u);
  EXPECT_EQ(Body(rec)["faces"][0]["employee_id"], "KR400");
  // A form field that is not a boolean is still refused, and changes nothing.
  auto wrong = c.Patch("/users/KR400", UrlEncoded({{"active", "maybe"}}),
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(Body(c.Get("/users/KR400"))["active"], true);
}

// ---------------------------------------------------------------------------
// The ML microservice's clients, with server.compat = "ml" and a webhook
// receiver standing in for the main attendance API.
class MlClientTest : public OneServePerSuite<MlClientTest> {
 protected:
  static void SetUpTestSuite() {
    hook_ = new Hook;
    hook_->port = hook_->svr.bind_to_any_port("127.0.0.1");
    hook_->svr.Post("/hook", [](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(hook_->mu);
      hook_->bodies.push_back(json::parse(req.body, nullptr, false));
      res.status = 200;
    });
    hook_->thread = std::thread([] { hook_->svr.listen_after_bind(); });
    serve_ = new ServeProcess;
    serve_->Start(
        serve_->BaseConfig("[server]\ncompat = \"ml\"\n[webhook]\nurls = [\"http://127.0.0.1:" +
                           std::to_string(hook_->port) + "/hook\"]\n"));
  }
  static void TearDownTestSuite() {
    OneServePerSuite::TearDownTestSuite();
    hook_->svr.stop();
    hook_->thread.join();
    delete hook_;
    hook_ = nullptr;
  }
  // The webhook bodies received with `event` and `field` == `value`, waiting up to 10 s for one.
  static std::vector<json> Hooks(const std::string& event, const char* field, const json& value) {
    std::vector<json> found;
    for (int i = 0; i < 100 && found.empty(); ++i) {
      {
        std::lock_guard<std::mutex> lock(hook_->mu);
        for (const auto& b : hook_->bodies)
          if (b.value("event", "") == event && b.value(field, json()) == value) found.push_back(b);
      }
      if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return found;
  }
  struct Hook {
    httplib::Server svr;
    int port = 0;
    std::thread thread;
    std::mutex mu;
    std::vector<json> bodies;
  };
  static inline Hook* hook_ = nullptr;
};

TEST_F(MlClientTest, EnrollRecognizeHealthAndConfig) {
  auto c = Client();
  auto h0 = Body(c.Get("/health"));
  ExpectKeys(h0, {"ok", "encodings", "labels"});
  EXPECT_EQ(h0["ok"], true);
  const int64_t encodings0 = h0["encodings"], labels0 = h0["labels"];
  // POST /enroll: student_id and image -> {ok, saved, msg}.
  auto e = c.Post("/enroll", Form({{"student_id", "S1001"}}, {kObamaA}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 200) << e->body;
  json j = Body(e);
  ExpectKeys(j, {"ok", "saved", "msg"});
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["saved"], 1);
  // A photo without a face: 200 with ok false and nothing saved; not an image: 400.
  auto noface = c.Post("/enroll", Form({{"student_id", "S1001"}}, {kNoFace}));
  ASSERT_TRUE(noface);
  EXPECT_EQ(noface->status, 200);
  EXPECT_EQ(Body(noface)["ok"], false);
  EXPECT_EQ(Body(noface)["saved"], 0);
  httplib::MultipartFormDataItems junk{{"student_id", "S1001", "", ""},
                                       {"image", "not an image", "x.jpg", "image/jpeg"}};
  auto bad = c.Post("/enroll", junk);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Body(bad)["ok"], false);
  EXPECT_TRUE(Body(bad)["msg"].is_string());
  // GET /health counts the new encoding and label.
  auto h1 = Body(c.Get("/health"));
  EXPECT_EQ(h1["encodings"], encodings0 + 1);
  EXPECT_EQ(h1["labels"], labels0 + 1);
  // POST /recognize: box as [top, right, bottom, left], the label, the distance.
  auto r = c.Post("/recognize", Form({}, {kObamaProbe}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  j = Body(r);
  EXPECT_EQ(j["ok"], true);
  ASSERT_EQ(j["results"].size(), 1u) << r->body;
  const json face = j["results"][0];
  EXPECT_EQ(face["label"], "S1001");
  ASSERT_EQ(face["box"].size(), 4u);
  const int top = face["box"][0], right = face["box"][1], bottom = face["box"][2],
            left = face["box"][3];
  EXPECT_LT(top, bottom);
  EXPECT_LT(left, right);
  auto config = Body(c.Get("/config"));
  ExpectKeys(config, {"tolerance", "webhook_enabled", "cooldown_seconds"});
  EXPECT_EQ(config["webhook_enabled"], true);
  EXPECT_LE(face["distance"].get<double>(), config["tolerance"].get<double>());
  // A stranger is "Unknown".
  auto s = Body(c.Post("/recognize", Form({}, {kRose})));
  ASSERT_EQ(s["results"].size(), 1u) << s.dump();
  EXPECT_EQ(s["results"][0]["label"], "Unknown");
}

TEST_F(MlClientTest, RealtimeDispatchesThroughTheWebhookPath) {
  auto c = Client();
  ASSERT_EQ(Body(c.Post("/enroll", Form({{"student_id", "S2002"}}, {kBiden})))["ok"], true);
  // min_conf below the face's distance: recognised, not dispatched.
  auto strict = c.Post("/recognize/realtime?min_conf=0.01", Form({}, {kBidenProbe}));
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->status, 200) << strict->body;
  EXPECT_EQ(Body(strict)["results"][0]["label"], "S2002");
  EXPECT_TRUE(Body(strict)["dispatch"].empty()) << strict->body;
  // Default min_conf (the tolerance): one dispatch report, one webhook.
  auto rt = c.Post("/recognize/realtime?min_conf=&send_unknown=", Form({}, {kBidenProbe}));
  ASSERT_TRUE(rt);
  ASSERT_EQ(rt->status, 200) << rt->body;
  json j = Body(rt);
  ExpectKeys(j, {"ok", "results", "dispatch", "webhook_enabled"});
  ASSERT_EQ(j["dispatch"].size(), 1u) << rt->body;
  EXPECT_EQ(j["dispatch"][0]["label"], "S2002");
  const json report = j["dispatch"][0]["report"];
  EXPECT_EQ(report["recorded"], true) << rt->body;
  EXPECT_EQ(report["webhooks_queued"], 1);
  auto hooks = Hooks("attendance.recognized", "employee_id", "S2002");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0]["device_id"], "realtime");
  // The attendance row is faceatt's, like /identify's.
  auto rows = Body(c.Get("/attendance?employee_id=S2002"));
  ASSERT_EQ(rows["count"], 1) << rows.dump();
  EXPECT_EQ(rows["records"][0]["status"], "success");
  // Strangers are dispatched only with send_unknown=true.
  auto quiet = Body(c.Post("/recognize/realtime", Form({}, {kRose})));
  EXPECT_EQ(quiet["results"][0]["label"], "Unknown") << quiet.dump();
  EXPECT_TRUE(quiet["dispatch"].empty());
  auto loud =
      Body(c.Post("/recognize/realtime?send_unknown=true&device_id=gate-7", Form({}, {kRose})));
  ASSERT_EQ(loud["dispatch"].size(), 1u) << loud.dump();
  EXPECT_EQ(loud["dispatch"][0]["label"], "Unknown");
  EXPECT_EQ(loud["dispatch"][0]["report"]["webhooks_queued"], 1);
  EXPECT_EQ(Hooks("attendance.unknown", "device_id", "gate-7").size(), 1u);
  // A bad query value is refused before any work.
  auto badq = c.Post("/recognize/realtime?send_unknown=perhaps", Form({}, {kBiden}));
  ASSERT_TRUE(badq);
  EXPECT_EQ(badq->status, 400);
  EXPECT_EQ(Body(badq)["ok"], false);
}

// ---------------------------------------------------------------------------
// server.trusted_networks: 127.0.0.1/32 trusted, an admin key configured. A
// client bound to 127.0.0.2 stands for a machine outside the trusted network.

// Sends `request` from local address `from` to 127.0.0.1:port; returns the
// HTTP status of the answer, or -1.
int StatusFrom(const char* from, int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in local{}, remote{};
  local.sin_family = remote.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  remote.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0) {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  }
  ::close(fd);
  return out.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(out.substr(9, 3)) : -1;
}

TEST(TrustedNetworksTest, KeylessKioskGetsDeviceRoutesOnlyFromATrustedNetwork) {
  ServeProcess serve;
  ASSERT_TRUE(serve.Start(serve.BaseConfig(
      "[server]\nadmin_keys = [\"adm-secret\"]\ntrusted_networks = [\"127.0.0.1/32\"]")));
  EXPECT_NE(serve.Output().find("server.trusted_networks: requests without a key from "
                                "127.0.0.1/32 get the device role"),
            std::string::npos)
      << serve.Output();
  httplib::Client c("127.0.0.1", serve.port());
  c.set_read_timeout(60, 0);
  // Device routes without a key: identify (a photo without a face) and recognize.
  auto id = c.Post("/identify", Form({{"type", "IN"}, {"device_id", "lan-kiosk"}}, {kNoFace}));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->status, 200) << id->body;
  EXPECT_EQ(Body(id)["reason"], "no_face");
  auto rec = c.Post("/recognize", Form({}, {kObamaProbe}));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, 200) << rec->body;
  // Admin and reader routes still need a key, and nothing is written.
  auto enroll = c.Post("/enroll", Form({{"name", "Barack Obama"}}, {kObamaA}));
  ASSERT_TRUE(enroll);
  EXPECT_EQ(enroll->status, 401) << enroll->body;
  EXPECT_EQ(Body(enroll)["success"], false);
  auto users = c.Get("/users");
  ASSERT_TRUE(users);
  EXPECT_EQ(users->status, 401);
  auto attendance = c.Get("/attendance");
  ASSERT_TRUE(attendance);
  EXPECT_EQ(attendance->status, 401);
  httplib::Client admin("127.0.0.1", serve.port());
  admin.set_default_headers({{"X-API-Key", "adm-secret"}});
  admin.set_read_timeout(60, 0);
  EXPECT_EQ(Body(admin.Get("/users"))["count"], 0);
  EXPECT_EQ(Body(admin.Get("/attendance"))["count"], 1);  // the no_face row only
  // From outside the trusted network the same keyless request is refused.
  const std::string req =
      "POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(StatusFrom("127.0.0.2", serve.port(), req), 401);
  EXPECT_EQ(StatusFrom("127.0.0.1", serve.port(), req), 503);  // trusted: camera mode, no camera
}

TEST(TrustedNetworksTest, AMalformedNetworkStopsTheServerWithItsName) {
  testing::TempDir dir;
  testing::WriteFile(dir / "config.toml", "[paths]\nmodels_dir = \"" + testing::ModelsDir() +
                                              "\"\ndata_dir = \"" + dir.path() +
                                              "/data\"\n[server]\ntrusted_networks = "
                                              "[\"10.0.0.0/33\"]\n[logging]\nfile = false\n");
  auto r = testing::RunCli({"--config", dir / "config.toml", "serve", "--port", "0"}, dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("10.0.0.0/33"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace faceatt
