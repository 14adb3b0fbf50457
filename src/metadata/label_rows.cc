#include "metadata/label_rows.h"

#include <fmt/format.h>

namespace berth::metadata::label_rows {

Result<labels::Labels> Read(Tx& tx, const Table& t, std::string_view ns, std::string_view object) {
  labels::Labels out;
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
      "SELECT key, value FROM {} WHERE namespace=?1 AND {}=?2", t.table, t.object_column)));
  st.Bind(1, ns).Bind(2, object);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace(st.ColumnText(0), st.ColumnText(1));
  }
  return out;
}

Status Write(Tx& tx, const Table& t, std::string_view ns, std::string_view object,
             const labels::Labels& labels) {
  {
    BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare(fmt::format(
        "DELETE FROM {} WHERE namespace=?1 AND {}=?2", t.table, t.object_column)));
    BERTH_RETURN_IF_ERROR(del.Bind(1, ns).Bind(2, object).Run());
  }
  for (const auto& [k, v] : labels) {
    if (v.empty()) continue;
    BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(fmt::format(
        "INSERT INTO {}(namespace, {}, key, value) VALUES(?1, ?2, ?3, ?4)", t.table,
        t.object_column)));
    BERTH_RETURN_IF_ERROR(ins.Bind(1, ns).Bind(2, object).Bind(3, k).Bind(4, v).Run());
  }
  return Status::Ok();
}

void DropEmpty(labels::Labels& labels) {
  std::erase_if(labels, [](const auto& kv) { return kv.second.empty(); });
}

}  // namespace berth::metadata::label_rows
