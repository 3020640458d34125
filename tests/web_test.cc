// End-to-end tests of the web app's server side: the pages and assets
// (embedded and --web-dir), their security and cache headers, cookie sessions
// and CSRF, on a real Server with the real models.
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "faceatt/clock.h"
#include "faceatt/data_dir.h"
#include "faceatt/image.h"
#include "faceatt/server.h"
#include "support/http_client.h"
#include "support/photos.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using testing::Body;
using testing::ReadFile;
using testing::TempDir;

constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

class WebTest : public ::testing::Test {
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
  void Start() {
    std::filesystem::create_directories(config_.paths.data_dir);
    store_ = testing::OpenTestStore(DataDir(config_.paths.data_dir).database());
    ASSERT_TRUE(store_);
    auto s = Server::Create(config_, testing::RealModels(), store_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Start().ok());
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    return c;
  }

  TempDir dir_;
  Config config_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Server> server_;
};

void ExpectPageHeaders(const httplib::Result& r) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Security-Policy"), kCsp);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
}

TEST_F(WebTest, PagesAndAssetsAreServedFromTheBinaryWithHeaders) {
  config_.server.admin_keys = {"admin-key"};  // pages are public all the same
  Start();
  auto c = Client();
  auto root = c.Get("/");
  ExpectPageHeaders(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/admin");

  // Each page is the repository's file, byte for byte, with its content type.
  const std::string web = testing::SourceDir() + "/web/";
  for (const auto& [path, file, type] :
       {std::tuple{"/kiosk", "kiosk.html", "text/html; charset=utf-8"},
        std::tuple{"/admin", "admin.html", "text/html; charset=utf-8"},
        std::tuple{"/web/app.css", "app.css", "text/css; charset=utf-8"},
        std::tuple{"/web/common.js", "common.js", "text/javascript; charset=utf-8"},
        std::tuple{"/web/kiosk.js", "kiosk.js", "text/javascript; charset=utf-8"},
        std::tuple{"/web/admin.js", "admin.js", "text/javascript; charset=utf-8"}}) {
    auto r = c.Get(path);
    ExpectPageHeaders(r);
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, ReadFile(web + file)) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache") << path;
    // The ETag is the content's SHA-256 (a prefix), quoted; it answers 304.
    const std::string etag = r->get_header_value("ETag");
    ASSERT_GE(etag.size(), 18u) << path;
    EXPECT_EQ(etag.front(), '"');
    EXPECT_EQ(etag.substr(1, etag.size() - 2), Sha256Hex(r->body).substr(0, etag.size() - 2));
    auto again = c.Get(path, {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304) << path;
    EXPECT_TRUE(again->body.empty());
    EXPECT_EQ(again->get_header_value("ETag"), etag);
    ExpectPageHeaders(again);
    auto other = c.Get(path, {{"If-None-Match", "\"0000000000000000\""}});
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 200) << path;
  }
  // Different files have different ETags.
  EXPECT_NE(c.Get("/kiosk")->get_header_value("ETag"), c.Get("/admin")->get_header_value("ETag"));
}

TEST_F(WebTest, UnknownAssetsAndPathTricksAre404) {
  Start();
  for (const char* path :
       {"/web/nope.js", "/web/../config.toml", "/web/%2e%2e/config.toml",
        "/web/%2E%2E%2Fconfig.toml", "/web/..%2fCMakeLists.txt", "/web//etc/passwd",
        "/web/%2fetc%2fpasswd", "/web/.hidden", "/web/app.css/../kiosk.html", "/web/a\\..\\b"}) {
    auto r = Client().Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << ": " << r->body;
    EXPECT_EQ(Body(r)["error"]["code"], "not_found") << path;
    EXPECT_EQ(r->body.find("[paths]"), std::string::npos) << path;
  }
}

