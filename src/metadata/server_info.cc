#include "metadata/server_info.h"

#include <openssl/rand.h>

#include <array>

#include <fmt/format.h>

namespace berth::metadata {
namespace {

Result<std::string> NewUuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    return Internal("generate server uuid: RAND_bytes failed");
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += fmt::format("{:02x}", b[i]);
  }
  return s;
}

}  // namespace

Result<std::string> ServerUuid(Db& db) {
  std::string uuid;
  Status st = db.Update([&](Tx& tx) -> Status {
    {
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT value FROM server_info WHERE key='uuid'"));
      BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) {
        uuid = q.ColumnText(0);
        return Status::Ok();
      }
    }
    BERTH_ASSIGN_OR_RETURN(uuid, NewUuid());
    BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare("INSERT INTO server_info(key, value) VALUES('uuid', ?1)"));
    return ins.Bind(1, uuid).Run();
  });
  if (!st.ok()) return st;
  return uuid;
}

}  // namespace berth::metadata
