# docs/results.md row (CPU budget: 160 px, 12 epochs): KDAS with each distillation term
# scaled to the size of the segmentation loss (ratio of running means), alpha 0.3.
_base_ = './kdas_pvtv2b0_budget.py'
model = dict(balance_terms=True)