TEST_F(WebTest, WebDirServesFilesFromDiskRereadOnEachRequest) {
  TempDir web;
  testing::WriteFile(web / "kiosk.html", "<!doctype html><title>v1</title>");
  testing::WriteFile(web / "extra.js", "export const x = 1;\n");
  config_.server.web_dir = web.path();
  Start();
  auto c = Client();
  auto v1 = c.Get("/kiosk");
  ExpectPageHeaders(v1);
  EXPECT_EQ(v1->status, 200);
  EXPECT_EQ(v1->body, "<!doctype html><title>v1</title>");
  const std::string etag1 = v1->get_header_value("ETag");
  EXPECT_EQ(c.Get("/kiosk", {{"If-None-Match", etag1}})->status, 304);
  // An edit shows at once, with a new ETag.
  testing::WriteFile(web / "kiosk.html", "<!doctype html><title>v2</title>");
  auto v2 = c.Get("/kiosk", {{"If-None-Match", etag1}});
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 200);
  EXPECT_EQ(v2->body, "<!doctype html><title>v2</title>");
  EXPECT_NE(v2->get_header_value("ETag"), etag1);
  EXPECT_EQ(c.Get("/web/extra.js")->get_header_value("Content-Type"),
            "text/javascript; charset=utf-8");
  // Only that folder: the embedded admin page is not there, nor anything above it.
  EXPECT_EQ(c.Get("/admin")->status, 404);
  EXPECT_EQ(
      c.Get("/web/%2e%2e/" + std::filesystem::path(web.path()).filename().string() + "/kiosk.html")
          ->status,
      404);
}

TEST_F(WebTest, AWebDirThatIsNoFolderIsRefused) {
  config_.server.web_dir = dir_ / "missing";
  std::filesystem::create_directories(config_.paths.data_dir);
  store_ = testing::OpenTestStore(DataDir(config_.paths.data_dir).database());
  auto s = Server::Create(config_, testing::RealModels(), store_.get());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("server.web_dir"), std::string::npos);
}

// The session id of a Set-Cookie header ("" when none).
std::string CookieOf(const httplib::Result& r) {
  const std::string set = r->get_header_value("Set-Cookie");
  const std::string prefix = "faceatt_session=";
  if (set.rfind(prefix, 0) != 0) return "";
  return set.substr(prefix.size(), set.find(';') - prefix.size());
}

httplib::Headers WithCookie(const std::string& id, const std::string& csrf = "") {
  httplib::Headers h = {{"Cookie", "theme=dark; faceatt_session=" + id}};
  if (!csrf.empty()) h.emplace("X-CSRF-Token", csrf);
  return h;
}

