# docs/results.md row (CPU budget: 160 px, 12 epochs): KDAS with alpha warmed up from 0
# over the first 3 epochs (546 iterations of batch 8).
_base_ = './kdas_pvtv2b0_budget.py'
model = dict(alpha_warmup_iters=546)
