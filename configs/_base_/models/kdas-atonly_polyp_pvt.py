# Ablation: attention supervision only (no SGM term).
_base_ = './kdas_polyp_pvt.py'
model = dict(
    distiller=dict(
        distill_losses=dict(_delete_=True, loss_at=_base_.model.distiller.distill_losses.loss_at),
        loss_inputs=dict(_delete_=True, loss_at=['p1', 'p2'])))
