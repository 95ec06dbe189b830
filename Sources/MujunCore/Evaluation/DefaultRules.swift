/// The default rule set (EVALUATION.md), as the YAML a county edits. `mujun rules show`
/// prints it; a rules file given with `--rules` replaces it whole.
public let defaultRulesYAML = #"""
# 亩均效益综合评价规则 / per-mu evaluation rules
# 默认值依据浙江省县级公开做法（台州市黄岩区 2021、2022 年度）。每个数字都可修改。
name: 默认规则（规上 30/20/20/10/10/10，规下 50/50）

# 规下企业用地面积低于此值（亩）不参评
min_land_mu: 3

# 指标权重：规上 above，规下 below。权重为 0 或不列出 = 不计该指标。
weights:
  above:
    tax_per_mu: 30          # 亩均税收 万元/亩
    va_per_mu: 20           # 亩均增加值 万元/亩
    va_per_energy: 20       # 单位能耗增加值 万元/吨标煤
    va_per_emission: 10     # 单位排放增加值 万元/吨
    labour_productivity: 10 # 全员劳动生产率 万元/人
    rnd_ratio: 10           # 研发经费占营业收入比重
  below:
    tax_per_mu: 50          # 亩均税收 万元/亩
    tax_per_kwh: 50         # 单位电耗税收 万元/万千瓦时

# 基准值：aggregate（Σ分子/Σ分母，默认）| mean | median | fixed
benchmark:
  mode: aggregate
  # mode: fixed 时使用，例如 2022 年规上亩均税收基准 24.097
  fixed:
    above: {}
    below: {}

# 单项得分 = 权重 × 指标值 / 基准值，下限 floor，上限 cap × 权重（cap 为空 = 不封顶）
scoring:
  floor: 0
  cap: null
  missing: average          # average：按组内有该指标企业的平均单项得分；zero：记 0 分

# 加分项（可选），例如：
# bonus:
#   - name: 研发投入加分
#     indicator: rnd_ratio
#     at_least: 0.05
#     points: 5
bonus: []

# 分类：quota（按比例，累计 A 20%、B 70%、C 95%，其余 D）| score（按总分阈值）
classes:
  mode: quota
  quota: {A: 0.20, B: 0.70, C: 0.95}
  score: {A: 120, B: 80, C: 60}

# 一票否决：force = 直接定为该类；at_best = 最高只能评为该类
vetoes:
  重大安全生产事故: {force: D}
  重大环境违法: {force: D}
  违法用地: {force: D}
  欠缴税款: {at_best: C}

# 差别化政策（按最终分类）
policies:
  A:
    electricity_surcharge: 0       # 差别化电价加价 元/千瓦时
    energy_quota_factor: 1.1       # 用能指标系数
    credit_eligible: true          # 亩均英雄贷
    credit_rate_discount: 0.5      # 亩均英雄贷 利率优惠（百分点）
    credit_line_multiple: 1.5      # 亩均英雄贷 授信额度倍数
    other: {用地保障: 优先保障新增用地}
  B:
    electricity_surcharge: 0
    energy_quota_factor: 1.0
    credit_eligible: true
    credit_rate_discount: 0.3
    credit_line_multiple: 1.2
    other: {用地保障: 正常保障}
  C:
    electricity_surcharge: 0.1
    energy_quota_factor: 0.9
    credit_eligible: false
    other: {用地保障: 限制新增用地}
  D:
    electricity_surcharge: 0.3
    energy_quota_factor: 0.8
    credit_eligible: false
    consecutive_years: 3                # 连续 D 类年数达到此值时
    consecutive_electricity_surcharge: 0.4
    other: {用地保障: 不予新增用地，列入整治名单}

# 镇街（街道、镇、功能区）
towns: [东城街道, 西城街道, 江南街道, 芝英街道, 石柱镇, 前仓镇, 舟山镇, 古山镇, 方岩镇, 龙山镇, 西溪镇,
        象珠镇, 唐先镇, 花街镇, 经济开发区, 城西新区, 现代农业装备高新区]
"""#
