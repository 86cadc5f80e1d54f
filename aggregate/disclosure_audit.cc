// The attacker's view of a release, solved exactly with GLPK's integer programming: for each
// masked cell, the smallest and largest value consistent with every released cell and every
// relation between cells.
#include <glpk.h>

#include <memory>

#include "aggregate/disclosure.h"

namespace eds::aggregate {
namespace {

struct ProblemDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};
using Problem = std::unique_ptr<glp_prob, ProblemDeleter>;

// Adds one row: sum of coef * column >= 0 (lower) or == 0 (fixed).
void AddRow(glp_prob* p, const std::vector<std::pair<int, double>>& terms, bool equality) {
  const int row = glp_add_rows(p, 1);
  glp_set_row_bnds(p, row, equality ? GLP_FX : GLP_LO, 0.0, 0.0);
  std::vector<int> index(1);  // GLPK arrays are 1-based
  std::vector<double> value(1);
  for (const auto& [col, coef] : terms) {
    index.push_back(col);
    value.push_back(coef);
  }
  glp_set_mat_row(p, row, static_cast<int>(terms.size()), index.data(), value.data());
}

// Optimises column `col` in direction `dir`; nullopt when unbounded.
Result<std::optional<double>> Solve(glp_prob* p, int col, int dir) {
  const int n = glp_get_num_cols(p);
  for (int j = 1; j <= n; ++j) glp_set_obj_coef(p, j, j == col ? 1.0 : 0.0);
  glp_set_obj_dir(p, dir);
  glp_smcp lp;
  glp_init_smcp(&lp);
  lp.msg_lev = GLP_MSG_OFF;
  if (glp_simplex(p, &lp) != 0) return InternalError("disclosure audit: LP solver failed");
  const int lp_status = glp_get_status(p);
  if (lp_status == GLP_UNBND) return std::optional<double>();
  if (lp_status != GLP_OPT) {
    return InternalError("disclosure audit: the released cells contradict their relations");
  }
  glp_iocp ip;
  glp_init_iocp(&ip);
  ip.msg_lev = GLP_MSG_OFF;
  if (glp_intopt(p, &ip) != 0 || glp_mip_status(p) != GLP_OPT) {
    return InternalError("disclosure audit: integer solver failed");
  }
  return std::optional<double>(glp_mip_obj_val(p));
}

}  // namespace

Result<std::map<CellId, CellRange>> AttackerRanges(const std::map<CellId, uint64_t>& cells,
                                                   const std::set<CellId>& masked,
                                                   const std::vector<Relation>& relations,
                                                   uint64_t tolerance) {
  std::map<CellId, CellRange> out;
  if (masked.empty()) return out;
  Problem p(glp_create_prob());
  std::map<CellId, int> column;
  for (const auto& [c, n] : cells) {
    const int col = glp_add_cols(p.get(), 1);
    column[c] = col;
    glp_set_col_kind(p.get(), col, GLP_IV);
    if (masked.count(c) != 0) {
      glp_set_col_bnds(p.get(), col, GLP_LO, 1.0, 0.0);  // a cell shown at all is at least 1
    } else if (tolerance == 0 || n == 0) {               // zeros are shown as they are
      glp_set_col_bnds(p.get(), col, GLP_FX, static_cast<double>(n), static_cast<double>(n));
    } else {
      const double low = n > tolerance + 1 ? static_cast<double>(n - tolerance) : 1.0;
      glp_set_col_bnds(p.get(), col, GLP_DB, low, static_cast<double>(n + tolerance));
    }
  }
  for (const auto& r : relations) {
    if (!r.sum || column.count(*r.sum) == 0) continue;
    const int sum = column.at(*r.sum);
    if (r.contained) {
      for (const auto& part : r.parts) {
        if (column.count(part) != 0) AddRow(p.get(), {{sum, 1.0}, {column.at(part), -1.0}}, false);
      }
      continue;
    }
    std::vector<std::pair<int, double>> terms = {{sum, r.exact ? 1.0 : -1.0}};
    for (const auto& part : r.parts) {
      const int col = column.at(part);
      terms.emplace_back(col, r.exact ? -1.0 : 1.0);
      if (!r.exact) AddRow(p.get(), {{sum, 1.0}, {col, -1.0}}, false);  // part <= sum
    }
    AddRow(p.get(), terms, r.exact);  // sum == parts, or parts >= sum
  }
  glp_term_out(GLP_OFF);
  for (const auto& c : masked) {
    const auto it = column.find(c);
    if (it == column.end()) continue;
    CellRange range;
    auto low = Solve(p.get(), it->second, GLP_MIN);
    if (!low.ok()) return low.status();
    range.low = low->has_value() ? static_cast<uint64_t>(**low + 0.5) : 0;
    auto high = Solve(p.get(), it->second, GLP_MAX);
    if (!high.ok()) return high.status();
    if (high->has_value()) range.high = static_cast<uint64_t>(**high + 0.5);
    out[c] = range;
  }
  return out;
}

}  // namespace eds::aggregate
