# docs/results.md: Ablation: the Symmetrical Guiding Module only (no attention supervision).
_base_ = './kdas_pvtv2b0_budget.py'
model = dict(
    distiller=dict(
        distill_losses=dict(_delete_=True,
                            loss_sgm=_base_.model.distiller.distill_losses.loss_sgm),
        loss_inputs=dict(_delete_=True, loss_sgm=['p1'])))
