#include "faceatt/postgres_store.h"
#include "faceatt/store.h"

namespace faceatt {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options) {
  auto starts = [&](const char* prefix) { return url.rfind(prefix, 0) == 0; };
  if (url.empty() || starts("sqlite:")) {
    StoreOptions o = options;
    if (!url.empty()) o.path = url.substr(7);
    if (o.path.empty()) return Status::InvalidArgument("store URL sqlite: names no file");
    FACEATT_ASSIGN_OR_RETURN(auto store, OpenSqliteStore(o));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (starts("postgresql://") || starts("postgres://")) {
    PostgresOptions pg;
    pg.url = url;
    FACEATT_ASSIGN_OR_RETURN(auto store, OpenPostgresStore(options, pg));
    return std::unique_ptr<Store>(std::move(store));
  }
  return Status::InvalidArgument("store URL " + RedactUrl(url) +
                                 " is neither sqlite:PATH nor postgresql://user@host:port/db");
}

}  // namespace faceatt