TEST_F(WebTest, SignInWithAKeyGivesACookieThatActsAsThatKey) {
  config_.server.admin_keys = {"admin-key"};
  config_.server.reader_keys = {"reader-key"};
  config_.server.group_keys = {"3A=teacher-key"};
  config_.server.session_ttl_minutes = 30;
  Start();
  auto c = Client();
  // Wrong or missing key: 401, no cookie.
  for (const std::string body : {R"({"key":"nope"})", R"({})", R"({"key":""})"}) {
    auto bad = c.Post("/session", body, "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 401) << body;
    EXPECT_EQ(Body(bad)["error"]["code"], "unauthorized");
    EXPECT_FALSE(bad->has_header("Set-Cookie"));
  }
  EXPECT_EQ(c.Post("/session", "{\"key\":", "application/json")->status, 400);

  auto in = c.Post("/session", R"({"key":"admin-key"})", "application/json");
  ASSERT_TRUE(in);
  ASSERT_EQ(in->status, 200) << in->body;
  const json session = Body(in);
  EXPECT_EQ(session["role"], "admin");
  const std::string csrf = session["csrf_token"];
  EXPECT_EQ(csrf.size(), 64u);
  auto expires = ParseTimestamp(session["expires_at"]);
  ASSERT_TRUE(expires.ok()) << session.dump();
  const int64_t ttl_ms = *expires - SystemClock().NowMillis();
  EXPECT_GT(ttl_ms, 29 * 60'000);
  EXPECT_LE(ttl_ms, 30 * 60'000);
  const std::string set = in->get_header_value("Set-Cookie");
  EXPECT_NE(set.find("; HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("; SameSite=Strict"), std::string::npos) << set;
  EXPECT_NE(set.find("; Path=/"), std::string::npos) << set;
  EXPECT_NE(set.find("; Max-Age=1800"), std::string::npos) << set;
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain HTTP: " << set;
  const std::string id = CookieOf(in);
  ASSERT_EQ(id.size(), 64u);
  EXPECT_NE(id, csrf);

  // The cookie reads as the admin key does; GET needs no CSRF token.
  auto me = c.Get("/session", WithCookie(id));
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200);
  EXPECT_EQ(Body(me)["csrf_token"], csrf);
  EXPECT_EQ(Body(me)["role"], "admin");
  EXPECT_EQ(c.Get("/users", WithCookie(id))->status, 200);
  EXPECT_EQ(c.Get("/users")->status, 401);
  EXPECT_EQ(c.Get("/users", WithCookie(std::string(64, 'a')))->status, 401);

  // A change through the cookie needs the token: refused without it or with
  // another, accepted with it; a key header needs none.
  const std::string group_path = "/groups/Night/members/EMP001";
  auto no_token = c.Put(group_path, WithCookie(id), "", "text/plain");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  EXPECT_EQ(Body(no_token)["error"]["code"], "forbidden");
  EXPECT_EQ(Body(no_token)["error"]["reason"], "csrf_failed");
  auto wrong = c.Put(group_path, WithCookie(id, std::string(64, '0')), "", "text/plain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(Body(wrong)["error"]["reason"], "csrf_failed");
  auto with_token = c.Put(group_path, WithCookie(id, csrf), "", "text/plain");
  ASSERT_TRUE(with_token);
  EXPECT_NE(with_token->status, 403) << with_token->body;
  EXPECT_EQ(with_token->status, 404) << "no EMP001 yet: the handler ran: " << with_token->body;
  auto by_key = c.Put(group_path, {{"X-API-Key", "admin-key"}}, "", "text/plain");
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->status, 404) << by_key->body;
  // A same-origin page's POST carries Origin: its own origin is allowed.
  auto same_origin =
      c.Post("/session", {{"Origin", "http://127.0.0.1:" + std::to_string(server_->port())}},
             R"({"key":"reader-key"})", "application/json");
  ASSERT_TRUE(same_origin);
  EXPECT_EQ(same_origin->status, 200) << same_origin->body;
  EXPECT_EQ(Body(same_origin)["role"], "reader");
  auto other_origin = c.Post("/session", {{"Origin", "http://evil.example"}},
                             R"({"key":"admin-key"})", "application/json");
  ASSERT_TRUE(other_origin);
  EXPECT_EQ(other_origin->status, 403);

  // A reader's cookie is a reader; a form sign-in works too; a group key is "group".
  auto reader = c.Post("/session", "key=reader-key", "application/x-www-form-urlencoded");
  ASSERT_TRUE(reader);
  EXPECT_EQ(Body(reader)["role"], "reader") << reader->body;
  const std::string reader_id = CookieOf(reader);
  EXPECT_EQ(c.Get("/users", WithCookie(reader_id))->status, 200);
  EXPECT_EQ(c.Get("/webhooks/deliveries", WithCookie(reader_id))->status, 403);
  auto teacher = Body(c.Post("/session", R"({"key":"teacher-key"})", "application/json"));
  EXPECT_EQ(teacher["role"], "group");
  EXPECT_EQ(teacher["group"], "3A");

  // Behind a TLS proxy the cookie is Secure.
  auto tls = c.Post("/session", {{"X-Forwarded-Proto", "https"}}, R"({"key":"admin-key"})",
                    "application/json");
  ASSERT_TRUE(tls);
  EXPECT_NE(tls->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);

  // Sign-out needs the token, ends the session and clears the cookie.
  auto out_no_token = c.Delete("/session", WithCookie(id));
  ASSERT_TRUE(out_no_token);
  EXPECT_EQ(out_no_token->status, 403);
  EXPECT_EQ(c.Get("/session", WithCookie(id))->status, 200) << "still signed in";
  auto out = c.Delete("/session", WithCookie(id, csrf));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("faceatt_session=; "), std::string::npos);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(c.Get("/session", WithCookie(id))->status, 401);
  EXPECT_EQ(c.Get("/users", WithCookie(id))->status, 401);
}

TEST_F(WebTest, WithNoKeysAnySignInIsAdmin) {
  Start();
  auto c = Client();
  auto in = c.Post("/session", R"({"key":""})", "application/json");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 200) << in->body;
  EXPECT_EQ(Body(in)["role"], "admin");
  EXPECT_EQ(c.Get("/session", WithCookie(CookieOf(in)))->status, 200);
}

// The real binary: `serve --web-dir DIR`.
TEST(WebServeTest, WebDirFlagOfTheBinary) {
  testing::ServeProcess serve;
  TempDir web;
  testing::WriteFile(web / "admin.html", "<!doctype html><title>from disk</title>");
  ASSERT_TRUE(serve.Start(serve.BaseConfig(), {"--web-dir", web.path()}));
  httplib::Client c("127.0.0.1", serve.port());
  auto r = c.Get("/admin");
  ExpectPageHeaders(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<!doctype html><title>from disk</title>");
}

}  // namespace
}  // namespace faceatt
