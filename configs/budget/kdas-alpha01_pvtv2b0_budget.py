# docs/results.md row (CPU budget: 160 px, 12 epochs): KDAS (paper objective) with alpha 0.1.
_base_ = './kdas_pvtv2b0_budget.py'
model = dict(alpha=0.1)
