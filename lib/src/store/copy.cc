#include <openssl/evp.h>

#include <memory>

#include "faceatt/store_copy.h"

namespace faceatt {
namespace {

// Each value as a presence byte, its length and its bytes: no two different
// rows hash alike by running values together.
std::string Checksum(const std::vector<TableRow>& rows) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const TableRow& row : rows)
    for (const auto& v : row) {
      const unsigned char present = v ? 1 : 0;
      EVP_DigestUpdate(ctx.get(), &present, 1);
      if (!v) continue;
      const uint64_t n = v->size();
      EVP_DigestUpdate(ctx.get(), &n, sizeof n);
      EVP_DigestUpdate(ctx.get(), v->data(), v->size());
    }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += {hex[digest[i] >> 4], hex[digest[i] & 15]};
  return out;
}

std::vector<TableSummary> Summarize(const std::vector<TableData>& tables) {
  std::vector<TableSummary> out;
  for (const auto& t : tables)
    out.push_back({t.name, static_cast<int64_t>(t.rows.size()), Checksum(t.rows)});
  return out;
}

}  // namespace

Result<std::vector<TableSummary>> SummarizeStore(MaintenanceStore& store) {
  FACEATT_ASSIGN_OR_RETURN(auto tables, store.ExportTables());
  return Summarize(tables);
}

Result<std::vector<TableSummary>> CopyStore(MaintenanceStore& from, MaintenanceStore& to,
                                            const CopyOptions& options) {
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  if (!options.force) {
    FACEATT_ASSIGN_OR_RETURN(auto existing, SummarizeStore(to));
    for (const auto& t : existing)
      if (t.rows > 0 && t.name != "id_sequence")  // a new store has its counter row
        return Status::Conflict("the destination already holds " + std::to_string(t.rows) +
                                " rows of " + t.name +
                                "; --force replaces everything in it with the source");
  }
  say("reading the source");
  FACEATT_ASSIGN_OR_RETURN(auto tables, from.ExportTables());
  const auto source = Summarize(tables);
  for (const auto& t : source) say("  " + t.name + ": " + std::to_string(t.rows) + " rows");
  say("writing the destination (one transaction)");
  FACEATT_RETURN_IF_ERROR(to.ImportTables(tables));
  say("verifying");
  FACEATT_ASSIGN_OR_RETURN(auto copied, SummarizeStore(to));
  for (size_t i = 0; i < source.size(); ++i) {
    if (i >= copied.size() || copied[i].rows != source[i].rows ||
        copied[i].sha256 != source[i].sha256)
      return Status::Corruption("verification failed: table " + source[i].name + " has " +
                                (i < copied.size() ? std::to_string(copied[i].rows) : "no") +
                                " rows (source " + std::to_string(source[i].rows) +
                                ") or a different checksum");
  }
  return copied;
}

}  // namespace faceatt
